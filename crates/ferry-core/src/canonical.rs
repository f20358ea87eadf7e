//! Canonical form through a dev database (Atlas's dev-url, Prisma's shadow database).
//!
//! PostgreSQL rewrites what it stores (view queries, defaults, check and policy expressions),
//! and offline normalisation cannot follow every rewrite. Creating a schema in an empty
//! throwaway database and inspecting it back gives the server's own form, so a schema read
//! from files compares equal to a database built from them, whatever the spelling.

use crate::diff::{diff, Renames};
use crate::{Database, DbError, DbErrorKind, Schema};

/// `schema` as the server behind `dev` stores it: created in `dev` (which must be empty and
/// is left holding the schema) and inspected back. What inspection cannot see is carried
/// over: statements ferry does not model (reported by the caller, not run here) and
/// `@renamed` hints.
pub fn canonicalize(dev: &mut dyn Database, schema: &Schema) -> Result<Schema, DbError> {
    let empty = Schema::default();
    let changes = diff(&empty, schema, &Renames::default());
    let plan = dev
        .dialect()
        .plan(&empty, schema, &changes)
        .map_err(|e| DbError::new(DbErrorKind::Apply, e.0))?;
    dev.apply(&plan)?;
    let mut canonical = dev.inspect()?;
    canonical.opaque = schema.opaque.clone();
    canonical.rename_hints = schema.rename_hints.clone();
    Ok(canonical)
}
