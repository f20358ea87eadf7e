//! Planning and rendering for SQLite.
//!
//! SQLite's ALTER TABLE can rename tables and columns, add a column at the end and drop an
//! unconstrained column. Every other change to a table is a *rebuild*: create the new
//! definition under a temporary name, copy the rows, drop the old table, rename the new one
//! into place, then re-create its indexes and triggers. Foreign keys are switched off around
//! the transaction (`Plan::before`/`after`) so that dropping the old table never cascades,
//! and `PRAGMA foreign_key_check` (`Plan::checks`) verifies the result before commit.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{
    Change, CheckConstraint, Column, Deferrable, DialectKind, Expr, ForeignKey, Hazard, HazardKind,
    Index, IndexTarget, MatchType, Plan, PlanError, PrimaryKey, QualifiedName, ReferentialAction,
    Schema, Step, Table, TableChange, TableDiff,
};

/// Prefix of the temporary table a rebuild copies rows into.
const REBUILD_PREFIX: &str = "_ferry_new_";

/// Statements that switch foreign keys off around a plan that rebuilds or drops a parent.
const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF";
const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";
const FOREIGN_KEY_CHECK: &str = "PRAGMA foreign_key_check";

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// Orders and renders `changes` (from `ferry_core::diff(from, to)`).
pub(crate) fn plan(from: &Schema, to: &Schema, changes: &[Change]) -> Result<Plan, PlanError> {
    let mut creates: Vec<&Table> = Vec::new();
    let mut drops: Vec<&Table> = Vec::new();
    let mut alters: Vec<TableDiff> = Vec::new();
    for change in changes {
        match change {
            Change::CreateTable(t) => creates.push(t),
            Change::DropTable(t) => drops.push(t),
            Change::AlterTable(td) => alters.push(td.clone()),
            Change::CreateNamespace(n)
            | Change::DropNamespace(n)
            | Change::CommentNamespace { name: n, .. } => {
                return Err(PlanError(format!(
                    "SQLite has no schemas other than main: cannot create, drop or comment on schema {n}"
                )))
            }
            Change::CreateEnum(e) | Change::DropEnum(e) | Change::AlterEnum { to: e, .. } => {
                return Err(PlanError(format!(
                    "SQLite has no enum types: cannot create, change or drop {}",
                    e.name
                )))
            }
            Change::CreateSequence(s)
            | Change::DropSequence(s)
            | Change::AlterSequence { to: s, .. } => {
                return Err(PlanError(format!(
                    "SQLite has no sequences: cannot create, change or drop {}",
                    s.name
                )))
            }
            // The SQLite loader models no privileges (SQLite has none).
            Change::Grants { .. } => {}
            // The SQLite loader keeps views as opaque statements, so none reach the planner.
            Change::CreateView(v) | Change::DropView(v) | Change::AlterView { to: v, .. } => {
                return Err(PlanError(format!(
                    "ferry does not manage SQLite views yet: cannot create, change or drop {}",
                    v.name
                )))
            }
            Change::CreateDomain(d) | Change::DropDomain(d) | Change::AlterDomain { to: d, .. } => {
                return Err(PlanError(format!(
                    "SQLite has no domains: cannot create, change or drop {}",
                    d.name
                )))
            }
            // The SQLite loader keeps these opaque too (SQLite triggers are not modelled).
            Change::CreateFunction(f)
            | Change::DropFunction(f)
            | Change::AlterFunction { to: f, .. } => {
                return Err(PlanError(format!(
                    "SQLite has no functions: cannot create, change or drop {}",
                    f.name
                )))
            }
            Change::CreateTrigger(t)
            | Change::DropTrigger(t)
            | Change::AlterTrigger { to: t, .. } => {
                return Err(PlanError(format!(
                    "ferry does not manage SQLite triggers yet: cannot create, change or drop {}",
                    t.name
                )))
            }
            Change::CreateExtension(_)
            | Change::DropExtension(_)
            | Change::AlterExtension { .. }
            | Change::CreateCompositeType(_)
            | Change::DropCompositeType(_)
            | Change::AlterCompositeType { .. }
            | Change::SetRowSecurity { .. }
            | Change::CreatePolicy { .. }
            | Change::DropPolicy { .. }
            | Change::AlterPolicy { .. } => {
                return Err(PlanError(
                    "SQLite has no extensions, composite types or row level security".to_string(),
                ))
            }
        }
    }
    alters.extend(unreported_layout_changes(from, to, changes));
    for table in creates
        .iter()
        .copied()
        .chain(alters.iter().map(|td| &td.to))
    {
        validate_table(table)?;
    }

    let moves = Moves::new(&alters);
    let alter_order: Vec<QualifiedName> = fk_order(alters.iter().map(|td| &td.to))
        .into_iter()
        .map(|t| t.name.clone())
        .collect();
    let mut works: Vec<TableWork> = alters.iter().map(|td| TableWork::new(td, &moves)).collect();
    works.sort_by_key(|w| alter_order.iter().position(|n| *n == w.to.name));

    let mut steps = Vec::new();

    // Renames first: every later statement refers to tables and columns by their new names,
    // and SQLite rewrites the foreign keys, indexes, triggers and views that name them.
    for w in &works {
        if w.from.name != w.to.name {
            steps.push(Step::new(format!(
                "ALTER TABLE {} RENAME TO {}",
                quote_ident(&w.from.name.name),
                quote_ident(&w.to.name.name)
            )));
        }
    }
    for w in &works {
        for (old, new) in &w.renames {
            steps.push(Step::new(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                quote_ident(&w.to.name.name),
                quote_ident(old),
                quote_ident(new)
            )));
        }
    }

    // Indexes go before the tables and columns they cover, and before any index re-created
    // under the same (database-wide) name.
    for w in works.iter().filter(|w| !w.rebuild) {
        for change in &w.changes {
            match change {
                TableChange::DropIndex(idx) => {
                    steps.push(Step::new(format!("DROP INDEX {}", quote_ident(&idx.name))))
                }
                TableChange::RenameIndex { from, .. } => {
                    steps.push(Step::new(format!("DROP INDEX {}", quote_ident(from))))
                }
                _ => {}
            }
        }
    }

    // Children before parents, so that no step leaves a dangling reference behind.
    let mut drop_order = fk_order(drops.iter().copied());
    drop_order.reverse();
    for table in &drop_order {
        steps.push(
            Step::new(format!("DROP TABLE {}", quote_ident(&table.name.name))).with_hazard(
                HazardKind::DataLoss,
                format!("drops table {}", table.name.name),
            ),
        );
    }

    for table in fk_order(creates.iter().copied()) {
        steps.push(Step::new(create_table_sql(table, &table.name.name)));
        for idx in &table.indexes {
            steps.push(Step::new(create_index_sql(&table.name.name, idx)));
        }
    }

    for w in &works {
        if w.rebuild {
            steps.push(rebuild_step(w, from));
        } else {
            steps.extend(alter_steps(w));
        }
    }

    for w in works.iter().filter(|w| !w.rebuild) {
        let table = &w.to.name.name;
        for change in &w.changes {
            match change {
                TableChange::CreateIndex(idx) => {
                    let mut step = Step::new(create_index_sql(table, idx));
                    if idx.unique {
                        step = step.with_hazard(
                            HazardKind::MayFail,
                            format!(
                                "creates unique index {} on {table}: fails if {table} holds duplicate values",
                                idx.name
                            ),
                        );
                    }
                    steps.push(step);
                }
                TableChange::RenameIndex { to: new, .. } => {
                    // SQLite cannot rename an index: re-create it under its new name.
                    if let Some(idx) = w.to.indexes.iter().find(|i| &i.name == new) {
                        steps.push(Step::new(create_index_sql(table, idx)));
                    }
                }
                _ => {}
            }
        }
    }

    let dropped: BTreeSet<&QualifiedName> = drops.iter().map(|t| &t.name).collect();
    let drops_parent = drops.iter().any(|d| {
        from.tables.values().any(|t| {
            t.name != d.name
                && !dropped.contains(&t.name)
                && t.foreign_keys.iter().any(|fk| fk.ref_table == d.name)
        })
    });
    let mut plan = Plan {
        steps,
        ..Plan::default()
    };
    if works.iter().any(|w| w.rebuild) || drops_parent {
        plan.before = vec![FOREIGN_KEYS_OFF.to_string()];
        plan.checks = vec![FOREIGN_KEY_CHECK.to_string()];
        plan.after = vec![FOREIGN_KEYS_ON.to_string()];
    }
    Ok(plan)
}

