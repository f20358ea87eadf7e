//! Backup and restore with SQLite's online backup API: a page-by-page copy of the whole
//! database (schema, rows, views, triggers, `user_version`, ferry's history), consistent
//! even while other connections write, and a database file itself.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use ferry_core::{Backup, BackupInfo, DbError, DbErrorKind};
use rusqlite::backup::StepResult;
use rusqlite::{Connection, OpenFlags, MAIN_DB};

use crate::database::SqliteDatabase;

const METHOD: &str = "sqlite backup api";

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How long a restore waits for another connection to release the target database.
const BUSY_WAIT: Duration = Duration::from_secs(5);

impl Backup for SqliteDatabase {
    fn backup_to(&mut self, path: &Path) -> Result<BackupInfo, DbError> {
        let failed = |message: String| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot back up to {}: {message}", path.display()),
            )
        };
        // Written beside the target and renamed once complete, so that a failed backup
        // never leaves a file that looks like one (nor damages an older one).
        let partial = partial_path(path).ok_or_else(|| failed("not a file name".into()))?;
        let _ = std::fs::remove_file(&partial);
        let result = self
            .conn()
            .backup(MAIN_DB, &partial, None)
            .map_err(|e| failed(e.to_string()))
            .and_then(|()| {
                std::fs::File::open(&partial)
                    .and_then(|f| f.sync_all())
                    .and_then(|()| std::fs::rename(&partial, path))
                    .map_err(|e| failed(e.to_string()))
            });
        if let Err(e) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        // Counted in the copy, not the source, which may have changed since.
        let copy = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| failed(e.to_string()))?;
        let (tables, rows) = count_rows(&copy).map_err(|e| failed(e.to_string()))?;
        Ok(BackupInfo {
            method: METHOD.to_string(),
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            tables,
            rows,
        })
    }

    fn restore_from(&mut self, path: &Path) -> Result<BackupInfo, DbError> {
        let failed = |message: String| {
            DbError::new(
                DbErrorKind::Apply,
                format!("cannot restore {}: {message}", path.display()),
            )
        };
        // Checked first: opening a missing file would create it, and the backup API would
        // copy an empty "database" from any file that is not one.
        let mut header = [0u8; 16];
        std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
            .map_err(|e| failed(e.to_string()))?;
        if &header != SQLITE_HEADER {
            return Err(failed("not an SQLite database file".into()));
        }
        ensure_empty(self.conn())?;
        let source = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| failed(e.to_string()))?;
        // The copy goes into one write transaction of the target: all of it or nothing.
        {
            let backup = rusqlite::backup::Backup::new(&source, self.connection())
                .map_err(|e| failed(e.to_string()))?;
            let started = Instant::now();
            loop {
                match backup.step(-1).map_err(|e| failed(e.to_string()))? {
                    StepResult::Done => break,
                    // Another connection holds the source or the target for a moment.
                    StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_WAIT => {
                        thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        return Err(failed(format!(
                            "the database stayed locked by another connection for {} s; nothing was restored",
                            BUSY_WAIT.as_secs()
                        )))
                    }
                }
            }
        }
        let (tables, rows) = count_rows(self.conn()).map_err(|e| failed(e.to_string()))?;
        Ok(BackupInfo {
            method: METHOD.to_string(),
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            tables,
            rows,
        })
    }
}

/// `path` with `.partial-<pid>` appended to its file name.
fn partial_path(path: &Path) -> Option<PathBuf> {
    let mut name = path.file_name()?.to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    Some(path.with_file_name(name))
}

/// The backup API replaces the whole target: refuse one that holds anything, even ferry's
/// history alone, rather than lose it.
fn ensure_empty(conn: &Connection) -> Result<(), DbError> {
    let objects: Vec<String> = conn
        .prepare("SELECT type || ' ' || name FROM sqlite_schema ORDER BY rowid")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
        })
        .map_err(|e| {
            DbError::new(
                DbErrorKind::Apply,
                format!("cannot check that the database is empty: {e}"),
            )
        })?;
    if objects.is_empty() {
        return Ok(());
    }
    const NAMED: usize = 5;
    let mut names: Vec<String> = objects.iter().take(NAMED).cloned().collect();
    if objects.len() > NAMED {
        names.push(format!("and {} more", objects.len() - NAMED));
    }
    Err(DbError::new(
        DbErrorKind::Apply,
        format!(
            "cannot restore into this database: it is not empty ({}); restore into a new, empty database. Nothing was changed",
            names.join(", ")
        ),
    ))
}

/// Ordinary tables (not views, virtual tables or their shadow tables) and their rows.
fn count_rows(conn: &Connection) -> rusqlite::Result<(usize, u64)> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM pragma_table_list \
             WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rows = 0u64;
    for t in &tables {
        let n: i64 = conn.query_row(
            &format!("SELECT count(*) FROM \"{}\"", t.replace('"', "\"\"")),
            [],
            |r| r.get(0),
        )?;
        rows += n.max(0) as u64;
    }
    Ok((tables.len(), rows))
}
