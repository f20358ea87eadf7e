//! Changes under dependent objects, through generate + migrate + rollback on real
//! PostgreSQL, with rows in the tables: a column type change under views, functions and a
//! trigger whose WHEN names the column, and an enum value removed while a view reads the
//! column.

mod common;

use std::path::Path;

use common::*;

/// The database equals the schema files.
fn matches_schema(db: &PgDb, dir: &Path) {
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.join("schema").display().to_string(),
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "database vs schema:\n{out}");
}

const SCORES: &str = r#"
CREATE TABLE players (id int PRIMARY KEY, name text NOT NULL, score numeric(5,2) NOT NULL);
CREATE VIEW leaders AS SELECT name, score FROM players WHERE score > 10;
CREATE VIEW top_leader AS SELECT name FROM leaders ORDER BY score DESC LIMIT 1;
CREATE FUNCTION doubled(p players) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT p.score * 2 $$;
CREATE FUNCTION total_score() RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT sum(score) FROM players);
END
$$;
CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := upper(NEW.name);
  RETURN NEW;
END
$$;
CREATE TRIGGER players_shout BEFORE UPDATE OF score ON players
  FOR EACH ROW WHEN (OLD.score IS DISTINCT FROM NEW.score) EXECUTE FUNCTION shout();
"#;

#[test]
fn column_type_change_under_a_view_and_a_function() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir = p.path();
    write_file(dir, "schema/s.sql", SCORES);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    db.execute("INSERT INTO players VALUES (1, 'Ada', 999.25), (2, 'Bob', 5.5)")
        .unwrap();

    write_file(
        dir,
        "schema/s.sql",
        &SCORES.replace("score numeric(5,2)", "score numeric(9,3)"),
    );
    ok(run_in(dir, &["generate", "widen", "--version", "2"]));
    ok(run_in(dir, &["migrate"]));
    matches_schema(&db, dir);
    db.execute("INSERT INTO players VALUES (3, 'Cy', 123456.125)")
        .unwrap();
    // The trigger, dropped and created again around the change, still fires.
    db.execute("UPDATE players SET score = score + 1 WHERE id = 2")
        .unwrap();
    assert_eq!(
        db.query_strings("SELECT name FROM players WHERE id = 2"),
        vec![vec![Some("BOB".into())]]
    );
    assert_eq!(
        db.query_strings(
            "SELECT (SELECT name FROM top_leader), total_score()::text, \
             (SELECT doubled(p)::text FROM players p WHERE id = 1)"
        ),
        vec![vec![
            Some("Cy".into()),
            Some("124461.875".into()),
            Some("1998.500".into())
        ]]
    );

    // Back down: the new row no longer fits numeric(5,2), so it goes first.
    db.execute("DELETE FROM players WHERE id = 3").unwrap();
    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(
        db.query_strings("SELECT name, score::text FROM leaders ORDER BY name"),
        vec![vec![Some("Ada".into()), Some("999.25".into())]]
    );
}

const MOODS: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, mood mood NOT NULL DEFAULT 'ok');
CREATE VIEW cheerful AS SELECT name, mood FROM people WHERE mood <> 'sad';
"#;

