//! Domains in a plan.
//!
//! Domains are created in the `domains` phase: after enums and sequences (a domain may be
//! based on an enum, its default may call `nextval`), before any table is created or
//! altered, in dependency order (a domain based on another one comes after it). They are
//! dropped in the `drop_domains` phase, after the tables and columns that use them, in
//! reverse dependency order, before the enums they may be based on.
//!
//! A changed default, NOT NULL, check or comment is an `ALTER DOMAIN`; a check whose
//! expression changed is dropped and added again (a check that only changed its name is
//! renamed). PostgreSQL cannot change a domain's base type or collation, so such a domain is
//! dropped and created again, and so is every domain based on it. Columns that use one of
//! those domains are converted to the underlying base type first (their defaults dropped
//! and set again) and back to the domain once it exists again: data is kept, values that
//! do not satisfy the new definition make the plan fail.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{
    type_name_of, Change, CheckConstraint, Constraint, Domain, HazardKind, PlanError,
    QualifiedName, Schema, Step,
};

use super::{
    calls_any, collation_sql, comment_sql, hazard, is_subsequence, parenthesized, Planner,
};
use crate::dialect::{quote_ident, quote_qualified};

impl Planner<'_> {
    /// Plans every domain change into the `domains` and `drop_domains` phases.
    pub(super) fn plan_domains(&mut self) -> Result<(), PlanError> {
        let mut created: Vec<&Domain> = Vec::new();
        let mut dropped: BTreeSet<QualifiedName> = BTreeSet::new();
        let mut rebuilt: BTreeSet<QualifiedName> = BTreeSet::new();
        let mut altered: Vec<(&Domain, &Domain)> = Vec::new();
        for c in self.changes {
            match c {
                Change::CreateDomain(d) => created.push(d),
                Change::DropDomain(d) => {
                    dropped.insert(d.name.clone());
                }
                Change::AlterDomain { from, to } => {
                    // PostgreSQL cannot check a new constraint against values inside
                    // arrays ("cannot alter type ... because column ... uses it"): such a
                    // domain is created again, its columns converted through the base type.
                    let validates = to
                        .checks
                        .iter()
                        .any(|c| !from.checks.iter().any(|f| f.same_but_comment(c)))
                        || (to.not_null && !from.not_null);
                    if from.data_type != to.data_type
                        || from.collation != to.collation
                        || (validates && used_in_an_array(self.from, &from.name))
                    {
                        rebuilt.insert(to.name.clone());
                    } else {
                        altered.push((from, to));
                    }
                }
                Change::AlterEnum { from, to } if !is_subsequence(&from.values, &to.values) => {
                    // The enum is created again under its name (the old one goes last): a
                    // domain on the old type is created again on the new one.
                    let plain = quote_qualified(&from.name);
                    rebuilt.extend(
                        self.from
                            .domains
                            .values()
                            .filter(|d| d.base_type_name() == plain)
                            .map(|d| d.name.clone()),
                    );
                }
                _ => {}
            }
        }
        // Domains based on a rebuilt one go with it, transitively.
        loop {
            let names: BTreeSet<String> = rebuilt.iter().map(quote_qualified).collect();
            let more: Vec<QualifiedName> = self
                .from
                .domains
                .values()
                .filter(|d| !rebuilt.contains(&d.name) && names.contains(d.base_type_name()))
                .map(|d| d.name.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            rebuilt.extend(more);
        }
        // Dropped domains among them are dropped with them, before the others are created.
        let early_drops: BTreeSet<QualifiedName> = rebuilt
            .iter()
            .filter(|n| !self.to.domains.contains_key(n))
            .cloned()
            .collect();
        for n in &early_drops {
            rebuilt.remove(n);
            dropped.remove(n);
        }

        let mut restores = if !rebuilt.is_empty() || !early_drops.is_empty() {
            self.rebuild_domains(&rebuilt, &early_drops)?
        } else {
            BTreeMap::new()
        };

        let mut creates: Vec<&Domain> = created;
        creates.extend(rebuilt.iter().filter_map(|n| self.to.domains.get(n)));
        let after_functions = calling_functions(self.to);
        for d in dependency_order(self.to, creates) {
            let mut step = create_domain_step(self.to, d);
            if let Some(back) = restores.remove(&d.name) {
                step.statements.extend(back);
                step.hazards.push(hazard(
                    HazardKind::MayFail,
                    format!(
                        "converts columns back to domain {}: fails on values its new \
                         definition refuses",
                        d.name
                    ),
                ));
            }
            if after_functions.contains(&d.name) {
                self.phases.late_domains.push(step);
            } else {
                self.phases.domains.push(step);
            }
        }
        for (from, to) in altered {
            if let Some(step) = alter_domain_step(from, to) {
                self.phases.domains.push(step);
            }
        }
        let drops: Vec<&Domain> = dropped
            .iter()
            .filter_map(|n| self.from.domains.get(n))
            .collect();
        let calling = calling_functions(self.from);
        for d in dependency_order(self.from, drops).into_iter().rev() {
            let step = Step::new(format!("DROP DOMAIN {}", quote_qualified(&d.name)));
            if calling.contains(&d.name) {
                // Before the functions it calls.
                self.phases.drop_late_domains.push(step);
            } else {
                self.phases.drop_domains.push(step);
            }
        }
        Ok(())
    }

    /// Converts the columns that use the domains in `rebuilt` or `early_drops` to their
    /// underlying type and drops those domains (dependents first). Returns, per domain, the
    /// statements that convert its columns back once it is created again (the columns
    /// whose target type is still the domain).
    fn rebuild_domains(
        &mut self,
        rebuilt: &BTreeSet<QualifiedName>,
        early_drops: &BTreeSet<QualifiedName>,
    ) -> Result<BTreeMap<QualifiedName, Vec<String>>, PlanError> {
        let all: BTreeSet<&QualifiedName> = rebuilt.iter().chain(early_drops).collect();
        let names: BTreeMap<String, &QualifiedName> =
            all.iter().map(|n| (quote_qualified(n), *n)).collect();
        let mut convert = Step::default();
        let mut restore: BTreeMap<QualifiedName, Vec<String>> = BTreeMap::new();
        for table in self.from.tables.values() {
            let t = quote_qualified(&table.name);
            for col in &table.columns {
                let Some(domain) = names.get(type_name_of(&col.data_type)) else {
                    continue;
                };
                let base = underlying_type(self.from, &col.data_type).ok_or_else(|| {
                    PlanError(format!(
                        "cannot rebuild domain {domain}: column {}.{} of type {} has no \
                         plain base type ferry can convert it through",
                        table.name, col.name, col.data_type
                    ))
                })?;
                let c = quote_ident(&col.name);
                let alter = format!("ALTER TABLE {t} ALTER COLUMN {c}");
                // An enum (maybe created again meanwhile) converts through its text.
                let via = if type_name_of(&base).contains('.') {
                    if base.ends_with("[]") {
                        "::text[]"
                    } else {
                        "::text"
                    }
                } else {
                    ""
                };
                // A column's own collation would fall back to the type's.
                let collate = col
                    .collation
                    .as_deref()
                    .map(|x| format!(" COLLATE {}", collation_sql(x)))
                    .unwrap_or_default();
                if col.default.is_some() {
                    convert.statements.push(format!("{alter} DROP DEFAULT"));
                }
                convert.statements.push(format!(
                    "{alter} TYPE {base}{collate} USING {c}{via}::{base}"
                ));
                convert.hazards.push(hazard(
                    HazardKind::TableRewrite,
                    format!(
                        "domain {domain} is created again: {}.{} is converted to {base} and \
                         back, rewriting the table",
                        table.name, col.name
                    ),
                ));
                let keeps_type = self
                    .map_column(&table.name, &col.name)
                    .and_then(|(_, new_col)| {
                        let (to_table, _) = self.to_table_of(&table.name)?;
                        to_table.column(&new_col).map(|c| c.data_type.clone())
                    })
                    .is_some_and(|ty| ty == col.data_type);
                if keeps_type {
                    // Back to the (new) domain, under the table's old names: the rename
                    // phase comes later.
                    let back = restore.entry((*domain).clone()).or_default();
                    back.push(format!(
                        "{alter} TYPE {}{collate} USING {c}::{}",
                        col.data_type, col.data_type
                    ));
                    if let Some(d) = &col.default {
                        back.push(format!("{alter} SET DEFAULT {}", d.sql));
                    }
                } else if let Some(d) = &col.default {
                    // Its own ALTER COLUMN (or DROP) follows; keep the default meanwhile.
                    convert
                        .statements
                        .push(format!("{alter} SET DEFAULT {}", d.sql));
                }
            }
        }
        let old: Vec<&Domain> = all
            .iter()
            .filter_map(|n| self.from.domains.get(*n))
            .collect();
        for d in dependency_order(self.from, old).into_iter().rev() {
            convert
                .statements
                .push(format!("DROP DOMAIN {}", quote_qualified(&d.name)));
        }
        self.phases.domains.push(convert);
        Ok(restore)
    }
}

