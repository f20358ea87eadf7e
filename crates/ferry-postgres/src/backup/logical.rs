//! ferry's logical dump: a plain SQL file, in the style of `pg_dump --format=plain`, that
//! ferry restores (and `psql --single-transaction -f` could too).
//!
//! The file is, in order:
//!
//! 1. a header comment: ferry's version, the time, the server, and every object of the
//!    database the file does **not** hold (objects ferry does not model: rules, aggregates, …);
//! 2. `SET` lines: the session settings the rows were written under;
//! 3. the schema without keys, indexes and foreign keys (ferry's planner from an empty
//!    schema), then ferry's own tables (schema `ferry`, the migration history), rendered
//!    from the catalog since the model leaves that schema out;
//! 4. each table's rows: `COPY t (cols) FROM stdin;`, the rows in COPY text format, `\.`;
//! 5. sequence values (`SELECT pg_catalog.setval(...)`), identity sequences by their column;
//! 6. primary keys, unique and exclusion constraints, indexes and foreign keys, built once the rows are
//!    in (faster than maintaining them row by row, as pg_dump does);
//! 7. a last comment line, [`END`]: a restore refuses a file that does not end with it.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use ferry_core::{diff, BackupInfo, DbError, DbErrorKind, DialectKind, Plan, Renames, Schema};
use postgres::{Client, IsolationLevel, Transaction};

use super::{literal, restore_error};
use crate::database::pg_message;
use crate::{quote_ident, quote_qualified};

/// The file's first line.
pub(super) const MAGIC: &str = "-- ferry logical dump";
/// The file's last line.
const END: &str = "-- end of ferry logical dump";

/// How the method is named in [`BackupInfo`].
const METHOD: &str = "ferry logical dump";

