//! Views and materialized views in a plan.
//!
//! PostgreSQL refuses to drop or change the type of a column (or drop a table) that a view
//! reads, or to drop a function it calls, and a renamed table or column silently changes
//! the stored query. So every view that reads a table whose columns are renamed, dropped or
//! retyped (or that is renamed, moved or dropped), or that calls a function the plan drops
//! and creates again, is dropped before the change and created again afterwards from the
//! target schema, together with every view that reads one of those, transitively; no other
//! view is touched. A changed view is replaced in place (`CREATE OR REPLACE VIEW`)
//! when PostgreSQL allows it (the old outputs are a prefix of the new ones, same names and
//! same expressions, hence same types), and dropped and created otherwise. Materialized
//! views are always dropped and created (their data is recomputed), with their indexes.
//!
//! Drops run first in the plan, in reverse dependency order of the old schema; creates run
//! after every table change, in dependency order of the new schema.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{Change, GrantObject, HazardKind, QualifiedName, Schema, Step, TableChange, View};

use super::{alter_index_sql, comment_sql, create_index_statements};
use crate::dialect::{quote_ident, quote_qualified};

/// The steps that drop views (run before every table change) and the steps that create or
/// replace them (run after).
pub(super) fn plan_views(from: &Schema, to: &Schema, changes: &[Change]) -> (Vec<Step>, Vec<Step>) {
    let affected = affected_tables(from, changes);
    let mut dropped: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut replaced: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut created: BTreeSet<QualifiedName> = BTreeSet::new();
    // Per-view statements that neither drop nor create the view (comments, indexes).
    let mut drop_extras: BTreeMap<QualifiedName, Vec<Step>> = BTreeMap::new();
    let mut create_extras: BTreeMap<QualifiedName, Vec<Step>> = BTreeMap::new();
    for c in changes {
        match c {
            Change::CreateView(v) => {
                created.insert(v.name.clone());
            }
            Change::DropView(v) => {
                dropped.insert(v.name.clone());
            }
            Change::AlterView { from: old, to: new } => {
                let same_definition = old.materialized == new.materialized
                    && old.query == new.query
                    && old.options == new.options;
                if same_definition {
                    // Only the comment or the indexes of a materialized view changed.
                    let extras = create_extras.entry(new.name.clone()).or_default();
                    if old.comment != new.comment {
                        extras.push(Step::new(comment_sql(
                            view_kind(new),
                            &quote_qualified(&new.name),
                            new.comment.as_deref(),
                        )));
                    }
                    extras.extend(column_comment_steps(old, new));
                    let gone = old.indexes.iter().filter(|i| !new.indexes.contains(i));
                    let added = new.indexes.iter().filter(|i| !old.indexes.contains(i));
                    let (gone, added, altered) =
                        ferry_core::same_builds(gone.cloned().collect(), added.cloned().collect());
                    for idx in gone {
                        drop_extras
                            .entry(old.name.clone())
                            .or_default()
                            .push(Step::new(format!(
                                "DROP INDEX {}",
                                quote_qualified(&QualifiedName::new(
                                    old.name.schema.clone(),
                                    idx.name.clone()
                                ))
                            )));
                    }
                    for idx in &added {
                        extras.push(Step {
                            statements: create_index_statements(&new.name, idx),
                            ..Step::default()
                        });
                    }
                    for (from, to) in &altered {
                        extras.push(Step {
                            statements: alter_index_sql(&new.name.schema, from, to),
                            ..Step::default()
                        });
                    }
                } else if replaceable(old, new) {
                    replaced.insert(new.name.clone());
                } else {
                    dropped.insert(old.name.clone());
                    created.insert(new.name.clone());
                }
            }
            _ => {}
        }
    }
    // Views reading an affected table or calling a function that is dropped and created
    // again, then views reading a dropped view, transitively.
    let recreated_functions = super::functions::recreated_functions(changes);
    for v in from.views.values() {
        if v.references.iter().any(|r| affected.contains(r))
            || v.calls.iter().any(|f| recreated_functions.contains(f))
        {
            dropped.insert(v.name.clone());
        }
    }
    loop {
        let more: Vec<QualifiedName> = from
            .views
            .values()
            .filter(|v| !dropped.contains(&v.name))
            .filter(|v| v.references.iter().any(|r| dropped.contains(r)))
            .map(|v| v.name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        dropped.extend(more);
    }
    // A dropped view that the target keeps is created again; one replaced in place that is
    // dropped anyway is simply created.
    for name in &dropped {
        if to.views.contains_key(name) {
            created.insert(name.clone());
            replaced.remove(name);
        }
    }

    let mut drops = Vec::new();
    for name in ferry_sql::view_dependency_order(&from.views).iter().rev() {
        if !dropped.contains(name) {
            continue;
        }
        let v = &from.views[name];
        let mut step = Step::new(format!("DROP {} {}", view_kind(v), quote_qualified(name)));
        if v.materialized {
            let message = if to.views.contains_key(name) {
                format!("rebuilds the materialized view {name} (its rows are computed again)")
            } else {
                format!("drops the materialized view {name} and its rows")
            };
            step = step.with_hazard(HazardKind::TableRewrite, message);
        }
        drops.push(step);
    }
    // A view dropped anyway takes its indexes along and comes back with its target ones.
    for (name, steps) in drop_extras {
        if !dropped.contains(&name) {
            drops.extend(steps);
        }
    }

    let mut creates = Vec::new();
    for name in ferry_sql::view_dependency_order(&to.views) {
        let v = &to.views[&name];
        if created.contains(&name) {
            creates.push(create_view_step(from, v, false));
        } else if replaced.contains(&name) {
            creates.push(create_view_step(from, v, true));
            // CREATE OR REPLACE keeps the comments; set those that changed.
            let old = &from.views[&name];
            if old.comment != v.comment {
                creates.push(Step::new(comment_sql(
                    view_kind(v),
                    &quote_qualified(&name),
                    v.comment.as_deref(),
                )));
            }
            creates.extend(column_comment_steps(old, v));
        }
        if let Some(extras) = create_extras
            .remove(&name)
            .filter(|_| !created.contains(&name))
        {
            creates.extend(extras);
        }
    }
    (drops, creates)
}

/// `COMMENT ON COLUMN` for each column comment of the view that changes from `old` to `new`.
fn column_comment_steps(old: &View, new: &View) -> Vec<Step> {
    let columns: BTreeSet<&String> = old
        .column_comments
        .keys()
        .chain(new.column_comments.keys())
        .collect();
    columns
        .into_iter()
        .filter(|c| old.column_comments.get(*c) != new.column_comments.get(*c))
        .map(|c| Step::new(column_comment_sql(new, c, new.column_comments.get(c))))
        .collect()
}

fn column_comment_sql(v: &View, column: &str, text: Option<&String>) -> String {
    comment_sql(
        "COLUMN",
        &format!("{}.{}", quote_qualified(&v.name), quote_ident(column)),
        text.map(String::as_str),
    )
}

/// `VIEW` or `MATERIALIZED VIEW`, for DROP and COMMENT ON.
fn view_kind(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// Whether `CREATE OR REPLACE VIEW` turns `old` into `new`: PostgreSQL accepts it when the
/// old output columns come first in the new query with the same names and types. Types are
/// not known offline, so the expressions must be the same (same key); an unknown output
/// list means drop and create.
fn replaceable(old: &View, new: &View) -> bool {
    !old.materialized
        && !new.materialized
        && !old.outputs.is_empty()
        && new.outputs.len() >= old.outputs.len()
        && old
            .outputs
            .iter()
            .zip(&new.outputs)
            .all(|(a, b)| a.name == b.name && !a.key.is_empty() && a.key == b.key)
}

/// Tables (old names) whose change needs the views reading them out of the way: renamed or
/// moved, dropped, or with a column renamed, dropped, or changed in type, collation or
/// generation; and tables with a column of an enum type that is rebuilt.
pub(super) fn affected_tables(from: &Schema, changes: &[Change]) -> BTreeSet<QualifiedName> {
    let mut out = BTreeSet::new();
    let mut rebuilt_enums: Vec<&QualifiedName> = Vec::new();
    for c in changes {
        match c {
            Change::DropTable(t) => {
                out.insert(t.name.clone());
            }
            Change::AlterTable(td) => {
                let needs = td.renamed()
                    || td.changes.iter().any(|tc| match tc {
                        TableChange::RenameColumn { .. } | TableChange::DropColumn(_) => true,
                        TableChange::AlterColumn { from, to } => {
                            from.data_type != to.data_type
                                || from.collation != to.collation
                                || from.generated != to.generated
                        }
                        _ => false,
                    });
                if needs {
                    out.insert(td.from.name.clone());
                }
            }
            // Removing or reordering values rebuilds the type and converts its columns.
            Change::AlterEnum { from: old, to: new } => {
                let appended_only = old.values.iter().all(|v| new.values.contains(v));
                if !appended_only || old.values.iter().zip(&new.values).any(|(a, b)| a != b) {
                    rebuilt_enums.push(&old.name);
                }
            }
            _ => {}
        }
    }
    for e in rebuilt_enums {
        for t in from.tables.values() {
            // Column types spell the enum with quotes or without; a false positive only
            // re-creates a view needlessly.
            if t.columns.iter().any(|c| c.data_type.contains(&e.name)) {
                out.insert(t.name.clone());
            }
        }
    }
    // Column changes on a partitioned table reach its partitions, and their views.
    crate::partition::with_partitions(from, &mut out);
    out
}

/// `CREATE [OR REPLACE] [MATERIALIZED] VIEW ...` with the view's comment and indexes;
/// `from` says what a created view is granted by default.
fn create_view_step(from: &Schema, v: &View, or_replace: bool) -> Step {
    let mut sql = String::from("CREATE ");
    if or_replace {
        sql.push_str("OR REPLACE ");
    }
    sql.push_str(if v.materialized {
        "MATERIALIZED VIEW "
    } else {
        "VIEW "
    });
    sql.push_str(&quote_qualified(&v.name));
    if !v.columns.is_empty() {
        let cols: Vec<String> = v.columns.iter().map(|c| quote_ident(c)).collect();
        sql.push_str(&format!(" ({})", cols.join(", ")));
    }
    if !v.options.is_empty() {
        sql.push_str(&format!(" WITH ({})", v.options.join(", ")));
    }
    sql.push_str(" AS\n");
    sql.push_str(v.query.sql.trim().trim_end_matches(';').trim_end());
    let mut step = Step::new(sql);
    if !or_replace {
        if let Some(c) = &v.comment {
            step.statements.push(comment_sql(
                view_kind(v),
                &quote_qualified(&v.name),
                Some(c),
            ));
        }
        for (column, text) in &v.column_comments {
            step.statements
                .push(column_comment_sql(v, column, Some(text)));
        }
        for idx in &v.indexes {
            step.statements
                .extend(create_index_statements(&v.name, idx));
        }
        // A view dropped and created again has lost its privileges: all of them again.
        step.statements.extend(super::grants::created(
            from,
            GrantObject::Relation(v.name.clone()),
            &v.grants,
        ));
    }
    step
}
