//! Diff: two schemas in, a list of dialect-neutral changes out.
//!
//! Renames are never guessed. A table (or column) that disappears while another appears is
//! an *ambiguity*; [`find_ambiguities`] lists them and the caller answers each one (an
//! `@renamed` annotation, a flag, or a prompt) through [`Renames`] before calling [`diff`].

use std::collections::{BTreeMap, BTreeSet};

use crate::function::{Function, Trigger};
use crate::model::*;

mod functions;
mod security;

/// One difference between two schemas. Dialect planners order and render these.
// Changes are few and short-lived; boxing the table variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    CreateNamespace(String),
    DropNamespace(String),
    /// `COMMENT ON SCHEMA`; `None` clears it (for `public`: back to the server's default).
    CommentNamespace {
        name: String,
        comment: Option<String>,
    },
    CreateEnum(EnumType),
    DropEnum(EnumType),
    AlterEnum {
        from: EnumType,
        to: EnumType,
    },
    CreateSequence(Sequence),
    DropSequence(Sequence),
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
    CreateTable(Table),
    DropTable(Table),
    AlterTable(TableDiff),
    CreateView(View),
    DropView(View),
    /// A view whose definition changed (query, options, comment or indexes); the planner
    /// decides between `CREATE OR REPLACE`, `COMMENT ON` and drop + create.
    AlterView {
        from: View,
        to: View,
    },
    CreateExtension(Extension),
    DropExtension(Extension),
    /// Schema or comment changed.
    AlterExtension {
        from: Extension,
        to: Extension,
    },
    CreateCompositeType(CompositeType),
    DropCompositeType(CompositeType),
    AlterCompositeType {
        from: CompositeType,
        to: CompositeType,
    },
    /// `ENABLE`/`DISABLE` and `FORCE`/`NO FORCE ROW LEVEL SECURITY` on a table (new name);
    /// `None`: unchanged.
    SetRowSecurity {
        table: QualifiedName,
        enable: Option<bool>,
        force: Option<bool>,
    },
    /// A policy of a table (under its new name).
    CreatePolicy {
        table: QualifiedName,
        policy: Policy,
    },
    /// A policy of a table that stays (under its old name); a dropped table's go with it.
    DropPolicy {
        table: QualifiedName,
        policy: Policy,
    },
    AlterPolicy {
        table: QualifiedName,
        from: Policy,
        to: Policy,
    },
    CreateFunction(Function),
    DropFunction(Function),
    /// Same identity (name and input types), different definition; the planner decides
    /// between `CREATE OR REPLACE`, `COMMENT ON` and drop + create.
    AlterFunction {
        from: Function,
        to: Function,
    },
    CreateTrigger(Trigger),
    /// Carries the trigger under its old table name.
    DropTrigger(Trigger),
    /// `from` is under the old table name, `to` under the new one.
    AlterTrigger {
        from: Trigger,
        to: Trigger,
    },
    CreateDomain(Domain),
    DropDomain(Domain),
    /// A domain whose definition changed; the planner uses ALTER DOMAIN, or drops and
    /// creates it again when the base type or collation changed.
    AlterDomain {
        from: Domain,
        to: Domain,
    },
    /// Privileges that differ on an object present on both sides (under its new name when
    /// renamed). A created object's privileges come with its creation.
    Grants {
        on: GrantObject,
        from: Grants,
        to: Grants,
    },
}

/// What a GRANT is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantObject {
    Namespace(String),
    /// A table, view or materialized view (`GRANT ... ON TABLE` covers them all).
    Relation(QualifiedName),
    Column(QualifiedName, String),
    Sequence(QualifiedName),
    /// A function (`ON FUNCTION name(argtypes)`).
    Function(crate::function::FunctionId),
    /// A procedure (`ON PROCEDURE name(argtypes)`).
    Procedure(crate::function::FunctionId),
    /// An enum or composite type (`ON TYPE`).
    Type(QualifiedName),
    /// A domain (`ON DOMAIN`).
    Domain(QualifiedName),
    /// An entry of default privileges (`ALTER DEFAULT PRIVILEGES`); `from` and `to` are
    /// the entry's privileges, its baseline when absent on a side.
    DefaultPrivileges(DefaultPrivilegeKey),
}

/// Changes to one table that exists on both sides (possibly under a new name).
#[derive(Clone, Debug, PartialEq)]
pub struct TableDiff {
    pub from: Table,
    pub to: Table,
    pub changes: Vec<TableChange>,
}

impl TableDiff {
    pub fn renamed(&self) -> bool {
        self.from.name != self.to.name
    }
}

