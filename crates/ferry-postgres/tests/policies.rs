//! Row level security, policies, extensions and composite types against a real server:
//! load(S) == inspect(apply(S)) over a corpus of policies in the shapes applications write,
//! pull round trips, planned changes applied, and replay of hand-written migrations.

mod common;

use common::{assert_same, load, plan, TestDb};
use ferry_core::{diff, Dialect, PolicyCommand, QualifiedName, Renames};
use ferry_postgres::POSTGRES;

const SCHEMA: &str = r#"
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA app;
CREATE TYPE app.money_amount AS (amount numeric(12,2), currency char(3));
CREATE TYPE pair AS (a int, b text COLLATE "C", tags text[], m app.money_amount);
COMMENT ON TYPE pair IS 'two things';
CREATE TABLE tenants (id bigint PRIMARY KEY, name citext NOT NULL, plan text);
CREATE TABLE app.docs (
  id bigint PRIMARY KEY,
  tenant_id bigint REFERENCES tenants,
  owner text NOT NULL,
  status varchar(10) DEFAULT 'draft',
  price app.money_amount,
  created_at timestamptz DEFAULT now()
);
ALTER TABLE app.docs ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_tenant ON app.docs
  USING (tenant_id = current_setting('app.tenant_id', true)::bigint);
CREATE POLICY tenant_text ON app.docs FOR SELECT
  USING (tenant_id::text = current_setting('app.tenant_id', true)::text);
CREATE POLICY own_rows ON app.docs AS RESTRICTIVE FOR UPDATE TO CURRENT_ROLE, postgres
  USING (owner = current_user) WITH CHECK (owner = current_user AND status IN ('draft', 'review'));
CREATE POLICY inserts ON app.docs FOR INSERT WITH CHECK (status <> 'published');
CREATE POLICY deletes ON app.docs FOR DELETE USING (created_at > now() - interval '1 day');
CREATE POLICY sub ON app.docs FOR SELECT
  USING (tenant_id IN (SELECT id FROM tenants WHERE plan = 'pro'));
CREATE POLICY ex ON app.docs FOR SELECT
  USING (EXISTS (SELECT 1 FROM tenants t WHERE t.id = docs.tenant_id AND t.name = 'acme'));
CREATE POLICY "Mixed Case" ON tenants USING (true);
CREATE POLICY everyone ON tenants FOR SELECT TO public USING (plan IS NOT NULL);
COMMENT ON POLICY by_tenant ON app.docs IS 'tenant isolation';
"#;

#[test]
fn loaded_policies_equal_inspected_ones() {
    let Some(db) = TestDb::new() else { return };
    // CURRENT_ROLE is resolved by the server when the policy is created.
    let sql = SCHEMA.replace("CURRENT_ROLE, ", "");
    db.execute(&sql);
    let loaded = load(&sql);
    assert!(loaded.opaque.is_empty(), "{:#?}", loaded.opaque);
    let docs = &loaded.tables[&QualifiedName::new("app", "docs")];
    assert_eq!(docs.policies.len(), 7);
    assert!(docs.row_security && docs.force_row_security);
    let own = docs.policies.iter().find(|p| p.name == "own_rows").unwrap();
    assert_eq!(own.command, PolicyCommand::Update);
    assert!(!own.permissive);
    assert_eq!(own.roles, ["postgres"]);
    assert_eq!(loaded.extensions.len(), 2);
    assert_eq!(loaded.composite_types.len(), 2);
    let inspected = db.inspect();
    assert_same(&loaded, &inspected, "policies");
    assert_eq!(loaded.extensions, inspected.extensions);
    assert_eq!(loaded.composite_types, inspected.composite_types);
    assert!(diff(&inspected, &loaded, &Renames::default()).is_empty());
    assert!(diff(&loaded, &inspected, &Renames::default()).is_empty());
}