/// Whether a table column of `schema` is an array of domain `name` or of a domain based on
/// it (transitively).
fn used_in_an_array(schema: &Schema, name: &QualifiedName) -> bool {
    let mut names: BTreeSet<String> = BTreeSet::from([quote_qualified(name)]);
    loop {
        let more: Vec<String> = schema
            .domains
            .values()
            .map(|d| quote_qualified(&d.name))
            .filter(|n| !names.contains(n))
            .filter(|n| {
                schema
                    .domains
                    .values()
                    .any(|d| quote_qualified(&d.name) == *n && names.contains(d.base_type_name()))
            })
            .collect();
        if more.is_empty() {
            break;
        }
        names.extend(more);
    }
    schema
        .tables
        .values()
        .flat_map(|t| &t.columns)
        .any(|c| c.data_type.ends_with("[]") && names.contains(type_name_of(&c.data_type)))
}

/// `domains` ordered so that each comes after the domains of `schema` it is based on (by
/// name, for determinism among independent ones).
fn dependency_order<'d>(schema: &Schema, domains: Vec<&'d Domain>) -> Vec<&'d Domain> {
    let mut pending: BTreeMap<QualifiedName, &'d Domain> =
        domains.into_iter().map(|d| (d.name.clone(), d)).collect();
    let by_type: BTreeMap<String, QualifiedName> = schema
        .domains
        .keys()
        .map(|n| (quote_qualified(n), n.clone()))
        .collect();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let ready: Vec<QualifiedName> = pending
            .values()
            .filter(|d| {
                by_type
                    .get(d.base_type_name())
                    .is_none_or(|base| !pending.contains_key(base) || *base == d.name)
            })
            .map(|d| d.name.clone())
            .collect();
        // A cycle cannot be built; if the model holds one, keep name order.
        let ready = if ready.is_empty() {
            pending.keys().cloned().collect()
        } else {
            ready
        };
        for n in ready {
            if let Some(d) = pending.remove(&n) {
                out.push(d);
            }
        }
    }
    out
}

