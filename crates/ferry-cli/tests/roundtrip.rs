//! Round trip (DESIGN invariant 1) for every schema of the corpus, through the binary:
//! the server running the file directly inspects equal to the file as loaded; `push`
//! applies it; a second push finds nothing; `pull` writes files that load back equal,
//! byte-identical on a second pull.

mod common;

use std::path::{Path, PathBuf};

use common::*;

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

/// Checks one schema file against one database URL per the invariant. `direct` executes
/// the file with the driver's own client (not ferry).
fn check_round_trip(file: &Path, direct_url: &str, push_url: &str, dialect: &str) {
    let f = file.display().to_string();
    let name = file.file_name().unwrap().to_string_lossy().to_string();

    // load(S) == inspect(apply(S)), where the server itself ran S.
    let out = run(&[
        "diff",
        "--from",
        &f,
        "--to",
        direct_url,
        "--exit-code",
        "--dialect",
        dialect,
    ]);
    assert_eq!(
        out.code, 0,
        "{name}: file and database built from it differ:\n{out}"
    );
    let out = run(&["diff", "--from", direct_url, "--to", &f, "--exit-code"]);
    assert_eq!(out.code, 0, "{name}: database vs file differ:\n{out}");

    // push applies it; a second push finds nothing to do.
    let out = run(&["push", "--url", push_url, "--schema", &f]);
    assert_eq!(out.code, 0, "{name}: first push failed:\n{out}");
    let out = run(&["push", "--url", push_url, "--schema", &f]);
    assert_eq!(out.code, 0, "{name}: second push failed:\n{out}");
    assert!(
        out.stderr.contains("Nothing to do"),
        "{name}: second push was not empty:\n{out}"
    );
    assert!(
        out.stdout.is_empty(),
        "{name}: second push printed a plan:\n{out}"
    );

    // pull writes files that load back to the same model, deterministically.
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let out = run(&[
            "pull",
            "--url",
            push_url,
            "--out",
            &dir.display().to_string(),
        ]);
        assert_eq!(out.code, 0, "{name}: pull failed:\n{out}");
    }
    let pulled = std::fs::read_to_string(a.join("schema.sql")).expect("pulled schema.sql");
    assert_eq!(
        pulled,
        std::fs::read_to_string(b.join("schema.sql")).unwrap(),
        "{name}: two pulls differ"
    );
    let out = run(&[
        "diff",
        "--from",
        &a.display().to_string(),
        "--to",
        push_url,
        "--exit-code",
        "--dialect",
        dialect,
    ]);
    assert_eq!(
        out.code, 0,
        "{name}: pulled files differ from the database:\n{out}\n--- pulled\n{pulled}"
    );
    let out = run(&[
        "diff",
        "--from",
        &f,
        "--to",
        &a.display().to_string(),
        "--exit-code",
        "--dialect",
        dialect,
    ]);
    assert_eq!(
        out.code, 0,
        "{name}: pulled files differ from the original:\n{out}"
    );
}

#[test]
fn postgres_corpus_round_trips() {
    for file in corpus("postgres") {
        let direct = PgDb::new();
        let sql = std::fs::read_to_string(&file).unwrap();
        direct
            .execute(&sql)
            .unwrap_or_else(|e| panic!("{} does not run on PostgreSQL: {e}", file.display()));
        let pushed = PgDb::new();
        check_round_trip(&file, &direct.url, &pushed.url, "postgres");
    }
}

#[test]
fn sqlite_corpus_round_trips() {
    for file in corpus("sqlite") {
        let direct = SqliteDb::new();
        let sql = std::fs::read_to_string(&file).unwrap();
        direct
            .execute(&sql)
            .unwrap_or_else(|e| panic!("{} does not run on SQLite: {e}", file.display()));
        let pushed = SqliteDb::new();
        check_round_trip(&file, &direct.url, &pushed.url, "sqlite");
    }
}