// Changes are few and short-lived; boxing the column variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum TableChange {
    RenameColumn {
        from: String,
        to: String,
    },
    AddColumn(Column),
    DropColumn(Column),
    /// `from` carries the old definition under the new name when the column was also renamed.
    AlterColumn {
        from: Column,
        to: Column,
    },
    DropPrimaryKey(PrimaryKey),
    AddPrimaryKey(PrimaryKey),
    DropUnique(UniqueConstraint),
    AddUnique(UniqueConstraint),
    DropCheck(CheckConstraint),
    AddCheck(CheckConstraint),
    /// A changed exclusion constraint is dropped and added again.
    DropExclusion(ExclusionConstraint),
    AddExclusion(ExclusionConstraint),
    DropForeignKey(ForeignKey),
    AddForeignKey(ForeignKey),
    DropIndex(Index),
    CreateIndex(Index),
    RenameIndex {
        from: String,
        to: String,
    },
    /// The same index built the same way with another comment or storage parameters
    /// (under the new name when renamed): `COMMENT ON INDEX`, `ALTER INDEX ... SET/RESET`.
    AlterIndex {
        from: Index,
        to: Index,
    },
    /// `COMMENT ON CONSTRAINT` of a constraint that stays as it is.
    SetConstraintComment {
        name: String,
        from: Option<String>,
        to: Option<String>,
    },
    SetComment {
        from: Option<String>,
        to: Option<String>,
    },
    /// The partition key changed (or a table became, or stopped being, partitioned).
    SetPartitionBy {
        from: Option<PartitionBy>,
        to: Option<PartitionBy>,
    },
    /// Attached, detached, or a new parent or bound (detach + attach).
    SetPartitionOf {
        from: Option<PartitionOf>,
        to: Option<PartitionOf>,
    },
}

/// The caller's answers to rename questions.
#[derive(Clone, Debug, Default)]
pub struct Renames {
    /// new table name → old table name
    pub tables: BTreeMap<QualifiedName, QualifiedName>,
    /// (table under its new name, new column) → old column
    pub columns: BTreeMap<(QualifiedName, String), String>,
    /// (table under its new name, new index) → old index
    pub indexes: BTreeMap<(QualifiedName, String), String>,
    /// Added tables/columns explicitly answered "created, not renamed".
    pub created_tables: BTreeSet<QualifiedName>,
    pub created_columns: BTreeSet<(QualifiedName, String)>,
    /// Answer "created, not renamed" to every remaining question.
    pub no_rename: bool,
}

impl Renames {
    /// The answers for the opposite direction (a migration's `down` from its `up`): every
    /// rename undone, and every other dropped+added pair a drop and a create, as the up
    /// answers said.
    pub fn reversed(&self) -> Renames {
        let old_table =
            |t: &QualifiedName| self.tables.get(t).cloned().unwrap_or_else(|| t.clone());
        Renames {
            tables: self
                .tables
                .iter()
                .map(|(new, old)| (old.clone(), new.clone()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|((table, new), old)| ((old_table(table), old.clone()), new.clone()))
                .collect(),
            indexes: self
                .indexes
                .iter()
                .map(|((table, new), old)| ((old_table(table), old.clone()), new.clone()))
                .collect(),
            created_tables: BTreeSet::new(),
            created_columns: BTreeSet::new(),
            no_rename: true,
        }
    }

    /// Adds the `@renamed` annotations of the target schema. Annotations naming an object
    /// that does not exist on the source side are ignored: that makes them idempotent
    /// (the rename already happened).
    pub fn add_hints(&mut self, from: &Schema, to: &Schema) {
        for hint in &to.rename_hints {
            match hint {
                RenameHint::Table { from: old, to: new } => {
                    if from.tables.contains_key(old) && !from.tables.contains_key(new) {
                        self.tables.insert(new.clone(), old.clone());
                    }
                }
                RenameHint::Column {
                    table,
                    from: old,
                    to: new,
                } => {
                    let old_table = self.tables.get(table).unwrap_or(table);
                    if let Some(t) = from.tables.get(old_table) {
                        if t.column(old).is_some() && t.column(new).is_none() {
                            self.columns
                                .insert((table.clone(), new.clone()), old.clone());
                        }
                    }
                }
                RenameHint::Index {
                    table,
                    from: old,
                    to: new,
                } => {
                    let old_table = self.tables.get(table).unwrap_or(table);
                    if let Some(t) = from.tables.get(old_table) {
                        if t.indexes.iter().any(|i| &i.name == old)
                            && !t.indexes.iter().any(|i| &i.name == new)
                        {
                            self.indexes
                                .insert((table.clone(), new.clone()), old.clone());
                        }
                    }
                }
            }
        }
    }

    /// Checks that every answer names something that exists; returns a message otherwise.
    pub fn validate(&self, from: &Schema, to: &Schema) -> Result<(), String> {
        for (new, old) in &self.tables {
            if !from.tables.contains_key(old) {
                return Err(format!(
                    "cannot rename table {old} to {new}: {old} does not exist"
                ));
            }
            if !to.tables.contains_key(new) {
                return Err(format!(
                    "cannot rename table {old} to {new}: the target schema has no table {new}"
                ));
            }
            if to.tables.contains_key(old) {
                return Err(format!(
                    "cannot rename table {old} to {new}: table {old} still exists in the target schema"
                ));
            }
        }
        for ((table, new), old) in &self.columns {
            let old_table = self.tables.get(table).unwrap_or(table);
            let Some(source) = from.tables.get(old_table) else {
                return Err(format!("cannot rename column {table}.{old}: no such table"));
            };
            if source.column(old).is_none() {
                return Err(format!(
                    "cannot rename column '{old}' to '{new}' in {table}: column '{old}' does not exist"
                ));
            }
            let target = to.tables.get(table);
            if target.and_then(|t| t.column(new)).is_none() {
                return Err(format!(
                    "cannot rename column '{old}' to '{new}' in {table}: the target has no column '{new}'"
                ));
            }
            if target.and_then(|t| t.column(old)).is_some() {
                return Err(format!(
                    "cannot rename column '{old}' to '{new}' - column '{old}' still exists"
                ));
            }
        }
        Ok(())
    }
}

/// An unanswered "renamed or created?" question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ambiguity {
    Table {
        namespace: String,
        dropped: Vec<String>,
        added: Vec<String>,
    },
    Column {
        table: QualifiedName,
        dropped: Vec<String>,
        added: Vec<String>,
    },
}

