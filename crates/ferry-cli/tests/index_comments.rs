//! Comments on indexes and constraints, and index storage parameters, through the binary
//! against PostgreSQL: push (checked with SQL), file vs database diffs empty, a comment or
//! parameter change is a COMMENT or ALTER INDEX alone, a rebuilt index or constraint gets
//! its comment back, pull into an empty database, generate + migrate + rollback.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE SCHEMA shop;
CREATE DOMAIN qty AS int CONSTRAINT qty_positive CHECK (VALUE > 0);
COMMENT ON CONSTRAINT qty_positive ON DOMAIN qty IS 'no empty lines';
CREATE TABLE shop.customers (
  id int PRIMARY KEY,
  email text NOT NULL,
  CONSTRAINT "customers.email" UNIQUE (email)
);
COMMENT ON CONSTRAINT customers_pkey ON shop.customers IS 'the customer number';
COMMENT ON CONSTRAINT "customers.email" ON shop.customers IS 'one account per address';
CREATE TABLE shop.orders (
  id int PRIMARY KEY,
  customer int REFERENCES shop.customers (id),
  amount qty,
  note text,
  tags text[],
  CONSTRAINT small CHECK (amount < 1000)
);
COMMENT ON CONSTRAINT orders_customer_fkey ON shop.orders IS 'who ordered';
COMMENT ON CONSTRAINT small ON shop.orders IS 'It''s a small shop';
CREATE INDEX orders_note ON shop.orders (note) WITH (fillfactor='70', deduplicate_items=ON);
COMMENT ON INDEX shop.orders_note IS 'for the search box';
CREATE INDEX orders_tags ON shop.orders USING gin (tags) WITH (fastupdate = off);
CREATE UNIQUE INDEX orders_customer_id ON shop.orders (customer, id) WITH (fillfactor = 90);
CREATE MATERIALIZED VIEW shop.totals AS SELECT customer, sum(amount) AS total FROM shop.orders GROUP BY customer;
CREATE UNIQUE INDEX totals_customer ON shop.totals (customer) WITH (fillfactor = 50);
COMMENT ON INDEX shop.totals_customer IS 'one row per customer';
"#;

fn one(db: &PgDb, sql: &str) -> String {
    db.query_strings(sql)
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .unwrap_or_default()
}

/// Every comment on an index or constraint of the test schema, and every index's storage
/// parameters, as sorted lines.
fn metadata(db: &PgDb) -> Vec<String> {
    db.query_strings(
        "SELECT 'index ' || c.relname || ' ' || COALESCE(obj_description(c.oid, 'pg_class'), '-') \
           || ' ' || COALESCE(array_to_string(c.reloptions, ','), '-') \
         FROM pg_class c WHERE c.relkind = 'i' AND c.relnamespace = 'shop'::regnamespace \
         UNION ALL \
         SELECT 'constraint ' || conname || ' ' || COALESCE(obj_description(oid, 'pg_constraint'), '-') \
         FROM pg_constraint WHERE connamespace IN ('shop'::regnamespace, 'public'::regnamespace) \
         ORDER BY 1",
    )
    .into_iter()
    .map(|r| r.into_iter().next().flatten().unwrap_or_default())
    .collect()
}

#[track_caller]
fn diff_is_empty(from: &str, to: &str, what: &str) {
    let out = run(&[
        "diff",
        "--from",
        from,
        "--to",
        to,
        "--exit-code",
        "--dialect",
        "postgres",
    ]);
    assert_eq!(out.code, 0, "{what}:\n{out}");
}

fn statements(out: &Output) -> Vec<&str> {
    out.stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect()
}

#[test]
fn push_writes_comments_and_parameters_and_the_file_equals_the_database() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(!out.stderr.contains("not model"), "{out}");
    assert_eq!(
        metadata(&db),
        [
            "constraint customers.email one account per address",
            "constraint customers_pkey the customer number",
            "constraint orders_customer_fkey who ordered",
            "constraint orders_pkey -",
            "constraint qty_positive no empty lines",
            "constraint small It's a small shop",
            "index customers.email - -",
            "index customers_pkey - -",
            "index orders_customer_id - fillfactor=90",
            "index orders_note for the search box fillfactor=70,deduplicate_items=on",
            "index orders_pkey - -",
            "index orders_tags - fastupdate=off",
            "index totals_customer one row per customer fillfactor=50",
        ]
    );
    diff_is_empty(&file, &db.url, "file vs database");
    diff_is_empty(&db.url, &file, "database vs file");
    diff_is_empty(&file, &file, "file vs itself");

    // The same schema built by the server itself reads the same.
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    assert_eq!(metadata(&direct), metadata(&db));
    diff_is_empty(&file, &direct.url, "file vs a database built by the server");
    diff_is_empty(&db.url, &direct.url, "pushed vs built by the server");
}

