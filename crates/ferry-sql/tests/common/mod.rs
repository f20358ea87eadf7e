//! A minimal dialect for loader tests: names and types as written, PostgreSQL's default
//! namespace and implicit-name shapes. (Real spellings are each driver's job.)

use ferry_core::*;

pub struct Plain;

impl Dialect for Plain {
    fn kind(&self) -> DialectKind {
        DialectKind::Postgres
    }
    fn default_namespace(&self) -> &'static str {
        "public"
    }
    fn canonical_type(&self, written: &str) -> String {
        written.to_string()
    }
    fn serial_type(&self, written: &str) -> Option<&'static str> {
        (written == "serial").then_some("integer")
    }
    fn implicit_name(&self, kind: ImplicitName, table: &str, columns: &[String]) -> String {
        let label = match kind {
            ImplicitName::PrimaryKey => return format!("{table}_pkey"),
            ImplicitName::Unique => "key",
            ImplicitName::Check => "check",
            ImplicitName::ForeignKey => "fkey",
            ImplicitName::Index => "idx",
            ImplicitName::Exclusion => "excl",
        };
        if columns.is_empty() || (kind == ImplicitName::Check && columns.len() > 1) {
            format!("{table}_{label}")
        } else {
            format!("{table}_{}_{label}", columns.join("_"))
        }
    }
    fn plan(&self, _: &Schema, _: &Schema, _: &[Change]) -> Result<Plan, PlanError> {
        Ok(Plan::default())
    }
    fn render_schema(&self, _: &Schema) -> Vec<(String, String)> {
        Vec::new()
    }
}
