//! Functions, procedures and triggers in the diff.

use super::{Change, Renames};
use crate::model::{QualifiedName, Schema};

/// Functions are matched by identity (name and input argument types); triggers by table
/// (through table renames) and name.
pub(super) fn diff_functions(from: &Schema, to: &Schema, renames: &Renames, out: &mut Vec<Change>) {
    for (id, f) in &to.functions {
        match from.functions.get(id) {
            None => out.push(Change::CreateFunction(f.clone())),
            Some(old) if &old.with_grants_of(f) != f => out.push(Change::AlterFunction {
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

#[cfg(test)]
mod tests {
    use super::super::diff;
    use super::*;
    use crate::function::*;
    use crate::model::{Deferrable, Table};

    fn trigger(table: &str, name: &str) -> Trigger {
        Trigger {
            table: QualifiedName::new("public", table),
            name: name.into(),
            timing: TriggerTiming::Before,
            events: vec![TriggerEvent::Insert],
            update_columns: Vec::new(),
            for_each_row: true,
            when: None,
            function: QualifiedName::new("public", "f"),
            arguments: Vec::new(),
            constraint: false,
            deferrable: Deferrable::NotDeferrable,
            from_table: None,
            old_table: None,
            new_table: None,
            enabled: TriggerEnabled::Origin,
            comment: None,
        }
    }

    fn with(table: &str, triggers: &[Trigger]) -> Schema {
        let mut s = Schema::default();
        let t = Table::new(QualifiedName::new("public", table));
        s.tables.insert(t.name.clone(), t);
        for t in triggers {
            s.triggers
                .insert((t.table.clone(), t.name.clone()), t.clone());
        }
        s
    }

    #[test]
    fn a_trigger_follows_its_renamed_table() {
        let a = with("old", &[trigger("old", "t")]);
        let b = with("new", &[trigger("new", "t")]);
        let mut renames = Renames::default();
        renames.tables.insert(
            QualifiedName::new("public", "new"),
            QualifiedName::new("public", "old"),
        );
        let changes = diff(&a, &b, &renames);
        assert!(
            changes.iter().all(|c| !matches!(
                c,
                Change::CreateTrigger(_) | Change::DropTrigger(_) | Change::AlterTrigger { .. }
            )),
            "{changes:?}"
        );
        // Without the rename: dropped with its table, created on the new one.
        let changes = diff(&a, &b, &Renames::default());
        assert!(changes
            .iter()
            .any(|c| matches!(c, Change::DropTrigger(t) if t.table.name == "old")));
        assert!(changes
            .iter()
            .any(|c| matches!(c, Change::CreateTrigger(t) if t.table.name == "new")));
    }

    #[test]
    fn a_changed_trigger_is_altered() {
        let a = with("x", &[trigger("x", "t")]);
        let mut changed = trigger("x", "t");
        changed.events.push(TriggerEvent::Delete);
        let b = with("x", &[changed]);
        let changes = diff(&a, &b, &Renames::default());
        assert!(
            matches!(changes.as_slice(), [Change::AlterTrigger { .. }]),
            "{changes:?}"
        );
    }
}
