//! Reads a live database into the model with a fixed handful of catalog queries (never one
//! per table), assembled in Rust in a deterministic order.

use std::collections::BTreeMap;

use ferry_core::{
    CheckConstraint, Column, DbError, DbErrorKind, Deferrable, DialectKind, EnumType, ForeignKey,
    Generated, Identity, Index, IndexKey, IndexTarget, MatchType, PrimaryKey, QualifiedName,
    ReferentialAction, Schema, Sequence, SequenceOptions, StorageParams, Table, UniqueConstraint,
    View,
};
use postgres::types::FromSql;
use postgres::{GenericClient, Row};

use crate::dialect::quote_ident;

mod domains;
mod functions;
mod grants;
mod security;

/// Schemas that are never user schema: system ones and ferry's own bookkeeping.
const SCHEMA_FILTER: &str =
    "n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'ferry')";

/// Reads the whole schema. Expects `search_path` to be `public` so that expressions print
/// names as the schema files write them.
pub(crate) fn inspect(client: &mut impl GenericClient) -> Result<Schema, DbError> {
    let version: i32 = {
        let row = query_one(client, "SELECT current_setting('server_version_num')::int4")?;
        get(&row, 0)?
    };
    if version < 120000 {
        return Err(DbError::new(
            DbErrorKind::Inspect,
            format!(
                "PostgreSQL {} is not supported; ferry needs 12 or later",
                version / 10000
            ),
        ));
    }
    let mut schema = Schema::default();
    read_namespaces(client, &mut schema)?;
    security::read_extensions(client, &mut schema)?;
    read_enums(client, &mut schema)?;
    domains::read_domains(client, &mut schema)?;
    security::read_composite_types(client, &mut schema)?;
    read_sequences(client, &mut schema)?;
    let mut tables = read_tables(client)?;
    read_columns(client, &mut tables)?;
    read_constraints(client, version, &mut tables)?;
    security::read_policies(client, &mut tables)?;
    let mut views = read_views(client)?;
    read_view_dependencies(client, &mut views)?;
    read_view_column_comments(client, &mut views)?;
    read_indexes(client, version, &mut tables, &mut views)?;
    for (_, mut view) in views {
        view.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        schema.views.insert(view.name.clone(), view);
    }
    for (_, mut table) in tables {
        table.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        table.exclusions.sort_by(|a, b| a.name.cmp(&b.name));
        table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        schema.tables.insert(table.name.clone(), table);
    }
    grants::read_grants(client, &mut schema)?;
    grants::read_default_privileges(client, &mut schema)?;
    functions::read_functions(client, version, &mut schema)?;
    // Keys, outputs and references, computed the way loading computes them.
    ferry_sql::resolve_views(&mut schema);
    Ok(schema)
}

fn inspect_error(e: postgres::Error, what: &str) -> DbError {
    DbError::new(
        DbErrorKind::Inspect,
        format!("reading {what} failed: {}", crate::database::pg_message(&e)),
    )
}

fn query(client: &mut impl GenericClient, sql: &str, what: &str) -> Result<Vec<Row>, DbError> {
    client.query(sql, &[]).map_err(|e| inspect_error(e, what))
}

fn query_one(client: &mut impl GenericClient, sql: &str) -> Result<Row, DbError> {
    client
        .query_one(sql, &[])
        .map_err(|e| inspect_error(e, "the server version"))
}

/// A column of a catalog row; a type mismatch is reported, never a panic.
fn get<'r, T: FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T, DbError> {
    row.try_get(idx).map_err(|e| {
        DbError::new(
            DbErrorKind::Inspect,
            format!("unexpected catalog value in column {idx}: {e}"),
        )
    })
}

fn expr(sql: &str) -> ferry_core::Expr {
    ferry_sql::expr(sql, DialectKind::Postgres)
}

/// `NOT EXISTS` clause excluding objects that belong to an extension.
fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend ext WHERE ext.classid = '{catalog}'::regclass \
         AND ext.objid = {oid} AND ext.deptype = 'e')"
    )
}

fn read_namespaces(client: &mut impl GenericClient, schema: &mut Schema) -> Result<(), DbError> {
    let sql = format!(
        "SELECT n.nspname::text, obj_description(n.oid, 'pg_namespace') FROM pg_namespace n \
         WHERE {SCHEMA_FILTER} AND {} \
         ORDER BY 1",
        not_extension_member("pg_namespace", "n.oid")
    );
    for row in query(client, &sql, "schemas")? {
        let name: String = get(&row, 0)?;
        schema.set_namespace_comment(&name, get(&row, 1)?);
        if name != "public" {
            schema.namespaces.insert(name);
        }
    }
    Ok(())
}

