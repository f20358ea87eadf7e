//! Functions, procedures and triggers: the server's own definitions (`pg_get_functiondef`,
//! `pg_get_triggerdef`) read back through the loader that reads schema files, so both
//! sides store the same canonical values.
//!
//! Not read: aggregates and window functions (`prokind` `a`, `w`), objects that belong to
//! an extension, internal triggers (foreign keys' own), and triggers cloned onto partitions.

use ferry_core::{DbError, OpaqueStatement, Schema, TriggerEnabled};
use postgres::GenericClient;

use super::{get, not_extension_member, query, SCHEMA_FILTER};
use crate::POSTGRES;

pub(super) fn read_functions(
    client: &mut impl GenericClient,
    version: i32,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), \
           obj_description(p.oid, 'pg_proc'), {} \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prokind IN ('f', 'p') AND {SCHEMA_FILTER} AND {} \
         ORDER BY n.nspname, p.proname, p.oid",
        super::grants::acl_items_sql("p.proacl", 'f', "p.proowner"),
        not_extension_member("pg_proc", "p.oid")
    );
    for row in query(client, &sql, "functions")? {
        let what: String = get(&row, 0)?;
        let def: String = get(&row, 1)?;
        let comment: Option<String> = get(&row, 2)?;
        let grants = super::grants::parse_acl(&get::<Vec<String>>(&row, 3)?);
        let mut parsed = parse(&format!("function {what}"), &def);
        if !parsed.opaque.is_empty() {
            schema.opaque.append(&mut parsed.opaque);
            continue;
        }
        for (id, mut f) in parsed.functions {
            f.comment = comment.clone();
            f.grants = grants.clone();
            schema.functions.insert(id, f);
        }
    }

    let partition_clone = if version >= 130000 {
        "AND t.tgparentid = 0"
    } else {
        ""
    };
    let sql = format!(
        "SELECT t.tgname::text || ' on ' || c.oid::regclass::text, pg_get_triggerdef(t.oid), \
           obj_description(t.oid, 'pg_trigger'), t.tgenabled::text \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal {partition_clone} AND {SCHEMA_FILTER} AND {} AND {} \
         ORDER BY n.nspname, c.relname, t.tgname",
        not_extension_member("pg_class", "c.oid"),
        not_extension_member("pg_trigger", "t.oid")
    );
    for row in query(client, &sql, "triggers")? {
        let what: String = get(&row, 0)?;
        let def: String = get(&row, 1)?;
        let comment: Option<String> = get(&row, 2)?;
        let enabled = match get::<String>(&row, 3)?.as_str() {
            "D" => TriggerEnabled::Disabled,
            "R" => TriggerEnabled::Replica,
            "A" => TriggerEnabled::Always,
            _ => TriggerEnabled::Origin,
        };
        let mut parsed = parse(&format!("trigger {what}"), &def);
        if !parsed.opaque.is_empty() {
            schema.opaque.append(&mut parsed.opaque);
            continue;
        }
        for (key, mut t) in parsed.triggers {
            t.comment = comment.clone();
            t.enabled = enabled;
            schema.triggers.insert(key, t);
        }
    }
    Ok(())
}

/// One definition through the loader. A definition the loader cannot read does not stop
/// the inspection: it is kept as an opaque statement whose origin names the object and the
/// problem, and reported like any statement ferry does not model.
fn parse(what: &str, def: &str) -> Schema {
    match ferry_sql::load_str(def, what, &POSTGRES) {
        Ok(mut schema) => {
            for op in &mut schema.opaque {
                op.origin = format!("database ({what})");
            }
            schema
        }
        Err(e) => {
            let mut schema = Schema::default();
            schema.opaque.push(OpaqueStatement {
                sql: def.to_string(),
                origin: format!("database ({what}, not understood: {e})"),
            });
            schema
        }
    }
}
