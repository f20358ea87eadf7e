//! What the versioned-migration commands need from a database beyond inspect and apply: a
//! history of applied migrations, a lock, and running one migration script together with
//! its history change.

use std::time::Duration;

/// One row of the history table (`ferry_migrations`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: String,
    pub name: String,
    /// Checksum of the `up.sql` that ran (see `ferry-migrate`).
    pub checksum: String,
    /// When it was applied, as the database prints it (UTC).
    pub applied_at: String,
    pub execution_ms: i64,
    pub ferry_version: String,
}

/// One statement of a migration script, with where it starts in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptStatement {
    pub sql: String,
    pub line: u64,
}

/// A migration file, split into statements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The file's path, for messages.
    pub origin: String,
    pub statements: Vec<ScriptStatement>,
    /// False when the file opts out of the per-migration transaction
    /// (`-- ferry:no-transaction`, needed for `CREATE INDEX CONCURRENTLY`).
    pub transactional: bool,
    /// How many leading statements run, each committed, before the transaction starts
    /// (those above a `-- ferry:commit` line): PostgreSQL cannot use an enum value in the
    /// transaction that adds it.
    pub committed_first: usize,
}

impl Script {
    /// The error for statement `index` failing with the driver's `message`: names the file,
    /// line and statement, and says which earlier statements stay applied when some ran
    /// outside the transaction.
    pub fn failure(&self, index: usize, message: String) -> crate::DbError {
        let stmt = &self.statements[index];
        let mut err = crate::DbError::new(crate::DbErrorKind::Apply, message)
            .in_statement(format!("{}:{}: {}", self.origin, stmt.line, stmt.sql));
        let committed = if self.transactional {
            self.committed_first.min(index)
        } else {
            index
        };
        if committed > 0 {
            err.kind = crate::DbErrorKind::PartiallyApplied;
            err.message.push_str(&format!(
                "\nthe first {committed} statement(s) of {} ran outside the migration's transaction and stay applied; the migration is not recorded",
                self.origin
            ));
        }
        err
    }
}

/// How running a script changes the history, in the same transaction as the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryChange {
    /// A migration was applied: record it (`execution_ms` is filled in by the database).
    Record {
        version: String,
        name: String,
        checksum: String,
    },
    /// A migration was rolled back: forget it.
    Forget { version: String },
    /// An applied migration's file was edited on purpose: record its new checksum.
    Rechecksum { version: String, checksum: String },
}

/// The history, lock and script primitives of one database engine.
pub trait MigrationStore {
    /// The applied migrations, oldest first; empty when the history table does not exist yet.
    fn history(&mut self) -> Result<Vec<AppliedMigration>, crate::DbError>;

    /// Takes the migration lock, waiting up to `wait`. Fails with `DbErrorKind::Locked`,
    /// naming the holder where the engine can tell.
    fn lock(&mut self, wait: Duration) -> Result<(), crate::DbError>;

    fn unlock(&mut self) -> Result<(), crate::DbError>;

    /// Drops the history table (`ferry reset`): the database forgets every migration.
    fn drop_history(&mut self) -> Result<(), crate::DbError>;

    /// Runs `script` and applies `change` to the history: both or neither when the script
    /// is transactional. A failed statement is named with its file and line.
    fn run_script(&mut self, script: &Script, change: &HistoryChange)
        -> Result<(), crate::DbError>;
}

/// Default wait for the migration lock.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);
