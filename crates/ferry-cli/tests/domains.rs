//! PostgreSQL domains through the binary: push (checked with SQL), file vs database diffs
//! empty, ALTER DOMAIN and base-type changes keep the data, pull into an empty database,
//! generate + migrate + rollback.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE SCHEMA billing;
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE DOMAIN primary_color AS color NOT NULL;
CREATE DOMAIN base_text AS text COLLATE "C";
CREATE DOMAIN Username AS base_text CHECK (length(VALUE) >= 3) CHECK (VALUE = lower(VALUE));
CREATE DOMAIN "PositiveInt" AS int CONSTRAINT positive CHECK (VALUE > 0);
CREATE DOMAIN billing.amount AS numeric(10,2) DEFAULT 0 CHECK (VALUE >= 0);
CREATE DOMAIN email AS varchar(200) CHECK (VALUE ~ '@');
COMMENT ON DOMAIN email IS 'an address';
CREATE TABLE users (
  id "PositiveInt" PRIMARY KEY,
  name username NOT NULL,
  email public.email,
  favourite primary_color,
  balance billing.amount,
  scores "PositiveInt"[]
);
"#;

fn rows(db: &PgDb, sql: &str) -> Vec<Vec<Option<String>>> {
    db.query_strings(sql)
}

fn one(db: &PgDb, sql: &str) -> String {
    rows(db, sql)
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .unwrap_or_default()
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

#[test]
fn push_builds_the_domains_and_the_file_equals_the_database() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(!out.stderr.contains("not model"), "{out}");

    // What the server holds.
    let domains = rows(
        &db,
        "SELECT n.nspname || '.' || t.typname, format_type(t.typbasetype, t.typtypmod), \
           t.typnotnull::text, pg_get_expr(t.typdefaultbin, 0), \
           (SELECT collname FROM pg_collation WHERE oid = t.typcollation) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype = 'd' AND n.nspname IN ('public', 'billing') ORDER BY 1",
    );
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        domains,
        vec![
            vec![
                s("billing.amount"),
                s("numeric(10,2)"),
                s("false"),
                s("0"),
                None
            ],
            vec![
                s("public.PositiveInt"),
                s("integer"),
                s("false"),
                None,
                None
            ],
            vec![s("public.base_text"), s("text"), s("false"), None, s("C")],
            vec![
                s("public.email"),
                s("character varying(200)"),
                s("false"),
                None,
                s("default")
            ],
            vec![s("public.primary_color"), s("color"), s("true"), None, None],
            vec![
                s("public.username"),
                s("base_text"),
                s("false"),
                None,
                s("C")
            ],
        ]
    );
    // Implicit check names as the server gives them.
    assert_eq!(
        rows(
            &db,
            "SELECT conname FROM pg_constraint WHERE contypid <> 0 \
               AND connamespace IN ('public'::regnamespace, 'billing'::regnamespace) ORDER BY 1"
        ),
        vec![
            vec![s("amount_check")],
            vec![s("email_check")],
            vec![s("positive")],
            vec![s("username_check")],
            vec![s("username_check1")],
        ]
    );
    assert_eq!(
        one(
            &db,
            "SELECT obj_description('public.email'::regtype, 'pg_type')"
        ),
        "an address"
    );
    assert_eq!(
        one(
            &db,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'users'::regclass AND attname = 'scores'"
        ),
        "\"PositiveInt\"[]"
    );
    // The domains are enforced.
    db.execute("INSERT INTO users (id, name, email, favourite) VALUES (1, 'ada', 'a@b', 'red')")
        .unwrap();
    assert_eq!(one(&db, "SELECT balance::text FROM users"), "0.00");
    for bad in [
        "INSERT INTO users (id, name, favourite) VALUES (0, 'bob', 'red')",
        "INSERT INTO users (id, name, favourite) VALUES (2, 'Bob', 'red')",
        "INSERT INTO users (id, name, favourite) VALUES (2, 'bo', 'red')",
        "INSERT INTO users (id, name, email, favourite) VALUES (2, 'bob', 'nope', 'red')",
        "INSERT INTO users (id, name, scores, favourite) VALUES (2, 'bob', '{1,-1}', 'red')",
        "INSERT INTO users (id, name, balance, favourite) VALUES (2, 'bob', -1, 'red')",
    ] {
        assert!(db.execute(bad).is_err(), "accepted: {bad}");
    }
    // ... for the reason each one tests: the same row with good values goes in.
    db.execute("INSERT INTO users (id, name, favourite, scores) VALUES (2, 'bob', 'red', '{1}')")
        .unwrap();

    diff_is_empty(&file, &db.url, "file vs database");
    diff_is_empty(&db.url, &file, "database vs file");
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");

    // A database the server built from the same file, statement by statement, agrees too.
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    diff_is_empty(&file, &direct.url, "file vs a database built by the server");
    diff_is_empty(&db.url, &direct.url, "pushed vs built by the server");
}

