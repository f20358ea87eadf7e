//! The planner: orders the differ's changes into PostgreSQL statements, with hazards.
//!
//! Steps are collected into fixed phases (schemas, types, sequences, drops, renames,
//! creates, ...) and concatenated at the end, so that every statement only refers to
//! objects that exist at that point. Statements before the rename phase use the old
//! (`from`) names of tables and columns; statements after it use the new (`to`) names.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{
    diff, Change, CheckConstraint, Column, Constraint, Deferrable, EnumType, ExclusionConstraint,
    ForeignKey, HazardKind, Index, IndexKey, IndexTarget, MatchType, Plan, PlanError, PrimaryKey,
    QualifiedName, ReferentialAction, Renames, Schema, Sequence, SequenceOptions, Step,
    StorageParams, Table, TableChange, TableDiff, UniqueConstraint,
};

use crate::dialect::{make_object_name, quote_ident, quote_qualified, serial_sequence_name};

/// Orders and renders `changes` (the diff of `from` and `to`).
pub(crate) fn plan(from: &Schema, to: &Schema, changes: &[Change]) -> Result<Plan, PlanError> {
    let planner = Planner::new(from, to, changes);
    planner.run()
}

/// The statements that build `schema` in an empty database, as one file.
pub(crate) fn render_schema(schema: &Schema) -> Vec<(String, String)> {
    let empty = Schema::default();
    let changes = diff(&empty, schema, &Renames::default());
    let mut text = String::from(
        "-- PostgreSQL schema written by ferry.\n\
         -- Objects appear in dependency order; edit freely, ferry reads this file back.\n",
    );
    let statements = match plan(&empty, schema, &changes) {
        Ok(p) => render_statements(&p),
        // Planning from an empty schema only creates objects; an error here would be a bug,
        // reported in the file rather than by a panic.
        Err(e) => format!("-- ferry could not render this schema: {e}\n"),
    };
    if !statements.is_empty() {
        text.push('\n');
        text.push_str(statements.trim_end());
        text.push('\n');
    }
    if !schema.opaque.is_empty() {
        text.push_str("\n-- Statements ferry does not model, kept as written.\n");
        for op in &schema.opaque {
            text.push('\n');
            text.push_str(op.sql.trim().trim_end_matches(';'));
            text.push_str(";\n");
        }
    }
    vec![("schema.sql".to_string(), text)]
}

/// A plan's steps as a script: statements end with `;`, steps are separated by a blank line.
pub(crate) fn render_statements(plan: &Plan) -> String {
    let mut out = String::new();
    for step in &plan.steps {
        for stmt in &step.statements {
            out.push_str(stmt);
            out.push_str(";\n");
        }
        out.push('\n');
    }
    out
}

/// Steps grouped by phase; the plan is their concatenation in declaration order.
#[derive(Default)]
struct Phases {
    /// Policies in the way of a change, and dropped policies; see `security.rs`.
    drop_policies: Vec<Step>,
    schemas: Vec<Step>,
    /// Dropped and re-created triggers; see `functions.rs`.
    drop_triggers: Vec<Step>,
    extensions: Vec<Step>,
    /// Views in the way of a change, and dropped views; see `views.rs`.
    drop_views: Vec<Step>,
    /// Column defaults, checks, exclusion constraints, indexes and domain checks calling a
    /// function that is dropped and created again; see `Planner::drop_function_dependents`.
    drop_function_dependents: Vec<Step>,
    types: Vec<Step>,
    composite_types: Vec<Step>,
    /// Created, replaced and re-created functions; see `functions.rs`.
    functions: Vec<Step>,
    drop_identities: Vec<Step>,
    sequences: Vec<Step>,
    /// Created, altered and rebuilt domains; see `domains.rs`.
    domains: Vec<Step>,
    /// Created domains whose checks or default call a function of the schema.
    late_domains: Vec<Step>,
    drop_foreign_keys: Vec<Step>,
    drop_constraints: Vec<Step>,
    /// Dropped tables that free a name the plan takes again; see `Planner::drop_tables`.
    drop_tables_early: Vec<Step>,
    renames: Vec<Step>,
    create_tables: Vec<Step>,
    add_columns: Vec<Step>,
    alter_columns: Vec<Step>,
    drop_columns: Vec<Step>,
    add_constraints: Vec<Step>,
    create_indexes: Vec<Step>,
    add_foreign_keys: Vec<Step>,
    comments: Vec<Step>,
    sequence_owners: Vec<Step>,
    /// Functions whose signature uses a table's row type.
    late_functions: Vec<Step>,
    /// Created, re-created and replaced views, after every table change they may read.
    create_views: Vec<Step>,
    create_triggers: Vec<Step>,
    /// Row level security switches and policies, after everything they may read.
    policies: Vec<Step>,
    /// GRANT and REVOKE, once every object they name exists; see `grants.rs`.
    grants: Vec<Step>,
    drop_tables: Vec<Step>,
    /// Dropped domains whose checks or default call a function.
    drop_late_domains: Vec<Step>,
    drop_functions: Vec<Step>,
    drop_domains: Vec<Step>,
    drop_sequences: Vec<Step>,
    drop_composite_types: Vec<Step>,
    drop_types: Vec<Step>,
    drop_extensions: Vec<Step>,
    drop_schemas: Vec<Step>,
}