/// The session settings rows are written and read under, so that every value prints and
/// parses back the same (dates in ISO, floats exact, bytea in hex, money without a locale),
/// and no timeout or row-level security policy cuts the dump short. In the file, for psql;
/// ferry's restore runs them as `SET LOCAL`.
const SETTINGS: &[(&str, &str)] = &[
    ("client_encoding", "'UTF8'"),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("check_function_bodies", "false"),
    ("client_min_messages", "warning"),
    ("row_security", "off"),
    ("search_path", "public"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("TimeZone", "'UTC'"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
    ("xmloption", "content"),
    ("lc_monetary", "'C'"),
];

/// How many left-out objects `BackupInfo::method` names.
const NAMED_IN_METHOD: usize = 3;

fn read_error(what: &str, e: &postgres::Error) -> DbError {
    DbError::new(
        DbErrorKind::Inspect,
        format!("cannot back up: {what}: {}", pg_message(e)),
    )
}

fn write_error(path: &Path, e: std::io::Error) -> DbError {
    DbError::new(
        DbErrorKind::Inspect,
        format!("cannot write {}: {e}", path.display()),
    )
}

/// A table whose rows go into the file.
struct DataTable {
    /// Qualified and quoted.
    name: String,
    /// Quoted; generated columns left out (the server computes them again).
    columns: Vec<String>,
}

impl DataTable {
    /// `COPY name (columns)` and the rest of the statement.
    fn copy(&self, rest: &str) -> String {
        if self.columns.is_empty() {
            // A table whose columns are all generated (or that has none) still has rows.
            format!("COPY {} {rest}", self.name)
        } else {
            format!("COPY {} ({}) {rest}", self.name, self.columns.join(", "))
        }
    }
}

/// Writes the logical dump of the database `client` is connected to into `out`.
pub(super) fn dump(client: &mut Client, out: &Path) -> Result<BackupInfo, DbError> {
    // One snapshot for the schema and every table's rows.
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| read_error("cannot start a transaction", &e))?;
    let settings: Vec<String> = SETTINGS
        .iter()
        .map(|(name, value)| format!("SET LOCAL {name} = {value}"))
        .collect();
    tx.batch_execute(&settings.join(";\n"))
        .map_err(|e| read_error("cannot set up the session", &e))?;
    let schema = crate::inspect::inspect(&mut tx)?;
    let about = tx
        .query_one(
            "SELECT current_database()::text, current_setting('server_version'), \
               current_setting('server_version_num'), \
               to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            &[],
        )
        .map_err(|e| read_error("cannot read the server version", &e))?;
    let (database, version, version_num, time): (String, String, String, String) =
        (about.get(0), about.get(1), about.get(2), about.get(3));
    let left_out = left_out(&mut tx)?;
    let ferry = ferry_schema(&mut tx)?;
    let sequences = sequence_values(&mut tx, &schema)?;
    let (pre_data, post_data) = schema_statements(&schema)?;

    let file = File::create(out).map_err(|e| write_error(out, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut header = String::new();
    header.push_str(MAGIC);
    header.push_str("\n--\n");
    header.push_str(&format!(
        "-- Written by ferry {} at {time} from database {} on PostgreSQL {version} (server_version_num {version_num}).\n",
        env!("CARGO_PKG_VERSION"),
        quote_ident(&database)
    ));
    header.push_str(
        "-- Restore into an empty database with ferry, or with\n\
         --   psql --single-transaction -v ON_ERROR_STOP=1 -f FILE\n\
         --\n\
         -- Holds what ferry models, with every row: schemas, extensions, enum and composite\n\
         -- types, domains, sequences and their values, functions and procedures, tables\n\
         -- (columns, defaults, identity and generated columns, collations, keys, checks,\n\
         -- foreign keys, indexes, partitions, triggers, row level security and policies,\n\
         -- comments), views, privileges, and ferry's migration history (schema ferry).\n\
         -- Leaves out: owners, database and role settings, and every object ferry does not\n\
         -- model (rules, aggregates, event triggers, ...).\n\
         -- pg_dump's custom format holds those: ferry uses it when pg_dump is installed.\n",
    );
    if left_out.is_empty() {
        header.push_str("-- This database had no such object when this file was written.\n");
    } else {
        header.push_str(&format!(
            "-- This database had {} such object(s), NOT in this file:\n",
            left_out.len()
        ));
        for (kind, name) in &left_out {
            header.push_str(&format!("--   {kind} {}\n", one_line(name)));
        }
    }
    header.push_str("--\n\n");
    for (name, value) in SETTINGS {
        header.push_str(&format!("SET {name} = {value};\n"));
    }
    header.push_str("\n-- Schema: tables without keys, indexes and foreign keys.\n\n");
    header.push_str("CREATE SCHEMA IF NOT EXISTS public;\n");
    for stmt in &pre_data {
        header.push_str(stmt);
        header.push_str(";\n");
    }
    if let Some(ferry) = &ferry {
        header.push_str("\n-- ferry's own tables: the migration history.\n\n");
        header.push_str(&ferry.ddl);
    }
    header.push_str("\n-- Rows.\n");
    w.write_all(header.as_bytes())
        .map_err(|e| write_error(out, e))?;

    // A partitioned table has no rows of its own (its partitions hold them), and a
    // partition's columns are its root parent's.
    let mut tables: Vec<DataTable> = schema
        .tables
        .values()
        .filter(|t| t.partition_by.is_none())
        .map(|t| DataTable {
            name: quote_qualified(&t.name),
            columns: crate::partition::root_table(&schema, t)
                .columns
                .iter()
                .filter(|c| c.generated.is_none())
                .map(|c| quote_ident(&c.name))
                .collect(),
        })
        .collect();
    if let Some(ferry) = ferry {
        tables.extend(ferry.tables);
    }
    let mut rows = 0u64;
    for table in &tables {
        writeln!(w, "\n{}", table.copy("FROM stdin;")).map_err(|e| write_error(out, e))?;
        rows += copy_rows(&mut tx, table, &mut w, out)?;
        w.write_all(b"\\.\n").map_err(|e| write_error(out, e))?;
    }

    let mut footer = String::new();
    if !sequences.is_empty() {
        footer.push_str("\n-- Sequence values.\n\n");
        for stmt in &sequences {
            footer.push_str(stmt);
            footer.push_str(";\n");
        }
    }
    footer.push_str("\n-- Primary keys, unique constraints, indexes, foreign keys.\n\n");
    for stmt in &post_data {
        footer.push_str(stmt);
        footer.push_str(";\n");
    }
    footer.push('\n');
    footer.push_str(END);
    footer.push('\n');
    w.write_all(footer.as_bytes())
        .map_err(|e| write_error(out, e))?;
    w.flush().map_err(|e| write_error(out, e))?;
    // Read-only: nothing to commit, but ending it cleanly frees the snapshot.
    let _ = tx.commit();

    let mut method = METHOD.to_string();
    if !left_out.is_empty() {
        let mut names: Vec<String> = left_out
            .iter()
            .take(NAMED_IN_METHOD)
            .map(|(kind, name)| format!("{kind} {}", one_line(name)))
            .collect();
        if left_out.len() > NAMED_IN_METHOD {
            names.push("...".to_string());
        }
        method.push_str(&format!(
            " (without {} object(s) ferry does not model: {}; see the file header)",
            left_out.len(),
            names.join(", ")
        ));
    }
    Ok(BackupInfo {
        method,
        bytes: std::fs::metadata(out).map(|m| m.len()).unwrap_or(0),
        tables: tables.len(),
        rows,
    })
}

/// Names can hold newlines; a header comment line cannot.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// Streams a table's rows in COPY text format into `w`; returns how many there were
/// (each row ends with a newline: newlines inside values are escaped as `\n`).
fn copy_rows(
    tx: &mut Transaction<'_>,
    table: &DataTable,
    w: &mut impl Write,
    out: &Path,
) -> Result<u64, DbError> {
    let sql = table.copy("TO STDOUT");
    let failed = |e: std::io::Error| {
        DbError::new(
            DbErrorKind::Inspect,
            format!("cannot back up the rows of {}: {e}", table.name),
        )
    };
    let mut reader = tx
        .copy_out(&sql)
        .map_err(|e| read_error(&format!("cannot read the rows of {}", table.name), &e))?;
    let mut rows = 0u64;
    loop {
        let chunk = reader.fill_buf().map_err(failed)?;
        if chunk.is_empty() {
            break;
        }
        rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        w.write_all(chunk).map_err(|e| write_error(out, e))?;
        let n = chunk.len();
        reader.consume(n);
    }
    Ok(rows)
}

/// The statements that build `schema` in an empty database, split around the rows:
/// (before: namespaces, types, sequences, tables with their checks, comments, sequence
/// owners; after: primary keys, unique and exclusion constraints, indexes, foreign keys,
/// triggers, row
/// level security and policies).
///
/// Both halves come from ferry's planner: first from an empty schema to `schema` without
/// keys, indexes and policies, then from there to `schema`, which adds exactly those.
fn schema_statements(schema: &Schema) -> Result<(Vec<String>, Vec<String>), DbError> {
    let mut bare = schema.clone();
    for table in bare.tables.values_mut() {
        table.primary_key = None;
        table.uniques.clear();
        table.exclusions.clear();
        table.foreign_keys.clear();
        table.indexes.clear();
        // Policies and row level security after the rows, which they must not filter.
        table.row_security = false;
        table.force_row_security = false;
        table.policies.clear();
    }
    // Triggers after the rows too: restoring must not fire them (an audit trigger would
    // write rows, an updated_at trigger rewrite them).
    bare.triggers.clear();
    let plan = |from: &Schema, to: &Schema| {
        let changes = diff(from, to, &Renames::default());
        crate::plan::plan(from, to, &changes).map_err(|e| {
            // Planning only creates objects here; failing would be a bug in ferry.
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot back up: ferry cannot render this schema: {e}"),
            )
        })
    };
    let empty = Schema::default();
    let before = plan(&empty, &bare)?;
    let after = plan(&bare, schema)?;
    Ok((statements(before), statements(after)))
}

fn statements(plan: Plan) -> Vec<String> {
    let mut out = plan.before;
    out.extend(plan.steps.into_iter().flat_map(|s| s.statements));
    out.extend(plan.after);
    out
}

const USER_SCHEMA: &str = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";

fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass \
         AND d.objid = {oid} AND d.deptype = 'e')"
    )
}