#[test]
fn a_comment_or_parameter_change_alters_in_place_and_a_rebuild_keeps_the_comment() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));

    // Comments only.
    let comments = SCHEMA
        .replace("'for the search box'", "'for the search page'")
        .replace("'who ordered'", "NULL")
        .replace("'no empty lines'", "'at least one'")
        .replace("'one row per customer'", "'per customer'");
    let file = write_file(dir.path(), "schema.sql", &comments);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    let sql = statements(&out);
    assert_eq!(sql.len(), 4, "{out}");
    assert!(sql.iter().all(|s| s.starts_with("COMMENT ON ")), "{out}");
    assert!(
        out.stdout
            .contains("COMMENT ON CONSTRAINT orders_customer_fkey ON shop.orders IS NULL"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("COMMENT ON CONSTRAINT qty_positive ON DOMAIN public.qty IS 'at least one'"),
        "{out}"
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    diff_is_empty(&db.url, &file, "after the comment changes");

    // Storage parameters only: SET and RESET, no rebuild.
    let params = comments
        .replace(
            "WITH (fillfactor='70', deduplicate_items=ON)",
            "WITH (fillfactor=80)",
        )
        .replace("WITH (fastupdate = off)", "")
        .replace("WITH (fillfactor = 50)", "WITH (fillfactor = 60)");
    let file = write_file(dir.path(), "schema.sql", &params);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    let sql = statements(&out);
    assert!(sql.iter().all(|s| s.starts_with("ALTER INDEX ")), "{out}");
    for expected in [
        "ALTER INDEX shop.orders_note RESET (deduplicate_items)",
        "ALTER INDEX shop.orders_note SET (fillfactor='80')",
        "ALTER INDEX shop.orders_tags RESET (fastupdate)",
        "ALTER INDEX shop.totals_customer SET (fillfactor='60')",
    ] {
        assert!(out.stdout.contains(expected), "{expected}:\n{out}");
    }
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    diff_is_empty(&db.url, &file, "after the parameter changes");

    // A rebuilt index, a rebuilt check and a renamed check keep (or get) their comment.
    let rebuilt = params
        .replace(
            "CREATE INDEX orders_note ON shop.orders (note)",
            "CREATE INDEX orders_note ON shop.orders (lower(note))",
        )
        .replace("CHECK (amount < 1000)", "CHECK (amount < 2000)")
        .replace(
            "CONSTRAINT \"customers.email\" UNIQUE",
            "CONSTRAINT customers_email UNIQUE",
        )
        .replace(
            "CONSTRAINT \"customers.email\" ON shop.customers IS 'one account per address'",
            "CONSTRAINT customers_email ON shop.customers IS 'one account'",
        );
    let file = write_file(dir.path(), "schema.sql", &rebuilt);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout.contains(
            "ALTER TABLE shop.customers RENAME CONSTRAINT \"customers.email\" TO customers_email"
        ),
        "{out}"
    );
    assert!(out.stdout.contains("DROP INDEX shop.orders_note"), "{out}");
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    diff_is_empty(&db.url, &file, "after the rebuilds");
    let meta = metadata(&db);
    for expected in [
        "constraint customers_email one account",
        "constraint small It's a small shop",
        "index orders_note for the search page fillfactor=80",
    ] {
        assert!(meta.contains(&expected.to_string()), "{expected}: {meta:?}");
    }
}

#[test]
fn pull_then_push_into_an_empty_database() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let pulled = dir.path().join("pulled");
    let pulled = pulled.display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let text = std::fs::read_to_string(Path::new(&pulled).join("schema.sql")).unwrap();
    assert!(
        text.contains("COMMENT ON INDEX shop.orders_note IS 'for the search box'"),
        "{text}"
    );
    assert!(
        text.contains("WITH (fillfactor='70', deduplicate_items='on')"),
        "{text}"
    );
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    assert_eq!(metadata(&empty), metadata(&db));
    diff_is_empty(&db.url, &empty.url, "the pulled copy");
    diff_is_empty(&pulled, &file, "pulled files vs the schema file");
}