impl Phases {
    fn into_steps(self) -> Vec<Step> {
        [
            self.drop_policies,
            self.schemas,
            self.drop_triggers,
            self.extensions,
            self.drop_views,
            self.drop_function_dependents,
            self.types,
            // Composite types, functions and tables may use domains.
            self.domains,
            self.composite_types,
            self.functions,
            self.late_domains,
            self.drop_identities,
            self.sequences,
            self.drop_foreign_keys,
            self.drop_constraints,
            self.drop_tables_early,
            self.renames,
            self.create_tables,
            self.add_columns,
            self.alter_columns,
            self.drop_columns,
            self.add_constraints,
            self.create_indexes,
            self.add_foreign_keys,
            self.comments,
            self.sequence_owners,
            self.late_functions,
            self.create_views,
            self.create_triggers,
            self.policies,
            self.grants,
            self.drop_tables,
            self.drop_late_domains,
            self.drop_functions,
            self.drop_domains,
            self.drop_sequences,
            self.drop_composite_types,
            self.drop_types,
            self.drop_extensions,
            self.drop_schemas,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A table-level object that must be created again after an implicit drop (a column
/// drop+add, an enum rebuild, a key a foreign key depends on).
#[derive(Clone, Debug)]
enum Readd {
    PrimaryKey(PrimaryKey),
    Unique(UniqueConstraint),
    Check(CheckConstraint),
    Exclusion(ExclusionConstraint),
    Index(Index),
    ForeignKey(ForeignKey),
}

impl Readd {
    fn name(&self) -> &str {
        match self {
            Readd::PrimaryKey(x) => &x.name,
            Readd::Unique(x) => &x.name,
            Readd::Check(x) => &x.name,
            Readd::Exclusion(x) => &x.name,
            Readd::Index(x) => &x.name,
            Readd::ForeignKey(x) => &x.name,
        }
    }
}

struct Planner<'a> {
    from: &'a Schema,
    to: &'a Schema,
    changes: &'a [Change],
    created_tables: BTreeMap<QualifiedName, &'a Table>,
    dropped_tables: BTreeMap<QualifiedName, &'a Table>,
    /// Altered tables by their old name.
    altered_by_from: BTreeMap<QualifiedName, &'a TableDiff>,
    /// Altered tables by their new name.
    altered_by_to: BTreeMap<QualifiedName, &'a TableDiff>,
    created_sequences: BTreeSet<QualifiedName>,
    /// Sequences rendered as `serial` columns instead of CREATE SEQUENCE.
    serial_sequences: BTreeSet<QualifiedName>,
    /// How many column defaults of the target schema call nextval() on each sequence.
    sequence_users: BTreeMap<QualifiedName, usize>,
    /// (table under its old name, constraint or index name) already dropped by an earlier
    /// phase; the differ's own drop of the same object is skipped.
    dropped_early: BTreeSet<(QualifiedName, String)>,
    /// Objects to create again, by table under its new name.
    readds: BTreeMap<QualifiedName, Vec<Readd>>,
    /// Foreign keys of new tables that cannot be written inline (cycles, keys created
    /// later): (new table, constraint name).
    deferred_fks: BTreeSet<(QualifiedName, String)>,
    /// Columns rebuilt by DROP + ADD COLUMN (generated expression changes): (new table, column).
    rebuilt_columns: BTreeSet<(QualifiedName, String)>,
    /// ADD VALUE steps, which may have to move out of the transaction.
    added_enum_values: Vec<AddedEnumValue>,
    /// Constraints and indexes the differ drops and adds again identical but for the name
    /// (implicit names after a table rename): renamed instead. By table under its new name.
    object_renames: BTreeMap<QualifiedName, Vec<ObjectRename>>,
    /// (old table, old name) of those renamed objects: their drop is skipped.
    renamed_from: BTreeSet<(QualifiedName, String)>,
    /// (new table, new name) of those renamed objects: their creation is skipped.
    renamed_to: BTreeSet<(QualifiedName, String)>,
    /// Owned sequences dropped and created again identical but for the name (a serial
    /// column of a renamed table): renamed instead, so they keep their current value.
    sequence_renames: Vec<SequenceRename>,
    phases: Phases,
}

struct SequenceRename {
    old: Sequence,
    /// The owner table under its old name.
    owner: QualifiedName,
    /// Where the old sequence is once tables have moved (SET SCHEMA takes it along).
    current: QualifiedName,
    new: Sequence,
}

/// A constraint or index renamed in place.
struct ObjectRename {
    index: bool,
    from: String,
    to: String,
    /// What changes after the rename: its comment, an index's storage parameters.
    after: Vec<String>,
}

/// An `ALTER TYPE ... ADD VALUE` step, and its form for running outside the transaction.
struct AddedEnumValue {
    enum_name: QualifiedName,
    literal: String,
    statement: String,
    outside: String,
}

/// PostgreSQL refuses to use an enum value added in the same transaction ("unsafe use of
/// new value"). When another statement of the plan mentions an added value, its ADD VALUE
/// runs before the transaction instead, idempotently (IF NOT EXISTS) so that a retry after
/// a failed apply works. All values added to one enum move together, since each is
/// placed relative to the previous one.
fn move_used_enum_values_before(plan: &mut Plan, added: &[AddedEnumValue]) {
    let used_enums: BTreeSet<&QualifiedName> = added
        .iter()
        .filter(|value| {
            plan.steps
                .iter()
                .flat_map(|s| s.statements.iter())
                .any(|stmt| !stmt.starts_with("ALTER TYPE ") && stmt.contains(&value.literal))
        })
        .map(|value| &value.enum_name)
        .collect();
    for value in added {
        if !used_enums.contains(&value.enum_name) {
            continue;
        }
        plan.steps
            .retain(|s| s.statements.len() != 1 || s.statements[0] != value.statement);
        plan.before.push(value.outside.clone());
    }
}

impl<'a> Planner<'a> {
    fn new(from: &'a Schema, to: &'a Schema, changes: &'a [Change]) -> Self {
        let mut p = Planner {
            from,
            to,
            changes,
            created_tables: BTreeMap::new(),
            dropped_tables: BTreeMap::new(),
            altered_by_from: BTreeMap::new(),
            altered_by_to: BTreeMap::new(),
            created_sequences: BTreeSet::new(),
            serial_sequences: BTreeSet::new(),
            sequence_users: BTreeMap::new(),
            dropped_early: BTreeSet::new(),
            readds: BTreeMap::new(),
            deferred_fks: BTreeSet::new(),
            rebuilt_columns: BTreeSet::new(),
            added_enum_values: Vec::new(),
            object_renames: BTreeMap::new(),
            renamed_from: BTreeSet::new(),
            renamed_to: BTreeSet::new(),
            sequence_renames: Vec::new(),
            phases: Phases::default(),
        };
        for c in changes {
            match c {
                Change::CreateTable(t) => {
                    p.created_tables.insert(t.name.clone(), t);
                }
                Change::DropTable(t) => {
                    p.dropped_tables.insert(t.name.clone(), t);
                }
                Change::AlterTable(td) => {
                    p.altered_by_from.insert(td.from.name.clone(), td);
                    p.altered_by_to.insert(td.to.name.clone(), td);
                }
                Change::CreateSequence(s) => {
                    p.created_sequences.insert(s.name.clone());
                }
                _ => {}
            }
        }
        for c in to.tables.values().flat_map(|t| t.columns.iter()) {
            if let Some(seq) = c.default.as_ref().and_then(|d| nextval_target(&d.sql)) {
                *p.sequence_users.entry(seq).or_default() += 1;
            }
        }
        p.find_object_renames();
        p.find_sequence_renames();
        p.find_serial_sequences();
        p
    }

    /// `fk` (of the old schema) with its referenced table and columns under their new names.
    fn fk_through_renames(&self, fk: &ForeignKey) -> ForeignKey {
        let mut moved = fk.clone();
        if let Some(td) = self.altered_by_from.get(&fk.ref_table) {
            moved.ref_table = td.to.name.clone();
            moved.ref_columns = fk
                .ref_columns
                .iter()
                .map(|c| {
                    self.map_column(&fk.ref_table, c)
                        .map(|(_, new)| new)
                        .unwrap_or_else(|| c.clone())
                })
                .collect();
        }
        moved
    }

    /// Pairs each dropped constraint or index with an added one that differs only by name
    /// (or not at all, once renames are taken into account): a rename, or nothing to do.
    fn find_object_renames(&mut self) {
        let diffs: Vec<&'a TableDiff> = self.altered_by_from.values().copied().collect();
        for td in diffs {
            let mut used: BTreeSet<&str> = BTreeSet::new();
            let mut pairs: Vec<ObjectRename> = Vec::new();
            let table = &td.to.name;
            for drop in &td.changes {
                let found = td.changes.iter().find_map(|add| {
                    let (index, from, to, after) = match (drop, add) {
                        (TableChange::DropPrimaryKey(a), TableChange::AddPrimaryKey(b)) => {
                            let to = same_but_name(a, b)?;
                            (false, &a.name, to, constraint_comment_change(table, a, b))
                        }
                        (TableChange::DropUnique(a), TableChange::AddUnique(b)) => {
                            let to = same_but_name(a, b)?;
                            (false, &a.name, to, constraint_comment_change(table, a, b))
                        }
                        (TableChange::DropCheck(a), TableChange::AddCheck(b)) => {
                            let to = same_but_name(a, b)?;
                            (false, &a.name, to, constraint_comment_change(table, a, b))
                        }
                        (TableChange::DropExclusion(a), TableChange::AddExclusion(b)) => {
                            let to = same_but_name(a, b)?;
                            (false, &a.name, to, constraint_comment_change(table, a, b))
                        }
                        (TableChange::DropForeignKey(a), TableChange::AddForeignKey(b)) => {
                            // The server follows a renamed referenced table by itself.
                            let moved = self.fk_through_renames(a);
                            let after = constraint_comment_change(table, a, b);
                            if moved.same_but_comment(b) {
                                (false, &a.name, &b.name, after)
                            } else {
                                (false, &a.name, same_but_name(&moved, b)?, after)
                            }
                        }
                        (TableChange::DropIndex(a), TableChange::CreateIndex(b)) => {
                            let mut renamed = a.clone();
                            renamed.name = b.name.clone();
                            if !renamed.same_build(b) || a.name == b.name {
                                return None;
                            }
                            (true, &a.name, &b.name, alter_index_sql(&table.schema, a, b))
                        }
                        _ => return None,
                    };
                    (!used.contains(to.as_str())).then_some((index, from, to, after))
                });
                if let Some((index, from, to, after)) = found {
                    used.insert(to);
                    pairs.push(ObjectRename {
                        index,
                        from: from.clone(),
                        to: to.clone(),
                        after,
                    });
                }
            }
            for pair in &pairs {
                self.renamed_from
                    .insert((td.from.name.clone(), pair.from.clone()));
                self.renamed_to
                    .insert((td.to.name.clone(), pair.to.clone()));
            }
            if !pairs.is_empty() {
                self.object_renames.insert(td.to.name.clone(), pairs);
            }
        }
    }

    /// Pairs each dropped owned sequence with a created one that has the same settings and
    /// the same owner column (through table and column renames).
    fn find_sequence_renames(&mut self) {
        let created: Vec<&'a Sequence> = self
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateSequence(s) => Some(s),
                _ => None,
            })
            .collect();
        for c in self.changes {
            let Change::DropSequence(old) = c else {
                continue;
            };
            let Some((table, column)) = &old.owned_by else {
                continue;
            };
            let Some(owner) = self.map_column(table, column) else {
                continue;
            };
            let current = QualifiedName::new(owner.0.schema.clone(), old.name.name.clone());
            let new = created.iter().find(|n| {
                n.owned_by.as_ref() == Some(&owner)
                    && n.name.schema == current.schema
                    && n.data_type == old.data_type
                    && n.options == old.options
                    && self.created_sequences.contains(&n.name)
            });
            if let Some(new) = new {
                self.created_sequences.remove(&new.name);
                self.sequence_renames.push(SequenceRename {
                    old: old.clone(),
                    owner: table.clone(),
                    current,
                    new: (*new).clone(),
                });
            }
        }
    }

    fn run(mut self) -> Result<Plan, PlanError> {
        partitions::check_partition_keys(self.changes)?;
        self.find_rebuilt_columns();
        for c in self.changes {
            match c {
                Change::CreateNamespace(ns) => self
                    .phases
                    .schemas
                    .push(Step::new(format!("CREATE SCHEMA {}", quote_ident(ns)))),
                Change::DropNamespace(ns) => self
                    .phases
                    .drop_schemas
                    .push(Step::new(format!("DROP SCHEMA {}", quote_ident(ns)))),
                Change::CommentNamespace { name, comment } => {
                    // `public` without a comment of its own gets the server's default back.
                    let comment = match (name.as_str(), comment) {
                        ("public", None) => Some(ferry_core::PUBLIC_SCHEMA_COMMENT),
                        (_, c) => c.as_deref(),
                    };
                    self.phases.schemas.push(Step::new(comment_sql(
                        "SCHEMA",
                        &quote_ident(name),
                        comment,
                    )))
                }
                Change::CreateEnum(e) => self.create_enum(e),
                Change::AlterEnum { from, to } => self.alter_enum(from, to)?,
                Change::DropEnum(e) => self
                    .phases
                    .drop_types
                    .push(Step::new(format!("DROP TYPE {}", quote_qualified(&e.name)))),
                Change::CreateSequence(s) => self.create_sequence(s),
                Change::AlterSequence { from, to } => self.alter_sequence(from, to),
                Change::DropSequence(s) => self.drop_sequence(s),
                Change::CreateTable(_) | Change::DropTable(_) | Change::AlterTable(_) => {}
                // Planned together below: their order depends on each other and on tables.
                Change::CreateView(_) | Change::DropView(_) | Change::AlterView { .. } => {}
                Change::Grants { .. } => {}
                Change::CreateDomain(_) | Change::DropDomain(_) | Change::AlterDomain { .. } => {}
                // Planned together in `functions.rs`.
                Change::CreateFunction(_)
                | Change::DropFunction(_)
                | Change::AlterFunction { .. }
                | Change::CreateTrigger(_)
                | Change::DropTrigger(_)
                | Change::AlterTrigger { .. } => {}
                // Planned together below (security.rs).
                Change::CreateExtension(_)
                | Change::DropExtension(_)
                | Change::AlterExtension { .. }
                | Change::CreateCompositeType(_)
                | Change::DropCompositeType(_)
                | Change::AlterCompositeType { .. }
                | Change::SetRowSecurity { .. }
                | Change::CreatePolicy { .. }
                | Change::DropPolicy { .. }
                | Change::AlterPolicy { .. } => {}
            }
        }
        self.plan_domains()?;
        self.drop_foreign_keys_of_broken_keys();
        self.create_tables();
        let diffs: Vec<&TableDiff> = self.altered_by_from.values().copied().collect();
        // Before the differ's own drops of the same objects, which come after the functions.
        self.drop_function_dependents();
        for td in diffs {
            self.alter_table(td);
        }
        self.readd_objects();
        self.drop_tables();
        let (drop_views, create_views) = views::plan_views(self.from, self.to, self.changes);
        self.phases.drop_views = drop_views;
        self.phases.create_views = create_views;
        let f =
            functions::plan_functions(self.from, self.to, self.changes, &self.phases.drop_views);
        self.phases.drop_triggers = f.drop_triggers;
        self.phases.functions = f.functions;
        self.phases.late_functions = f.late_functions;
        self.phases.create_triggers = f.create_triggers;
        self.phases.drop_functions = f.drop_functions;
        let security = security::plan_security(self.from, self.to, self.changes);
        self.phases.drop_policies = security.drop_policies;
        self.phases.extensions = security.extensions;
        self.phases.composite_types = security.composite_types;
        self.phases.policies = security.policies;
        self.phases.drop_composite_types = security.drop_composite_types;
        self.phases.drop_extensions = security.drop_extensions;
        // Filled in once the plan is complete: created types are read off its statements.
        self.phases.grants = vec![Step::new(grants::PLACEHOLDER)];
        let added = std::mem::take(&mut self.added_enum_values);
        let mut plan = Plan {
            before: Vec::new(),
            steps: self.phases.into_steps(),
            checks: Vec::new(),
            after: Vec::new(),
        };
        grants::plan_grants(self.from, self.to, self.changes, &mut plan.steps);
        move_used_enum_values_before(&mut plan, &added);
        Ok(plan)
    }

    // ----- lookups -------------------------------------------------------------------

    /// The target version of a table known by its old name, with its diff if altered.
    fn to_table_of(&self, from_name: &QualifiedName) -> Option<(&'a Table, Option<&'a TableDiff>)> {
        if let Some(td) = self.altered_by_from.get(from_name) {
            return Some((&td.to, Some(td)));
        }
        if self.dropped_tables.contains_key(from_name) {
            return None;
        }
        self.to.tables.get(from_name).map(|t| (t, None))
    }

    /// The new (table, column) names of a column known by its old names, if it survives.
    fn map_column(&self, table: &QualifiedName, column: &str) -> Option<(QualifiedName, String)> {
        let (to_table, td) = self.to_table_of(table)?;
        let mut name = column.to_string();
        if let Some(td) = td {
            if td
                .changes
                .iter()
                .any(|c| matches!(c, TableChange::DropColumn(col) if col.name == column))
            {
                return None;
            }
            for c in &td.changes {
                if let TableChange::RenameColumn { from, to } = c {
                    if from == column {
                        name = to.clone();
                    }
                }
            }
        }
        to_table.column(&name)?;
        Some((to_table.name.clone(), name))
    }

    /// The old name of a column of an altered table known by its new name.
    fn old_column_name(td: &TableDiff, new: &str) -> String {
        for c in &td.changes {
            if let TableChange::RenameColumn { from, to } = c {
                if to == new {
                    return from.clone();
                }
            }
        }
        new.to_string()
    }

    fn column_dropped(&self, table: &QualifiedName, column: &str) -> bool {
        if self.dropped_tables.contains_key(table) {
            return true;
        }
        self.altered_by_from.get(table).is_some_and(|td| {
            td.changes
                .iter()
                .any(|c| matches!(c, TableChange::DropColumn(col) if col.name == column))
        })
    }

    // ----- serial ----------------------------------------------------------------------

    /// Sequences that a new column will create itself through `serial`.
    fn find_serial_sequences(&mut self) {
        let mut candidates: Vec<(QualifiedName, &'a Column)> = Vec::new();
        for t in self.created_tables.values() {
            for c in &t.columns {
                candidates.push((t.name.clone(), c));
            }
        }
        for td in self.altered_by_from.values() {
            for ch in &td.changes {
                if let TableChange::AddColumn(c) = ch {
                    candidates.push((td.to.name.clone(), c));
                }
            }
        }
        for (table, col) in candidates {
            if let Some(seq) = self.serial_candidate(&table, col) {
                self.serial_sequences.insert(seq);
            }
        }
    }

    /// The sequence behind `col` if the column is exactly what `serial` would create.
    fn serial_candidate(&self, table: &QualifiedName, col: &Column) -> Option<QualifiedName> {
        let seq_name = nextval_target(col.default.as_ref()?.sql.as_str())?;
        let seq = self.to.sequences.get(&seq_name)?;
        let expected_type = match col.data_type.as_str() {
            "integer" => Some("integer"),
            "bigint" => None,
            "smallint" => Some("smallint"),
            _ => return None,
        };
        let is_serial = col.not_null
            && col.identity.is_none()
            && col.generated.is_none()
            && col.collation.is_none()
            && self.created_sequences.contains(&seq_name)
            && seq.data_type.as_deref() == expected_type
            && seq.options == SequenceOptions::default()
            && seq.owned_by.as_ref() == Some(&(table.clone(), col.name.clone()))
            && seq.name.schema == table.schema
            && seq.name.name == serial_sequence_name(&table.name, &col.name);
        if !is_serial {
            return None;
        }
        // Another default using the sequence would need it to exist before this table.
        let users = self.sequence_users.get(&seq_name).copied().unwrap_or(0);
        (users == 1).then_some(seq_name)
    }

    fn serial_keyword(&self, table: &QualifiedName, col: &Column) -> Option<&'static str> {
        let seq = self.serial_candidate(table, col)?;
        if !self.serial_sequences.contains(&seq) {
            return None;
        }
        match col.data_type.as_str() {
            "integer" => Some("serial"),
            "bigint" => Some("bigserial"),
            "smallint" => Some("smallserial"),
            _ => None,
        }
    }

    // ----- enums -----------------------------------------------------------------------

    fn create_enum(&mut self, e: &EnumType) {
        self.phases
            .types
            .push(Step::new(create_enum_sql(&e.name, &e.values)));
        if let Some(c) = &e.comment {
            self.phases.comments.push(Step::new(comment_sql(
                "TYPE",
                &quote_qualified(&e.name),
                Some(c),
            )));
        }
    }

    fn alter_enum(&mut self, from: &EnumType, to: &EnumType) -> Result<(), PlanError> {
        if from.values != to.values {
            if is_subsequence(&from.values, &to.values) {
                self.add_enum_values(from, to);
            } else {
                self.rebuild_enum(from, to)?;
                // The new type starts without a comment.
                if to.comment.is_some() {
                    self.phases.comments.push(Step::new(comment_sql(
                        "TYPE",
                        &quote_qualified(&to.name),
                        to.comment.as_deref(),
                    )));
                }
                return Ok(());
            }
        }
        if from.comment != to.comment {
            self.phases.comments.push(Step::new(comment_sql(
                "TYPE",
                &quote_qualified(&to.name),
                to.comment.as_deref(),
            )));
        }
        Ok(())
    }

    /// New values only: ADD VALUE each one next to its neighbour, keeping the order.
    fn add_enum_values(&mut self, from: &EnumType, to: &EnumType) {
        let name = quote_qualified(&to.name);
        for (i, v) in to.values.iter().enumerate() {
            if from.values.contains(v) {
                continue;
            }
            let position = if i > 0 {
                format!(" AFTER {}", literal(&to.values[i - 1]))
            } else if let Some(first) = from.values.first() {
                format!(" BEFORE {}", literal(first))
            } else {
                String::new()
            };
            let statement = format!("ALTER TYPE {name} ADD VALUE {}{position}", literal(v));
            self.added_enum_values.push(AddedEnumValue {
                enum_name: to.name.clone(),
                literal: literal(v),
                statement: statement.clone(),
                outside: format!(
                    "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {}{position}",
                    literal(v)
                ),
            });
            self.phases.types.push(Step::new(statement));
        }
    }

    /// Values removed or reordered: create the type again and convert every column.
    fn rebuild_enum(&mut self, from: &EnumType, to: &EnumType) -> Result<(), PlanError> {
        let old = QualifiedName::new(
            from.name.schema.clone(),
            make_object_name("ferry_old", Some(&from.name.name), "enum"),
        );
        if self.from.enums.contains_key(&old) || self.to.enums.contains_key(&old) {
            return Err(PlanError(format!(
                "cannot rebuild enum {}: the temporary name {old} is taken",
                from.name
            )));
        }
        let name = quote_qualified(&to.name);
        let removed: Vec<&String> = from
            .values
            .iter()
            .filter(|v| !to.values.contains(v))
            .collect();
        let mut step = Step {
            statements: vec![
                format!("ALTER TYPE {name} RENAME TO {}", quote_ident(&old.name)),
                create_enum_sql(&to.name, &to.values),
            ],
            hazards: Vec::new(),
        };
        if removed.is_empty() {
            step.hazards.push(hazard(
                HazardKind::TableRewrite,
                format!(
                    "reorders the values of enum {}: every column using it is rewritten",
                    to.name
                ),
            ));
        } else {
            let list: Vec<String> = removed.iter().map(|v| literal(v)).collect();
            step.hazards.push(hazard(
                HazardKind::DataLoss,
                format!(
                    "removes value(s) {} from enum {}: rows holding them make the conversion fail",
                    list.join(", "),
                    to.name
                ),
            ));
        }
        let plain = quote_qualified(&to.name);
        let array = format!("{plain}[]");
        // Column types are canonical, i.e. the quoted qualified name (plus `[]`).
        let type_names = [
            quote_qualified(&from.name),
            format!("{}[]", quote_qualified(&from.name)),
        ];
        // Columns that keep this type: they follow it to the new one.
        let mut tables: Vec<(&'a Table, &'a Table)> = Vec::new();
        for t in self.from.tables.values() {
            if let Some((to_table, _)) = self.to_table_of(&t.name) {
                tables.push((t, to_table));
            }
        }
        let mut converted_any = false;
        for (from_table, to_table) in tables {
            let td = self.altered_by_from.get(&from_table.name).copied();
            for col in &from_table.columns {
                if !type_names.contains(&col.data_type) {
                    continue;
                }
                let Some((_, new_col_name)) = self.map_column(&from_table.name, &col.name) else {
                    continue;
                };
                let Some(to_col) = to_table.column(&new_col_name) else {
                    continue;
                };
                if to_col.data_type != col.data_type {
                    // Its own ALTER COLUMN converts it from the old type.
                    continue;
                }
                converted_any = true;
                let is_array = col.data_type.ends_with("[]");
                let t = quote_qualified(&from_table.name);
                let c = quote_ident(&col.name);
                // Expressions naming the column mention the old type and cannot be
                // carried over: drop them here and create them again later.
                self.drop_expression_dependents(
                    from_table,
                    Some(to_table),
                    td,
                    |sql| mentions(sql, &col.name),
                    &mut step.statements,
                );
                if col.default.is_some() {
                    step.statements
                        .push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"));
                }
                let (new_type, text) = if is_array {
                    (array.as_str(), "text[]")
                } else {
                    (plain.as_str(), "text")
                };
                step.statements.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} TYPE {new_type} USING {c}::{text}::{new_type}"
                ));
                if let Some(d) = &to_col.default {
                    step.statements.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {}",
                        d.sql
                    ));
                }
            }
        }
        if converted_any && !removed.is_empty() {
            step.hazards.push(hazard(
                HazardKind::TableRewrite,
                format!("rewrites every table with a column of enum {}", to.name),
            ));
        }
        self.phases.types.push(step);
        self.phases
            .drop_types
            .push(Step::new(format!("DROP TYPE {}", quote_qualified(&old))));
        Ok(())
    }

    /// Drops the checks, exclusion constraints and expression/partial indexes of `from_table`
    /// whose expressions `uses` (given their SQL), and schedules their target versions on
    /// `to_table` (when the table stays) to be created again.
    fn drop_expression_dependents(
        &mut self,
        from_table: &Table,
        to_table: Option<&Table>,
        td: Option<&TableDiff>,
        uses: impl Fn(&str) -> bool,
        statements: &mut Vec<String>,
    ) {
        let t = quote_qualified(&from_table.name);
        for ck in &from_table.checks {
            if uses(&ck.expr.sql) && self.mark_dropped(&from_table.name, &ck.name) {
                statements.push(format!(
                    "ALTER TABLE {t} DROP CONSTRAINT {}",
                    quote_ident(&ck.name)
                ));
                let new = to_table
                    .and_then(|to| Some((to, to.checks.iter().find(|c| c.name == ck.name)?)));
                if let Some((to_table, new)) = new {
                    self.schedule_readd(to_table, td, Readd::Check(new.clone()));
                }
            }
        }
        for x in &from_table.exclusions {
            let expressions =
                x.predicate
                    .iter()
                    .chain(x.elements.iter().filter_map(|e| match &e.key.target {
                        IndexTarget::Expr(e) => Some(e),
                        IndexTarget::Column(_) => None,
                    }));
            if expressions.into_iter().any(|e| uses(&e.sql))
                && self.mark_dropped(&from_table.name, &x.name)
            {
                statements.push(format!(
                    "ALTER TABLE {t} DROP CONSTRAINT {}",
                    quote_ident(&x.name)
                ));
                let new = to_table
                    .and_then(|to| Some((to, to.exclusions.iter().find(|c| c.name == x.name)?)));
                if let Some((to_table, new)) = new {
                    self.schedule_readd(to_table, td, Readd::Exclusion(new.clone()));
                }
            }
        }
        for idx in &from_table.indexes {
            let expressions =
                idx.predicate
                    .iter()
                    .chain(idx.keys.iter().filter_map(|k| match &k.target {
                        IndexTarget::Expr(e) => Some(e),
                        IndexTarget::Column(_) => None,
                    }));
            if expressions.into_iter().any(|e| uses(&e.sql))
                && self.mark_dropped(&from_table.name, &idx.name)
            {
                statements.push(format!(
                    "DROP INDEX {}",
                    quote_qualified(&QualifiedName::new(
                        from_table.name.schema.clone(),
                        idx.name.clone()
                    ))
                ));
                let new = to_table
                    .and_then(|to| Some((to, to.indexes.iter().find(|i| i.name == idx.name)?)));
                if let Some((to_table, new)) = new {
                    self.schedule_readd(to_table, td, Readd::Index(new.clone()));
                }
            }
        }
    }

    /// Records an early drop; false when the object was already dropped.
    fn mark_dropped(&mut self, table: &QualifiedName, name: &str) -> bool {
        self.dropped_early.insert((table.clone(), name.to_string()))
    }

    /// Schedules `obj` to be created on `to_table` unless the differ already adds it.
    fn schedule_readd(&mut self, to_table: &Table, td: Option<&TableDiff>, obj: Readd) {
        let added_by_diff = td.is_some_and(|td| {
            td.changes.iter().any(|c| match (c, &obj) {
                (TableChange::AddPrimaryKey(x), Readd::PrimaryKey(_)) => x.name == obj.name(),
                (TableChange::AddUnique(x), Readd::Unique(_)) => x.name == obj.name(),
                (TableChange::AddCheck(x), Readd::Check(_)) => x.name == obj.name(),
                (TableChange::AddExclusion(x), Readd::Exclusion(_)) => x.name == obj.name(),
                (TableChange::CreateIndex(x), Readd::Index(_)) => x.name == obj.name(),
                (TableChange::AddForeignKey(x), Readd::ForeignKey(_)) => x.name == obj.name(),
                _ => false,
            })
        });
        if added_by_diff {
            return;
        }
        let list = self.readds.entry(to_table.name.clone()).or_default();
        let same_kind =
            |a: &Readd, b: &Readd| std::mem::discriminant(a) == std::mem::discriminant(b);
        if !list
            .iter()
            .any(|r| r.name() == obj.name() && same_kind(r, &obj))
        {
            list.push(obj);
        }
    }

    // ----- sequences -------------------------------------------------------------------

    fn create_sequence(&mut self, s: &Sequence) {
        let renamed = self.sequence_renames.iter().find(|r| r.new.name == s.name);
        if let Some(r) = renamed {
            // Renamed from the sequence it replaces; see `find_sequence_renames`.
            if s.comment != r.old.comment {
                self.phases.comments.push(Step::new(comment_sql(
                    "SEQUENCE",
                    &quote_qualified(&s.name),
                    s.comment.as_deref(),
                )));
            }
            return;
        }
        if let Some(c) = &s.comment {
            self.phases.comments.push(Step::new(comment_sql(
                "SEQUENCE",
                &quote_qualified(&s.name),
                Some(c),
            )));
        }
        if self.serial_sequences.contains(&s.name) {
            // Created and owned by its serial column.
            return;
        }
        let mut sql = format!("CREATE SEQUENCE {}", quote_qualified(&s.name));
        if let Some(t) = &s.data_type {
            sql.push_str(&format!(" AS {t}"));
        }
        for clause in sequence_clauses(&s.options) {
            sql.push(' ');
            sql.push_str(&clause);
        }
        self.phases.sequences.push(Step::new(sql));
        if let Some((table, column)) = &s.owned_by {
            self.phases.sequence_owners.push(Step::new(format!(
                "ALTER SEQUENCE {} OWNED BY {}.{}",
                quote_qualified(&s.name),
                quote_qualified(table),
                quote_ident(column)
            )));
        }
    }

    fn alter_sequence(&mut self, from: &Sequence, to: &Sequence) {
        let name = quote_qualified(&to.name);
        let mut clauses = Vec::new();
        let retype =
            (from.data_type != to.data_type).then(|| (sequence_type(from), sequence_type(to)));
        if let Some((_, new_type)) = retype {
            clauses.push(format!("AS {new_type}"));
        }
        clauses.extend(alter_sequence_clauses(&from.options, &to.options, retype));
        let mut step = Step::default();
        let old = SequenceValues::resolve(&from.options, sequence_type(from));
        let new = SequenceValues::resolve(&to.options, sequence_type(to));
        let what = format!("sequence {}", to.name);
        match current_value_change(old, new) {
            CurrentValue::Fits => {}
            CurrentValue::Restart(reason) => {
                clauses.push("RESTART".to_string());
                step.hazards.push(restart_hazard(&what, new, reason));
            }
            CurrentValue::MayBeOutside { behind, past } => {
                if let Some(bound) = behind {
                    let forward = MoveForward::new(old, new, bound);
                    step.statements.push(format!(
                        "SELECT setval({}, {}, false) FROM {name} WHERE last_value {} {bound}",
                        literal(&name),
                        forward.to_value,
                        forward.compare
                    ));
                    step.hazards.push(forward.hazard(&what));
                }
                if let Some(bound) = past {
                    step.hazards.push(past_hazard(&what, new, bound));
                }
            }
        }
        // The owner, compared through table and column renames.
        let old_owner = from.owned_by.as_ref().map(|(t, c)| self.map_column(t, c));
        let owner_changes = match (&old_owner, &to.owned_by) {
            (None, None) => false,
            (Some(Some(old)), Some(new)) => old != new,
            _ => true,
        };
        if owner_changes {
            if let Some((t, c)) = &from.owned_by {
                // Dropping the old owner would drop the sequence with it.
                if to.owned_by.is_none() || self.column_dropped(t, c) {
                    clauses.push("OWNED BY NONE".to_string());
                }
            }
        }
        if !clauses.is_empty() {
            step.statements
                .push(format!("ALTER SEQUENCE {name} {}", clauses.join(" ")));
            self.phases.sequences.push(step);
        }
        if owner_changes {
            if let Some((t, c)) = &to.owned_by {
                self.phases.sequence_owners.push(Step::new(format!(
                    "ALTER SEQUENCE {name} OWNED BY {}.{}",
                    quote_qualified(t),
                    quote_ident(c)
                )));
            }
        }
        if from.comment != to.comment {
            self.phases.comments.push(Step::new(comment_sql(
                "SEQUENCE",
                &name,
                to.comment.as_deref(),
            )));
        }
    }

    fn drop_sequence(&mut self, s: &Sequence) {
        if self.sequence_renames.iter().any(|r| r.old.name == s.name) {
            return;
        }
        if let Some((table, column)) = &s.owned_by {
            // PostgreSQL drops an owned sequence with its table or column.
            if self.column_dropped(table, column) {
                return;
            }
        }
        self.phases.drop_sequences.push(Step::new(format!(
            "DROP SEQUENCE {}",
            quote_qualified(&s.name)
        )));
    }

    // ----- foreign keys that depend on dropped keys -------------------------------------

    /// Foreign keys (of any table) that reference a key or column about to disappear must
    /// go first; those still wanted are created again at the end.
    fn drop_foreign_keys_of_broken_keys(&mut self) {
        // (old table name) -> referenced column sets that stop being unique keys, and
        // columns that disappear.
        let mut broken_keys: BTreeMap<QualifiedName, Vec<BTreeSet<String>>> = BTreeMap::new();
        let mut gone_columns: BTreeMap<QualifiedName, BTreeSet<String>> = BTreeMap::new();
        for td in self.altered_by_from.values() {
            let keys = broken_keys.entry(td.from.name.clone()).or_default();
            for c in &td.changes {
                let renamed = |name: &String| {
                    self.renamed_from
                        .contains(&(td.from.name.clone(), name.clone()))
                };
                match c {
                    TableChange::DropPrimaryKey(x) if renamed(&x.name) => {}
                    TableChange::DropUnique(x) if renamed(&x.name) => {}
                    TableChange::DropIndex(x) if renamed(&x.name) => {}
                    TableChange::DropPrimaryKey(pk) => {
                        if let Some(old) =
                            td.from.primary_key.as_ref().filter(|k| k.name == pk.name)
                        {
                            keys.push(old.columns.iter().cloned().collect());
                        }
                    }
                    TableChange::DropUnique(u) => {
                        if let Some(old) = td.from.uniques.iter().find(|k| k.name == u.name) {
                            keys.push(old.columns.iter().cloned().collect());
                        }
                    }
                    TableChange::DropIndex(i) => {
                        if let Some(old) = td.from.indexes.iter().find(|k| k.name == i.name) {
                            if let Some(cols) = plain_unique_columns(old) {
                                keys.push(cols);
                            }
                        }
                    }
                    TableChange::DropColumn(col) => {
                        gone_columns
                            .entry(td.from.name.clone())
                            .or_default()
                            .insert(col.name.clone());
                    }
                    _ => {}
                }
            }
            for (table, column) in &self.rebuilt_columns {
                if *table == td.to.name {
                    gone_columns
                        .entry(td.from.name.clone())
                        .or_default()
                        .insert(Self::old_column_name(td, column));
                }
            }
        }
        let from_tables: Vec<&'a Table> = self.from.tables.values().collect();
        for table in from_tables {
            let td = self.altered_by_from.get(&table.name).copied();
            for fk in &table.foreign_keys {
                let dropped_by_diff = td.is_some_and(|td| {
                    td.changes
                        .iter()
                        .any(|c| matches!(c, TableChange::DropForeignKey(x) if x.name == fk.name))
                });
                if dropped_by_diff {
                    continue;
                }
                let ref_cols: BTreeSet<String> = fk.ref_columns.iter().cloned().collect();
                let key_broken = broken_keys
                    .get(&fk.ref_table)
                    .is_some_and(|keys| keys.contains(&ref_cols));
                let column_gone = gone_columns
                    .get(&fk.ref_table)
                    .is_some_and(|cols| fk.ref_columns.iter().any(|c| cols.contains(c)));
                if !(key_broken || column_gone) || !self.mark_dropped(&table.name, &fk.name) {
                    continue;
                }
                self.phases.drop_foreign_keys.push(Step::new(format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    quote_qualified(&table.name),
                    quote_ident(&fk.name)
                )));
                if let Some((to_table, td)) = self.to_table_of(&table.name) {
                    if let Some(new) = to_table.foreign_keys.iter().find(|f| f.name == fk.name) {
                        self.schedule_readd(to_table, td, Readd::ForeignKey(new.clone()));
                    }
                }
            }
        }
    }

    // ----- tables ------------------------------------------------------------------------

    fn create_tables(&mut self) {
        let tables: BTreeMap<QualifiedName, &'a Table> = self.created_tables.clone();
        let (order, deferred) = dependency_order(&tables);
        self.deferred_fks = deferred;
        for name in order {
            let Some(table) = tables.get(&name).copied() else {
                continue;
            };
            let sql = self.create_table_sql(table);
            self.phases.create_tables.push(Step::new(sql));
            for idx in &table.indexes {
                self.phases.create_indexes.push(Step {
                    statements: create_index_statements(&table.name, idx),
                    ..Step::default()
                });
            }
            let t = &table.name;
            let mut inline_comments: Vec<String> = Vec::new();
            inline_comments.extend(
                table
                    .primary_key
                    .iter()
                    .filter_map(|pk| constraint_comment_statement(t, pk)),
            );
            inline_comments.extend(
                table
                    .uniques
                    .iter()
                    .filter_map(|u| constraint_comment_statement(t, u)),
            );
            inline_comments.extend(
                table
                    .checks
                    .iter()
                    .filter_map(|c| constraint_comment_statement(t, c)),
            );
            inline_comments.extend(
                table
                    .exclusions
                    .iter()
                    .filter_map(|x| constraint_comment_statement(t, x)),
            );
            for fk in &table.foreign_keys {
                if !self.fk_inline(table, fk) {
                    let mut step =
                        Step::new(add_constraint_sql(&table.name, &fk.name, &fk_body(fk)));
                    step.statements
                        .extend(constraint_comment_statement(&table.name, fk));
                    self.phases.add_foreign_keys.push(step);
                } else {
                    inline_comments.extend(constraint_comment_statement(t, fk));
                }
            }
            self.phases
                .comments
                .extend(inline_comments.into_iter().map(Step::new));
            if let Some(c) = &table.comment {
                self.phases.comments.push(Step::new(comment_sql(
                    "TABLE",
                    &quote_qualified(&table.name),
                    Some(c),
                )));
            }
            for col in &table.columns {
                if let Some(c) = &col.comment {
                    self.phases.comments.push(Step::new(comment_sql(
                        "COLUMN",
                        &column_ref(&table.name, &col.name),
                        Some(c),
                    )));
                }
            }
        }
    }

    /// Whether a new table's foreign key can be written inside its CREATE TABLE.
    fn fk_inline(&self, table: &Table, fk: &ForeignKey) -> bool {
        if self
            .deferred_fks
            .contains(&(table.name.clone(), fk.name.clone()))
        {
            return false;
        }
        if let Some(target) = self
            .created_tables
            .get(&fk.ref_table)
            .or((fk.ref_table == table.name).then_some(&table))
        {
            // A key written inside CREATE TABLE exists by then; a unique index is
            // created later, and the foreign key must wait for it.
            let wanted: BTreeSet<&String> = fk.ref_columns.iter().collect();
            let in_table = |cols: &[String]| cols.iter().collect::<BTreeSet<_>>() == wanted;
            return fk.ref_columns.is_empty()
                || target
                    .primary_key
                    .as_ref()
                    .is_some_and(|pk| in_table(&pk.columns))
                || target.uniques.iter().any(|u| in_table(&u.columns));
        }
        let Some(target) = self.to.tables.get(&fk.ref_table) else {
            // Unknown table: let the server report it where the user wrote it.
            return true;
        };
        let td = self.altered_by_to.get(&fk.ref_table).copied();
        self.key_is_stable(target, td, &fk.ref_columns)
    }

    /// An existing table has, before this plan's additions, a unique key on `columns`.
    fn key_is_stable(&self, table: &Table, td: Option<&TableDiff>, columns: &[String]) -> bool {
        let wanted: BTreeSet<&String> = columns.iter().collect();
        let added = |name: &str| {
            let renamed = self
                .renamed_to
                .contains(&(table.name.clone(), name.to_string()));
            !renamed
                && td.is_some_and(|td| {
                    td.changes.iter().any(|c| match c {
                        TableChange::AddPrimaryKey(x) => x.name == name,
                        TableChange::AddUnique(x) => x.name == name,
                        TableChange::CreateIndex(x) => x.name == name,
                        TableChange::AddColumn(x) => columns.contains(&x.name),
                        _ => false,
                    })
                })
                || self
                    .readds
                    .get(&table.name)
                    .is_some_and(|r| r.iter().any(|o| o.name() == name))
        };
        let mut keys: Vec<(&str, BTreeSet<&String>)> = Vec::new();
        if let Some(pk) = &table.primary_key {
            keys.push((&pk.name, pk.columns.iter().collect()));
        }
        for u in &table.uniques {
            keys.push((&u.name, u.columns.iter().collect()));
        }
        for i in &table.indexes {
            if i.unique && i.predicate.is_none() {
                let cols: Option<BTreeSet<&String>> = i
                    .keys
                    .iter()
                    .map(|k| match &k.target {
                        IndexTarget::Column(c) => Some(c),
                        IndexTarget::Expr(_) => None,
                    })
                    .collect();
                if let Some(cols) = cols {
                    keys.push((&i.name, cols));
                }
            }
        }
        keys.iter()
            .any(|(name, cols)| *cols == wanted && !added(name))
    }

    fn create_table_sql(&self, table: &Table) -> String {
        let mut lines: Vec<String> = Vec::new();
        for col in &table.columns {
            let serial = self.serial_keyword(&table.name, col);
            lines.push(column_def(col, serial));
        }
        if let Some(pk) = &table.primary_key {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(&pk.name),
                pk_body(pk)
            ));
        }
        for u in &table.uniques {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(&u.name),
                unique_body(u)
            ));
        }
        for ck in &table.checks {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(&ck.name),
                check_body(ck)
            ));
        }
        for x in &table.exclusions {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(&x.name),
                exclusion_body(x)
            ));
        }
        for fk in &table.foreign_keys {
            if self.fk_inline(table, fk) {
                lines.push(format!(
                    "CONSTRAINT {} {}",
                    quote_ident(&fk.name),
                    fk_body(fk)
                ));
            }
        }
        if let Some(of) = &table.partition_of {
            return partitions::create_partition_sql(
                &table.name,
                of,
                &lines,
                table.partition_by.as_ref(),
            );
        }
        let by = partitions::partition_by_clause(table.partition_by.as_ref());
        if lines.is_empty() {
            return format!("CREATE TABLE {} (){by}", quote_qualified(&table.name));
        }
        format!(
            "CREATE TABLE {} (\n  {}\n){by}",
            quote_qualified(&table.name),
            lines.join(",\n  ")
        )
    }

    fn drop_tables(&mut self) {
        let tables: BTreeMap<QualifiedName, &'a Table> = self.dropped_tables.clone();
        let (order, cycles) = dependency_order(&tables);
        // Foreign keys in a cycle of dropped tables go first, then the tables, referencing
        // tables before the tables they reference.
        for (table, fk) in &cycles {
            if self.mark_dropped(table, fk) {
                self.phases.drop_foreign_keys.push(Step::new(format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    quote_qualified(table),
                    quote_ident(fk)
                )));
            }
        }
        // Tables are dropped after everything else by default, when nothing the plan
        // changes first can still depend on them. A table whose drop frees a relation name
        // that the target uses (its own, a key's, an index's) goes before the renames and
        // creates instead: the target's relation of that name can only be one this plan
        // creates or renames, which would fail with "relation ... already exists". That is
        // after the sequences phase (OWNED BY NONE keeps a sequence the table owns) and the
        // foreign keys other tables drop. Dropped tables that reference it go early with it.
        let taken = target_relation_names(self.to);
        let mut early: BTreeSet<QualifiedName> = tables
            .values()
            .filter(|t| {
                self.freed_relation_names(t)
                    .iter()
                    .any(|n| taken.contains(n))
            })
            .map(|t| t.name.clone())
            .collect();
        loop {
            let before = early.len();
            for t in tables.values() {
                let references_early = t.foreign_keys.iter().any(|fk| {
                    fk.ref_table != t.name
                        && early.contains(&fk.ref_table)
                        && !cycles.contains(&(t.name.clone(), fk.name.clone()))
                });
                if references_early {
                    early.insert(t.name.clone());
                }
            }
            if early.len() == before {
                break;
            }
        }
        for name in order.into_iter().rev() {
            let step = Step::new(format!("DROP TABLE {}", quote_qualified(&name)))
                .with_hazard(HazardKind::DataLoss, format!("drops table {name}"));
            if early.contains(&name) {
                self.phases.drop_tables_early.push(step);
            } else {
                self.phases.drop_tables.push(step);
            }
        }
    }

    /// The relation names (in the table's schema) that dropping `t` frees: the table, its
    /// keys' and indexes' indexes, and the sequences that go with it.
    fn freed_relation_names(&self, t: &Table) -> Vec<QualifiedName> {
        let mut names = table_relation_names(t);
        // Owned sequences go with the table, unless the target keeps them (OWNED BY NONE).
        for seq in self.from.sequences.values() {
            let owned = seq
                .owned_by
                .as_ref()
                .is_some_and(|(owner, _)| *owner == t.name);
            if owned && !self.to.sequences.contains_key(&seq.name) {
                names.push(seq.name.clone());
            }
        }
        names
    }

    // ----- altered tables ----------------------------------------------------------------

    /// Columns whose generated expression changes: PostgreSQL before 17 cannot alter it,
    /// so they are dropped and added again.
    fn find_rebuilt_columns(&mut self) {
        let diffs: Vec<&'a TableDiff> = self.altered_by_from.values().copied().collect();
        for td in diffs {
            for c in &td.changes {
                if let TableChange::AlterColumn { from, to } = c {
                    if needs_rebuild(from, to) {
                        self.rebuilt_columns
                            .insert((td.to.name.clone(), to.name.clone()));
                        self.schedule_rebuild_readds(td, to);
                    }
                }
            }
        }
    }

    fn alter_table(&mut self, td: &'a TableDiff) {
        let old = &td.from.name;
        let new = &td.to.name;
        let t_new = quote_qualified(new);

        // Drops, under the old names.
        for c in &td.changes {
            if let TableChange::SetPartitionOf { from: Some(of), .. } = c {
                self.phases
                    .drop_constraints
                    .push(partitions::detach_step(old, of));
            }
        }
        for c in &td.changes {
            let name = match c {
                TableChange::DropForeignKey(x) => &x.name,
                TableChange::DropIndex(x) => &x.name,
                TableChange::DropCheck(x) => &x.name,
                TableChange::DropExclusion(x) => &x.name,
                TableChange::DropUnique(x) => &x.name,
                TableChange::DropPrimaryKey(x) => &x.name,
                _ => continue,
            };
            if self.renamed_from.contains(&(old.clone(), name.clone())) {
                continue;
            }
            match c {
                TableChange::DropForeignKey(fk) => self.drop_foreign_key(old, &fk.name),
                TableChange::DropIndex(idx) => self.drop_index(old, &idx.name),
                TableChange::DropCheck(ck) => self.drop_constraint(old, &ck.name),
                TableChange::DropExclusion(x) => self.drop_constraint(old, &x.name),
                TableChange::DropUnique(u) => self.drop_constraint(old, &u.name),
                TableChange::DropPrimaryKey(pk) => self.drop_constraint(old, &pk.name),
                _ => {}
            }
        }

        // Renames.
        if old != new {
            let mut step = Step::default();
            let mut current = old.clone();
            if old.schema != new.schema {
                step.statements.push(format!(
                    "ALTER TABLE {} SET SCHEMA {}",
                    quote_qualified(&current),
                    quote_ident(&new.schema)
                ));
                current.schema = new.schema.clone();
            }
            if old.name != new.name {
                step.statements.push(format!(
                    "ALTER TABLE {} RENAME TO {}",
                    quote_qualified(&current),
                    quote_ident(&new.name)
                ));
            }
            self.phases.renames.push(step);
        }
        let column_renames: Vec<(&String, &String)> = td
            .changes
            .iter()
            .filter_map(|c| match c {
                TableChange::RenameColumn { from, to } => Some((from, to)),
                _ => None,
            })
            .collect();
        if !column_renames.is_empty() {
            self.rename_columns(&td.from, new, &column_renames);
        }
        for c in &td.changes {
            if let TableChange::RenameIndex { from, to } = c {
                self.phases.renames.push(Step::new(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    quote_qualified(&QualifiedName::new(new.schema.clone(), from.clone())),
                    quote_ident(to)
                )));
            }
        }
        let object_renames = self.object_renames.remove(new).unwrap_or_default();
        for r in &object_renames {
            if !r.after.is_empty() {
                let step = Step {
                    statements: r.after.clone(),
                    ..Step::default()
                };
                self.phases.comments.push(step);
            }
        }
        for r in object_renames.into_iter().filter(|r| r.from != r.to) {
            let sql = if r.index {
                format!(
                    "ALTER INDEX {} RENAME TO {}",
                    quote_qualified(&QualifiedName::new(new.schema.clone(), r.from.clone())),
                    quote_ident(&r.to)
                )
            } else {
                format!(
                    "ALTER TABLE {t_new} RENAME CONSTRAINT {} TO {}",
                    quote_ident(&r.from),
                    quote_ident(&r.to)
                )
            };
            self.phases.renames.push(Step::new(sql));
        }
        let sequence_renames: Vec<String> = self
            .sequence_renames
            .iter()
            .filter(|r| r.owner == *old)
            .map(|r| {
                format!(
                    "ALTER SEQUENCE {} RENAME TO {}",
                    quote_qualified(&r.current),
                    quote_ident(&r.new.name.name)
                )
            })
            .collect();
        for sql in sequence_renames {
            self.phases.renames.push(Step::new(sql));
        }

        // Columns, under the new names.
        for c in &td.changes {
            match c {
                TableChange::AddColumn(col) => self.add_column(td, col),
                TableChange::AlterColumn { from, to } => self.alter_column(td, from, to),
                TableChange::DropColumn(col) => {
                    self.phases.drop_columns.push(
                        Step::new(format!(
                            "ALTER TABLE {t_new} DROP COLUMN {}",
                            quote_ident(&col.name)
                        ))
                        .with_hazard(
                            HazardKind::DataLoss,
                            format!("drops column {new}.{}", col.name),
                        ),
                    );
                }
                _ => {}
            }
        }

        // Constraints, indexes, foreign keys and comments, under the new names.
        for c in &td.changes {
            let added = match c {
                TableChange::AddPrimaryKey(x) => Some(&x.name),
                TableChange::AddUnique(x) => Some(&x.name),
                TableChange::AddCheck(x) => Some(&x.name),
                TableChange::AddExclusion(x) => Some(&x.name),
                TableChange::CreateIndex(x) => Some(&x.name),
                TableChange::AddForeignKey(x) => Some(&x.name),
                _ => None,
            };
            if added.is_some_and(|n| self.renamed_to.contains(&(new.clone(), n.clone()))) {
                continue;
            }
            match c {
                TableChange::AddPrimaryKey(pk) => self.add_primary_key(new, pk, true),
                TableChange::AddUnique(u) => self.add_unique(new, u, true),
                TableChange::AddCheck(ck) => self.add_check(new, ck, true),
                TableChange::AddExclusion(x) => self.add_exclusion(new, x),
                TableChange::CreateIndex(idx) => self.create_index(new, idx, true),
                TableChange::AddForeignKey(fk) => self.add_foreign_key(new, fk, true),
                TableChange::SetComment { to, .. } => self
                    .phases
                    .comments
                    .push(Step::new(comment_sql("TABLE", &t_new, to.as_deref()))),
                // Unless dropped early and created again whole (its comment included).
                TableChange::SetConstraintComment { name, to, .. }
                    if !self.dropped_early.contains(&(old.clone(), name.clone())) =>
                {
                    self.phases.comments.push(Step::new(constraint_comment_sql(
                        new,
                        name,
                        to.as_deref(),
                    )))
                }
                TableChange::AlterIndex { from, to }
                    if !self
                        .dropped_early
                        .contains(&(old.clone(), from.name.clone())) =>
                {
                    let statements = alter_index_sql(&new.schema, from, to);
                    self.phases.comments.push(Step {
                        statements,
                        ..Step::default()
                    })
                }
                TableChange::SetPartitionOf { to: Some(of), .. } => self
                    .phases
                    .add_constraints
                    .push(partitions::attach_step(new, of)),
                _ => {}
            }
        }
    }

    fn drop_foreign_key(&mut self, table: &QualifiedName, name: &str) {
        if self.mark_dropped(table, name) {
            self.phases.drop_foreign_keys.push(Step::new(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                quote_qualified(table),
                quote_ident(name)
            )));
        }
    }

    fn drop_index(&mut self, table: &QualifiedName, name: &str) {
        if self.mark_dropped(table, name) {
            self.phases.drop_constraints.push(Step::new(format!(
                "DROP INDEX {}",
                quote_qualified(&QualifiedName::new(table.schema.clone(), name.to_string()))
            )));
        }
    }

    fn drop_constraint(&mut self, table: &QualifiedName, name: &str) {
        if self.mark_dropped(table, name) {
            self.phases.drop_constraints.push(Step::new(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                quote_qualified(table),
                quote_ident(name)
            )));
        }
    }

    /// Column renames; through temporary names when one rename takes a name another frees.
    fn rename_columns(
        &mut self,
        from_table: &Table,
        table: &QualifiedName,
        renames: &[(&String, &String)],
    ) {
        let t = quote_qualified(table);
        let sources: BTreeSet<&String> = renames.iter().map(|(f, _)| *f).collect();
        let collides = renames
            .iter()
            .any(|(_, to)| sources.contains(to) && from_table.column(to).is_some());
        let mut step = Step::default();
        if collides {
            for (i, (from, _)) in renames.iter().enumerate() {
                step.statements.push(format!(
                    "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                    quote_ident(from),
                    quote_ident(&format!("ferry_tmp_{i}"))
                ));
            }
            for (i, (_, to)) in renames.iter().enumerate() {
                step.statements.push(format!(
                    "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                    quote_ident(&format!("ferry_tmp_{i}")),
                    quote_ident(to)
                ));
            }
        } else {
            for (from, to) in renames {
                step.statements.push(format!(
                    "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                    quote_ident(from),
                    quote_ident(to)
                ));
            }
        }
        self.phases.renames.push(step);
    }

    fn add_column(&mut self, td: &TableDiff, col: &Column) {
        let table = &td.to.name;
        let serial = self.serial_keyword(table, col);
        let mut step = Step::new(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            quote_qualified(table),
            column_def(col, serial)
        ));
        let fills = col.default.is_some() || col.identity.is_some() || col.generated.is_some();
        if col.not_null && !fills {
            step.hazards.push(hazard(
                HazardKind::MayFail,
                format!(
                    "adds NOT NULL column {table}.{} without a default: fails if the table has rows",
                    col.name
                ),
            ));
        }
        let rewrites = col.identity.is_some()
            || col.generated.is_some()
            || col.default.as_ref().is_some_and(|d| is_volatile(&d.sql));
        if rewrites {
            step.hazards.push(hazard(
                HazardKind::TableRewrite,
                format!(
                    "adds column {table}.{} whose value is computed for every row",
                    col.name
                ),
            ));
        }
        self.phases.add_columns.push(step);
        if let Some(c) = &col.comment {
            self.phases.comments.push(Step::new(comment_sql(
                "COLUMN",
                &column_ref(table, &col.name),
                Some(c),
            )));
        }
    }

    /// Whether a column type of the old schema is one of its enums: `Some(true)` for an
    /// array of one.
    fn enum_of(&self, data_type: &str) -> Option<bool> {
        let (base, array) = match data_type.strip_suffix("[]") {
            Some(base) => (base, true),
            None => (data_type, false),
        };
        self.from
            .enums
            .keys()
            .any(|name| quote_qualified(name) == base)
            .then_some(array)
    }

    fn alter_column(&mut self, td: &TableDiff, from: &Column, to: &Column) {
        let table = &td.to.name;
        let t = quote_qualified(table);
        let c = quote_ident(&to.name);
        let alter = format!("ALTER TABLE {t} ALTER COLUMN {c}");
        let mut step = Step::default();

        if needs_rebuild(from, to) {
            self.rebuild_column(td, from, to);
            return;
        }
        if from.generated.is_some() && to.generated.is_none() {
            step.statements.push(format!("{alter} DROP EXPRESSION"));
        }
        if from.identity.is_some() && to.identity.is_none() {
            // Early, under the old names: the identity's internal sequence is named like
            // the serial sequence that may replace it (table_column_seq).
            self.phases.drop_identities.push(Step::new(format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP IDENTITY",
                quote_qualified(&td.from.name),
                quote_ident(&Self::old_column_name(td, &to.name))
            )));
        }
        let mut default_dropped = false;
        if from.data_type != to.data_type || from.collation != to.collation {
            if from.default.is_some() {
                // A default of the old type may not cast automatically; set it again below.
                step.statements.push(format!("{alter} DROP DEFAULT"));
                default_dropped = true;
            }
            let mut sql = format!("{alter} TYPE {}", to.data_type);
            // Without COLLATE the column takes the new type's default collation (a
            // domain's own, for a domain), which is what no collation in the model means;
            // a collation the column keeps is written again whenever the type changes.
            if let Some(c) = &to.collation {
                sql.push_str(&format!(" COLLATE {}", collation_sql(c)));
            }
            if from.data_type != to.data_type {
                // An enum casts to text and text to anything; enum to enum needs both.
                let via = match self.enum_of(&from.data_type) {
                    Some(array) if array => "::text[]",
                    Some(_) => "::text",
                    None => "",
                };
                sql.push_str(&format!(" USING {c}{via}::{}", to.data_type));
                let what = format!(
                    "{table}.{} from {} to {}",
                    to.name, from.data_type, to.data_type
                );
                match type_change(&from.data_type, &to.data_type) {
                    TypeChange::BinaryCompatible => {}
                    TypeChange::Widening => step.hazards.push(hazard(
                        HazardKind::TableRewrite,
                        format!("changes the type of {what}: rewrites the table"),
                    )),
                    TypeChange::Cast => {
                        step.hazards.push(hazard(
                            HazardKind::TableRewrite,
                            format!("changes the type of {what}: rewrites the table"),
                        ));
                        step.hazards.push(hazard(
                            HazardKind::MayFail,
                            format!("casts {what}: fails on values that do not convert"),
                        ));
                    }
                    TypeChange::Narrowing => {
                        step.hazards.push(hazard(
                            HazardKind::DataLoss,
                            format!(
                                "narrows the type of {what}: values may be truncated or rejected"
                            ),
                        ));
                        step.hazards.push(hazard(
                            HazardKind::TableRewrite,
                            format!("changes the type of {what}: rewrites the table"),
                        ));
                        step.hazards.push(hazard(
                            HazardKind::MayFail,
                            format!("casts {what}: fails on values that do not fit"),
                        ));
                    }
                }
            }
            step.statements.push(sql);
        }
        if from.default != to.default || default_dropped {
            match &to.default {
                Some(d) => step
                    .statements
                    .push(format!("{alter} SET DEFAULT {}", d.sql)),
                None if !default_dropped && from.default.is_some() => {
                    step.statements.push(format!("{alter} DROP DEFAULT"))
                }
                None => {}
            }
        }
        if to.not_null && !from.not_null {
            step.statements.push(format!("{alter} SET NOT NULL"));
            step.hazards.push(hazard(
                HazardKind::MayFail,
                format!(
                    "sets NOT NULL on {table}.{}: fails if any row holds NULL",
                    to.name
                ),
            ));
        } else if !to.not_null && from.not_null {
            step.statements.push(format!("{alter} DROP NOT NULL"));
        }
        match (&from.identity, &to.identity) {
            (None, Some(id)) => {
                let mut sql = format!(
                    "{alter} ADD GENERATED {} AS IDENTITY",
                    if id.always { "ALWAYS" } else { "BY DEFAULT" }
                );
                let opts = sequence_clauses(&id.options);
                if !opts.is_empty() {
                    sql.push_str(&format!(" ({})", opts.join(" ")));
                }
                // Existing values stay; only new rows draw from the identity.
                step.statements.push(sql);
            }
            (Some(a), Some(b)) if a != b => {
                let mut parts = Vec::new();
                if a.always != b.always {
                    parts.push(format!(
                        "SET GENERATED {}",
                        if b.always { "ALWAYS" } else { "BY DEFAULT" }
                    ));
                }
                // The column's own ALTER ... TYPE, earlier in this step, has moved the
                // identity's sequence to the new type; bounds at the old type's limits
                // followed it, as the model's defaults do.
                for clause in alter_sequence_clauses(&a.options, &b.options, None) {
                    parts.push(format!("SET {clause}"));
                }
                let old = SequenceValues::resolve(&a.options, &to.data_type);
                let new = SequenceValues::resolve(&b.options, &to.data_type);
                let what = format!("the identity of {table}.{}", to.name);
                match current_value_change(old, new) {
                    CurrentValue::Fits => {}
                    CurrentValue::Restart(reason) => {
                        parts.push("RESTART".to_string());
                        step.hazards.push(restart_hazard(&what, new, reason));
                    }
                    CurrentValue::MayBeOutside { behind, past } => {
                        if let Some(bound) = behind {
                            // The identity's sequence has no name in the model: the server
                            // finds it, and a DO block reads its position.
                            let forward = MoveForward::new(old, new, bound);
                            let seq = format!(
                                "pg_get_serial_sequence({}, {})",
                                literal(&quote_qualified(table)),
                                literal(&to.name)
                            );
                            step.statements.push(format!(
                                "DO $ferry$ DECLARE s regclass := {seq}; v bigint; BEGIN EXECUTE format('SELECT last_value FROM %s', s) INTO v; IF v {} {bound} THEN PERFORM setval(s, {}, false); END IF; END $ferry$",
                                forward.compare, forward.to_value
                            ));
                            step.hazards.push(forward.hazard(&what));
                        }
                        if let Some(bound) = past {
                            step.hazards.push(past_hazard(&what, new, bound));
                        }
                    }
                }
                if !parts.is_empty() {
                    step.statements.push(format!("{alter} {}", parts.join(" ")));
                }
            }
            _ => {}
        }
        if !step.statements.is_empty() {
            self.phases.alter_columns.push(step);
        }
        if from.comment != to.comment {
            self.phases.comments.push(Step::new(comment_sql(
                "COLUMN",
                &column_ref(table, &to.name),
                to.comment.as_deref(),
            )));
        }
    }

    /// DROP + ADD COLUMN, then everything that mentioned the column is created again.
    fn rebuild_column(&mut self, td: &TableDiff, from: &Column, to: &Column) {
        let table = &td.to.name;
        let t = quote_qualified(table);
        let mut step = Step {
            statements: vec![
                format!("ALTER TABLE {t} DROP COLUMN {}", quote_ident(&from.name)),
                format!("ALTER TABLE {t} ADD COLUMN {}", column_def(to, None)),
            ],
            hazards: vec![hazard(
                HazardKind::TableRewrite,
                format!(
                    "drops and adds column {table}.{} to change how it is generated",
                    to.name
                ),
            )],
        };
        if from.generated.is_none() {
            step.hazards.push(hazard(
                HazardKind::DataLoss,
                format!(
                    "replaces the values of column {table}.{} by generated ones",
                    to.name
                ),
            ));
        }
        self.phases.alter_columns.push(step);
        if to.comment.is_some() {
            self.phases.comments.push(Step::new(comment_sql(
                "COLUMN",
                &column_ref(table, &to.name),
                to.comment.as_deref(),
            )));
        }
    }

    /// Schedules what a DROP + ADD of `to` takes away: the indexes and constraints of the
    /// target table that involve the column.
    fn schedule_rebuild_readds(&mut self, td: &'a TableDiff, to: &Column) {
        let col = &to.name;
        let target = &td.to;
        let mut again: Vec<Readd> = Vec::new();
        if let Some(pk) = &target.primary_key {
            if pk.columns.contains(col) {
                again.push(Readd::PrimaryKey(pk.clone()));
            }
        }
        for u in &target.uniques {
            if u.columns.contains(col) {
                again.push(Readd::Unique(u.clone()));
            }
        }
        for ck in &target.checks {
            if mentions(&ck.expr.sql, col) {
                again.push(Readd::Check(ck.clone()));
            }
        }
        for x in &target.exclusions {
            let uses = x.include.contains(col)
                || x.predicate.as_ref().is_some_and(|p| mentions(&p.sql, col))
                || x.elements.iter().any(|e| match &e.key.target {
                    IndexTarget::Column(c) => c == col,
                    IndexTarget::Expr(e) => mentions(&e.sql, col),
                });
            if uses {
                again.push(Readd::Exclusion(x.clone()));
            }
        }
        for idx in &target.indexes {
            let uses = idx.include.contains(col)
                || idx
                    .predicate
                    .as_ref()
                    .is_some_and(|p| mentions(&p.sql, col))
                || idx.keys.iter().any(|k| match &k.target {
                    IndexTarget::Column(c) => c == col,
                    IndexTarget::Expr(e) => mentions(&e.sql, col),
                });
            if uses {
                again.push(Readd::Index(idx.clone()));
            }
        }
        for fk in &target.foreign_keys {
            if fk.columns.contains(col) {
                again.push(Readd::ForeignKey(fk.clone()));
            }
        }
        for obj in again {
            self.schedule_readd(target, Some(td), obj);
        }
    }

    fn add_primary_key(&mut self, table: &QualifiedName, pk: &PrimaryKey, existing: bool) {
        let mut step = Step::new(add_constraint_sql(table, &pk.name, &pk_body(pk)));
        step.statements
            .extend(constraint_comment_statement(table, pk));
        if existing {
            step.hazards.push(hazard(
                HazardKind::MayFail,
                format!(
                    "adds primary key {} on {table}: fails on duplicate or NULL values",
                    pk.name
                ),
            ));
            step.hazards.push(hazard(
                HazardKind::LongLock,
                format!(
                    "builds the index of primary key {} on {table} while blocking writes",
                    pk.name
                ),
            ));
        }
        self.phases.add_constraints.push(step);
    }

    fn add_unique(&mut self, table: &QualifiedName, u: &UniqueConstraint, existing: bool) {
        let mut step = Step::new(add_constraint_sql(table, &u.name, &unique_body(u)));
        step.statements
            .extend(constraint_comment_statement(table, u));
        if existing {
            step.hazards.push(hazard(
                HazardKind::MayFail,
                format!(
                    "adds unique constraint {} on {table}: fails on duplicate values",
                    u.name
                ),
            ));
            step.hazards.push(hazard(
                HazardKind::LongLock,
                format!(
                    "builds the index of unique constraint {} on {table} while blocking writes",
                    u.name
                ),
            ));
        }
        self.phases.add_constraints.push(step);
    }

    fn add_check(&mut self, table: &QualifiedName, ck: &CheckConstraint, existing: bool) {
        let mut step = Step::new(add_constraint_sql(table, &ck.name, &check_body(ck)));
        step.statements
            .extend(constraint_comment_statement(table, ck));
        if existing {
            step.hazards.push(hazard(
                HazardKind::MayFail,
                format!(
                    "adds check constraint {} on {table}: fails if existing rows violate it",
                    ck.name
                ),
            ));
        }
        self.phases.add_constraints.push(step);
    }

    /// Only ever on an existing table: a new table writes its exclusions inline.
    fn add_exclusion(&mut self, table: &QualifiedName, x: &ExclusionConstraint) {
        let mut step = Step::new(add_constraint_sql(table, &x.name, &exclusion_body(x)))
            .with_hazard(
                HazardKind::MayFail,
                format!(
                    "adds exclusion constraint {} on {table}: fails if existing rows conflict",
                    x.name
                ),
            )
            .with_hazard(
                HazardKind::LongLock,
                format!(
                    "builds the index of exclusion constraint {} on {table} while blocking writes",
                    x.name
                ),
            );
        step.statements
            .extend(constraint_comment_statement(table, x));
        self.phases.add_constraints.push(step);
    }

    fn create_index(&mut self, table: &QualifiedName, idx: &Index, existing: bool) {
        let mut step = Step {
            statements: create_index_statements(table, idx),
            ..Step::default()
        };
        if existing {
            step.hazards.push(hazard(
                HazardKind::LongLock,
                format!(
                    "builds index {} on {table} without CONCURRENTLY: blocks writes meanwhile",
                    idx.name
                ),
            ));
            if idx.unique {
                step.hazards.push(hazard(
                    HazardKind::MayFail,
                    format!(
                        "builds unique index {} on {table}: fails on duplicate values",
                        idx.name
                    ),
                ));
            }
        }
        self.phases.create_indexes.push(step);
    }

    fn add_foreign_key(&mut self, table: &QualifiedName, fk: &ForeignKey, existing: bool) {
        let mut step = Step::new(add_constraint_sql(table, &fk.name, &fk_body(fk)));
        step.statements
            .extend(constraint_comment_statement(table, fk));
        if existing {
            step.hazards.push(hazard(
                HazardKind::MayFail,
                format!(
                    "adds foreign key {} on {table}: fails if existing rows have no match in {}",
                    fk.name, fk.ref_table
                ),
            ));
            step.hazards.push(hazard(
                HazardKind::LongLock,
                format!(
                    "validates foreign key {} on {table} while locking {table} and {}",
                    fk.name, fk.ref_table
                ),
            ));
        }
        self.phases.add_foreign_keys.push(step);
    }

    /// PostgreSQL refuses to drop a function that a column default, check or index (or a
    /// domain's check or default) calls.
    /// When the plan drops a function and creates it again, those go first (before the
    /// functions phase) and come back afterwards from the target schema: checks and indexes
    /// through the re-add list, defaults with SET DEFAULT unless the differ sets them anyway.
    /// Generated columns calling such a function are not handled (the server's error says so).
    fn drop_function_dependents(&mut self) {
        let recreated = functions::recreated_functions(self.changes);
        if recreated.is_empty() {
            return;
        }
        self.drop_domain_function_dependents(&recreated);
        let from = self.from;
        for from_table in from.tables.values() {
            let target = self.to_table_of(&from_table.name);
            let td = target.and_then(|(_, td)| td);
            let t = quote_qualified(&from_table.name);
            let mut statements: Vec<String> = Vec::new();
            for col in &from_table.columns {
                let Some(default) = &col.default else {
                    continue;
                };
                if !calls_any(&default.sql, &recreated) {
                    continue;
                }
                statements.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {} DROP DEFAULT",
                    quote_ident(&col.name)
                ));
                let kept = target.and_then(|(to_table, _)| {
                    let (_, name) = self.map_column(&from_table.name, &col.name)?;
                    Some((to_table, to_table.column(&name)?))
                });
                // A changed default is set by the differ's own ALTER COLUMN.
                if let Some((to_table, new_col)) = kept.filter(|(_, c)| c.default == col.default) {
                    if let Some(d) = &new_col.default {
                        self.phases.alter_columns.push(Step::new(format!(
                            "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                            quote_qualified(&to_table.name),
                            quote_ident(&new_col.name),
                            d.sql
                        )));
                    }
                }
            }
            self.drop_expression_dependents(
                from_table,
                target.map(|(to_table, _)| to_table),
                td,
                |sql| calls_any(sql, &recreated),
                &mut statements,
            );
            if !statements.is_empty() {
                self.phases.drop_function_dependents.push(Step {
                    statements,
                    hazards: Vec::new(),
                });
            }
        }
    }

    fn readd_objects(&mut self) {
        let readds = std::mem::take(&mut self.readds);
        for (table, objects) in readds {
            for obj in objects {
                match obj {
                    Readd::PrimaryKey(pk) => self.add_primary_key(&table, &pk, true),
                    Readd::Unique(u) => self.add_unique(&table, &u, true),
                    Readd::Check(ck) => self.add_check(&table, &ck, true),
                    Readd::Exclusion(x) => self.add_exclusion(&table, &x),
                    Readd::Index(idx) => self.create_index(&table, &idx, true),
                    Readd::ForeignKey(fk) => self.add_foreign_key(&table, &fk, true),
                }
            }
        }
    }
}