/// The statements that create `schema` in an empty database, as one file.
pub(crate) fn render_schema(schema: &Schema) -> String {
    let mut out = String::from("-- Schema of an SQLite database, written by ferry.\n");
    for table in fk_order(schema.tables.values()) {
        out.push('\n');
        out.push_str(&create_table_sql(table, &table.name.name));
        out.push_str(";\n");
        for idx in &table.indexes {
            out.push_str(&create_index_sql(&table.name.name, idx));
            out.push_str(";\n");
        }
    }
    if !schema.opaque.is_empty() {
        out.push_str("\n-- Views and triggers, kept as written.\n");
        for stmt in &schema.opaque {
            out.push('\n');
            out.push_str(statement_text(&stmt.sql));
            out.push_str(";\n");
        }
    }
    out
}

/// Rejects what SQLite cannot express, before anything is rendered.
fn validate_table(table: &Table) -> Result<(), PlanError> {
    let name = &table.name;
    if name.schema != "main" {
        return Err(PlanError(format!(
            "SQLite has only the main schema: cannot create table {name}"
        )));
    }
    if let Some(pk) = &table.primary_key {
        if pk.autoincrement && pk.columns.len() != 1 {
            return Err(PlanError(format!(
                "table {}: AUTOINCREMENT needs a single-column INTEGER PRIMARY KEY",
                name.name
            )));
        }
    }
    if let Some(col) = table.columns.iter().find(|c| c.identity.is_some()) {
        return Err(PlanError(format!(
            "column {}.{}: SQLite has no identity columns (use INTEGER PRIMARY KEY)",
            name.name, col.name
        )));
    }
    if table.indexes.iter().any(|i| i.name.is_empty()) {
        return Err(PlanError(format!(
            "table {}: every SQLite index needs a name",
            name.name
        )));
    }
    if let Some(fk) = table
        .foreign_keys
        .iter()
        .find(|fk| fk.ref_table.schema != "main")
    {
        return Err(PlanError(format!(
            "table {}: SQLite foreign keys cannot reference {}",
            name.name, fk.ref_table
        )));
    }
    Ok(())
}

