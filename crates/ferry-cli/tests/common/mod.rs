//! Test harness: real databases, one per test, and the `ferry` binary run as a user would.
//!
//! PostgreSQL: `FERRY_TEST_PG_URL` (a URL to a maintenance database such as
//! `postgres://postgres@127.0.0.1:5432/postgres`), else that default; when nothing answers,
//! a throwaway cluster is started with `initdb`/`pg_ctl` (as the `postgres` user when
//! running as root) and stopped when the test process exits... or left to the OS temp dir.
//! Each test creates its own database from `template0` and drops it, so tests run in
//! parallel and leave nothing behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `ferry` as a user runs it.
pub fn ferry() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.env("NO_COLOR", "1").env_remove("FERRY_URL");
    cmd
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `ferry args...` in `dir` (stdin closed: never interactive).
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    let out = ferry()
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("failed to start the ferry binary");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(args: &[&str]) -> Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The maintenance URL of a PostgreSQL server that answers (found or started once).
pub fn pg_admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("FERRY_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
        if postgres::Client::connect(&url, postgres::NoTls).is_ok() {
            return url;
        }
        start_throwaway_cluster().unwrap_or_else(|e| {
            panic!("no PostgreSQL answers at {url} and a throwaway cluster could not start: {e}")
        })
    })
}

/// `initdb` + `pg_ctl start` in a temp dir on a free port. initdb refuses to run as root,
/// so as root the cluster belongs to the `postgres` user.
fn start_throwaway_cluster() -> Result<String, String> {
    let bin = find_pg_bin().ok_or("initdb not found (install postgresql)")?;
    let dir = std::env::temp_dir().join(format!("ferry-pg-{}", unique_suffix()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let wrap = |program: &Path, args: &[String]| -> Command {
        if as_root {
            let _ = Command::new("chown")
                .args(["-R", "postgres", &dir.display().to_string()])
                .status();
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program).args(args);
            c
        } else {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    };
    let data = dir.join("data");
    let status = wrap(
        &bin.join("initdb"),
        &[
            "-D".into(),
            data.display().to_string(),
            "-U".into(),
            "postgres".into(),
            "-A".into(),
            "trust".into(),
        ],
    )
    .output()
    .map_err(|e| e.to_string())?;
    if !status.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    let opts = format!(
        "-p {port} -k {} -c fsync=off -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let status = wrap(
        &bin.join("pg_ctl"),
        &[
            "-D".into(),
            data.display().to_string(),
            "-o".into(),
            opts,
            "-l".into(),
            dir.join("log").display().to_string(),
            "-w".into(),
            "start".into(),
        ],
    )
    .output()
    .map_err(|e| e.to_string())?;
    if !status.status.success() {
        return Err(format!(
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

fn find_pg_bin() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|p| p.join("initdb").exists())
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn with_database(admin: &str, db: &str) -> String {
    match admin.rfind('/') {
        Some(i) if !admin[..i].ends_with('/') => {
            let query = admin[i..].find('?').map(|q| &admin[i + q..]).unwrap_or("");
            format!("{}/{db}{query}", &admin[..i])
        }
        _ => format!("{admin}/{db}"),
    }
}

/// A fresh PostgreSQL database, dropped when this value goes out of scope.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn new() -> PgDb {
        let admin = pg_admin_url();
        let name = format!("ferry_test_{}", unique_suffix());
        let mut client =
            postgres::Client::connect(admin, postgres::NoTls).expect("connect to PostgreSQL");
        client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .expect("create test database");
        PgDb {
            url: with_database(admin, &name),
            name,
        }
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to test database")
    }

    /// Runs SQL directly (not through ferry): sets up states and checks data.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        self.client()
            .batch_execute(sql)
            .map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => e.to_string(),
            })
    }

    /// Runs a script with `psql -f`, statement by statement in autocommit, as users apply
    /// `ferry diff` output (a single multi-statement query would be one transaction).
    pub fn psql_script(&self, sql: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = dir.path().join("script.sql");
        std::fs::write(&file, sql).map_err(|e| e.to_string())?;
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url, "-f"])
            .arg(&file)
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    pub fn query_strings(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let rows = self.client().simple_query(sql).expect("query");
        rows.into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(pg_admin_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A fresh SQLite database file in its own temp dir.
pub struct SqliteDb {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub url: String,
}

impl SqliteDb {
    pub fn new() -> SqliteDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("test.db");
        let url = format!("sqlite://{}", path.display());
        SqliteDb { dir, path, url }
    }

    pub fn connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).expect("open sqlite")
    }

    pub fn execute(&self, sql: &str) -> Result<(), String> {
        self.connection()
            .execute_batch(sql)
            .map_err(|e| e.to_string())
    }
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

/// Cluster-wide roles made for one test, dropped after its databases (declare it first).
pub struct Roles(pub Vec<String>);

impl Roles {
    pub fn new(names: &[&str]) -> Roles {
        let names: Vec<String> = names
            .iter()
            .map(|n| format!("ferry_{n}_{}", unique_suffix()))
            .collect();
        let mut c = postgres::Client::connect(pg_admin_url(), postgres::NoTls).unwrap();
        for n in &names {
            c.batch_execute(&format!("CREATE ROLE {n}")).unwrap();
        }
        Roles(names)
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(pg_admin_url(), postgres::NoTls) {
            for n in &self.0 {
                let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {n}"));
            }
        }
    }
}

/// The output of a `ferry` run that must have succeeded.
pub fn ok(out: Output) -> Output {
    assert!(out.success(), "{out}");
    out
}

/// A project directory for PostgreSQL: a `ferry.toml` whose `dev` environment is `url`.
pub fn pg_project(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "ferry.toml",
        &format!("dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{url}\"\n"),
    );
    dir
}

/// `ferry generate` in the project `dir` writes no migration: replaying the migrations
/// (offline) builds exactly what the schema files declare.
pub fn assert_generates_nothing(dir: &Path) {
    let out = ok(run_in(dir, &["generate", "nothing"]));
    let generated = dir.join("migrations").read_dir().unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with("_nothing")
    });
    assert!(!generated, "a migration was generated:\n{out}");
}

/// `ferry diff` of the PostgreSQL schema file `file` against itself, with `extra` arguments
/// (e.g. `--dev-url`): how ferry reads the file, errors included.
pub fn read_pg_file(file: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "diff",
        "--from",
        file,
        "--to",
        file,
        "--dialect",
        "postgres",
    ];
    args.extend_from_slice(extra);
    run(&args)
}
