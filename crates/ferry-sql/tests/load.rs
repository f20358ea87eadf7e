//! Loader tests with a minimal dialect: parsing, positions, annotations, opaque statements.
//! (Type spellings and implicit names are each driver's job and tested there.)

mod common;

use common::Plain;
use ferry_core::*;
use ferry_sql::load_str;

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
    // Views and functions are modelled now; a recursive view and an aggregate are not.
    let s = load("CREATE TABLE t (id int);\nCREATE RECURSIVE VIEW v (n) AS SELECT 1; CREATE AGGREGATE a (int) (sfunc = f, stype = int, initcond = '$$;');");
    assert_eq!(s.opaque.len(), 2);
    assert_eq!(s.opaque[0].origin, "test.sql:2");
    assert!(s.opaque[1].sql.contains("'$$;')"), "{:?}", s.opaque[1]);
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

fn function<'a>(s: &'a Schema, name: &str, args: &[&str]) -> &'a Function {
    let id = FunctionId {
        name: QualifiedName::new("public", name),
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    s.functions
        .get(&id)
        .unwrap_or_else(|| panic!("no function {id} in {:?}", s.functions.keys()))
}

#[test]
fn function_arguments_names_types_and_modes() {
    let s = load(
        "CREATE FUNCTION f(integer, double precision, b character varying(5), \
           time timestamp with time zone, OUT o text, INOUT io int DEFAULT 1) \
         AS $$ x $$ LANGUAGE plpgsql;\n\
         CREATE FUNCTION f(a text) RETURNS SETOF text AS 'select a' LANGUAGE SQL ROWS 1000 COST 100;",
    );
    assert_eq!(s.functions.len(), 2, "overloads are separate");
    let f = function(
        &s,
        "f",
        &[
            "integer",
            "double precision",
            "character varying",
            "timestamp with time zone",
            "int",
        ],
    );
    let names: Vec<Option<&str>> = f.args.iter().map(|a| a.name.as_deref()).collect();
    assert_eq!(
        names,
        [None, None, Some("b"), Some("time"), Some("o"), Some("io")]
    );
    assert_eq!(f.args[4].mode, ArgMode::Out);
    assert_eq!(f.args[5].mode, ArgMode::InOut);
    assert_eq!(
        f.args[5].default.as_ref().map(|d| d.sql.as_str()),
        Some("1")
    );
    // Two OUT arguments: a record.
    assert_eq!(f.returns.as_deref(), Some("record"));
    assert_eq!(f.body, FunctionBody::Definition(" x ".into()));
    let g = function(&s, "f", &["text"]);
    assert_eq!(g.returns.as_deref(), Some("SETOF text"));
    assert_eq!(g.language, "sql");
    // Defaults are not stored.
    assert_eq!((g.rows.as_deref(), g.cost.as_deref()), (None, None));
}

#[test]
fn function_errors_point_at_the_statement() {
    let err = load_str(
        "CREATE TABLE t (id int);\nCREATE FUNCTION f() RETURNS int AS $$ x $$ LANGUAGE sql FROBNICATE;",
        "f.sql",
        &Plain,
    )
    .unwrap_err();
    assert_eq!((err.file.as_str(), err.line), ("f.sql", 2), "{err}");
    assert!(err.message.contains("FROBNICATE"), "{err}");
    let err = load_str(
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql;",
        "g.sql",
        &Plain,
    )
    .unwrap_err();
    assert!(err.message.contains("no body"), "{err}");
    // Forms not modelled stay opaque instead of failing.
    let s = load("CREATE FUNCTION f(a users.id%TYPE) RETURNS int AS $$ x $$ LANGUAGE sql;");
    assert_eq!(s.opaque.len(), 1);
}

#[test]
fn triggers_are_canonical() {
    let s = load(
        "CREATE TRIGGER t AFTER DELETE OR UPDATE OF b, a OR INSERT ON x \
         FOR EACH ROW WHEN (NEW.a > 0) EXECUTE PROCEDURE f('s', 1, word);\n\
         COMMENT ON TRIGGER t ON x IS 'c';",
    );
    let t = &s.triggers[&(QualifiedName::new("public", "x"), "t".to_string())];
    assert_eq!(
        t.events,
        [
            TriggerEvent::Insert,
            TriggerEvent::Update,
            TriggerEvent::Delete
        ]
    );
    assert_eq!(t.update_columns, ["b", "a"]);
    assert_eq!(t.arguments, ["s", "1", "word"]);
    assert_eq!(t.function, QualifiedName::new("public", "f"));
    assert!(t.for_each_row && t.when.is_some());
    assert_eq!(t.comment.as_deref(), Some("c"));
    let err = load_str(
        "CREATE TRIGGER t DURING INSERT ON x EXECUTE FUNCTION f();",
        "t.sql",
        &Plain,
    )
    .unwrap_err();
    assert!(err.message.contains("BEFORE, AFTER or INSTEAD OF"), "{err}");
}

