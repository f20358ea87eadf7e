//! Partitioned tables and partitions in a plan (see `docs/partitions.md`).
//!
//! A partition is created with `CREATE TABLE p PARTITION OF parent FOR VALUES ...` after its
//! parent (`dependency_order` treats the parent as a dependency); it declares no columns.
//! A changed bound or parent is `DETACH PARTITION` (with the drops, under the old names)
//! then `ATTACH PARTITION` (with the added constraints, under the new names): rows are kept,
//! and the server checks them against the new bound. A partition key cannot change in
//! place: the plan is refused.

use ferry_core::{
    Change, HazardKind, IndexTarget, PartitionBy, PartitionOf, PlanError, QualifiedName, Step,
    TableChange,
};

use super::{collation_sql, opclass_sql, parenthesized};
use crate::dialect::quote_qualified;

/// Refuses changes PostgreSQL cannot make in place: a new, changed or removed partition key
/// on an existing table.
pub(super) fn check_partition_keys(changes: &[Change]) -> Result<(), PlanError> {
    for c in changes {
        let Change::AlterTable(td) = c else {
            continue;
        };
        for tc in &td.changes {
            if let TableChange::SetPartitionBy { from, to } = tc {
                let name = &td.to.name;
                let what = match (from, to) {
                    (None, Some(_)) => format!("partition the existing table {name}"),
                    (Some(_), None) => format!("stop partitioning table {name}"),
                    _ => format!(
                        "change the partition key of {name} from {} to {}",
                        partition_by_sql(from.as_ref()),
                        partition_by_sql(to.as_ref())
                    ),
                };
                return Err(PlanError(format!(
                    "cannot {what}: PostgreSQL cannot change a table's partitioning in \
                     place. Create a new table with the new PARTITION BY (under another name), \
                     copy the rows, then drop the old table and rename the new one, in a \
                     migration"
                )));
            }
        }
    }
    Ok(())
}

/// ` PARTITION BY RANGE (a, lower(b))`, or empty.
pub(super) fn partition_by_clause(by: Option<&PartitionBy>) -> String {
    match by {
        Some(by) => format!(" {}", partition_by_sql(Some(by))),
        None => String::new(),
    }
}

fn partition_by_sql(by: Option<&PartitionBy>) -> String {
    let Some(by) = by else {
        return "(none)".to_string();
    };
    let keys: Vec<String> = by
        .keys
        .iter()
        .map(|k| {
            let mut s = match &k.target {
                IndexTarget::Column(c) => crate::dialect::quote_ident(c),
                IndexTarget::Expr(e) => parenthesized(&e.sql),
            };
            if let Some(c) = &k.collation {
                s.push_str(&format!(" COLLATE {}", collation_sql(c)));
            }
            if let Some(o) = &k.opclass {
                s.push(' ');
                s.push_str(&opclass_sql(o));
            }
            s
        })
        .collect();
    format!(
        "PARTITION BY {} ({})",
        by.strategy.to_uppercase(),
        keys.join(", ")
    )
}

/// `CREATE TABLE name PARTITION OF parent [(constraints)] bound [PARTITION BY ...]`.
pub(super) fn create_partition_sql(
    name: &QualifiedName,
    of: &PartitionOf,
    constraints: &[String],
    by: Option<&PartitionBy>,
) -> String {
    let mut sql = format!(
        "CREATE TABLE {} PARTITION OF {}",
        quote_qualified(name),
        quote_qualified(&of.parent)
    );
    if !constraints.is_empty() {
        sql.push_str(&format!(" (\n  {}\n)", constraints.join(",\n  ")));
    }
    sql.push(' ');
    sql.push_str(&of.bound.sql);
    sql.push_str(&partition_by_clause(by));
    sql
}

/// `ALTER TABLE parent DETACH PARTITION name`.
pub(super) fn detach_step(name: &QualifiedName, of: &PartitionOf) -> Step {
    Step::new(format!(
        "ALTER TABLE {} DETACH PARTITION {}",
        quote_qualified(&of.parent),
        quote_qualified(name)
    ))
}

