//! The command line's contract: messages, exit codes, guards, no secrets in output.

mod common;

use std::path::Path;

use common::*;

#[test]
fn version_and_help() {
    let out = run(&["--version"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("ferry "), "{out}");
    let out = run(&["diff", "--help"]);
    assert!(out.stdout.contains("--exit-code"), "{out}");
}

#[test]
fn broken_sql_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "schema/ok.sql", "CREATE TABLE a (id int);\n");
    let bad = write_file(
        dir.path(),
        "schema/bad.sql",
        "-- users\nCREATE TABLE users (\n  id integer PRIMARY KEY,\n  name text NOT NULL DEFAULT 'x' FROBNICATE\n);\n",
    );
    let out = run(&[
        "diff",
        "--from",
        &dir.path().join("schema/ok.sql").display().to_string(),
        "--to",
        &dir.path().join("schema").display().to_string(),
        "--dialect",
        "postgres",
    ]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr.contains(&format!("{bad}:4:")),
        "no file:line in {out}"
    );
    assert!(out.stderr.contains("FROBNICATE"), "{out}");
    assert!(out.stdout.is_empty());
}

#[test]
fn diff_between_files_needs_no_database_and_exit_code_reports_differences() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_file(dir.path(), "a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    let b = write_file(
        dir.path(),
        "b.sql",
        "CREATE TABLE t (id int PRIMARY KEY, n text);",
    );
    let out = run(&[
        "diff",
        "--from",
        &a,
        "--to",
        &b,
        "--dialect",
        "postgres",
        "--exit-code",
    ]);
    assert_eq!(out.code, 2, "{out}");
    assert_eq!(
        out.stdout, "ALTER TABLE public.t ADD COLUMN n text;\n",
        "{out}"
    );
    let out = read_pg_file(&a, &["--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    let out = run(&["diff", "--from", &a, "--to", &b]);
    assert_eq!(out.code, 64, "file sources without a dialect: {out}");
    assert!(out.stderr.contains("--dialect"), "{out}");
}

#[test]
fn unanswered_rename_fails_listing_each_question_and_flags_answer_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_file(
        dir.path(),
        "a.sql",
        "CREATE TABLE users (id int, name text); CREATE TABLE old_t (id int);",
    );
    let b = write_file(
        dir.path(),
        "b.sql",
        "CREATE TABLE users (id int, full_name text); CREATE TABLE new_t (id int);",
    );
    let out = run(&["diff", "--from", &a, "--to", &b, "--dialect", "postgres"]);
    assert_eq!(out.code, 4, "{out}");
    assert!(
        out.stderr.contains("full_name") && out.stderr.contains("new_t"),
        "{out}"
    );
    assert!(out.stdout.is_empty(), "{out}");

    let out = run(&[
        "diff",
        "--from",
        &a,
        "--to",
        &b,
        "--dialect",
        "postgres",
        "--rename",
        "users.name=full_name",
        "--rename",
        "old_t=new_t",
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        out.stdout,
        "ALTER TABLE public.old_t RENAME TO new_t;\nALTER TABLE public.users RENAME COLUMN name TO full_name;\n",
        "{out}"
    );
    let out = run(&[
        "diff",
        "--from",
        &a,
        "--to",
        &b,
        "--dialect",
        "postgres",
        "--no-rename",
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("DROP COLUMN name") && out.stderr.contains("data loss"),
        "{out}"
    );
}

#[test]
fn push_refuses_data_loss_without_force_and_keeps_rows() {
    let db = SqliteDb::new();
    db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, gone TEXT); INSERT INTO t VALUES (1, 'x');",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY);",
    );
    let out = run(&["push", "--url", &db.url, "--schema", &schema]);
    assert_eq!(out.code, 3, "{out}");
    assert!(out.stderr.contains("--force"), "{out}");
    let n: i64 = db
        .connection()
        .query_row("SELECT count(gone) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "column was dropped without consent");

    let out = run(&["push", "--url", &db.url, "--schema", &schema, "--dry-run"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("DROP COLUMN"), "{out}");

    let out = run(&["push", "--url", &db.url, "--schema", &schema, "--force"]);
    assert_eq!(out.code, 0, "{out}");
    let out = run(&["push", "--url", &db.url, "--schema", &schema]);
    assert!(out.stderr.contains("Nothing to do"), "{out}");
}

#[test]
fn failed_apply_rolls_back_everything() {
    let db = PgDb::new();
    db.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The new table comes first in the plan; the NOT NULL column without default fails.
    let schema = write_file(
        dir.path(),
        "s.sql",
        "CREATE TABLE a_new (id int); CREATE TABLE t (id int PRIMARY KEY, must text NOT NULL);",
    );
    let out = run(&["push", "--url", &db.url, "--schema", &schema, "--force"]);
    assert_eq!(out.code, 7, "{out}");
    assert!(
        out.stderr.contains("must"),
        "error does not name the statement: {out}"
    );
    let tables = db.query_strings("SELECT count(*) FROM pg_tables WHERE tablename = 'a_new'");
    assert_eq!(
        tables[0][0].as_deref(),
        Some("0"),
        "partial apply left a_new behind"
    );
}

#[test]
fn bad_urls_and_environments_have_their_own_messages_and_never_print_passwords() {
    let out = run(&["pull", "--url", "mysql://root:hunter2@localhost/x"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(!out.stderr.contains("hunter2"), "{out}");

    let out = run(&["pull", "--url", "postgres://bob:s3cret-pw@127.0.0.1:1/nope"]);
    assert_eq!(out.code, 6, "{out}");
    assert!(
        !out.stderr.contains("s3cret-pw") && !out.stdout.contains("s3cret-pw"),
        "{out}"
    );
    assert!(out.stderr.contains("bob:***@"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "ferry.toml",
        "dialect = \"postgres\"\n[environments.prod]\nurl = \"${FERRY_TEST_UNSET_VAR}\"\n",
    );
    let out = run_in(dir.path(), &["pull", "--env", "prod"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(
        out.stderr.contains("FERRY_TEST_UNSET_VAR") && out.stderr.contains("prod"),
        "{out}"
    );

    let out = run_in(dir.path(), &["pull", "--env", "staging"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(
        out.stderr.contains("staging") && out.stderr.contains("prod"),
        "{out}"
    );

    write_file(
        dir.path(),
        "ferry.toml",
        "dialect = \"postgres\"\nschemas = [\"x\"]\n",
    );
    let out = run_in(dir.path(), &["pull"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(
        out.stderr.contains("schemas"),
        "unknown key not named: {out}"
    );
}

#[test]
fn init_then_push_twice_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        dir.path().join("ferry.toml").is_file() && dir.path().join("schema/schema.sql").is_file()
    );
    let out = run_in(dir.path(), &["push"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        dir.path().join("dev.db").is_file(),
        "dev.db not created next to ferry.toml"
    );
    let out = run_in(dir.path(), &["push"]);
    assert!(out.stderr.contains("Nothing to do"), "{out}");
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(out.code, 64, "init over an existing project: {out}");
}

#[test]
fn bundled_example_pushes_and_settles() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/blog");
    let work = tempfile::tempdir().unwrap();
    for entry in [
        "ferry.toml",
        "schema/users.sql",
        "schema/posts.sql",
        "schema/comments.sql",
    ] {
        let text = std::fs::read_to_string(example.join(entry)).unwrap();
        write_file(work.path(), entry, &text);
    }
    let out = run_in(work.path(), &["push"]);
    assert_eq!(out.code, 0, "{out}");
    let out = run_in(work.path(), &["push"]);
    assert!(out.stderr.contains("Nothing to do"), "{out}");

    // Its migrations build the same schema: nothing to generate, a clean check, a migrate.
    let migrations = example.join("migrations");
    for entry in std::fs::read_dir(&migrations).unwrap() {
        let entry = entry.unwrap().path();
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if entry.is_dir() {
            for file in ["up.sql", "down.sql"] {
                let text = std::fs::read_to_string(entry.join(file)).unwrap();
                write_file(work.path(), &format!("migrations/{name}/{file}"), &text);
            }
        } else {
            let text = std::fs::read_to_string(&entry).unwrap();
            write_file(work.path(), &format!("migrations/{name}"), &text);
        }
    }
    let out = run_in(work.path(), &["generate", "noop"]);
    assert!(out.stderr.contains("Nothing to generate"), "{out}");
    assert_eq!(run_in(work.path(), &["check"]).code, 0);
    let out = run_in(work.path(), &["migrate", "--env", "staging"]);
    assert_eq!(out.code, 0, "{out}");
    let same = run_in(
        work.path(),
        &[
            "diff",
            "--from",
            "env:dev",
            "--to",
            "env:staging",
            "--exit-code",
        ],
    );
    assert_eq!(
        same.code, 0,
        "push and migrate build the same database: {same}"
    );
}

#[test]
fn statements_not_modelled_yet_are_reported() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let schema = write_file(
        dir.path(),
        "s.sql",
        "CREATE TABLE t (id int);\nCREATE AGGREGATE my_sum (int) (sfunc = int4pl, stype = int);\n",
    );
    let out = run(&["push", "--url", &db.url, "--schema", &schema]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("s.sql:2") && out.stderr.contains("CREATE AGGREGATE"),
        "{out}"
    );
}