// ----- ordering --------------------------------------------------------------------------

/// Every relation name of `schema`: tables, sequences, and the indexes of keys and
/// indexes, which share one namespace per schema on the server.
fn target_relation_names(schema: &Schema) -> BTreeSet<QualifiedName> {
    let mut names: BTreeSet<QualifiedName> = schema.sequences.keys().cloned().collect();
    for t in schema.tables.values() {
        names.extend(table_relation_names(t));
    }
    names
}

/// The relations a table consists of: itself and the indexes of its primary key, unique
/// and exclusion constraints and indexes, all in the table's schema.
fn table_relation_names(t: &Table) -> Vec<QualifiedName> {
    let in_schema = |name: &str| QualifiedName::new(t.name.schema.clone(), name);
    let mut names = vec![t.name.clone()];
    names.extend(t.primary_key.iter().map(|pk| in_schema(&pk.name)));
    names.extend(t.uniques.iter().map(|u| in_schema(&u.name)));
    names.extend(t.exclusions.iter().map(|x| in_schema(&x.name)));
    names.extend(t.indexes.iter().map(|i| in_schema(&i.name)));
    names
}

/// Tables ordered so that each comes after the tables its foreign keys reference, and the
/// foreign keys that close a cycle (table, constraint), which cannot follow that order.
fn dependency_order(
    tables: &BTreeMap<QualifiedName, &Table>,
) -> (Vec<QualifiedName>, BTreeSet<(QualifiedName, String)>) {
    #[derive(PartialEq)]
    enum State {
        Visiting,
        Done,
    }
    let mut state: BTreeMap<QualifiedName, State> = BTreeMap::new();
    let mut order = Vec::new();
    let mut cycles = BTreeSet::new();
    // Iterative depth-first search: (table, index of the next foreign key to follow).
    for start in tables.keys() {
        if state.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(QualifiedName, usize)> = vec![(start.clone(), 0)];
        state.insert(start.clone(), State::Visiting);
        while let Some((name, next)) = stack.pop() {
            let Some(table) = tables.get(&name) else {
                continue;
            };
            let mut fks: Vec<&ForeignKey> = table.foreign_keys.iter().collect();
            fks.sort_by(|a, b| a.name.cmp(&b.name));
            // A partition's parent comes first, like a referenced table (never a cycle).
            let parent = table.partition_of.as_ref().map(|o| &o.parent);
            let deps: Vec<(&QualifiedName, Option<&String>)> = parent
                .map(|p| (p, None))
                .into_iter()
                .chain(fks.iter().map(|fk| (&fk.ref_table, Some(&fk.name))))
                .collect();
            if let Some((r, fk_name)) = deps.get(next).copied() {
                stack.push((name.clone(), next + 1));
                if *r == name || !tables.contains_key(r) {
                    continue;
                }
                match state.get(r) {
                    Some(State::Visiting) => {
                        if let Some(fk_name) = fk_name {
                            cycles.insert((name.clone(), fk_name.clone()));
                        }
                    }
                    Some(State::Done) => {}
                    None => {
                        state.insert(r.clone(), State::Visiting);
                        stack.push((r.clone(), 0));
                    }
                }
            } else {
                state.insert(name.clone(), State::Done);
                order.push(name);
            }
        }
    }
    (order, cycles)
}

