//! A live SQLite database: open from a URL, inspect through the stored DDL, apply plans.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_core::{Database, DbError, DbErrorKind, Dialect, Plan, Schema};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::SQLITE;

/// How many violating rows a failed check reports.
const MAX_REPORTED_ROWS: usize = 10;

/// An open SQLite database.
#[derive(Debug)]
pub struct SqliteDatabase {
    conn: Connection,
    /// The history table is known to exist: scripts stop creating it (once per run, not
    /// once per migration).
    pub(crate) history_ready: std::cell::Cell<bool>,
}

/// Where a URL points.
#[derive(Debug, PartialEq, Eq)]
enum Location {
    Memory,
    File(PathBuf),
}

impl SqliteDatabase {
    /// Opens `sqlite://path`, `sqlite:path`, `sqlite::memory:` or `file:path` (relative paths
    /// are relative to the current directory). A missing file is created, so that a fresh
    /// dev database can be pushed to; a missing directory is an error.
    pub fn open(url: &str) -> Result<SqliteDatabase, DbError> {
        let conn = match parse_url(url)? {
            Location::Memory => Connection::open_in_memory(),
            Location::File(path) => {
                check_directory(&path, url)?;
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                Connection::open_with_flags(&path, flags)
            }
        }
        .map_err(|e| connect_error(url, &e))?;
        // Another writer may hold the lock for a moment; wait rather than fail at once.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| connect_error(url, &e))?;
        // Opening is lazy: the first read is what fails on a file that is not a database.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| connect_error(url, &e))?;
        // Enforce foreign keys like an application would; plans that must not (rebuilds)
        // switch them off in `Plan::before`.
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| connect_error(url, &e))?;
        Ok(SqliteDatabase {
            conn,
            history_ready: std::cell::Cell::new(false),
        })
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs a check (such as `PRAGMA foreign_key_check`): rows it returns are violations,
    /// which fail with the rows named.
    pub(crate) fn check_no_rows(&self, query: &str) -> Result<(), DbError> {
        let rows = self.violations(query).map_err(|e| apply_error(query, &e))?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut message = format!(
            "the migration would leave {} invalid row(s); nothing was applied:",
            rows.len()
        );
        for row in rows.iter().take(MAX_REPORTED_ROWS) {
            message.push_str("\n  ");
            message.push_str(row);
        }
        if rows.len() > MAX_REPORTED_ROWS {
            message.push_str(&format!(
                "\n  ... and {} more",
                rows.len() - MAX_REPORTED_ROWS
            ));
        }
        Err(DbError::new(DbErrorKind::Check, message).in_statement(query))
    }

    /// The underlying connection, e.g. to seed data in tests.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Runs each statement outside the transaction; errors are reported, not fatal to the
    /// caller's error path.
    fn run_outside(&self, statements: &[String]) -> Result<(), DbError> {
        for stmt in statements {
            self.conn
                .execute_batch(stmt)
                .map_err(|e| apply_error(stmt, &e))?;
        }
        Ok(())
    }

    /// Undoes the open transaction and restores the connection after a failed apply.
    fn abandon(&self, plan: &Plan) {
        // Both may fail only if the connection is already broken; the original error is the
        // one worth reporting.
        let _ = self.conn.execute_batch("ROLLBACK");
        let _ = self.run_outside(&plan.after);
    }

    /// The rows `query` returns, formatted for a message.
    fn violations(&self, query: &str) -> Result<Vec<String>, rusqlite::Error> {
        let mut stmt = self.conn.prepare(query)?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                values.push(value_text(row.get_ref(i)?));
            }
            out.push(describe_row(&names, &values));
        }
        Ok(out)
    }
}

