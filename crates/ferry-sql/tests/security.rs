//! Loading policies, row level security, extensions and composite types: parsed forms,
//! canonical values, and errors that point into the file.

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
        written.to_string()
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

fn error(sql: &str) -> String {
    match load_str(sql, "test.sql", &Plain) {
        Ok(_) => panic!("loaded: {sql}"),
        Err(e) => e.to_string(),
    }
}

fn docs(s: &Schema) -> &Table {
    &s.tables[&QualifiedName::new("public", "docs")]
}

#[test]
fn policies_and_row_level_security() {
    let s = load(
        "CREATE TABLE Docs (id int, owner text);\n\
         CREATE POLICY Zed ON docs AS RESTRICTIVE FOR delete TO Bob, \"Alice\", bob USING (owner = current_user);\n\
         CREATE POLICY all_in ON docs TO alice, PUBLIC WITH CHECK (true) USING (id > 0);\n\
         CREATE POLICY plain ON public.docs;\n\
         ALTER TABLE ONLY docs ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\n\
         ALTER TABLE docs NO FORCE ROW LEVEL SECURITY;\n\
         COMMENT ON POLICY plain ON docs IS 'nothing';\n",
    );
    assert!(s.opaque.is_empty(), "{:#?}", s.opaque);
    let t = docs(&s);
    assert!(t.row_security && !t.force_row_security);
    let names: Vec<&str> = t.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["all_in", "plain", "zed"]);
    let zed = &t.policies[2];
    assert!(!zed.permissive);
    assert_eq!(zed.command, PolicyCommand::Delete);
    assert_eq!(zed.roles, ["Alice", "bob"]);
    assert_eq!(zed.using.as_ref().unwrap().sql, "owner = current_user");
    assert!(zed.with_check.is_none());
    let all_in = &t.policies[0];
    assert_eq!(all_in.roles, ["public"]);
    assert_eq!(all_in.command, PolicyCommand::All);
    assert!(all_in.using.is_some() && all_in.with_check.is_some());
    assert_eq!(t.policies[1], {
        let mut p = Policy::new("plain");
        p.comment = Some("nothing".into());
        p
    });
}

#[test]
fn policy_expressions_compare_with_the_server_spelling() {
    let a = load(
        "CREATE TABLE docs (id int, t bigint);\n\
         CREATE POLICY p ON docs USING (t IN (SELECT id FROM docs WHERE id::text = current_setting('x', true)::text));",
    );
    let b = load(
        "CREATE TABLE docs (id int, t bigint);\n\
         CREATE POLICY p ON docs USING ((t IN ( SELECT docs.id FROM docs WHERE ((docs.id)::text = current_setting('x'::text, true)))));",
    );
    assert_eq!(docs(&a).policies, docs(&b).policies);
    let c = load(
        "CREATE TABLE docs (id int, t bigint);\n\
         CREATE POLICY p ON docs USING (t IN (SELECT id FROM docs WHERE id::text = 'y'));",
    );
    assert_ne!(docs(&a).policies, docs(&c).policies);
}

#[test]
fn policy_errors_point_at_the_statement() {
    let e = error("CREATE TABLE docs (id int);\nCREATE POLICY p ON docs AS SOMETIMES;");
    assert!(e.contains("test.sql:2:"), "{e}");
    assert!(e.contains("PERMISSIVE or RESTRICTIVE"), "{e}");
    let e = error("CREATE TABLE docs (id int);\nCREATE POLICY p ON docs FOR TRUNCATE;");
    assert!(e.contains("ALL, SELECT, INSERT, UPDATE or DELETE"), "{e}");
    let e =
        error("CREATE TABLE docs (id int);\nCREATE POLICY p ON docs;\nCREATE POLICY p ON docs;");
    assert!(e.contains("test.sql:3:15"), "{e}");
    assert!(
        e.contains("policy p for table public.docs already exists"),
        "{e}"
    );
    let e = error("CREATE TABLE docs (id int);\nCOMMENT ON POLICY nope ON docs IS 'x';");
    assert!(e.contains("unknown policy nope"), "{e}");
    let e = error("CREATE TABLE docs (id int);\nCREATE POLICY p ON docs USING (id > 0;");
    assert!(e.contains("test.sql:2:"), "{e}");
}

