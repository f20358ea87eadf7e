//! Functions, procedures and triggers against a real server: load(S) == inspect(apply(S))
//! over a corpus, pull round trips, and plans that replace, re-create and drop them.

mod common;

use common::{assert_same, load, plan, TestDb};
use ferry_core::{diff, Database, Dialect, Renames, Schema};
use ferry_postgres::POSTGRES;

const CORPUS: &str = r#"
CREATE SCHEMA app;
CREATE TYPE priority AS ENUM ('low', 'high');
CREATE TABLE users (id serial PRIMARY KEY, name text, email varchar(100), updated_at timestamptz);
CREATE FUNCTION add_numbers(a integer, b integer) RETURNS integer AS $$
BEGIN
  RETURN a + b;
END;
$$ LANGUAGE plpgsql IMMUTABLE;
CREATE FUNCTION add_numbers(a bigint, b bigint) RETURNS bigint AS $$ SELECT a + b $$ LANGUAGE sql;
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS TRIGGER AS $$
BEGIN NEW.updated_at = CURRENT_TIMESTAMP; RETURN NEW; END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION with_defaults(count int DEFAULT 1, sep text = '-', VARIADIC rest int[] DEFAULT '{}')
  RETURNS text AS $$ BEGIN RETURN ''; END $$ LANGUAGE plpgsql VOLATILE;
CREATE FUNCTION outs(a int, OUT b int, INOUT c numeric(10,2)) AS $$ BEGIN b := a; END; $$
  LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER LEAKPROOF PARALLEL SAFE COST 10
  SET search_path = public, pg_temp SET timezone = 'UTC' SET statement_timeout = '30s';
CREATE FUNCTION one_out(a int, OUT b varchar(5)) AS 'select a::text' LANGUAGE sql;
CREATE FUNCTION get_users() RETURNS TABLE(id integer, "Name" text) AS $$
BEGIN
  RETURN QUERY SELECT 1, 'test'::text;
END;
$$ LANGUAGE plpgsql ROWS 10;
CREATE FUNCTION series(n integer) RETURNS SETOF integer AS $$
BEGIN FOR i IN 1..n LOOP RETURN NEXT i; END LOOP; END;
$$ LANGUAGE plpgsql COST 500 ROWS 1000;
CREATE FUNCTION quoted(x text) RETURNS text AS 'select x || ''q''' LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT;
CREATE FUNCTION dollars(x text) RETURNS text LANGUAGE plpgsql AS $body$ BEGIN RETURN x || '$$'; END $body$;
CREATE FUNCTION classify(p priority) RETURNS priority AS $$ BEGIN RETURN p; END; $$ LANGUAGE plpgsql IMMUTABLE;
CREATE FUNCTION app.row_name(u users) RETURNS text AS $$ SELECT u.name $$ LANGUAGE sql STABLE;
CREATE FUNCTION std_return(a int, b int) RETURNS text LANGUAGE sql IMMUTABLE RETURN a + b || 'x';
CREATE PROCEDURE app.touch(IN a integer, b text DEFAULT NULL) LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
CREATE FUNCTION "Mixed Case"() RETURNS void AS $$ BEGIN END $$ LANGUAGE plpgsql RETURNS NULL ON NULL INPUT;
CREATE FUNCTION audit() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql;
COMMENT ON FUNCTION add_numbers(integer, integer) IS 'adds';
COMMENT ON PROCEDURE app.touch(int, text) IS 'touches';

CREATE TRIGGER set_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER name_change AFTER UPDATE OF name, email OR INSERT ON public.users
  FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM 'x') EXECUTE PROCEDURE audit('a', 1, b, 'it''s');
CREATE TRIGGER truncated AFTER TRUNCATE ON users EXECUTE FUNCTION audit();
CREATE TRIGGER transitions AFTER UPDATE ON users REFERENCING NEW TABLE AS nt OLD TABLE AS ot
  FOR EACH STATEMENT EXECUTE FUNCTION audit();
CREATE CONSTRAINT TRIGGER deferred_check AFTER INSERT OR DELETE ON users
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit();
CREATE VIEW user_names AS SELECT id, name FROM users;
CREATE TRIGGER view_insert INSTEAD OF INSERT ON user_names FOR EACH ROW EXECUTE FUNCTION audit();
COMMENT ON TRIGGER truncated ON users IS 'on truncate';
ALTER TABLE users DISABLE TRIGGER truncated;
ALTER TABLE users ENABLE REPLICA TRIGGER transitions;
"#;