impl Database for SqliteDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &SQLITE
    }

    fn inspect(&mut self) -> Result<Schema, DbError> {
        let inspect_error = |e: rusqlite::Error| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot read the SQLite schema: {e}"),
            )
        };
        // Shadow tables belong to virtual tables (FTS, R-Tree), which manage them.
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")
            .map_err(inspect_error)?;
        let shadow: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(inspect_error)?;
        drop(stmt);

        // Tables before indexes before views and triggers; within each kind, creation order
        // (deterministic for a given database, and the order a schema file lists them in).
        let mut stmt = self
            .conn
            .prepare(
                "SELECT type, name, sql FROM sqlite_schema \
                 WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql IS NOT NULL \
                   AND tbl_name <> 'ferry_migrations' \
                 ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid",
            )
            .map_err(inspect_error)?;
        let objects: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(inspect_error)?;
        drop(stmt);

        // SQLite keeps each CREATE statement as written, so the schema goes through the same
        // loader as schema files. Remember where each statement starts to name it in errors.
        let mut text = String::new();
        let mut starts: Vec<(u64, String)> = Vec::new();
        let mut line = 1u64;
        for (kind, name, sql) in &objects {
            if kind == "table" && shadow.contains(name) {
                continue;
            }
            starts.push((line, format!("{kind} {name}")));
            text.push_str(sql);
            text.push_str(";\n");
            line += sql.matches('\n').count() as u64 + 1;
        }
        let mut schema = ferry_sql::load_str(&text, "sqlite_schema", &SQLITE).map_err(|e| {
            let (start, object) = starts
                .iter()
                .rev()
                .find(|(l, _)| *l <= e.line)
                .cloned()
                .unwrap_or((1, "schema".to_string()));
            DbError::new(
                DbErrorKind::Inspect,
                format!(
                    "cannot read the stored definition of {object} (line {}): {}",
                    e.line.saturating_sub(start) + 1,
                    e.message
                ),
            )
        })?;
        // Annotations in stored comments are not state.
        schema.rename_hints.clear();
        self.cross_check(&schema)?;
        Ok(schema)
    }

    fn apply(&mut self, plan: &Plan) -> Result<(), DbError> {
        if plan.is_empty() {
            return Ok(());
        }
        // PRAGMA foreign_keys is a no-op inside a transaction: `before` runs outside it.
        if let Err(e) = self.run_outside(&plan.before) {
            let _ = self.run_outside(&plan.after);
            return Err(e);
        }
        // IMMEDIATE takes the write lock now, so no other writer slips in mid-plan.
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let _ = self.run_outside(&plan.after);
            return Err(apply_error("BEGIN IMMEDIATE", &e));
        }
        for stmt in plan.steps.iter().flat_map(|s| s.statements.iter()) {
            if let Err(e) = self.conn.execute_batch(stmt) {
                self.abandon(plan);
                return Err(apply_error(stmt, &e));
            }
        }
        for query in &plan.checks {
            if let Err(e) = self.check_no_rows(query) {
                self.abandon(plan);
                return Err(e);
            }
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.abandon(plan);
            return Err(apply_error("COMMIT", &e));
        }
        self.run_outside(&plan.after)
    }

    fn scratch(&mut self) -> Result<Box<dyn Database>, DbError> {
        // An in-memory database is private to its connection and disappears with it: nothing
        // to clean up, and nothing written next to the target's file.
        Ok(Box::new(SqliteDatabase::open("sqlite::memory:")?))
    }
}

