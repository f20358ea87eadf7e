//! Soundness (DESIGN invariant 2) through versioned migrations, for every schema pair of the
//! corpus: the pairs of `soundness.rs` plus consecutive corpus files (empty → first file →
//! … → last file → empty). For a pair (A, B), in a project directory: `generate a` with the
//! schema at A, `generate b` with the schema at B (after which `generate` has nothing left
//! to do); then, on a fresh database, `migrate --to a`, seed rows, `migrate` (rows kept, the
//! database equals B), `rollback --force` (equals A), `migrate` (equals B again). "Equals"
//! is `ferry diff --from <database> --to <file> --exit-code` exiting 0.
//!
//! Every pair runs; all failures are reported in one assertion.

mod common;

#[path = "common/pairs.rs"]
mod pairs;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use common::*;
use pairs::{Pair, PG_PAIRS, SQLITE_PAIRS};

/// Pairs that fail because of a bug in ferry itself, as (dialect, pair name), each with a
/// comment saying what is wrong. The test fails when a pair not listed here fails, and also
/// when a listed pair passes: remove its entry once the bug is fixed.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// One pair to check: schema texts, and optionally rows to keep.
struct Case {
    name: String,
    a: String,
    b: String,
    seed: &'static str,
    /// A query whose single value must be `.1` after migrating to B.
    check: Option<(&'static str, &'static str)>,
}

fn from_pairs(pairs: &[Pair]) -> Vec<Case> {
    pairs
        .iter()
        .map(|p| Case {
            name: p.name.to_string(),
            a: p.a.to_string(),
            b: p.b.to_string(),
            seed: p.seed,
            check: Some((p.check, p.expect)),
        })
        .collect()
}

fn corpus(dialect: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dialect);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus in {}", dir.display());
    files
}

/// Consecutive pairs of (empty, corpus files in path order…, empty).
fn corpus_chain(dialect: &str) -> Vec<Case> {
    let mut chain = vec![("(empty)".to_string(), String::new())];
    for file in corpus(dialect) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).expect("read corpus file");
        chain.push((name, text));
    }
    chain.push(("(empty)".to_string(), String::new()));
    chain
        .windows(2)
        .map(|w| Case {
            name: format!("corpus {} → {}", w[0].0, w[1].0),
            a: w[0].1.clone(),
            b: w[1].1.clone(),
            seed: "",
            check: None,
        })
        .collect()
}

/// The test databases, fallibly: a failure is reported, not a panic.
trait Db {
    fn url(&self) -> &str;
    fn exec(&self, sql: &str) -> Result<(), String>;
    fn scalar(&self, sql: &str) -> Result<String, String>;
}

impl Db for PgDb {
    fn url(&self) -> &str {
        &self.url
    }
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
    }
    fn scalar(&self, sql: &str) -> Result<String, String> {
        let rows = self.client().simple_query(sql).map_err(|e| e.to_string())?;
        rows.into_iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => {
                    Some(r.get(0).unwrap_or_default().to_string())
                }
                _ => None,
            })
            .ok_or_else(|| format!("no row from {sql}"))
    }
}

impl Db for SqliteDb {
    fn url(&self) -> &str {
        &self.url
    }
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
    }
    fn scalar(&self, sql: &str) -> Result<String, String> {
        self.connection()
            .query_row(sql, [], |r| {
                let v: rusqlite::types::Value = r.get(0)?;
                Ok(match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    other => format!("{other:?}"),
                })
            })
            .map_err(|e| e.to_string())
    }
}

/// Runs `ferry args…` in `dir`; an error naming the command and its output unless it exits 0.
fn ferry_ok(dir: &Path, args: &[&str]) -> Result<Output, String> {
    let out = run_in(dir, args);
    if out.success() {
        Ok(out)
    } else {
        Err(format!("`ferry {}` failed:\n{out}", args.join(" ")))
    }
}

/// The database equals the schema file: `ferry diff --exit-code` finds nothing.
fn same_as(dir: &Path, db: &dyn Db, file: &str, when: &str) -> Result<(), String> {
    let args = [
        "diff",
        "--from",
        db.url(),
        "--to",
        file,
        "--exit-code",
        "--no-rename",
    ];
    let out = run_in(dir, &args);
    if out.code == 0 {
        Ok(())
    } else {
        Err(format!(
            "{when}: the database differs from {file}: `ferry {}`:\n{out}",
            args.join(" ")
        ))
    }
}