#[test]
fn replayed_drops_and_renames() {
    let s = ferry_sql::replay(
        [(
            "m.sql",
            "CREATE TABLE x (a int);\n\
             CREATE FUNCTION f() RETURNS trigger AS $$ x $$ LANGUAGE plpgsql;\n\
             CREATE FUNCTION g(int) RETURNS int AS $$ x $$ LANGUAGE sql;\n\
             CREATE FUNCTION g(text) RETURNS int AS $$ x $$ LANGUAGE sql;\n\
             CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f();\n\
             ALTER TABLE x RENAME TO y;\n\
             ALTER TABLE y DISABLE TRIGGER t;\n\
             ALTER FUNCTION g(text) RENAME TO h;\n\
             DROP FUNCTION g;\n",
        )],
        &Plain,
    )
    .unwrap();
    assert!(s.opaque.is_empty(), "{:?}", s.opaque);
    let keys: Vec<String> = s.functions.keys().map(|k| k.to_string()).collect();
    assert_eq!(keys, ["public.f()", "public.h(text)"]);
    let t = &s.triggers[&(QualifiedName::new("public", "y"), "t".to_string())];
    assert_eq!(t.enabled, TriggerEnabled::Disabled);
    let err = ferry_sql::replay(
        [(
            "m.sql",
            "CREATE TABLE x (a int);\n\
             CREATE FUNCTION f() RETURNS trigger AS $$ x $$ LANGUAGE plpgsql;\n\
             CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f();\n\
             DROP FUNCTION f();\n",
        )],
        &Plain,
    )
    .unwrap_err();
    assert_eq!(err.line, 4, "{err}");
    assert!(err.message.contains("CASCADE"), "{err}");
    let s = ferry_sql::replay(
        [(
            "m.sql",
            "CREATE TABLE x (a int);\n\
             CREATE FUNCTION f() RETURNS trigger AS $$ x $$ LANGUAGE plpgsql;\n\
             CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f();\n\
             DROP TABLE x;\n",
        )],
        &Plain,
    )
    .unwrap();
    assert!(s.triggers.is_empty());
}

#[test]
fn replayed_statements_on_unknown_functions_stay_opaque() {
    // An extension's function, say: ferry does not know it, the server does.
    let s = ferry_sql::replay(
        [(
            "m.sql",
            "CREATE EXTENSION pgcrypto;\n\
             COMMENT ON FUNCTION gen_random_uuid() IS 'x';\n\
             DROP FUNCTION IF EXISTS nothing(int);\n\
             DROP FUNCTION digest(text, text);\n",
        )],
        &Plain,
    )
    .unwrap();
    let origins: Vec<&str> = s.opaque.iter().map(|o| o.origin.as_str()).collect();
    // The extension itself is modelled; what it creates is not.
    assert_eq!(origins, ["m.sql:2", "m.sql:4"]);
    assert!(s.extensions.contains_key("pgcrypto"));
    // Declared schema files are strict: a comment on nothing is a mistake.
    let err = load_str("COMMENT ON FUNCTION f(int) IS 'x';", "s.sql", &Plain).unwrap_err();
    assert!(err.message.contains("unknown function"), "{err}");
}

#[test]
fn index_storage_parameters_and_comments() {
    let s = load(
        "CREATE TABLE t (id int CONSTRAINT t_pk PRIMARY KEY, a text CHECK (a <> ''));\n\
         CREATE INDEX i ON t (a) WITH (FillFactor = '70', deduplicate_items=ON, fastupdate);\n\
         COMMENT ON INDEX i IS 'an index';\n\
         COMMENT ON CONSTRAINT t_pk ON t IS 'the key';\n\
         COMMENT ON CONSTRAINT t_a_check ON public.t IS 'not empty';\n\
         COMMENT ON CONSTRAINT t_a_check ON public.t IS NULL;\n",
    );
    let t = table(&s, "t");
    let i = &t.indexes[0];
    // Names lower case, values as the server keeps them, in the order written.
    assert_eq!(
        i.storage.0,
        ["fillfactor=70", "deduplicate_items=on", "fastupdate=true"]
    );
    assert_eq!(i.comment.as_deref(), Some("an index"));
    assert_eq!(
        t.primary_key.as_ref().unwrap().comment.as_deref(),
        Some("the key")
    );
    assert_eq!(t.checks[0].comment, None);
    // Compared as a set: the order the server keeps does not make two indexes differ.
    let mut reordered = i.clone();
    reordered.storage.0.reverse();
    assert_eq!(&reordered, i);

    let s = ferry_sql::replay(
        [(
            "m.sql",
            "CREATE TABLE t (a text);\n\
             CREATE INDEX i ON t (a) WITH (fillfactor = 70, deduplicate_items = off);\n\
             ALTER INDEX i SET (fillfactor = 80);\n\
             ALTER INDEX i RESET (deduplicate_items);\n\
             ALTER INDEX i RENAME TO j;\n\
             COMMENT ON INDEX j IS 'renamed';\n",
        )],
        &Plain,
    )
    .unwrap();
    assert!(s.opaque.is_empty(), "{:?}", s.opaque);
    let i = &table(&s, "t").indexes[0];
    assert_eq!(
        (i.name.as_str(), &i.storage.0[..]),
        ("j", &["fillfactor=80".to_string()][..])
    );
    assert_eq!(i.comment.as_deref(), Some("renamed"));
}
