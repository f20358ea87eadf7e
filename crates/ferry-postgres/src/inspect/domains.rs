//! Domains: pg_type rows of typtype 'd' and their pg_constraint checks.

use std::collections::BTreeMap;

use ferry_core::{CheckConstraint, DbError, Domain, QualifiedName, Schema};
use postgres::GenericClient;

use super::{collation_name, column_type, expr, get, not_extension_member, query, SCHEMA_FILTER};

/// Reads every domain outside system schemas and extensions. The base type is spelt the
/// way a column's type is (`format_type` for built-in types, `schema.name` otherwise); the
/// collation only when it is not the base type's own; default and checks through
/// `pg_get_expr`, compared by expression key like a table's.
pub(super) fn read_domains(
    client: &mut impl GenericClient,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT t.oid, n.nspname::text, t.typname::text, \
           format_type(t.typbasetype, t.typtypmod), \
           (bt.typelem <> 0 AND bt.typlen = -1) AS is_array, \
           en.nspname::text, et.typname::text, t.typtypmod, \
           t.typnotnull, pg_get_expr(t.typdefaultbin, 0), \
           CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation \
                THEN co.collname::text END, \
           con.nspname::text, \
           obj_description(t.oid, 'pg_type') \
         FROM pg_type t \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_type bt ON bt.oid = t.typbasetype \
         JOIN pg_type et ON et.oid = CASE WHEN bt.typelem <> 0 AND bt.typlen = -1 \
                                          THEN bt.typelem ELSE bt.oid END \
         JOIN pg_namespace en ON en.oid = et.typnamespace \
         LEFT JOIN pg_collation co ON co.oid = t.typcollation \
         LEFT JOIN pg_namespace con ON con.oid = co.collnamespace \
         WHERE t.typtype = 'd' AND {SCHEMA_FILTER} AND {} \
         ORDER BY 1",
        not_extension_member("pg_type", "t.oid")
    );
    let mut by_oid: BTreeMap<u32, Domain> = BTreeMap::new();
    for row in query(client, &sql, "domains")? {
        let oid: u32 = get(&row, 0)?;
        let name = QualifiedName::new(get::<String>(&row, 1)?, get::<String>(&row, 2)?);
        let formatted: String = get(&row, 3)?;
        let is_array: bool = get(&row, 4)?;
        let base_schema: String = get(&row, 5)?;
        let base_name: String = get(&row, 6)?;
        let typmod: i32 = get(&row, 7)?;
        let mut d = Domain::new(
            name,
            column_type(&formatted, is_array, &base_schema, &base_name, typmod),
        );
        d.not_null = get(&row, 8)?;
        let default: Option<String> = get(&row, 9)?;
        d.default = default.as_deref().map(expr);
        let collation: Option<String> = get(&row, 10)?;
        let collation_schema: Option<String> = get(&row, 11)?;
        d.collation = collation.map(|c| collation_name(collation_schema.as_deref(), &c));
        d.comment = get(&row, 12)?;
        by_oid.insert(oid, d);
    }
    // NOT NULL is typnotnull (PostgreSQL 17 also keeps it as a constraint, skipped here).
    let sql = format!(
        "SELECT co.contypid, co.conname::text, pg_get_expr(co.conbin, 0), \
           obj_description(co.oid, 'pg_constraint') \
         FROM pg_constraint co \
         JOIN pg_type t ON t.oid = co.contypid \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE co.contype = 'c' AND t.typtype = 'd' AND {SCHEMA_FILTER} \
         ORDER BY co.contypid, co.conname"
    );
    for row in query(client, &sql, "domain constraints")? {
        let oid: u32 = get(&row, 0)?;
        let Some(d) = by_oid.get_mut(&oid) else {
            continue;
        };
        let text: Option<String> = get(&row, 2)?;
        d.checks.push(CheckConstraint {
            name: get(&row, 1)?,
            expr: expr(text.as_deref().unwrap_or("")),
            no_inherit: false,
            comment: get(&row, 3)?,
        });
    }
    for (_, mut d) in by_oid {
        d.checks.sort_by(|a, b| a.name.cmp(&b.name));
        schema.domains.insert(d.name.clone(), d);
    }
    Ok(())
}
