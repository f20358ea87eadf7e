//! Each migration's state in one environment: the directory compared with the history.
//!
//! "Pending" means "not in the history", never "newer than the last applied": a migration
//! merged late is pending (and flagged out of order), not silently skipped.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use ferry_core::AppliedMigration;

use crate::dir::{compare_versions, version_key, Migration, MigrationDir};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// In the history with the checksum of the file on disk.
    Applied,
    /// On disk, not in the history, newer than every applied migration.
    Pending,
    /// On disk, not in the history, but older than the newest applied migration: merged
    /// late from a parallel branch.
    OutOfOrder,
    /// In the history, but `up.sql` changed since it was applied.
    Modified,
    /// In the history, not on disk.
    Missing,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::OutOfOrder => "pending, out of order",
            State::Modified => "modified since applied",
            State::Missing => "missing from disk",
        }
    }

    pub fn is_pending(self) -> bool {
        matches!(self, State::Pending | State::OutOfOrder)
    }

    pub fn is_applied(self) -> bool {
        matches!(self, State::Applied | State::Modified | State::Missing)
    }
}

#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub version: String,
    pub name: String,
    pub state: State,
    pub migration: Option<&'a Migration>,
    pub applied: Option<&'a AppliedMigration>,
}

impl Entry<'_> {
    pub fn id(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// All migrations, on disk or in the history, ordered by version.
#[derive(Clone, Debug)]
pub struct Status<'a> {
    pub entries: Vec<Entry<'a>>,
}

impl<'a> Status<'a> {
    pub fn pending(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|e| e.state.is_pending())
    }

    pub fn applied(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|e| e.state.is_applied())
    }

    pub fn with_state(&self, state: State) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(move |e| e.state == state)
    }

    /// The newest applied version.
    pub fn current_version(&self) -> Option<&str> {
        self.applied().last().map(|e| e.version.as_str())
    }
}

pub fn status<'a>(dir: &'a MigrationDir, history: &'a [AppliedMigration]) -> Status<'a> {
    let newest_applied = history
        .iter()
        .map(|h| h.version.as_str())
        .max_by(|a, b| compare_versions(a, b));
    // Keyed lookups: directories of thousands of migrations stay linear.
    let by_version: HashMap<String, &AppliedMigration> = history
        .iter()
        .map(|h| (version_key(&h.version), h))
        .collect();
    let on_disk: HashSet<String> = dir
        .migrations
        .iter()
        .map(|m| version_key(&m.version))
        .collect();
    let mut entries: Vec<Entry<'a>> = Vec::new();
    for m in &dir.migrations {
        let applied = by_version.get(&version_key(&m.version)).copied();
        let state = match applied {
            Some(h) if h.checksum == m.checksum() => State::Applied,
            Some(_) => State::Modified,
            None => match newest_applied {
                Some(newest) if compare_versions(&m.version, newest) == Ordering::Less => {
                    State::OutOfOrder
                }
                _ => State::Pending,
            },
        };
        entries.push(Entry {
            version: m.version.clone(),
            name: m.name.clone(),
            state,
            migration: Some(m),
            applied,
        });
    }
    for h in history {
        if !on_disk.contains(&version_key(&h.version)) {
            entries.push(Entry {
                version: h.version.clone(),
                name: h.name.clone(),
                state: State::Missing,
                migration: None,
                applied: Some(h),
            });
        }
    }
    entries.sort_by(|a, b| compare_versions(&a.version, &b.version));
    Status { entries }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn m(version: &str, up: &str) -> Migration {
        Migration {
            version: version.into(),
            name: format!("m{version}"),
            path: PathBuf::from(version),
            up: up.into(),
            down: None,
        }
    }

    fn applied(m: &Migration) -> AppliedMigration {
        AppliedMigration {
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.checksum(),
            applied_at: String::new(),
            execution_ms: 0,
            ferry_version: String::new(),
        }
    }

    #[test]
    fn every_state() {
        let dir = MigrationDir {
            path: PathBuf::new(),
            migrations: vec![m("1", "A"), m("2", "B"), m("3", "C"), m("5", "E")],
            problems: Vec::new(),
        };
        let mut tampered = applied(&dir.migrations[2]);
        tampered.checksum = "old".into();
        let gone = applied(&m("4", "D"));
        let history = vec![applied(&dir.migrations[0]), tampered, gone];
        let s = status(&dir, &history);
        let states: Vec<(&str, State)> = s
            .entries
            .iter()
            .map(|e| (e.version.as_str(), e.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("1", State::Applied),
                ("2", State::OutOfOrder),
                ("3", State::Modified),
                ("4", State::Missing),
                ("5", State::Pending),
            ]
        );
        assert_eq!(s.current_version(), Some("4"));
        assert_eq!(s.pending().count(), 2);
    }
}
