//! Backup and restore through the library with SQLite's online backup API: schema, rows,
//! views, triggers, pragmas and ferry's history round-trip into a fresh database; a
//! database that is not empty, or a file that is not a database, is refused untouched.

use std::path::Path;

use ferry_core::{Backup, Database, HistoryChange, MigrationStore, Script};
use ferry_sqlite::SqliteDatabase;
use rusqlite::types::Value;
use tempfile::TempDir;

const SCHEMA: &str = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  score REAL DEFAULT 0,
  avatar BLOB,
  data ANY_AFFINITY,
  created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX users_name ON users (name) WHERE name IS NOT NULL;
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body TEXT CHECK (length(body) >= 0)
);
CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE strict_t (a INTEGER, b TEXT, c BLOB, d REAL, e ANY) STRICT;
CREATE VIEW user_posts AS SELECT u.email, p.body FROM users u JOIN posts p ON p.user_id = u.id;
CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN UPDATE users SET score = score + 1 WHERE id = NEW.user_id; END;
PRAGMA user_version = 42;
"#;

const ROWS: &str = r#"
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO users (email, name, score, data)
SELECT 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' ELSE 'name ' || i END,
       i * 0.1, CASE i % 4 WHEN 0 THEN i WHEN 1 THEN i * 1.5 WHEN 2 THEN 'text ' || i ELSE x'00ff' END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO posts (user_id, body) SELECT (i % 1000) + 1, 'post ' || i || char(10) || 'tab' || char(9) FROM n;
INSERT INTO kv VALUES ('empty', ''), ('null', NULL), ('int', 9223372036854775807), ('real', 1e308),
  ('neg', -0.0), ('unicode', 'héllo 🚀');
INSERT INTO strict_t VALUES (1, 'a', x'00', 1.5, 'any'), (NULL, NULL, NULL, NULL, NULL);
DELETE FROM users WHERE id = 1000;
"#;

fn open(path: &Path) -> SqliteDatabase {
    SqliteDatabase::open(&format!("sqlite://{}", path.display())).expect("open")
}

fn populate(db: &mut SqliteDatabase) {
    db.connection().execute_batch(SCHEMA).unwrap();
    db.connection().execute_batch(ROWS).unwrap();
    // Large values: 5 MB of text, a blob with every byte value many times over.
    let text: String = "line with 'quotes', \\ and é\n".repeat(180_000);
    let blob: Vec<u8> = (0..3_000_000u32).map(|i| (i % 256) as u8).collect();
    db.connection()
        .execute(
            "UPDATE users SET name = ?1, avatar = ?2 WHERE id = 2",
            rusqlite::params![text, blob],
        )
        .unwrap();
    for (version, name) in [("20240101000000", "first"), ("20240201000000", "second")] {
        let script = Script {
            origin: format!("migrations/{version}_{name}/up.sql"),
            statements: Vec::new(),
            transactional: true,
            committed_first: 0,
        };
        db.run_script(
            &script,
            &HistoryChange::Record {
                version: version.into(),
                name: name.into(),
                checksum: format!("sha256:{name}"),
            },
        )
        .unwrap();
    }
}

/// Every object's definition and every row (values with their storage class), plus the
/// pragmas a copy keeps.
fn contents(db: &mut SqliteDatabase) -> Vec<String> {
    let conn = db.connection();
    let mut out = Vec::new();
    let objects: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (kind, name, sql) in &objects {
        out.push(format!("{kind} {name}: {sql:?}"));
        if kind != "table" {
            continue;
        }
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY 1"))
            .unwrap();
        let width = stmt.column_count();
        let rows: Vec<Vec<Value>> = stmt
            .query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.push(format!("{name}: {} rows", rows.len()));
        for row in rows {
            out.push(format!("{name}: {row:?}"));
        }
    }
    for pragma in ["user_version", "page_size", "auto_vacuum"] {
        let v: i64 = conn
            .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
            .unwrap();
        out.push(format!("{pragma} = {v}"));
    }
    out
}