fn read_enums(client: &mut impl GenericClient, schema: &mut Schema) -> Result<(), DbError> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, \
           array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                 ORDER BY e.enumsortorder) AS labels, \
           obj_description(t.oid, 'pg_type') \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype = 'e' AND {SCHEMA_FILTER} AND {} \
         ORDER BY 1, 2",
        not_extension_member("pg_type", "t.oid")
    );
    for row in query(client, &sql, "enum types")? {
        let name = QualifiedName::new(get::<String>(&row, 0)?, get::<String>(&row, 1)?);
        schema.enums.insert(
            name.clone(),
            EnumType {
                name,
                values: get(&row, 2)?,
                comment: get(&row, 3)?,
                // Read with the other privileges (`grants.rs`).
                grants: ferry_core::type_default_grants(),
            },
        );
    }
    Ok(())
}

/// Raw sequence settings, as pg_sequence stores them.
struct SeqRow {
    data_type: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
}

impl SeqRow {
    /// The model's options: every value equal to PostgreSQL's default becomes `None`.
    fn options(&self) -> SequenceOptions {
        SequenceOptions {
            start: Some(self.start),
            increment: Some(self.increment),
            min_value: Some(self.min),
            max_value: Some(self.max),
            cache: Some(self.cache),
            cycle: self.cycle,
        }
        .without_defaults(&self.data_type)
    }
}

fn read_sequences(client: &mut impl GenericClient, schema: &mut Schema) -> Result<(), DbError> {
    // Owned-by is an automatic ('a') dependency on a table column; identity sequences
    // have an internal ('i') one and belong to their column instead.
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), \
           s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
           own.nspname, own.relname, own.attname, \
           obj_description(c.oid, 'pg_class') \
         FROM pg_sequence s \
         JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN LATERAL ( \
           SELECT own_n.nspname::text AS nspname, own_c.relname::text AS relname, \
                  own_a.attname::text AS attname \
           FROM pg_depend d \
           JOIN pg_class own_c ON own_c.oid = d.refobjid \
           JOIN pg_namespace own_n ON own_n.oid = own_c.relnamespace \
           JOIN pg_attribute own_a ON own_a.attrelid = d.refobjid AND own_a.attnum = d.refobjsubid \
           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
             AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND d.refobjsubid > 0 \
           LIMIT 1) own ON true \
         WHERE {SCHEMA_FILTER} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_class'::regclass \
                           AND i.objid = c.oid AND i.deptype IN ('i', 'e')) \
         ORDER BY 1, 2"
    );
    for row in query(client, &sql, "sequences")? {
        let name = QualifiedName::new(get::<String>(&row, 0)?, get::<String>(&row, 1)?);
        let raw = SeqRow {
            data_type: get(&row, 2)?,
            start: get(&row, 3)?,
            increment: get(&row, 4)?,
            min: get(&row, 5)?,
            max: get(&row, 6)?,
            cache: get(&row, 7)?,
            cycle: get(&row, 8)?,
        };
        let owner_schema: Option<String> = get(&row, 9)?;
        let owner_table: Option<String> = get(&row, 10)?;
        let owner_column: Option<String> = get(&row, 11)?;
        let owned_by = match (owner_schema, owner_table, owner_column) {
            (Some(s), Some(t), Some(c)) => Some((QualifiedName::new(s, t), c)),
            _ => None,
        };
        schema.sequences.insert(
            name.clone(),
            Sequence {
                name,
                options: raw.options(),
                data_type: (raw.data_type != "bigint").then(|| raw.data_type.clone()),
                owned_by,
                comment: get(&row, 12)?,
                grants: Default::default(),
            },
        );
    }
    Ok(())
}

/// Tables by oid, so that columns, constraints and indexes can find theirs.
type Tables = BTreeMap<u32, Table>;

/// Ordinary and partitioned tables and partitions. Inheritance children (`INHERITS`) are
/// not modelled (the loader keeps their DDL as opaque statements), so inspection leaves
/// them out too: otherwise every diff would propose to drop them.
const TABLE_FILTER: &str = "c.relkind IN ('r', 'p') \
    AND (c.relispartition OR NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))";