#[test]
fn pulled_schema_builds_the_same_database() {
    let Some(db) = TestDb::new() else { return };
    let sql = SCHEMA.replace("CURRENT_ROLE, ", "");
    db.execute(&sql);
    let inspected = db.inspect();
    let files = POSTGRES.render_schema(&inspected);
    let text: String = files.iter().map(|(_, t)| t.as_str()).collect();
    let pos = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{text}"))
    };
    assert!(pos("CREATE EXTENSION IF NOT EXISTS citext") < pos("CREATE TABLE public.tenants"));
    assert!(pos("CREATE TYPE app.money_amount") < pos("CREATE TYPE public.pair"));
    assert!(pos("CREATE TABLE public.tenants") < pos("CREATE POLICY sub ON app.docs"));
    let second = TestDb::new().expect("a second database");
    second.execute(&text);
    let again = second.inspect();
    assert_same(&inspected, &again, "pulled and pushed again");
    assert_eq!(inspected.extensions, again.extensions);
    assert_eq!(inspected.composite_types, again.composite_types);
    assert_same(&load(&text), &again, "pulled file loads as it inspects");
}

/// A at `a`, plan to `b`, apply, check nothing is left; returns the plan's SQL.
fn migrate(a: &str, b: &str) -> Option<String> {
    let db = TestDb::new()?;
    db.execute(a);
    let from = db.inspect();
    let to = load(b);
    let changes = diff(&from, &to, &Renames::default());
    let p = POSTGRES.plan(&from, &to, &changes).expect("plan");
    let sql = p.to_sql();
    let mut conn = db.connect();
    ferry_core::Database::apply(&mut conn, &p).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let after = db.inspect();
    let left = diff(&after, &to, &Renames::default());
    assert!(left.is_empty(), "left after apply: {left:#?}\n{sql}");
    assert_same(&to, &after, "after apply");
    Some(sql)
}

