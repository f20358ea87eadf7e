//! Errors the CLI reports, each with its own exit code (documented in README.md).

use std::fmt;

use ferry_core::{DbError, DbErrorKind, PlanError};
use ferry_sql::LoadError;

/// Process exit codes. Scripts rely on these: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Something unexpected.
    Failure = 1,
    /// `diff --exit-code` found differences.
    Differences = 2,
    /// A hazardous plan needs confirmation (`--force`), or the user declined.
    NeedsConfirmation = 3,
    /// A table or column may have been renamed: answer with `--rename` or `--no-rename`.
    Ambiguous = 4,
    /// A schema file is invalid.
    InvalidSchema = 5,
    /// The database cannot be reached or opened.
    Connect = 6,
    /// Applying failed; the transaction was rolled back.
    ApplyFailed = 7,
    /// Another process holds the migration lock.
    Locked = 8,
    /// A migration that runs outside a transaction failed part-way.
    PartiallyApplied = 9,
    /// The migrations directory fails its integrity check (`ferry.sum`, layout).
    Integrity = 10,
    /// An applied migration's file changed since it was applied.
    Modified = 11,
    /// An applied migration is missing from disk.
    Missing = 12,
    /// A pending migration is older than the newest applied one (merged late).
    OutOfOrder = 13,
    /// `check`: a migration has a risky statement (lint error).
    Lint = 14,
    /// `check`: the database differs from what its applied migrations build.
    Drift = 15,
    /// The command is not allowed in a protected environment.
    Protected = 16,
    /// Bad command line, configuration, or environment variable.
    Usage = 64,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(Exit::Usage, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<LoadError> for CliError {
    fn from(e: LoadError) -> Self {
        CliError::new(Exit::InvalidSchema, e.to_string())
    }
}

impl From<PlanError> for CliError {
    fn from(e: PlanError) -> Self {
        CliError::new(Exit::Failure, format!("cannot plan this change: {e}"))
    }
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> Self {
        let exit = match e.kind {
            DbErrorKind::Connect => Exit::Connect,
            DbErrorKind::Apply | DbErrorKind::Check => Exit::ApplyFailed,
            DbErrorKind::Inspect => Exit::Failure,
            DbErrorKind::Locked => Exit::Locked,
            DbErrorKind::PartiallyApplied => Exit::PartiallyApplied,
        };
        let message = match e.kind {
            DbErrorKind::Apply => {
                format!("{e}\nnothing was applied: the transaction was rolled back")
            }
            _ => e.to_string(),
        };
        CliError::new(exit, message)
    }
}

pub type Result<T> = std::result::Result<T, CliError>;
