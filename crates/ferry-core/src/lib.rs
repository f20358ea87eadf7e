//! ferry's shared core: the schema model (IR), the differ, plans, and the traits each
//! database driver implements. No I/O and no SQL parsing live here.

pub mod backup;
pub mod canonical;
pub mod dialect;
pub mod diff;
pub mod function;
pub mod history;
pub mod model;
pub mod plan;
pub mod url;

pub use backup::{Backup, BackupInfo};
pub use canonical::canonicalize;
pub use dialect::{Database, DbError, DbErrorKind, Dialect, DialectKind, ImplicitName, PlanError};
pub use diff::{
    diff, find_ambiguities, same_builds, unproven_changes, Ambiguity, Change, GrantObject, Renames,
    TableChange, TableDiff,
};
pub use function::*;
pub use history::{AppliedMigration, HistoryChange, MigrationStore, Script, ScriptStatement};
pub use model::*;
pub use plan::{Hazard, HazardKind, Plan, Step};
