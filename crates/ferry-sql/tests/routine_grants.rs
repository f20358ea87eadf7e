//! Loading privileges on functions, procedures and types: PUBLIC's default, REVOKE,
//! `ALL FUNCTIONS IN SCHEMA`, CREATE OR REPLACE, replayed DROP and RENAME, and errors.

use ferry_core::*;
use ferry_sql::{load_str, replay};

struct Plain;

impl Dialect for Plain {
    fn kind(&self) -> DialectKind {
        DialectKind::Postgres
    }
    fn default_namespace(&self) -> &'static str {
        "public"
    }
    fn canonical_type(&self, written: &str) -> String {
        match written.to_ascii_lowercase().as_str() {
            "int" | "int4" => "integer".into(),
            other => other.into(),
        }
    }
    fn implicit_name(&self, _: ImplicitName, table: &str, _: &[String]) -> String {
        format!("{table}_key")
    }
    fn plan(&self, _: &Schema, _: &Schema, _: &[Change]) -> Result<Plan, PlanError> {
        Ok(Plan::default())
    }
    fn render_schema(&self, _: &Schema) -> Vec<(String, String)> {
        Vec::new()
    }
}

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

fn id(schema: &str, name: &str, args: &[&str]) -> FunctionId {
    FunctionId {
        name: QualifiedName::new(schema, name),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

const ROUTINES: &str = "CREATE SCHEMA s;\n\
    CREATE FUNCTION s.f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;\n\
    CREATE FUNCTION s.f(a text) RETURNS text LANGUAGE sql AS $$ SELECT a $$;\n\
    CREATE PROCEDURE s.p() LANGUAGE sql AS $$ SELECT 1 $$;\n\
    CREATE FUNCTION other() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n";

#[test]
fn functions_start_with_public_execute_and_all_functions_skips_procedures() {
    let s = load(&format!(
        "{ROUTINES}\
         GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA s TO app;\n\
         REVOKE ALL PRIVILEGES ON FUNCTION s.f(integer) FROM public;\n\
         GRANT ALL ON ROUTINE s.p TO app WITH GRANT OPTION;\n"
    ));
    assert!(s.opaque.is_empty(), "{:?}", s.opaque);
    let grants = |id: FunctionId| s.functions[&id].grants.clone();
    assert_eq!(
        grants(id("s", "f", &["integer"])),
        [g("app", "EXECUTE", false)].into()
    );
    assert_eq!(
        grants(id("s", "f", &["text"])),
        [g("app", "EXECUTE", false), g(PUBLIC, "EXECUTE", false)].into()
    );
    assert_eq!(
        grants(id("s", "p", &[])),
        [g("app", "EXECUTE", true), g(PUBLIC, "EXECUTE", false)].into()
    );
    assert_eq!(
        grants(id("public", "other", &[])),
        function_default_grants()
    );
    // PUBLIC's default alone does not make PUBLIC a managed role; its revoke does.
    assert!(s.grantees().contains(PUBLIC));
    let plain = load(ROUTINES);
    assert!(plain.grantees().is_empty());
}

#[test]
fn types_and_domains_start_with_public_usage() {
    let s = load(
        "CREATE TYPE mood AS ENUM ('a');\n\
         CREATE DOMAIN pos AS int CHECK (VALUE > 0);\n\
         CREATE TYPE pair AS (a int, b int);\n\
         REVOKE USAGE ON TYPE mood, pair FROM PUBLIC;\n\
         GRANT USAGE ON DOMAIN pos TO app;\n",
    );
    let name = |n: &str| QualifiedName::new("public", n);
    assert!(s.enums[&name("mood")].grants.is_empty());
    assert!(s.composite_types[&name("pair")].grants.is_empty());
    assert_eq!(
        s.domains[&name("pos")].grants,
        [g("app", "USAGE", false), g(PUBLIC, "USAGE", false)].into()
    );
}

#[test]
fn unmanaged_roles_keep_their_default() {
    let mut s = load(&format!(
        "{ROUTINES}REVOKE EXECUTE ON FUNCTION other() FROM PUBLIC;\n\
         GRANT EXECUTE ON FUNCTION other() TO dba;\n"
    ));
    s.retain_grants(|r| r == "app");
    // PUBLIC is not managed: taken to hold its default; dba's grant is dropped.
    assert_eq!(
        s.functions[&id("public", "other", &[])].grants,
        function_default_grants()
    );
}

#[test]
fn replace_keeps_and_drop_forgets_privileges() {
    let s = replay(
        [
            (
                "1.sql",
                "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;\n\
                 REVOKE EXECUTE ON FUNCTION f(int) FROM PUBLIC;\n\
                 GRANT EXECUTE ON FUNCTION f TO app;\n",
            ),
            (
                "2.sql",
                "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a + 1 $$;\n\
                 ALTER FUNCTION f(int) RENAME TO g;\n",
            ),
        ],
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.functions[&id("public", "g", &["integer"])].grants,
        [g("app", "EXECUTE", false)].into()
    );
    let s = replay(
        [
            (
                "1.sql",
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n\
                 REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;\n",
            ),
            (
                "2.sql",
                "DROP FUNCTION f();\n\
                 CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n",
            ),
        ],
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.functions[&id("public", "f", &[])].grants,
        function_default_grants()
    );
}

#[test]
fn bad_routine_grants_name_the_place() {
    let error = |sql: &str| match load_str(sql, "test.sql", &Plain) {
        Ok(_) => panic!("loaded: {sql}"),
        Err(e) => e.to_string(),
    };
    let e = error(&format!(
        "{ROUTINES}GRANT EXECUTE ON FUNCTION s.f TO app;\n"
    ));
    assert!(
        e.contains("test.sql:6:27") && e.contains("function name s.f is not unique"),
        "{e}"
    );
    let e = error(&format!(
        "{ROUTINES}GRANT USAGE ON FUNCTION other() TO app;\n"
    ));
    assert!(
        e.contains("invalid privilege type USAGE for function"),
        "{e}"
    );
    let e = error(&format!(
        "{ROUTINES}GRANT EXECUTE (a) ON FUNCTION other() TO app;\n"
    ));
    assert!(
        e.contains("column privileges are only valid for tables"),
        "{e}"
    );
}