#[test]
fn policy_changes_apply() {
    let a = SCHEMA.replace("CURRENT_ROLE, ", "");
    // Roles and expressions change in place; a command change is a drop and create.
    let b = a
        .replace(
            "USING (plan IS NOT NULL)",
            "USING (plan IS NOT NULL AND plan <> 'banned')",
        )
        .replace("FOR DELETE USING", "FOR ALL USING")
        .replace("TO postgres", "TO public")
        .replace(
            "COMMENT ON POLICY by_tenant ON app.docs IS 'tenant isolation'",
            "",
        )
        .replace("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;", "");
    let Some(sql) = migrate(&a, &b) else { return };
    assert!(
        sql.contains("ALTER POLICY everyone ON public.tenants USING"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER POLICY own_rows ON app.docs TO PUBLIC"),
        "{sql}"
    );
    assert!(sql.contains("DROP POLICY deletes ON app.docs"), "{sql}");
    assert!(
        sql.contains("COMMENT ON POLICY by_tenant ON app.docs IS NULL"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE public.tenants DISABLE ROW LEVEL SECURITY"),
        "{sql}"
    );
    // And back.
    migrate(&b, &a);
}

#[test]
fn table_changes_under_policies_apply() {
    let a = SCHEMA.replace("CURRENT_ROLE, ", "");
    // Columns a policy reads change type, in its own table and in a table a subquery
    // reads; a column is renamed; a table drops; an extension and a composite type go.
    let b = a
        .replace("tenant_id bigint REFERENCES", "tenant_id int REFERENCES")
        .replace("tenants (id bigint", "tenants (id int")
        .replace("plan text)", "plan varchar(20))")
        .replace(
            "current_setting('app.tenant_id', true)::bigint",
            "current_setting('app.tenant_id', true)::int",
        )
        .replace("CREATE EXTENSION IF NOT EXISTS btree_gist;", "")
        .replace("COMMENT ON TYPE pair IS 'two things';", "")
        .replace(
            "CREATE TYPE pair AS (a int, b text COLLATE \"C\", tags text[], m app.money_amount);",
            "",
        );
    let Some(sql) = migrate(&a, &b) else { return };
    let at = |s: &str| sql.find(s).unwrap_or_else(|| panic!("{s} missing:\n{sql}"));
    assert!(at("DROP POLICY sub ON app.docs") < at("ALTER TABLE public.tenants ALTER COLUMN"));
    assert!(at("ALTER TABLE public.tenants ALTER COLUMN") < at("CREATE POLICY sub ON app.docs"));
    assert!(sql.contains("DROP EXTENSION btree_gist"), "{sql}");
    assert!(sql.contains("DROP TYPE public.pair"), "{sql}");
    migrate(&b, &a);
}

#[test]
fn composite_type_changes_apply() {
    let a = "CREATE TYPE c AS (a int, d date, b text);\nCREATE TYPE u AS (x c, y int);\n";
    // Retype, drop and add attributes in place (no table column uses c).
    let b = "CREATE TYPE c AS (a bigint, d date, e text COLLATE \"C\");\n\
             CREATE TYPE u AS (x c, y int);\nCOMMENT ON TYPE c IS 'changed';\n";
    let Some(sql) = migrate(a, b) else { return };
    assert!(
        sql.contains(
            "ALTER TYPE public.c DROP ATTRIBUTE b, ALTER ATTRIBUTE a TYPE bigint, \
             ADD ATTRIBUTE e text COLLATE \"C\""
        ),
        "{sql}"
    );
    migrate(b, a);
    // A new attribute order: drop and create.
    let c = "CREATE TYPE c AS (d date, a int);\n";
    let Some(sql) = migrate("CREATE TYPE c AS (a int, d date);\n", c) else {
        return;
    };
    assert!(sql.contains("DROP TYPE public.c"), "{sql}");
}

#[test]
fn replayed_migrations_build_the_policies() {
    let scripts = [
        (
            "1/up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, owner text);\n\
             CREATE EXTENSION IF NOT EXISTS citext;\n\
             CREATE TYPE c AS (a int);\n\
             CREATE POLICY p ON t USING (owner = current_user);\n\
             CREATE POLICY q ON t FOR INSERT WITH CHECK (true);\n\
             ALTER TABLE ONLY t ENABLE ROW LEVEL SECURITY;\n",
        ),
        (
            "2/up.sql",
            "ALTER POLICY p ON t TO postgres USING (owner = session_user);\n\
             ALTER POLICY q ON t RENAME TO q2;\n\
             COMMENT ON POLICY q2 ON t IS 'inserts';\n\
             ALTER TYPE c ADD ATTRIBUTE b text, ALTER ATTRIBUTE a TYPE bigint;\n\
             ALTER TABLE t FORCE ROW LEVEL SECURITY;\n\
             CREATE EXTENSION hstore;\n\
             DROP EXTENSION IF EXISTS citext;\n",
        ),
        (
            "3/up.sql",
            "DROP POLICY IF EXISTS nope ON t;\nALTER TABLE t NO FORCE ROW LEVEL SECURITY;\n\
             ALTER TABLE t RENAME COLUMN owner TO who;\n",
        ),
    ];
    let replayed =
        ferry_sql::replay(scripts.iter().copied(), &POSTGRES).unwrap_or_else(|e| panic!("{e}"));
    assert!(replayed.opaque.is_empty(), "{:#?}", replayed.opaque);
    let expected = load(
        "CREATE TABLE t (id int PRIMARY KEY, who text);\n\
         CREATE EXTENSION hstore;\n\
         CREATE TYPE c AS (a bigint, b text);\n\
         CREATE POLICY p ON t TO postgres USING (who = session_user);\n\
         CREATE POLICY q2 ON t FOR INSERT WITH CHECK (true);\n\
         COMMENT ON POLICY q2 ON t IS 'inserts';\n\
         ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n",
    );
    assert_same(&expected, &replayed, "replayed");
    assert_eq!(expected.extensions, replayed.extensions);
    assert_eq!(expected.composite_types, replayed.composite_types);
    // And the database built by the same scripts agrees.
    let Some(db) = TestDb::new() else { return };
    for (_, sql) in scripts {
        db.execute(sql);
    }
    let inspected = db.inspect();
    assert_same(&replayed, &inspected, "replayed vs database");
    assert_eq!(replayed.extensions, inspected.extensions);

    // Errors point at the statement.
    let err = ferry_sql::replay(
        [(
            "1/up.sql",
            "CREATE TABLE t (id int);\nDROP POLICY p ON t;\n",
        )],
        &POSTGRES,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("1/up.sql:2:"), "{err}");
    assert!(
        err.contains("policy p for table public.t does not exist"),
        "{err}"
    );

    // A composite type a column uses is dropped only with CASCADE, which takes the column.
    let err = ferry_sql::replay(
        [(
            "up.sql",
            "CREATE TYPE c AS (x int);\nCREATE TABLE t (id int, v c);\nDROP TYPE c;",
        )],
        &POSTGRES,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("up.sql:3:11"), "{err}");
    assert!(err.contains("column public.t.v uses it"), "{err}");
    let s = ferry_sql::replay(
        [(
            "up.sql",
            "CREATE TYPE c AS (x int);\nCREATE TABLE t (id int, v c);\nDROP TYPE c CASCADE;",
        )],
        &POSTGRES,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.composite_types.is_empty());
    assert_eq!(s.tables.values().next().unwrap().columns.len(), 1);

    // Renamed and moved composite types take their columns along, as on the server.
    let script = "CREATE SCHEMA s;\nCREATE TYPE c AS (x int);\nCREATE TYPE d AS (y c[]);\n\
                  CREATE TABLE t (id int, v c, w c[]);\nALTER TYPE c RENAME TO c2;\n\
                  ALTER TYPE c2 SET SCHEMA s;\nALTER SCHEMA s RENAME TO s2;\n";
    let s = ferry_sql::replay([("up.sql", script)], &POSTGRES).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.opaque.is_empty(), "{:#?}", s.opaque);
    let Some(db) = TestDb::new() else { return };
    db.execute(script);
    let inspected = db.inspect();
    assert_same(&s, &inspected, "moved composite type");
    assert_eq!(s.composite_types, inspected.composite_types);
}

#[test]
fn unchanged_plan_is_empty_even_with_server_rewrites() {
    let a = SCHEMA.replace("CURRENT_ROLE, ", "");
    let loaded = load(&a);
    let p = plan(&loaded, &loaded);
    assert!(p.steps.is_empty());
}

/// ferry's logical dump holds extensions, composite types, row level security and
/// policies; rows of a table that forces row level security restore in full (the policies
/// come after the rows).
#[test]
fn builtin_dump_holds_policies_extensions_and_composite_types() {
    use ferry_core::{Backup, Database};
    use ferry_postgres::BackupMethod;

    let Some(src) = TestDb::new() else { return };
    let sql = SCHEMA.replace("CURRENT_ROLE, ", "");
    src.execute(&sql);
    src.execute(
        "INSERT INTO tenants VALUES (1, 'Acme', 'pro'), (2, 'Other', NULL);
         INSERT INTO app.docs (id, tenant_id, owner, price)
           VALUES (1, 1, 'someone else', ROW(9.5, 'EUR'));",
    );
    let mut source = src.connect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.sql");
    let info = source.backup_with(&path, BackupMethod::Builtin).unwrap();
    assert_eq!(info.method, "ferry logical dump", "{}", info.method);
    assert_eq!((info.tables, info.rows), (2, 3));
    let text = std::fs::read_to_string(&path).unwrap();
    let at = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{text}"))
    };
    assert!(
        at("COPY app.docs") < at("CREATE POLICY by_tenant"),
        "{text}"
    );

    let Some(dst) = TestDb::new() else { return };
    let mut target = dst.connect();
    target.restore_from(&path).unwrap();
    let restored = target.inspect().unwrap();
    let original = source.inspect().unwrap();
    assert_same(&original, &restored, "restored");
    assert_eq!(original.extensions, restored.extensions);
    assert_eq!(original.composite_types, restored.composite_types);
    let rows = |db: &mut ferry_postgres::PgDatabase| -> Vec<String> {
        db.client()
            .query("SELECT id::text || (price).currency FROM app.docs", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(rows(&mut target), ["1EUR"]);
    assert_eq!(rows(&mut source), rows(&mut target));
}
