//! Diff of row level security, policies, extensions and composite types.

use super::*;

/// Extensions and composite types: created, altered, dropped.
pub(super) fn diff_types_and_extensions(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    for (name, e) in &to.extensions {
        match from.extensions.get(name) {
            None => changes.push(Change::CreateExtension(e.clone())),
            Some(old) if old != e => changes.push(Change::AlterExtension {
                from: old.clone(),
                to: e.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, e) in &from.extensions {
        if !to.extensions.contains_key(name) {
            changes.push(Change::DropExtension(e.clone()));
        }
    }
    for (name, t) in &to.composite_types {
        match from.composite_types.get(name) {
            None => changes.push(Change::CreateCompositeType(t.clone())),
            Some(old) if !same_without_grants(old, t, |t| &mut t.grants) => {
                changes.push(Change::AlterCompositeType {
                    from: old.clone(),
                    to: t.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (name, t) in &from.composite_types {
        if !to.composite_types.contains_key(name) {
            changes.push(Change::DropCompositeType(t.clone()));
        }
    }
}

/// Row level security switches and policies of every table of `to`, compared with the
/// same table of `from` (through table renames). Policies of dropped tables go with them.
pub(super) fn diff_policies(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    changes: &mut Vec<Change>,
) {
    for (name, t) in &to.tables {
        let old_name = renames.tables.get(name).unwrap_or(name);
        let old = from.tables.get(old_name);
        let (enabled, forced, old_policies) = match old {
            Some(o) => (o.row_security, o.force_row_security, o.policies.as_slice()),
            None => (false, false, &[][..]),
        };
        if enabled != t.row_security || forced != t.force_row_security {
            changes.push(Change::SetRowSecurity {
                table: name.clone(),
                enable: (enabled != t.row_security).then_some(t.row_security),
                force: (forced != t.force_row_security).then_some(t.force_row_security),
            });
        }
        for p in &t.policies {
            match old_policies.iter().find(|o| o.name == p.name) {
                None => changes.push(Change::CreatePolicy {
                    table: name.clone(),
                    policy: p.clone(),
                }),
                Some(o) if o != p => changes.push(Change::AlterPolicy {
                    table: name.clone(),
                    from: o.clone(),
                    to: p.clone(),
                }),
                Some(_) => {}
            }
        }
        for o in old_policies {
            if !t.policies.iter().any(|p| p.name == o.name) {
                changes.push(Change::DropPolicy {
                    table: old_name.clone(),
                    policy: o.clone(),
                });
            }
        }
    }
}
