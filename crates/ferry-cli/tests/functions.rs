//! PostgreSQL functions and procedures through the binary: push, then check with SQL that
//! they run; body changes are replaced in place, signature changes dropped and created;
//! overloads; pull round trips; generate + migrate + rollback.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE FUNCTION valid_name(s text) RETURNS boolean AS $$
BEGIN
  RETURN length(s) > 0;
END;
$$ LANGUAGE plpgsql IMMUTABLE;
CREATE FUNCTION new_code() RETURNS text AS $$ BEGIN RETURN 'acc_' || nextval('accounts_id_seq'); END; $$
  LANGUAGE plpgsql VOLATILE;
CREATE TABLE accounts (
  id serial PRIMARY KEY,
  name text NOT NULL CHECK (valid_name(name)),
  code text NOT NULL DEFAULT new_code(),
  updated_at timestamptz
);
-- A SQL body that reads a table: ferry creates functions before tables, without checking
-- bodies (written after the table here so that the server can run this file as is).
CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM accounts';
CREATE FUNCTION twice(x integer) RETURNS integer AS $$ SELECT x * 2 $$ LANGUAGE sql IMMUTABLE;
CREATE FUNCTION twice(x text) RETURNS text AS $$ SELECT x || x $$ LANGUAGE sql IMMUTABLE;
CREATE PROCEDURE rename_all(prefix text DEFAULT 'x') LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts SET name = prefix || name;
END;
$$;
COMMENT ON FUNCTION twice(integer) IS 'doubles';
"#;

fn rows(db: &PgDb, sql: &str) -> Vec<Vec<Option<String>>> {
    db.query_strings(sql)
}

fn one(db: &PgDb, sql: &str) -> String {
    rows(db, sql)[0][0].clone().unwrap_or_default()
}

fn diff_sql(from: &str, to: &str) -> String {
    let out = ok(run(&["diff", "--from", from, "--to", to]));
    out.stdout
}

#[test]
fn push_run_change_and_pull() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);

    // The file and a database built from it by the server agree.
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    let out = run(&["diff", "--from", &file, "--to", &direct.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");

    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(!out.stderr.contains("not model"), "{out}");
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");

    // They run: the default and the check call functions created before the table.
    db.execute("INSERT INTO accounts (name) VALUES ('ada')")
        .unwrap();
    assert_eq!(one(&db, "SELECT code FROM accounts"), "acc_2");
    assert!(db
        .execute("INSERT INTO accounts (name) VALUES ('')")
        .is_err());
    assert_eq!(one(&db, "SELECT account_count()"), "1");
    assert_eq!(one(&db, "SELECT twice(21)"), "42");
    assert_eq!(one(&db, "SELECT twice('ab'::text)"), "abab");
    db.execute("CALL rename_all('mr_')").unwrap();
    assert_eq!(one(&db, "SELECT name FROM accounts"), "mr_ada");

    // A body change is replaced in place (the table's check keeps depending on it).
    let changed = SCHEMA.replace("RETURN length(s) > 0;", "RETURN length(s) > 1;");
    let file2 = write_file(dir.path(), "changed/schema.sql", &changed);
    let sql = diff_sql(&db.url, &file2);
    assert!(
        sql.contains("CREATE OR REPLACE FUNCTION public.valid_name(s text)"),
        "{sql}"
    );
    assert!(!sql.contains("DROP FUNCTION"), "{sql}");
    ok(run(&["push", "--url", &db.url, "--schema", &file2]));
    assert!(db
        .execute("INSERT INTO accounts (name) VALUES ('b')")
        .is_err());

    // A return type change drops and creates; only the overload that changed.
    let changed = changed.replace(
        "CREATE FUNCTION twice(x text) RETURNS text AS $$ SELECT x || x $$",
        "CREATE FUNCTION twice(x text) RETURNS integer AS $$ SELECT length(x) * 2 $$",
    );
    let file3 = write_file(dir.path(), "changed2/schema.sql", &changed);
    let sql = diff_sql(&db.url, &file3);
    assert!(sql.contains("DROP FUNCTION public.twice(text)"), "{sql}");
    assert!(
        sql.contains("CREATE FUNCTION public.twice(x text)"),
        "{sql}"
    );
    assert!(!sql.contains("twice(integer)"), "{sql}");
    ok(run(&["push", "--url", &db.url, "--schema", &file3]));
    assert_eq!(one(&db, "SELECT twice('ab'::text)"), "4");
    assert_eq!(one(&db, "SELECT twice(21)"), "42");
    assert_eq!(
        one(
            &db,
            "SELECT obj_description('twice(integer)'::regprocedure, 'pg_proc')"
        ),
        "doubles"
    );
    let out = run(&["diff", "--from", &db.url, "--to", &file3, "--exit-code"]);
    assert_eq!(out.code, 0, "after push:\n{out}");

    // Pull, push the pulled files into an empty database: the two agree.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");
    let out = run(&["diff", "--from", &pulled, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "pulled files vs database:\n{out}");

    // A dropped function goes after the column that used it.
    let without = changed
        .replace("  code text NOT NULL DEFAULT new_code(),\n", "")
        .replace(
            "CREATE FUNCTION new_code() RETURNS text AS $$ BEGIN RETURN 'acc_' || nextval('accounts_id_seq'); END; $$\n  LANGUAGE plpgsql VOLATILE;\n",
            "",
        );
    let file4 = write_file(dir.path(), "without/schema.sql", &without);
    let sql = diff_sql(&db.url, &file4);
    let drop_col = sql.find("DROP COLUMN").expect(&sql);
    let drop_fn = sql.find("DROP FUNCTION public.new_code()").expect(&sql);
    assert!(drop_col < drop_fn, "{sql}");
    ok(run(&[
        "push", "--url", &db.url, "--schema", &file4, "--force",
    ]));
    assert_eq!(
        one(
            &db,
            "SELECT count(*) FROM pg_proc WHERE proname = 'new_code'"
        ),
        "0"
    );
}

#[test]
fn generate_migrate_and_rollback_functions() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir: &Path = p.path();
    write_file(dir, "schema/s.sql", SCHEMA);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    let changed = SCHEMA.replace("SELECT x * 2", "SELECT x * 3").replace(
        "CREATE FUNCTION twice(x text) RETURNS text",
        "CREATE FUNCTION twice(x text) RETURNS varchar",
    );
    write_file(dir, "schema/s.sql", &changed);
    ok(run_in(dir, &["generate", "change", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_change/up.sql")).unwrap();
    assert!(
        up.contains("CREATE OR REPLACE FUNCTION public.twice(x integer)"),
        "{up}"
    );
    assert!(up.contains("DROP FUNCTION public.twice(text)"), "{up}");
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate"]));
    assert_eq!(one(&db, "SELECT twice(2)"), "6");
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
    assert_eq!(one(&db, "SELECT twice(2)"), "4");
    assert_eq!(
        one(
            &db,
            "SELECT pg_get_function_result('twice(text)'::regprocedure)"
        ),
        "text"
    );
}
