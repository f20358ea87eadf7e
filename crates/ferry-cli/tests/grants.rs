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
    let out = run(&[
        "diff",
        "--from",
        &file,
        "--to",
        &file,
        "--dialect",
        "postgres",
    ]);
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
    let out = run(&[
        "diff",
        "--from",
        &file,
        "--to",
        &file,
        "--dialect",
        "postgres",
    ]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr
            .contains("invalid privilege type USAGE for table"),
        "{out}"
    );
}
