//! GRANT and REVOKE statements.
//!
//! Privileges of objects on both sides change by `Change::Grants`; a created object's come
//! with its creation (tables, sequences and schemas here, views in their create step, so
//! that a view dropped and created again around a change gets them back).
//!
//! A created object starts with the default privileges in effect for the connecting role
//! (`from`'s; PostgreSQL's built-in default, PUBLIC's EXECUTE or USAGE on functions and
//! types, when there are none): a created one, or one the plan drops and creates again (a
//! function whose result type changes, a rebuilt domain or enum, a changed composite type,
//! a view in the way), gets the difference between that and what it should hold, and no
//! `Change::Grants`.
//!
//! Default privileges (`ALTER DEFAULT PRIVILEGES`) change last, after every object the plan
//! creates, so that those get exactly what they should hold.

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{
    Change, DefaultObjectType, FunctionId, Grant, GrantObject, Grants, QualifiedName, Schema, Step,
    PUBLIC,
};

use crate::dialect::{quote_ident, quote_qualified};

/// The statement of the step that stands for the grants phase until [`plan_grants`]
/// replaces it.
pub(super) const PLACEHOLDER: &str = "-- ferry: grants";

/// Replaces the [`PLACEHOLDER`] step of the complete plan `steps` with the step granting
/// what created objects hold and changing what kept objects hold (or removes it). The
/// plan's statements tell which types it creates.
pub(super) fn plan_grants(from: &Schema, to: &Schema, changes: &[Change], steps: &mut Vec<Step>) {
    let Some(at) = steps
        .iter()
        .position(|s| s.statements.len() == 1 && s.statements[0] == PLACEHOLDER)
    else {
        return;
    };
    steps.remove(at);
    let step = grants_step(from, to, changes, steps);
    steps.splice(at..at, step);
}

fn grants_step(from: &Schema, to: &Schema, changes: &[Change], steps: &[Step]) -> Option<Step> {
    let mut statements = Vec::new();
    // Default privileges change after everything else.
    let mut defaults = Vec::new();
    // Types the plan creates, new or again.
    let creates: BTreeSet<&str> = steps
        .iter()
        .flat_map(|s| &s.statements)
        .filter_map(|s| {
            let rest = s
                .strip_prefix("CREATE TYPE ")
                .or_else(|| s.strip_prefix("CREATE DOMAIN "))?;
            rest.split(" AS ").next()
        })
        .collect();
    let created_type = |n: &QualifiedName| creates.contains(quote_qualified(n).as_str());
    let mut created_types: Vec<(GrantObject, &Grants)> = Vec::new();
    for (n, e) in &to.enums {
        if created_type(n) {
            created_types.push((GrantObject::Type(n.clone()), &e.grants));
        }
    }
    for (n, c) in &to.composite_types {
        if created_type(n) {
            created_types.push((GrantObject::Type(n.clone()), &c.grants));
        }
    }
    for (n, d) in &to.domains {
        if created_type(n) {
            created_types.push((GrantObject::Domain(n.clone()), &d.grants));
        }
    }
    // Functions the plan creates, new or again.
    let mut created_functions: BTreeSet<&FunctionId> = BTreeSet::new();
    let routine = |f: &ferry_core::Function| {
        if f.procedure {
            GrantObject::Procedure(f.id())
        } else {
            GrantObject::Function(f.id())
        }
    };
    for c in changes {
        let f = match c {
            Change::CreateFunction(f) => f,
            Change::AlterFunction { from, to } if super::functions::recreates(from, to) => to,
            _ => continue,
        };
        if let Some((id, _)) = to.functions.get_key_value(&f.id()) {
            created_functions.insert(id);
        }
        statements.extend(created(from, routine(f), &f.grants));
    }
    for (on, grants) in &created_types {
        statements.extend(created(from, on.clone(), grants));
    }
    for c in changes {
        match c {
            Change::Grants { on, .. } if recreated(on, &created_types, &created_functions) => {}
            Change::Grants {
                on: on @ GrantObject::DefaultPrivileges(_),
                from,
                to,
            } => defaults.extend(grant_statements(on, from, to)),
            Change::Grants { on, from, to } => statements.extend(grant_statements(on, from, to)),
            Change::CreateNamespace(ns) => {
                let none = Grants::new();
                let g = to.namespace_grants.get(ns).unwrap_or(&none);
                statements.extend(created(from, GrantObject::Namespace(ns.clone()), g));
            }
            Change::CreateTable(t) => {
                statements.extend(created(
                    from,
                    GrantObject::Relation(t.name.clone()),
                    &t.grants,
                ));
                for col in &t.columns {
                    statements.extend(created(
                        from,
                        GrantObject::Column(t.name.clone(), col.name.clone()),
                        &col.grants,
                    ));
                }
            }
            Change::CreateSequence(s) => {
                statements.extend(created(
                    from,
                    GrantObject::Sequence(s.name.clone()),
                    &s.grants,
                ));
            }
            _ => {}
        }
    }
    statements.extend(defaults);
    if statements.is_empty() {
        None
    } else {
        Some(Step {
            statements,
            ..Step::default()
        })
    }
}