/// Objects of the database that the dump does not hold, as (kind, name): what ferry does
/// not model and `inspect` therefore does not read.
fn left_out(tx: &mut Transaction<'_>) -> Result<Vec<(String, String)>, DbError> {
    let rel = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)";
    let sql = format!(
        "SELECT o.kind, o.name FROM ( \
           SELECT CASE WHEN c.relkind = 'f' THEN 'foreign table' \
                       ELSE 'inheriting table' END AS kind, \
                  {rel} AS name \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE {USER_SCHEMA} AND {rel_member} \
              AND (c.relkind = 'f' \
                   OR (c.relkind = 'r' AND n.nspname <> 'ferry' AND NOT c.relispartition \
                       AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))) \
           UNION ALL \
           SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'window function' END, \
                  quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' \
                    || pg_get_function_identity_arguments(p.oid) || ')' \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
            WHERE p.prokind IN ('a', 'w') AND {USER_SCHEMA} AND {proc_member} \
           UNION ALL \
           SELECT 'rule', quote_ident(r.rulename) || ' on ' || {rel} \
             FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE r.rulename <> '_RETURN' AND {USER_SCHEMA} AND {rel_member} \
           UNION ALL \
           SELECT CASE co.contype WHEN 'x' THEN 'exclusion constraint' \
                    ELSE 'NOT VALID constraint (restored as valid)' END, \
                  quote_ident(co.conname) || ' on ' || {rel} \
             FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE (co.contype = 'x' OR NOT co.convalidated) AND {USER_SCHEMA} AND {rel_member} \
           UNION ALL \
           SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type' \
                    ELSE 'base type' END, \
                  quote_ident(n.nspname) || '.' || quote_ident(t.typname) \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
            WHERE {USER_SCHEMA} AND {type_member} \
              AND (t.typtype = 'r' OR (t.typtype = 'b' AND t.typcategory <> 'A')) \
           UNION ALL \
           SELECT 'NOT VALID domain constraint (restored as valid)', \
                  quote_ident(co.conname) || ' on domain ' || quote_ident(n.nspname) || '.' \
                    || quote_ident(t.typname) \
             FROM pg_constraint co JOIN pg_type t ON t.oid = co.contypid \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
            WHERE NOT co.convalidated AND {USER_SCHEMA} AND {type_member} \
           UNION ALL \
           SELECT 'collation', quote_ident(n.nspname) || '.' || quote_ident(co.collname) \
             FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
            WHERE {USER_SCHEMA} AND {coll_member} \
           UNION ALL \
           SELECT 'event trigger', quote_ident(ev.evtname) FROM pg_event_trigger ev \
           UNION ALL \
           SELECT 'large objects:', count(*)::text FROM pg_largeobject_metadata \
           HAVING count(*) > 0 \
         ) o ORDER BY 1, 2",
        rel_member = not_extension_member("pg_class", "c.oid"),
        proc_member = not_extension_member("pg_proc", "p.oid"),
        type_member = not_extension_member("pg_type", "t.oid"),
        coll_member = not_extension_member("pg_collation", "co.oid"),
    );
    let rows = tx
        .query(&sql, &[])
        .map_err(|e| read_error("cannot list the objects ferry does not model", &e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// ferry's schema, which `inspect` leaves out: its DDL and its tables.
struct FerrySchema {
    ddl: String,
    tables: Vec<DataTable>,
}

/// The `ferry` schema's tables (the migration history), rendered from the catalog.
fn ferry_schema(tx: &mut Transaction<'_>) -> Result<Option<FerrySchema>, DbError> {
    let failed = |e: postgres::Error| read_error("cannot read ferry's migration history", &e);
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ferry')",
            &[],
        )
        .map_err(failed)?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let mut ddl = String::from("CREATE SCHEMA ferry;\n");
    let mut tables = Vec::new();
    let rels = tx
        .query(
            "SELECT c.oid, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'ferry' AND c.relkind = 'r' ORDER BY 2",
            &[],
        )
        .map_err(failed)?;
    for rel in rels {
        let oid: u32 = rel.get(0);
        let name = format!("ferry.{}", quote_ident(rel.get(1)));
        let columns = tx
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text \
                 FROM pg_attribute a \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
                &[&oid],
            )
            .map_err(failed)?;
        let constraints = tx
            .query(
                "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE conrelid = $1 ORDER BY contype <> 'p', conname",
                &[&oid],
            )
            .map_err(failed)?;
        let mut lines = Vec::new();
        let mut copied = Vec::new();
        for c in &columns {
            let column = quote_ident(c.get(0));
            let mut line = format!("{column} {}", c.get::<_, String>(1));
            let default: Option<String> = c.get(3);
            let identity: String = c.get(4);
            let generated: String = c.get(5);
            match (identity.as_str(), generated.as_str(), default) {
                ("a", _, _) => line.push_str(" GENERATED ALWAYS AS IDENTITY"),
                ("d", _, _) => line.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                (_, "s", Some(expr)) => {
                    line.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"))
                }
                (_, _, Some(expr)) => line.push_str(&format!(" DEFAULT {expr}")),
                _ => {}
            }
            if c.get::<_, bool>(2) {
                line.push_str(" NOT NULL");
            }
            if generated.is_empty() {
                copied.push(column);
            }
            lines.push(line);
        }
        for c in &constraints {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(c.get(0)),
                c.get::<_, String>(1)
            ));
        }
        ddl.push_str(&format!(
            "CREATE TABLE {name} (\n  {}\n);\n",
            lines.join(",\n  ")
        ));
        tables.push(DataTable {
            name,
            columns: copied,
        });
    }
    Ok(Some(FerrySchema { ddl, tables }))
}