// ----- rendering -------------------------------------------------------------------------

fn hazard(kind: HazardKind, message: String) -> ferry_core::Hazard {
    ferry_core::Hazard::new(kind, message)
}

/// An SQL string literal (standard_conforming_strings: only `'` needs doubling).
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn column_list(cols: &[String]) -> String {
    cols.iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn column_ref(table: &QualifiedName, column: &str) -> String {
    format!("{}.{}", quote_qualified(table), quote_ident(column))
}

fn comment_sql(kind: &str, target: &str, text: Option<&str>) -> String {
    match text {
        Some(t) => format!("COMMENT ON {kind} {target} IS {}", literal(t)),
        None => format!("COMMENT ON {kind} {target} IS NULL"),
    }
}

fn create_enum_sql(name: &QualifiedName, values: &[String]) -> String {
    let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        quote_qualified(name),
        list.join(", ")
    )
}

/// A collation name as the model stores it (`C`, `en_US.utf8`, `schema.name`).
fn collation_sql(name: &str) -> String {
    // Locale names contain dots (`en_US.utf8`), so the name is one identifier unless its
    // first part is an already lower-case schema name followed by a plain name.
    if let Some((schema, coll)) = name.split_once('.') {
        let simple = |s: &str| quote_ident(s) == s;
        if simple(schema) && simple(coll) {
            return format!("{}.{}", quote_ident(schema), quote_ident(coll));
        }
    }
    quote_ident(name)
}

