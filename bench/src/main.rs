//! Benchmarks ferry end to end, as a user runs it.
//!
//! `cargo run --release -p ferry-bench -- [--tables 100,1000] [--runs 3] [--pg URL]`
//!
//! Generates N-table schemas (about 10 columns, 2 indexes and 1 foreign key per table,
//! a few enums) and times, with the release `ferry` binary: start-up (`--version`),
//! `diff` file→file, `push` onto an empty database, `push` with nothing to do, `pull`.
//! PostgreSQL rows need a server (default postgres://postgres@127.0.0.1:5432/postgres);
//! SQLite rows need nothing. Prints the median of `--runs` runs.
//!
//! `cargo run --release -p ferry-bench -- migrate [--migrations 200] [--runs 3] [--durable]`
//! times versioned migrations instead: see `migrate.rs`. Results: `bench/README.md`.
//!
//! `cargo run --release -p ferry-bench -- backup [--tables 10] [--rows 100000] [--runs 3]`
//! times backup and restore, ferry's built-in dump against pg_dump: see `backup.rs`.

mod backup;
mod migrate;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sizes: Vec<usize> = value("--tables")
        .unwrap_or_else(|| "100,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = value("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    let pg_admin =
        value("--pg").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());

    let ferry = ferry_binary();
    let work = std::env::temp_dir().join(format!("ferry-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("create work dir");

    if args.get(1).map(String::as_str) == Some("backup") {
        let tables = value("--tables").and_then(|v| v.parse().ok()).unwrap_or(10);
        let rows = value("--rows")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        backup::run(&work, tables, rows, runs, &pg_admin);
        let _ = std::fs::remove_dir_all(&work);
        return;
    }

    if args.get(1).map(String::as_str) == Some("migrate") {
        let counts: Vec<usize> = value("--migrations")
            .unwrap_or_else(|| "200".into())
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        let durable = args.iter().any(|a| a == "--durable");
        migrate::run(&ferry, &work, &counts, runs, &pg_admin, durable);
        let _ = std::fs::remove_dir_all(&work);
        return;
    }

    let mut rows: Vec<(String, Duration)> = Vec::new();
    rows.push((
        "ferry --version".into(),
        median(runs, || time(&ferry, &["--version"])),
    ));

    let pg_ok = postgres::Client::connect(&pg_admin, postgres::NoTls).is_ok();
    if !pg_ok {
        eprintln!("note: no PostgreSQL at {pg_admin}; PostgreSQL rows skipped");
    }
    for &n in &sizes {
        for dialect in ["sqlite", "postgres"] {
            if dialect == "postgres" && !pg_ok {
                continue;
            }
            let dir = work.join(format!("{dialect}-{n}"));
            let schema_a = dir.join("a");
            let schema_b = dir.join("b");
            write_schema(&schema_a, n, dialect, false);
            write_schema(&schema_b, n, dialect, true);
            let (a, b) = (
                schema_a.display().to_string(),
                schema_b.display().to_string(),
            );
            rows.push((
                format!("{dialect} {n} tables: diff file→file (1 change)"),
                median(runs, || {
                    time(
                        &ferry,
                        &["diff", "--from", &a, "--to", &b, "--dialect", dialect],
                    )
                }),
            ));
            let mut push_empty = Vec::new();
            let mut push_noop = Vec::new();
            let mut pull = Vec::new();
            for run in 0..runs {
                let db = Database::new(dialect, &pg_admin, &dir, run);
                push_empty.push(time(&ferry, &["push", "--url", &db.url, "--schema", &a]));
                push_noop.push(time(&ferry, &["push", "--url", &db.url, "--schema", &a]));
                let out = dir.join(format!("pulled-{run}"));
                pull.push(time(
                    &ferry,
                    &[
                        "pull",
                        "--url",
                        &db.url,
                        "--out",
                        &out.display().to_string(),
                    ],
                ));
            }
            rows.push((
                format!("{dialect} {n} tables: push onto empty database"),
                middle(push_empty),
            ));
            rows.push((
                format!("{dialect} {n} tables: push, nothing to do"),
                middle(push_noop),
            ));
            rows.push((format!("{dialect} {n} tables: pull"), middle(pull)));
        }
    }
    let _ = std::fs::remove_dir_all(&work);

    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(10);
    let mut out = String::new();
    let _ = writeln!(out, "{:width$}  {:>10}", "measurement", "median");
    for (label, d) in rows {
        let _ = writeln!(out, "{label:width$}  {:>8.1} ms", d.as_secs_f64() * 1000.0);
    }
    print!("{out}");
}

/// The release binary next to this one (built by `cargo run --release -p ferry-bench`).
fn ferry_binary() -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    let candidate = me.with_file_name("ferry");
    if !candidate.exists() {
        let status = Command::new("cargo")
            .args(["build", "--release", "-q", "-p", "ferry-cli"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building ferry failed");
    }
    candidate
}

fn time(ferry: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new(ferry)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run ferry");
    let elapsed = start.elapsed();
    if !out.status.success() {
        panic!(
            "ferry {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    elapsed
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    middle((0..runs.max(1)).map(|_| f()).collect())
}

fn middle(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Database {
    url: String,
    admin: String,
    name: Option<String>,
}

impl Database {
    fn new(dialect: &str, admin: &str, dir: &Path, run: usize) -> Database {
        if dialect == "sqlite" {
            let path = dir.join(format!("bench-{run}.db"));
            let _ = std::fs::remove_file(&path);
            return Database {
                url: format!("sqlite://{}", path.display()),
                admin: String::new(),
                name: None,
            };
        }
        let name = format!("ferry_bench_{}_{run}", std::process::id());
        let mut c = postgres::Client::connect(admin, postgres::NoTls).expect("connect");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .and_then(|_| c.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0")))
            .expect("create bench database");
        let base = &admin[..admin.rfind('/').expect("database in URL")];
        Database {
            url: format!("{base}/{name}"),
            admin: admin.to_string(),
            name: Some(name),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(name) = &self.name {
            if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// N tables in files of 50 tables each; `changed` adds one column to the last table.
fn write_schema(dir: &Path, n: usize, dialect: &str, changed: bool) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("mkdir");
    let pg = dialect == "postgres";
    let mut enums = String::new();
    if pg {
        for e in 0..4 {
            let _ = writeln!(
                enums,
                "CREATE TYPE status_{e} AS ENUM ('new', 'active', 'archived');"
            );
        }
        std::fs::write(dir.join("000_types.sql"), enums).expect("write");
    }
    for chunk in 0..n.div_ceil(50) {
        let mut sql = String::new();
        for t in chunk * 50..((chunk + 1) * 50).min(n) {
            let id = if pg {
                "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
            } else {
                "integer PRIMARY KEY"
            };
            let status = if pg {
                format!("status_{} NOT NULL DEFAULT 'new'", t % 4)
            } else {
                "text NOT NULL DEFAULT 'new'".into()
            };
            let ts = if pg {
                "timestamptz NOT NULL DEFAULT now()"
            } else {
                "text NOT NULL DEFAULT CURRENT_TIMESTAMP"
            };
            let parent = if t == 0 {
                String::new()
            } else {
                format!(
                    ",\n  parent_id bigint REFERENCES table_{} (id) ON DELETE CASCADE",
                    t - 1
                )
            };
            let extra = if changed && t == n - 1 {
                ",\n  added_column text"
            } else {
                ""
            };
            let _ = write!(
                sql,
                "CREATE TABLE table_{t} (\n  id {id},\n  name varchar(200) NOT NULL,\n  email text UNIQUE,\n  score numeric(10,2) DEFAULT 0 CHECK (score >= 0),\n  status {status},\n  created_at {ts},\n  note text,\n  flag boolean NOT NULL DEFAULT false,\n  amount integer{parent}{extra}\n);\nCREATE INDEX table_{t}_name_idx ON table_{t} (name);\nCREATE INDEX table_{t}_created_idx ON table_{t} (created_at DESC);\n\n"
            );
        }
        std::fs::write(dir.join(format!("{chunk:03}_tables.sql")), sql).expect("write");
    }
}