/// Tables the differ reports as unchanged although they differ in what it does not compare:
/// column order, WITHOUT ROWID and STRICT. Each needs a rebuild.
fn unreported_layout_changes(from: &Schema, to: &Schema, changes: &[Change]) -> Vec<TableDiff> {
    let mentioned: BTreeSet<&QualifiedName> = changes
        .iter()
        .flat_map(|c| match c {
            Change::AlterTable(td) => vec![&td.from.name, &td.to.name],
            Change::CreateTable(t) | Change::DropTable(t) => vec![&t.name],
            _ => vec![],
        })
        .collect();
    let mut out = Vec::new();
    for (name, target) in &to.tables {
        let Some(source) = from.tables.get(name) else {
            continue;
        };
        if mentioned.contains(name) {
            continue;
        }
        if source.without_rowid != target.without_rowid
            || source.strict != target.strict
            || column_names(source) != column_names(target)
        {
            out.push(TableDiff {
                from: source.clone(),
                to: target.clone(),
                changes: Vec::new(),
            });
        }
    }
    out
}

fn column_names(table: &Table) -> Vec<&str> {
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

/// Table and column renames of the whole plan: SQLite's RENAME rewrites every foreign key
/// that points at a renamed table or column, so such references need no other step.
struct Moves {
    /// old table name → (new table name, its column renames old → new)
    tables: BTreeMap<QualifiedName, (QualifiedName, Vec<(String, String)>)>,
}

impl Moves {
    fn new(alters: &[TableDiff]) -> Moves {
        let tables = alters
            .iter()
            .map(|td| {
                (
                    td.from.name.clone(),
                    (td.to.name.clone(), column_renames(&td.changes)),
                )
            })
            .collect();
        Moves { tables }
    }

    /// `fk` as SQLite rewrites it after the renames.
    fn follow(&self, fk: &ForeignKey) -> ForeignKey {
        let mut out = fk.clone();
        if let Some((new_table, renames)) = self.tables.get(&fk.ref_table) {
            out.ref_table = new_table.clone();
            for col in &mut out.ref_columns {
                if let Some((_, new)) = renames.iter().find(|(old, _)| old == col) {
                    *col = new.clone();
                }
            }
        }
        out
    }
}

fn column_renames(changes: &[TableChange]) -> Vec<(String, String)> {
    changes
        .iter()
        .filter_map(|c| match c {
            TableChange::RenameColumn { from, to } => Some((from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

/// One existing table's changes, and whether they need a rebuild.
struct TableWork<'a> {
    from: &'a Table,
    to: &'a Table,
    /// Column renames, old → new; always run as RENAME COLUMN, even before a rebuild, so
    /// that SQLite rewrites the references in other tables.
    renames: Vec<(String, String)>,
    /// The differ's changes without those SQLite's renames already perform.
    changes: Vec<TableChange>,
    rebuild: bool,
}

impl<'a> TableWork<'a> {
    fn new(td: &'a TableDiff, moves: &Moves) -> TableWork<'a> {
        let renames = column_renames(&td.changes);
        let changes = effective_changes(td, &renames, moves);
        let mut work = TableWork {
            from: &td.from,
            to: &td.to,
            renames,
            changes,
            rebuild: false,
        };
        work.rebuild = !work.alter_is_enough();
        work
    }

    /// Whether ALTER TABLE (and CREATE/DROP INDEX) can express every change.
    fn alter_is_enough(&self) -> bool {
        if self.from.without_rowid != self.to.without_rowid || self.from.strict != self.to.strict {
            return false;
        }
        let added: Vec<&Column> = self
            .changes
            .iter()
            .filter_map(|c| match c {
                TableChange::AddColumn(col) => Some(col),
                _ => None,
            })
            .collect();
        let dropped_indexes: BTreeSet<&str> = self
            .changes
            .iter()
            .filter_map(|c| match c {
                TableChange::DropIndex(idx) => Some(idx.name.as_str()),
                TableChange::RenameIndex { from, .. } => Some(from.as_str()),
                _ => None,
            })
            .collect();
        for change in &self.changes {
            let ok = match change {
                TableChange::RenameColumn { .. }
                | TableChange::DropIndex(_)
                | TableChange::CreateIndex(_)
                | TableChange::RenameIndex { .. } => true,
                TableChange::AddColumn(col) => can_add_column(self.to, col),
                TableChange::DropColumn(col) => can_drop_column(self.from, col, &dropped_indexes),
                TableChange::AddForeignKey(fk) => self.inline_fk_column(fk, &added).is_some(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        // ADD COLUMN appends: the result must have the target's column order.
        let mut names: Vec<String> = self
            .from
            .columns
            .iter()
            .map(|c| self.renamed(&c.name))
            .collect();
        for change in &self.changes {
            match change {
                TableChange::DropColumn(col) => names.retain(|n| *n != col.name),
                TableChange::AddColumn(col) => names.push(col.name.clone()),
                _ => {}
            }
        }
        names.iter().map(String::as_str).eq(column_names(self.to))
    }

    /// The added column `fk` can be written on inline (`ADD COLUMN c REFERENCES p (id)`).
    fn inline_fk_column<'c>(&self, fk: &ForeignKey, added: &[&'c Column]) -> Option<&'c Column> {
        if fk.columns.len() != 1 || fk.ref_columns.len() > 1 {
            return None;
        }
        let col = added.iter().find(|c| c.name == fk.columns[0])?;
        let fks_on_column = self
            .to
            .foreign_keys
            .iter()
            .filter(|f| f.columns.contains(&col.name))
            .count();
        (fks_on_column == 1).then_some(*col)
    }

    fn renamed(&self, column: &str) -> String {
        self.renames
            .iter()
            .find(|(old, _)| old == column)
            .map(|(_, new)| new.clone())
            .unwrap_or_else(|| column.to_string())
    }
}

/// The differ's changes minus what needs no statement on SQLite: comments, and drop/add
/// pairs that RENAME TABLE / RENAME COLUMN already perform (foreign keys to a renamed table
/// or column, checks, generated columns and indexes whose expressions name a renamed column).
fn effective_changes(
    td: &TableDiff,
    renames: &[(String, String)],
    moves: &Moves,
) -> Vec<TableChange> {
    let changes = &td.changes;
    let mut skip = vec![false; changes.len()];
    for (i, change) in changes.iter().enumerate() {
        match change {
            TableChange::SetComment { .. } => skip[i] = true,
            TableChange::AlterColumn { from, to } => {
                let mut rewritten = from.clone();
                rewritten.comment = to.comment.clone();
                if let Some(g) = &mut rewritten.generated {
                    g.expr = rename_in_expr(&g.expr, renames);
                }
                skip[i] = rewritten == *to;
            }
            _ => {}
        }
    }
    for i in 0..changes.len() {
        let expected = match &changes[i] {
            TableChange::DropForeignKey(fk) => TableChange::AddForeignKey(moves.follow(fk)),
            TableChange::DropCheck(check) => TableChange::AddCheck(CheckConstraint {
                expr: rename_in_expr(&check.expr, renames),
                ..check.clone()
            }),
            TableChange::DropIndex(idx) => TableChange::CreateIndex(rename_in_index(idx, renames)),
            _ => continue,
        };
        if skip[i] {
            continue;
        }
        let partner = (0..changes.len()).find(|&j| !skip[j] && j != i && changes[j] == expected);
        if let Some(j) = partner {
            skip[i] = true;
            skip[j] = true;
        }
    }
    changes
        .iter()
        .zip(skip)
        .filter(|(_, s)| !s)
        .map(|(c, _)| c.clone())
        .collect()
}

fn rename_in_expr(expr: &Expr, renames: &[(String, String)]) -> Expr {
    if renames.is_empty() {
        return expr.clone();
    }
    let sql = rename_idents(&expr.sql, renames);
    ferry_sql::expr(&sql, DialectKind::Sqlite)
}

fn rename_in_index(idx: &Index, renames: &[(String, String)]) -> Index {
    let mut out = idx.clone();
    for key in &mut out.keys {
        if let IndexTarget::Expr(e) = &mut key.target {
            *e = rename_in_expr(e, renames);
        }
    }
    if let Some(p) = &mut out.predicate {
        *p = rename_in_expr(p, renames);
    }
    out
}

/// SQLite's ADD COLUMN rules: no PRIMARY KEY or UNIQUE, a constant default, NOT NULL only
/// with a non-NULL default, no STORED generated column, REFERENCES only with a NULL default.
fn can_add_column(table: &Table, col: &Column) -> bool {
    let in_pk = table
        .primary_key
        .as_ref()
        .is_some_and(|pk| pk.columns.contains(&col.name));
    let in_unique = table.uniques.iter().any(|u| u.columns.contains(&col.name));
    if in_pk || in_unique || col.identity.is_some() {
        return false;
    }
    if let Some(g) = &col.generated {
        return !g.stored;
    }
    let default_is_null = match &col.default {
        None => true,
        Some(d) => is_null(&d.sql),
    };
    if let Some(d) = &col.default {
        if !is_constant(&d.sql) {
            return false;
        }
    }
    if col.not_null && default_is_null {
        return false;
    }
    let referencing = table
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.contains(&col.name));
    default_is_null || !referencing
}

/// SQLite's DROP COLUMN rules: the column is in no key, constraint, index, or expression.
/// Expressions are searched by name, which errs towards a rebuild.
fn can_drop_column(table: &Table, col: &Column, dropped_indexes: &BTreeSet<&str>) -> bool {
    let name = col.name.as_str();
    let in_pk = table
        .primary_key
        .as_ref()
        .is_some_and(|pk| pk.columns.iter().any(|c| c == name));
    let in_unique = table
        .uniques
        .iter()
        .any(|u| u.columns.iter().any(|c| c == name));
    let in_fk = table
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.iter().any(|c| c == name));
    let in_check = table.checks.iter().any(|c| mentions(&c.expr.sql, name));
    let in_generated = table
        .columns
        .iter()
        .filter(|c| c.name != name)
        .filter_map(|c| c.generated.as_ref())
        .any(|g| mentions(&g.expr.sql, name));
    let in_index = table
        .indexes
        .iter()
        .filter(|i| !dropped_indexes.contains(i.name.as_str()))
        .any(|i| {
            i.keys.iter().any(|k| match &k.target {
                IndexTarget::Column(c) => c.eq_ignore_ascii_case(name),
                IndexTarget::Expr(e) => mentions(&e.sql, name),
            }) || i.predicate.as_ref().is_some_and(|p| mentions(&p.sql, name))
        });
    !(in_pk || in_unique || in_fk || in_check || in_generated || in_index)
}

/// DROP COLUMN and ADD COLUMN statements of a table that needs no rebuild.
fn alter_steps(w: &TableWork) -> Vec<Step> {
    let table = &w.to.name.name;
    let added: Vec<&Column> = w
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::AddColumn(col) => Some(col),
            _ => None,
        })
        .collect();
    let mut steps = Vec::new();
    for change in &w.changes {
        if let TableChange::DropColumn(col) = change {
            steps.push(
                Step::new(format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    quote_ident(table),
                    quote_ident(&col.name)
                ))
                .with_hazard(
                    HazardKind::DataLoss,
                    format!("drops column {table}.{}", col.name),
                ),
            );
        }
    }
    for col in &added {
        let fk = w.changes.iter().find_map(|c| match c {
            TableChange::AddForeignKey(fk)
                if w.inline_fk_column(fk, &added)
                    .is_some_and(|c| c.name == col.name) =>
            {
                Some(fk)
            }
            _ => None,
        });
        steps.push(Step::new(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            quote_ident(table),
            column_sql(col, None, fk)
        )));
    }
    steps
}