#[test]
fn extensions() {
    let s = load(
        "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA ext VERSION '1.1' CASCADE;\n\
         CREATE EXTENSION citext SCHEMA public;\n\
         CREATE EXTENSION IF NOT EXISTS citext;\n\
         CREATE EXTENSION plpgsql;\n\
         COMMENT ON EXTENSION citext IS 'emails';\n",
    );
    assert!(s.opaque.is_empty(), "{:#?}", s.opaque);
    assert_eq!(
        s.extensions.values().cloned().collect::<Vec<_>>(),
        [
            Extension {
                name: "citext".into(),
                schema: None,
                comment: Some("emails".into())
            },
            Extension {
                name: "uuid-ossp".into(),
                schema: Some("ext".into()),
                comment: None
            },
        ]
    );
    let e = error("CREATE EXTENSION citext;\nCREATE EXTENSION citext;");
    assert!(e.contains("test.sql:2:18"), "{e}");
    assert!(e.contains("extension citext already exists"), "{e}");
}

#[test]
fn composite_types() {
    let s = load(
        "CREATE TYPE app.pair AS (a int, b varchar(10) COLLATE \"C\", c text COLLATE \"default\");\n\
         COMMENT ON TYPE app.pair IS 'two';\n",
    );
    assert!(s.opaque.is_empty(), "{:#?}", s.opaque);
    let t = &s.composite_types[&QualifiedName::new("app", "pair")];
    assert_eq!(t.comment.as_deref(), Some("two"));
    let attrs: Vec<(&str, &str, Option<&str>)> = t
        .attributes
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.data_type.as_str(),
                a.collation.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        attrs,
        [
            ("a", "int", None),
            ("b", "varchar(10)", Some("C")),
            ("c", "text", None)
        ]
    );
    let e = error("CREATE TYPE p AS (a int);\nCREATE TYPE p AS (b int);");
    assert!(e.contains("type public.p already exists"), "{e}");
}

#[test]
fn replayed_forms() {
    let s = replay(
        [(
            "up.sql",
            "CREATE TABLE docs (id int);\n\
             CREATE POLICY p ON docs USING (true);\n\
             ALTER POLICY p ON docs RENAME TO q;\n\
             ALTER POLICY q ON docs TO alice WITH CHECK (id > 0);\n\
             ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE docs DISABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE docs RENAME COLUMN id TO n;\n\
             CREATE EXTENSION a;\nCREATE EXTENSION b;\nDROP EXTENSION a, b;\n\
             CREATE TYPE t AS (x int, y int);\n\
             ALTER TYPE t DROP ATTRIBUTE x, ADD ATTRIBUTE z text;\n\
             ALTER TYPE t RENAME ATTRIBUTE y TO w;\n\
             CREATE TYPE gone AS (x int);\nDROP TYPE gone;\n",
        )],
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.opaque.is_empty(), "{:#?}", s.opaque);
    let expected = load(
        "CREATE TABLE docs (n int);\n\
         CREATE POLICY q ON docs TO alice USING (true) WITH CHECK (n > 0);\n\
         CREATE TYPE t AS (w int, z text);\n",
    );
    assert_eq!(s, expected);
    let e = replay(
        [(
            "up.sql",
            "CREATE TABLE docs (id int);\nDROP POLICY p ON docs;",
        )],
        &Plain,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("up.sql:2:13"), "{e}");
    let e = replay([("up.sql", "DROP EXTENSION nope;")], &Plain)
        .unwrap_err()
        .to_string();
    assert!(e.contains("extension nope does not exist"), "{e}");
}