/// `setval` statements that put every sequence of the dump where it is now. Identity
/// sequences are named by their column: the server names them on creation.
fn sequence_values(tx: &mut Transaction<'_>, schema: &Schema) -> Result<Vec<String>, DbError> {
    let failed = |e: postgres::Error| read_error("cannot read sequence values", &e);
    let rows = tx
        .query(
            "SELECT n.nspname::text, c.relname::text, tn.nspname::text, tc.relname::text, \
               a.attname::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
               AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i' \
             LEFT JOIN pg_class tc ON tc.oid = d.refobjid \
             LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE c.relkind = 'S' ORDER BY 1, 2",
            &[],
        )
        .map_err(failed)?;
    // (sequence, what setval's first argument is)
    let mut wanted: Vec<(String, String)> = Vec::new();
    for r in &rows {
        let name = ferry_core::QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1));
        let owner: Option<String> = r.get(2);
        let target = match owner {
            Some(owner_schema) => {
                let table = ferry_core::QualifiedName::new(owner_schema, r.get::<_, String>(3));
                let column: String = r.get(4);
                let has_identity = schema
                    .tables
                    .get(&table)
                    .and_then(|t| t.column(&column))
                    .is_some_and(|c| c.identity.is_some());
                if !has_identity {
                    continue;
                }
                format!(
                    "pg_catalog.pg_get_serial_sequence({}, {})",
                    literal(&quote_qualified(&table)),
                    literal(&column)
                )
            }
            None if schema.sequences.contains_key(&name) => literal(&quote_qualified(&name)),
            None => continue,
        };
        wanted.push((quote_qualified(&name), target));
    }
    let mut out = Vec::new();
    // One round trip per 200 sequences rather than one each.
    for chunk in wanted.chunks(200) {
        let selects: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (seq, _))| format!("SELECT {i}, last_value, is_called FROM {seq}"))
            .collect();
        let values = tx
            .query(&format!("{} ORDER BY 1", selects.join(" UNION ALL ")), &[])
            .map_err(failed)?;
        for (row, (_, target)) in values.iter().zip(chunk) {
            let last: i64 = row.get(1);
            let called: bool = row.get(2);
            out.push(format!(
                "SELECT pg_catalog.setval({target}, {last}, {called})"
            ));
        }
    }
    Ok(out)
}