/// The rebuild of one table, as a single step.
fn rebuild_step(w: &TableWork, from_schema: &Schema) -> Step {
    let name = &w.to.name.name;
    let temp = format!("{REBUILD_PREFIX}{name}");
    let mut step = Step::default();
    step.statements.push(create_table_sql(w.to, &temp));

    // Renames already ran, so a column keeps its name from the old table to the new one.
    // Generated columns compute their own values and cannot be inserted into.
    let source: Vec<String> = w.from.columns.iter().map(|c| w.renamed(&c.name)).collect();
    let copied: Vec<String> =
        w.to.columns
            .iter()
            .filter(|c| c.generated.is_none() && source.contains(&c.name))
            .map(|c| quote_ident(&c.name))
            .collect();
    if !copied.is_empty() {
        let cols = copied.join(", ");
        step.statements.push(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            quote_ident(&temp),
            quote_ident(name)
        ));
    }
    let autoincrement = |t: &Table| t.primary_key.as_ref().is_some_and(|pk| pk.autoincrement);
    if autoincrement(w.from) && autoincrement(w.to) {
        // Keeps the AUTOINCREMENT high-water mark, so ids of deleted rows are never reused.
        step.statements.push(format!(
            "DELETE FROM sqlite_sequence WHERE name = {}",
            quote_str(&temp)
        ));
        step.statements.push(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
            quote_str(&temp),
            quote_str(name)
        ));
    }
    step.statements
        .push(format!("DROP TABLE {}", quote_ident(name)));
    // Views and triggers naming the table do not resolve between the DROP and the RENAME;
    // legacy mode renames without re-checking them.
    step.statements
        .push("PRAGMA legacy_alter_table = ON".to_string());
    step.statements.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        quote_ident(&temp),
        quote_ident(name)
    ));
    step.statements
        .push("PRAGMA legacy_alter_table = OFF".to_string());
    for idx in &w.to.indexes {
        step.statements.push(create_index_sql(name, idx));
    }

    step.hazards.push(Hazard::new(
        HazardKind::TableRewrite,
        format!("rebuilds table {name} (rows are kept)"),
    ));
    step.hazards.extend(rebuild_hazards(w));

    // DROP TABLE drops the table's triggers: re-create them as the database has them.
    let reshaped = w.changes.iter().any(|c| {
        matches!(
            c,
            TableChange::DropColumn(_) | TableChange::AlterColumn { .. }
        )
    }) || !w.renames.is_empty();
    for stmt in &from_schema.opaque {
        let Some(table) = trigger_table(&stmt.sql) else {
            continue;
        };
        if table.eq_ignore_ascii_case(&w.from.name.name) || table.eq_ignore_ascii_case(name) {
            // The renames that ran before have rewritten the stored trigger the same way.
            let mut renames = w.renames.clone();
            if w.from.name != w.to.name {
                renames.push((w.from.name.name.clone(), name.clone()));
            }
            let text = rename_idents(statement_text(&stmt.sql), &renames);
            step.statements.push(text);
            if reshaped {
                step.hazards.push(Hazard::new(
                    HazardKind::MayFail,
                    format!(
                        "re-creates a trigger on {name} from its stored definition; it may name changed columns"
                    ),
                ));
            }
        }
    }
    step
}

