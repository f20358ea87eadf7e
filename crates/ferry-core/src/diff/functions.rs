//! Functions, procedures and triggers in the diff.

use super::{Change, Renames};
use crate::model::{QualifiedName, Schema};

/// Functions are matched by identity (name and input argument types); triggers by table
/// (through table renames) and name.
pub(super) fn diff_functions(from: &Schema, to: &Schema, renames: &Renames, out: &mut Vec<Change>) {
    for (id, f) in &to.functions {
        match from.functions.get(id) {
            None => out.push(Change::CreateFunction(f.clone())),
            Some(old) if old != f => out.push(Change::AlterFunction {
                from: old.clone(),
                to: f.clone(),
            }),
            Some(_) => {}
        }
    }
    for (id, f) in &from.functions {
        if !to.functions.contains_key(id) {
            out.push(Change::DropFunction(f.clone()));
        }
    }
    // A trigger follows its table through a rename.
    let new_table = |old: &QualifiedName| -> QualifiedName {
        renames
            .tables
            .iter()
            .find(|(_, o)| *o == old)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| old.clone())
    };
    let mut matched = std::collections::BTreeSet::new();
    for ((table, name), old) in &from.triggers {
        let key = (new_table(table), name.clone());
        match to.triggers.get(&key) {
            None => out.push(Change::DropTrigger(old.clone())),
            Some(new) => {
                matched.insert(key.clone());
                let mut moved = old.clone();
                moved.table = key.0.clone();
                if let Some(t) = &moved.from_table {
                    moved.from_table = Some(new_table(t));
                }
                if &moved != new {
                    out.push(Change::AlterTrigger {
                        from: old.clone(),
                        to: new.clone(),
                    });
                }
            }
        }
    }
    for (key, t) in &to.triggers {
        if !matched.contains(key) {
            out.push(Change::CreateTrigger(t.clone()));
        }
    }
}