#[test]
fn loaded_functions_and_triggers_equal_inspected_ones() {
    let Some(db) = TestDb::new() else { return };
    db.execute(CORPUS);
    let loaded = load(CORPUS);
    assert!(loaded.opaque.is_empty(), "{:#?}", loaded.opaque);
    assert_eq!(loaded.functions.len(), 16);
    assert_eq!(loaded.triggers.len(), 6);
    let inspected = db.inspect();
    same_routines(&loaded, &inspected);
    assert_same(&loaded, &inspected, "functions");
    assert!(diff(&inspected, &loaded, &Renames::default()).is_empty());
}

#[test]
fn pulled_functions_load_back_into_an_empty_database() {
    let Some(db) = TestDb::new() else { return };
    db.execute(CORPUS);
    let inspected = db.inspect();
    let files = POSTGRES.render_schema(&inspected);
    let text: String = files.iter().map(|(_, t)| t.as_str()).collect();
    let second = TestDb::new().expect("a second database");
    second.execute(&text);
    let again = second.inspect();
    same_routines(&inspected, &again);
    assert_same(&inspected, &again, "pulled and pushed again");
    assert_same(&load(&text), &again, "pulled file loads as it inspects");
}

#[test]
fn plan_from_empty_applies() {
    let Some(db) = TestDb::new() else { return };
    let to = load(CORPUS);
    let from = db.inspect();
    let p = plan(&from, &to);
    if let Err(e) = db.connect().apply(&p) {
        panic!("apply failed: {e}\n{}", p.to_sql());
    }
    let after = db.inspect();
    same_routines(&to, &after);
    assert_same(&to, &after, "after apply");
}

/// Compares functions and triggers one by one, naming the first that differs.
#[track_caller]
fn same_routines(expected: &Schema, actual: &Schema) {
    for (id, f) in &expected.functions {
        assert_eq!(Some(f), actual.functions.get(id), "function {id}");
    }
    for id in actual.functions.keys() {
        assert!(
            expected.functions.contains_key(id),
            "unexpected function {id}"
        );
    }
    for (key, t) in &expected.triggers {
        assert_eq!(Some(t), actual.triggers.get(key), "trigger {key:?}");
    }
    for key in actual.triggers.keys() {
        assert!(
            expected.triggers.contains_key(key),
            "unexpected trigger {key:?}"
        );
    }
}

#[test]
fn trigger_state_and_comment_change_in_place() {
    let Some(db) = TestDb::new() else { return };
    db.execute(CORPUS);
    let from = db.inspect();
    let changed = CORPUS
        .replace(
            "ALTER TABLE users DISABLE TRIGGER truncated;",
            "ALTER TABLE users ENABLE ALWAYS TRIGGER truncated;",
        )
        .replace("IS 'on truncate'", "IS 'when emptied'");
    let to = load(&changed);
    let p = plan(&from, &to);
    let sql = p.to_sql();
    assert!(!sql.contains("DROP TRIGGER"), "{sql}");
    assert!(
        sql.contains("ALTER TABLE public.users ENABLE ALWAYS TRIGGER truncated"),
        "{sql}"
    );
    db.connect().apply(&p).expect("apply");
    let after = db.inspect();
    same_routines(&to, &after);
}

#[test]
fn sql_standard_bodies() {
    let Some(db) = TestDb::new() else { return };
    // Written the way the server prints it back: no difference after a round trip.
    let sql = "CREATE FUNCTION inc(a integer) RETURNS integer LANGUAGE sql IMMUTABLE\n\
               BEGIN ATOMIC\n SELECT (a + 1);\nEND;\n\
               CREATE FUNCTION add(a integer, b integer) RETURNS integer LANGUAGE sql\n\
               RETURN a + b;\n\
               CREATE FUNCTION loose(a integer) RETURNS integer LANGUAGE sql\n\
               BEGIN ATOMIC SELECT a + 1; END;\n";
    let to = load(sql);
    assert_eq!(to.functions.len(), 3, "{:?}", to.opaque);
    let p = plan(&db.inspect(), &to);
    db.connect().apply(&p).expect("apply");
    let after = db.inspect();
    for name in ["inc", "add"] {
        let id = to.functions.keys().find(|k| k.name.name == name).unwrap();
        assert_eq!(to.functions.get(id), after.functions.get(id), "{name}");
    }
    // Written otherwise, a BEGIN ATOMIC body reads as changed (a documented limit); the
    // replacement is harmless.
    let again = plan(&after, &to);
    let text = again.to_sql();
    assert!(
        text.contains("CREATE OR REPLACE FUNCTION public.loose"),
        "{text}"
    );
    assert!(!text.contains("public.inc"), "{text}");
    db.connect().apply(&again).expect("apply again");
}