impl SqliteDatabase {
    /// Cheap sanity check of the loader against SQLite's own view: the same columns, in the
    /// same order, for every table.
    fn cross_check(&self, schema: &Schema) -> Result<(), DbError> {
        for table in schema.tables.values() {
            let name = &table.name.name;
            let actual: Vec<String> = self
                .conn
                .prepare("SELECT name FROM pragma_table_xinfo(?1)")
                .and_then(|mut stmt| {
                    stmt.query_map([name], |r| r.get(0))
                        .and_then(|rows| rows.collect())
                })
                .map_err(|e| {
                    DbError::new(
                        DbErrorKind::Inspect,
                        format!("cannot list the columns of table {name}: {e}"),
                    )
                })?;
            let read: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            if !actual.iter().map(String::as_str).eq(read.iter().copied()) {
                return Err(DbError::new(
                    DbErrorKind::Inspect,
                    format!(
                        "ferry misread table {name}: it read columns ({}) but SQLite reports ({})",
                        read.join(", "),
                        actual.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn parse_url(url: &str) -> Result<Location, DbError> {
    let lower = url.to_ascii_lowercase();
    let prefixes = [
        "sqlite://",
        "sqlite3://",
        "file://",
        "sqlite:",
        "sqlite3:",
        "file:",
    ];
    let Some(prefix) = prefixes.iter().find(|p| lower.starts_with(*p)) else {
        return Err(DbError::new(
            DbErrorKind::Connect,
            format!(
                "not an SQLite URL: {url} (expected sqlite://path, sqlite:path, sqlite::memory: or file:path)"
            ),
        ));
    };
    let rest = &url[prefix.len()..];
    if rest == ":memory:" {
        return Ok(Location::Memory);
    }
    if rest.is_empty() {
        return Err(DbError::new(
            DbErrorKind::Connect,
            format!("{url} names no database file"),
        ));
    }
    // Rather than create a file named `dev.db?mode=ro`, refuse options ferry ignores.
    if rest.contains('?') {
        return Err(DbError::new(
            DbErrorKind::Connect,
            format!("{url}: ferry takes no options in SQLite URLs (remove the part after '?')"),
        ));
    }
    Ok(Location::File(PathBuf::from(rest)))
}

fn check_directory(path: &Path, url: &str) -> Result<(), DbError> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    Err(DbError::new(
        DbErrorKind::Connect,
        format!(
            "cannot open {url}: directory {} does not exist",
            dir.display()
        ),
    ))
}

fn connect_error(url: &str, e: &rusqlite::Error) -> DbError {
    DbError::new(DbErrorKind::Connect, format!("cannot open {url}: {e}"))
}

pub(crate) fn apply_error(stmt: &str, e: &rusqlite::Error) -> DbError {
    DbError::new(DbErrorKind::Apply, e.to_string()).in_statement(stmt)
}

fn value_text(v: ValueRef) -> String {
    match v {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

/// One violating row; `foreign_key_check` rows (table, rowid, parent, fkid) in words.
fn describe_row(names: &[String], values: &[String]) -> String {
    let is_fk_check =
        names.len() == 4 && names[0] == "table" && names[1] == "rowid" && names[2] == "parent";
    if is_fk_check {
        let row = if values[1] == "NULL" {
            "a row".to_string()
        } else {
            format!("row {}", values[1])
        };
        return format!(
            "{row} of table {} references a missing row of table {}",
            values[0], values[2]
        );
    }
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(parse_url("sqlite::memory:").unwrap(), Location::Memory);
        assert_eq!(parse_url("sqlite://:memory:").unwrap(), Location::Memory);
        assert_eq!(
            parse_url("sqlite://dev.db").unwrap(),
            Location::File("dev.db".into())
        );
        assert_eq!(
            parse_url("sqlite:///var/db/app.db").unwrap(),
            Location::File("/var/db/app.db".into())
        );
        assert_eq!(
            parse_url("sqlite:data/app.db").unwrap(),
            Location::File("data/app.db".into())
        );
        assert_eq!(
            parse_url("file:app.db").unwrap(),
            Location::File("app.db".into())
        );
        assert_eq!(
            parse_url("SQLite3://x.db").unwrap(),
            Location::File("x.db".into())
        );
        for bad in [
            "postgres://h/db",
            "sqlite://",
            "sqlite:",
            "sqlite://a.db?mode=ro",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert_eq!(err.kind, DbErrorKind::Connect, "{bad}");
        }
    }

    #[test]
    fn describes_foreign_key_violations() {
        let names: Vec<String> = ["table", "rowid", "parent", "fkid"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values: Vec<String> = ["posts", "3", "users", "0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            describe_row(&names, &values),
            "row 3 of table posts references a missing row of table users"
        );
    }
}
