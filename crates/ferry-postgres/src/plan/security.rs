//! Extensions, composite types, row level security and policies in a plan.
//!
//! Extensions are created right after schemas (tables and types may use what they bring)
//! and dropped last, before schemas. Composite types are created after enums (their
//! attributes may use one) in dependency order, and dropped before enums.
//!
//! Policies are created (and `ENABLE ROW LEVEL SECURITY` set) after every table, view and
//! other object they may read, and dropped first of all. PostgreSQL refuses to change the
//! type of, or drop, a column or table that a policy reads, so every policy of a table
//! whose columns are retyped, dropped or renamed, and every policy whose expressions name
//! such a table (or a dropped one), is dropped before the table changes and created again
//! afterwards from the target schema.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{
    Change, CompositeAttribute, CompositeType, Extension, Policy, PolicyCommand, QualifiedName,
    Schema, Step, TableChange,
};

use super::{collation_sql, comment_sql};
use crate::dialect::{quote_ident, quote_qualified};

/// Steps for each phase this module fills.
#[derive(Default)]
pub(super) struct SecuritySteps {
    /// First of all: policies in the way of a change, and dropped policies.
    pub drop_policies: Vec<Step>,
    /// After schemas.
    pub extensions: Vec<Step>,
    /// After enums.
    pub composite_types: Vec<Step>,
    /// Last of all: RLS switches, then policies created, altered or created again.
    pub policies: Vec<Step>,
    /// Before enums are dropped.
    pub drop_composite_types: Vec<Step>,
    /// Before schemas are dropped.
    pub drop_extensions: Vec<Step>,
}

pub(super) fn plan_security(from: &Schema, to: &Schema, changes: &[Change]) -> SecuritySteps {
    let mut out = SecuritySteps::default();
    plan_extensions(changes, &mut out);
    plan_composite_types(from, to, changes, &mut out);
    plan_policies(from, to, changes, &mut out);
    out
}

// ----- extensions --------------------------------------------------------------------------

fn plan_extensions(changes: &[Change], out: &mut SecuritySteps) {
    for c in changes {
        match c {
            Change::CreateExtension(e) => {
                out.extensions.push(Step::new(create_extension_sql(e)));
                if let Some(text) = &e.comment {
                    out.extensions.push(Step::new(comment_sql(
                        "EXTENSION",
                        &quote_ident(&e.name),
                        Some(text),
                    )));
                }
            }
            Change::AlterExtension { from, to } => {
                if from.schema != to.schema {
                    out.extensions.push(Step::new(format!(
                        "ALTER EXTENSION {} SET SCHEMA {}",
                        quote_ident(&to.name),
                        quote_ident(to.schema.as_deref().unwrap_or("public"))
                    )));
                }
                if from.comment != to.comment {
                    out.extensions.push(Step::new(comment_sql(
                        "EXTENSION",
                        &quote_ident(&to.name),
                        to.comment.as_deref(),
                    )));
                }
            }
            Change::DropExtension(e) => out.drop_extensions.push(Step::new(format!(
                "DROP EXTENSION {}",
                quote_ident(&e.name)
            ))),
            _ => {}
        }
    }
}

fn create_extension_sql(e: &Extension) -> String {
    let mut sql = format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(&e.name));
    if let Some(s) = &e.schema {
        sql.push_str(&format!(" SCHEMA {}", quote_ident(s)));
    }
    sql
}

// ----- composite types ---------------------------------------------------------------------

fn plan_composite_types(from: &Schema, to: &Schema, changes: &[Change], out: &mut SecuritySteps) {
    let mut created: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut dropped: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut alters: BTreeMap<QualifiedName, Vec<Step>> = BTreeMap::new();
    for c in changes {
        match c {
            Change::CreateCompositeType(t) => {
                created.insert(t.name.clone());
            }
            Change::DropCompositeType(t) => {
                dropped.insert(t.name.clone());
            }
            Change::AlterCompositeType { from: old, to: new } => {
                match alter_composite_steps(old, new) {
                    Some(steps) => {
                        alters.insert(new.name.clone(), steps);
                    }
                    None => {
                        dropped.insert(old.name.clone());
                        created.insert(new.name.clone());
                    }
                }
            }
            _ => {}
        }
    }
    for name in composite_order(&from.composite_types).iter().rev() {
        if dropped.contains(name) {
            out.drop_composite_types
                .push(Step::new(format!("DROP TYPE {}", quote_qualified(name))));
        }
    }
    for name in composite_order(&to.composite_types) {
        let t = &to.composite_types[&name];
        if created.contains(&name) {
            out.composite_types.push(Step::new(create_composite_sql(t)));
            if let Some(text) = &t.comment {
                out.composite_types.push(Step::new(comment_sql(
                    "TYPE",
                    &quote_qualified(&name),
                    Some(text),
                )));
            }
        } else if let Some(steps) = alters.remove(&name) {
            out.composite_types.extend(steps);
        }
    }
    // A type dropped and created again under the same name is dropped before its creation
    // only when the drop runs first: move such drops into the create phase's front.
    let recreated: Vec<Step> = out
        .drop_composite_types
        .iter()
        .filter(|s| {
            created.iter().any(|n| {
                s.statements
                    .first()
                    .is_some_and(|x| *x == format!("DROP TYPE {}", quote_qualified(n)))
            })
        })
        .cloned()
        .collect();
    if !recreated.is_empty() {
        out.drop_composite_types
            .retain(|s| !recreated.iter().any(|r| r.statements == s.statements));
        let mut steps = recreated;
        steps.append(&mut out.composite_types);
        out.composite_types = steps;
    }
}

