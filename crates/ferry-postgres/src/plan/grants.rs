//! GRANT and REVOKE statements.
//!
//! Privileges of objects on both sides change by `Change::Grants`; a created object's come
//! with its creation (tables, sequences and schemas here, views in their create step, so
//! that a view dropped and created again around a change gets them back).

use std::collections::BTreeMap;

use ferry_core::{Change, Grant, GrantObject, Grants, Schema, Step, PUBLIC};

use crate::dialect::{quote_ident, quote_qualified};

/// Steps granting what created objects hold and changing what kept objects hold.
pub(super) fn plan_grants(to: &Schema, changes: &[Change]) -> Vec<Step> {
    let none = Grants::new();
    let mut statements = Vec::new();
    for c in changes {
        match c {
            Change::Grants { on, from, to } => statements.extend(grant_statements(on, from, to)),
            Change::CreateNamespace(ns) => {
                if let Some(g) = to.namespace_grants.get(ns) {
                    statements.extend(grant_statements(
                        &GrantObject::Namespace(ns.clone()),
                        &none,
                        g,
                    ));
                }
            }
            Change::CreateTable(t) => {
                statements.extend(created(GrantObject::Relation(t.name.clone()), &t.grants));
                for col in &t.columns {
                    statements.extend(created(
                        GrantObject::Column(t.name.clone(), col.name.clone()),
                        &col.grants,
                    ));
                }
            }
            Change::CreateSequence(s) => {
                statements.extend(created(GrantObject::Sequence(s.name.clone()), &s.grants));
            }
            _ => {}
        }
    }
    if statements.is_empty() {
        Vec::new()
    } else {
        vec![Step {
            statements,
            ..Step::default()
        }]
    }
}

/// The GRANTs an object created with `grants` needs.
pub(super) fn created(on: GrantObject, grants: &Grants) -> Vec<String> {
    grant_statements(&on, &Grants::new(), grants)
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
            let target = match on {
                GrantObject::Namespace(ns) => format!("SCHEMA {}", quote_ident(ns)),
                GrantObject::Relation(n) | GrantObject::Column(n, _) => {
                    format!("TABLE {}", quote_qualified(n))
                }
                GrantObject::Sequence(n) => format!("SEQUENCE {}", quote_qualified(n)),
            };
            let role = if grantee == PUBLIC {
                PUBLIC.to_string()
            } else {
                quote_ident(grantee)
            };
            match action {
                Action::Revoke => format!("REVOKE {list} ON {target} FROM {role}"),
                Action::RevokeOption => {
                    format!("REVOKE GRANT OPTION FOR {list} ON {target} FROM {role}")
                }
                Action::Grant => format!("GRANT {list} ON {target} TO {role}"),
                Action::GrantWithOption => {
                    format!("GRANT {list} ON {target} TO {role} WITH GRANT OPTION")
                }
            }
        })
        .collect()
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
            created(col, &[g("app", "SELECT", true), g("app", "UPDATE", true)].into()),
            vec!["GRANT SELECT (email), UPDATE (email) ON TABLE public.users TO app WITH GRANT OPTION"]
        );
    }
}
