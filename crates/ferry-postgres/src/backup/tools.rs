//! pg_dump and pg_restore: finding a pair that can handle the server, and running them
//! with the connection's settings. The password goes through `PGPASSWORD`, never on the
//! command line (where `ps` shows it) and never into a message.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ferry_core::{BackupInfo, DbError, DbErrorKind};
use postgres::config::Host;
use postgres::IsolationLevel;

use super::restore_error;
use crate::database::{pg_message, PgDatabase};
use crate::quote_ident;
use crate::tls::{ConnectConfig, RootCert};

/// A pg_dump and the pg_restore beside it.
#[derive(Debug)]
pub(super) struct Tools {
    dump: PathBuf,
    restore: PathBuf,
    /// As `--version` prints it, e.g. `15.4`.
    version: String,
}

/// The newest installed pg_dump + pg_restore pair whose major version is at least
/// `server_major` (pg_dump refuses newer servers). Versioned installations
/// (`/usr/lib/postgresql/N/bin`) come before `PATH`, whose `pg_dump` may be a wrapper that
/// picks a version by itself; for equal versions the first found wins.
pub(super) fn find(server_major: u32) -> Option<Tools> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versioned: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .collect();
        versioned.sort();
        dirs.extend(versioned);
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let mut best: Option<(u32, Tools)> = None;
    for dir in dirs {
        let (dump, restore) = (dir.join("pg_dump"), dir.join("pg_restore"));
        if !dump.is_file() || !restore.is_file() {
            continue;
        }
        let Some((major, version)) = tool_version(&dump) else {
            continue;
        };
        if major < server_major || best.as_ref().is_some_and(|(m, _)| *m >= major) {
            continue;
        }
        best = Some((
            major,
            Tools {
                dump,
                restore,
                version,
            },
        ));
    }
    best.map(|(_, tools)| tools)
}

/// (major, full version) from `tool --version`: `pg_dump (PostgreSQL) 15.4 (Debian ...)`.
fn tool_version(tool: &Path) -> Option<(u32, String)> {
    let out = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

/// (major, version) from `pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)` or `... 9.6.24`.
fn parse_version(text: &str) -> Option<(u32, String)> {
    let version = text
        .split(')')
        .nth(1)?
        .split_whitespace()
        .next()?
        .to_string();
    let major = version
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((major, version))
}

/// The connection settings as a libpq connection string without the password, and the
/// password on its own. libpq takes a `--dbname` that contains `=` as a connection string.
fn connection(settings: &ConnectConfig) -> (String, Option<String>) {
    let config = &settings.pg;
    let mut parts: Vec<String> = Vec::new();
    let mut add = |key: &str, value: &str| parts.push(format!("{key}={}", conninfo_value(value)));
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(dir) => dir.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        add("host", &hosts.join(","));
    }
    let addrs: Vec<String> = config
        .get_hostaddrs()
        .iter()
        .map(|a| a.to_string())
        .collect();
    if !addrs.is_empty() {
        add("hostaddr", &addrs.join(","));
    }
    let ports: Vec<String> = config.get_ports().iter().map(|p| p.to_string()).collect();
    if !ports.is_empty() {
        add("port", &ports.join(","));
    }
    if let Some(user) = config.get_user() {
        add("user", user);
    }
    if let Some(db) = config.get_dbname() {
        add("dbname", db);
    }
    if let Some(options) = config.get_options() {
        add("options", options);
    }
    if let Some(timeout) = config.get_connect_timeout() {
        add("connect_timeout", &timeout.as_secs().max(1).to_string());
    }
    add("application_name", "ferry");
    // The same TLS settings as ferry's own connection; libpq understands them natively.
    let tls = &settings.tls;
    add("sslmode", tls.mode.as_str());
    match &tls.root_cert {
        // libpq 16+ knows `system`; older tools read it as a file name and fail clearly.
        Some(RootCert::System) => add("sslrootcert", "system"),
        Some(RootCert::File(path)) => add("sslrootcert", &absolute(path)),
        None => {}
    }
    if let Some(cert) = &tls.client_cert {
        add("sslcert", &absolute(cert));
    }
    if let Some(key) = &tls.client_key {
        add("sslkey", &absolute(key));
    }
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    (parts.join(" "), password)
}