impl std::fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ambiguity::Table {
                namespace,
                dropped,
                added,
            } => write!(
                f,
                "in schema {namespace}: table(s) {} created while {} dropped: renamed or new?",
                added.join(", "),
                dropped.join(", ")
            ),
            Ambiguity::Column {
                table,
                dropped,
                added,
            } => write!(
                f,
                "in table {table}: column(s) {} added while {} dropped: renamed or new?",
                added.join(", "),
                dropped.join(", ")
            ),
        }
    }
}

/// Lists the rename questions `renames` leaves open.
pub fn find_ambiguities(from: &Schema, to: &Schema, renames: &Renames) -> Vec<Ambiguity> {
    if renames.no_rename {
        return Vec::new();
    }
    let mut out = Vec::new();
    let renamed_old: BTreeSet<&QualifiedName> = renames.tables.values().collect();
    let dropped: Vec<&QualifiedName> = from
        .tables
        .keys()
        .filter(|n| !to.tables.contains_key(*n) && !renamed_old.contains(n))
        .collect();
    let added: Vec<&QualifiedName> = to
        .tables
        .keys()
        .filter(|n| {
            !from.tables.contains_key(*n)
                && !renames.tables.contains_key(*n)
                && !renames.created_tables.contains(*n)
        })
        .collect();
    let namespaces: BTreeSet<&String> = added.iter().map(|n| &n.schema).collect();
    for ns in namespaces {
        let d: Vec<String> = dropped
            .iter()
            .filter(|n| &n.schema == ns)
            .map(|n| n.name.clone())
            .collect();
        let a: Vec<String> = added
            .iter()
            .filter(|n| &n.schema == ns)
            .map(|n| n.name.clone())
            .collect();
        if !d.is_empty() && !a.is_empty() {
            out.push(Ambiguity::Table {
                namespace: ns.clone(),
                dropped: d,
                added: a,
            });
        }
    }
    for (name, target) in &to.tables {
        let old_name = renames.tables.get(name).unwrap_or(name);
        let Some(source) = from.tables.get(old_name) else {
            continue;
        };
        let renamed_cols: BTreeSet<&String> = renames
            .columns
            .iter()
            .filter(|((t, _), _)| t == name)
            .map(|(_, old)| old)
            .collect();
        let d: Vec<String> = source
            .columns
            .iter()
            .filter(|c| target.column(&c.name).is_none() && !renamed_cols.contains(&c.name))
            .map(|c| c.name.clone())
            .collect();
        let a: Vec<String> = target
            .columns
            .iter()
            .filter(|c| {
                let key = (name.clone(), c.name.clone());
                source.column(&c.name).is_none()
                    && !renames.columns.contains_key(&key)
                    && !renames.created_columns.contains(&key)
            })
            .map(|c| c.name.clone())
            .collect();
        if !d.is_empty() && !a.is_empty() {
            out.push(Ambiguity::Column {
                table: name.clone(),
                dropped: d,
                added: a,
            });
        }
    }
    out
}