fn rebuild_hazards(w: &TableWork) -> Vec<Hazard> {
    let t = &w.to.name.name;
    let mut out = Vec::new();
    let mut may_fail = |message: String| out.push(Hazard::new(HazardKind::MayFail, message));
    for change in &w.changes {
        match change {
            TableChange::AddColumn(col)
                if col.not_null && col.default.is_none() && col.generated.is_none() =>
            {
                may_fail(format!(
                    "adds NOT NULL column {t}.{} without a default: fails if {t} has rows",
                    col.name
                ));
            }
            TableChange::AlterColumn { from, to } => {
                if from.data_type != to.data_type {
                    may_fail(format!(
                        "changes the type of {t}.{} from {} to {}",
                        to.name,
                        display_type(&from.data_type),
                        display_type(&to.data_type)
                    ));
                }
                if !from.not_null && to.not_null && to.generated.is_none() {
                    may_fail(format!(
                        "makes {t}.{} NOT NULL: fails if a row holds NULL",
                        to.name
                    ));
                }
            }
            TableChange::AddPrimaryKey(pk) => may_fail(format!(
                "adds primary key ({}) on {t}: fails on duplicate values",
                pk.columns.join(", ")
            )),
            TableChange::AddUnique(u) => may_fail(format!(
                "adds unique constraint ({}) on {t}: fails on duplicate values",
                u.columns.join(", ")
            )),
            TableChange::AddCheck(c) => may_fail(format!(
                "adds check ({}) on {t}: fails if a row violates it",
                c.expr.sql
            )),
            TableChange::AddForeignKey(fk) => may_fail(format!(
                "adds foreign key ({}) on {t} referencing {}: fails if a row has no parent",
                fk.columns.join(", "),
                fk.ref_table.name
            )),
            _ => {}
        }
    }
    if !w.from.strict && w.to.strict {
        may_fail(format!(
            "makes {t} STRICT: fails if a value does not match its column type"
        ));
    }
    for change in &w.changes {
        match change {
            TableChange::DropColumn(col) => out.push(Hazard::new(
                HazardKind::DataLoss,
                format!("drops column {t}.{}", col.name),
            )),
            TableChange::AlterColumn { from, to }
                if from.generated.is_none() && to.generated.is_some() =>
            {
                out.push(Hazard::new(
                    HazardKind::DataLoss,
                    format!(
                        "replaces the values of {t}.{} by a generated expression",
                        to.name
                    ),
                ))
            }
            _ => {}
        }
    }
    out
}