/// Whether `on` is a type or function the plan creates again (its privileges are granted
/// from the default, not changed).
fn recreated(
    on: &GrantObject,
    types: &[(GrantObject, &Grants)],
    functions: &BTreeSet<&FunctionId>,
) -> bool {
    match on {
        GrantObject::Function(id) | GrantObject::Procedure(id) => functions.contains(id),
        GrantObject::Type(_) | GrantObject::Domain(_) => types.iter().any(|(t, _)| t == on),
        _ => false,
    }
}

/// The REVOKEs and GRANTs an object created with `grants` needs: it starts with what
/// `from`'s default privileges give a new object of its kind (columns: nothing).
pub(super) fn created(from: &Schema, on: GrantObject, grants: &Grants) -> Vec<String> {
    let initial = match &on {
        GrantObject::Namespace(_) => from.new_object_grants(DefaultObjectType::Schemas, None),
        GrantObject::Relation(n) => {
            from.new_object_grants(DefaultObjectType::Tables, Some(&n.schema))
        }
        GrantObject::Sequence(n) => {
            from.new_object_grants(DefaultObjectType::Sequences, Some(&n.schema))
        }
        GrantObject::Function(id) | GrantObject::Procedure(id) => {
            from.new_object_grants(DefaultObjectType::Functions, Some(&id.name.schema))
        }
        GrantObject::Type(n) | GrantObject::Domain(n) => {
            from.new_object_grants(DefaultObjectType::Types, Some(&n.schema))
        }
        GrantObject::Column(..) | GrantObject::DefaultPrivileges(_) => Grants::new(),
    };
    grant_statements(&on, &initial, grants)
}

