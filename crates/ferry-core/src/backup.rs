//! Backups: a complete copy of a database (schema and rows) in one file, and its restore.

use std::path::Path;

use crate::DbError;

/// What a backup holds, for messages and `ferry backup list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// How it was made: `pg_dump (custom format)`, `ferry logical dump`, `sqlite backup api`.
    pub method: String,
    pub bytes: u64,
    pub tables: usize,
    pub rows: u64,
}

/// Each database engine's backup and restore.
pub trait Backup {
    /// Writes a complete, consistent copy of the database (schema and rows) to `path`.
    fn backup_to(&mut self, path: &Path) -> Result<BackupInfo, DbError>;

    /// Restores a file written by `backup_to` into this database, which must be empty of
    /// the objects it holds. Atomic where the engine allows.
    fn restore_from(&mut self, path: &Path) -> Result<BackupInfo, DbError>;
}