/// Restores a logical dump into the database `client` is connected to, in one
/// transaction: on any error nothing is left.
pub(super) fn restore(client: &mut Client, path: &Path) -> Result<BackupInfo, DbError> {
    let origin = path.display().to_string();
    let io_error = |e: std::io::Error| restore_error(format!("cannot read {origin}: {e}"));
    let file = File::open(path).map_err(io_error)?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut tx = client
        .transaction()
        .map_err(|e| restore_error(format!("cannot start the restore: {}", pg_message(&e))))?;

    // SQL text since the last COPY block, and the file line it starts at.
    let mut pending = String::new();
    let mut pending_line = 1u64;
    let mut line_no = 0u64;
    let mut line: Vec<u8> = Vec::new();
    let (mut tables, mut rows) = (0usize, 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_error)? == 0 {
            break;
        }
        line_no += 1;
        let text = std::str::from_utf8(&line).map_err(|_| {
            restore_error(format!(
                "{origin}:{line_no}: not UTF-8 text outside of COPY data"
            ))
        })?;
        if pending.is_empty() {
            pending_line = line_no;
        }
        pending.push_str(text);
        // Rows follow a line that ends a `COPY ... FROM stdin;` statement, not a line that
        // only looks like one inside a string literal of another statement: the splitter
        // tells. It fails on a literal still open; the text then goes on.
        if !text.trim_end().ends_with(" FROM stdin;") {
            continue;
        }
        let Ok(statements) = ferry_sql::split_statements(&pending, &origin, DialectKind::Postgres)
        else {
            continue;
        };
        let Some((last, before)) = statements.split_last() else {
            continue;
        };
        let is_copy = last.leading_words(1) == ["copy"] && last.sql.ends_with(" FROM stdin");
        if !is_copy {
            continue;
        }
        run_statements(
            &mut tx,
            &pending,
            &statements,
            before.len(),
            &origin,
            pending_line,
        )?;
        let copy = last.sql.as_str();
        rows += copy_in(&mut tx, copy, &mut reader, &mut line_no, &origin)?;
        tables += 1;
        pending.clear();
    }
    // The file ends with END, after everything else: a copy cut short does not.
    if pending.trim_end().lines().last() != Some(END) {
        return Err(restore_error(format!(
            "{origin} is incomplete: it does not end with \"{END}\" (a truncated copy?); nothing was restored"
        )));
    }
    let statements = split(&pending, &origin, pending_line)?;
    run_statements(
        &mut tx,
        &pending,
        &statements,
        statements.len(),
        &origin,
        pending_line,
    )?;
    tx.commit()
        .map_err(|e| restore_error(format!("cannot commit the restore: {}", pg_message(&e))))?;
    Ok(BackupInfo {
        method: METHOD.to_string(),
        bytes,
        tables,
        rows,
    })
}