fn attribute_sql(a: &CompositeAttribute) -> String {
    let mut sql = format!("{} {}", quote_ident(&a.name), a.data_type);
    if let Some(c) = &a.collation {
        sql.push_str(&format!(" COLLATE {}", collation_sql(c)));
    }
    sql
}

fn create_composite_sql(t: &CompositeType) -> String {
    let attrs: Vec<String> = t.attributes.iter().map(attribute_sql).collect();
    format!(
        "CREATE TYPE {} AS ({})",
        quote_qualified(&t.name),
        attrs.join(", ")
    )
}

/// `ALTER TYPE ... DROP / ADD / ALTER ATTRIBUTE` steps turning `old` into `new`, or `None`
/// when the attribute order cannot be reached that way (drop + create instead).
fn alter_composite_steps(old: &CompositeType, new: &CompositeType) -> Option<Vec<Step>> {
    let name = quote_qualified(&new.name);
    let kept: Vec<&str> = old
        .attributes
        .iter()
        .filter(|a| new.attributes.iter().any(|b| b.name == a.name))
        .map(|a| a.name.as_str())
        .collect();
    let added: Vec<&CompositeAttribute> = new
        .attributes
        .iter()
        .filter(|b| !old.attributes.iter().any(|a| a.name == b.name))
        .collect();
    let reached: Vec<&str> = kept
        .iter()
        .copied()
        .chain(added.iter().map(|a| a.name.as_str()))
        .collect();
    let wanted: Vec<&str> = new.attributes.iter().map(|a| a.name.as_str()).collect();
    if reached != wanted {
        return None;
    }
    let mut actions: Vec<String> = Vec::new();
    for a in &old.attributes {
        if !kept.contains(&a.name.as_str()) {
            actions.push(format!("DROP ATTRIBUTE {}", quote_ident(&a.name)));
        }
    }
    for b in &new.attributes {
        if let Some(a) = old.attributes.iter().find(|a| a.name == b.name) {
            if a.data_type != b.data_type || a.collation != b.collation {
                let mut action = format!(
                    "ALTER ATTRIBUTE {} TYPE {}",
                    quote_ident(&b.name),
                    b.data_type
                );
                if let Some(c) = &b.collation {
                    action.push_str(&format!(" COLLATE {}", collation_sql(c)));
                }
                actions.push(action);
            }
        }
    }
    for b in added {
        actions.push(format!("ADD ATTRIBUTE {}", attribute_sql(b)));
    }
    let mut steps = Vec::new();
    if !actions.is_empty() {
        steps.push(Step::new(format!(
            "ALTER TYPE {name} {}",
            actions.join(", ")
        )));
    }
    if old.comment != new.comment {
        steps.push(Step::new(comment_sql(
            "TYPE",
            &name,
            new.comment.as_deref(),
        )));
    }
    Some(steps)
}

/// Composite types ordered so that a type comes after the composite types its attributes
/// use; ties (and cycles, which the server refuses anyway) by name.
fn composite_order(types: &BTreeMap<QualifiedName, CompositeType>) -> Vec<QualifiedName> {
    let uses = |t: &CompositeType, other: &QualifiedName| {
        let quoted = quote_qualified(other);
        let plain = format!("{}.{}", other.schema, other.name);
        t.attributes.iter().any(|a| {
            let base = a.data_type.trim_end_matches("[]");
            base == quoted || base == plain
        })
    };
    let mut out: Vec<QualifiedName> = Vec::new();
    let mut left: Vec<&CompositeType> = types.values().collect();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|t| !left.iter().any(|o| o.name != t.name && uses(t, &o.name)))
            .unwrap_or(0);
        out.push(left.remove(ready).name.clone());
    }
    out
}

// ----- row level security and policies -----------------------------------------------------