/// `name type [COLLATE] [GENERATED ...] [DEFAULT ...] [NOT NULL]`.
fn column_def(col: &Column, serial: Option<&str>) -> String {
    let mut sql = format!(
        "{} {}",
        quote_ident(&col.name),
        serial.unwrap_or(&col.data_type)
    );
    if let Some(c) = &col.collation {
        sql.push_str(&format!(" COLLATE {}", collation_sql(c)));
    }
    if let Some(g) = &col.generated {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({})", g.expr.sql));
        sql.push_str(if g.stored { " STORED" } else { " VIRTUAL" });
    }
    if let Some(id) = &col.identity {
        sql.push_str(if id.always {
            " GENERATED ALWAYS AS IDENTITY"
        } else {
            " GENERATED BY DEFAULT AS IDENTITY"
        });
        let opts = sequence_clauses(&id.options);
        if !opts.is_empty() {
            sql.push_str(&format!(" ({})", opts.join(" ")));
        }
    }
    if serial.is_none() {
        if let Some(d) = &col.default {
            sql.push_str(&format!(" DEFAULT {}", d.sql));
        }
    }
    if col.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

fn pk_body(pk: &PrimaryKey) -> String {
    format!("PRIMARY KEY ({})", column_list(&pk.columns))
}

fn deferrable_sql(d: Deferrable) -> &'static str {
    match d {
        Deferrable::NotDeferrable => "",
        Deferrable::InitiallyImmediate => " DEFERRABLE",
        Deferrable::InitiallyDeferred => " DEFERRABLE INITIALLY DEFERRED",
    }
}