fn split(
    text: &str,
    origin: &str,
    first_line: u64,
) -> Result<Vec<ferry_sql::SqlStatement>, DbError> {
    ferry_sql::split_statements(text, origin, DialectKind::Postgres).map_err(|e| {
        restore_error(format!(
            "{origin}:{}: {}; nothing was restored",
            first_line + e.line.saturating_sub(1),
            e.message
        ))
    })
}

/// Runs the first `count` of `statements`, split from `text` (which starts at line
/// `first_line` of the file). Each runs as `text` has it, from its first token to the next
/// statement's: the splitter blanks lines that start with a backslash (psql meta-commands)
/// even inside string literals, where they are data. The file's `SET`s become `SET LOCAL`,
/// so that the connection's own settings are back once the restore ends.
fn run_statements(
    tx: &mut Transaction<'_>,
    text: &str,
    statements: &[ferry_sql::SqlStatement],
    count: usize,
    origin: &str,
    first_line: u64,
) -> Result<(), DbError> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // Lines and columns are 1-based; columns count characters.
    let offset = |stmt: &ferry_sql::SqlStatement| {
        let line_start = line_starts
            .get(stmt.line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(text.len());
        text[line_start..]
            .char_indices()
            .nth(stmt.column.saturating_sub(1) as usize)
            .map(|(i, _)| line_start + i)
            .unwrap_or(text.len())
    };
    for (i, stmt) in statements.iter().enumerate().take(count) {
        let end = statements.get(i + 1).map(offset).unwrap_or(text.len());
        let written = text[offset(stmt)..end].trim_end();
        let words = stmt.leading_words(2);
        let sql = if words.first().map(String::as_str) == Some("set")
            && !matches!(words.get(1).map(String::as_str), Some("local" | "session"))
        {
            format!("SET LOCAL {}", written[3..].trim_start())
        } else {
            written.to_string()
        };
        tx.batch_execute(&sql).map_err(|e| {
            restore_error(format!(
                "{origin}:{}: {}; nothing was restored",
                first_line + stmt.line - 1,
                pg_message(&e)
            ))
            .in_statement(stmt.sql.clone())
        })?;
    }
    Ok(())
}

