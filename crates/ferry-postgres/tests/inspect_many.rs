//! Inspection and rendering of 1,000 tables: complete and correct. How fast is measured in
//! `bench/` (a timed assertion here would fail on a loaded machine, not on a slow ferry).

mod common;

use std::time::Instant;

use common::TestDb;
use ferry_core::Database;

#[test]
fn inspects_and_renders_a_thousand_tables() {
    let Some(db) = TestDb::new() else { return };
    db.execute("CREATE TYPE kind AS ENUM ('a', 'b');");
    // In batches: one transaction creating everything would exhaust the lock table.
    let mut sql = String::new();
    for i in 0..1000 {
        if i % 100 == 0 && !sql.is_empty() {
            db.execute(&sql);
            sql.clear();
        }
        let fk = if i > 0 {
            format!(", parent_id bigint REFERENCES t{} (id)", i - 1)
        } else {
            String::new()
        };
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, \
             k kind DEFAULT 'a', created timestamptz DEFAULT now(), score numeric(10,2) \
             CHECK (score >= 0){fk});\n\
             CREATE INDEX t{i}_created ON t{i} (created DESC) WHERE score > 0;\n\
             COMMENT ON TABLE t{i} IS 'table {i}';\n"
        ));
    }
    db.execute(&sql);
    let mut conn = db.connect();
    // The first inspection warms the catalog caches of the new backend.
    let _ = conn.inspect().expect("inspect");
    let start = Instant::now();
    let schema = conn.inspect().expect("inspect");
    let took = start.elapsed();
    assert_eq!(schema.tables.len(), 1000);
    assert_eq!(schema.sequences.len(), 1000);
    eprintln!("inspected 1,000 tables in {took:?}");

    // Planning the whole schema from empty is cheap too.
    let start = Instant::now();
    let files = ferry_core::Dialect::render_schema(&ferry_postgres::POSTGRES, &schema);
    let took = start.elapsed();
    assert_eq!(files[0].1.matches("CREATE TABLE").count(), 1000);
    assert_eq!(files[0].1.matches(" bigserial NOT NULL").count(), 1000);
    eprintln!("rendered 1,000 tables in {took:?}");
}
