//! Scratch databases (`Database::scratch`) on SQLite: an in-memory database, empty, usable
//! like any database, independent of the target, leaving no file behind.

use ferry_core::{Database, HistoryChange, MigrationStore, Schema, Script, ScriptStatement};
use ferry_sqlite::SqliteDatabase;

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn script(sql: &str) -> Script {
    Script {
        origin: "up.sql".into(),
        statements: vec![ScriptStatement {
            sql: sql.into(),
            line: 1,
        }],
        transactional: true,
        committed_first: 0,
    }
}

fn record(version: &str) -> HistoryChange {
    HistoryChange::Record {
        version: version.into(),
        name: "m".into(),
        checksum: "c".into(),
    }
}

#[test]
fn scratch_is_empty_usable_independent_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    let mut target = SqliteDatabase::open(&url).unwrap();
    target
        .run_script(
            &script("CREATE TABLE users (id integer PRIMARY KEY, email text)"),
            &record("1"),
        )
        .unwrap();
    let files_before = files_in(dir.path());
    let target_before = target.inspect().unwrap();

    let mut scratch = target.scratch().unwrap();
    assert_eq!(scratch.inspect().unwrap(), Schema::default());
    assert!(scratch.history().unwrap().is_empty());
    scratch
        .run_script(
            &script("CREATE TABLE users (id integer PRIMARY KEY, name text)"),
            &record("1"),
        )
        .unwrap();
    scratch
        .run_script(
            &script("ALTER TABLE users ADD COLUMN age integer"),
            &record("2"),
        )
        .unwrap();
    assert_eq!(scratch.history().unwrap().len(), 2);
    let columns: Vec<String> = scratch
        .inspect()
        .unwrap()
        .tables
        .values()
        .next()
        .unwrap()
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(columns, ["id", "name", "age"]);

    // A second scratch database is another one, empty too.
    let mut other = target.scratch().unwrap();
    assert_eq!(other.inspect().unwrap(), Schema::default());
    drop(other);
    drop(scratch);

    // The target did not change, and nothing was written beside it.
    assert_eq!(target.inspect().unwrap(), target_before);
    assert_eq!(target.history().unwrap().len(), 1);
    assert_eq!(files_in(dir.path()), files_before);
}