fn read_tables(client: &mut impl GenericClient) -> Result<Tables, DbError> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class'), \
           CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
           pn.nspname::text, pc.relname::text, pg_get_expr(c.relpartbound, c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_inherits pi ON c.relispartition AND pi.inhrelid = c.oid \
         LEFT JOIN pg_class pc ON pc.oid = pi.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
         WHERE {TABLE_FILTER} AND {SCHEMA_FILTER} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let mut tables = Tables::new();
    for row in query(client, &sql, "tables")? {
        let oid: u32 = get(&row, 0)?;
        let mut table = Table::new(QualifiedName::new(
            get::<String>(&row, 1)?,
            get::<String>(&row, 2)?,
        ));
        table.comment = get(&row, 3)?;
        crate::partition::read_partitioning(
            &mut table,
            get(&row, 4)?,
            get(&row, 5)?,
            get(&row, 6)?,
            get(&row, 7)?,
        )?;
        tables.insert(oid, table);
    }
    Ok(tables)
}

/// Views and materialized views by oid: the server's text of the query (pretty-printed,
/// names relative to the `public` search path), options and comment.
fn read_views(client: &mut impl GenericClient) -> Result<BTreeMap<u32, View>, DbError> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind = 'm', \
           pg_get_viewdef(c.oid, true), COALESCE(c.reloptions::text[], '{{}}'), \
           obj_description(c.oid, 'pg_class') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND {SCHEMA_FILTER} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let mut views = BTreeMap::new();
    for row in query(client, &sql, "views")? {
        let oid: u32 = get(&row, 0)?;
        let name = QualifiedName::new(get::<String>(&row, 1)?, get::<String>(&row, 2)?);
        let text: Option<String> = get(&row, 4)?;
        let text = text.unwrap_or_default();
        let text = text.trim().trim_end_matches(';').trim_end().to_string();
        let mut view = View::new(
            name,
            ferry_core::Expr {
                sql: text,
                // Filled in by `resolve_views`, as when loading.
                key: String::new(),
            },
        );
        view.materialized = get(&row, 3)?;
        let mut options: Vec<String> = get(&row, 5)?;
        options.sort();
        view.options = options;
        view.comment = get(&row, 6)?;
        views.insert(oid, view);
    }
    Ok(views)
}

/// Comments on the columns of views and materialized views.
fn read_view_column_comments(
    client: &mut impl GenericClient,
    views: &mut BTreeMap<u32, View>,
) -> Result<(), DbError> {
    // From pg_description outwards: col_description() per column would read every view's.
    let sql = "SELECT d.objoid, a.attname::text, d.description \
         FROM pg_description d \
         JOIN pg_class c ON c.oid = d.objoid \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid \
         WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0 AND c.relkind IN ('v', 'm')";
    for row in query(client, sql, "comments on view columns")? {
        if let Some(view) = views.get_mut(&get::<u32>(&row, 0)?) {
            view.column_comments.insert(get(&row, 1)?, get(&row, 2)?);
        }
    }
    Ok(())
}

/// What each view depends on according to the server (`pg_depend` through the view's
/// rewrite rule): the tables and views it reads, and the user functions it calls, also
/// through an operator (which no scan of the text sees).
fn read_view_dependencies(
    client: &mut impl GenericClient,
    views: &mut BTreeMap<u32, View>,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT DISTINCT r.ev_class, p.oid IS NOT NULL, n.nspname::text, \
           COALESCE(c.relname, p.proname)::text \
         FROM pg_rewrite r \
         JOIN pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm') \
         JOIN pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname NOT LIKE 'pg\\_%' \
           AND vn.nspname <> 'information_schema' \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
         LEFT JOIN pg_class c ON d.refclassid = 'pg_class'::regclass AND c.oid = d.refobjid \
         LEFT JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass \
           AND o.oid = d.refobjid \
         LEFT JOIN pg_proc p ON p.oid = CASE WHEN d.refclassid = 'pg_proc'::regclass \
           THEN d.refobjid ELSE o.oprcode::oid END \
         JOIN pg_namespace n ON n.oid = COALESCE(c.relnamespace, p.pronamespace) \
         WHERE d.deptype = 'n' AND d.refobjid <> r.ev_class AND {SCHEMA_FILTER}"
    );
    for row in query(client, &sql, "view dependencies")? {
        let Some(view) = views.get_mut(&get::<u32>(&row, 0)?) else {
            continue;
        };
        let name = QualifiedName::new(get::<String>(&row, 2)?, get::<String>(&row, 3)?);
        if get::<bool>(&row, 1)? {
            view.calls.insert(name);
        } else {
            view.references.insert(name);
        }
    }
    Ok(())
}

