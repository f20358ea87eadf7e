//! PostgreSQL views through the binary: push twice (the second finds nothing), pull and push
//! into an empty database (the two databases diff empty), generate + migrate + rollback.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, status text DEFAULT 'active');
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric(10,2));
CREATE VIEW active_users AS SELECT id, name FROM users WHERE status = 'active';
CREATE VIEW user_totals AS
  SELECT u.id, u.name, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent
  FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.name;
CREATE VIEW big_spenders AS SELECT id, name FROM user_totals WHERE spent > 100;
COMMENT ON VIEW active_users IS 'who can log in';
CREATE MATERIALIZED VIEW order_counts AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX order_counts_user ON order_counts (user_id);
"#;

#[test]
fn push_twice_then_pull_into_an_empty_database() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    // The file and a database built from it by the server agree.
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    let out = run(&["diff", "--from", &file, "--to", &direct.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");
    let out = run(&[
        "diff",
        "--from",
        &file,
        "--to",
        &file,
        "--exit-code",
        "--dialect",
        "postgres",
    ]);
    assert_eq!(out.code, 0, "file vs itself:\n{out}");

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");

    let pulled = dir.path().join("pulled");
    let pulled = pulled.display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");
    let out = ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
}

fn rows(db: &PgDb, sql: &str) -> Vec<Vec<Option<String>>> {
    db.query_strings(sql)
}

#[test]
fn generate_migrate_and_rollback_a_view_over_a_changed_column() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir: &Path = p.path();
    write_file(dir, "schema/s.sql", SCHEMA);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    // A type change under two views, and a new view.
    let changed = SCHEMA.replace("total numeric(10,2)", "total numeric(14,2)")
        + "CREATE VIEW named AS SELECT name FROM active_users;\n";
    write_file(dir, "schema/s.sql", &changed);
    ok(run_in(dir, &["generate", "widen", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_widen/up.sql")).unwrap();
    assert!(up.contains("DROP VIEW public.big_spenders"), "{up}");
    assert!(!up.contains("DROP VIEW public.active_users"), "{up}");
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate", "--to", "1"]));
    db.execute("INSERT INTO users (name) VALUES ('Ada'); INSERT INTO orders (user_id, total) VALUES (1, 150)")
        .unwrap();
    ok(run_in(dir, &["migrate"]));
    assert_eq!(
        rows(&db, "SELECT name FROM big_spenders"),
        vec![vec![Some("Ada".into())]]
    );
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.join("schema").display().to_string(),
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "database vs schema after migrate:\n{out}");
    let rollback = run_in(dir, &["rollback", "--force"]);
    assert!(rollback.success(), "{rollback}");
    assert_eq!(
        rows(&db, "SELECT spent::text FROM user_totals"),
        vec![vec![Some("150.00".into())]]
    );
    assert_eq!(
        rows(&db, "SELECT to_regclass('public.named') IS NULL"),
        vec![vec![Some("t".into())]]
    );
}
