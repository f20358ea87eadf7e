//! The SQLite [`Dialect`]: spelling rules and the entry points of the planner.

use ferry_core::{Change, Dialect, DialectKind, ImplicitName, Plan, PlanError, Schema};

use crate::plan;

/// SQLite's dialect. Use the [`crate::SQLITE`] static.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sqlite;

impl Dialect for Sqlite {
    fn kind(&self) -> DialectKind {
        DialectKind::Sqlite
    }

    fn default_namespace(&self) -> &'static str {
        "main"
    }

    /// SQLite stores declared types verbatim and derives affinity from the exact words
    /// (`INTEGER PRIMARY KEY` is a rowid alias, `INT PRIMARY KEY` is not), so types are never
    /// aliased: the loader's normalised spelling is already canonical.
    fn canonical_type(&self, written: &str) -> String {
        written.trim().to_string()
    }

    /// SQLite does not name unnamed constraints, and CREATE INDEX always names its index.
    fn implicit_name(&self, _kind: ImplicitName, _table: &str, _columns: &[String]) -> String {
        String::new()
    }

    fn plan(&self, from: &Schema, to: &Schema, changes: &[Change]) -> Result<Plan, PlanError> {
        plan::plan(from, to, changes)
    }

    fn render_schema(&self, schema: &Schema) -> Vec<(String, String)> {
        vec![("schema.sql".to_string(), plan::render_schema(schema))]
    }
}
