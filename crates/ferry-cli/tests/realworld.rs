//! A real-world shaped schema (tests/fixtures/realworld.sql: ~35 tables across three
//! schemas, plpgsql and SQL functions with an overload, a procedure, triggers, views over
//! views, a materialized view, row level security and policies, domains, enums, a composite
//! type, extensions, range/list/hash partitions, comments and privileges) survives
//! `pull` + `push`: applied to an empty database by psql, pulled by ferry, pushed into a
//! second empty database, both dump identically with `pg_dump --schema-only`, and ferry
//! finds no difference between them, nor between the pulled files and either database.

mod common;

use std::process::Command;

use common::*;

/// `pg_dump --schema-only` of `db`, without the random `\restrict` keys of recent dumps.
fn schema_dump(db: &PgDb) -> String {
    let out = Command::new("pg_dump")
        .args(["--schema-only", "-d", &db.url])
        .output()
        .expect("pg_dump must be installed (it comes with PostgreSQL's client tools)");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first lines where `a` and `b` differ, for a readable failure.
fn first_difference(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(5);
    format!(
        "first difference at line {}:\n--- original\n{}\n--- pushed\n{}",
        at + 1,
        a[from..(at + 10).min(a.len())].join("\n"),
        b[from..(at + 10).min(b.len())].join("\n"),
    )
}

#[test]
fn pull_then_push_reproduces_the_database() {
    let roles = Roles::new(&["app", "reader"]);
    let original = PgDb::new();
    let copy = PgDb::new();
    let sql = include_str!("fixtures/realworld.sql")
        .replace("ROLE_APP", &roles.0[0])
        .replace("ROLE_READER", &roles.0[1]);
    original.psql_script(&sql).expect("the fixture applies");

    let dir = tempfile::tempdir().unwrap();
    let pulled = dir.path().join("schema").display().to_string();
    let out = ok(run(&["pull", "--url", &original.url, "--out", &pulled]));
    assert!(
        !out.stderr.contains("not managed"),
        "pull left statements unmodelled:\n{out}"
    );
    ok(run(&["push", "--url", &copy.url, "--schema", &pulled]));

    let (a, b) = (schema_dump(&original), schema_dump(&copy));
    assert!(a == b, "{}", first_difference(&a, &b));

    let out = run(&[
        "diff",
        "--from",
        &original.url,
        "--to",
        &copy.url,
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{out}");
    for db in [&original, &copy] {
        let out = run(&["diff", "--from", &pulled, "--to", &db.url, "--exit-code"]);
        assert_eq!(out.code, 0, "files vs {}:\n{out}", db.name);
    }
    // The fixture itself, read as schema files, matches too.
    let fixture = write_file(dir.path(), "fixture/schema.sql", &sql);
    let out = run(&[
        "diff",
        "--from",
        &fixture,
        "--to",
        &original.url,
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "fixture vs database:\n{out}");
}