fn read_columns(client: &mut impl GenericClient, tables: &mut Tables) -> Result<(), DbError> {
    // The element type of an array is the type whose namespace decides built-in or not.
    let sql = format!(
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
           (t.typelem <> 0 AND t.typlen = -1) AS is_array, \
           bn.nspname::text, bt.typname::text, a.atttypmod, \
           a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid, true), \
           a.attidentity::text, a.attgenerated::text, \
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
                THEN co.collname::text END, \
           con.nspname::text, \
           col_description(a.attrelid, a.attnum), \
           ids.typ, ids.seqstart, ids.seqincrement, ids.seqmin, ids.seqmax, ids.seqcache, \
           ids.seqcycle \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type t ON t.oid = a.atttypid \
         JOIN pg_type bt ON bt.oid = CASE WHEN t.typelem <> 0 AND t.typlen = -1 \
                                          THEN t.typelem ELSE t.oid END \
         JOIN pg_namespace bn ON bn.oid = bt.typnamespace \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_namespace con ON con.oid = co.collnamespace \
         LEFT JOIN LATERAL ( \
           SELECT format_type(s.seqtypid, NULL) AS typ, s.seqstart, s.seqincrement, s.seqmin, \
                  s.seqmax, s.seqcache, s.seqcycle \
           FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid \
           WHERE a.attidentity <> '' AND d.classid = 'pg_class'::regclass \
             AND d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid \
             AND d.refobjsubid = a.attnum AND d.deptype = 'i' \
           LIMIT 1) ids ON true \
         WHERE {TABLE_FILTER} AND {SCHEMA_FILTER} AND a.attnum > 0 AND NOT a.attisdropped \
           AND NOT c.relispartition AND {} \
         ORDER BY a.attrelid, a.attnum",
        not_extension_member("pg_class", "c.oid")
    );
    for row in query(client, &sql, "columns")? {
        let oid: u32 = get(&row, 0)?;
        let Some(table) = tables.get_mut(&oid) else {
            continue;
        };
        let name: String = get(&row, 1)?;
        let formatted: String = get(&row, 2)?;
        let is_array: bool = get(&row, 3)?;
        let base_schema: String = get(&row, 4)?;
        let base_name: String = get(&row, 5)?;
        let typmod: i32 = get(&row, 6)?;
        let data_type = column_type(&formatted, is_array, &base_schema, &base_name, typmod);
        let mut col = Column::new(name, data_type);
        col.not_null = get(&row, 7)?;
        let default: Option<String> = get(&row, 8)?;
        let identity: String = get(&row, 9)?;
        let generated: String = get(&row, 10)?;
        let collation: Option<String> = get(&row, 11)?;
        let collation_schema: Option<String> = get(&row, 12)?;
        col.comment = get(&row, 13)?;
        match generated.as_str() {
            "s" | "v" => {
                col.generated = default.as_deref().map(|e| Generated {
                    expr: expr(e),
                    stored: generated == "s",
                });
            }
            _ => {
                col.default = default
                    .as_deref()
                    .and_then(|e| ferry_sql::column_default(e, DialectKind::Postgres))
            }
        }
        if identity == "a" || identity == "d" {
            let seq_type: Option<String> = get(&row, 14)?;
            let options = match seq_type {
                Some(data_type) => SeqRow {
                    data_type,
                    start: get(&row, 15)?,
                    increment: get(&row, 16)?,
                    min: get(&row, 17)?,
                    max: get(&row, 18)?,
                    cache: get(&row, 19)?,
                    cycle: get(&row, 20)?,
                }
                .options(),
                None => SequenceOptions::default(),
            };
            col.identity = Some(Identity {
                always: identity == "a",
                options,
            });
        }
        col.collation = collation.map(|c| collation_name(collation_schema.as_deref(), &c));
        table.columns.push(col);
    }
    Ok(())
}

