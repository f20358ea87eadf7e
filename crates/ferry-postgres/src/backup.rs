//! Backup and restore of a whole PostgreSQL database.
//!
//! Two methods write a backup file:
//!
//! - `pg_dump --format=custom`, when a pg_dump at least as new as the server is installed
//!   (in `PATH` or `/usr/lib/postgresql/*/bin`). It holds everything, including objects
//!   ferry does not model (views, functions, triggers, grants), so it is preferred.
//! - ferry's own logical dump ([`logical`]): a plain SQL file in pg_dump's plain style that
//!   ferry (or `psql -f`) restores. It needs no tool on the machine, but holds only what
//!   ferry models plus the migration history; the file header lists what it leaves out.
//!
//! `FERRY_BACKUP_METHOD` (`auto`, `builtin`, `pg_dump`) or [`PgDatabase::backup_with`]
//! chooses. Restoring looks at the file: `PGDMP` at the start is pg_dump's custom format.
//! Either way the restore runs in one transaction, into a database that must be empty.

mod logical;
mod tools;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ferry_core::{Backup, BackupInfo, DbError, DbErrorKind};
use postgres::GenericClient;

use crate::database::{pg_message, PgDatabase};

/// The environment variable that picks the backup method.
pub const BACKUP_METHOD_ENV: &str = "FERRY_BACKUP_METHOD";

/// How [`PgDatabase::backup_with`] writes a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupMethod {
    /// pg_dump when a suitable one is installed, the built-in dump otherwise.
    Auto,
    /// ferry's logical dump, whatever is installed.
    Builtin,
    /// pg_dump's custom format; an error when no suitable pg_dump is installed.
    PgDump,
}

impl BackupMethod {
    /// The method `FERRY_BACKUP_METHOD` names; `Auto` when it is unset or empty.
    pub fn from_env() -> Result<BackupMethod, DbError> {
        let value = std::env::var(BACKUP_METHOD_ENV).unwrap_or_default();
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(BackupMethod::Auto),
            "builtin" | "ferry" => Ok(BackupMethod::Builtin),
            "pg_dump" | "pgdump" => Ok(BackupMethod::PgDump),
            other => Err(DbError::new(
                DbErrorKind::Connect,
                format!("{BACKUP_METHOD_ENV}={other} is not a backup method: use auto, builtin or pg_dump"),
            )),
        }
    }
}

/// The first bytes of a pg_dump custom-format archive.
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

impl PgDatabase {
    /// Writes a backup of the whole database to `path` with `method`. The file appears
    /// under its name only once complete (it is written beside it and renamed).
    pub fn backup_with(
        &mut self,
        path: &Path,
        method: BackupMethod,
    ) -> Result<BackupInfo, DbError> {
        let server_major = server_major(self.client())?;
        let tools = match method {
            BackupMethod::Builtin => None,
            BackupMethod::Auto => tools::find(server_major),
            BackupMethod::PgDump => Some(tools::find(server_major).ok_or_else(|| {
                DbError::new(
                    DbErrorKind::Inspect,
                    format!(
                        "no pg_dump and pg_restore of PostgreSQL {server_major} or later found in PATH or /usr/lib/postgresql/*/bin; install the client tools, or unset {BACKUP_METHOD_ENV} to use ferry's built-in dump"
                    ),
                )
            })?),
        };
        let partial = PartialFile::new(path)?;
        let info = match tools {
            Some(tools) => tools::dump(self, &tools, partial.path())?,
            None => logical::dump(self.client(), partial.path())?,
        };
        partial.finish(path)?;
        Ok(info)
    }
}

impl Backup for PgDatabase {
    fn backup_to(&mut self, path: &Path) -> Result<BackupInfo, DbError> {
        let method = BackupMethod::from_env()?;
        self.backup_with(path, method)
    }

    fn restore_from(&mut self, path: &Path) -> Result<BackupInfo, DbError> {
        let mut start = [0u8; 64];
        let len = read_start(path, &mut start)?;
        let start = &start[..len];
        if start.starts_with(PG_DUMP_MAGIC) {
            ensure_empty(self.client())?;
            let server_major = server_major(self.client())?;
            let tools = tools::find(server_major).ok_or_else(|| {
                restore_error(format!(
                    "{} was written by pg_dump (custom format); restoring it needs pg_restore of PostgreSQL {server_major} or later, found neither in PATH nor in /usr/lib/postgresql/*/bin",
                    path.display()
                ))
            })?;
            return tools::restore(self, &tools, path);
        }
        if start.starts_with(logical::MAGIC.as_bytes()) {
            ensure_empty(self.client())?;
            return logical::restore(self.client(), path);
        }
        Err(restore_error(format!(
            "{} is not a ferry backup of a PostgreSQL database (neither pg_dump's custom format nor ferry's logical dump)",
            path.display()
        )))
    }
}

fn restore_error(message: String) -> DbError {
    DbError::new(DbErrorKind::Apply, message)
}

