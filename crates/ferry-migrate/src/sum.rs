//! `ferry.sum`: a hash per migration and a hash of the whole.
//!
//! ```text
//! # ferry.sum: …
//! total 3b1f…
//! 20261130120000_create_users 9c2e…
//! 20261201090000_add_email 51aa…
//! ```
//!
//! Every new migration changes the `total` line, so two branches that each add one conflict
//! in git instead of reaching production side by side; an edited file no longer matches its
//! line.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dir::{Migration, MigrationDir};

pub const FILE_NAME: &str = "ferry.sum";

const HEADER: &str =
    "# ferry.sum: the integrity of this directory, written by `ferry generate` and `ferry hash`.\n\
# Do not edit by hand; after resolving a conflict here, run `ferry check`.\n";

/// Hex SHA-256 over `parts`, each length-prefixed so that moving bytes between parts
/// changes the hash.
pub fn hash_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of one migration: both of its files.
pub fn migration_hash(m: &Migration) -> String {
    match &m.down {
        Some(down) => hash_hex(&[b"up", m.up.as_bytes(), b"down", down.as_bytes()]),
        None => hash_hex(&[b"up", m.up.as_bytes()]),
    }
}

/// The text of `ferry.sum` for `dir`.
pub fn render(dir: &MigrationDir) -> String {
    let entries: Vec<String> = dir
        .migrations
        .iter()
        .map(|m| format!("{} {}", m.id(), migration_hash(m)))
        .collect();
    let mut out = String::from(HEADER);
    out.push_str(&format!("total {}\n", total(&entries)));
    for e in &entries {
        out.push_str(e);
        out.push('\n');
    }
    out
}

fn total(entries: &[String]) -> String {
    let joined = entries.join("\n");
    hash_hex(&[joined.as_bytes()])
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Writes `ferry.sum` for `dir`.
pub fn write(dir: &MigrationDir) -> std::io::Result<()> {
    std::fs::write(path(&dir.path), render(dir))
}

/// Why `ferry.sum` does not vouch for the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SumProblem {
    /// There are migrations but no `ferry.sum`.
    Missing,
    /// Git conflict markers: two branches each added migrations.
    MergeConflict,
    /// A line that is not `<id> <hash>`.
    Malformed { line: usize, text: String },
    /// The `total` line does not match the entries (edited by hand, or a bad merge).
    TotalMismatch,
    /// A migration whose files changed since `ferry.sum` was written.
    Modified(String),
    /// A migration on disk that `ferry.sum` does not list (added by hand, or merged in).
    Unlisted(String),
    /// A migration `ferry.sum` lists that is not on disk.
    Vanished(String),
}

impl fmt::Display for SumProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SumProblem::Missing => write!(f, "there is no {FILE_NAME}: run `ferry hash` to vouch for the migrations as they are"),
            SumProblem::MergeConflict => write!(
                f,
                "{FILE_NAME} has git conflict markers: migrations were added on two branches. Keep both sides' migration directories, then run `ferry rebase` to move your branch's migrations after the merged ones (it regenerates {FILE_NAME})"
            ),
            SumProblem::Malformed { line, text } => {
                write!(f, "{FILE_NAME}:{line}: not `<migration> <hash>`: {text}")
            }
            SumProblem::TotalMismatch => write!(
                f,
                "{FILE_NAME} was edited by hand or merged badly (its total does not match its lines): run `ferry hash` once you trust the directory"
            ),
            SumProblem::Modified(id) => write!(
                f,
                "{id} changed since {FILE_NAME} was written: if the edit is intended, run `ferry hash`"
            ),
            SumProblem::Unlisted(id) => write!(
                f,
                "{id} is not in {FILE_NAME} (added by hand or merged from another branch): run `ferry rebase` if it came from a merge, else `ferry hash`"
            ),
            SumProblem::Vanished(id) => write!(
                f,
                "{id} is in {FILE_NAME} but not on disk: restore it, or run `ferry hash` if removing it is intended"
            ),
        }
    }
}

/// Compares `dir` with its `ferry.sum`. An empty directory needs no `ferry.sum`.
pub fn verify(dir: &MigrationDir) -> std::io::Result<Vec<SumProblem>> {
    let text = match std::fs::read_to_string(path(&dir.path)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(if dir.migrations.is_empty() {
                Vec::new()
            } else {
                vec![SumProblem::Missing]
            });
        }
        Err(e) => return Err(e),
    };
    Ok(verify_text(dir, &text))
}

