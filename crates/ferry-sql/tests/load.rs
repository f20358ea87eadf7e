//! Loader tests with a minimal dialect: parsing, positions, annotations, opaque statements.
//! (Type spellings and implicit names are each driver's job and tested there.)

use ferry_core::*;
use ferry_sql::load_str;

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
    fn serial_type(&self, written: &str) -> Option<&'static str> {
        (written == "serial").then_some("integer")
    }
    fn implicit_name(&self, kind: ImplicitName, table: &str, columns: &[String]) -> String {
        let label = match kind {
            ImplicitName::PrimaryKey => return format!("{table}_pkey"),
            ImplicitName::Unique => "key",
            ImplicitName::Check => "check",
            ImplicitName::ForeignKey => "fkey",
            ImplicitName::Index => "idx",
        };
        if columns.is_empty() || (kind == ImplicitName::Check && columns.len() > 1) {
            format!("{table}_{label}")
        } else {
            format!("{table}_{}_{label}", columns.join("_"))
        }
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

fn table<'a>(s: &'a Schema, name: &str) -> &'a Table {
    s.tables
        .get(&QualifiedName::new("public", name))
        .unwrap_or_else(|| panic!("no table {name}"))
}

#[test]
fn columns_and_inline_constraints() {
    let s = load(
        "CREATE TABLE Users (\n  ID serial PRIMARY KEY,\n  email varchar(255) NOT NULL UNIQUE,\n  n numeric(10, 2) DEFAULT 0 CHECK (n >= 0),\n  t timestamp(3) with time zone,\n  tags text[],\n  team_id int REFERENCES teams (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED\n);",
    );
    let t = table(&s, "users");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "email", "n", "t", "tags", "team_id"]);
    assert_eq!(t.columns[0].data_type, "integer");
    assert!(t.columns[0]
        .default
        .as_ref()
        .unwrap()
        .sql
        .contains("users_id_seq"));
    assert_eq!(t.columns[2].data_type, "numeric(10,2)");
    assert_eq!(t.columns[3].data_type, "timestamp(3) with time zone");
    assert_eq!(t.columns[4].data_type, "text[]");
    assert_eq!(t.primary_key.as_ref().unwrap().columns, ["id"]);
    assert_eq!(t.uniques[0].name, "users_email_key");
    assert_eq!(t.checks[0].name, "users_n_check");
    let fk = &t.foreign_keys[0];
    assert_eq!(fk.on_delete, ReferentialAction::Cascade);
    assert_eq!(fk.deferrable, Deferrable::InitiallyDeferred);
    assert!(s
        .sequences
        .contains_key(&QualifiedName::new("public", "users_id_seq")));
}

#[test]
fn pg_dump_style_statements() {
    let s = load(
        r#"
\restrict abc
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.t (id integer NOT NULL, v text);
ALTER TABLE public.t OWNER TO postgres;
CREATE SEQUENCE public.t_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;
ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass);
ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
COMMENT ON COLUMN public.t.v IS 'it''s v';
CREATE INDEX t_v_idx ON public.t USING btree (v DESC NULLS LAST) WHERE (v IS NOT NULL);
"#,
    );
    let t = table(&s, "t");
    assert_eq!(t.primary_key.as_ref().unwrap().name, "t_pkey");
    assert_eq!(t.columns[1].comment.as_deref(), Some("it's v"));
    let seq = &s.sequences[&QualifiedName::new("public", "t_id_seq")];
    assert_eq!(seq.owned_by, Some((t.name.clone(), "id".to_string())));
    assert_eq!(seq.data_type.as_deref(), Some("integer"));
    assert_eq!(seq.options, SequenceOptions::default());
    let idx = &t.indexes[0];
    assert!(idx.keys[0].descending);
    assert_eq!(idx.keys[0].nulls_first, Some(false));
    assert!(s.opaque.is_empty(), "{:?}", s.opaque);
}

#[test]
fn errors_point_at_file_line_and_column() {
    let err = load_str(
        "CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  id int,\n  x text FROB\n);",
        "f.sql",
        &Plain,
    )
    .unwrap_err();
    assert_eq!(
        (err.file.as_str(), err.line, err.column),
        ("f.sql", 5, 10),
        "{err}"
    );
    assert!(err.message.contains("FROB"), "{err}");
    let err = load_str("CREATE TABLE a (id int", "g.sql", &Plain).unwrap_err();
    assert_eq!(err.file, "g.sql");
}

#[test]
fn unknown_statements_are_kept_with_their_origin() {
    // Views are modelled now; a recursive view is not.
    let s = load("CREATE TABLE t (id int);\nCREATE RECURSIVE VIEW v (n) AS SELECT 1; CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;");
    assert_eq!(s.opaque.len(), 2);
    assert_eq!(s.opaque[0].origin, "test.sql:2");
    assert!(
        s.opaque[1].sql.contains("SELECT 1; $$"),
        "{:?}",
        s.opaque[1]
    );
}

#[test]
fn rename_annotations_attach_to_their_line() {
    let s = load(
        "CREATE TABLE users ( -- @renamed from=accounts\n  id int,\n  user_name text, -- @renamed from=\"user name\"\n  age int\n);\nCREATE INDEX new_idx /* @renamed from=old_idx */ ON users (age);",
    );
    let users = QualifiedName::new("public", "users");
    assert_eq!(
        s.rename_hints,
        vec![
            RenameHint::Table {
                from: QualifiedName::new("public", "accounts"),
                to: users.clone()
            },
            RenameHint::Column {
                table: users.clone(),
                from: "user name".into(),
                to: "user_name".into()
            },
            RenameHint::Index {
                table: users,
                from: "old_idx".into(),
                to: "new_idx".into()
            },
        ]
    );
}

#[test]
fn implicit_check_names_are_numbered_like_postgres() {
    let s = load("CREATE TABLE t (a int CHECK (a > 0), b int, CHECK (a < 10), CHECK (a <> b), CHECK (true));");
    let mut names: Vec<&str> = table(&s, "t")
        .checks
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["t_a_check", "t_a_check1", "t_check", "t_check1"]);
}