/// The type behind a (possibly nested) domain type: `public.d` → `integer`, `public.d[]`
/// → `integer[]`. `None` when it cannot be written (an array of a domain over an array).
fn underlying_type(schema: &Schema, data_type: &str) -> Option<String> {
    let mut t = data_type.to_string();
    let mut array = false;
    for _ in 0..64 {
        if let Some(inner) = t.strip_suffix("[]") {
            if array {
                return None;
            }
            array = true;
            t = inner.to_string();
        }
        match schema
            .domains
            .values()
            .find(|d| quote_qualified(&d.name) == type_name_of(&t))
        {
            Some(d) => t = d.data_type.clone(),
            None if array => return Some(format!("{t}[]")),
            None => return Some(t),
        }
    }
    None
}

/// `CREATE DOMAIN`; `schema` holds the domain it may be based on, whose default the new
/// one would inherit unless told `DEFAULT NULL`.
fn create_domain_sql(schema: &Schema, d: &Domain) -> String {
    let mut sql = format!(
        "CREATE DOMAIN {} AS {}",
        quote_qualified(&d.name),
        d.data_type
    );
    if let Some(c) = &d.collation {
        sql.push_str(&format!(" COLLATE {}", collation_sql(c)));
    }
    let base_default = schema
        .domains
        .values()
        .any(|b| quote_qualified(&b.name) == d.base_type_name() && b.default.is_some());
    match &d.default {
        Some(e) => sql.push_str(&format!(" DEFAULT {}", e.sql)),
        None if base_default => sql.push_str(" DEFAULT NULL"),
        None => {}
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    for ck in &d.checks {
        sql.push_str(&format!(" {}", check_sql(ck)));
    }
    sql
}

fn check_sql(ck: &CheckConstraint) -> String {
    format!(
        "CONSTRAINT {} CHECK {}",
        quote_ident(&ck.name),
        parenthesized(&ck.expr.sql)
    )
}

fn create_domain_step(schema: &Schema, d: &Domain) -> Step {
    let mut step = Step::new(create_domain_sql(schema, d));
    if d.comment.is_some() {
        step.statements.push(comment_sql(
            "DOMAIN",
            &quote_qualified(&d.name),
            d.comment.as_deref(),
        ));
    }
    for ck in d.checks.iter().filter(|c| c.comment.is_some()) {
        step.statements
            .push(check_comment_sql(&d.name, &ck.name, ck.comment.as_deref()));
    }
    step
}

impl Planner<'_> {
    /// Checks and defaults of unchanged domains that call a function the plan drops and
    /// creates again (`recreated`): dropped before the functions phase, set again after it.
    /// A domain the plan changes itself is left to its own steps.
    pub(super) fn drop_domain_function_dependents(&mut self, recreated: &BTreeSet<QualifiedName>) {
        for d in self.from.domains.values() {
            if self.to.domains.get(&d.name) != Some(d) {
                continue;
            }
            let alter = format!("ALTER DOMAIN {}", quote_qualified(&d.name));
            let mut drops = Step::default();
            let mut adds = Step::default();
            if d.default
                .as_ref()
                .is_some_and(|e| calls_any(&e.sql, recreated))
            {
                drops.statements.push(format!("{alter} DROP DEFAULT"));
                let e = d.default.as_ref().expect("checked above");
                adds.statements
                    .push(format!("{alter} SET DEFAULT {}", e.sql));
            }
            for ck in d
                .checks
                .iter()
                .filter(|c| calls_any(&c.expr.sql, recreated))
            {
                drops
                    .statements
                    .push(format!("{alter} DROP CONSTRAINT {}", quote_ident(&ck.name)));
                adds.statements
                    .push(format!("{alter} ADD {}", check_sql(ck)));
                if ck.comment.is_some() {
                    adds.statements.push(check_comment_sql(
                        &d.name,
                        &ck.name,
                        ck.comment.as_deref(),
                    ));
                }
                adds.hazards.push(hazard(
                    HazardKind::MayFail,
                    format!(
                        "adds check {} to domain {} again: fails if a value of the type \
                         violates it under the changed function",
                        ck.name, d.name
                    ),
                ));
            }
            if !drops.statements.is_empty() {
                self.phases.drop_function_dependents.push(drops);
                self.phases.late_domains.push(adds);
            }
        }
    }
}