/// `ALTER TABLE parent ATTACH PARTITION name bound`: the server scans the rows to check
/// the bound (unless a matching CHECK constraint proves it).
pub(super) fn attach_step(name: &QualifiedName, of: &PartitionOf) -> Step {
    Step::new(format!(
        "ALTER TABLE {} ATTACH PARTITION {} {}",
        quote_qualified(&of.parent),
        quote_qualified(name),
        of.bound.sql
    ))
    .with_hazard(
        HazardKind::MayFail,
        format!(
            "attaches {name} to {} {}: fails if a row is outside the bound",
            of.parent, of.bound.sql
        ),
    )
}

#[cfg(test)]
mod tests {
    use ferry_core::{diff, IndexKey, Plan, Renames, Schema};

    use super::*;

    fn load(sql: &str) -> Schema {
        ferry_sql::load_str(sql, "t.sql", &crate::POSTGRES).unwrap_or_else(|e| panic!("{e}"))
    }

    fn plan(from: &str, to: &str) -> Result<Vec<String>, PlanError> {
        let (from, to) = (load(from), load(to));
        let changes = diff(&from, &to, &Renames::default());
        super::super::plan(&from, &to, &changes)
            .map(|p: Plan| p.steps.into_iter().flat_map(|s| s.statements).collect())
    }

    const PARENT: &str =
        "CREATE TABLE z_parent (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n";
    const CHILD: &str =
        "CREATE TABLE a_child PARTITION OF z_parent FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');\n";

    #[test]
    fn partitions_follow_their_parent_whatever_their_names() {
        let s = plan("", &format!("{CHILD}{PARENT}")).unwrap();
        assert_eq!(
            s,
            [
                "CREATE TABLE public.z_parent (\n  id integer NOT NULL,\n  at date NOT NULL\n) PARTITION BY RANGE (at)",
                "CREATE TABLE public.a_child PARTITION OF public.z_parent FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')",
            ]
        );
        let s = plan(&format!("{CHILD}{PARENT}"), "").unwrap();
        assert_eq!(
            s,
            ["DROP TABLE public.a_child", "DROP TABLE public.z_parent"]
        );
    }

    #[test]
    fn a_new_bound_is_detach_then_attach() {
        let wider = CHILD.replace("'2024-02-01'", "'2024-03-01'");
        let s = plan(&format!("{PARENT}{CHILD}"), &format!("{PARENT}{wider}")).unwrap();
        assert_eq!(
            s,
            [
                "ALTER TABLE public.z_parent DETACH PARTITION public.a_child",
                "ALTER TABLE public.z_parent ATTACH PARTITION public.a_child FOR VALUES FROM ('2024-01-01') TO ('2024-03-01')",
            ]
        );
        // The server's spelling of the same bound is no change.
        let server = CHILD.replace("'2024-01-01'", "'2024-01-01 00:00:00'");
        assert!(
            plan(&format!("{PARENT}{CHILD}"), &format!("{PARENT}{server}"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_new_partition_key_is_refused() {
        let by_id = PARENT.replace("RANGE (at)", "RANGE (id)");
        let e = plan(PARENT, &by_id).unwrap_err().to_string();
        assert!(
            e.contains("cannot change the partition key of public.z_parent from PARTITION BY RANGE (at) to PARTITION BY RANGE (id): "),
            "{e}"
        );
        let plain = "CREATE TABLE z_parent (id int NOT NULL, at date NOT NULL);";
        let e = plan(plain, PARENT).unwrap_err().to_string();
        assert!(e.contains("cannot partition the existing table"), "{e}");
        assert_eq!(
            partition_by_clause(Some(&PartitionBy {
                strategy: "hash".into(),
                keys: vec![IndexKey::column("Id")],
            })),
            " PARTITION BY HASH (\"Id\")"
        );
    }
}
