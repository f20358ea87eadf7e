//! Functions, procedures and triggers in a plan.
//!
//! Functions are created right after types and before tables, since column defaults,
//! checks, indexes and views may call them; the plan then starts with
//! `SET check_function_bodies = false` (as pg_dump does), so that a SQL-language body may
//! read tables created later in the plan. A function whose argument or result type is a
//! table's row type is created after the tables instead. A changed function is replaced in
//! place (`CREATE OR REPLACE`) when PostgreSQL allows it (same kind, result type, argument
//! names and modes, no argument default removed), and dropped and created otherwise.
//! Dropped functions go after the tables, columns and views that may use them.
//!
//! Triggers are dropped first of all (under their table's old name) and created last, once
//! their table, view and function exist. A changed trigger is dropped and created again
//! (a comment alone is set in place). Triggers that a function's drop + create or a view's
//! drop + create would remove are dropped and created again too.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{
    ArgMode, Change, Deferrable, Function, FunctionBody, QualifiedName, Schema, Step, TableChange,
    Trigger, TriggerEnabled,
};

use super::{comment_sql, literal};
use crate::dialect::{quote_ident, quote_qualified};

#[derive(Default)]
pub(super) struct FunctionSteps {
    pub(super) drop_triggers: Vec<Step>,
    /// After types, before tables.
    pub(super) functions: Vec<Step>,
    /// After tables, before views.
    pub(super) late_functions: Vec<Step>,
    /// After views.
    pub(super) create_triggers: Vec<Step>,
    /// After tables are dropped, before types.
    pub(super) drop_functions: Vec<Step>,
}

