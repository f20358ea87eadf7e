//! Privileges through the binary on real PostgreSQL: GRANT and REVOKE on schemas, tables,
//! columns, views and sequences are pushed, compared, pulled back and kept across a view
//! re-created by a migration; grants to roles ferry does not manage are left alone.

mod common;

use std::path::Path;

use common::*;

fn ok(out: Output) -> Output {
    assert!(out.success(), "{out}");
    out
}

fn schema(app: &str, reader: &str) -> String {
    format!(
        r#"
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id serial PRIMARY KEY, email text NOT NULL, card text);
CREATE VIEW shop.emails AS SELECT id, email FROM shop.customers;
GRANT USAGE ON SCHEMA shop TO {app}, {reader};
GRANT SELECT, INSERT, UPDATE ON shop.customers TO {app};
GRANT USAGE ON SEQUENCE shop.customers_id_seq TO {app};
GRANT SELECT (id, email) ON shop.customers TO {reader};
GRANT SELECT ON shop.emails TO {reader} WITH GRANT OPTION;
"#
    )
}

/// Whether `role` may do `privilege` on `object` (has_table_privilege /
/// has_column_privilege / has_schema_privilege, per `function`).
fn may(db: &PgDb, function: &str, role: &str, args: &str) -> bool {
    db.query_strings(&format!("SELECT {function}('{role}', {args})"))[0][0].as_deref() == Some("t")
}