#[test]
fn alter_domain_and_base_type_changes_keep_the_data() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    db.execute(
        "INSERT INTO users (id, name, email, favourite, balance, scores) VALUES \
           (1, 'ada', 'ada@example.com', 'red', 12.5, '{1,2}'), \
           (2, 'grace', 'grace@example.com', 'blue', 0, NULL)",
    )
    .unwrap();

    // Default, NOT NULL, a changed and a dropped check, a comment: ALTER DOMAIN only.
    let altered = SCHEMA
        .replace(
            "numeric(10,2) DEFAULT 0 CHECK (VALUE >= 0)",
            "numeric(10,2) DEFAULT 5 NOT NULL CHECK (VALUE >= -100)",
        )
        .replace(
            " CHECK (VALUE = lower(VALUE));",
            " CHECK (VALUE <> 'root');",
        )
        .replace(
            "CONSTRAINT positive CHECK (VALUE > 0)",
            "CONSTRAINT positive CHECK (VALUE > -1)",
        )
        .replace("'an address'", "'where mail goes'");
    write_file(dir.path(), "schema.sql", &altered);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    for expected in [
        "ALTER DOMAIN billing.amount SET DEFAULT 5",
        "ALTER DOMAIN billing.amount SET NOT NULL",
        "ALTER DOMAIN billing.amount DROP CONSTRAINT amount_check",
        "ALTER DOMAIN billing.amount ADD CONSTRAINT amount_check CHECK (VALUE >= -100)",
        "ALTER DOMAIN public.username DROP CONSTRAINT username_check1",
        "ALTER DOMAIN public.username ADD CONSTRAINT username_check1 CHECK (VALUE <> 'root')",
        // PostgreSQL cannot validate a new check of a domain used in an array column:
        // the domain is created again, its columns converted through integer.
        "ALTER TABLE public.users ALTER COLUMN scores TYPE integer[] USING scores::integer[]",
        "DROP DOMAIN public.\"PositiveInt\";",
        "CREATE DOMAIN public.\"PositiveInt\" AS integer CONSTRAINT positive CHECK (VALUE > -1)",
        "ALTER TABLE public.users ALTER COLUMN scores TYPE public.\"PositiveInt\"[]",
        "COMMENT ON DOMAIN public.email IS 'where mail goes'",
    ] {
        assert!(out.stdout.contains(expected), "missing {expected}:\n{out}");
    }
    assert_eq!(out.stdout.matches("DROP DOMAIN").count(), 1, "{out}");
    assert!(out.stderr.contains("may fail"), "{out}");
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    diff_is_empty(&db.url, &file, "after ALTER DOMAIN");
    assert_eq!(
        rows(
            &db,
            "SELECT id::text, name, balance::text, scores::text FROM users ORDER BY id"
        ),
        vec![
            vec![
                Some("1".into()),
                Some("ada".into()),
                Some("12.50".into()),
                Some("{1,2}".into())
            ],
            vec![
                Some("2".into()),
                Some("grace".into()),
                Some("0.00".into()),
                None
            ],
        ]
    );
    db.execute("INSERT INTO users (id, name, favourite) VALUES (0, 'Zed', 'red')")
        .unwrap();
    assert_eq!(
        one(&db, "SELECT balance::text FROM users WHERE id = 0"),
        "5.00"
    );
    assert!(db
        .execute("INSERT INTO users (id, name, favourite) VALUES (3, 'root', 'red')")
        .is_err());

    // A new base type (and collation) for a domain another one is based on: both are
    // created again, the column goes through the base type and comes back.
    let rebased = altered.replace(
        "CREATE DOMAIN base_text AS text COLLATE \"C\";",
        "CREATE DOMAIN base_text AS varchar(40);",
    );
    write_file(dir.path(), "schema.sql", &rebased);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout.contains("DROP DOMAIN public.username")
            && out
                .stdout
                .contains("CREATE DOMAIN public.base_text AS character varying(40)")
            && out
                .stdout
                .contains("ALTER TABLE public.users ALTER COLUMN name TYPE public.username"),
        "{out}"
    );
    assert!(out.stderr.contains("table rewrite"), "{out}");
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    diff_is_empty(&db.url, &file, "after the rebuild");
    assert_eq!(
        rows(&db, "SELECT name FROM users ORDER BY id"),
        vec![
            vec![Some("Zed".into())],
            vec![Some("ada".into())],
            vec![Some("grace".into())],
        ]
    );
    assert_eq!(
        one(
            &db,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'users'::regclass AND attname = 'name'"
        ),
        "username"
    );
    // A value too long for the new base type is refused through the column.
    let long = "x".repeat(41);
    assert!(db
        .execute(&format!(
            "INSERT INTO users (id, name, favourite) VALUES (9, '{long}', 'red')"
        ))
        .is_err());
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
        text.contains("CREATE DOMAIN public.username AS public.base_text"),
        "{text}"
    );
    assert!(!text.contains("does not model"), "{text}");
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    diff_is_empty(&db.url, &empty.url, "the pulled copy");
    diff_is_empty(&pulled, &file, "pulled files vs the schema file");
}

