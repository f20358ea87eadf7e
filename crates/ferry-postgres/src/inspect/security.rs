//! Row level security and policies, extensions and composite types.

use ferry_core::{CompositeAttribute, CompositeType, Extension, Policy, PolicyCommand};

use super::*;

/// `relrowsecurity` / `relforcerowsecurity` and the policies (pg_policy) of `tables`.
pub(super) fn read_policies(
    client: &mut impl GenericClient,
    tables: &mut Tables,
) -> Result<(), DbError> {
    let sql = "SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c \
               WHERE c.relrowsecurity OR c.relforcerowsecurity";
    for row in query(client, sql, "row level security")? {
        let oid: u32 = get(&row, 0)?;
        if let Some(t) = tables.get_mut(&oid) {
            t.row_security = get(&row, 1)?;
            t.force_row_security = get(&row, 2)?;
        }
    }
    // polroles holds 0 for PUBLIC.
    let sql = "SELECT p.polrelid, p.polname::text, p.polpermissive, p.polcmd::text, \
                 ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END \
                       FROM unnest(p.polroles) r), \
                 pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), \
                 obj_description(p.oid, 'pg_policy') \
               FROM pg_policy p ORDER BY p.polrelid, p.polname";
    for row in query(client, sql, "policies")? {
        let oid: u32 = get(&row, 0)?;
        let Some(t) = tables.get_mut(&oid) else {
            continue;
        };
        let mut policy = Policy::new(get::<String>(&row, 1)?);
        policy.permissive = get(&row, 2)?;
        policy.command = match get::<String>(&row, 3)?.as_str() {
            "r" => PolicyCommand::Select,
            "a" => PolicyCommand::Insert,
            "w" => PolicyCommand::Update,
            "d" => PolicyCommand::Delete,
            _ => PolicyCommand::All,
        };
        let mut roles: Vec<String> = get(&row, 4)?;
        roles.sort();
        roles.dedup();
        policy.roles = roles;
        policy.using = get::<Option<String>>(&row, 5)?
            .as_deref()
            .map(ferry_sql::expr_with_queries);
        policy.with_check = get::<Option<String>>(&row, 6)?
            .as_deref()
            .map(ferry_sql::expr_with_queries);
        policy.comment = get(&row, 7)?;
        t.policies.push(policy);
    }
    for t in tables.values_mut() {
        t.policies.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(())
}

/// Installed extensions but `plpgsql`. The schema is left out when it is `public` or the
/// only one the extension can live in (its control file's `schema`).
pub(super) fn read_extensions(
    client: &mut impl GenericClient,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let sql = "SELECT e.extname::text, n.nspname::text, obj_description(e.oid, 'pg_extension'), \
                 (SELECT a.schema::text FROM pg_available_extension_versions a \
                  WHERE a.name = e.extname AND a.version = e.extversion LIMIT 1), \
                 (SELECT a.comment FROM pg_available_extensions a WHERE a.name = e.extname) \
               FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
               WHERE e.extname <> 'plpgsql' ORDER BY 1";
    for row in query(client, sql, "extensions")? {
        let name: String = get(&row, 0)?;
        let ns: String = get(&row, 1)?;
        let fixed: Option<String> = get(&row, 3)?;
        let default = ns == "public" || fixed.as_deref() == Some(ns.as_str());
        // The comment CREATE EXTENSION sets from the control file is not the user's.
        let comment: Option<String> = get(&row, 2)?;
        let control_comment: Option<String> = get(&row, 4)?;
        schema.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: (!default).then_some(ns),
                comment: comment.filter(|c| Some(c) != control_comment.as_ref()),
            },
        );
    }
    Ok(())
}

/// Composite types made by `CREATE TYPE name AS (...)` (not a table's row type).
pub(super) fn read_composite_types(
    client: &mut impl GenericClient,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT t.typrelid, n.nspname::text, t.typname::text, obj_description(t.oid, 'pg_type') \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_class c ON c.oid = t.typrelid \
         WHERE t.typtype = 'c' AND c.relkind = 'c' AND {SCHEMA_FILTER} AND {} \
         ORDER BY 1",
        not_extension_member("pg_type", "t.oid")
    );
    let mut types: BTreeMap<u32, CompositeType> = BTreeMap::new();
    for row in query(client, &sql, "composite types")? {
        let oid: u32 = get(&row, 0)?;
        types.insert(
            oid,
            CompositeType {
                name: QualifiedName::new(get::<String>(&row, 1)?, get::<String>(&row, 2)?),
                attributes: Vec::new(),
                comment: get(&row, 3)?,
                // Read with the other privileges (`grants.rs`).
                grants: ferry_core::type_default_grants(),
            },
        );
    }
    if types.is_empty() {
        return Ok(());
    }
    let sql = "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
           (t.typelem <> 0 AND t.typlen = -1) AS is_array, \
           bn.nspname::text, bt.typname::text, a.atttypmod, \
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
                THEN co.collname::text END, \
           con.nspname::text \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_type t ON t.oid = a.atttypid \
         JOIN pg_type bt ON bt.oid = CASE WHEN t.typelem <> 0 AND t.typlen = -1 \
                                          THEN t.typelem ELSE t.oid END \
         JOIN pg_namespace bn ON bn.oid = bt.typnamespace \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_namespace con ON con.oid = co.collnamespace \
         WHERE c.relkind = 'c' AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum";
    for row in query(client, sql, "composite type attributes")? {
        let oid: u32 = get(&row, 0)?;
        let Some(ty) = types.get_mut(&oid) else {
            continue;
        };
        let formatted: String = get(&row, 2)?;
        let base_schema: String = get(&row, 4)?;
        let base_name: String = get(&row, 5)?;
        let collation: Option<String> = get(&row, 7)?;
        let collation_schema: Option<String> = get(&row, 8)?;
        ty.attributes.push(CompositeAttribute {
            name: get(&row, 1)?,
            data_type: column_type(
                &formatted,
                get(&row, 3)?,
                &base_schema,
                &base_name,
                get(&row, 6)?,
            ),
            collation: collation.map(|c| collation_name(collation_schema.as_deref(), &c)),
        });
    }
    for ty in types.into_values() {
        schema.composite_types.insert(ty.name.clone(), ty);
    }
    Ok(())
}