pub(super) fn plan_functions(
    from: &Schema,
    to: &Schema,
    changes: &[Change],
    drop_views: &[Step],
) -> FunctionSteps {
    let mut out = FunctionSteps::default();
    let relation_types: BTreeSet<String> = to
        .tables
        .keys()
        .chain(to.views.keys())
        .map(quote_qualified)
        .collect();
    let late = |f: &Function| {
        let types = f
            .args
            .iter()
            .map(|a| a.data_type.as_str())
            .chain(f.returns.as_deref());
        types.into_iter().any(|t| {
            let t = t.strip_prefix("SETOF ").unwrap_or(t);
            relation_types.contains(t.strip_suffix("[]").unwrap_or(t))
        })
    };
    let mut creates_functions = false;
    // Functions dropped and created again: the triggers that call them go and come back.
    let recreated_functions = recreated_functions(changes);
    for c in changes {
        match c {
            Change::CreateFunction(f) => {
                creates_functions = true;
                let step = create_function_step(f, false);
                if late(f) {
                    out.late_functions.push(step);
                } else {
                    out.functions.push(step);
                }
            }
            // Replaced by one of the same name with other arguments: gone before its callers
            // come back, so that they bind to the new one.
            Change::DropFunction(f) if recreated_functions.contains(&f.name) => {
                out.functions.push(drop_function_step(f))
            }
            Change::DropFunction(f) => out.drop_functions.push(drop_function_step(f)),
            Change::AlterFunction { from: old, to: new } => {
                let mut old_uncommented = old.with_grants_of(new);
                old_uncommented.comment = new.comment.clone();
                let mut steps = Vec::new();
                if &old_uncommented == new {
                    steps.push(Step::new(comment_sql(
                        new.kind(),
                        &signature(new),
                        new.comment.as_deref(),
                    )));
                } else if replaceable(old, new) {
                    creates_functions = true;
                    let mut step = create_function_step(new, true);
                    if old.comment != new.comment {
                        step.statements.push(comment_sql(
                            new.kind(),
                            &signature(new),
                            new.comment.as_deref(),
                        ));
                    }
                    steps.push(step);
                } else {
                    creates_functions = true;
                    steps.push(drop_function_step(old));
                    steps.push(create_function_step(new, false));
                }
                if late(new) {
                    out.late_functions.extend(steps);
                } else {
                    out.functions.extend(steps);
                }
            }
            _ => {}
        }
    }
    if creates_functions {
        out.functions
            .insert(0, Step::new("SET check_function_bodies = false"));
    }

    // Views the plan drops (and perhaps creates again) take their triggers with them.
    let dropped_views: BTreeSet<QualifiedName> = from
        .views
        .keys()
        .filter(|v| {
            drop_views.iter().flat_map(|s| &s.statements).any(|s| {
                *s == format!("DROP VIEW {}", quote_qualified(v))
                    || *s == format!("DROP MATERIALIZED VIEW {}", quote_qualified(v))
            })
        })
        .cloned()
        .collect();
    let mut created: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    let mut dropped: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    for c in changes {
        match c {
            Change::CreateTrigger(t) => {
                created.insert((t.table.clone(), t.name.clone()));
                out.create_triggers.push(create_trigger_step(t));
            }
            Change::DropTrigger(t) => {
                dropped.insert((t.table.clone(), t.name.clone()));
                out.drop_triggers.push(Step::new(drop_trigger_sql(t)));
            }
            Change::AlterTrigger { from: old, to: new } => {
                let mut moved = old.clone();
                moved.table = new.table.clone();
                moved.from_table = new.from_table.clone();
                moved.comment = new.comment.clone();
                moved.enabled = new.enabled;
                let recreated = recreated_functions.contains(&new.function)
                    || dropped_views.contains(&old.table);
                if &moved == new && !recreated {
                    // Only the comment or the enabled state changed.
                    if old.comment != new.comment {
                        out.create_triggers
                            .push(Step::new(trigger_comment(new, new.comment.as_deref())));
                    }
                    if old.enabled != new.enabled {
                        out.create_triggers.push(Step::new(enabled_sql(new)));
                    }
                    continue;
                }
                dropped.insert((old.table.clone(), old.name.clone()));
                created.insert((new.table.clone(), new.name.clone()));
                out.drop_triggers.push(Step::new(drop_trigger_sql(old)));
                out.create_triggers.push(create_trigger_step(new));
            }
            _ => {}
        }
    }
    // Tables whose columns change type (or go): the server refuses that under a trigger
    // whose WHEN or UPDATE OF names a column, so such triggers go and come back.
    let column_changes = super::views::affected_tables(from, changes);
    let new_name: BTreeMap<&QualifiedName, &QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AlterTable(td) => Some((&td.from.name, &td.to.name)),
            _ => None,
        })
        .collect();
    // A renamed table's triggers follow it untouched when no column changes type or goes.
    let renamed_only: BTreeSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AlterTable(td)
                if !td.changes.iter().any(|tc| match tc {
                    TableChange::DropColumn(_) => true,
                    TableChange::AlterColumn { from, to } => {
                        from.data_type != to.data_type
                            || from.collation != to.collation
                            || from.generated != to.generated
                    }
                    _ => false,
                }) =>
            {
                Some(&td.from.name)
            }
            _ => None,
        })
        .collect();
    // Unchanged triggers removed by a function's or a view's drop + create, or in the way
    // of a column change.
    for ((table, name), t) in &from.triggers {
        if dropped.contains(&(table.clone(), name.clone())) {
            continue;
        }
        let by_function = recreated_functions.contains(&t.function)
            || t.when
                .as_ref()
                .is_some_and(|w| super::calls_any(&w.sql, &recreated_functions));
        let by_view = dropped_views.contains(table);
        let by_columns = column_changes.contains(table)
            && !renamed_only.contains(table)
            && (t.when.is_some() || !t.update_columns.is_empty());
        if !by_function && !by_view && !by_columns {
            continue;
        }
        if by_function || (by_columns && !by_view) {
            out.drop_triggers.push(Step::new(drop_trigger_sql(t)));
        }
        let table = new_name.get(table).copied().unwrap_or(table);
        if let Some(new) = to.triggers.get(&(table.clone(), name.clone())) {
            if created.insert((table.clone(), name.clone())) {
                out.create_triggers.push(create_trigger_step(new));
            }
        }
    }
    out
}

/// Functions (by name) that the plan drops and creates again, or drops while creating one
/// of the same name (new argument types): what calls them (triggers, views, column
/// defaults, checks, indexes, policies) must go before and come back after, bound to the
/// new function.
pub(super) fn recreated_functions(changes: &[Change]) -> BTreeSet<QualifiedName> {
    let created: BTreeSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateFunction(f) => Some(&f.name),
            _ => None,
        })
        .collect();
    changes
        .iter()
        .filter_map(|c| match c {
            Change::AlterFunction { from, to } if recreates(from, to) => Some(to.name.clone()),
            Change::DropFunction(f) if created.contains(&f.name) => Some(f.name.clone()),
            _ => None,
        })
        .collect()
}