#[test]
fn generate_migrate_and_rollback_domain_changes() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir: &Path = p.path();
    write_file(dir, "schema/s.sql", SCHEMA);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    let changed = SCHEMA
        .replace(
            "DEFAULT 0 CHECK (VALUE >= 0)",
            "DEFAULT 1 CHECK (VALUE >= 1)",
        )
        .replace(
            "CREATE DOMAIN email AS varchar(200)",
            "CREATE DOMAIN email AS text",
        )
        + "CREATE DOMAIN code AS char(3) CHECK (VALUE ~ '^[A-Z]+$');\n\
           ALTER TABLE users ADD COLUMN country code;\n";
    write_file(dir, "schema/s.sql", &changed);
    ok(run_in(dir, &["generate", "change", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_change/up.sql")).unwrap();
    assert!(
        up.contains("ALTER DOMAIN billing.amount SET DEFAULT 1"),
        "{up}"
    );
    assert!(up.contains("CREATE DOMAIN public.code"), "{up}");
    assert!(up.contains("DROP DOMAIN public.email"), "{up}");
    let down = std::fs::read_to_string(dir.join("migrations/2_change/down.sql")).unwrap();
    assert!(down.contains("DROP DOMAIN public.code"), "{down}");
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate", "--to", "1"]));
    db.execute(
        "INSERT INTO users (id, name, email, favourite, balance) VALUES (1, 'ada', 'a@b', 'red', 3)",
    )
        .unwrap();
    ok(run_in(dir, &["migrate"]));
    let schema_dir = dir.join("schema").display().to_string();
    diff_is_empty(&db.url, &schema_dir, "database vs schema after migrate");
    assert_eq!(
        rows(&db, "SELECT email, balance::text FROM users"),
        vec![vec![Some("a@b".into()), Some("3.00".into())]]
    );
    assert_eq!(
        one(
            &db,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'users'::regclass AND attname = 'email'"
        ),
        "email"
    );

    ok(run_in(dir, &["rollback", "--force"]));
    let v1 = write_file(dir, "v1/s.sql", SCHEMA);
    diff_is_empty(&db.url, &v1, "database vs the first schema after rollback");
    assert_eq!(one(&db, "SELECT email FROM users"), "a@b");
}

#[test]
fn a_bad_domain_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE DOMAIN ok AS int;\n\nCREATE DOMAIN d AS int CHECK (VALUE > 0) FROBNICATE;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("schema.sql:3:42"), "{out}");
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE DOMAIN d AS int;\nCREATE DOMAIN d AS text;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert!(
        out.stderr
            .contains("schema.sql:2:15: type public.d already exists"),
        "{out}"
    );
}

#[test]
fn files_may_declare_a_domain_before_the_one_it_is_based_on() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "schema/a_users.sql",
        "CREATE DOMAIN handle AS base_name COLLATE \"C\" CHECK (VALUE <> '');\n\
         CREATE TABLE users (h handle COLLATE \"C\", n base_name);\n",
    );
    write_file(
        dir.path(),
        "schema/b_types.sql",
        "CREATE DOMAIN base_name AS varchar(30) COLLATE \"C\";\n",
    );
    let schema = dir.path().join("schema").display().to_string();
    let out = ok(run(&["push", "--url", &db.url, "--schema", &schema]));
    let created = |name: &str| {
        out.stdout
            .find(&format!("CREATE DOMAIN public.{name}"))
            .unwrap_or_else(|| panic!("{name} not created:\n{out}"))
    };
    assert!(created("base_name") < created("handle"), "{out}");
    diff_is_empty(&schema, &db.url, "files vs database");
    diff_is_empty(&db.url, &schema, "database vs files");
}