fn check_comment_sql(domain: &QualifiedName, check: &str, text: Option<&str>) -> String {
    let target = format!(
        "{} ON DOMAIN {}",
        quote_ident(check),
        quote_qualified(domain)
    );
    comment_sql("CONSTRAINT", &target, text)
}

/// `ALTER DOMAIN` statements for a domain whose base type and collation stay.
fn alter_domain_step(from: &Domain, to: &Domain) -> Option<Step> {
    let name = quote_qualified(&to.name);
    let alter = format!("ALTER DOMAIN {name}");
    let mut step = Step::default();
    // Checks whose comment alone changed stay.
    let mut comments: Vec<String> = Vec::new();
    for new in &to.checks {
        let old = from.checks.iter().find(|c| c.name == new.name);
        if old.is_some_and(|o| o != new && o.same_but_comment(new)) {
            comments.push(check_comment_sql(
                &to.name,
                &new.name,
                new.comment.as_deref(),
            ));
        }
    }
    let mut dropped: Vec<&CheckConstraint> = from
        .checks
        .iter()
        .filter(|c| !to.checks.iter().any(|n| c.same_but_comment(n)))
        .collect();
    let mut added: Vec<&CheckConstraint> = to
        .checks
        .iter()
        .filter(|c| !from.checks.iter().any(|o| o.same_but_comment(c)))
        .collect();
    // Same expression, new name (implicit names shift when an earlier check goes).
    let mut renames: Vec<(&CheckConstraint, &CheckConstraint)> = Vec::new();
    dropped.retain(|old| {
        let taken_later = |n: &str| to.checks.iter().any(|c| c.name == n);
        match added
            .iter()
            .position(|new| new.expr == old.expr && !taken_later(&old.name))
        {
            Some(i) => {
                renames.push((old, added.remove(i)));
                false
            }
            None => true,
        }
    });
    for ck in &dropped {
        step.statements
            .push(format!("{alter} DROP CONSTRAINT {}", quote_ident(&ck.name)));
    }
    for (old, new) in &renames {
        step.statements.push(format!(
            "{alter} RENAME CONSTRAINT {} TO {}",
            quote_ident(&old.name),
            quote_ident(&new.name)
        ));
        if old.comment != new.comment {
            comments.push(check_comment_sql(
                &to.name,
                &new.name,
                new.comment.as_deref(),
            ));
        }
    }
    if from.default != to.default {
        step.statements.push(match &to.default {
            Some(e) => format!("{alter} SET DEFAULT {}", e.sql),
            None => format!("{alter} DROP DEFAULT"),
        });
    }
    if to.not_null && !from.not_null {
        step.statements.push(format!("{alter} SET NOT NULL"));
        step.hazards.push(hazard(
            HazardKind::MayFail,
            format!(
                "sets NOT NULL on domain {}: fails if a column of the type holds NULL",
                to.name
            ),
        ));
    } else if from.not_null && !to.not_null {
        step.statements.push(format!("{alter} DROP NOT NULL"));
    }
    for ck in &added {
        step.statements
            .push(format!("{alter} ADD {}", check_sql(ck)));
        if ck.comment.is_some() {
            comments.push(check_comment_sql(&to.name, &ck.name, ck.comment.as_deref()));
        }
        step.hazards.push(hazard(
            HazardKind::MayFail,
            format!(
                "adds check {} to domain {}: fails if a value of the type violates it",
                ck.name, to.name
            ),
        ));
    }
    if from.comment != to.comment {
        step.statements
            .push(comment_sql("DOMAIN", &name, to.comment.as_deref()));
    }
    step.statements.extend(comments);
    (!step.statements.is_empty()).then_some(step)
}

