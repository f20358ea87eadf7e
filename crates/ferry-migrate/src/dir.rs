//! The migrations directory: `<version>_<name>/up.sql` and `down.sql` per migration.

use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};

use ferry_core::{DialectKind, Script, ScriptStatement};
use ferry_sql::LoadError;

pub const UP: &str = "up.sql";
pub const DOWN: &str = "down.sql";

/// A comment line, before the first statement of a file, that runs it outside a transaction.
pub const NO_TRANSACTION: &str = "ferry:no-transaction";

/// A comment line after which the per-migration transaction starts: the statements above it
/// run first, each committed on its own.
pub const COMMIT: &str = "ferry:commit";

/// One migration on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// `20261130120000`, or diesel's `2026-11-30-120000`.
    pub version: String,
    pub name: String,
    pub path: PathBuf,
    pub up: String,
    /// `None` when the migration has no `down.sql`.
    pub down: Option<String>,
}

impl Migration {
    /// The directory name: `<version>_<name>`.
    pub fn id(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }

    /// Checksum of `up.sql`, as recorded in the history when it is applied.
    pub fn checksum(&self) -> String {
        crate::sum::hash_hex(&[self.up.as_bytes()])
    }

    pub fn up_path(&self) -> PathBuf {
        self.path.join(UP)
    }

    pub fn down_path(&self) -> PathBuf {
        self.path.join(DOWN)
    }

    /// `up.sql` split into statements, ready to run.
    pub fn up_script(&self, kind: DialectKind) -> Result<Script, LoadError> {
        script(&self.up, &self.up_path(), kind)
    }

    /// `down.sql` split into statements; `None` without a `down.sql`.
    pub fn down_script(&self, kind: DialectKind) -> Option<Result<Script, LoadError>> {
        let down = self.down.as_ref()?;
        Some(script(down, &self.down_path(), kind))
    }
}

fn script(text: &str, path: &Path, kind: DialectKind) -> Result<Script, LoadError> {
    let origin = path.display().to_string();
    let statements: Vec<ScriptStatement> = ferry_sql::split_statements(text, &origin, kind)?
        .into_iter()
        .map(|s| ScriptStatement {
            sql: s.sql,
            line: s.line,
        })
        .collect();
    let commit_line = text
        .lines()
        .position(|l| {
            l.trim()
                .strip_prefix("--")
                .is_some_and(|c| names(c, COMMIT))
        })
        .map(|i| i as u64 + 1);
    let committed_first = match commit_line {
        Some(at) => statements.iter().take_while(|s| s.line < at).count(),
        None => 0,
    };
    Ok(Script {
        origin,
        statements,
        transactional: is_transactional(text),
        committed_first,
    })
}

/// False when the file opts out of the per-migration transaction.
pub fn is_transactional(text: &str) -> bool {
    !has_directive(text, NO_TRANSACTION)
}

/// True when a `-- <directive>` line comes before the file's first statement.
pub fn has_directive(text: &str, directive: &str) -> bool {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            return false;
        };
        if names(comment, directive) {
            return true;
        }
    }
    false
}

/// True when a comment's text is `directive`, alone or followed by an explanation.
fn names(comment: &str, directive: &str) -> bool {
    let c = comment.trim();
    c.strip_prefix(directive)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// Orders versions numerically, ignoring diesel's dashes: `2026-11-30-120000` sorts as
/// `20261130120000`.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    // Without allocating: `status` compares every pair of versions it sorts.
    fn significant(v: &str) -> impl Iterator<Item = u8> + '_ {
        v.bytes()
            .filter(u8::is_ascii_digit)
            .skip_while(|d| *d == b'0')
    }
    significant(a)
        .count()
        .cmp(&significant(b).count())
        .then_with(|| significant(a).cmp(significant(b)))
}

/// The version with dashes and leading zeros removed: equal keys, equal versions.
pub fn version_key(version: &str) -> String {
    version
        .chars()
        .filter(char::is_ascii_digit)
        .skip_while(|d| *d == '0')
        .collect()
}

/// Something wrong with the directory's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutProblem {
    /// A directory whose name is not `<version>_<name>`.
    BadName(PathBuf),
    /// A migration directory without `up.sql`.
    MissingUp(PathBuf),
    /// Two migrations with the same version.
    DuplicateVersion(String, Vec<String>),
}

impl fmt::Display for LayoutProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutProblem::BadName(p) => write!(
                f,
                "{}: not a migration name (expected <version>_<name>, e.g. 20261130120000_add_users, where the version is digits and dashes)",
                p.display()
            ),
            LayoutProblem::MissingUp(p) => write!(f, "{}: has no {UP}", p.display()),
            LayoutProblem::DuplicateVersion(v, ids) => {
                write!(f, "version {v} is used by more than one migration: {}", ids.join(", "))
            }
        }
    }
}

/// The migrations of one directory, ordered by version.
#[derive(Clone, Debug, Default)]
pub struct MigrationDir {
    pub path: PathBuf,
    pub migrations: Vec<Migration>,
    /// Layout problems found while reading; the migrations that could be read are kept.
    pub problems: Vec<LayoutProblem>,
}

