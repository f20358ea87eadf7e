//! Privileges: `aclexplode` of the ACLs of relations, columns and schemas. The owner's own
//! privileges are implicit and left out, like an object nobody granted anything on; so is
//! what PUBLIC holds on the `public` schema, which differs between server versions.

use ferry_core::Grant;

use super::*;

/// The grantee's name, `PUBLIC` for oid 0.
const GRANTEE: &str =
    "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END";

pub(super) fn read_grants(
    client: &mut impl GenericClient,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, NULL::text, {GRANTEE}, a.privilege_type, a.is_grantable \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {SCHEMA_FILTER} AND a.grantee <> c.relowner \
           AND {} \
         UNION ALL \
         SELECT n.nspname::text, c.relname::text, att.attname::text, {GRANTEE}, a.privilege_type, a.is_grantable \
         FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a \
         WHERE c.relkind IN ('r', 'p') AND att.attnum > 0 AND NOT att.attisdropped \
           AND {SCHEMA_FILTER} AND a.grantee <> c.relowner AND {} \
         UNION ALL \
         SELECT n.nspname::text, NULL, NULL, {GRANTEE}, a.privilege_type, a.is_grantable \
         FROM pg_namespace n, aclexplode(n.nspacl) a \
         WHERE {SCHEMA_FILTER} AND a.grantee <> n.nspowner \
           AND NOT (n.nspname = 'public' AND a.grantee = 0) AND {}",
        not_extension_member("pg_class", "c.oid"),
        not_extension_member("pg_class", "c.oid"),
        not_extension_member("pg_namespace", "n.oid"),
    );
    for row in query(client, &sql, "privileges")? {
        let namespace: String = get(&row, 0)?;
        let relation: Option<String> = get(&row, 1)?;
        let column: Option<String> = get(&row, 2)?;
        let grant = Grant {
            grantee: get(&row, 3)?,
            privilege: get(&row, 4)?,
            grantable: get(&row, 5)?,
        };
        let Some(relation) = relation else {
            schema
                .namespace_grants
                .entry(namespace)
                .or_default()
                .insert(grant);
            continue;
        };
        let name = QualifiedName::new(namespace, relation);
        let grants = if let Some(t) = schema.tables.get_mut(&name) {
            match column {
                Some(c) => t.column_mut(&c).map(|c| &mut c.grants),
                None => Some(&mut t.grants),
            }
        } else if let Some(v) = schema.views.get_mut(&name) {
            Some(&mut v.grants)
        } else {
            schema.sequences.get_mut(&name).map(|s| &mut s.grants)
        };
        // Relations ferry does not model (foreign tables, partitions it skips) are left out.
        if let Some(grants) = grants {
            grants.insert(grant);
        }
    }
    Ok(())
}
