//! The seams between the shared stages and each database: a [`Dialect`] (pure knowledge of
//! spelling and planning) and a [`Database`] (a live connection that inspects and applies).

use std::fmt;

use crate::diff::Change;
use crate::model::Schema;
use crate::plan::Plan;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialectKind {
    Postgres,
    Sqlite,
}

impl DialectKind {
    pub fn name(self) -> &'static str {
        match self {
            DialectKind::Postgres => "postgres",
            DialectKind::Sqlite => "sqlite",
        }
    }
}

/// An object the server names when the schema does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImplicitName {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Index,
    /// PostgreSQL `EXCLUDE`: named like its index (`<table>_<columns>_excl`).
    Exclusion,
}

/// Everything ferry knows about one SQL dialect that needs no connection.
pub trait Dialect: Sync {
    fn kind(&self) -> DialectKind;

    /// `public` on PostgreSQL, `main` on SQLite.
    fn default_namespace(&self) -> &'static str;

    /// The canonical spelling of a column type as written in a file (`int4` → `integer`).
    fn canonical_type(&self, written: &str) -> String;

    /// For pseudo-types such as PostgreSQL's `serial`: the real type behind it.
    fn serial_type(&self, _written: &str) -> Option<&'static str> {
        None
    }

    /// The name the server would give an unnamed constraint or index. `columns` are the
    /// columns it covers (for checks: the columns its expression references). An empty
    /// string means "unnamed" (SQLite constraints).
    fn implicit_name(&self, kind: ImplicitName, table: &str, columns: &[String]) -> String;

    /// The name chosen when [`Dialect::implicit_name`] is taken: the `n`th alternative
    /// (PostgreSQL: `users_email_key1`, shortened again to fit).
    fn numbered_implicit_name(
        &self,
        kind: ImplicitName,
        table: &str,
        columns: &[String],
        n: usize,
    ) -> String {
        format!("{}{n}", self.implicit_name(kind, table, columns))
    }

    /// Orders and renders `changes` (from [`crate::diff::diff`]`(from, to)`).
    fn plan(&self, from: &Schema, to: &Schema, changes: &[Change]) -> Result<Plan, PlanError>;

    /// The statements that create `schema` in an empty database, grouped into files for
    /// `pull`: (file name, SQL text).
    fn render_schema(&self, schema: &Schema) -> Vec<(String, String)>;
}

/// A change this dialect cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

/// A live database.
pub trait Database: crate::history::MigrationStore + crate::backup::Backup {
    fn dialect(&self) -> &'static dyn Dialect;

    /// Reads the database's schema into the model.
    fn inspect(&mut self) -> Result<Schema, DbError>;

    /// The role statements run as, when the database has roles (PostgreSQL's
    /// `current_user`): default privileges `FOR ROLE` it are the ones written without
    /// `FOR ROLE` (see [`Schema::resolve_session_role`]).
    fn session_role(&mut self) -> Result<Option<String>, DbError> {
        Ok(None)
    }

    /// Applies `plan` atomically where the dialect allows; on error nothing is left applied.
    fn apply(&mut self, plan: &Plan) -> Result<(), DbError>;

    /// A new, empty, throwaway database of the same engine (on PostgreSQL: on the same
    /// server), for trying changes without touching this one (`ferry migrate --rehearse`).
    /// It is removed when the returned value is dropped, whatever happened in it. Fails with
    /// `DbErrorKind::Connect` when it cannot be made, naming the privilege that is missing.
    fn scratch(&mut self) -> Result<Box<dyn Database>, DbError>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbErrorKind {
    /// Could not reach or open the database.
    Connect,
    /// A catalog query failed while inspecting.
    Inspect,
    /// A statement of a plan failed; the transaction was rolled back.
    Apply,
    /// A post-apply check (e.g. SQLite `foreign_key_check`) found violations.
    Check,
    /// Another process holds the migration lock.
    Locked,
    /// A statement of a migration that runs outside a transaction failed; the statements
    /// before it stay applied.
    PartiallyApplied,
}

#[derive(Debug, Clone)]
pub struct DbError {
    pub kind: DbErrorKind,
    pub message: String,
    /// The statement that failed, for `Apply`.
    pub statement: Option<String>,
}

impl DbError {
    pub fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        DbError {
            kind,
            message: message.into(),
            statement: None,
        }
    }

    pub fn in_statement(mut self, statement: impl Into<String>) -> Self {
        self.statement = Some(statement.into());
        self
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(stmt) = &self.statement {
            write!(f, "\n  in statement: {stmt}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DbError {}