/// A path as the tools should see it: they run in ferry's working directory, so a relative
/// path would do too; absolute reads better in their messages.
fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// A libpq connection-string value: single-quoted, `\` and `'` escaped.
fn conninfo_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A tool started with the connection's settings.
struct Running {
    name: String,
    child: Child,
    password: Option<String>,
}

/// Starts `tool` with `args`, then `--dbname` with the connection string.
fn start(tool: &Path, args: &[&OsStr], config: &ConnectConfig) -> Result<Running, String> {
    let (conninfo, password) = connection(config);
    let mut cmd = Command::new(tool);
    cmd.args(args)
        .arg("--no-password")
        .arg("--dbname")
        .arg(&conninfo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = &password {
        cmd.env("PGPASSWORD", p);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    Ok(Running {
        name: tool
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        child,
        password,
    })
}

impl Running {
    /// Waits for the tool; fails with its stderr (without the password) unless it
    /// succeeded.
    fn wait(self) -> Result<(), String> {
        let out = self
            .child
            .wait_with_output()
            .map_err(|e| format!("{} did not finish: {e}", self.name))?;
        if out.status.success() {
            return Ok(());
        }
        let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if let Some(p) = self.password.filter(|p| !p.is_empty()) {
            stderr = stderr.replace(&p, "***");
        }
        Err(format!("{} failed ({}): {stderr}", self.name, out.status))
    }
}

/// `pg_dump --format=custom` of the whole database, ferry's history included.
///
/// pg_dump reads the snapshot this connection exports, so the tables and rows counted
/// here for [`BackupInfo`] are exactly those in the file.
pub(super) fn dump(db: &mut PgDatabase, tools: &Tools, out: &Path) -> Result<BackupInfo, DbError> {
    let failed = |message: String| DbError::new(DbErrorKind::Inspect, message);
    let config = db.config().clone();
    let mut tx = db
        .client()
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| failed(format!("cannot start the backup: {}", pg_message(&e))))?;
    let snapshot: String = tx
        .query_one("SELECT pg_export_snapshot()", &[])
        .map_err(|e| failed(format!("cannot export a snapshot: {}", pg_message(&e))))?
        .get(0);
    let args = [
        OsStr::new("--format=custom"),
        OsStr::new("--snapshot"),
        OsStr::new(&snapshot),
        OsStr::new("--file"),
        out.as_os_str(),
    ];
    let running = start(&tools.dump, &args, &config).map_err(failed)?;
    // Counted while pg_dump runs; its stderr is a few lines at most, so the pipe never
    // fills up meanwhile.
    let counted = count_rows(&mut tx);
    running.wait().map_err(failed)?;
    let (tables, rows) =
        counted.map_err(|e| failed(format!("cannot count the rows: {}", pg_message(&e))))?;
    // Read-only: ending it either way is the same.
    let _ = tx.commit();
    Ok(BackupInfo {
        method: format!("pg_dump {} (custom format)", tools.version),
        bytes: file_size(out),
        tables,
        rows,
    })
}

/// `pg_restore --single-transaction`: all of the archive or nothing.
pub(super) fn restore(
    db: &mut PgDatabase,
    tools: &Tools,
    path: &Path,
) -> Result<BackupInfo, DbError> {
    let config = db.config().clone();
    let args = [
        OsStr::new("--exit-on-error"),
        OsStr::new("--single-transaction"),
        path.as_os_str(),
    ];
    start(&tools.restore, &args, &config)
        .and_then(Running::wait)
        .map_err(|e| {
            restore_error(format!(
                "{e}\nthe restore ran in one transaction: nothing was restored"
            ))
        })?;
    let mut tx = db
        .client()
        .transaction()
        .map_err(|e| restore_error(pg_message(&e)))?;
    let (tables, rows) = count_rows(&mut tx).map_err(|e| {
        restore_error(format!(
            "restored, but cannot count the rows: {}",
            pg_message(&e)
        ))
    })?;
    let _ = tx.commit();
    Ok(BackupInfo {
        method: format!("pg_restore {} (custom format)", tools.version),
        bytes: file_size(path),
        tables,
        rows,
    })
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Every table with rows of its own (partitions and inheritance children included, each
/// counted once with `ONLY`) outside the system schemas and extensions.
fn count_rows(client: &mut impl postgres::GenericClient) -> Result<(usize, u64), postgres::Error> {
    // Row-level security would silently hide rows: fail instead, as pg_dump does.
    client.batch_execute("SET LOCAL row_security = off")?;
    let tables = client.query(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                           AND d.objid = c.oid AND d.deptype = 'e') \
         ORDER BY 1, 2",
        &[],
    )?;
    let mut rows = 0u64;
    // One statement for many tables: a round trip per table is slow on big schemas.
    for chunk in tables.chunks(200) {
        let parts: Vec<String> = chunk
            .iter()
            .map(|t| {
                format!(
                    "(SELECT count(*) FROM ONLY {}.{})",
                    quote_ident(t.get(0)),
                    quote_ident(t.get(1))
                )
            })
            .collect();
        let sum: i64 = client
            .query_one(&format!("SELECT ({})::int8", parts.join(" + ")), &[])?
            .get(0);
        rows += sum.max(0) as u64;
    }
    Ok((tables.len(), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tool_versions() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"),
            Some((15, "15.20".to_string()))
        );
        assert_eq!(
            parse_version("pg_restore (PostgreSQL) 17beta1\n"),
            Some((17, "17beta1".to_string()))
        );
        assert_eq!(parse_version("something else"), None);
    }

    #[test]
    fn connection_string_leaves_the_password_out() {
        let config = ConnectConfig::parse(
            "postgres://bob:p%27ss%5Cw0rd@db.example:5433/my%20db?options=-c%20search_path%3Dx&connect_timeout=3",
        )
        .unwrap();
        let (conninfo, password) = connection(&config);
        assert_eq!(password.as_deref(), Some("p'ss\\w0rd"));
        assert!(!conninfo.contains("w0rd"), "{conninfo}");
        assert_eq!(
            conninfo,
            "host='db.example' port='5433' user='bob' dbname='my db' \
             options='-c search_path=x' connect_timeout='3' application_name='ferry' \
             sslmode='prefer'"
        );
        let config =
            ConnectConfig::parse("postgres://u@%2Frun%2Fpostgresql/d?sslmode=disable").unwrap();
        let (conninfo, password) = connection(&config);
        assert_eq!(password, None);
        assert_eq!(
            conninfo,
            "host='/run/postgresql' port='5432' user='u' dbname='d' application_name='ferry' sslmode='disable'"
        );
    }

    #[test]
    fn connection_string_passes_the_tls_settings_on() {
        let config = ConnectConfig::parse(
            "postgres://u@db/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&sslcert=/c.pem&sslkey=/k.pem",
        )
        .unwrap();
        let (conninfo, _) = connection(&config);
        assert_eq!(
            conninfo,
            "host='db' port='5432' user='u' dbname='d' application_name='ferry' sslmode='verify-full' \
             sslrootcert='/etc/ca.pem' sslcert='/c.pem' sslkey='/k.pem'"
        );
        let config = ConnectConfig::parse("postgres://u@db/d?sslrootcert=system").unwrap();
        let (conninfo, _) = connection(&config);
        assert!(
            conninfo.ends_with("sslmode='verify-full' sslrootcert='system'"),
            "{conninfo}"
        );
    }
}
