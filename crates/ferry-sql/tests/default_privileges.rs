//! Loading `ALTER DEFAULT PRIVILEGES`: the multi-role and multi-schema forms, ROUTINES,
//! revoking a built-in default, objects created afterwards, replayed schema drops and
//! renames, and errors.

mod common;

use common::Plain;
use ferry_core::*;
use ferry_sql::{load_str, replay};

fn load(sql: &str) -> Schema {
    load_str(sql, "test.sql", &Plain).unwrap_or_else(|e| panic!("{e}"))
}

fn g(grantee: &str, privilege: &str, grantable: bool) -> Grant {
    Grant {
        grantee: grantee.into(),
        privilege: privilege.into(),
        grantable,
    }
}

fn key(
    role: Option<&str>,
    schema: Option<&str>,
    object_type: DefaultObjectType,
) -> DefaultPrivilegeKey {
    DefaultPrivilegeKey {
        for_role: role.map(str::to_string),
        schema: schema.map(str::to_string),
        object_type,
    }
}

#[test]
fn forms_expand_per_role_schema_and_type() {
    let s = load(
        "CREATE SCHEMA a; CREATE SCHEMA b;
         ALTER DEFAULT PRIVILEGES FOR ROLE r1, \"R2\" IN SCHEMA a, b GRANT SELECT, insert ON TABLES TO app, public;
         ALTER DEFAULT PRIVILEGES IN SCHEMA a FOR USER r1 REVOKE INSERT ON TABLES FROM public;
         ALTER DEFAULT PRIVILEGES GRANT ALL ON ROUTINES TO app WITH GRANT OPTION;
         ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;
         ALTER DEFAULT PRIVILEGES GRANT ALL PRIVILEGES ON SEQUENCES TO app;
         ALTER DEFAULT PRIVILEGES REVOKE GRANT OPTION FOR EXECUTE ON FUNCTIONS FROM app;",
    );
    let tables = |role, schema| {
        s.default_privileges
            .get(&key(Some(role), Some(schema), DefaultObjectType::Tables))
    };
    let both: Grants = [
        g("app", "SELECT", false),
        g("app", "INSERT", false),
        g("PUBLIC", "SELECT", false),
        g("PUBLIC", "INSERT", false),
    ]
    .into();
    assert_eq!(tables("R2", "a"), Some(&both));
    assert_eq!(tables("R2", "b"), Some(&both));
    assert_eq!(tables("r1", "b"), Some(&both));
    let mut revoked = both.clone();
    revoked.remove(&g("PUBLIC", "INSERT", false));
    assert_eq!(tables("r1", "a"), Some(&revoked));
    // PUBLIC keeps its built-in EXECUTE; app's grant option went.
    assert_eq!(
        s.default_privileges
            .get(&key(None, None, DefaultObjectType::Functions)),
        Some(&[g("PUBLIC", "EXECUTE", false), g("app", "EXECUTE", false)].into())
    );
    // A revoked built-in default is an entry without it.
    assert_eq!(
        s.default_privileges
            .get(&key(None, None, DefaultObjectType::Types)),
        Some(&Grants::new())
    );
    assert_eq!(
        s.default_privileges
            .get(&key(None, None, DefaultObjectType::Sequences))
            .map(|g| g.len()),
        Some(3)
    );
    assert_eq!(s.default_privileges.len(), 7);
    assert!(s.opaque.is_empty());
}

#[test]
fn an_entry_back_at_its_baseline_is_gone() {
    let s = load(
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
         ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM app;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    );
    assert!(
        s.default_privileges.is_empty(),
        "{:?}",
        s.default_privileges
    );
}

#[test]
fn objects_created_afterwards_get_them() {
    let s = load(
        "CREATE TABLE before (id int);
         ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO app;
         ALTER DEFAULT PRIVILEGES FOR ROLE other GRANT DELETE ON TABLES TO app;
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
         CREATE TABLE after (id int);
         CREATE VIEW v AS SELECT 1 AS one;
         CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE TYPE mood AS ENUM ('ok');
         REVOKE INSERT ON after FROM app;",
    );
    let t = |n: &str| &s.tables[&QualifiedName::new("public", n)];
    assert!(t("before").grants.is_empty());
    assert_eq!(t("after").grants, [g("app", "SELECT", false)].into());
    assert_eq!(
        s.views[&QualifiedName::new("public", "v")].grants,
        [g("app", "SELECT", false), g("app", "INSERT", false)].into()
    );
    let f = s.functions.values().next().unwrap();
    assert!(f.grants.is_empty(), "{:?}", f.grants);
    assert_eq!(
        s.enums.values().next().unwrap().grants,
        type_default_grants()
    );
}

#[test]
fn replayed_schema_drops_and_renames_take_their_entries() {
    let s = replay(
        [(
            "1.sql",
            "CREATE SCHEMA a; CREATE SCHEMA b;
             ALTER DEFAULT PRIVILEGES IN SCHEMA a GRANT SELECT ON TABLES TO app;
             ALTER DEFAULT PRIVILEGES IN SCHEMA b GRANT SELECT ON TABLES TO app;
             DROP SCHEMA a;
             ALTER SCHEMA b RENAME TO c;
             CREATE TABLE c.t (id int);",
        )],
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.default_privileges.keys().cloned().collect::<Vec<_>>(),
        vec![key(None, Some("c"), DefaultObjectType::Tables)]
    );
    assert_eq!(
        s.tables[&QualifiedName::new("c", "t")].grants,
        [g("app", "SELECT", false)].into()
    );
}

#[test]
fn unmodelled_forms_stay_opaque_and_errors_point_at_the_statement() {
    let s = load(
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON LARGE OBJECTS TO app;
         ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO CURRENT_USER;",
    );
    assert_eq!(s.opaque.len(), 2);
    for (sql, message) in [
        (
            "ALTER DEFAULT PRIVILEGES GRANT USAGE ON TABLES TO app",
            "invalid privilege type USAGE for table",
        ),
        (
            "ALTER DEFAULT PRIVILEGES GRANT SELECT (id) ON TABLES TO app",
            "cannot name columns",
        ),
        (
            "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT USAGE ON SCHEMAS TO app",
            "IN SCHEMA",
        ),
        (
            "\nALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES app",
            "test.sql:2:",
        ),
    ] {
        let e = load_str(sql, "test.sql", &Plain).unwrap_err().to_string();
        assert!(e.contains(message), "{sql}: {e}");
    }
}
