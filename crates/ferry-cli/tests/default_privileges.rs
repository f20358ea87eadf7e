//! `ALTER DEFAULT PRIVILEGES` through the binary on real PostgreSQL: pushed, compared,
//! changed, revoked (a built-in default too), pulled back, applied by the server to objects
//! created later, and carried by generated migrations.

mod common;

use std::path::Path;

use common::*;

fn schema(app: &str, reader: &str) -> String {
    format!(
        r#"
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY);
GRANT USAGE ON SCHEMA shop TO {app};
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO {app};
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO {app}, {reader} WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON ROUTINES TO {app};
ALTER DEFAULT PRIVILEGES FOR ROLE {reader} IN SCHEMA shop GRANT SELECT, UPDATE ON TABLES TO {app};
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO {reader};
"#
    )
}

/// `pg_default_acl` as `role|schema|type|acl` lines, the connecting role written `me`.
fn default_acl(db: &PgDb) -> Vec<String> {
    db.query_strings(
        "SELECT CASE WHEN d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
                THEN 'me' ELSE pg_get_userbyid(d.defaclrole)::text END \
                || '|' || coalesce(n.nspname, '') || '|' || d.defaclobjtype::text || '|' \
                || array_to_string(ARRAY(SELECT x::text FROM unnest(d.defaclacl) x \
                   WHERE x::text NOT LIKE (SELECT rolname FROM pg_roles WHERE oid = d.defaclrole) || '=%' ORDER BY 1), ',') \
         FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace ",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap_or_default())
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect()
}

fn may(db: &PgDb, function: &str, role: &str, args: &str) -> bool {
    db.query_strings(&format!("SELECT {function}('{role}', {args})"))[0][0].as_deref() == Some("t")
}

#[test]
fn push_compare_change_revoke_and_pull() {
    let roles = Roles::new(&["app", "reader"]);
    let (app, reader) = (&roles.0[0], &roles.0[1]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", &schema(app, reader));
    assert_eq!(read_pg_file(&file, &["--exit-code"]).code, 0);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    let mut expected = vec![
        format!("me||S|{app}=U*/{0},{reader}=U*/{0}", me(&db)),
        format!("me||f|{app}=X/{}", me(&db)),
        format!("me||n|{reader}=U/{}", me(&db)),
        format!("me|shop|r|{app}=r/{}", me(&db)),
        format!("{reader}|shop|r|{app}=rw/{reader}"),
    ];
    expected.sort();
    assert_eq!(default_acl(&db), expected);

    // The server applies them to what is created afterwards.
    db.execute(
        "CREATE TABLE shop.later (id serial); CREATE FUNCTION shop.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    )
    .unwrap();
    assert!(may(
        &db,
        "has_table_privilege",
        app,
        "'shop.later', 'SELECT'"
    ));
    assert!(!may(
        &db,
        "has_table_privilege",
        app,
        "'shop.later', 'INSERT'"
    ));
    assert!(may(
        &db,
        "has_sequence_privilege",
        reader,
        "'shop.later_id_seq', 'USAGE WITH GRANT OPTION'"
    ));
    assert!(may(
        &db,
        "has_function_privilege",
        app,
        "'shop.f()', 'EXECUTE'"
    ));
    assert!(!may(
        &db,
        "has_function_privilege",
        reader,
        "'shop.f()', 'EXECUTE'"
    ));
    db.execute("DROP TABLE shop.later; DROP FUNCTION shop.f()")
        .unwrap();

    // Changed: one privilege more, an entry gone, and the PUBLIC revoke gone: PUBLIC is
    // then no longer managed (no file mentions it), so what it holds is left alone.
    let changed = schema(app, reader)
        .replace("GRANT SELECT ON TABLES", "GRANT SELECT, INSERT ON TABLES")
        .replace("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;\n", "")
        .replace(&format!("ALTER DEFAULT PRIVILEGES FOR ROLE {reader} IN SCHEMA shop GRANT SELECT, UPDATE ON TABLES TO {app};\n"), "");
    write_file(dir.path(), "schema.sql", &changed);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert_eq!(
        out.stdout.trim(),
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT INSERT ON TABLES TO {app};\n\
             ALTER DEFAULT PRIVILEGES FOR ROLE {reader} IN SCHEMA shop REVOKE SELECT, UPDATE ON TABLES FROM {app};"
        ),
        "{out}"
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    let acl = default_acl(&db);
    assert!(
        acl.contains(&format!("me||f|{app}=X/{0}", me(&db))),
        "{acl:?}"
    );
    assert!(
        acl.contains(&format!("me|shop|r|{app}=ar/{}", me(&db))),
        "{acl:?}"
    );
    assert_eq!(acl.len(), 4, "{acl:?}");

    // Pulled back into an empty database, the default privileges are the same.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let text = std::fs::read_to_string(Path::new(&pulled).join("schema.sql")).unwrap();
    assert!(
        text.contains("ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT INSERT, SELECT ON TABLES TO"),
        "{text}"
    );
    let out = run(&["diff", "--from", &db.url, "--to", &pulled, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    let copy = PgDb::new();
    ok(run(&["push", "--url", &copy.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &copy.url, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(default_acl(&copy), default_acl(&db));
}

/// The connecting role's name.
fn me(db: &PgDb) -> String {
    db.query_strings("SELECT current_user::text")[0][0]
        .clone()
        .unwrap()
}

#[test]
fn a_revoked_builtin_default_round_trips_and_comes_back() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let text = "CREATE TABLE t (id int);\nALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;\nALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM public;\n";
    let file = write_file(dir.path(), "schema.sql", text);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(
        default_acl(&db),
        vec!["me||T|".to_string(), "me||f|".to_string()]
    );
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    // A function created later is not executable by PUBLIC.
    db.execute("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        .unwrap();
    let acl = db.query_strings("SELECT proacl::text FROM pg_proc WHERE proname = 'f'");
    let acl = acl[0][0].clone().unwrap_or_default();
    assert!(!acl.contains("{=X") && !acl.contains(",=X"), "{acl}");
    db.execute("DROP FUNCTION f()").unwrap();

    write_file(dir.path(), "schema.sql", "CREATE TABLE t (id int);\n");
    // PUBLIC is no longer managed unless ferry.toml says so.
    write_file(
        dir.path(),
        "ferry.toml",
        "dialect = \"postgres\"\n\n[privileges]\nroles = [\"public\"]\n",
    );
    let out = ok(run_in(
        dir.path(),
        &["diff", "--from", &db.url, "--to", "schema.sql"],
    ));
    assert_eq!(
        out.stdout.trim(),
        "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;\n\
         ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO PUBLIC;",
        "{out}"
    );
    ok(run_in(
        dir.path(),
        &["push", "--url", &db.url, "--schema", "schema.sql"],
    ));
    assert!(default_acl(&db).is_empty(), "{:?}", default_acl(&db));
}

#[test]
fn generated_migrations_carry_default_privileges() {
    let roles = Roles::new(&["app"]);
    let app = &roles.0[0];
    let db = PgDb::new();
    let dir = pg_project(&db.url);
    let d: &Path = dir.path();
    let v1 = format!(
        "CREATE SCHEMA shop;\n\
         ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO {app};\n\
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;\n\
         CREATE TABLE shop.orders (id int);\n"
    );
    write_file(d, "schema/s.sql", &v1);
    ok(run_in(d, &["generate", "init", "--version", "1"]));
    let up = std::fs::read_to_string(d.join("migrations/1_init/up.sql")).unwrap();
    // The table declared after the default privileges holds them; the plan grants it
    // before changing the defaults.
    let grant = up
        .find(&format!("GRANT SELECT ON TABLE shop.orders TO {app}"))
        .expect(&up);
    let defaults = up
        .find("ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES")
        .expect(&up);
    assert!(grant < defaults, "{up}");
    // A table added later gets the grant from the server, not from the migration.
    let v2 = format!(
        "{v1}CREATE TABLE shop.items (id int);\n\
         ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT INSERT ON TABLES TO {app};\n"
    );
    write_file(d, "schema/s.sql", &v2);
    ok(run_in(d, &["generate", "items", "--version", "2"]));
    let up = std::fs::read_to_string(d.join("migrations/2_items/up.sql")).unwrap();
    assert!(!up.contains("GRANT SELECT ON TABLE shop.items"), "{up}");
    assert!(
        up.contains(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT INSERT ON TABLES TO {app}"
        )),
        "{up}"
    );
    // Nothing left to generate: the replayed migrations equal the files.
    assert_generates_nothing(d);
    ok(run_in(d, &["migrate"]));
    assert!(may(
        &db,
        "has_table_privilege",
        app,
        "'shop.items', 'SELECT'"
    ));
    let out = run_in(
        d,
        &["diff", "--from", &db.url, "--to", "schema", "--exit-code"],
    );
    assert_eq!(out.code, 0, "{out}");
    ok(run_in(d, &["rollback", "--force"]));
    assert_eq!(
        default_acl(&db),
        vec![
            format!("me|shop|r|{app}=r/{}", me(&db)),
            "me||f|".to_string()
        ]
    );
    ok(run_in(d, &["rollback", "--force"]));
    assert!(default_acl(&db).is_empty(), "{:?}", default_acl(&db));
}

#[test]
fn bad_default_privileges_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (a int);\nALTER DEFAULT PRIVILEGES GRANT EXECUTE ON TABLES TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr.contains("schema.sql:2:")
            && out
                .stderr
                .contains("invalid privilege type EXECUTE for table"),
        "{out}"
    );
    write_file(
        dir.path(),
        "schema.sql",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT USAGE ON SCHEMAS TO someone;\n",
    );
    let out = read_pg_file(&file, &[]);
    assert_eq!(out.code, 5, "{out}");
    assert!(out.stderr.contains("IN SCHEMA"), "{out}");
}

#[test]
fn for_role_naming_the_connecting_role_is_the_same_entry() {
    let roles = Roles::new(&["app"]);
    let app = &roles.0[0];
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "CREATE TABLE t (id int);\nALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT SELECT ON TABLES TO {app};\n",
        me(&db)
    );
    let file = write_file(dir.path(), "schema.sql", &text);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(default_acl(&db), vec![format!("me||r|{app}=r/{}", me(&db))]);
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "{out}");
}