fn plan_policies(from: &Schema, to: &Schema, changes: &[Change], out: &mut SecuritySteps) {
    // Tables (old names) whose columns a policy may read change in a way the server
    // refuses under a policy, and dropped tables.
    let mut affected: BTreeSet<QualifiedName> = BTreeSet::new();
    // Old table name -> new table name, for tables that stay.
    let mut new_name: BTreeMap<QualifiedName, QualifiedName> = BTreeMap::new();
    for c in changes {
        match c {
            Change::DropTable(t) => {
                affected.insert(t.name.clone());
            }
            Change::AlterTable(td) => {
                new_name.insert(td.from.name.clone(), td.to.name.clone());
                let touches_columns = td.changes.iter().any(|ch| match ch {
                    TableChange::DropColumn(_) | TableChange::RenameColumn { .. } => true,
                    TableChange::AlterColumn { from, to } => {
                        from.data_type != to.data_type || from.generated != to.generated
                    }
                    _ => false,
                });
                if touches_columns {
                    affected.insert(td.from.name.clone());
                }
            }
            _ => {}
        }
    }
    let dropped_tables: BTreeSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable(t) => Some(&t.name),
            _ => None,
        })
        .collect();

    // Functions dropped and created again: the policies calling them go and come back.
    let recreated_functions = super::functions::recreated_functions(changes);
    // Policies dropped early and created again: (new table, policy name).
    let mut recreate: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    for (old_table, t) in &from.tables {
        if dropped_tables.contains(old_table) {
            continue;
        }
        let target = new_name
            .get(old_table)
            .cloned()
            .unwrap_or_else(|| old_table.clone());
        for p in &t.policies {
            let in_the_way = affected.contains(old_table)
                || affected.iter().any(|a| policy_mentions(p, a))
                || [&p.using, &p.with_check]
                    .into_iter()
                    .flatten()
                    .any(|e| super::calls_any(&e.sql, &recreated_functions));
            if in_the_way {
                out.drop_policies.push(drop_policy_step(old_table, &p.name));
                recreate.insert((target.clone(), p.name.clone()));
            }
        }
    }

    let mut rls: Vec<Step> = Vec::new();
    let mut creates: Vec<Step> = Vec::new();
    for c in changes {
        match c {
            Change::SetRowSecurity {
                table,
                enable,
                force,
            } => {
                let mut actions = Vec::new();
                match enable {
                    Some(true) => actions.push("ENABLE ROW LEVEL SECURITY"),
                    Some(false) => actions.push("DISABLE ROW LEVEL SECURITY"),
                    None => {}
                }
                match force {
                    Some(true) => actions.push("FORCE ROW LEVEL SECURITY"),
                    Some(false) => actions.push("NO FORCE ROW LEVEL SECURITY"),
                    None => {}
                }
                rls.push(Step::new(format!(
                    "ALTER TABLE {} {}",
                    quote_qualified(table),
                    actions.join(", ")
                )));
            }
            Change::CreatePolicy { table, policy }
                if !recreate.contains(&(table.clone(), policy.name.clone())) =>
            {
                creates.extend(create_policy_steps(table, policy));
            }
            Change::DropPolicy { table, policy } => {
                let target = new_name.get(table).unwrap_or(table);
                if !recreate.contains(&(target.clone(), policy.name.clone())) {
                    out.drop_policies
                        .push(drop_policy_step(table, &policy.name));
                }
            }
            Change::AlterPolicy {
                table,
                from: old,
                to: new,
            } => {
                if recreate.contains(&(table.clone(), new.name.clone())) {
                    continue;
                }
                match alter_policy_steps(table, old, new) {
                    Some(steps) => creates.extend(steps),
                    None => {
                        let old_table = new_name
                            .iter()
                            .find(|(_, n)| *n == table)
                            .map(|(o, _)| o)
                            .unwrap_or(table);
                        out.drop_policies
                            .push(drop_policy_step(old_table, &old.name));
                        creates.extend(create_policy_steps(table, new));
                    }
                }
            }
            _ => {}
        }
    }
    // Policies created again, from the target schema.
    for (table, name) in &recreate {
        let Some(policy) = to
            .tables
            .get(table)
            .and_then(|t| t.policies.iter().find(|p| &p.name == name))
        else {
            continue;
        };
        creates.extend(create_policy_steps(table, policy));
    }
    out.policies.extend(rls);
    out.policies.extend(creates);
}

/// Whether an expression of `p` names table `t` (as a word, with or without its schema).
fn policy_mentions(p: &Policy, t: &QualifiedName) -> bool {
    [&p.using, &p.with_check]
        .into_iter()
        .flatten()
        .any(|e| mentions_word(&e.sql.to_lowercase(), &t.name.to_lowercase()))
}

fn mentions_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut start = 0;
    while let Some(i) = text[start..].find(word) {
        let at = start + i;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return true;
        }
        start = at + word.len().max(1);
    }
    false
}

fn drop_policy_step(table: &QualifiedName, name: &str) -> Step {
    Step::new(format!(
        "DROP POLICY {} ON {}",
        quote_ident(name),
        quote_qualified(table)
    ))
}