fn display_type(t: &str) -> &str {
    if t.is_empty() {
        "(no type)"
    } else {
        t
    }
}

/// `tables` ordered parents first (by foreign key), ties and cycles broken by name.
fn fk_order<'a>(tables: impl IntoIterator<Item = &'a Table>) -> Vec<&'a Table> {
    let mut remaining: BTreeMap<&QualifiedName, &Table> =
        tables.into_iter().map(|t| (&t.name, t)).collect();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let ready = remaining.values().copied().find(|t| {
            t.foreign_keys
                .iter()
                .all(|fk| fk.ref_table == t.name || !remaining.contains_key(&fk.ref_table))
        });
        // A cycle: take the first by name; SQLite accepts forward references.
        let next = ready.or_else(|| remaining.values().next().copied());
        let Some(next) = next else { break };
        remaining.remove(&next.name);
        out.push(next);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// CREATE TABLE for `table` under the name `name`, one item per line.
fn create_table_sql(table: &Table, name: &str) -> String {
    let inline_pk = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.autoincrement && pk.columns.len() == 1);
    let mut items: Vec<String> = table
        .columns
        .iter()
        .map(|col| {
            let pk = inline_pk.filter(|pk| pk.columns[0] == col.name);
            column_sql(col, pk, None)
        })
        .collect();
    if let Some(pk) = table.primary_key.as_ref().filter(|_| inline_pk.is_none()) {
        items.push(format!(
            "{}PRIMARY KEY ({})",
            constraint_name(&pk.name),
            ident_list(&pk.columns)
        ));
    }
    for u in &table.uniques {
        items.push(format!(
            "{}UNIQUE ({})",
            constraint_name(&u.name),
            ident_list(&u.columns)
        ));
    }
    for c in &table.checks {
        items.push(format!(
            "{}CHECK {}",
            constraint_name(&c.name),
            parenthesized(&c.expr.sql)
        ));
    }
    for fk in &table.foreign_keys {
        items.push(format!(
            "{}FOREIGN KEY ({}) {}",
            constraint_name(&fk.name),
            ident_list(&fk.columns),
            references_sql(fk)
        ));
    }
    let mut options = Vec::new();
    if table.without_rowid {
        options.push("WITHOUT ROWID");
    }
    if table.strict {
        options.push("STRICT");
    }
    let mut out = format!("CREATE TABLE {} (\n  ", quote_ident(name));
    out.push_str(&items.join(",\n  "));
    out.push_str("\n)");
    if !options.is_empty() {
        out.push(' ');
        out.push_str(&options.join(", "));
    }
    out
}

