//! Partitioned tables and partitions in the loader: the model, attach/detach, errors.

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

fn err(sql: &str) -> String {
    load_str(sql, "p.sql", &Plain).unwrap_err().to_string()
}

const PARENT: &str = "CREATE TABLE logs (id bigint NOT NULL, at timestamp NOT NULL, \
    CHECK (id > 0), UNIQUE (id, at)) PARTITION BY RANGE (at);
CREATE INDEX logs_id ON logs (id);\n";

#[test]
fn partition_by_and_partition_of() {
    let s = load(&format!(
        "{PARENT}CREATE TABLE logs_1 PARTITION OF logs (CONSTRAINT own CHECK (id < 10))
           FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
         CREATE TABLE logs_d PARTITION OF logs DEFAULT PARTITION BY LIST (lower(x) text_pattern_ops);
         CREATE TABLE h (a int, b text) PARTITION BY HASH (a, b COLLATE \"C\");"
    ));
    let by = table(&s, "logs").partition_by.clone().unwrap();
    assert_eq!(by.strategy, "range");
    assert_eq!(by.keys, vec![IndexKey::column("at")]);
    assert!(table(&s, "logs").partition_of.is_none());

    let p = table(&s, "logs_1");
    let of = p.partition_of.as_ref().unwrap();
    assert_eq!(of.parent, QualifiedName::new("public", "logs"));
    assert_eq!(
        of.bound.sql,
        "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')"
    );
    assert_eq!(
        of.bound,
        ferry_sql::partition_bound(
            "FOR VALUES FROM ('2024-01-01 00:00:00') TO ('2024-02-01 00:00:00')"
        )
    );
    // Only what the partition declares: no columns, no inherited checks/keys/indexes.
    assert!(p.columns.is_empty());
    assert_eq!(p.checks.len(), 1);
    assert_eq!(p.checks[0].name, "own");
    assert!(p.uniques.is_empty() && p.indexes.is_empty());

    let d = table(&s, "logs_d");
    assert_eq!(d.partition_of.as_ref().unwrap().bound.sql, "DEFAULT");
    let sub = d.partition_by.as_ref().unwrap();
    assert_eq!(sub.strategy, "list");
    assert_eq!(sub.keys[0].opclass.as_deref(), Some("text_pattern_ops"));
    assert!(matches!(sub.keys[0].target, IndexTarget::Expr(_)));
    let h = table(&s, "h").partition_by.clone().unwrap();
    assert_eq!(h.keys[1].collation.as_deref(), Some("C"));
    assert!(s.opaque.is_empty(), "{:?}", s.opaque);
}

#[test]
fn attach_equals_partition_of_and_detach_copies_the_parent() {
    let direct = load(&format!(
        "{PARENT}CREATE TABLE logs_1 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');"
    ));
    let attached = load(&format!(
        "{PARENT}CREATE TABLE logs_1 (id bigint NOT NULL, at timestamp NOT NULL,
           CONSTRAINT logs_id_check CHECK (id > 0), UNIQUE (id, at));
         CREATE INDEX logs_1_id ON logs_1 (id);
         ALTER TABLE logs ATTACH PARTITION logs_1 FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');"
    ));
    assert_eq!(table(&direct, "logs_1"), table(&attached, "logs_1"));

    let detached = load(&format!(
        "{PARENT}CREATE TABLE logs_1 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
         ALTER TABLE logs DETACH PARTITION logs_1;"
    ));
    let t = table(&detached, "logs_1");
    assert!(t.partition_of.is_none());
    let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["id", "at"]);
    assert!(t.columns.iter().all(|c| c.not_null));
    assert_eq!(t.checks.len(), 1);
    assert_eq!(t.uniques[0].name, "logs_1_id_at_key");
    assert_eq!(t.indexes[0].name, "logs_1_id_idx");
}

#[test]
fn bad_partitioning_is_an_error_with_a_position() {
    assert_eq!(
        err("CREATE TABLE t (a int) PARTITION BY RANGEX (a);"),
        "p.sql:1:37: unknown partition strategy rangex: expected RANGE, LIST or HASH"
    );
    let e = err("CREATE TABLE t (a int) PARTITION BY LIST (a);\nCREATE TABLE t1 PARTITION OF t;");
    assert!(e.starts_with("p.sql:2:"), "{e}");
    assert!(e.contains("expected FOR VALUES or DEFAULT"), "{e}");
    let e = err("CREATE TABLE t (a int);\nALTER TABLE t ATTACH PARTITION u DEFAULT;");
    assert!(
        e.starts_with("p.sql:2:32") && e.contains("not partitioned"),
        "{e}"
    );
    let e = err(
        "CREATE TABLE t (a int) PARTITION BY LIST (a);\nALTER TABLE t ATTACH PARTITION u DEFAULT;",
    );
    assert!(e.contains("unknown table public.u"), "{e}");
    let e = err("CREATE TABLE t (a int) PARTITION BY LIST (a);\nCREATE TABLE u (a int);\nALTER TABLE t DETACH PARTITION u;");
    assert!(e.contains("not a partition of public.t"), "{e}");
    let e = err("CREATE TABLE t (a int) PARTITION BY RANGE (a DESC);");
    assert!(e.contains("no ASC/DESC"), "{e}");
}