fn unique_body(u: &UniqueConstraint) -> String {
    format!(
        "UNIQUE{} ({}){}",
        if u.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        column_list(&u.columns),
        deferrable_sql(u.deferrable)
    )
}

fn check_body(ck: &CheckConstraint) -> String {
    format!(
        "CHECK ({}){}",
        ck.expr.sql,
        if ck.no_inherit { " NO INHERIT" } else { "" }
    )
}

fn fk_body(fk: &ForeignKey) -> String {
    let mut sql = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        column_list(&fk.columns),
        quote_qualified(&fk.ref_table),
        column_list(&fk.ref_columns)
    );
    match fk.match_type {
        MatchType::Simple => {}
        MatchType::Full => sql.push_str(" MATCH FULL"),
        MatchType::Partial => sql.push_str(" MATCH PARTIAL"),
    }
    if fk.on_update != ReferentialAction::NoAction {
        sql.push_str(&format!(" ON UPDATE {}", fk.on_update.sql()));
    }
    if fk.on_delete != ReferentialAction::NoAction {
        sql.push_str(&format!(" ON DELETE {}", fk.on_delete.sql()));
    }
    sql.push_str(deferrable_sql(fk.deferrable));
    sql
}

fn add_constraint_sql(table: &QualifiedName, name: &str, body: &str) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {body}",
        quote_qualified(table),
        quote_ident(name)
    )
}