/// Whether the plan drops `old` and creates `new` (which then holds the default privileges).
pub(super) fn recreates(old: &Function, new: &Function) -> bool {
    let mut same = old.with_grants_of(new);
    same.comment = new.comment.clone();
    &same != new && !replaceable(old, new)
}

/// Whether `CREATE OR REPLACE` turns `old` into `new` (same identity is given): PostgreSQL
/// refuses to change the kind, the result type (or the OUT arguments that make it), an
/// argument's name or mode, or to remove argument defaults.
fn replaceable(old: &Function, new: &Function) -> bool {
    old.procedure == new.procedure
        && old.returns == new.returns
        && old.args.len() == new.args.len()
        && old
            .args
            .iter()
            .zip(&new.args)
            .all(|(a, b)| a.mode == b.mode && a.name == b.name && a.data_type == b.data_type)
        && new.args.iter().filter(|a| a.default.is_some()).count()
            >= old.args.iter().filter(|a| a.default.is_some()).count()
}

/// `schema.name(type, ...)`: the input argument types that identify the function.
fn signature(f: &Function) -> String {
    let id = f.id();
    format!("{}({})", quote_qualified(&f.name), id.args.join(", "))
}

fn drop_function_step(f: &Function) -> Step {
    Step::new(format!("DROP {} {}", f.kind(), signature(f)))
}

/// `CREATE [OR REPLACE] FUNCTION ...` in the layout `pg_get_functiondef` uses, with the
/// comment when the function is new.
fn create_function_step(f: &Function, or_replace: bool) -> Step {
    let mut step = Step::new(create_function_sql(f, or_replace));
    if !or_replace {
        if let Some(c) = &f.comment {
            step.statements
                .push(comment_sql(f.kind(), &signature(f), Some(c)));
        }
    }
    step
}

pub(super) fn create_function_sql(f: &Function, or_replace: bool) -> String {
    let args: Vec<String> = f
        .args
        .iter()
        .map(|a| {
            let mut s = String::new();
            if a.mode != ArgMode::In {
                s.push_str(a.mode.sql());
                s.push(' ');
            }
            if let Some(n) = &a.name {
                s.push_str(&quote_ident(n));
                s.push(' ');
            }
            s.push_str(&a.data_type);
            if let Some(d) = &a.default {
                s.push_str(" DEFAULT ");
                s.push_str(&d.sql);
            }
            s
        })
        .collect();
    let mut sql = format!(
        "CREATE {}{} {}({})",
        if or_replace { "OR REPLACE " } else { "" },
        f.kind(),
        quote_qualified(&f.name),
        args.join(", ")
    );
    if let Some(r) = &f.returns {
        sql.push_str(&format!("\n RETURNS {r}"));
    }
    sql.push_str(&format!("\n LANGUAGE {}", quote_ident(&f.language)));
    let mut attrs = Vec::new();
    if !f.procedure {
        if f.volatility != "volatile" {
            attrs.push(f.volatility.to_uppercase());
        }
        if f.strict {
            attrs.push("STRICT".to_string());
        }
    }
    if f.security_definer {
        attrs.push("SECURITY DEFINER".to_string());
    }
    if !f.procedure {
        if f.leakproof {
            attrs.push("LEAKPROOF".to_string());
        }
        if f.parallel != "unsafe" {
            attrs.push(format!("PARALLEL {}", f.parallel.to_uppercase()));
        }
        if let Some(c) = &f.cost {
            attrs.push(format!("COST {c}"));
        }
        if let Some(r) = &f.rows {
            attrs.push(format!("ROWS {r}"));
        }
    }
    if !attrs.is_empty() {
        sql.push_str("\n ");
        sql.push_str(&attrs.join(" "));
    }
    for (name, value) in &f.config {
        let list = matches!(
            name.as_str(),
            "search_path"
                | "temp_tablespaces"
                | "session_preload_libraries"
                | "local_preload_libraries"
                | "shared_preload_libraries"
        );
        let value = if list {
            value
                .split(", ")
                .map(literal)
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            literal(value)
        };
        sql.push_str(&format!("\n SET {name} TO {value}"));
    }
    match &f.body {
        FunctionBody::Definition(body) => {
            let tag = dollar_tag(body);
            sql.push_str(&format!("\nAS {tag}{body}{tag}"));
        }
        FunctionBody::ObjectFile(file, symbol) => {
            sql.push_str(&format!("\nAS {}, {}", literal(file), literal(symbol)));
        }
        FunctionBody::Sql(e) => {
            sql.push('\n');
            sql.push_str(&e.sql);
        }
    }
    sql
}