#[test]
fn backup_and_restore_round_trip() {
    let dir = TempDir::new().unwrap();
    let mut source = open(&dir.path().join("source.db"));
    populate(&mut source);
    let path = dir.path().join("backup.sqlite");
    let taken = source.backup_to(&path).unwrap();
    assert_eq!(taken.method, "sqlite backup api");
    assert_eq!(taken.bytes, std::fs::metadata(&path).unwrap().len());
    // users, posts, kv, strict_t, ferry_migrations; sqlite_sequence is SQLite's own.
    assert_eq!(taken.tables, 5);
    // User 1000 is deleted with its 3 posts (ON DELETE CASCADE).
    assert_eq!(taken.rows, 999 + 2997 + 6 + 2 + 2);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(names.is_empty(), "{names:?}");

    let mut target = open(&dir.path().join("target.db"));
    let restored = target.restore_from(&path).unwrap();
    assert_eq!((restored.tables, restored.rows), (taken.tables, taken.rows));
    assert_eq!(source.inspect().unwrap(), target.inspect().unwrap());
    assert_eq!(source.history().unwrap(), target.history().unwrap());
    assert_eq!(contents(&mut source), contents(&mut target));

    // AUTOINCREMENT continues after the highest id ever used (1000, deleted).
    let next: i64 = target
        .connection()
        .query_row(
            "INSERT INTO users (email) VALUES ('new@example.com') RETURNING id",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(next, 1001);
    // Foreign keys are still enforced on the restored connection.
    assert!(target
        .connection()
        .execute("INSERT INTO posts (user_id, body) VALUES (99999, 'x')", [])
        .is_err());
}

#[test]
fn backs_up_an_in_memory_database() {
    let dir = TempDir::new().unwrap();
    let mut source = SqliteDatabase::open("sqlite::memory:").unwrap();
    populate(&mut source);
    let path = dir.path().join("memory.backup");
    source.backup_to(&path).unwrap();
    let mut target = SqliteDatabase::open("sqlite::memory:").unwrap();
    target.restore_from(&path).unwrap();
    assert_eq!(contents(&mut source), contents(&mut target));
}

#[test]
fn restore_into_a_non_empty_database_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let mut source = open(&dir.path().join("source.db"));
    populate(&mut source);
    let path = dir.path().join("backup.sqlite");
    source.backup_to(&path).unwrap();

    let mut target = open(&dir.path().join("target.db"));
    target
        .connection()
        .execute_batch("CREATE TABLE mine (x); INSERT INTO mine VALUES ('kept');")
        .unwrap();
    let before = contents(&mut target);
    let err = target.restore_from(&path).unwrap_err();
    assert!(err.message.contains("not empty"), "{err}");
    assert!(err.message.contains("table mine"), "{err}");
    assert_eq!(contents(&mut target), before);

    // ferry's history alone makes a database non-empty too.
    let mut history_only = open(&dir.path().join("history.db"));
    history_only
        .run_script(
            &Script {
                origin: "up.sql".into(),
                statements: Vec::new(),
                transactional: true,
                committed_first: 0,
            },
            &HistoryChange::Record {
                version: "1".into(),
                name: "x".into(),
                checksum: "c".into(),
            },
        )
        .unwrap();
    let err = history_only.restore_from(&path).unwrap_err();
    assert!(err.message.contains("table ferry_migrations"), "{err}");
    assert_eq!(history_only.history().unwrap().len(), 1);
}

#[test]
fn restore_refuses_what_is_not_a_database() {
    let dir = TempDir::new().unwrap();
    let mut target = open(&dir.path().join("target.db"));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "SQLite format 2, honest").unwrap();
    let err = target.restore_from(&text).unwrap_err();
    assert!(err.message.contains("not an SQLite database file"), "{err}");
    let missing = dir.path().join("missing.db");
    assert!(target.restore_from(&missing).is_err());
    assert!(!missing.exists(), "a missing backup must not be created");
    assert!(contents(&mut target)
        .iter()
        .all(|line| !line.contains(" rows")));
}

#[test]
fn a_failed_backup_leaves_no_file() {
    let dir = TempDir::new().unwrap();
    let mut source = open(&dir.path().join("source.db"));
    populate(&mut source);
    let path = dir.path().join("no such dir").join("backup.sqlite");
    assert!(source.backup_to(&path).is_err());
    assert!(!path.exists());
    // An existing backup is replaced whole.
    let path = dir.path().join("backup.sqlite");
    std::fs::write(&path, "old").unwrap();
    source.backup_to(&path).unwrap();
    let mut copy = open(&path);
    assert_eq!(contents(&mut source), contents(&mut copy));
}

#[test]
fn works_in_wal_mode() {
    let dir = TempDir::new().unwrap();
    let mut source = open(&dir.path().join("source.db"));
    source
        .connection()
        .execute_batch("PRAGMA journal_mode = WAL")
        .unwrap();
    populate(&mut source);
    let path = dir.path().join("backup.sqlite");
    source.backup_to(&path).unwrap();
    let mut target = open(&dir.path().join("target.db"));
    target
        .connection()
        .execute_batch("PRAGMA journal_mode = WAL")
        .unwrap();
    target.restore_from(&path).unwrap();
    assert_eq!(contents(&mut source), contents(&mut target));
    // A second connection sees the restored rows.
    let mut other = open(&dir.path().join("target.db"));
    assert_eq!(contents(&mut other), contents(&mut source));
}