fn create_index_sql(table: &QualifiedName, idx: &Index) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {} ON {}",
        if idx.unique { "UNIQUE " } else { "" },
        quote_ident(&idx.name),
        quote_qualified(table)
    );
    if !idx.method.is_empty() && idx.method != "btree" {
        sql.push_str(&format!(" USING {}", quote_ident(&idx.method)));
    }
    let keys: Vec<String> = idx.keys.iter().map(index_key_sql).collect();
    sql.push_str(&format!(" ({})", keys.join(", ")));
    if !idx.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", column_list(&idx.include)));
    }
    if idx.nulls_not_distinct {
        sql.push_str(" NULLS NOT DISTINCT");
    }
    if !idx.storage.is_empty() {
        sql.push_str(&format!(" WITH ({})", storage_params_sql(&idx.storage.0)));
    }
    if let Some(p) = &idx.predicate {
        sql.push_str(&format!(" WHERE {}", p.sql));
    }
    sql
}

/// One key of an index or element of an exclusion constraint: `lower(a) COLLATE "C"
/// text_pattern_ops DESC NULLS LAST`.
fn index_key_sql(k: &IndexKey) -> String {
    let mut s = match &k.target {
        IndexTarget::Column(c) => quote_ident(c),
        IndexTarget::Expr(e) => parenthesized(&e.sql),
    };
    if let Some(c) = &k.collation {
        s.push_str(&format!(" COLLATE {}", collation_sql(c)));
    }
    if let Some(o) = &k.opclass {
        s.push(' ');
        s.push_str(&opclass_sql(o));
    }
    if k.descending {
        s.push_str(" DESC");
    }
    match k.nulls_first {
        Some(true) => s.push_str(" NULLS FIRST"),
        Some(false) => s.push_str(" NULLS LAST"),
        None => {}
    }
    s
}

/// `EXCLUDE USING gist (room WITH =, during WITH &&) ...`, the method always written so
/// that the statement says what it builds.
fn exclusion_body(x: &ExclusionConstraint) -> String {
    let elements: Vec<String> = x
        .elements
        .iter()
        .map(|e| format!("{} WITH {}", index_key_sql(&e.key), e.operator))
        .collect();
    let mut sql = format!(
        "EXCLUDE USING {} ({})",
        quote_ident(&x.method),
        elements.join(", ")
    );
    if !x.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", column_list(&x.include)));
    }
    if let Some(p) = &x.predicate {
        sql.push_str(&format!(" WHERE ({})", p.sql));
    }
    sql.push_str(deferrable_sql(x.deferrable));
    sql
}

/// CREATE INDEX and, when it has one, the index's comment.
pub(super) fn create_index_statements(table: &QualifiedName, idx: &Index) -> Vec<String> {
    let mut statements = vec![create_index_sql(table, idx)];
    if idx.comment.is_some() {
        statements.push(index_comment_sql(
            &table.schema,
            &idx.name,
            idx.comment.as_deref(),
        ));
    }
    statements
}

fn index_comment_sql(schema: &str, name: &str, text: Option<&str>) -> String {
    let target = quote_qualified(&QualifiedName::new(schema, name));
    comment_sql("INDEX", &target, text)
}