/// Feeds the rows after a `COPY ... FROM stdin;` line to the server, up to the `\.` line;
/// returns how many rows the server took.
fn copy_in(
    tx: &mut Transaction<'_>,
    copy: &str,
    reader: &mut impl BufRead,
    line_no: &mut u64,
    origin: &str,
) -> Result<u64, DbError> {
    let start = *line_no;
    let failed = |message: String| {
        restore_error(format!("{origin}:{start}: {message}; nothing was restored"))
            .in_statement(copy.to_string())
    };
    let writer = tx.copy_in(copy).map_err(|e| failed(pg_message(&e)))?;
    // Whole megabytes per message rather than one per row.
    let mut out = BufWriter::with_capacity(1 << 20, writer);
    let mut line: Vec<u8> = Vec::new();
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(|e| failed(format!("cannot read the rows: {e}")))?
            == 0
        {
            return Err(failed(
                "the file ends inside the rows of this COPY (no \\. line)".to_string(),
            ));
        }
        *line_no += 1;
        if line == b"\\.\n" || line == b"\\.\r\n" {
            break;
        }
        // A server error (a bad value) surfaces here or at `finish`.
        out.write_all(&line)
            .map_err(|e| failed(format!("the rows were refused: {e}")))?;
    }
    let writer = out
        .into_inner()
        .map_err(|e| failed(format!("the rows were refused: {}", e.error())))?;
    writer.finish().map_err(|e| failed(pg_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_statement_without_columns() {
        let t = DataTable {
            name: "public.t".into(),
            columns: vec![],
        };
        assert_eq!(t.copy("FROM stdin;"), "COPY public.t FROM stdin;");
        let t = DataTable {
            name: "public.t".into(),
            columns: vec!["a".into(), "\"B\"".into()],
        };
        assert_eq!(t.copy("TO STDOUT"), "COPY public.t (a, \"B\") TO STDOUT");
    }
}
