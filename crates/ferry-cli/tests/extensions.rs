//! PostgreSQL extensions and composite types through the binary: push, no phantom diff for
//! the types and functions an extension brings (a `citext` column), pull round trip,
//! dropping an extension, composite type attribute changes, generate + migrate.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE SCHEMA crypto;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION pgcrypto WITH SCHEMA crypto;
COMMENT ON EXTENSION citext IS 'case-insensitive e-mail addresses';
CREATE TYPE address AS (street text, city varchar(40) COLLATE "C", zip int);
COMMENT ON TYPE address IS 'postal address';
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT crypto.gen_random_uuid(),
  email citext NOT NULL UNIQUE,
  home address
);
"#;

fn rows(db: &PgDb, sql: &str) -> Vec<Vec<Option<String>>> {
    db.query_strings(sql)
}

#[test]
fn push_extensions_and_composite_types_then_pull_round_trip() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);

    // The file and a database built from it by the server agree: nothing the extensions
    // bring (citext's type and functions, pgcrypto's functions) shows up as a user object.
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    let out = run(&["diff", "--from", &file, "--to", &direct.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");
    let out = run(&["diff", "--from", &direct.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "database vs file:\n{out}");

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
    assert_eq!(
        rows(
            &db,
            "SELECT e.extname::text, n.nspname::text, obj_description(e.oid, 'pg_extension') \
             FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname <> 'plpgsql' ORDER BY 1"
        ),
        vec![
            vec![
                Some("citext".into()),
                Some("public".into()),
                Some("case-insensitive e-mail addresses".into())
            ],
            vec![
                Some("pgcrypto".into()),
                Some("crypto".into()),
                // The control file's comment.
                Some("cryptographic functions".into())
            ],
        ]
    );
    // The extension's type works: citext compares case-insensitively.
    db.execute(
        "INSERT INTO users (email, home) VALUES ('Ada@Example.com', ROW('Main St', 'Paris', 75001))",
    )
    .unwrap();
    assert_eq!(
        rows(
            &db,
            "SELECT (home).city FROM users WHERE email = 'ada@example.COM'"
        ),
        vec![vec![Some("Paris".into())]]
    );

    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let text = std::fs::read_to_string(Path::new(&pulled).join("schema.sql")).unwrap();
    assert!(
        text.contains("CREATE EXTENSION IF NOT EXISTS citext"),
        "{text}"
    );
    assert!(text.contains("CREATE TYPE public.address AS ("), "{text}");
    // citext's own type is not a user type.
    assert!(!text.contains("CREATE TYPE public.citext"), "{text}");
    assert!(!text.contains("FUNCTION"), "{text}");
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");

    // An attribute dropped and one added: ALTER TYPE, the rows stay. (Retyping an
    // attribute of a type a column uses is refused by the server.)
    let changed = SCHEMA.replace("zip int)", "country text COLLATE \"C\")");
    let file = write_file(dir.path(), "schema.sql", &changed);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout.contains(
            "ALTER TYPE public.address DROP ATTRIBUTE zip, ADD ATTRIBUTE country text COLLATE \"C\""
        ),
        "{out}"
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(
        rows(&db, "SELECT (home).street, (home).country FROM users"),
        vec![vec![Some("Main St".into()), None]]
    );
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database after ALTER TYPE:\n{out}");

    // Dropping what uses pgcrypto, then pgcrypto itself and its schema.
    let smaller = changed
        .replace("CREATE SCHEMA crypto;\n", "")
        .replace("CREATE EXTENSION pgcrypto WITH SCHEMA crypto;\n", "")
        .replace(" DEFAULT crypto.gen_random_uuid()", "");
    let file = write_file(dir.path(), "schema.sql", &smaller);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(
        rows(
            &db,
            "SELECT string_agg(extname::text, ',' ORDER BY extname) FROM pg_extension \
             WHERE extname <> 'plpgsql'"
        ),
        vec![vec![Some("citext".into())]]
    );
    assert_eq!(
        rows(&db, "SELECT to_regnamespace('crypto') IS NULL"),
        vec![vec![Some("t".into())]]
    );
}

#[test]
fn generate_and_migrate_extensions_and_composite_types() {
    let db = PgDb::new();
    let p = tempfile::tempdir().unwrap();
    let dir = p.path();
    write_file(
        dir,
        "ferry.toml",
        &format!(
            "dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{}\"\n",
            db.url
        ),
    );
    write_file(
        dir,
        "schema/s.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\n",
    );
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    let v2 = "CREATE EXTENSION citext;\n\
              CREATE TYPE point3 AS (x float8, y float8, z float8);\n\
              CREATE TABLE t (id int PRIMARY KEY, name citext, at point3);\n";
    write_file(dir, "schema/s.sql", v2);
    ok(run_in(dir, &["generate", "things", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_things/up.sql")).unwrap();
    let ext = up.find("CREATE EXTENSION").expect(&up);
    let ty = up.find("CREATE TYPE public.point3").expect(&up);
    let col = up.find("ADD COLUMN name").expect(&up);
    assert!(ext < col && ty < col, "{up}");
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate"]));
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.join("schema").display().to_string(),
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "database vs schema after migrate:\n{out}");
    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(
        rows(
            &db,
            "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'citext')::text, \
                    to_regtype('public.point3') IS NULL"
        ),
        vec![vec![Some("0".into()), Some("t".into())]]
    );
}