#[test]
fn generate_migrate_and_rollback_comment_and_parameter_changes() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir: &Path = p.path();
    write_file(dir, "schema/s.sql", SCHEMA);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    let changed = SCHEMA
        .replace(
            "WITH (fillfactor='70', deduplicate_items=ON)",
            "WITH (deduplicate_items=off)",
        )
        .replace("'for the search box'", "'search'")
        .replace("'It''s a small shop'", "NULL")
        + "COMMENT ON INDEX shop.orders_tags IS 'tags';\n";
    write_file(dir, "schema/s.sql", &changed);
    ok(run_in(dir, &["generate", "change", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_change/up.sql")).unwrap();
    assert!(
        !up.contains("DROP INDEX") && !up.contains("CREATE INDEX"),
        "{up}"
    );
    assert!(
        up.contains("ALTER INDEX shop.orders_note RESET (fillfactor)"),
        "{up}"
    );
    assert!(
        up.contains("ALTER INDEX shop.orders_note SET (deduplicate_items='off')"),
        "{up}"
    );
    assert!(
        up.contains("COMMENT ON CONSTRAINT small ON shop.orders IS NULL"),
        "{up}"
    );
    let down = std::fs::read_to_string(dir.join("migrations/2_change/down.sql")).unwrap();
    assert!(
        down.contains("COMMENT ON INDEX shop.orders_tags IS NULL"),
        "{down}"
    );
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate"]));
    let schema_dir = dir.join("schema").display().to_string();
    diff_is_empty(&db.url, &schema_dir, "database vs schema after migrate");
    assert_eq!(
        one(
            &db,
            "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'orders_note'"
        ),
        "deduplicate_items=off"
    );

    ok(run_in(dir, &["rollback", "--force"]));
    let v1 = write_file(dir, "v1/s.sql", SCHEMA);
    diff_is_empty(&db.url, &v1, "database vs the first schema after rollback");
}

#[test]
fn a_comment_on_an_unknown_index_or_constraint_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\n\nCOMMENT ON INDEX nope IS 'x';\n",
    );
    let out = read_pg_file(&file, &[]);
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr
            .contains("schema.sql:3:18: COMMENT ON unknown index public.nope"),
        "{out}"
    );
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\nCOMMENT ON CONSTRAINT t_key ON t IS 'x';\n",
    );
    let out = read_pg_file(&file, &[]);
    assert!(
        out.stderr
            .contains("schema.sql:2:23: COMMENT ON unknown constraint t_key of table public.t"),
        "{out}"
    );
}

#[test]
fn objects_renamed_with_their_table_keep_and_change_their_comments() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE a (id int PRIMARY KEY, v int CHECK (v > 0));\n\
         COMMENT ON CONSTRAINT a_pkey ON a IS 'old';\n\
         CREATE INDEX a_v_idx ON a (v) WITH (fillfactor=70);\n\
         COMMENT ON INDEX a_v_idx IS 'vee';\n",
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE b /* @renamed from=a */ (id int PRIMARY KEY, v int CHECK (v > 0));\n\
         COMMENT ON CONSTRAINT b_pkey ON b IS 'new';\n\
         COMMENT ON CONSTRAINT b_v_check ON b IS 'checked';\n\
         CREATE INDEX b_v_idx ON b (v) WITH (fillfactor=80);\n",
    );
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    // Renamed in place (implicit names follow the table), never dropped and created.
    assert!(!out.stdout.contains("DROP"), "{out}");
    assert!(
        out.stdout
            .contains("ALTER INDEX public.b_v_idx SET (fillfactor='80')"),
        "{out}"
    );
    diff_is_empty(&db.url, &file, "after the rename");
    assert_eq!(
        one(
            &db,
            "SELECT string_agg(conname || '=' || obj_description(oid, 'pg_constraint'), ',' \
             ORDER BY conname) FROM pg_constraint WHERE conrelid = 'b'::regclass"
        ),
        "b_pkey=new,b_v_check=checked"
    );
}