/// Domains whose checks or default call a function of `schema`, and the domains based on
/// them: created after the functions, where the others come before them (functions and
/// composite types may take domains).
fn calling_functions(schema: &Schema) -> BTreeSet<QualifiedName> {
    let names: BTreeSet<&str> = schema
        .functions
        .keys()
        .map(|f| f.name.name.as_str())
        .collect();
    // `name(` not preceded by an identifier character: a call (maybe schema-qualified).
    let calls = |e: &ferry_core::Expr| {
        let sql = e.sql.to_lowercase();
        names.iter().any(|n| {
            sql.match_indices(n).any(|(i, _)| {
                let before = sql[..i].chars().next_back();
                sql[i + n.len()..].trim_start().starts_with('(')
                    && !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
    };
    let mut late: BTreeSet<QualifiedName> = schema
        .domains
        .values()
        .filter(|d| {
            d.checks.iter().any(|c| calls(&c.expr)) || d.default.as_ref().is_some_and(calls)
        })
        .map(|d| d.name.clone())
        .collect();
    loop {
        let bases: BTreeSet<String> = late.iter().map(quote_qualified).collect();
        let more: Vec<QualifiedName> = schema
            .domains
            .values()
            .filter(|d| !late.contains(&d.name) && bases.contains(d.base_type_name()))
            .map(|d| d.name.clone())
            .collect();
        if more.is_empty() {
            return late;
        }
        late.extend(more);
    }
}