#[test]
fn enum_value_removed_under_a_view() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir = p.path();
    write_file(dir, "schema/s.sql", MOODS);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    db.execute(
        "INSERT INTO people VALUES (1, 'Ada', 'happy'), (2, 'Bob', 'sad'), (3, 'Cy', DEFAULT)",
    )
    .unwrap();

    write_file(dir, "schema/s.sql", &MOODS.replace(", 'ecstatic'", ""));
    ok(run_in(dir, &["generate", "calmer", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_calmer/up.sql")).unwrap();
    assert!(up.contains("DROP VIEW public.cheerful"), "{up}");
    ok(run_in(dir, &["migrate"]));
    matches_schema(&db, dir);
    assert_eq!(
        db.query_strings("SELECT name, mood::text FROM cheerful ORDER BY name"),
        vec![
            vec![Some("Ada".into()), Some("happy".into())],
            vec![Some("Cy".into()), Some("ok".into())]
        ]
    );
    assert_eq!(
        db.query_strings(
            "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum \
             WHERE enumtypid = 'public.mood'::regtype"
        ),
        vec![vec![Some("sad,ok,happy".into())]]
    );
    // A row holding the removed value makes the conversion fail, and nothing is applied.
    ok(run_in(dir, &["rollback", "--force"]));
    db.execute("INSERT INTO people VALUES (4, 'Dee', 'ecstatic')")
        .unwrap();
    let out = run_in(dir, &["migrate"]);
    assert_eq!(out.code, 7, "{out}");
    assert_eq!(
        db.query_strings("SELECT count(*)::text FROM people"),
        vec![vec![Some("4".into())]]
    );
}

const PRICES: &str = r#"
CREATE FUNCTION cents(amount numeric) RETURNS integer LANGUAGE sql IMMUTABLE
  AS $$ SELECT (amount * 100)::integer $$;
CREATE DOMAIN amount AS numeric CONSTRAINT amount_cents CHECK (cents(VALUE) >= 0);
CREATE TABLE items (
  id int PRIMARY KEY,
  price amount NOT NULL,
  owner text NOT NULL,
  price_cents bigint DEFAULT cents(0),
  CONSTRAINT items_positive CHECK (cents(price) > 0)
);
CREATE INDEX items_cents ON items (cents(price));
CREATE INDEX items_cheap ON items (id) WHERE cents(price) < 100;
CREATE VIEW item_cents AS SELECT id, cents(price) AS c FROM items;
CREATE VIEW cheap_items AS SELECT id FROM item_cents WHERE c < 100;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_visible ON items USING (cents(price) < 1000000);
"#;

/// A function whose result type changes is dropped and created again: the default, check,
/// indexes, domain check, views (and the view over the view) and policy calling it go
/// first and come back, and nothing else is touched.
#[test]
fn function_recreated_under_its_dependents() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir = p.path();
    write_file(dir, "schema/s.sql", PRICES);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    db.execute("INSERT INTO items (id, price, owner) VALUES (1, 0.5, 'ada'), (2, 3, 'bob')")
        .unwrap();

    let widened = PRICES
        .replace("RETURNS integer", "RETURNS bigint")
        .replace("::integer", "::bigint");
    write_file(dir, "schema/s.sql", &widened);
    ok(run_in(dir, &["generate", "wider", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_wider/up.sql")).unwrap();
    for dependent in [
        "DROP POLICY items_visible",
        "DROP VIEW public.cheap_items",
        "DROP VIEW public.item_cents",
        "ALTER COLUMN price_cents DROP DEFAULT",
        "DROP CONSTRAINT items_positive",
        "DROP INDEX public.items_cents",
        "DROP INDEX public.items_cheap",
        "ALTER DOMAIN public.amount DROP CONSTRAINT amount_cents",
    ] {
        assert!(up.contains(dependent), "{dependent} missing:\n{up}");
    }
    let drop_function = up
        .find("DROP FUNCTION public.cents")
        .expect("function dropped");
    assert!(
        up.find("DROP INDEX public.items_cents").unwrap() < drop_function,
        "{up}"
    );
    ok(run_in(dir, &["migrate"]));
    matches_schema(&db, dir);
    assert_eq!(
        db.query_strings(
            "SELECT string_agg(id::text || ':' || c::text || ':' || pg_typeof(c)::text, ',' \
             ORDER BY id) FROM item_cents"
        ),
        vec![vec![Some("1:50:bigint,2:300:bigint".into())]]
    );
    db.execute("INSERT INTO items (id, price, owner) VALUES (3, 1, 'cy')")
        .unwrap();
    assert_eq!(
        db.query_strings("SELECT price_cents::text FROM items WHERE id = 3"),
        vec![vec![Some("0".into())]]
    );
    // The checks came back: a price of zero is refused by the table, a negative one by
    // the domain.
    assert!(db
        .execute("INSERT INTO items (id, price, owner) VALUES (4, 0, 'dee')")
        .is_err());
    let refused = db
        .execute("INSERT INTO items (id, price, owner) VALUES (4, -1, 'dee')")
        .unwrap_err();
    assert!(
        format!("{refused:?}").contains("amount_cents"),
        "{refused:?}"
    );

    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(
        db.query_strings("SELECT string_agg(id::text, ',' ORDER BY id) FROM cheap_items"),
        vec![vec![Some("1".into())]]
    );
    assert_eq!(
        db.query_strings("SELECT pg_typeof(c)::text FROM item_cents LIMIT 1"),
        vec![vec![Some("integer".into())]]
    );
}

/// The same around a check the plan changes anyway, and around a function whose argument
/// types change (the differ drops the old one and creates a new one of the same name).
#[test]
fn function_signature_changes_under_changed_dependents() {
    let db = PgDb::new();
    let p = pg_project(&db.url);
    let dir = p.path();
    write_file(dir, "schema/s.sql", PRICES);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    db.execute("INSERT INTO items (id, price, owner) VALUES (1, 2, 'ada')")
        .unwrap();

    let stricter = PRICES
        .replace("RETURNS integer", "RETURNS bigint")
        .replace("::integer", "::bigint")
        .replace("CHECK (cents(price) > 0)", "CHECK (cents(price) > 1)");
    write_file(dir, "schema/s.sql", &stricter);
    ok(run_in(dir, &["generate", "stricter", "--version", "2"]));
    ok(run_in(dir, &["migrate"]));
    matches_schema(&db, dir);

    let float_args = stricter.replace("cents(amount numeric)", "cents(amount double precision)");
    write_file(dir, "schema/s.sql", &float_args);
    ok(run_in(dir, &["generate", "floats", "--version", "3"]));
    ok(run_in(dir, &["migrate"]));
    matches_schema(&db, dir);
    assert_eq!(
        db.query_strings("SELECT c::text FROM item_cents"),
        vec![vec![Some("200".into())]]
    );
    ok(run_in(dir, &["rollback", "--force"]));
    ok(run_in(dir, &["rollback", "--force"]));
    matches_schema_text(&db, dir, PRICES);
}

/// The database equals `text` written as the schema.
fn matches_schema_text(db: &PgDb, dir: &Path, text: &str) {
    write_file(dir, "schema/s.sql", text);
    matches_schema(db, dir);
}
