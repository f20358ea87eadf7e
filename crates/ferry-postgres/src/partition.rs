//! Partitioned tables and partitions: reading them from the catalog. Planning is in
//! `plan/partitions.rs`; see `docs/partitions.md`.

use ferry_core::{DbError, DbErrorKind, PartitionOf, QualifiedName, Schema, Table};

/// Fills `table.partition_by` from `pg_get_partkeydef` (parsed by the loader's code) and
/// `table.partition_of` from the parent and `pg_get_expr(relpartbound)`.
pub(crate) fn read_partitioning(
    table: &mut Table,
    key: Option<String>,
    parent_schema: Option<String>,
    parent_name: Option<String>,
    bound: Option<String>,
) -> Result<(), DbError> {
    if let Some(key) = key {
        let by = ferry_sql::partition_key(&key, &crate::POSTGRES).map_err(|e| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("reading the partition key of {}: {e}", table.name),
            )
        })?;
        table.partition_by = Some(by);
    }
    if let (Some(schema), Some(name), Some(bound)) = (parent_schema, parent_name, bound) {
        table.partition_of = Some(PartitionOf {
            parent: QualifiedName::new(schema, name),
            bound: ferry_sql::partition_bound(&bound),
        });
    }
    Ok(())
}

/// The table at the top of `t`'s partition tree (`t` itself when it is not a partition):
/// the one that holds the columns.
pub(crate) fn root_table<'s>(schema: &'s Schema, mut t: &'s Table) -> &'s Table {
    for _ in 0..schema.tables.len() {
        match t
            .partition_of
            .as_ref()
            .and_then(|o| schema.tables.get(&o.parent))
        {
            Some(parent) => t = parent,
            None => break,
        }
    }
    t
}

/// Adds to `tables` every partition of a table in it, transitively.
pub(crate) fn with_partitions(
    schema: &Schema,
    tables: &mut std::collections::BTreeSet<QualifiedName>,
) {
    loop {
        let before = tables.len();
        for t in schema.tables.values() {
            if t.partition_of
                .as_ref()
                .is_some_and(|o| tables.contains(&o.parent))
            {
                tables.insert(t.name.clone());
            }
        }
        if tables.len() == before {
            break;
        }
    }
}