/// Up to `buf.len()` bytes from the start of `path`.
fn read_start(path: &Path, buf: &mut [u8]) -> Result<usize, DbError> {
    let cannot = |e: std::io::Error| restore_error(format!("cannot read {}: {e}", path.display()));
    let mut file = File::open(path).map_err(cannot)?;
    let mut len = 0;
    while len < buf.len() {
        let n = file.read(&mut buf[len..]).map_err(cannot)?;
        if n == 0 {
            break;
        }
        len += n;
    }
    Ok(len)
}

/// The server's major version (15 for 15.4).
fn server_major(client: &mut impl GenericClient) -> Result<u32, DbError> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int4", &[])
        .map_err(|e| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot read the server version: {}", pg_message(&e)),
            )
        })?;
    let num: i32 = row.get(0);
    Ok((num / 10000) as u32)
}

/// Refuses to restore into a database that holds anything of its own: a restore
/// into it would either fail half-way through or mix two databases. Objects that belong
/// to extensions (installed by a template database) do not count.
fn ensure_empty(client: &mut impl GenericClient) -> Result<(), DbError> {
    const USER_SCHEMA: &str = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";
    let not_member = |catalog: &str, oid: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass \
             AND d.objid = {oid} AND d.deptype = 'e')"
        )
    };
    let sql = format!(
        "SELECT current_database()::text, o.kind, o.name FROM ( \
           SELECT 'schema' AS kind, quote_ident(n.nspname) AS name FROM pg_namespace n \
            WHERE {USER_SCHEMA} AND n.nspname <> 'public' AND {ns} \
           UNION ALL \
           SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
                    WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' \
                    ELSE 'table' END, \
                  quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND {rel} \
           UNION ALL \
           SELECT 'function', quote_ident(n.nspname) || '.' || quote_ident(p.proname) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
            WHERE {USER_SCHEMA} AND {proc} \
           UNION ALL \
           SELECT 'type', quote_ident(n.nspname) || '.' || quote_ident(t.typname) \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
            WHERE {USER_SCHEMA} AND t.typtype IN ('e', 'd', 'r') AND {typ} \
         ) o ORDER BY o.kind, o.name",
        ns = not_member("pg_namespace", "n.oid"),
        rel = not_member("pg_class", "c.oid"),
        proc = not_member("pg_proc", "p.oid"),
        typ = not_member("pg_type", "t.oid"),
    );
    let rows = client.query(&sql, &[]).map_err(|e| {
        restore_error(format!(
            "cannot check that the database is empty: {}",
            pg_message(&e)
        ))
    })?;
    if rows.is_empty() {
        return Ok(());
    }
    const NAMED: usize = 5;
    let database: String = rows[0].get(0);
    let mut names: Vec<String> = rows
        .iter()
        .take(NAMED)
        .map(|r| format!("{} {}", r.get::<_, String>(1), r.get::<_, String>(2)))
        .collect();
    if rows.len() > NAMED {
        names.push(format!("and {} more", rows.len() - NAMED));
    }
    Err(restore_error(format!(
        "cannot restore into database \"{database}\": it is not empty ({}); restore into a new, empty database. Nothing was changed",
        names.join(", ")
    )))
}

/// A backup being written beside its final name, removed unless finished: a failed or
/// interrupted backup never leaves a file that looks complete.
struct PartialFile {
    path: PathBuf,
    done: bool,
}

impl PartialFile {
    fn new(target: &Path) -> Result<PartialFile, DbError> {
        let mut name = target
            .file_name()
            .ok_or_else(|| {
                DbError::new(
                    DbErrorKind::Inspect,
                    format!("{} is not a file name", target.display()),
                )
            })?
            .to_os_string();
        name.push(format!(".partial-{}", std::process::id()));
        let path = target.with_file_name(name);
        Ok(PartialFile { path, done: false })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file durable and moves it to `target`.
    fn finish(mut self, target: &Path) -> Result<(), DbError> {
        let failed = |what: &str, e: std::io::Error| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot {what} {}: {e}", target.display()),
            )
        };
        File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| failed("write", e))?;
        std::fs::rename(&self.path, target).map_err(|e| failed("write", e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to report if it was never created.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `text` as an SQL string literal (standard_conforming_strings is on).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_from_the_environment() {
        // The only test that touches this variable.
        let cases = [
            (None, Some(BackupMethod::Auto)),
            (Some("builtin"), Some(BackupMethod::Builtin)),
            (Some(" PG_DUMP "), Some(BackupMethod::PgDump)),
            (Some("auto"), Some(BackupMethod::Auto)),
            (Some("tar"), None),
        ];
        for (value, expected) in cases {
            match value {
                Some(v) => std::env::set_var(BACKUP_METHOD_ENV, v),
                None => std::env::remove_var(BACKUP_METHOD_ENV),
            }
            assert_eq!(BackupMethod::from_env().ok(), expected, "{value:?}");
        }
        std::env::remove_var(BACKUP_METHOD_ENV);
    }

    #[test]
    fn partial_files_sit_beside_their_target() {
        let partial = PartialFile::new(Path::new("/backups/prod.dump")).unwrap();
        let name = partial
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("prod.dump.partial-"), "{name}");
        assert_eq!(partial.path().parent(), Some(Path::new("/backups")));
    }
}