/// A column definition; `pk` when the primary key is written on the column (AUTOINCREMENT),
/// `fk` when the foreign key is (ADD COLUMN ... REFERENCES).
fn column_sql(col: &Column, pk: Option<&PrimaryKey>, fk: Option<&ForeignKey>) -> String {
    let mut out = quote_ident(&col.name);
    if !col.data_type.is_empty() {
        out.push(' ');
        out.push_str(&col.data_type);
    }
    if let Some(pk) = pk {
        out.push(' ');
        out.push_str(&constraint_name(&pk.name));
        out.push_str("PRIMARY KEY");
        if pk.autoincrement {
            out.push_str(" AUTOINCREMENT");
        }
    }
    if col.not_null {
        out.push_str(" NOT NULL");
    }
    if let Some(d) = &col.default {
        out.push_str(" DEFAULT ");
        out.push_str(&default_sql(&d.sql));
    }
    if let Some(c) = &col.collation {
        out.push_str(" COLLATE ");
        out.push_str(&quote_ident(c));
    }
    if let Some(g) = &col.generated {
        out.push_str(" GENERATED ALWAYS AS ");
        out.push_str(&parenthesized(&g.expr.sql));
        out.push_str(if g.stored { " STORED" } else { " VIRTUAL" });
    }
    if let Some(fk) = fk {
        out.push(' ');
        out.push_str(&constraint_name(&fk.name));
        out.push_str(&references_sql(fk));
    }
    out
}

/// `REFERENCES parent (cols) ON DELETE ... ON UPDATE ... DEFERRABLE ...`
fn references_sql(fk: &ForeignKey) -> String {
    let mut out = format!("REFERENCES {}", quote_ident(&fk.ref_table.name));
    if !fk.ref_columns.is_empty() {
        out.push_str(&format!(" ({})", ident_list(&fk.ref_columns)));
    }
    if fk.on_delete != ReferentialAction::NoAction {
        out.push_str(" ON DELETE ");
        out.push_str(fk.on_delete.sql());
    }
    if fk.on_update != ReferentialAction::NoAction {
        out.push_str(" ON UPDATE ");
        out.push_str(fk.on_update.sql());
    }
    match fk.match_type {
        MatchType::Simple => {}
        MatchType::Full => out.push_str(" MATCH FULL"),
        MatchType::Partial => out.push_str(" MATCH PARTIAL"),
    }
    match fk.deferrable {
        Deferrable::NotDeferrable => {}
        Deferrable::InitiallyImmediate => out.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
        Deferrable::InitiallyDeferred => out.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    out
}

/// CREATE [UNIQUE] INDEX name ON table (keys) [WHERE predicate]
fn create_index_sql(table: &str, idx: &Index) -> String {
    let keys: Vec<String> = idx
        .keys
        .iter()
        .map(|k| {
            let mut key = match &k.target {
                IndexTarget::Column(c) => quote_ident(c),
                IndexTarget::Expr(e) => parenthesized(&e.sql),
            };
            if let Some(c) = &k.collation {
                key.push_str(" COLLATE ");
                key.push_str(&quote_ident(c));
            }
            if k.descending {
                key.push_str(" DESC");
            }
            key
        })
        .collect();
    let mut out = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if idx.unique { "UNIQUE " } else { "" },
        quote_ident(&idx.name),
        quote_ident(table),
        keys.join(", ")
    );
    if let Some(p) = &idx.predicate {
        out.push_str(" WHERE ");
        out.push_str(&p.sql);
    }
    out
}

fn constraint_name(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!("CONSTRAINT {} ", quote_ident(name))
    }
}

fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A DEFAULT value: literals as they are, anything else in parentheses (SQLite's grammar).
fn default_sql(sql: &str) -> String {
    if is_literal(sql) {
        sql.trim().to_string()
    } else {
        parenthesized(sql)
    }
}

/// `sql` wrapped in parentheses unless they already enclose all of it.
fn parenthesized(sql: &str) -> String {
    let sql = sql.trim();
    if encloses_all(sql) {
        sql.to_string()
    } else {
        format!("({sql})")
    }
}

/// The text of a kept statement without its terminator.
fn statement_text(sql: &str) -> &str {
    sql.trim().trim_end_matches(';').trim_end()
}

/// An identifier, double-quoted when it is not a plain word or is an SQLite keyword.
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !is_keyword(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn is_keyword(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    KEYWORDS.binary_search(&upper.as_str()).is_ok()
}

/// SQLite's keywords (https://sqlite.org/lang_keywords.html), sorted; TRUE and FALSE are
/// added because they read as values where an identifier is expected.
const KEYWORDS: &[&str] = &[
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FALSE",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "TRUE",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

// ---------------------------------------------------------------------------------------------
// A small SQL tokenizer, enough to classify defaults and to find column names in expressions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// A bare word: identifier or keyword.
    Word(String),
    /// A quoted identifier, unescaped.
    Quoted(String),
    Str,
    Number,
    Blob,
    Punct(u8),
}

struct Tok {
    token: Token,
    start: usize,
    end: usize,
}

fn tokenize(sql: &str) -> Vec<Tok> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Bytes of non-ASCII characters all count as identifier bytes (as in SQLite), so every
    // span below starts and ends on a character boundary.
    let ident_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let token = match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
                continue;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'');
                Token::Str
            }
            b'"' | b'`' => {
                i = skip_quoted(bytes, i, b);
                let inner = &sql[start + 1..i.saturating_sub(1).max(start + 1)];
                let q = b as char;
                Token::Quoted(inner.replace(&format!("{q}{q}"), &q.to_string()))
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                Token::Quoted(sql[start + 1..i.saturating_sub(1).max(start + 1)].to_string())
            }
            b'0'..=b'9' => {
                while i < bytes.len() {
                    let c = bytes[i];
                    let exponent_sign = (c == b'+' || c == b'-')
                        && matches!(bytes[i - 1], b'e' | b'E')
                        && !sql[start..i].starts_with("0x");
                    if ident_byte(c) || c == b'.' || exponent_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                Token::Number
            }
            _ if ident_byte(b) => {
                while i < bytes.len() && ident_byte(bytes[i]) {
                    i += 1;
                }
                let word = &sql[start..i];
                if word.eq_ignore_ascii_case("x") && bytes.get(i) == Some(&b'\'') {
                    i = skip_quoted(bytes, i, b'\'');
                    Token::Blob
                } else {
                    Token::Word(word.to_string())
                }
            }
            _ => {
                i += 1;
                Token::Punct(b)
            }
        };
        out.push(Tok {
            token,
            start,
            end: i,
        });
    }
    out
}