impl MigrationDir {
    /// Reads `path`. A missing directory is an empty one (nothing generated yet). Hidden
    /// entries and plain files (`ferry.sum`, a README) are not migrations.
    pub fn open(path: &Path) -> std::io::Result<MigrationDir> {
        let mut dir = MigrationDir {
            path: path.to_path_buf(),
            ..MigrationDir::default()
        };
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(dir),
            Err(e) => return Err(e),
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type()?.is_dir() {
                continue;
            }
            subdirs.push((name, entry.path()));
        }
        subdirs.sort();
        for (name, sub) in subdirs {
            let Some((version, label)) = parse_id(&name) else {
                dir.problems.push(LayoutProblem::BadName(sub));
                continue;
            };
            let up = match std::fs::read_to_string(sub.join(UP)) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    dir.problems.push(LayoutProblem::MissingUp(sub));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let down = match std::fs::read_to_string(sub.join(DOWN)) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            dir.migrations.push(Migration {
                version: version.to_string(),
                name: label.to_string(),
                path: sub,
                up,
                down,
            });
        }
        dir.migrations
            .sort_by(|a, b| compare_versions(&a.version, &b.version).then(a.name.cmp(&b.name)));
        for pair in dir.migrations.windows(2) {
            if compare_versions(&pair[0].version, &pair[1].version) == Ordering::Equal {
                let v = pair[0].version.clone();
                if !dir
                    .problems
                    .iter()
                    .any(|p| matches!(p, LayoutProblem::DuplicateVersion(x, _) if *x == v))
                {
                    let ids = dir
                        .migrations
                        .iter()
                        .filter(|m| compare_versions(&m.version, &v) == Ordering::Equal)
                        .map(Migration::id)
                        .collect();
                    dir.problems.push(LayoutProblem::DuplicateVersion(v, ids));
                }
            }
        }
        Ok(dir)
    }

    pub fn get(&self, version: &str) -> Option<&Migration> {
        self.migrations
            .iter()
            .find(|m| compare_versions(&m.version, version) == Ordering::Equal)
    }

    /// The newest version on disk.
    pub fn latest(&self) -> Option<&Migration> {
        self.migrations.last()
    }
}

/// `20261130120000_add_users` → (`20261130120000`, `add_users`).
fn parse_id(name: &str) -> Option<(&str, &str)> {
    let (version, label) = name.split_once('_')?;
    let valid_version = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_digit() || c == '-');
    let valid_label = !label.is_empty() && !label.chars().any(char::is_whitespace);
    (valid_version && valid_label).then_some((version, label))
}

/// A migration name from free text: `Add users!` → `add_users`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically_with_or_without_dashes() {
        assert_eq!(compare_versions("2", "10"), Ordering::Less);
        assert_eq!(
            compare_versions("2026-11-30-120000", "20261130120000"),
            Ordering::Equal
        );
        assert_eq!(
            compare_versions("20261130120000", "20261201000000"),
            Ordering::Less
        );
    }

    #[test]
    fn ids_and_slugs() {
        assert_eq!(
            parse_id("20261130120000_add_users"),
            Some(("20261130120000", "add_users"))
        );
        assert_eq!(
            parse_id("2017-12-03-234423_create_posts"),
            Some(("2017-12-03-234423", "create_posts"))
        );
        assert_eq!(parse_id("add_users"), None);
        assert_eq!(parse_id("2026_"), None);
        assert_eq!(slug("Add users, again!"), "add_users_again");
    }

    #[test]
    fn directive_only_before_the_first_statement() {
        assert!(has_directive(
            "-- hello\n-- ferry:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            NO_TRANSACTION
        ));
        assert!(!has_directive(
            "SELECT 1;\n-- ferry:no-transaction\n",
            NO_TRANSACTION
        ));
    }

    #[test]
    fn statements_above_a_commit_line_run_first() {
        let text = "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'ok';\n-- ferry:commit (why)\nALTER TABLE p ALTER COLUMN m SET DEFAULT 'ok';\n";
        let s = script(text, Path::new("up.sql"), DialectKind::Postgres).unwrap();
        assert_eq!((s.statements.len(), s.committed_first), (2, 1));
        let plain = script(
            "SELECT 1;\nSELECT 2;",
            Path::new("up.sql"),
            DialectKind::Postgres,
        )
        .unwrap();
        assert_eq!(plain.committed_first, 0);
    }

    #[test]
    fn reads_a_directory_and_reports_layout_problems() {
        let tmp = tempfile::tempdir().unwrap();
        let mk = |name: &str, up: Option<&str>, down: Option<&str>| {
            let d = tmp.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            if let Some(up) = up {
                std::fs::write(d.join(UP), up).unwrap();
            }
            if let Some(down) = down {
                std::fs::write(d.join(DOWN), down).unwrap();
            }
        };
        mk("20261201000000_second", Some("B"), None);
        mk("20261130000000_first", Some("A"), Some("a"));
        mk("not_a_version", Some("x"), None);
        mk("20261202000000_no_up", None, Some("x"));
        std::fs::write(tmp.path().join("ferry.sum"), "").unwrap();
        let dir = MigrationDir::open(tmp.path()).unwrap();
        let ids: Vec<String> = dir.migrations.iter().map(Migration::id).collect();
        assert_eq!(ids, vec!["20261130000000_first", "20261201000000_second"]);
        assert_eq!(dir.migrations[1].down, None);
        assert_eq!(dir.problems.len(), 2, "{:?}", dir.problems);
    }
}
