//! PostgreSQL triggers through the binary: push, check with SQL that they fire; changes
//! drop and create them; a function's drop + create takes its triggers along; pull round
//! trips; generate + migrate + rollback.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE TABLE users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  updated_at timestamptz,
  changes integer NOT NULL DEFAULT 0
);
CREATE TABLE audit (at timestamptz DEFAULT now(), what text, arg text);
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.updated_at := now();
  NEW.changes := OLD.changes + 1;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION log_change() RETURNS trigger AS $$
BEGIN
  INSERT INTO audit (what, arg) VALUES (TG_OP, TG_ARGV[0]);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER touch BEFORE UPDATE ON users
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION touch();
CREATE TRIGGER log_users AFTER INSERT OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION log_change('users');
COMMENT ON TRIGGER touch ON users IS 'counts renames';
"#;

fn one(db: &PgDb, sql: &str) -> String {
    db.query_strings(sql)[0][0].clone().unwrap_or_default()
}

#[test]
fn triggers_fire_change_and_round_trip() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    let out = run(&["diff", "--from", &file, "--to", &direct.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
    db.execute("INSERT INTO users (name) VALUES ('ada'); UPDATE users SET name = 'Ada'; UPDATE users SET name = 'Ada'")
        .unwrap();
    assert_eq!(one(&db, "SELECT changes FROM users"), "1");
    assert_eq!(
        one(&db, "SELECT what || ':' || arg FROM audit"),
        "INSERT:users"
    );

    // A changed trigger is dropped and created again; its function is left alone.
    let changed = SCHEMA.replace(
        "AFTER INSERT OR DELETE ON users\n  FOR EACH ROW EXECUTE FUNCTION log_change('users');",
        "AFTER INSERT OR UPDATE OR DELETE ON users\n  FOR EACH ROW EXECUTE FUNCTION log_change('people');",
    );
    let file2 = write_file(dir.path(), "two/schema.sql", &changed);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file2]));
    assert!(
        out.stdout
            .contains("DROP TRIGGER log_users ON public.users"),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "CREATE TRIGGER log_users AFTER INSERT OR UPDATE OR DELETE ON public.users FOR EACH ROW EXECUTE FUNCTION public.log_change('people')"
        ),
        "{out}"
    );
    assert!(
        !out.stdout.contains("FUNCTION public.log_change()"),
        "{out}"
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file2]));
    db.execute("UPDATE users SET name = 'Grace'").unwrap();
    assert_eq!(
        one(
            &db,
            "SELECT what || ':' || arg FROM audit ORDER BY at DESC, what LIMIT 1"
        ),
        "UPDATE:people"
    );

    // The trigger function moves to another schema: the trigger is created again on the
    // new function before the old one is dropped.
    let changed = format!(
        "CREATE SCHEMA fn;\n{}",
        changed
            .replace("CREATE FUNCTION touch()", "CREATE FUNCTION fn.touch()")
            .replace("EXECUTE FUNCTION touch()", "EXECUTE FUNCTION fn.touch()")
    );
    let file3 = write_file(dir.path(), "three/schema.sql", &changed);
    let out = run(&["push", "--url", &db.url, "--schema", &file3]);
    assert!(out.success(), "{out}");
    let out = run(&["diff", "--from", &db.url, "--to", &file3, "--exit-code"]);
    assert_eq!(out.code, 0, "after push:\n{out}");
    db.execute("UPDATE users SET name = 'Zed'").unwrap();
    assert_eq!(one(&db, "SELECT changes FROM users"), "3");
    assert_eq!(
        one(&db, "SELECT count(*) FROM pg_proc WHERE proname = 'touch'"),
        "1"
    );

    // Dropping a trigger, and disabling another (kept through the pull below).
    let without = SCHEMA.replace(
        "CREATE TRIGGER log_users AFTER INSERT OR DELETE ON users\n  FOR EACH ROW EXECUTE FUNCTION log_change('users');\n",
        "",
    ) + "ALTER TABLE users DISABLE TRIGGER touch;\n";
    let file4 = write_file(dir.path(), "four/schema.sql", &without);
    ok(run(&["push", "--url", &db.url, "--schema", &file4]));
    assert_eq!(
        one(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'log_users'"
        ),
        "0"
    );
    assert_eq!(
        one(
            &db,
            "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE tgname = 'touch'"
        ),
        "counts renames"
    );

    assert_eq!(
        one(
            &db,
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'touch'"
        ),
        "D"
    );
    db.execute("UPDATE users SET name = 'Off'").unwrap();
    assert_eq!(one(&db, "SELECT changes FROM users"), "3");

    // Pull into an empty database.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");
}

#[test]
fn a_renamed_table_keeps_its_trigger() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let renamed = SCHEMA
        .replace(
            "CREATE TABLE users (\n",
            "CREATE TABLE people ( -- @renamed from=users\n",
        )
        .replace(" ON users", " ON people");
    let file2 = write_file(dir.path(), "renamed/schema.sql", &renamed);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file2]));
    assert!(!out.stdout.contains("TRIGGER"), "{out}");
    ok(run(&["push", "--url", &db.url, "--schema", &file2]));
    db.execute("INSERT INTO people (name) VALUES ('x'); UPDATE people SET name = 'y'")
        .unwrap();
    assert_eq!(one(&db, "SELECT changes FROM people"), "1");
}

#[test]
fn generate_migrate_and_rollback_triggers() {
    let db = PgDb::new();
    let p = tempfile::tempdir().unwrap();
    let dir: &Path = p.path();
    write_file(
        dir,
        "ferry.toml",
        &format!(
            "dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{}\"\n",
            db.url
        ),
    );
    let base = SCHEMA
        .replace(
            "CREATE TRIGGER touch BEFORE UPDATE ON users\n  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION touch();\n",
            "",
        )
        .replace("COMMENT ON TRIGGER touch ON users IS 'counts renames';\n", "");
    assert!(!base.contains("TRIGGER touch"), "{base}");
    write_file(dir, "schema/s.sql", &base);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    write_file(dir, "schema/s.sql", SCHEMA);
    ok(run_in(dir, &["generate", "touch", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_touch/up.sql")).unwrap();
    assert!(
        up.contains("CREATE TRIGGER touch BEFORE UPDATE ON public.users"),
        "{up}"
    );
    let down = std::fs::read_to_string(dir.join("migrations/2_touch/down.sql")).unwrap();
    assert!(
        down.contains("DROP TRIGGER touch ON public.users"),
        "{down}"
    );
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate"]));
    db.execute("INSERT INTO users (name) VALUES ('a'); UPDATE users SET name = 'b'")
        .unwrap();
    assert_eq!(one(&db, "SELECT changes FROM users"), "1");
    ok(run_in(dir, &["rollback", "--force"]));
    db.execute("UPDATE users SET name = 'c'").unwrap();
    assert_eq!(one(&db, "SELECT changes FROM users"), "1");
    assert_eq!(
        one(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'touch'"
        ),
        "0"
    );
}
