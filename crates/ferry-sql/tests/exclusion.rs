//! Exclusion constraints: parsing in CREATE TABLE and ALTER TABLE ADD, implicit names,
//! the catalog's `pg_get_constraintdef` text, and replayed ADD / DROP / RENAME.

mod common;

use common::Plain;
use ferry_core::*;
use ferry_sql::{exclusion_constraint, load_str, replay};

fn load(sql: &str) -> Schema {
    load_str(sql, "test.sql", &Plain).unwrap_or_else(|e| panic!("{e}"))
}

fn table<'a>(s: &'a Schema, name: &str) -> &'a Table {
    s.tables
        .get(&QualifiedName::new("public", name))
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn column(key: &IndexKey) -> &str {
    match &key.target {
        IndexTarget::Column(c) => c,
        IndexTarget::Expr(e) => panic!("expected a column, got {}", e.sql),
    }
}

#[test]
fn every_clause_of_an_inline_constraint() {
    let s = load(
        "CREATE TABLE booking (
           room int, during tstzrange, note text,
           CONSTRAINT no_overlap EXCLUDE USING GIST (room WITH =, during WITH &&)
             INCLUDE (note) WITH (fillfactor = 70) USING INDEX TABLESPACE pg_default
             WHERE (room > 0) DEFERRABLE INITIALLY DEFERRED
         );",
    );
    let t = table(&s, "booking");
    assert_eq!(t.exclusions.len(), 1);
    let x = &t.exclusions[0];
    assert_eq!(x.name, "no_overlap");
    assert_eq!(x.method, "gist");
    assert_eq!(x.elements.len(), 2);
    assert_eq!(column(&x.elements[0].key), "room");
    assert_eq!(x.elements[0].operator, "=");
    assert_eq!(column(&x.elements[1].key), "during");
    assert_eq!(x.elements[1].operator, "&&");
    assert_eq!(x.include, ["note"]);
    assert_eq!(
        x.predicate.as_ref().map(|p| p.sql.as_str()),
        Some("room > 0")
    );
    assert_eq!(x.deferrable, Deferrable::InitiallyDeferred);
}

#[test]
fn elements_take_expressions_opclasses_order_and_collations() {
    let s = load(
        "CREATE TABLE t (a text, b int, c int,
           EXCLUDE (lower(a) WITH =, (b + c) int4_ops DESC NULLS LAST WITH OPERATOR(pg_catalog.=),
                    a COLLATE \"C\" text_pattern_ops WITH =));",
    );
    let x = &table(&s, "t").exclusions[0];
    // No USING: btree, as on the server.
    assert_eq!(x.method, "btree");
    let IndexTarget::Expr(e) = &x.elements[0].key.target else {
        panic!("lower(a) is an expression");
    };
    assert_eq!(e.sql, "lower(a)");
    let k = &x.elements[1].key;
    assert!(matches!(&k.target, IndexTarget::Expr(e) if e.sql == "b + c"));
    assert_eq!(k.opclass.as_deref(), Some("int4_ops"));
    assert!(k.descending);
    // DESC defaults to NULLS FIRST: LAST is kept.
    assert_eq!(k.nulls_first, Some(false));
    assert_eq!(x.elements[1].operator, "=");
    let k = &x.elements[2].key;
    assert_eq!(k.collation.as_deref(), Some("C"));
    assert_eq!(k.opclass.as_deref(), Some("text_pattern_ops"));
    // Implicit name: function names for expressions, `expr` for the others.
    assert_eq!(x.name, "t_lower_expr_a_excl");
}

#[test]
fn implicit_names_follow_the_index_rules_and_avoid_taken_names() {
    let s = load(
        "CREATE TABLE r (during tstzrange, room int, EXCLUDE USING gist (during WITH &&));
         CREATE INDEX r_during_excl ON r (room);
         ALTER TABLE r ADD EXCLUDE USING gist (during WITH &&, room WITH =) INCLUDE (room);
         ALTER TABLE ONLY r ADD EXCLUDE USING gist (during WITH &&);",
    );
    let names: Vec<&str> = table(&s, "r")
        .exclusions
        .iter()
        .map(|x| x.name.as_str())
        .collect();
    // INCLUDE columns count, as for an index; a taken name gets a number.
    assert_eq!(
        names,
        ["r_during_excl", "r_during_excl1", "r_during_room_room_excl"]
    );
}

#[test]
fn the_catalog_text_reads_back_as_the_file_wrote_it() {
    let file = load(
        "CREATE TABLE e (name varchar(255), CONSTRAINT ex1 EXCLUDE USING btree
           (lower(name::text) WITH =) WHERE (name::text <> ''));",
    );
    let mut read = exclusion_constraint(
        "EXCLUDE USING btree (lower(name::text) WITH =) WHERE (((name)::text <> ''::text))",
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    read.name = "ex1".into();
    assert_eq!(table(&file, "e").exclusions[0], read);

    let read = exclusion_constraint(
        "EXCLUDE USING gist (c WITH &&) INCLUDE (d) WITH (fillfactor='70') DEFERRABLE",
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.include, ["d"]);
    assert_eq!(read.deferrable, Deferrable::InitiallyImmediate);
}

#[test]
fn bad_exclusions_are_errors_with_positions() {
    let err = load_str(
        "CREATE TABLE t (a int,\n  EXCLUDE USING gist (a WITH));",
        "t.sql",
        &Plain,
    )
    .unwrap_err();
    assert_eq!((err.line, err.column), (2, 29), "{err}");
    assert!(err.message.contains("operator"), "{err}");
    let err = load_str(
        "CREATE TABLE t (a int, EXCLUDE USING gist (a =));",
        "t.sql",
        &Plain,
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("t.sql:1:"), "{err}");
}

#[test]
fn replay_adds_drops_renames_and_follows_columns() {
    let s = replay(
        [
            (
                "1/up.sql",
                "CREATE TABLE r (during tstzrange, room int);
                 ALTER TABLE r ADD CONSTRAINT a EXCLUDE USING gist (during WITH &&);
                 ALTER TABLE r ADD EXCLUDE USING gist (room WITH =, during WITH &&);",
            ),
            (
                "2/up.sql",
                "ALTER TABLE r DROP CONSTRAINT a;
                 ALTER TABLE r RENAME CONSTRAINT r_room_during_excl TO b;
                 ALTER TABLE r RENAME COLUMN room TO place;",
            ),
        ],
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let t = table(&s, "r");
    assert_eq!(t.exclusions.len(), 1);
    assert_eq!(t.exclusions[0].name, "b");
    assert_eq!(column(&t.exclusions[0].elements[0].key), "place");

    // The name is taken by the constraint's index.
    let err = replay(
        [(
            "1/up.sql",
            "CREATE TABLE r (during tstzrange, CONSTRAINT x EXCLUDE USING gist (during WITH &&));
             CREATE INDEX x ON r (during);",
        )],
        &Plain,
    )
    .unwrap_err();
    assert!(err.message.contains("already exists"), "{err}");

    // Dropping a column drops the constraints using it.
    let s = replay(
        [(
            "1/up.sql",
            "CREATE TABLE r (during tstzrange, room int, EXCLUDE USING gist (during WITH &&));
             ALTER TABLE r DROP COLUMN during;",
        )],
        &Plain,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(table(&s, "r").exclusions.is_empty());
}