#[test]
fn push_compare_revoke_and_pull() {
    let roles = Roles::new(&["app", "reader", "other"]);
    let (app, reader, other) = (&roles.0[0], &roles.0[1], &roles.0[2]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", &schema(app, reader));
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(may(
        &db,
        "has_table_privilege",
        app,
        "'shop.customers', 'INSERT'"
    ));
    assert!(!may(
        &db,
        "has_table_privilege",
        app,
        "'shop.customers', 'DELETE'"
    ));
    assert!(may(
        &db,
        "has_column_privilege",
        reader,
        "'shop.customers', 'email', 'SELECT'"
    ));
    assert!(!may(
        &db,
        "has_column_privilege",
        reader,
        "'shop.customers', 'card', 'SELECT'"
    ));
    assert!(may(
        &db,
        "has_table_privilege",
        reader,
        "'shop.emails', 'SELECT WITH GRANT OPTION'"
    ));
    assert!(may(
        &db,
        "has_sequence_privilege",
        app,
        "'shop.customers_id_seq', 'USAGE'"
    ));
    assert!(may(&db, "has_schema_privilege", reader, "'shop', 'USAGE'"));
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");

    // Someone grants a role the files never mention: not ferry's to revoke.
    db.execute(&format!("GRANT SELECT ON shop.customers TO {other}"))
        .unwrap();
    // The schema takes INSERT and UPDATE back from app and the grant option from reader.
    let narrower = schema(app, reader)
        .replace("SELECT, INSERT, UPDATE ON", "SELECT ON")
        .replace(" WITH GRANT OPTION", "");
    write_file(dir.path(), "schema.sql", &narrower);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert_eq!(
        out.stdout.trim(),
        format!(
            "REVOKE INSERT, UPDATE ON TABLE shop.customers FROM {app};\n\
             REVOKE GRANT OPTION FOR SELECT ON TABLE shop.emails FROM {reader};"
        ),
        "{out}"
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(!may(
        &db,
        "has_table_privilege",
        app,
        "'shop.customers', 'INSERT'"
    ));
    assert!(may(
        &db,
        "has_table_privilege",
        reader,
        "'shop.emails', 'SELECT'"
    ));
    assert!(!may(
        &db,
        "has_table_privilege",
        reader,
        "'shop.emails', 'SELECT WITH GRANT OPTION'"
    ));
    assert!(may(
        &db,
        "has_table_privilege",
        other,
        "'shop.customers', 'SELECT'"
    ));

    // Managing `other` too (ferry.toml) revokes what the files do not grant it.
    write_file(
        dir.path(),
        "ferry.toml",
        &format!("dialect = \"postgres\"\n\n[privileges]\nroles = [\"{app}\", \"{reader}\", \"{other}\"]\n"),
    );
    let out = ok(run_in(
        dir.path(),
        &["diff", "--from", &db.url, "--to", "schema.sql"],
    ));
    assert_eq!(
        out.stdout.trim(),
        format!("REVOKE SELECT ON TABLE shop.customers FROM {other};"),
        "{out}"
    );

    // Pulled back into an empty database, the privileges are the same.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let copy = PgDb::new();
    ok(run(&["push", "--url", &copy.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &copy.url, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(may(
        &copy,
        "has_table_privilege",
        other,
        "'shop.customers', 'SELECT'"
    ));
}

#[test]
fn a_view_recreated_by_a_migration_keeps_its_privileges() {
    let roles = Roles::new(&["app", "reader"]);
    let (app, reader) = (&roles.0[0], &roles.0[1]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let d: &Path = dir.path();
    write_file(
        d,
        "ferry.toml",
        &format!(
            "dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{}\"\n",
            db.url
        ),
    );
    write_file(d, "schema/s.sql", &schema(app, reader));
    ok(run_in(d, &["generate", "init", "--version", "1"]));
    // A type change under the view: it is dropped and created again.
    write_file(
        d,
        "schema/s.sql",
        &schema(app, reader).replace("email text NOT NULL", "email varchar(200) NOT NULL"),
    );
    ok(run_in(d, &["generate", "narrow_email", "--version", "2"]));
    let up = std::fs::read_to_string(d.join("migrations/2_narrow_email/up.sql")).unwrap();
    assert!(up.contains("DROP VIEW shop.emails"), "{up}");
    ok(run_in(d, &["migrate"]));
    assert!(may(
        &db,
        "has_table_privilege",
        reader,
        "'shop.emails', 'SELECT WITH GRANT OPTION'"
    ));
    let out = run_in(
        d,
        &["diff", "--from", &db.url, "--to", "schema", "--exit-code"],
    );
    assert_eq!(out.code, 0, "{out}");
    ok(run_in(d, &["rollback", "--force"]));
    assert!(may(
        &db,
        "has_table_privilege",
        reader,
        "'shop.emails', 'SELECT'"
    ));
}

#[test]
fn grants_on_unknown_objects_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (a int);\n\nGRANT SELECT ON missing TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr
            .contains("schema.sql:3:17: GRANT on unknown table, view or sequence public.missing"),
        "{out}"
    );
    write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (a int);\nGRANT USAGE ON t TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr
            .contains("invalid privilege type USAGE for table"),
        "{out}"
    );
}

fn routines(app: &str, reader: &str) -> String {
    format!(
        r#"
CREATE SCHEMA api;
CREATE FUNCTION api.add(a integer, b integer) RETURNS integer LANGUAGE sql AS $$ SELECT a + b $$;
CREATE FUNCTION api.open_fn() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE PROCEDURE api.reset() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE TYPE api.mood AS ENUM ('ok', 'meh');
CREATE DOMAIN api.pos AS integer CHECK (VALUE > 0);
CREATE TYPE api.pair AS (a int, b int);
GRANT USAGE ON SCHEMA api TO {app}, {reader};
REVOKE EXECUTE ON FUNCTION api.add(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.add(int, int) TO {app};
REVOKE ALL ON PROCEDURE api.reset FROM PUBLIC;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA api TO {app} WITH GRANT OPTION;
REVOKE USAGE ON TYPE api.mood FROM PUBLIC;
GRANT USAGE ON TYPE api.mood, api.pair TO {app};
GRANT USAGE ON DOMAIN api.pos TO {reader};
"#
    )
}

#[test]
fn execute_and_usage_on_functions_procedures_and_types() {
    let roles = Roles::new(&["app", "reader"]);
    let (app, reader) = (&roles.0[0], &roles.0[1]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", &routines(app, reader));

    // From an empty database: the REVOKE from PUBLIC is planned; the default is not granted.
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout
            .contains("REVOKE EXECUTE ON FUNCTION api.add(integer, integer) FROM PUBLIC;"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "GRANT EXECUTE ON PROCEDURE api.reset() TO {app} WITH GRANT OPTION;"
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("GRANT USAGE ON DOMAIN api.pos TO {reader};")),
        "{out}"
    );
    assert!(!out.stdout.contains("api.open_fn() TO PUBLIC"), "{out}");
    assert!(!out.stdout.contains("TYPE api.pair TO PUBLIC"), "{out}");

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let fp = "has_function_privilege";
    assert!(may(&db, fp, app, "'api.add(integer, integer)', 'EXECUTE'"));
    assert!(!may(
        &db,
        fp,
        reader,
        "'api.add(integer, integer)', 'EXECUTE'"
    ));
    assert!(may(&db, fp, reader, "'api.open_fn()', 'EXECUTE'"));
    assert!(may(
        &db,
        fp,
        app,
        "'api.reset()', 'EXECUTE WITH GRANT OPTION'"
    ));
    assert!(!may(&db, fp, reader, "'api.reset()', 'EXECUTE'"));
    let tp = "has_type_privilege";
    assert!(may(&db, tp, app, "'api.mood', 'USAGE'"));
    assert!(!may(&db, tp, reader, "'api.mood', 'USAGE'"));
    assert!(may(&db, tp, reader, "'api.pos', 'USAGE'"));
    assert!(may(&db, tp, reader, "'api.pair', 'USAGE'"));
    // The roles really can (or cannot) call it.
    let call = |role: &str| {
        db.execute(&format!(
            "SET ROLE {role}; SELECT api.add(1, 2); RESET ROLE"
        ))
    };
    assert!(call(app).is_ok());
    assert!(call(reader).is_err());
    db.execute("RESET ROLE").unwrap();

    for (from, to) in [(&db.url, &file), (&file, &db.url)] {
        let out = run(&["diff", "--from", from, "--to", to, "--exit-code"]);
        assert_eq!(out.code, 0, "{out}");
    }

    // PUBLIC gets EXECUTE on add back when the files stop revoking it.
    write_file(
        dir.path(),
        "schema.sql",
        &routines(app, reader).replace(
            "REVOKE EXECUTE ON FUNCTION api.add(integer, integer) FROM PUBLIC;",
            "",
        ),
    );
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert_eq!(
        out.stdout.trim(),
        "GRANT EXECUTE ON FUNCTION api.add(integer, integer) TO PUBLIC;",
        "{out}"
    );
    write_file(dir.path(), "schema.sql", &routines(app, reader));

    // Pulled back into an empty database, the privileges are the same.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let copy = PgDb::new();
    ok(run(&["push", "--url", &copy.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &copy.url, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    let out = run(&["diff", "--from", &copy.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(!may(
        &copy,
        fp,
        reader,
        "'api.add(integer, integer)', 'EXECUTE'"
    ));
    assert!(may(
        &copy,
        fp,
        app,
        "'api.reset()', 'EXECUTE WITH GRANT OPTION'"
    ));
    assert!(!may(&copy, tp, reader, "'api.mood', 'USAGE'"));
}

#[test]
fn a_recreated_function_and_domain_keep_their_privileges() {
    let roles = Roles::new(&["app", "reader"]);
    let (app, reader) = (&roles.0[0], &roles.0[1]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let v1 = routines(app, reader);
    let file = write_file(dir.path(), "schema.sql", &v1);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    // A new result type: the function is dropped and created again; so is the domain whose
    // base type changes.
    let v2 = v1
        .replace(
            "api.add(a integer, b integer) RETURNS integer",
            "api.add(a integer, b integer) RETURNS bigint",
        )
        .replace("api.pos AS integer", "api.pos AS bigint");
    write_file(dir.path(), "schema.sql", &v2);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout
            .contains("DROP FUNCTION api.add(integer, integer);"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("REVOKE EXECUTE ON FUNCTION api.add(integer, integer) FROM PUBLIC;"),
        "{out}"
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let fp = "has_function_privilege";
    assert!(may(&db, fp, app, "'api.add(integer, integer)', 'EXECUTE'"));
    assert!(!may(
        &db,
        fp,
        reader,
        "'api.add(integer, integer)', 'EXECUTE'"
    ));
    assert!(may(&db, "has_type_privilege", reader, "'api.pos', 'USAGE'"));
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
}

#[test]
fn public_default_is_compared_only_when_public_is_managed() {
    let roles = Roles::new(&["app"]);
    let app = &roles.0[0];
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        &format!(
            "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;\n\
             CREATE TYPE t AS ENUM ('a');\n\
             GRANT EXECUTE ON FUNCTION f() TO {app};\n"
        ),
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    // A DBA takes PUBLIC's default away; the files say nothing about PUBLIC.
    db.execute("REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC; REVOKE USAGE ON TYPE t FROM PUBLIC")
        .unwrap();
    for (from, to) in [(&db.url, &file), (&file, &db.url)] {
        let out = run(&["diff", "--from", from, "--to", to, "--exit-code"]);
        assert_eq!(out.code, 0, "{out}");
    }
    // Managing PUBLIC (ferry.toml) gives the default back.
    write_file(
        dir.path(),
        "ferry.toml",
        &format!("dialect = \"postgres\"\n\n[privileges]\nroles = [\"{app}\", \"public\"]\n"),
    );
    let out = ok(run_in(
        dir.path(),
        &["diff", "--from", &db.url, "--to", "schema.sql"],
    ));
    assert_eq!(
        out.stdout.trim(),
        "GRANT EXECUTE ON FUNCTION public.f() TO PUBLIC;\n\
         GRANT USAGE ON TYPE public.t TO PUBLIC;",
        "{out}"
    );
}

#[test]
fn grants_on_unknown_functions_and_types_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;\n\
         GRANT EXECUTE ON FUNCTION f(text) TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr
            .contains("schema.sql:2:27: GRANT on unknown function public.f"),
        "{out}"
    );
    write_file(
        dir.path(),
        "schema.sql",
        "CREATE TYPE t AS ENUM ('a');\nGRANT USAGE ON DOMAIN t TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr
            .contains("schema.sql:2:23: GRANT on unknown domain public.t"),
        "{out}"
    );
    write_file(
        dir.path(),
        "schema.sql",
        "CREATE TYPE t AS ENUM ('a');\nGRANT SELECT ON TYPE t TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr
            .contains("invalid privilege type SELECT for type"),
        "{out}"
    );
}