/// The canonical type of a column: `format_type` for built-in types, `schema.name` (plus
/// the type modifier and `[]`) for everything else, whatever the search path.
fn column_type(formatted: &str, is_array: bool, schema: &str, name: &str, typmod: i32) -> String {
    if schema == "pg_catalog" {
        return formatted.to_string();
    }
    let mut out = format!("{}.{}", quote_ident(schema), quote_ident(name));
    if typmod >= 0 {
        // The modifier is the trailing parenthesised part of format_type's output.
        let body = formatted.strip_suffix("[]").unwrap_or(formatted);
        if body.ends_with(')') {
            if let Some(open) = body.rfind('(') {
                out.push_str(&body[open..]);
            }
        }
    }
    if is_array {
        out.push_str("[]");
    }
    out
}

/// Collation names as the loader stores them: bare for pg_catalog and public, else
/// `schema.name`.
fn collation_name(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) if s != "pg_catalog" && s != "public" => format!("{s}.{name}"),
        _ => name.to_string(),
    }
}

fn read_constraints(
    client: &mut impl GenericClient,
    version: i32,
    tables: &mut Tables,
) -> Result<(), DbError> {
    let nulls_not_distinct = if version >= 150000 {
        "COALESCE((SELECT i.indnullsnotdistinct FROM pg_index i WHERE i.indexrelid = co.conindid), false)"
    } else {
        "false"
    };
    // Constraints cloned onto partitions (conparentid <> 0) belong to their parent.
    let sql = format!(
        "SELECT co.conrelid, co.conname::text, co.contype::text, \
           array(SELECT a.attname::text FROM unnest(co.conkey) WITH ORDINALITY k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.num \
                 ORDER BY k.ord) AS cols, \
           CASE WHEN co.contype = 'c' THEN pg_get_expr(co.conbin, co.conrelid, true) END, \
           co.connoinherit, \
           rn.nspname::text, rc.relname::text, \
           array(SELECT a.attname::text FROM unnest(co.confkey) WITH ORDINALITY k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.num \
                 ORDER BY k.ord) AS ref_cols, \
           co.confupdtype::text, co.confdeltype::text, co.confmatchtype::text, \
           co.condeferrable, co.condeferred, \
           {nulls_not_distinct}, \
           obj_description(co.oid, 'pg_constraint'), \
           CASE WHEN co.contype = 'x' THEN pg_get_constraintdef(co.oid, true) END \
         FROM pg_constraint co \
         JOIN pg_class c ON c.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class rc ON rc.oid = co.confrelid \
         LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE co.contype IN ('p', 'u', 'c', 'f', 'x') AND co.conparentid = 0 AND co.conislocal \
           AND {TABLE_FILTER} AND {SCHEMA_FILTER} AND {} \
         ORDER BY co.conrelid, co.conname",
        not_extension_member("pg_class", "c.oid")
    );
    for row in query(client, &sql, "constraints")? {
        let oid: u32 = get(&row, 0)?;
        let Some(table) = tables.get_mut(&oid) else {
            continue;
        };
        let name: String = get(&row, 1)?;
        let kind: String = get(&row, 2)?;
        let columns: Vec<String> = get(&row, 3)?;
        let comment: Option<String> = get(&row, 15)?;
        let deferrable = match (get::<bool>(&row, 12)?, get::<bool>(&row, 13)?) {
            (false, _) => Deferrable::NotDeferrable,
            (true, false) => Deferrable::InitiallyImmediate,
            (true, true) => Deferrable::InitiallyDeferred,
        };
        match kind.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name,
                    columns,
                    autoincrement: false,
                    comment,
                })
            }
            "u" => table.uniques.push(UniqueConstraint {
                name,
                columns,
                nulls_not_distinct: get(&row, 14)?,
                deferrable,
                comment,
            }),
            "c" => {
                let text: Option<String> = get(&row, 4)?;
                table.checks.push(CheckConstraint {
                    name,
                    expr: expr(text.as_deref().unwrap_or("")),
                    no_inherit: get(&row, 5)?,
                    comment,
                });
            }
            "f" => {
                let ref_schema: Option<String> = get(&row, 6)?;
                let ref_table: Option<String> = get(&row, 7)?;
                let (Some(ref_schema), Some(ref_table)) = (ref_schema, ref_table) else {
                    continue;
                };
                table.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_table: QualifiedName::new(ref_schema, ref_table),
                    ref_columns: get(&row, 8)?,
                    on_update: action(&get::<String>(&row, 9)?),
                    on_delete: action(&get::<String>(&row, 10)?),
                    match_type: match get::<String>(&row, 11)?.as_str() {
                        "f" => MatchType::Full,
                        "p" => MatchType::Partial,
                        _ => MatchType::Simple,
                    },
                    deferrable,
                    comment,
                });
            }
            "x" => {
                // The definition goes through the loader's parser, so that files and the
                // database agree on every clause.
                let text: Option<String> = get(&row, 16)?;
                let text = text.unwrap_or_default();
                let mut x =
                    ferry_sql::exclusion_constraint(&text, &crate::POSTGRES).map_err(|e| {
                        DbError::new(
                            DbErrorKind::Inspect,
                            format!("reading exclusion constraint {name} of {}: {e}", table.name),
                        )
                    })?;
                x.name = name;
                x.comment = comment;
                table.exclusions.push(x);
            }
            _ => {}
        }
    }
    Ok(())
}

fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

fn read_indexes(
    client: &mut impl GenericClient,
    version: i32,
    tables: &mut Tables,
    views: &mut BTreeMap<u32, View>,
) -> Result<(), DbError> {
    let nulls_not_distinct = if version >= 150000 {
        "i.indnullsnotdistinct"
    } else {
        "false"
    };
    // Per key position k (1-based): the column name ('' for an expression), its text, the
    // operator class when not the default, the options bits and a non-default collation.
    let sql = format!(
        "SELECT i.indrelid, ic.relname::text, i.indisunique, am.amname::text, \
           i.indnkeyatts::int4, \
           array(SELECT COALESCE(a.attname::text, '') FROM generate_series(1, i.indnatts) k \
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] \
                   AND i.indkey[k - 1] <> 0 \
                 ORDER BY k) AS cols, \
           array(SELECT pg_get_indexdef(i.indexrelid, k, true) \
                 FROM generate_series(1, i.indnatts) k ORDER BY k) AS defs, \
           array(SELECT CASE WHEN opc.opcdefault THEN '' \
                        WHEN opn.nspname IN ('pg_catalog', 'public') THEN opc.opcname::text \
                        ELSE opn.nspname || '.' || opc.opcname END \
                 FROM generate_series(1, i.indnkeyatts) k \
                 JOIN pg_opclass opc ON opc.oid = i.indclass[k - 1] \
                 JOIN pg_namespace opn ON opn.oid = opc.opcnamespace \
                 ORDER BY k) AS opclasses, \
           array(SELECT i.indoption[k - 1]::int4 \
                 FROM generate_series(1, i.indnkeyatts) k ORDER BY k) AS options, \
           array(SELECT CASE \
                   WHEN i.indcollation[k - 1] = 0 THEN '' \
                   WHEN i.indkey[k - 1] <> 0 AND i.indcollation[k - 1] = a.attcollation THEN '' \
                   WHEN cn.nspname IN ('pg_catalog', 'public') THEN co.collname::text \
                   ELSE cn.nspname || '.' || co.collname END \
                 FROM generate_series(1, i.indnkeyatts) k \
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] \
                 LEFT JOIN pg_collation co ON co.oid = i.indcollation[k - 1] \
                 LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
                 ORDER BY k) AS collations, \
           pg_get_expr(i.indpred, i.indrelid, true), \
           {nulls_not_distinct}, \
           pg_get_indexdef(i.indexrelid, 0, true), \
           COALESCE(ic.reloptions::text[], '{{}}'), \
           obj_description(i.indexrelid, 'pg_class') \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = ic.relam \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE (({TABLE_FILTER}) OR c.relkind = 'm') AND {SCHEMA_FILTER} AND {} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                           AND k.contype IN ('p', 'u', 'x')) \
           AND NOT EXISTS (SELECT 1 FROM pg_inherits ii WHERE ii.inhrelid = i.indexrelid) \
         ORDER BY i.indrelid, ic.relname",
        not_extension_member("pg_class", "c.oid")
    );
    for row in query(client, &sql, "indexes")? {
        let oid: u32 = get(&row, 0)?;
        // A materialized view's index lands in its view, a table's in its table.
        let indexes = match tables.get_mut(&oid) {
            Some(table) => &mut table.indexes,
            None => match views.get_mut(&oid) {
                Some(view) => &mut view.indexes,
                None => continue,
            },
        };
        let key_count = usize::try_from(get::<i32>(&row, 4)?).unwrap_or(0);
        let cols: Vec<String> = get(&row, 5)?;
        let defs: Vec<String> = get(&row, 6)?;
        let opclasses: Vec<String> = get(&row, 7)?;
        let options: Vec<i32> = get(&row, 8)?;
        let collations: Vec<String> = get(&row, 9)?;
        let predicate: Option<String> = get(&row, 10)?;
        let full_def: String = get(&row, 12)?;
        let method: String = get(&row, 3)?;
        // Where the key list starts in the full definition; see `explicit_collation`.
        let mut cursor = full_def.find(&format!(" USING {method} (")).unwrap_or(0);
        let mut keys = Vec::new();
        let mut include = Vec::new();
        for (k, col) in cols.iter().enumerate() {
            if k >= key_count {
                include.push(col.clone());
                continue;
            }
            let target = if col.is_empty() {
                IndexTarget::Expr(expr(defs.get(k).map(String::as_str).unwrap_or("")))
            } else {
                IndexTarget::Column(col.clone())
            };
            let option = options.get(k).copied().unwrap_or(0);
            // indoption bit 0: DESC; bit 1: NULLS FIRST.
            let descending = option & 1 != 0;
            let nulls_first = option & 2 != 0;
            let mut key = IndexKey {
                target,
                collation: None,
                opclass: None,
                descending,
                nulls_first: (nulls_first != descending).then_some(nulls_first),
            };
            key.opclass = opclasses.get(k).filter(|o| !o.is_empty()).cloned();
            key.collation = collations.get(k).filter(|c| !c.is_empty()).cloned();
            let text = defs.get(k).map(String::as_str).unwrap_or("");
            let explicit = explicit_collation(&full_def, &mut cursor, text);
            if col.is_empty() && !explicit {
                // An expression's collation is the one it derives unless written out.
                key.collation = None;
            }
            keys.push(key);
        }
        indexes.push(Index {
            name: get(&row, 1)?,
            unique: get(&row, 2)?,
            method,
            keys,
            include,
            predicate: predicate.as_deref().map(expr),
            nulls_not_distinct: get(&row, 11)?,
            storage: StorageParams(get(&row, 13)?),
            comment: get(&row, 14)?,
        });
    }
    Ok(())
}