/// REVOKEs, then GRANTs, turning `from` into `to`: one statement per grantee and kind of
/// change, privileges in PostgreSQL's order.
fn grant_statements(on: &GrantObject, from: &Grants, to: &Grants) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Action {
        Revoke,
        RevokeOption,
        Grant,
        GrantWithOption,
    }
    let state = |g: &Grants, grantee: &str, privilege: &str| {
        let held = |grantable| {
            g.contains(&Grant {
                grantee: grantee.to_string(),
                privilege: privilege.to_string(),
                grantable,
            })
        };
        if held(true) {
            2
        } else if held(false) {
            1
        } else {
            0
        }
    };
    let mut actions: BTreeMap<(Action, &str), Vec<&str>> = BTreeMap::new();
    let pairs: std::collections::BTreeSet<(&str, &str)> = from
        .iter()
        .chain(to)
        .map(|g| (g.grantee.as_str(), g.privilege.as_str()))
        .collect();
    for (grantee, privilege) in pairs {
        let action = match (
            state(from, grantee, privilege),
            state(to, grantee, privilege),
        ) {
            (a, b) if a == b => continue,
            (_, 0) => Action::Revoke,
            (2, 1) => Action::RevokeOption,
            (_, 1) => Action::Grant,
            _ => Action::GrantWithOption,
        };
        actions
            .entry((action, grantee))
            .or_default()
            .push(privilege);
    }
    actions
        .into_iter()
        .map(|((action, grantee), mut privileges)| {
            privileges.sort_by_key(|p| privilege_rank(p));
            let list = match on {
                GrantObject::Column(_, col) => privileges
                    .iter()
                    .map(|p| format!("{p} ({})", quote_ident(col)))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => privileges.join(", "),
            };
            let mut prefix = String::new();
            let target = match on {
                GrantObject::DefaultPrivileges(key) => {
                    prefix.push_str("ALTER DEFAULT PRIVILEGES ");
                    if let Some(r) = &key.for_role {
                        prefix.push_str(&format!("FOR ROLE {} ", quote_ident(r)));
                    }
                    if let Some(s) = &key.schema {
                        prefix.push_str(&format!("IN SCHEMA {} ", quote_ident(s)));
                    }
                    key.object_type.sql().to_string()
                }
                GrantObject::Namespace(ns) => format!("SCHEMA {}", quote_ident(ns)),
                GrantObject::Relation(n) | GrantObject::Column(n, _) => {
                    format!("TABLE {}", quote_qualified(n))
                }
                GrantObject::Sequence(n) => format!("SEQUENCE {}", quote_qualified(n)),
                GrantObject::Function(id) => format!("FUNCTION {}", routine_signature(id)),
                GrantObject::Procedure(id) => format!("PROCEDURE {}", routine_signature(id)),
                GrantObject::Type(n) => format!("TYPE {}", quote_qualified(n)),
                GrantObject::Domain(n) => format!("DOMAIN {}", quote_qualified(n)),
            };
            let role = if grantee == PUBLIC {
                PUBLIC.to_string()
            } else {
                quote_ident(grantee)
            };
            match action {
                Action::Revoke => format!("{prefix}REVOKE {list} ON {target} FROM {role}"),
                Action::RevokeOption => {
                    format!("{prefix}REVOKE GRANT OPTION FOR {list} ON {target} FROM {role}")
                }
                Action::Grant => format!("{prefix}GRANT {list} ON {target} TO {role}"),
                Action::GrantWithOption => {
                    format!("{prefix}GRANT {list} ON {target} TO {role} WITH GRANT OPTION")
                }
            }
        })
        .collect()
}

/// `name(argtypes)`: the identity of a function or procedure.
fn routine_signature(id: &FunctionId) -> String {
    format!("{}({})", quote_qualified(&id.name), id.args.join(", "))
}

/// The order PostgreSQL lists privileges in (`aclitem`'s letters).
fn privilege_rank(p: &str) -> usize {
    const ORDER: &[&str] = &[
        "INSERT",
        "SELECT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
        "EXECUTE",
        "USAGE",
        "CREATE",
        "TEMPORARY",
        "CONNECT",
        "SET",
        "ALTER",
        "MAINTAIN",
    ];
    ORDER.iter().position(|o| *o == p).unwrap_or(ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::QualifiedName;

    fn g(grantee: &str, privilege: &str, grantable: bool) -> Grant {
        Grant {
            grantee: grantee.into(),
            privilege: privilege.into(),
            grantable,
        }
    }

    #[test]
    fn revokes_then_grants_grouped_by_role() {
        let t = GrantObject::Relation(QualifiedName::new("public", "users"));
        let from: Grants = [
            g("app", "SELECT", false),
            g("app", "DELETE", false),
            g("Audit", "SELECT", true),
        ]
        .into();
        let to: Grants = [
            g("app", "SELECT", false),
            g("app", "UPDATE", false),
            g("app", "INSERT", false),
            g("Audit", "SELECT", false),
            g(PUBLIC, "SELECT", false),
        ]
        .into();
        assert_eq!(
            grant_statements(&t, &from, &to),
            vec![
                "REVOKE DELETE ON TABLE public.users FROM app",
                "REVOKE GRANT OPTION FOR SELECT ON TABLE public.users FROM \"Audit\"",
                "GRANT SELECT ON TABLE public.users TO PUBLIC",
                "GRANT INSERT, UPDATE ON TABLE public.users TO app",
            ]
        );
        let col = GrantObject::Column(QualifiedName::new("public", "users"), "email".into());
        assert_eq!(
            created(
                &Schema::default(),
                col,
                &[g("app", "SELECT", true), g("app", "UPDATE", true)].into()
            ),
            vec!["GRANT SELECT (email), UPDATE (email) ON TABLE public.users TO app WITH GRANT OPTION"]
        );
    }
}