/// The end (exclusive) of the quoted text opening at `start`; doubled quotes escape.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn ident_name(token: &Token) -> Option<&str> {
    match token {
        Token::Word(w) | Token::Quoted(w) => Some(w),
        _ => None,
    }
}

/// A literal SQLite accepts after DEFAULT without parentheses.
fn is_literal(sql: &str) -> bool {
    let toks = tokenize(sql);
    match toks.as_slice() {
        [t] => match &t.token {
            Token::Str | Token::Number | Token::Blob => true,
            Token::Word(w) => [
                "NULL",
                "TRUE",
                "FALSE",
                "CURRENT_TIME",
                "CURRENT_DATE",
                "CURRENT_TIMESTAMP",
            ]
            .iter()
            .any(|k| w.eq_ignore_ascii_case(k)),
            _ => false,
        },
        [sign, n] => {
            matches!(sign.token, Token::Punct(b'+') | Token::Punct(b'-'))
                && n.token == Token::Number
        }
        _ => false,
    }
}

/// A default ADD COLUMN accepts: a literal whose value does not depend on the time.
fn is_constant(sql: &str) -> bool {
    is_literal(sql) && !sql.trim().to_ascii_uppercase().starts_with("CURRENT_")
}

fn is_null(sql: &str) -> bool {
    sql.trim().eq_ignore_ascii_case("null")
}

/// Whether one pair of parentheses encloses all of `sql`.
fn encloses_all(sql: &str) -> bool {
    let toks = tokenize(sql);
    if toks.first().map(|t| &t.token) != Some(&Token::Punct(b'(')) {
        return false;
    }
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        match t.token {
            Token::Punct(b'(') => depth += 1,
            Token::Punct(b')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == toks.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether `sql` names `column` (by name only, so it may over-report).
fn mentions(sql: &str, column: &str) -> bool {
    tokenize(sql)
        .iter()
        .filter_map(|t| ident_name(&t.token))
        .any(|n| n.eq_ignore_ascii_case(column))
}

/// `sql` with the column names in `renames` (old → new) replaced, as SQLite's RENAME COLUMN
/// rewrites them. Words followed by `(` are function names and are left alone.
fn rename_idents(sql: &str, renames: &[(String, String)]) -> String {
    let toks = tokenize(sql);
    let mut out = String::new();
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        let Some(name) = ident_name(&t.token) else {
            continue;
        };
        let is_call = matches!(t.token, Token::Word(_))
            && toks.get(i + 1).map(|n| &n.token) == Some(&Token::Punct(b'('));
        if is_call {
            continue;
        }
        if let Some((_, new)) = renames
            .iter()
            .find(|(old, _)| old.eq_ignore_ascii_case(name))
        {
            out.push_str(&sql[last..t.start]);
            out.push_str(&quote_ident(new));
            last = t.end;
        }
    }
    out.push_str(&sql[last..]);
    out
}

/// The table a `CREATE TRIGGER` statement is attached to.
fn trigger_table(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let words: Vec<&Token> = toks.iter().map(|t| &t.token).collect();
    let is_word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.eq_ignore_ascii_case(w));
    if !words.first().is_some_and(|t| is_word(t, "create")) {
        return None;
    }
    let trigger = words.iter().position(|t| is_word(t, "trigger"))?;
    if trigger > 3 {
        return None;
    }
    let on = trigger + words[trigger..].iter().position(|t| is_word(t, "on"))?;
    let first = ident_name(words.get(on + 1)?)?;
    // `ON main.t`: the table is the part after the dot.
    if words.get(on + 2) == Some(&&Token::Punct(b'.')) {
        return words
            .get(on + 3)
            .and_then(|t| ident_name(t))
            .map(String::from);
    }
    Some(first.to_string())
}

#[cfg(test)]
mod tests;