/// Whether the key printed as `key` is followed by a `COLLATE` clause in the full index
/// definition: `pg_get_indexdef` writes one only when the collation differs from the one
/// the expression derives. `cursor` moves past the key so keys are found in order.
fn explicit_collation(full: &str, cursor: &mut usize, key: &str) -> bool {
    let Some(rest) = full.get(*cursor..) else {
        return false;
    };
    let Some(pos) = rest.find(key) else {
        return false;
    };
    *cursor += pos + key.len();
    full.get(*cursor..)
        .is_some_and(|after| after.starts_with(" COLLATE "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_column_types_are_qualified() {
        assert_eq!(
            column_type("mood", false, "public", "mood", -1),
            "public.mood"
        );
        assert_eq!(
            column_type("mood[]", true, "public", "mood", -1),
            "public.mood[]"
        );
        assert_eq!(
            column_type(
                "\"My Schema\".\"Weird Type\"",
                false,
                "My Schema",
                "Weird Type",
                -1
            ),
            "\"My Schema\".\"Weird Type\""
        );
        assert_eq!(
            column_type("vector(3)", false, "public", "vector", 3),
            "public.vector(3)"
        );
        assert_eq!(
            column_type("character varying(10)[]", true, "pg_catalog", "varchar", 14),
            "character varying(10)[]"
        );
    }

    #[test]
    fn explicit_collations_are_found_in_order() {
        let full =
            "CREATE INDEX i ON public.t USING btree (lower(a) COLLATE \"C\", (b + 1), lower(a))";
        let mut cursor = full.find(" USING btree (").unwrap_or(0);
        assert!(explicit_collation(full, &mut cursor, "lower(a)"));
        assert!(!explicit_collation(full, &mut cursor, "(b + 1)"));
        assert!(!explicit_collation(full, &mut cursor, "lower(a)"));
    }

    #[test]
    fn collation_names() {
        assert_eq!(collation_name(Some("pg_catalog"), "C"), "C");
        assert_eq!(collation_name(Some("public"), "mine"), "mine");
        assert_eq!(collation_name(Some("s"), "mine"), "s.mine");
    }
}