/// `name='value', ...`: values quoted, as `pg_get_indexdef` does for most of them (the
/// server takes every parameter as a string).
fn storage_params_sql(entries: &[String]) -> String {
    entries
        .iter()
        .map(|e| match e.split_once('=') {
            Some((name, value)) => format!("{}={}", quote_ident(name), literal(value)),
            None => quote_ident(e),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements turning index `from` into `to` (schema `schema`, under `to`'s name), the
/// same index built the same way: `ALTER INDEX ... RESET/SET (...)`, `COMMENT ON INDEX`.
pub(super) fn alter_index_sql(schema: &str, from: &Index, to: &Index) -> Vec<String> {
    let name = quote_qualified(&QualifiedName::new(schema, to.name.as_str()));
    let mut statements = Vec::new();
    let names = |s: &StorageParams| -> BTreeSet<String> {
        s.0.iter()
            .map(|e| StorageParams::name_of(e).to_string())
            .collect()
    };
    let reset: Vec<String> = names(&from.storage)
        .difference(&names(&to.storage))
        .map(|n| quote_ident(n))
        .collect();
    if !reset.is_empty() {
        statements.push(format!("ALTER INDEX {name} RESET ({})", reset.join(", ")));
    }
    let set: Vec<String> = to
        .storage
        .0
        .iter()
        .filter(|e| !from.storage.0.contains(e))
        .cloned()
        .collect();
    if !set.is_empty() {
        statements.push(format!(
            "ALTER INDEX {name} SET ({})",
            storage_params_sql(&set)
        ));
    }
    if from.comment != to.comment {
        statements.push(index_comment_sql(schema, &to.name, to.comment.as_deref()));
    }
    statements
}

fn constraint_comment_sql(table: &QualifiedName, name: &str, text: Option<&str>) -> String {
    let target = format!("{} ON {}", quote_ident(name), quote_qualified(table));
    comment_sql("CONSTRAINT", &target, text)
}

/// The comment of a constraint being created, if it has one.
fn constraint_comment_statement<T: Constraint>(table: &QualifiedName, c: &T) -> Option<String> {
    let text = c.comment()?;
    Some(constraint_comment_sql(table, c.name(), Some(text)))
}

/// A `COMMENT ON CONSTRAINT` for constraint `to` (on `table`) when its comment is not
/// `from`'s.
fn constraint_comment_change<T: Constraint>(
    table: &QualifiedName,
    from: &T,
    to: &T,
) -> Vec<String> {
    if from.comment() == to.comment() {
        return Vec::new();
    }
    vec![constraint_comment_sql(table, to.name(), to.comment())]
}

/// `(sql)`, unless the whole text is already one parenthesised group.
fn parenthesized(sql: &str) -> String {
    let s = sql.trim();
    if s.starts_with('(') && s.ends_with(')') {
        // Check that the first parenthesis closes at the very end, outside literals.
        let mut depth = 0;
        let mut in_string = false;
        for (i, c) in s.char_indices() {
            match c {
                '\'' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        if i == s.len() - 1 {
                            return s.to_string();
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    format!("({s})")
}

/// An operator class name, optionally schema-qualified (`public.gin_trgm_ops`).
fn opclass_sql(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, op)) => format!("{}.{}", quote_ident(schema), quote_ident(op)),
        None => quote_ident(name),
    }
}

/// Sequence options that are set, as CREATE SEQUENCE / identity clauses.
fn sequence_clauses(o: &SequenceOptions) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = o.increment {
        out.push(format!("INCREMENT BY {v}"));
    }
    if let Some(v) = o.min_value {
        out.push(format!("MINVALUE {v}"));
    }
    if let Some(v) = o.max_value {
        out.push(format!("MAXVALUE {v}"));
    }
    if let Some(v) = o.start {
        out.push(format!("START WITH {v}"));
    }
    if let Some(v) = o.cache {
        out.push(format!("CACHE {v}"));
    }
    if o.cycle {
        out.push("CYCLE".to_string());
    }
    out
}

/// Why a sequence restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RestartReason {
    /// Counting on from the current value would give out the same values again.
    DirectionFlips,
    /// The current value cannot lie in the new range.
    RangesApart,
}

/// What new settings mean for a sequence's current value, which lies in its old range:
/// the server refuses settings whose range does not hold it ("RESTART value (1) cannot
/// be greater than MAXVALUE (-1)").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CurrentValue {
    /// Every value of the old range is in the new one.
    Fits,
    /// The sequence must restart at its new start.
    Restart(RestartReason),
    /// Part of the old range is outside the new one. `behind`: the new bound a current
    /// value may not have reached yet (an ascending sequence's minimum, a descending
    /// one's maximum); `past`: the new bound it may have passed.
    MayBeOutside {
        behind: Option<i64>,
        past: Option<i64>,
    },
}

fn current_value_change(old: SequenceValues, new: SequenceValues) -> CurrentValue {
    let ascending = new.increment > 0;
    if (old.increment > 0) != ascending {
        return CurrentValue::Restart(RestartReason::DirectionFlips);
    }
    if new.min > old.max || new.max < old.min {
        return CurrentValue::Restart(RestartReason::RangesApart);
    }
    let below = (new.min > old.min).then_some(new.min);
    let above = (new.max < old.max).then_some(new.max);
    let (behind, past) = if ascending {
        (below, above)
    } else {
        (above, below)
    };
    if behind.is_none() && past.is_none() {
        CurrentValue::Fits
    } else {
        CurrentValue::MayBeOutside { behind, past }
    }
}

/// A sequence that has not reached its new range yet (`behind`) is moved there before the
/// new bounds are set (setval checks the old range), forward only, so that no value is
/// given out twice. Reading the sequence itself gives its position even before the first
/// nextval().
struct MoveForward {
    to_value: i64,
    /// How a position behind `bound` compares to it.
    compare: &'static str,
    bound: i64,
    ascending: bool,
}

impl MoveForward {
    fn new(old: SequenceValues, new: SequenceValues, bound: i64) -> MoveForward {
        let ascending = new.increment > 0;
        let (to_value, compare) = if ascending {
            (new.start.min(old.max), "<")
        } else {
            (new.start.max(old.min), ">")
        };
        MoveForward {
            to_value,
            compare,
            bound,
            ascending,
        }
    }

    fn hazard(&self, what: &str) -> ferry_core::Hazard {
        hazard(
            HazardKind::DataLoss,
            format!(
                "moves {what} to {} if its current value is {} {}",
                self.to_value,
                if self.ascending { "below" } else { "above" },
                self.bound
            ),
        )
    }
}

fn restart_hazard(what: &str, new: SequenceValues, reason: RestartReason) -> ferry_core::Hazard {
    let why = match reason {
        RestartReason::DirectionFlips => "its direction changes",
        RestartReason::RangesApart => "its current value is outside the new range",
    };
    hazard(
        HazardKind::DataLoss,
        format!("restarts {what} at {}: {why}", new.start),
    )
}

fn past_hazard(what: &str, new: SequenceValues, bound: i64) -> ferry_core::Hazard {
    hazard(
        HazardKind::MayFail,
        format!(
            "fails if {what} is already {} {bound}",
            if new.increment > 0 { "above" } else { "below" }
        ),
    )
}

/// The data type of a sequence (`bigint` when none is written).
fn sequence_type(s: &Sequence) -> &str {
    s.data_type.as_deref().unwrap_or("bigint")
}

/// The range of a sequence's data type.
fn type_limits(data_type: &str) -> (i64, i64) {
    match data_type {
        "smallint" => (i16::MIN as i64, i16::MAX as i64),
        "integer" => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

/// What ALTER SEQUENCE says about a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BoundClause {
    /// Nothing.
    Unchanged,
    /// NO MINVALUE / NO MAXVALUE.
    Default,
    /// MINVALUE n / MAXVALUE n.
    Value(i64),
}

/// A sequence's settings with PostgreSQL's defaults filled in (the model stores options
/// without their defaults, which depend on the data type and the direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SequenceValues {
    increment: i64,
    min: i64,
    max: i64,
    start: i64,
}

impl SequenceValues {
    fn resolve(o: &SequenceOptions, data_type: &str) -> SequenceValues {
        let (type_min, type_max) = type_limits(data_type);
        let increment = o.increment.unwrap_or(1);
        let ascending = increment > 0;
        let min = o.min_value.unwrap_or(if ascending { 1 } else { type_min });
        let max = o.max_value.unwrap_or(if ascending { type_max } else { -1 });
        let start = o.start.unwrap_or(if ascending { min } else { max });
        SequenceValues {
            increment,
            min,
            max,
            start,
        }
    }
}

/// ALTER SEQUENCE clauses that turn options `from` into `to`; a `None` option is written
/// as the explicit default. `retype` is (old, new) data type when the clauses follow an
/// `AS` that changes it.
fn alter_sequence_clauses(
    from: &SequenceOptions,
    to: &SequenceOptions,
    retype: Option<(&str, &str)>,
) -> Vec<String> {
    let mut out = Vec::new();
    let ascending = |o: &SequenceOptions| o.increment.unwrap_or(1) > 0;
    // When the direction flips, the defaults of the bounds and start flip with it.
    let flipped = ascending(from) != ascending(to);
    if from.increment != to.increment {
        out.push(format!("INCREMENT BY {}", to.increment.unwrap_or(1)));
    }
    let bound = |changed: bool, value: Option<i64>| match (changed, value) {
        (false, _) => BoundClause::Unchanged,
        (true, None) => BoundClause::Default,
        (true, Some(v)) => BoundClause::Value(v),
    };
    let mut min = bound(from.min_value != to.min_value || flipped, to.min_value);
    let mut max = bound(from.max_value != to.max_value || flipped, to.max_value);
    if let Some((old_type, new_type)) = retype {
        // AS moves a bound that was the old type's limit to the new type's limit, even
        // under NO MINVALUE / NO MAXVALUE: an ascending smallint sequence whose minimum
        // was -32768 gets integer's minimum, not 1. Where that is not the target's bound,
        // the bound is written as a number.
        let old = SequenceValues::resolve(from, old_type);
        let target = SequenceValues::resolve(to, new_type);
        let (old_type_min, old_type_max) = type_limits(old_type);
        let (new_type_min, new_type_max) = type_limits(new_type);
        let reset_min = old.min == old_type_min;
        let reset_max = old.max == old_type_max;
        // What the server sets each bound to, as PostgreSQL's init_params does.
        let min_after = match min {
            BoundClause::Value(v) => v,
            BoundClause::Default if target.increment < 0 || reset_min => new_type_min,
            BoundClause::Default => 1,
            BoundClause::Unchanged if reset_min => new_type_min,
            BoundClause::Unchanged => old.min,
        };
        let max_after = match max {
            BoundClause::Value(v) => v,
            BoundClause::Default if target.increment > 0 || reset_max => new_type_max,
            BoundClause::Default => -1,
            BoundClause::Unchanged if reset_max => new_type_max,
            BoundClause::Unchanged => old.max,
        };
        if min_after != target.min {
            min = BoundClause::Value(target.min);
        }
        if max_after != target.max {
            max = BoundClause::Value(target.max);
        }
    }
    match min {
        BoundClause::Unchanged => {}
        BoundClause::Default => out.push("NO MINVALUE".to_string()),
        BoundClause::Value(v) => out.push(format!("MINVALUE {v}")),
    }
    match max {
        BoundClause::Unchanged => {}
        BoundClause::Default => out.push("NO MAXVALUE".to_string()),
        BoundClause::Value(v) => out.push(format!("MAXVALUE {v}")),
    }
    if from.start != to.start
        || flipped
        || (to.start.is_none()
            && (from.min_value != to.min_value || from.max_value != to.max_value))
    {
        let start = match to.start {
            Some(v) => v,
            None if ascending(to) => to.min_value.unwrap_or(1),
            None => to.max_value.unwrap_or(-1),
        };
        out.push(format!("START WITH {start}"));
    }
    if from.cache != to.cache {
        out.push(format!("CACHE {}", to.cache.unwrap_or(1)));
    }
    if from.cycle != to.cycle {
        out.push(if to.cycle { "CYCLE" } else { "NO CYCLE" }.to_string());
    }
    out
}

// ----- analysis helpers ------------------------------------------------------------------

/// Whether a column change needs DROP + ADD COLUMN: PostgreSQL cannot change a generated
/// expression in place (before 17) nor turn a plain column into a generated one.
fn needs_rebuild(from: &Column, to: &Column) -> bool {
    match (&from.generated, &to.generated) {
        (Some(a), Some(b)) => a != b,
        (None, Some(_)) => true,
        _ => false,
    }
}

/// `b`'s name when `a` renamed to it equals `b` but for the comment.
fn same_but_name<'b, T: Constraint>(a: &T, b: &'b T) -> Option<&'b String> {
    let mut renamed = a.clone();
    renamed.set_name(b.name().clone());
    (renamed.same_but_comment(b) && a.name() != b.name()).then(|| b.name())
}

/// The column set of a unique, non-partial index on plain columns.
fn plain_unique_columns(idx: &Index) -> Option<BTreeSet<String>> {
    if !idx.unique || idx.predicate.is_some() {
        return None;
    }
    idx.keys
        .iter()
        .map(|k| match &k.target {
            IndexTarget::Column(c) => Some(c.clone()),
            IndexTarget::Expr(_) => None,
        })
        .collect()
}

fn is_subsequence(small: &[String], big: &[String]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

/// Whether `sql` calls one of `functions` (by name; overloads are not told apart, which
/// at worst re-creates a dependent needlessly).
fn calls_any(sql: &str, functions: &BTreeSet<QualifiedName>) -> bool {
    !functions.is_empty()
        && ferry_sql::function_calls(sql)
            .iter()
            .any(|f| functions.contains(f))
}

/// Whether an expression names `column` (outside string literals).
pub(crate) fn mentions(sql: &str, column: &str) -> bool {
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // Skip the literal; '' is an escaped quote and simply reopens it.
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                }
            }
            '"' => {
                let mut word = String::new();
                while let Some(d) = chars.next() {
                    if d == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            word.push('"');
                            continue;
                        }
                        break;
                    }
                    word.push(d);
                }
                if word == column {
                    return true;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '$' {
                        word.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word.to_lowercase() == column {
                    return true;
                }
            }
            c if c.is_ascii_digit() => {
                while chars
                    .peek()
                    .is_some_and(|d| d.is_alphanumeric() || *d == '.')
                {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    false
}

/// Default expressions whose value differs per row, so adding the column rewrites the table.
fn is_volatile(sql: &str) -> bool {
    let s = sql.to_lowercase();
    [
        "nextval(",
        "random(",
        "gen_random_uuid(",
        "uuid_generate_",
        "clock_timestamp(",
        "timeofday(",
    ]
    .iter()
    .any(|f| s.contains(f))
}

/// The sequence a `nextval('name'::regclass)` default draws from. Unqualified names are
/// in `public`, as PostgreSQL prints them with the default search path.
pub(crate) fn nextval_target(sql: &str) -> Option<QualifiedName> {
    let s = sql.trim();
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("nextval(")
        .or_else(|| lower.strip_prefix("pg_catalog.nextval("))?;
    let offset = s.len() - rest.len();
    let rest = s[offset..].trim_start();
    let rest = rest.strip_prefix('\'')?;
    // The literal, with '' as an escaped quote.
    let mut text = String::new();
    let mut chars = rest.char_indices().peekable();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, d)| *d) == Some('\'') {
                chars.next();
                text.push('\'');
                continue;
            }
            end = Some(i + 1);
            break;
        }
        text.push(c);
    }
    let after = rest[end?..].trim();
    let after = after
        .strip_prefix("::regclass")
        .or_else(|| after.strip_prefix("::REGCLASS"))
        .unwrap_or(after)
        .trim();
    if after != ")" {
        return None;
    }
    let parts = ferry_sql::split_identifier(&text)?;
    match parts.as_slice() {
        [name] => Some(QualifiedName::new("public", name.clone())),
        [schema, name] => Some(QualifiedName::new(schema.clone(), name.clone())),
        _ => None,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum TypeChange {
    /// No rewrite, cannot fail (varchar(10) → varchar(20), varchar → text).
    BinaryCompatible,
    /// Rewrites, cannot fail (integer → bigint).
    Widening,
    /// Rewrites and may fail on values that do not convert.
    Cast,
    /// Loses precision or length.
    Narrowing,
}

/// `(base, modifiers, array)` of a canonical type: `numeric(10,2)` → (`numeric`, [10, 2]).
fn split_type(t: &str) -> (String, Vec<i64>, bool) {
    let (t, array) = match t.strip_suffix("[]") {
        Some(rest) => (rest, true),
        None => (t, false),
    };
    let (base, mods) = match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if close > open => {
            let mods: Vec<i64> = t[open + 1..close]
                .split(',')
                .filter_map(|m| m.trim().parse().ok())
                .collect();
            (format!("{}{}", &t[..open], &t[close + 1..]), mods)
        }
        _ => (t.to_string(), Vec::new()),
    };
    (base, mods, array)
}

fn type_change(from: &str, to: &str) -> TypeChange {
    let (fb, fm, fa) = split_type(from);
    let (tb, tm, ta) = split_type(to);
    if fa != ta {
        return TypeChange::Cast;
    }
    let varlen = |b: &str| b == "character varying" || b == "text";
    // Length-limited strings and bit strings: a larger or no limit is free.
    if (fb == "character varying" || fb == "bit varying") && fb == tb {
        return match (fm.first(), tm.first()) {
            (_, None) => TypeChange::BinaryCompatible,
            (Some(a), Some(b)) if b >= a => TypeChange::BinaryCompatible,
            _ => TypeChange::Narrowing,
        };
    }
    if varlen(&fb) && varlen(&tb) {
        return if tm.is_empty() {
            TypeChange::BinaryCompatible
        } else {
            TypeChange::Narrowing
        };
    }
    if fb == "numeric" && tb == "numeric" {
        return match (fm.as_slice(), tm.as_slice()) {
            (_, []) => TypeChange::BinaryCompatible,
            ([p1, s1], [p2, s2]) if s1 == s2 && p2 >= p1 => TypeChange::BinaryCompatible,
            ([p1, s1], [p2, s2]) if p2 - s2 >= p1 - s1 && s2 >= s1 => TypeChange::Widening,
            _ => TypeChange::Narrowing,
        };
    }
    let precision_types = [
        "timestamp without time zone",
        "timestamp with time zone",
        "time without time zone",
        "time with time zone",
        "interval",
    ];
    if fb == tb && precision_types.contains(&fb.as_str()) {
        return match (fm.first(), tm.first()) {
            (_, None) => TypeChange::BinaryCompatible,
            (Some(a), Some(b)) if b >= a => TypeChange::BinaryCompatible,
            _ => TypeChange::Narrowing,
        };
    }
    if fb == "character" && tb == "character" {
        return match (fm.first(), tm.first()) {
            (Some(a), Some(b)) if b >= a => TypeChange::Widening,
            _ => TypeChange::Narrowing,
        };
    }
    let rank = |b: &str| match b {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(&fb), rank(&tb)) {
        return if b >= a {
            TypeChange::Widening
        } else {
            TypeChange::Narrowing
        };
    }
    if fb == "real" && tb == "double precision" {
        return TypeChange::Widening;
    }
    if fb == "double precision" && tb == "real" {
        return TypeChange::Narrowing;
    }
    if rank(&fb).is_some() && tb == "numeric" && tm.is_empty() {
        return TypeChange::Widening;
    }
    if tb == "text" || (tb == "character varying" && tm.is_empty()) {
        // Every type has a text form.
        return TypeChange::Widening;
    }
    TypeChange::Cast
}

mod domains;
mod functions;
mod grants;
mod partitions;
mod security;
mod views;

#[cfg(test)]
mod tests;