fn verify_text(dir: &MigrationDir, text: &str) -> Vec<SumProblem> {
    let conflict = text
        .lines()
        .any(|l| l.starts_with("<<<<<<<") || l.starts_with(">>>>>>>") || l.starts_with("======="));
    if conflict {
        return vec![SumProblem::MergeConflict];
    }
    let mut problems = Vec::new();
    let mut recorded_total = None;
    let mut entries: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(' ') {
            Some(("total", hash)) => recorded_total = Some(hash.to_string()),
            Some((id, hash)) if !id.is_empty() && !hash.contains(' ') => {
                entries.push((id.to_string(), hash.to_string()))
            }
            _ => problems.push(SumProblem::Malformed {
                line: i + 1,
                text: line.to_string(),
            }),
        }
    }
    let lines: Vec<String> = entries.iter().map(|(id, h)| format!("{id} {h}")).collect();
    if recorded_total.as_deref() != Some(total(&lines).as_str()) {
        problems.push(SumProblem::TotalMismatch);
    }
    // Keyed lookups: directories of thousands of migrations stay linear.
    let listed: HashMap<&str, &str> = entries
        .iter()
        .map(|(id, hash)| (id.as_str(), hash.as_str()))
        .collect();
    let ids: Vec<String> = dir.migrations.iter().map(Migration::id).collect();
    for (m, id) in dir.migrations.iter().zip(&ids) {
        match listed.get(id.as_str()) {
            None => problems.push(SumProblem::Unlisted(id.clone())),
            Some(hash) if *hash != migration_hash(m) => {
                problems.push(SumProblem::Modified(id.clone()))
            }
            Some(_) => {}
        }
    }
    let on_disk: HashSet<&str> = ids.iter().map(String::as_str).collect();
    for (id, _) in &entries {
        if !on_disk.contains(id.as_str()) {
            problems.push(SumProblem::Vanished(id.clone()));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: &str, up: &str, down: Option<&str>) -> Migration {
        Migration {
            version: version.into(),
            name: "m".into(),
            path: PathBuf::from(format!("migrations/{version}_m")),
            up: up.into(),
            down: down.map(Into::into),
        }
    }

    fn dir(ms: Vec<Migration>) -> MigrationDir {
        MigrationDir {
            path: PathBuf::from("migrations"),
            migrations: ms,
            problems: Vec::new(),
        }
    }

    #[test]
    fn a_rendered_sum_verifies_and_is_deterministic() {
        let d = dir(vec![migration(
            "1",
            "CREATE TABLE a ();",
            Some("DROP TABLE a;"),
        )]);
        assert_eq!(render(&d), render(&d));
        assert!(verify_text(&d, &render(&d)).is_empty());
    }

    #[test]
    fn edits_additions_and_removals_are_named() {
        let d = dir(vec![
            migration("1", "A", Some("a")),
            migration("2", "B", None),
        ]);
        let sum = render(&d);
        let mut edited = d.clone();
        edited.migrations[0].down = Some("a2".into());
        assert_eq!(
            verify_text(&edited, &sum),
            vec![SumProblem::Modified("1_m".into())]
        );

        let mut added = d.clone();
        added.migrations.push(migration("3", "C", None));
        assert_eq!(
            verify_text(&added, &sum),
            vec![SumProblem::Unlisted("3_m".into())]
        );

        let mut removed = d.clone();
        removed.migrations.pop();
        assert_eq!(
            verify_text(&removed, &sum),
            vec![SumProblem::Vanished("2_m".into())]
        );
    }

    #[test]
    fn two_branches_change_the_same_line() {
        let base = dir(vec![migration("1", "A", None)]);
        let mut ours = base.clone();
        ours.migrations.push(migration("2", "B", None));
        let mut theirs = base.clone();
        theirs.migrations.push(migration("3", "C", None));
        let total_line = |d: &MigrationDir| {
            render(d)
                .lines()
                .find(|l| l.starts_with("total"))
                .unwrap()
                .to_string()
        };
        assert_ne!(total_line(&ours), total_line(&theirs));
        assert_ne!(total_line(&ours), total_line(&base));

        let conflicted = "<<<<<<< HEAD\ntotal x\n=======\ntotal y\n>>>>>>> b\n";
        assert_eq!(
            verify_text(&ours, conflicted),
            vec![SumProblem::MergeConflict]
        );
    }

    #[test]
    fn a_hand_edited_total_is_caught() {
        let d = dir(vec![migration("1", "A", None)]);
        let sum = render(&d).replace("total ", "total 0");
        assert_eq!(verify_text(&d, &sum), vec![SumProblem::TotalMismatch]);
    }
}
