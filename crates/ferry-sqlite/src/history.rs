//! The history table (`ferry_migrations`), the migration lock (the database file's own
//! exclusive lock, held for the whole run) and running migration scripts.
//!
//! Each script runs with foreign keys off and `PRAGMA foreign_key_check` before commit:
//! the documented way to change an SQLite schema, so that table rebuilds neither cascade
//! deletes nor fail half-way, while a migration that leaves dangling references still fails.

use std::time::{Duration, Instant};

use ferry_core::{AppliedMigration, DbError, DbErrorKind, HistoryChange, MigrationStore, Script};
use rusqlite::params;

use crate::database::{apply_error, SqliteDatabase};

pub(crate) const HISTORY_TABLE: &str = "ferry_migrations";

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS ferry_migrations (\n\
  version text PRIMARY KEY,\n\
  name text NOT NULL,\n\
  checksum text NOT NULL,\n\
  applied_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),\n\
  execution_ms integer NOT NULL,\n\
  ferry_version text NOT NULL\n\
)";

/// How long other operations wait for a busy database once the lock is ours.
const BUSY_WAIT: Duration = Duration::from_secs(5);

fn history_error(e: rusqlite::Error) -> DbError {
    DbError::new(
        DbErrorKind::Apply,
        format!("cannot record the migration: {e}"),
    )
}

impl SqliteDatabase {
    fn apply_history(&self, change: &HistoryChange, elapsed: Duration) -> rusqlite::Result<()> {
        let conn = self.conn();
        if !self.history_ready.get() {
            conn.execute_batch(CREATE_HISTORY)?;
        }
        match change {
            HistoryChange::Record {
                version,
                name,
                checksum,
            } => conn.execute(
                "INSERT INTO ferry_migrations (version, name, checksum, execution_ms, ferry_version) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    version,
                    name,
                    checksum,
                    elapsed.as_millis() as i64,
                    env!("CARGO_PKG_VERSION")
                ],
            )?,
            HistoryChange::Forget { version } => conn.execute(
                "DELETE FROM ferry_migrations WHERE version = ?1",
                params![version],
            )?,
            HistoryChange::Rechecksum { version, checksum } => conn.execute(
                "UPDATE ferry_migrations SET checksum = ?2 WHERE version = ?1",
                params![version, checksum],
            )?,
        };
        Ok(())
    }

    fn run_transactional(&self, script: &Script, change: &HistoryChange) -> Result<(), DbError> {
        let started = Instant::now();
        let conn = self.conn();
        let first = script.committed_first.min(script.statements.len());
        for i in 0..first {
            conn.execute_batch(&script.statements[i].sql)
                .map_err(|e| script.failure(i, e.to_string()))?;
        }
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| apply_error("BEGIN IMMEDIATE", &e))?;
        let result = (|| {
            for (i, stmt) in script.statements.iter().enumerate().skip(first) {
                conn.execute_batch(&stmt.sql)
                    .map_err(|e| script.failure(i, e.to_string()))?;
            }
            self.check_no_rows("PRAGMA foreign_key_check")?;
            self.apply_history(change, started.elapsed())
                .map_err(history_error)?;
            conn.execute_batch("COMMIT")
                .map_err(|e| apply_error("COMMIT", &e))?;
            self.history_ready.set(true);
            Ok(())
        })();
        if result.is_err() {
            // Fails only when the transaction is already gone; the first error is the news.
            let _ = conn.execute_batch("ROLLBACK");
        }
        result
    }
}

impl MigrationStore for SqliteDatabase {
    fn history(&mut self) -> Result<Vec<AppliedMigration>, DbError> {
        let read_error = |e: rusqlite::Error| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot read the migration history: {e}"),
            )
        };
        let conn = self.conn();
        let exists: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [HISTORY_TABLE],
                |r| r.get(0),
            )
            .map_err(read_error)?;
        if !exists {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(
                "SELECT version, name, checksum, applied_at, execution_ms, ferry_version \
                 FROM ferry_migrations ORDER BY applied_at, rowid",
            )
            .map_err(read_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AppliedMigration {
                    version: r.get(0)?,
                    name: r.get(1)?,
                    checksum: r.get(2)?,
                    applied_at: r.get(3)?,
                    execution_ms: r.get(4)?,
                    ferry_version: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(read_error);
        rows
    }

    fn lock(&mut self, wait: Duration) -> Result<(), DbError> {
        let conn = self.conn();
        let locked = |e: rusqlite::Error| {
            DbError::new(
                DbErrorKind::Locked,
                format!(
                    "another process holds a lock on this SQLite database (another `ferry migrate`, or an application writing to it); waited {} s: {e}",
                    wait.as_secs()
                ),
            )
        };
        conn.busy_timeout(wait).map_err(locked)?;
        // In exclusive locking mode the lock BEGIN EXCLUSIVE takes is kept after COMMIT,
        // until `unlock` (or the connection closes, or the process dies).
        let taken = conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
        let _ = conn.busy_timeout(BUSY_WAIT);
        if let Err(e) = taken {
            let _ = conn.execute_batch("ROLLBACK; PRAGMA locking_mode = NORMAL;");
            return Err(locked(e));
        }
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        // Back in normal mode, the next access releases the file lock.
        self.conn()
            .execute_batch("PRAGMA locking_mode = NORMAL; SELECT count(*) FROM sqlite_schema;")
            .map_err(|e| DbError::new(DbErrorKind::Apply, format!("cannot release the lock: {e}")))
    }

    fn drop_history(&mut self) -> Result<(), DbError> {
        self.history_ready.set(false);
        self.conn()
            .execute_batch("DROP TABLE IF EXISTS ferry_migrations")
            .map_err(|e| apply_error("DROP TABLE IF EXISTS ferry_migrations", &e))
    }

    fn run_script(&mut self, script: &Script, change: &HistoryChange) -> Result<(), DbError> {
        if script.transactional {
            let conn = self.conn();
            conn.execute_batch("PRAGMA foreign_keys = OFF")
                .map_err(|e| apply_error("PRAGMA foreign_keys = OFF", &e))?;
            let result = self.run_transactional(script, change);
            let restored = self
                .conn()
                .execute_batch("PRAGMA foreign_keys = ON")
                .map_err(|e| apply_error("PRAGMA foreign_keys = ON", &e));
            return result.and(restored);
        }
        let started = Instant::now();
        for (i, stmt) in script.statements.iter().enumerate() {
            self.conn()
                .execute_batch(&stmt.sql)
                .map_err(|e| script.failure(i, e.to_string()))?;
        }
        self.apply_history(change, started.elapsed())
            .inspect(|()| self.history_ready.set(true))
            .map_err(|e| {
                let mut err = history_error(e);
                err.kind = DbErrorKind::PartiallyApplied;
                err
            })
    }
}