fn roles_sql(roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| {
            if r == "public" {
                "PUBLIC".to_string()
            } else {
                quote_ident(r)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn create_policy_sql(table: &QualifiedName, p: &Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {}",
        quote_ident(&p.name),
        quote_qualified(table)
    );
    if !p.permissive {
        sql.push_str(" AS RESTRICTIVE");
    }
    if p.command != PolicyCommand::All {
        sql.push_str(&format!(" FOR {}", p.command.sql()));
    }
    if p.roles != ["public"] {
        sql.push_str(&format!(" TO {}", roles_sql(&p.roles)));
    }
    if let Some(e) = &p.using {
        sql.push_str(&format!(" USING ({})", e.sql));
    }
    if let Some(e) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({})", e.sql));
    }
    sql
}

fn create_policy_steps(table: &QualifiedName, p: &Policy) -> Vec<Step> {
    let mut steps = vec![Step::new(create_policy_sql(table, p))];
    if let Some(text) = &p.comment {
        steps.push(Step::new(policy_comment_sql(table, p, Some(text))));
    }
    steps
}

fn policy_comment_sql(table: &QualifiedName, p: &Policy, text: Option<&str>) -> String {
    comment_sql(
        "POLICY",
        &format!("{} ON {}", quote_ident(&p.name), quote_qualified(table)),
        text,
    )
}

/// `ALTER POLICY` (roles, USING, WITH CHECK) and the comment; `None` when only a drop and
/// create can get there (command or kind changed, or an expression removed).
fn alter_policy_steps(table: &QualifiedName, old: &Policy, new: &Policy) -> Option<Vec<Step>> {
    if old.command != new.command
        || old.permissive != new.permissive
        || (old.using.is_some() && new.using.is_none())
        || (old.with_check.is_some() && new.with_check.is_none())
    {
        return None;
    }
    let mut clauses = Vec::new();
    if old.roles != new.roles {
        clauses.push(format!("TO {}", roles_sql(&new.roles)));
    }
    if old.using != new.using {
        if let Some(e) = &new.using {
            clauses.push(format!("USING ({})", e.sql));
        }
    }
    if old.with_check != new.with_check {
        if let Some(e) = &new.with_check {
            clauses.push(format!("WITH CHECK ({})", e.sql));
        }
    }
    let mut steps = Vec::new();
    if !clauses.is_empty() {
        steps.push(Step::new(format!(
            "ALTER POLICY {} ON {} {}",
            quote_ident(&new.name),
            quote_qualified(table),
            clauses.join(" ")
        )));
    }
    if old.comment != new.comment {
        steps.push(Step::new(policy_comment_sql(
            table,
            new,
            new.comment.as_deref(),
        )));
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_found_as_words_only() {
        assert!(mentions_word(
            "tenant_id in (select id from tenants)",
            "tenants"
        ));
        assert!(!mentions_word("tenant_id = 1", "tenant"));
        assert!(mentions_word("x = public.t.y", "t"));
        assert!(!mentions_word("x_t = 1", "t"));
    }

    fn ty(name: &str, attrs: &[(&str, &str)]) -> CompositeType {
        CompositeType {
            name: QualifiedName::new("public", name),
            attributes: attrs
                .iter()
                .map(|(n, t)| CompositeAttribute {
                    name: n.to_string(),
                    data_type: t.to_string(),
                    collation: None,
                })
                .collect(),
            comment: None,
            grants: ferry_core::type_default_grants(),
        }
    }

    #[test]
    fn composite_types_follow_the_types_they_use() {
        let mut types = BTreeMap::new();
        for t in [
            ty(
                "a_outer",
                &[("x", "public.z_inner[]"), ("y", "public.m_mid")],
            ),
            ty("m_mid", &[("x", "public.z_inner")]),
            ty("z_inner", &[("v", "integer")]),
        ] {
            types.insert(t.name.clone(), t);
        }
        let order: Vec<String> = composite_order(&types)
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(order, ["z_inner", "m_mid", "a_outer"]);
    }

    #[test]
    fn attribute_changes_alter_in_place_unless_the_order_changes() {
        let old = ty("c", &[("a", "integer"), ("b", "text"), ("d", "date")]);
        let new = ty("c", &[("a", "bigint"), ("d", "date"), ("e", "text")]);
        let steps = alter_composite_steps(&old, &new).expect("in place");
        assert_eq!(
            steps[0].statements,
            [
                "ALTER TYPE public.c DROP ATTRIBUTE b, ALTER ATTRIBUTE a TYPE bigint, \
              ADD ATTRIBUTE e text"
            ]
        );
        let reordered = ty("c", &[("d", "date"), ("a", "integer"), ("b", "text")]);
        assert!(alter_composite_steps(&old, &reordered).is_none());
    }
}
