//! Privileges: `aclexplode` of the ACLs of relations, columns, schemas, types and
//! functions. The owner's own privileges are implicit and left out, like an object nobody
//! granted anything on; so is what PUBLIC holds on the `public` schema, which differs
//! between server versions. A type's or function's NULL ACL is its default
//! (`acldefault`): PUBLIC's USAGE or EXECUTE, as the model keeps it.

use ferry_core::{DefaultObjectType, DefaultPrivilegeKey, Grant, Grants};

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
    read_type_grants(client, schema)?;
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

/// `pg_default_acl`: default privileges, the creating role's own left out. The connecting
/// role's entries are `for_role: None`, as a statement without `FOR ROLE` writes them.
/// Entries in system schemas and object types ferry does not model are left out.
pub(super) fn read_default_privileges(
    client: &mut impl GenericClient,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT CASE WHEN d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
           THEN NULL ELSE pg_get_userbyid(d.defaclrole)::text END, \
           n.nspname::text, d.defaclobjtype::text, {} \
         FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
         WHERE d.defaclnamespace = 0 OR ({SCHEMA_FILTER})",
        acl_items_sql("d.defaclacl", 'r', "d.defaclrole"),
    );
    for row in query(client, &sql, "default privileges")? {
        let Some(object_type) = DefaultObjectType::from_catalog(&get::<String>(&row, 2)?) else {
            continue;
        };
        let key = DefaultPrivilegeKey {
            for_role: get(&row, 0)?,
            schema: get(&row, 1)?,
            object_type,
        };
        let grants = parse_acl(&get::<Vec<String>>(&row, 3)?);
        schema.set_default_privileges(key, grants);
    }
    Ok(())
}

/// SQL for the privileges in `acl` (of an object owned by `owner`, its default for
/// `acldefault(kind, ...)` when NULL), the owner's left out, as a `text[]` of
/// `grantee/privilege/grantable` items for [`parse_acl`].
pub(super) fn acl_items_sql(acl: &str, kind: char, owner: &str) -> String {
    format!(
        "ARRAY(SELECT {GRANTEE} || '/' || a.privilege_type || '/' || a.is_grantable::text \
         FROM aclexplode(coalesce({acl}, acldefault('{kind}', {owner}))) a \
         WHERE a.grantee <> {owner} ORDER BY 1)"
    )
}

/// The grants of [`acl_items_sql`]'s items.
pub(super) fn parse_acl(items: &[String]) -> Grants {
    items
        .iter()
        .filter_map(|item| {
            // The grantee may contain `/`; the privilege and the flag do not.
            let mut parts = item.rsplitn(3, '/');
            let grantable = parts.next()? == "true";
            let privilege = parts.next()?.to_string();
            let grantee = parts.next()?.to_string();
            Some(Grant {
                grantee,
                privilege,
                grantable,
            })
        })
        .collect()
}

/// USAGE on enums, domains and composite types.
fn read_type_grants(client: &mut impl GenericClient, schema: &mut Schema) -> Result<(), DbError> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, {} \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype IN ('e', 'd', 'c') AND {SCHEMA_FILTER} AND {}",
        acl_items_sql("t.typacl", 'T', "t.typowner"),
        not_extension_member("pg_type", "t.oid"),
    );
    for row in query(client, &sql, "type privileges")? {
        let name = QualifiedName::new(get::<String>(&row, 0)?, get::<String>(&row, 1)?);
        let grants = parse_acl(&get::<Vec<String>>(&row, 2)?);
        if let Some(e) = schema.enums.get_mut(&name) {
            e.grants = grants;
        } else if let Some(d) = schema.domains.get_mut(&name) {
            d.grants = grants;
        } else if let Some(c) = schema.composite_types.get_mut(&name) {
            c.grants = grants;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_items_parse_with_slashes_in_names() {
        let items = vec![
            "PUBLIC/EXECUTE/false".to_string(),
            "a/b/USAGE/true".to_string(),
        ];
        let g = parse_acl(&items);
        assert!(g.contains(&Grant {
            grantee: "a/b".into(),
            privilege: "USAGE".into(),
            grantable: true
        }));
        assert!(g.contains(&Grant {
            grantee: "PUBLIC".into(),
            privilege: "EXECUTE".into(),
            grantable: false
        }));
        assert_eq!(g.len(), 2);
    }
}