fn diff_domains(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    for (name, d) in &to.domains {
        match from.domains.get(name) {
            None => changes.push(Change::CreateDomain(d.clone())),
            Some(old) if !same_without_grants(old, d, |t| &mut t.grants) => {
                changes.push(Change::AlterDomain {
                    from: old.clone(),
                    to: d.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (name, d) in &from.domains {
        if !to.domains.contains_key(name) {
            changes.push(Change::DropDomain(d.clone()));
        }
    }
}

/// Whether `a` and `b` are equal but for their privileges (`grants` picks them out), which
/// change by `Change::Grants`.
pub(crate) fn same_without_grants<T: Clone + PartialEq>(
    a: &T,
    b: &T,
    grants: impl Fn(&mut T) -> &mut Grants,
) -> bool {
    let mut a = a.clone();
    *grants(&mut a) = grants(&mut b.clone()).clone();
    &a == b
}

/// Computes the changes that turn `from` into `to`, applying `renames`.
fn same_sequence(a: &Sequence, b: &Sequence) -> bool {
    let mut a = a.clone();
    a.grants = b.grants.clone();
    &a == b
}

/// `Change::Grants` for every object on both sides whose privileges differ.
fn diff_grants(from: &Schema, to: &Schema, renames: &Renames, changes: &mut Vec<Change>) {
    let mut push = |on: GrantObject, old: &Grants, new: &Grants| {
        if old != new {
            changes.push(Change::Grants {
                on,
                from: old.clone(),
                to: new.clone(),
            });
        }
    };
    let none = Grants::new();
    let namespaces: BTreeSet<&String> = from
        .namespace_grants
        .keys()
        .chain(to.namespace_grants.keys())
        .collect();
    for ns in namespaces {
        // Created and dropped schemas: their privileges come and go with them.
        if from.namespaces.contains(ns) != to.namespaces.contains(ns) {
            continue;
        }
        push(
            GrantObject::Namespace(ns.clone()),
            from.namespace_grants.get(ns).unwrap_or(&none),
            to.namespace_grants.get(ns).unwrap_or(&none),
        );
    }
    for (name, t) in &to.tables {
        let old_name = renames.tables.get(name).unwrap_or(name);
        let Some(old) = from.tables.get(old_name) else {
            continue;
        };
        push(GrantObject::Relation(name.clone()), &old.grants, &t.grants);
        for col in &t.columns {
            let old_col = renames
                .columns
                .get(&(name.clone(), col.name.clone()))
                .unwrap_or(&col.name);
            if let Some(old_col) = old.column(old_col) {
                push(
                    GrantObject::Column(name.clone(), col.name.clone()),
                    &old_col.grants,
                    &col.grants,
                );
            }
        }
    }
    for (name, v) in &to.views {
        if let Some(old) = from.views.get(name) {
            push(GrantObject::Relation(name.clone()), &old.grants, &v.grants);
        }
    }
    for (name, s) in &to.sequences {
        if let Some(old) = from.sequences.get(name) {
            push(GrantObject::Sequence(name.clone()), &old.grants, &s.grants);
        }
    }
    for (id, f) in &to.functions {
        if let Some(old) = from.functions.get(id) {
            let on = if f.procedure {
                GrantObject::Procedure(id.clone())
            } else {
                GrantObject::Function(id.clone())
            };
            push(on, &old.grants, &f.grants);
        }
    }
    for (name, e) in &to.enums {
        if let Some(old) = from.enums.get(name) {
            push(GrantObject::Type(name.clone()), &old.grants, &e.grants);
        }
    }
    for (name, c) in &to.composite_types {
        if let Some(old) = from.composite_types.get(name) {
            push(GrantObject::Type(name.clone()), &old.grants, &c.grants);
        }
    }
    for (name, d) in &to.domains {
        if let Some(old) = from.domains.get(name) {
            push(GrantObject::Domain(name.clone()), &old.grants, &d.grants);
        }
    }
    let keys: BTreeSet<&DefaultPrivilegeKey> = from
        .default_privileges
        .keys()
        .chain(to.default_privileges.keys())
        .collect();
    for key in keys {
        push(
            GrantObject::DefaultPrivileges(key.clone()),
            &from.default_privileges_of(key),
            &to.default_privileges_of(key),
        );
    }
}

/// The objects (as `view s.v`, `function s.f(args)`) whose change may be no change at all
/// when one side was read from a database and the other from files without a dev database:
/// the server keeps view queries and SQL-standard function bodies parsed and prints them
/// back rewritten, which ferry's offline normalisation does not always undo.
pub fn unproven_changes(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::AlterView { from, to } if from.query.key != to.query.key => {
                Some(format!("view {}", to.name))
            }
            Change::AlterFunction { from, to } => match (&from.body, &to.body) {
                (crate::FunctionBody::Sql(a), crate::FunctionBody::Sql(b)) if a != b => {
                    Some(format!("function {}", to.id()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

pub fn diff(from: &Schema, to: &Schema, renames: &Renames) -> Vec<Change> {
    let mut changes = Vec::new();

    for ns in to.namespaces.difference(&from.namespaces) {
        changes.push(Change::CreateNamespace(ns.clone()));
    }
    let commented: BTreeSet<&String> = from
        .namespace_comments
        .keys()
        .chain(to.namespace_comments.keys())
        .collect();
    for ns in commented {
        let comment = to.namespace_comments.get(ns);
        let exists = ns == "public" || to.namespaces.contains(ns);
        if exists && from.namespace_comments.get(ns) != comment {
            changes.push(Change::CommentNamespace {
                name: ns.clone(),
                comment: comment.cloned(),
            });
        }
    }

    security::diff_types_and_extensions(from, to, &mut changes);
    for (name, e) in &to.enums {
        match from.enums.get(name) {
            None => changes.push(Change::CreateEnum(e.clone())),
            Some(old) if !same_without_grants(old, e, |t| &mut t.grants) => {
                changes.push(Change::AlterEnum {
                    from: old.clone(),
                    to: e.clone(),
                })
            }
            Some(_) => {}
        }
    }
    diff_domains(from, to, &mut changes);
    for (name, s) in &to.sequences {
        match from.sequences.get(name) {
            None => changes.push(Change::CreateSequence(s.clone())),
            Some(old) if !same_sequence(old, s) => changes.push(Change::AlterSequence {
                from: old.clone(),
                to: s.clone(),
            }),
            Some(_) => {}
        }
    }

    let renamed_old: BTreeSet<&QualifiedName> = renames.tables.values().collect();
    for (name, t) in &to.tables {
        let old_name = renames.tables.get(name).unwrap_or(name);
        match from.tables.get(old_name) {
            None => changes.push(Change::CreateTable(t.clone())),
            Some(old) => {
                let table_changes = diff_table(old, t, renames);
                if !table_changes.is_empty() || old.name != t.name {
                    changes.push(Change::AlterTable(TableDiff {
                        from: old.clone(),
                        to: t.clone(),
                        changes: table_changes,
                    }));
                }
            }
        }
    }
    for (name, t) in &from.tables {
        if !to.tables.contains_key(name) && !renamed_old.contains(name) {
            changes.push(Change::DropTable(t.clone()));
        }
    }
    for (name, v) in &to.views {
        match from.views.get(name) {
            None => changes.push(Change::CreateView(v.clone())),
            Some(old) if old != v => changes.push(Change::AlterView {
                from: old.clone(),
                to: v.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, v) in &from.views {
        if !to.views.contains_key(name) {
            changes.push(Change::DropView(v.clone()));
        }
    }
    functions::diff_functions(from, to, renames, &mut changes);
    security::diff_policies(from, to, renames, &mut changes);
    for (name, s) in &from.sequences {
        if !to.sequences.contains_key(name) {
            changes.push(Change::DropSequence(s.clone()));
        }
    }
    diff_grants(from, to, renames, &mut changes);
    for (name, e) in &from.enums {
        if !to.enums.contains_key(name) {
            changes.push(Change::DropEnum(e.clone()));
        }
    }
    for ns in from.namespaces.difference(&to.namespaces) {
        changes.push(Change::DropNamespace(ns.clone()));
    }
    changes
}

fn diff_table(from: &Table, to: &Table, renames: &Renames) -> Vec<TableChange> {
    let mut out = Vec::new();
    let column_renames: BTreeMap<&String, &String> = renames
        .columns
        .iter()
        .filter(|((t, _), _)| *t == to.name)
        .map(|((_, new), old)| (new, old))
        .collect();
    let renamed_old: BTreeSet<&String> = column_renames.values().copied().collect();

    if from.partition_by != to.partition_by {
        out.push(TableChange::SetPartitionBy {
            from: from.partition_by.clone(),
            to: to.partition_by.clone(),
        });
    }
    // A partition of a renamed parent is still attached to it.
    let parent_renamed = |of: &PartitionOf| PartitionOf {
        parent: renames
            .tables
            .get(&of.parent)
            .cloned()
            .unwrap_or_else(|| of.parent.clone()),
        bound: of.bound.clone(),
    };
    if from.partition_of != to.partition_of.as_ref().map(parent_renamed) {
        out.push(TableChange::SetPartitionOf {
            from: from.partition_of.clone(),
            to: to.partition_of.clone(),
        });
        if from.partition_of.is_none() != to.partition_of.is_none() {
            // Attached or detached: a partition's columns and inherited objects live on
            // its parent, so the two sides' lists are not comparable.
            return out;
        }
    }

    // Columns: renames first, so later steps can refer to the new names.
    for col in &to.columns {
        let old_name = column_renames.get(&col.name).copied().unwrap_or(&col.name);
        match from.column(old_name) {
            None => out.push(TableChange::AddColumn(col.clone())),
            Some(old) => {
                if old.name != col.name {
                    out.push(TableChange::RenameColumn {
                        from: old.name.clone(),
                        to: col.name.clone(),
                    });
                }
                let mut old_renamed = old.clone();
                old_renamed.name = col.name.clone();
                // Column privileges are `Change::Grants`, not a change of the column.
                old_renamed.grants = col.grants.clone();
                if &old_renamed != col {
                    out.push(TableChange::AlterColumn {
                        from: old_renamed,
                        to: col.clone(),
                    });
                }
            }
        }
    }
    for col in &from.columns {
        if to.column(&col.name).is_none() && !renamed_old.contains(&col.name) {
            out.push(TableChange::DropColumn(col.clone()));
        }
    }
    // Constraints and indexes refer to columns by name: compare them after applying the
    // column renames to the old side, so that a rename alone does not rebuild them.
    let rename_col = |c: &String| -> String {
        column_renames
            .iter()
            .find(|(_, old)| **old == c)
            .map(|(new, _)| (*new).clone())
            .unwrap_or_else(|| c.clone())
    };
    let old = rename_columns_in(from, &rename_col);

    let pk = |k: &Option<PrimaryKey>| k.iter().cloned().collect::<Vec<_>>();
    let (drop, add) = unmatched_constraints(&pk(&old.primary_key), &pk(&to.primary_key), &mut out);
    out.extend(drop.into_iter().map(TableChange::DropPrimaryKey));
    out.extend(add.into_iter().map(TableChange::AddPrimaryKey));
    let (drop, add) = unmatched_constraints(&old.uniques, &to.uniques, &mut out);
    out.extend(drop.into_iter().map(TableChange::DropUnique));
    out.extend(add.into_iter().map(TableChange::AddUnique));
    let (drop, add) = unmatched_constraints(&old.checks, &to.checks, &mut out);
    out.extend(drop.into_iter().map(TableChange::DropCheck));
    out.extend(add.into_iter().map(TableChange::AddCheck));
    let (drop, add) = unmatched_constraints(&old.exclusions, &to.exclusions, &mut out);
    out.extend(drop.into_iter().map(TableChange::DropExclusion));
    out.extend(add.into_iter().map(TableChange::AddExclusion));
    let (drop, add) = unmatched_constraints(&old.foreign_keys, &to.foreign_keys, &mut out);
    out.extend(drop.into_iter().map(TableChange::DropForeignKey));
    out.extend(add.into_iter().map(TableChange::AddForeignKey));

    // Indexes, with index renames (annotations) applied.
    let index_renames: BTreeMap<&String, &String> = renames
        .indexes
        .iter()
        .filter(|((t, _), _)| *t == to.name)
        .map(|((_, new), old)| (new, old))
        .collect();
    let mut old_indexes = old.indexes.clone();
    for idx in &mut old_indexes {
        if let Some((new, _)) = index_renames.iter().find(|(_, o)| ***o == idx.name) {
            // A new comment or new storage parameters are changed after the rename.
            let same = to.indexes.iter().any(|i| {
                &i.name == *new && {
                    let mut renamed = idx.clone();
                    renamed.name = (*new).clone();
                    renamed.same_build(i)
                }
            });
            if same {
                out.push(TableChange::RenameIndex {
                    from: idx.name.clone(),
                    to: (*new).clone(),
                });
                idx.name = (*new).clone();
            }
        }
    }
    let (drop, add) = unmatched(&old_indexes, &to.indexes);
    let (drop, add, altered) = same_builds(drop, add);
    out.extend(drop.into_iter().map(TableChange::DropIndex));
    out.extend(add.into_iter().map(TableChange::CreateIndex));
    out.extend(
        altered
            .into_iter()
            .map(|(from, to)| TableChange::AlterIndex { from, to }),
    );

    if from.comment != to.comment {
        out.push(TableChange::SetComment {
            from: from.comment.clone(),
            to: to.comment.clone(),
        });
    }
    out
}

/// Items only on the left, items only on the right (equality is the model's `PartialEq`).
fn unmatched<T: PartialEq + Clone>(left: &[T], right: &[T]) -> (Vec<T>, Vec<T>) {
    let only_left = left
        .iter()
        .filter(|x| !right.contains(x))
        .cloned()
        .collect();
    let only_right = right
        .iter()
        .filter(|x| !left.contains(x))
        .cloned()
        .collect();
    (only_left, only_right)
}

/// [`unmatched`] for constraints, where a constraint whose comment alone differs is a
/// `SetConstraintComment` (pushed to `out`), not a drop and an add.
fn unmatched_constraints<T: Constraint>(
    left: &[T],
    right: &[T],
    out: &mut Vec<TableChange>,
) -> (Vec<T>, Vec<T>) {
    let (mut drop, mut add) = unmatched(left, right);
    drop.retain(|d| {
        let Some(pos) = add.iter().position(|a| d.same_but_comment(a)) else {
            return true;
        };
        let new = add.remove(pos);
        out.push(TableChange::SetConstraintComment {
            name: new.name().clone(),
            from: d.comment().map(str::to_string),
            to: new.comment().map(str::to_string),
        });
        false
    });
    (drop, add)
}

/// Dropped and created indexes with the pairs among them that are the same index built the
/// same way (equal but for comment and storage parameters) taken out.
pub fn same_builds(
    mut drop: Vec<Index>,
    mut add: Vec<Index>,
) -> (Vec<Index>, Vec<Index>, Vec<(Index, Index)>) {
    let mut altered = Vec::new();
    drop.retain(|d| {
        let Some(pos) = add.iter().position(|a| d.same_build(a)) else {
            return true;
        };
        altered.push((d.clone(), add.remove(pos)));
        false
    });
    (drop, add, altered)
}

/// A copy of `table` whose constraints and indexes refer to renamed columns by new names.
fn rename_columns_in(table: &Table, rename: &dyn Fn(&String) -> String) -> Table {
    let mut t = table.clone();
    let all = |cols: &mut Vec<String>| cols.iter_mut().for_each(|c| *c = rename(c));
    if let Some(pk) = &mut t.primary_key {
        all(&mut pk.columns);
    }
    t.uniques.iter_mut().for_each(|u| all(&mut u.columns));
    t.foreign_keys.iter_mut().for_each(|f| all(&mut f.columns));
    for idx in &mut t.indexes {
        all(&mut idx.include);
        for key in &mut idx.keys {
            if let IndexTarget::Column(c) = &mut key.target {
                *c = rename(c);
            }
        }
    }
    for x in &mut t.exclusions {
        all(&mut x.include);
        for e in &mut x.elements {
            if let IndexTarget::Column(c) = &mut e.key.target {
                *c = rename(c);
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_with(tables: &[(&str, &[&str])]) -> Schema {
        let mut s = Schema::default();
        for (name, cols) in tables {
            let mut t = Table::new(QualifiedName::new("public", *name));
            for c in *cols {
                t.columns.push(Column::new(*c, "integer"));
            }
            s.tables.insert(t.name.clone(), t);
        }
        s
    }

    #[test]
    fn dropped_and_added_column_is_ambiguous_until_answered() {
        let a = schema_with(&[("users", &["id", "name"])]);
        let b = schema_with(&[("users", &["id", "full_name"])]);
        let mut renames = Renames::default();
        let amb = find_ambiguities(&a, &b, &renames);
        assert_eq!(amb.len(), 1);
        renames.columns.insert(
            (QualifiedName::new("public", "users"), "full_name".into()),
            "name".into(),
        );
        assert!(find_ambiguities(&a, &b, &renames).is_empty());
        let changes = diff(&a, &b, &renames);
        let Change::AlterTable(td) = &changes[0] else {
            panic!("expected AlterTable, got {changes:?}")
        };
        assert_eq!(
            td.changes,
            vec![TableChange::RenameColumn {
                from: "name".into(),
                to: "full_name".into()
            }]
        );
    }

    #[test]
    fn renamed_table_keeps_its_columns() {
        let a = schema_with(&[("accounts", &["id"])]);
        let b = schema_with(&[("users", &["id"])]);
        let mut renames = Renames::default();
        assert_eq!(find_ambiguities(&a, &b, &renames).len(), 1);
        renames.tables.insert(
            QualifiedName::new("public", "users"),
            QualifiedName::new("public", "accounts"),
        );
        let changes = diff(&a, &b, &renames);
        assert_eq!(changes.len(), 1);
        assert!(
            matches!(&changes[0], Change::AlterTable(td) if td.renamed() && td.changes.is_empty())
        );
    }

    #[test]
    fn views_are_created_dropped_and_changed() {
        let view = |name: &str, key: &str| {
            let sql = format!("SELECT {key}");
            View::new(
                QualifiedName::new("public", name),
                Expr {
                    sql: sql.clone(),
                    key: sql,
                },
            )
        };
        let mut a = schema_with(&[("t", &["x"])]);
        let mut b = a.clone();
        a.views
            .insert(view("kept", "1").name.clone(), view("kept", "1"));
        a.views
            .insert(view("gone", "1").name.clone(), view("gone", "1"));
        a.views
            .insert(view("changed", "1").name.clone(), view("changed", "1"));
        b.views
            .insert(view("kept", "1").name.clone(), view("kept", "1"));
        b.views
            .insert(view("new", "1").name.clone(), view("new", "1"));
        b.views
            .insert(view("changed", "2").name.clone(), view("changed", "2"));
        // Derived facts do not make a view different.
        let mut kept = view("kept", "1");
        kept.references.insert(QualifiedName::new("public", "t"));
        b.views.insert(kept.name.clone(), kept);
        let changes = diff(&a, &b, &Renames::default());
        let names: Vec<String> = changes
            .iter()
            .map(|c| match c {
                Change::CreateView(v) => format!("create {}", v.name.name),
                Change::DropView(v) => format!("drop {}", v.name.name),
                Change::AlterView { to, .. } => format!("alter {}", to.name.name),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(names, ["alter changed", "create new", "drop gone"]);
    }

    #[test]
    fn domains_are_created_dropped_and_changed() {
        let domain = |name: &str, default: Option<&str>| {
            let mut d = Domain::new(QualifiedName::new("public", name), "integer");
            d.default = default.map(|k| Expr {
                sql: k.to_string(),
                key: k.to_string(),
            });
            d
        };
        let mut a = Schema::default();
        let mut b = Schema::default();
        for d in [
            domain("kept", None),
            domain("gone", None),
            domain("changed", None),
        ] {
            a.domains.insert(d.name.clone(), d);
        }
        for d in [
            domain("kept", None),
            domain("new", None),
            domain("changed", Some("1")),
        ] {
            b.domains.insert(d.name.clone(), d);
        }
        let names: Vec<String> = diff(&a, &b, &Renames::default())
            .iter()
            .map(|c| match c {
                Change::CreateDomain(d) => format!("create {}", d.name.name),
                Change::DropDomain(d) => format!("drop {}", d.name.name),
                Change::AlterDomain { from, to } => {
                    assert!(from.default.is_none() && to.default.is_some());
                    format!("alter {}", to.name.name)
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(names, ["alter changed", "create new", "drop gone"]);
    }

    #[test]
    fn comments_and_storage_parameters_change_in_place() {
        let mut a = schema_with(&[("t", &["x"])]);
        let t = a.tables.values_mut().next().unwrap();
        t.checks.push(CheckConstraint {
            name: "c".into(),
            expr: Expr {
                sql: "x > 0".into(),
                key: "x > 0".into(),
            },
            no_inherit: false,
            comment: None,
        });
        t.indexes.push(Index {
            name: "i".into(),
            keys: vec![IndexKey::column("x")],
            storage: StorageParams(vec!["fillfactor=70".into()]),
            ..Default::default()
        });
        let mut b = a.clone();
        let t = b.tables.values_mut().next().unwrap();
        t.checks[0].comment = Some("positive".into());
        t.indexes[0].comment = Some("x".into());
        t.indexes[0].storage.0 = vec!["fillfactor=80".into()];
        let changes = diff(&a, &b, &Renames::default());
        let Change::AlterTable(td) = &changes[0] else {
            panic!("expected AlterTable, got {changes:?}")
        };
        assert!(
            matches!(&td.changes[..], [
                TableChange::SetConstraintComment { name, from: None, to: Some(_) },
                TableChange::AlterIndex { .. },
            ] if name == "c"),
            "{:?}",
            td.changes
        );
        // A changed key is a rebuild, comment and all.
        b.tables.values_mut().next().unwrap().indexes[0].unique = true;
        let changes = diff(&a, &b, &Renames::default());
        let Change::AlterTable(td) = &changes[0] else {
            panic!("expected AlterTable, got {changes:?}")
        };
        assert!(matches!(
            &td.changes[1..],
            [TableChange::DropIndex(_), TableChange::CreateIndex(i)] if i.comment.is_some()
        ));
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let a = schema_with(&[("a", &["x", "y"]), ("b", &["z"])]);
        assert!(diff(&a, &a.clone(), &Renames::default()).is_empty());
    }
}