/// A dollar-quote tag that cannot end `body` early.
fn dollar_tag(body: &str) -> String {
    if !body.contains('$') {
        return "$$".to_string();
    }
    let mut tag = "$function$".to_string();
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$function{n}$");
    }
    tag
}

/// `CREATE TRIGGER`, with its comment and `ENABLE | DISABLE` state when not the defaults.
fn create_trigger_step(t: &Trigger) -> Step {
    let mut step = Step::new(create_trigger_sql(t));
    if let Some(text) = &t.comment {
        step.statements.push(trigger_comment(t, Some(text)));
    }
    if t.enabled != TriggerEnabled::Origin {
        step.statements.push(enabled_sql(t));
    }
    step
}

fn enabled_sql(t: &Trigger) -> String {
    format!(
        "ALTER TABLE {} {}",
        quote_qualified(&t.table),
        t.enabled.action(&quote_ident(&t.name))
    )
}

fn trigger_target(t: &Trigger) -> String {
    format!("{} ON {}", quote_ident(&t.name), quote_qualified(&t.table))
}

fn drop_trigger_sql(t: &Trigger) -> String {
    format!("DROP TRIGGER {}", trigger_target(t))
}

fn trigger_comment(t: &Trigger, text: Option<&str>) -> String {
    comment_sql("TRIGGER", &trigger_target(t), text)
}

pub(super) fn create_trigger_sql(t: &Trigger) -> String {
    let mut sql = String::from("CREATE ");
    if t.constraint {
        sql.push_str("CONSTRAINT ");
    }
    sql.push_str(&format!(
        "TRIGGER {} {} ",
        quote_ident(&t.name),
        t.timing.sql()
    ));
    let events: Vec<String> = t
        .events
        .iter()
        .map(|e| {
            let mut s = e.sql().to_string();
            if *e == ferry_core::TriggerEvent::Update && !t.update_columns.is_empty() {
                let cols: Vec<String> = t.update_columns.iter().map(|c| quote_ident(c)).collect();
                s.push_str(&format!(" OF {}", cols.join(", ")));
            }
            s
        })
        .collect();
    sql.push_str(&events.join(" OR "));
    sql.push_str(&format!(" ON {}", quote_qualified(&t.table)));
    if let Some(f) = &t.from_table {
        sql.push_str(&format!(" FROM {}", quote_qualified(f)));
    }
    match t.deferrable {
        Deferrable::NotDeferrable => {}
        Deferrable::InitiallyImmediate => sql.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
        Deferrable::InitiallyDeferred => sql.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    if t.old_table.is_some() || t.new_table.is_some() {
        sql.push_str(" REFERENCING");
        if let Some(o) = &t.old_table {
            sql.push_str(&format!(" OLD TABLE AS {}", quote_ident(o)));
        }
        if let Some(n) = &t.new_table {
            sql.push_str(&format!(" NEW TABLE AS {}", quote_ident(n)));
        }
    }
    sql.push_str(if t.for_each_row {
        " FOR EACH ROW"
    } else {
        " FOR EACH STATEMENT"
    });
    if let Some(w) = &t.when {
        sql.push_str(&format!(" WHEN ({})", w.sql));
    }
    let args: Vec<String> = t.arguments.iter().map(|a| literal(a)).collect();
    sql.push_str(&format!(
        " EXECUTE FUNCTION {}({})",
        quote_qualified(&t.function),
        args.join(", ")
    ));
    sql
}