fn migrations_listing(dir: &Path) -> String {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.join("migrations"))
        .into_iter()
        .flatten()
    {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            for name in ["up.sql", "down.sql"] {
                let text = std::fs::read_to_string(path.join(name)).unwrap_or_default();
                files.push(format!(
                    "--- {}/{name}\n{text}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    files.sort();
    files.join("\n")
}

fn check_case(case: &Case, dialect: &str, db: &dyn Db) -> Result<(), String> {
    let project = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = project.path();
    write_file(
        dir,
        "ferry.toml",
        &format!(
            "dialect = \"{dialect}\"\n\n[environments.dev]\nurl = \"{}\"\n",
            db.url()
        ),
    );
    let a_file = write_file(dir, "a.sql", &case.a);
    let b_file = write_file(dir, "b.sql", &case.b);

    // Generate: A from nothing, then B from A; then nothing is left.
    write_file(dir, "schema/schema.sql", &case.a);
    ferry_ok(dir, &["generate", "a", "--version", "1", "--no-rename"])?;
    let has_a = dir.join("migrations/1_a").is_dir();
    if !has_a && !case.a.trim().is_empty() {
        return Err("`ferry generate a` wrote no migration for a non-empty schema A".into());
    }
    write_file(dir, "schema/schema.sql", &case.b);
    ferry_ok(dir, &["generate", "b", "--version", "2", "--no-rename"])?;
    if !dir.join("migrations/2_b").is_dir() {
        return Err("`ferry generate b` wrote no migration from A to B".into());
    }
    let again = ferry_ok(dir, &["generate", "c", "--version", "3", "--no-rename"])?;
    if !again.stderr.contains("Nothing to generate") || dir.join("migrations/3_c").exists() {
        return Err(format!(
            "`ferry generate c` right after `generate b` is not a no-op:\n{again}\n{}",
            migrations_listing(dir)
        ));
    }
    let with_files = |e: String| format!("{e}\n=== migrations\n{}", migrations_listing(dir));

    // Migrate to A (nothing to do when A is empty), seed, migrate to B.
    if has_a {
        ferry_ok(dir, &["migrate", "--to", "1"]).map_err(with_files)?;
        same_as(dir, db, &a_file, "after `migrate --to 1`").map_err(with_files)?;
    }
    db.exec(case.seed)
        .map_err(|e| format!("seeding at A failed: {e}"))?;
    ferry_ok(dir, &["migrate"]).map_err(with_files)?;
    if let Some((query, expect)) = case.check {
        let got = db.scalar(query).map_err(|e| format!("{query}: {e}"))?;
        if got != expect {
            return Err(with_files(format!(
                "rows not kept by `migrate`: {query} gave {got:?}, expected {expect:?}"
            )));
        }
    }
    same_as(dir, db, &b_file, "after `migrate`").map_err(with_files)?;

    // Down to A, up to B again.
    ferry_ok(dir, &["rollback", "--force"]).map_err(with_files)?;
    same_as(dir, db, &a_file, "after `rollback --force`").map_err(with_files)?;
    ferry_ok(dir, &["migrate"]).map_err(with_files)?;
    same_as(dir, db, &b_file, "after the second `migrate`").map_err(with_files)?;
    Ok(())
}

fn check_all(dialect: &str, cases: Vec<Case>, new_db: &dyn Fn() -> Box<dyn Db>) {
    let mut failed = Vec::new();
    let mut passed = Vec::new();
    for case in &cases {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let db = new_db();
            check_case(case, dialect, db.as_ref())
        }))
        .unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        });
        match result {
            Ok(()) => passed.push(case.name.as_str()),
            Err(e) => failed.push((case.name.as_str(), e)),
        }
    }
    let known: Vec<&str> = KNOWN_FAILURES
        .iter()
        .filter(|(d, _)| *d == dialect)
        .map(|(_, name)| *name)
        .collect();
    let mut problems = Vec::new();
    for name in &known {
        if !cases.iter().any(|c| c.name == *name) {
            problems.push(format!(
                "KNOWN_FAILURES lists \"{name}\" ({dialect}), which is no pair"
            ));
        } else if passed.contains(name) {
            problems.push(format!(
                "\"{name}\" ({dialect}) passes now: remove it from KNOWN_FAILURES"
            ));
        }
    }
    for (name, e) in &failed {
        if known.contains(name) {
            eprintln!("known failure \"{name}\" ({dialect}):\n{e}\n");
        } else {
            problems.push(format!("\"{name}\" ({dialect}) failed:\n{e}"));
        }
    }
    eprintln!(
        "{dialect}: {} of {} pairs pass, {} known failure(s)",
        passed.len(),
        cases.len(),
        failed.iter().filter(|(n, _)| known.contains(n)).count()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s) with {dialect} pairs:\n\n{}",
        problems.len(),
        problems.join("\n\n==========\n\n")
    );
}

#[test]
fn postgres_migrations_are_sound() {
    let mut cases = from_pairs(PG_PAIRS);
    cases.extend(corpus_chain("postgres"));
    check_all("postgres", cases, &|| Box::new(PgDb::new()));
}

#[test]
fn sqlite_migrations_are_sound() {
    let mut cases = from_pairs(SQLITE_PAIRS);
    cases.extend(corpus_chain("sqlite"));
    check_all("sqlite", cases, &|| Box::new(SqliteDb::new()));
}
