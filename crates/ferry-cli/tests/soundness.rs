//! Soundness (DESIGN invariant 2) on pairs of schemas, through the binary: a database at A
//! plus the SQL of `ferry diff A B` inspects equal to B (and back again), both URL→URL and
//! file→file, and changes that can keep rows keep them (invariant 3).

mod common;

use common::*;

#[path = "common/pairs.rs"]
mod pairs;

use pairs::{Pair, PG_PAIRS, SQLITE_PAIRS};

trait TestDb {
    fn url(&self) -> &str;
    fn exec(&self, sql: &str) -> Result<(), String>;
    fn scalar(&self, sql: &str) -> String;
    /// Runs a generated script the way a user would (psql -f / sqlite3).
    fn apply_script(&self, sql: &str) -> Result<(), String> {
        self.exec(sql)
    }
}

impl TestDb for PgDb {
    fn url(&self) -> &str {
        &self.url
    }
    fn apply_script(&self, sql: &str) -> Result<(), String> {
        self.psql_script(sql)
    }
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
    }
    fn scalar(&self, sql: &str) -> String {
        self.query_strings(sql)[0][0].clone().unwrap_or_default()
    }
}

impl TestDb for SqliteDb {
    fn url(&self) -> &str {
        &self.url
    }
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
    }
    fn scalar(&self, sql: &str) -> String {
        self.connection()
            .query_row(sql, [], |r| {
                let v: rusqlite::types::Value = r.get(0)?;
                Ok(match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    other => format!("{other:?}"),
                })
            })
            .expect("scalar query")
    }
}

/// Migrates `db` with the SQL of `ferry diff --from FROM --to TO`, then asserts that a
/// second diff from the database to `to` is empty.
fn migrate(db: &dyn TestDb, from: &str, to: &str, dialect: &str, label: &str) {
    let out = run(&[
        "diff",
        "--from",
        from,
        "--to",
        to,
        "--dialect",
        dialect,
        "--no-rename",
    ]);
    assert_eq!(out.code, 0, "{label}: diff failed:\n{out}");
    db.apply_script(&out.stdout)
        .unwrap_or_else(|e| panic!("{label}: generated SQL failed: {e}\n{}", out.stdout));
    let again = run(&[
        "diff",
        "--from",
        db.url(),
        "--to",
        to,
        "--dialect",
        dialect,
        "--exit-code",
        "--no-rename",
    ]);
    assert_eq!(
        again.code, 0,
        "{label}: not at the target after applying\n{}\n{again}",
        out.stdout
    );
}

fn check_pairs(pairs: &[Pair], dialect: &str, new_db: &dyn Fn() -> Box<dyn TestDb>) {
    for pair in pairs {
        let dir = tempfile::tempdir().unwrap();
        let a = write_file(dir.path(), "a.sql", pair.a);
        let b = write_file(dir.path(), "b.sql", pair.b);

        // URL → file, with data, then back.
        let db = new_db();
        db.exec(pair.a).unwrap();
        db.exec(pair.seed).unwrap();
        migrate(
            db.as_ref(),
            db.url(),
            &b,
            dialect,
            &format!("{}: A→B", pair.name),
        );
        assert_eq!(
            db.scalar(pair.check),
            pair.expect,
            "{}: rows not kept",
            pair.name
        );
        migrate(
            db.as_ref(),
            db.url(),
            &a,
            dialect,
            &format!("{}: B→A", pair.name),
        );

        // URL → URL.
        let (at_a, at_b) = (new_db(), new_db());
        at_a.exec(pair.a).unwrap();
        at_b.exec(pair.b).unwrap();
        migrate(
            at_a.as_ref(),
            at_a.url(),
            at_b.url(),
            dialect,
            &format!("{}: url A→B", pair.name),
        );

        // File → file, applied to a database at A.
        let db = new_db();
        db.exec(pair.a).unwrap();
        migrate(
            db.as_ref(),
            &a,
            &b,
            dialect,
            &format!("{}: file A→B", pair.name),
        );
        let db = new_db();
        db.exec(pair.b).unwrap();
        migrate(
            db.as_ref(),
            &b,
            &a,
            dialect,
            &format!("{}: file B→A", pair.name),
        );

        // push with consent does the same.
        let db = new_db();
        db.exec(pair.a).unwrap();
        db.exec(pair.seed).unwrap();
        let out = run(&[
            "push",
            "--url",
            db.url(),
            "--schema",
            &b,
            "--force",
            "--no-rename",
        ]);
        assert_eq!(out.code, 0, "{}: push failed:\n{out}", pair.name);
        let out = run(&["push", "--url", db.url(), "--schema", &b, "--no-rename"]);
        assert!(
            out.stderr.contains("Nothing to do"),
            "{}: push did not settle:\n{out}",
            pair.name
        );
    }
}

#[test]
fn postgres_pairs_are_sound() {
    check_pairs(PG_PAIRS, "postgres", &|| Box::new(PgDb::new()));
}

#[test]
fn sqlite_pairs_are_sound() {
    check_pairs(SQLITE_PAIRS, "sqlite", &|| Box::new(SqliteDb::new()));
}
