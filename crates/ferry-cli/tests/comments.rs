//! Comments on schemas and on the columns of views, through the binary on real PostgreSQL:
//! push, an empty diff afterwards, pull, changes through generate + migrate + rollback.

mod common;

use common::*;

fn schema_comments(db: &PgDb) -> Vec<Vec<Option<String>>> {
    db.query_strings(
        "SELECT nspname::text, obj_description(oid, 'pg_namespace') FROM pg_namespace \
         WHERE nspname IN ('app', 'public') ORDER BY 1",
    )
}

const SCHEMAS: &str = r#"
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'Application tables';
COMMENT ON SCHEMA public IS 'Shared lookups';
CREATE TABLE app.users (id int PRIMARY KEY);
"#;

#[test]
fn schema_comments_push_pull_and_migrate() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir = p.path();
    let file = write_file(dir, "schema/s.sql", SCHEMAS);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(
        schema_comments(&db),
        vec![
            vec![Some("app".into()), Some("Application tables".into())],
            vec![Some("public".into()), Some("Shared lookups".into())],
        ]
    );
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");

    // Pull writes them; the pulled file loads into a second database as the first.
    let pulled = tempfile::tempdir().unwrap();
    let out_dir = pulled.path().display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &out_dir]));
    let text = std::fs::read_to_string(pulled.path().join("schema.sql")).unwrap();
    assert!(
        text.contains("COMMENT ON SCHEMA app IS 'Application tables';"),
        "{text}"
    );
    let second = PgDb::new();
    let pulled_file = pulled.path().join("schema.sql").display().to_string();
    ok(run(&[
        "push",
        "--url",
        &second.url,
        "--schema",
        &pulled_file,
    ]));
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &second.url,
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{out}");

    // Dropping the comments through a migration: `public` gets the server's default back.
    // The migrations start from an empty database of their own.
    let fresh = PgDb::new();
    let p = pg_project(&fresh.url);
    let dir = p.path();
    write_file(dir, "schema/s.sql", SCHEMAS);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    write_file(
        dir,
        "schema/s.sql",
        &SCHEMAS
            .replace("COMMENT ON SCHEMA app IS 'Application tables';\n", "")
            .replace("'Shared lookups'", "NULL"),
    );
    ok(run_in(dir, &["generate", "plain", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_plain/up.sql")).unwrap();
    assert!(up.contains("COMMENT ON SCHEMA app IS NULL;"), "{up}");
    assert!(
        up.contains("COMMENT ON SCHEMA public IS 'standard public schema';"),
        "{up}"
    );
    ok(run_in(dir, &["migrate"]));
    assert_eq!(
        schema_comments(&fresh),
        vec![
            vec![Some("app".into()), None],
            vec![Some("public".into()), Some("standard public schema".into())],
        ]
    );
    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(
        schema_comments(&fresh),
        vec![
            vec![Some("app".into()), Some("Application tables".into())],
            vec![Some("public".into()), Some("Shared lookups".into())],
        ]
    );
    // Replayed offline, the migrations build what the files say: nothing to generate.
    assert_generates_nothing(dir);
}

#[test]
fn comment_on_an_unknown_schema_names_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "s.sql",
        "CREATE TABLE t (id int);\nCOMMENT ON SCHEMA nowhere IS 'x';\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(out.stderr.contains("s.sql:2:12"), "{out}");
    assert!(
        out.stderr.contains("COMMENT ON unknown schema nowhere"),
        "{out}"
    );
}

const VIEWS: &str = r#"
CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
COMMENT ON COLUMN big_orders.total IS 'Gross, in euros';
CREATE MATERIALIZED VIEW order_sums AS SELECT sum(total) AS total FROM orders;
COMMENT ON COLUMN order_sums.total IS 'All orders';
"#;

fn view_column_comments(db: &PgDb) -> Vec<Vec<Option<String>>> {
    db.query_strings(
        "SELECT c.relname::text || '.' || a.attname, col_description(c.oid, a.attnum) \
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
         WHERE c.relname IN ('big_orders', 'order_sums') AND a.attnum > 0 ORDER BY 1",
    )
}

#[test]
fn view_column_comments_push_pull_and_migrate() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir = p.path();
    write_file(dir, "schema/s.sql", VIEWS);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    let commented = vec![
        vec![Some("big_orders.id".into()), None],
        vec![
            Some("big_orders.total".into()),
            Some("Gross, in euros".into()),
        ],
        vec![Some("order_sums.total".into()), Some("All orders".into())],
    ];
    assert_eq!(view_column_comments(&db), commented);
    let schema = dir.join("schema").display().to_string();
    let out = run(&["diff", "--from", &db.url, "--to", &schema, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    let pulled = tempfile::tempdir().unwrap();
    ok(run(&[
        "pull",
        "--url",
        &db.url,
        "--out",
        &pulled.path().display().to_string(),
    ]));
    let text = std::fs::read_to_string(pulled.path().join("schema.sql")).unwrap();
    assert!(
        text.contains("COMMENT ON COLUMN public.big_orders.total IS 'Gross, in euros';"),
        "{text}"
    );

    // A comment changed alone is set in place; one on a view that is re-created comes back.
    write_file(
        dir,
        "schema/s.sql",
        &VIEWS
            .replace("'Gross, in euros'", "'Gross, in cents'")
            .replace("sum(total) AS total", "sum(total) + 0 AS total"),
    );
    ok(run_in(dir, &["generate", "cents", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_cents/up.sql")).unwrap();
    assert!(!up.contains("DROP VIEW public.big_orders"), "{up}");
    assert!(
        up.contains("DROP MATERIALIZED VIEW public.order_sums"),
        "{up}"
    );
    ok(run_in(dir, &["migrate"]));
    assert_eq!(
        view_column_comments(&db)[1][1].as_deref(),
        Some("Gross, in cents")
    );
    assert_eq!(
        view_column_comments(&db)[2][1].as_deref(),
        Some("All orders")
    );
    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(view_column_comments(&db), commented);
}
