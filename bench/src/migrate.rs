//! The `migrate` scenario: what `ferry migrate` costs beyond the SQL it runs.
//!
//! `cargo run --release -p ferry-bench -- migrate [--migrations 200] [--runs 3] [--pg URL] [--durable]`
//!
//! Writes N migrations of one tiny statement each (`CREATE TABLE bench_0001 (id integer)`),
//! hashes them, and times, on a fresh database each run:
//!
//! - `ferry migrate` applying all N (one process, one connection, N transactions, each with
//!   its history row), and the time ferry itself reports for its apply loop;
//! - the same files through the database's own client in one process, each file between
//!   `BEGIN` and `COMMIT` (the SQL itself: the baseline); again with an `INSERT` of a
//!   history row like ferry's in each transaction (the bookkeeping any tool needs); and
//!   again with every other statement ferry sends per migration (see `Variant`);
//! - PostgreSQL only: `psql -1 -f up.sql` once per file (a shell loop: N processes);
//! - the client on an empty script (its start-up and connection);
//! - `ferry migrate` with nothing to do, and `ferry status`, on the migrated database.
//!
//! psql is the real binary, not Debian's Perl wrapper, and connects as ferry does (no TLS,
//! no GSS). sqlite3 runs in exclusive locking mode, as ferry does while it holds its lock.
//! SQLite baselines need the `sqlite3` CLI; without it only ferry's rows are printed.
//! Prints the median of `--runs` runs, total and per migration.
//!
//! Commits do not wait for the disk unless `--durable`: PostgreSQL databases get
//! `synchronous_commit = off`, SQLite files go to /dev/shm. A flush per commit costs ferry
//! and the clients alike, and its variance (a virtual disk, other work on the machine)
//! would otherwise drown the differences this measures. Each run rotates which contender
//! goes first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{middle, Database};

struct Row {
    label: String,
    total: Duration,
    /// Divide by this for the per-migration column (None: a fixed cost).
    per: Option<usize>,
}

pub fn run(ferry: &Path, work: &Path, sizes: &[usize], runs: usize, pg_admin: &str, durable: bool) {
    let pg_ok = postgres::Client::connect(pg_admin, postgres::NoTls).is_ok();
    if !pg_ok {
        eprintln!("note: no PostgreSQL at {pg_admin}; PostgreSQL rows skipped");
    }
    let sqlite3 = Command::new("sqlite3").arg("--version").output().is_ok();
    if !sqlite3 {
        eprintln!("note: no sqlite3 CLI; SQLite baselines skipped");
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    for &n in sizes {
        for dialect in ["postgres", "sqlite"] {
            if dialect == "postgres" && !pg_ok {
                continue;
            }
            let dir = work.join(format!("migrate-{dialect}-{n}"));
            let migrations = dir.join("migrations");
            write_migrations(&migrations, n);
            let m = migrations.display().to_string();
            ferry_ok(ferry, &["hash", "--dir", &m]);

            let mut ferry_total = Vec::new();
            let mut ferry_loop = Vec::new();
            let mut noop = Vec::new();
            let mut status = Vec::new();
            let mut plain = Vec::new();
            let mut with_history = Vec::new();
            let mut as_ferry = Vec::new();
            let mut per_file = Vec::new();
            let mut empty = Vec::new();
            let baselines = dialect == "postgres" || sqlite3;
            let script = dir.join("all.sql");
            let nothing = dir.join("empty.sql");
            std::fs::write(&nothing, "").expect("write script");
            // Without --durable the SQLite files live in memory (tmpfs), like the WAL
            // flushes PostgreSQL skips with synchronous_commit off.
            let db_dir = match (durable, Path::new("/dev/shm").is_dir()) {
                (false, true) => {
                    let d = Path::new("/dev/shm").join(dir.file_name().expect("name"));
                    std::fs::create_dir_all(&d).expect("mkdir");
                    d
                }
                _ => dir.clone(),
            };
            for run in 0..runs.max(1) {
                // Every database of the run first, then a checkpoint: creating a database
                // writes WAL that would otherwise be flushed during the next measurement.
                let dbs: Vec<Database> = (0..5)
                    .map(|k| Database::new(dialect, pg_admin, &db_dir, run + 1000 * k))
                    .collect();
                if dialect == "postgres" {
                    let mut admin =
                        postgres::Client::connect(pg_admin, postgres::NoTls).expect("connect");
                    if !durable {
                        for db in &dbs {
                            let name = db.name.as_deref().expect("a PostgreSQL database");
                            admin
                                .batch_execute(&format!(
                                    "ALTER DATABASE {name} SET synchronous_commit = off"
                                ))
                                .expect("synchronous_commit");
                        }
                    }
                    let _ = admin.batch_execute("CHECKPOINT");
                }
                // Each run starts with a different contender, so none always goes first.
                for turn in 0..4 {
                    match (turn + run) % 4 {
                        0 => {
                            let url = &dbs[0].url;
                            let (took, stderr) =
                                ferry_ok(ferry, &["migrate", "--url", url, "--dir", &m]);
                            ferry_total.push(took);
                            ferry_loop.push(reported_loop(&stderr));
                            noop.push(ferry_ok(ferry, &["migrate", "--url", url, "--dir", &m]).0);
                            status.push(ferry_ok(ferry, &["status", "--url", url, "--dir", &m]).0);
                        }
                        k if baselines => {
                            let variant =
                                [Variant::Plain, Variant::History, Variant::AsFerry][k - 1];
                            std::fs::write(
                                &script,
                                client_script(&migrations, n, dialect, variant),
                            )
                            .expect("write script");
                            let took = client(dialect, &dbs[k].url, &script);
                            match variant {
                                Variant::Plain => plain.push(took),
                                Variant::History => with_history.push(took),
                                Variant::AsFerry => as_ferry.push(took),
                            }
                        }
                        _ => {}
                    }
                }
                if !baselines {
                    continue;
                }
                let url = &dbs[4].url;
                empty.push(client(dialect, url, &nothing));
                if dialect == "postgres" {
                    let started = Instant::now();
                    for i in 0..n {
                        let up = migrations.join(id(i)).join("up.sql");
                        psql(url, &["-1", "-f", &up.display().to_string()]);
                    }
                    per_file.push(started.elapsed());
                }
            }
            if db_dir != dir {
                let _ = std::fs::remove_dir_all(&db_dir);
            }

            let label = |what: &str| format!("{dialect} {n} migrations: {what}");
            let cli = if dialect == "postgres" {
                "psql"
            } else {
                "sqlite3"
            };
            let ferry_total = middle(ferry_total);
            let ferry_loop = middle(ferry_loop);
            rows.push(Row {
                label: label("ferry migrate, empty database"),
                total: ferry_total,
                per: Some(n),
            });
            rows.push(Row {
                label: label("  of which ferry's apply loop (as it reports)"),
                total: ferry_loop,
                per: Some(n),
            });
            rows.push(Row {
                label: label("ferry migrate, nothing to do"),
                total: middle(noop),
                per: None,
            });
            rows.push(Row {
                label: label("ferry status"),
                total: middle(status),
                per: None,
            });
            if plain.is_empty() {
                continue;
            }
            let plain = middle(plain);
            let with_history = middle(with_history);
            let empty = middle(empty);
            rows.push(Row {
                label: label(&format!("{cli}, one process, BEGIN/COMMIT per file")),
                total: plain,
                per: Some(n),
            });
            rows.push(Row {
                label: label(&format!("{cli}, same + a history INSERT per file")),
                total: with_history,
                per: Some(n),
            });
            rows.push(Row {
                label: label(&format!(
                    "{cli}, same + ferry's other per-migration statements"
                )),
                total: middle(as_ferry),
                per: Some(n),
            });
            if !per_file.is_empty() {
                rows.push(Row {
                    label: label(&format!("{cli} -1 -f, one process per file")),
                    total: middle(per_file),
                    per: Some(n),
                });
            }
            rows.push(Row {
                label: label(&format!("{cli} on an empty script (start + connect)")),
                total: empty,
                per: None,
            });
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let each = |d: f64| d / n as f64;
            summary.push(format!(
                "{dialect}, {n} migrations: ferry {:.2} ms/migration vs {cli} {:.2}: {:+.2} ms per migration \
                 ({:+.2} against {cli} with a history row); \
                 inside ferry's loop {:.2} ms/migration vs {cli} without its start-up {:.2}: {:+.2}",
                each(ms(ferry_total)),
                each(ms(plain)),
                each(ms(ferry_total) - ms(plain)),
                each(ms(ferry_total) - ms(with_history)),
                each(ms(ferry_loop)),
                each(ms(plain) - ms(empty)),
                each(ms(ferry_loop) - (ms(plain) - ms(empty))),
            ));
        }
    }

    let width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(10);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:width$}  {:>10}  {:>14}",
        "measurement (median)", "total", "per migration"
    );
    for r in rows {
        let total = r.total.as_secs_f64() * 1000.0;
        let per = match r.per {
            Some(n) => format!("{:>8.2} ms", total / n as f64),
            None => String::new(),
        };
        let _ = writeln!(out, "{:width$}  {total:>7.1} ms  {per:>14}", r.label);
    }
    out.push('\n');
    for s in summary {
        let _ = writeln!(out, "{s}");
    }
    print!("{out}");
}

fn id(i: usize) -> String {
    format!("{:014}_create_bench_{i:04}", 20260101000000u64 + i as u64)
}

/// N migrations of one tiny statement each, with their down.sql.
fn write_migrations(dir: &Path, n: usize) {
    let _ = std::fs::remove_dir_all(dir);
    for i in 0..n {
        let d = dir.join(id(i));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(
            d.join("up.sql"),
            format!("CREATE TABLE bench_{i:04} (id integer);\n"),
        )
        .expect("write");
        std::fs::write(d.join("down.sql"), format!("DROP TABLE bench_{i:04};\n")).expect("write");
    }
}

#[derive(Clone, Copy)]
enum Variant {
    /// `BEGIN`, the file, `COMMIT`: the SQL itself.
    Plain,
    /// And an `INSERT` into a history table like ferry's.
    History,
    /// And what else ferry sends per migration (history.rs in each driver): the history
    /// table's `CREATE … IF NOT EXISTS`; for SQLite also `PRAGMA foreign_keys` off and on
    /// around the transaction and a whole-database `PRAGMA foreign_key_check`.
    AsFerry,
}

const PG_HISTORY: &str = "CREATE SCHEMA IF NOT EXISTS bench;\n\
CREATE TABLE IF NOT EXISTS bench.history (version text PRIMARY KEY, name text NOT NULL, \
checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), \
execution_ms bigint NOT NULL, ferry_version text NOT NULL);\n";

const SQLITE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS bench_history (version text PRIMARY KEY, \
name text NOT NULL, checksum text NOT NULL, \
applied_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), \
execution_ms integer NOT NULL, ferry_version text NOT NULL);\n";

/// Every up.sql in its own transaction, read with the client's own include command.
/// SQLite runs in exclusive locking mode, as ferry holds its lock for the whole run.
fn client_script(dir: &Path, n: usize, dialect: &str, variant: Variant) -> String {
    let pg = dialect == "postgres";
    let (include, history_ddl, table) = if pg {
        (r"\i", PG_HISTORY, "bench.history")
    } else {
        (".read", SQLITE_HISTORY, "bench_history")
    };
    let mut out = String::new();
    if !pg {
        out.push_str("PRAGMA locking_mode = EXCLUSIVE;\n");
    }
    if matches!(variant, Variant::History) {
        out.push_str(history_ddl);
    }
    let as_ferry = matches!(variant, Variant::AsFerry);
    for i in 0..n {
        let up: PathBuf = dir.join(id(i)).join("up.sql");
        if as_ferry && !pg {
            out.push_str("PRAGMA foreign_keys = OFF;\n");
        }
        let begin = if pg { "BEGIN" } else { "BEGIN IMMEDIATE" };
        let _ = writeln!(out, "{begin};\n{include} {}", up.display());
        if as_ferry {
            if !pg {
                out.push_str("PRAGMA foreign_key_check;\n");
            }
            out.push_str(history_ddl);
        }
        if !matches!(variant, Variant::Plain) {
            let _ = writeln!(
                out,
                "INSERT INTO {table} (version, name, checksum, execution_ms, ferry_version) \
                 VALUES ('{:014}', 'create_bench_{i:04}', '{:064x}', 0, '0.1.0');",
                20260101000000u64 + i as u64,
                i
            );
        }
        out.push_str("COMMIT;\n");
        if as_ferry && !pg {
            out.push_str("PRAGMA foreign_keys = ON;\n");
        }
    }
    out
}

fn client(dialect: &str, url: &str, script: &Path) -> Duration {
    let started = Instant::now();
    if dialect == "postgres" {
        psql(url, &["-f", &script.display().to_string()]);
    } else {
        let path = url.strip_prefix("sqlite://").expect("sqlite URL");
        let out = Command::new("sqlite3")
            .args(["-bail", path])
            .arg(format!(".read {}", script.display()))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run sqlite3");
        assert!(
            out.status.success(),
            "sqlite3 failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    started.elapsed()
}

/// The real psql, not Debian's `pg_wrapper` (a Perl script that adds ~30 ms per start):
/// `$PSQL`, else the newest `/usr/lib/postgresql/*/bin/psql`, else `psql` on the PATH.
fn psql_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PSQL") {
        return PathBuf::from(p);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/psql"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from("psql"))
}

/// psql connected as ferry connects: plain TCP (ferry uses no TLS), no GSS encryption.
fn psql(url: &str, args: &[&str]) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}sslmode=disable");
    let out = Command::new(psql_binary())
        .env("PGGSSENCMODE", "disable")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ferry_ok(ferry: &Path, args: &[&str]) -> (Duration, String) {
    let started = Instant::now();
    let out = Command::new(ferry)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run ferry");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "ferry {} failed:\n{stderr}",
        args.join(" ")
    );
    (took, stderr)
}

/// The apply loop's time from ferry's last line: "Applied N migration(s) to … in X ms; …".
fn reported_loop(stderr: &str) -> Duration {
    let ms = stderr
        .lines()
        .rev()
        .find_map(|l| {
            let l = l.strip_prefix("Applied ")?;
            let (_, rest) = l.split_once(" in ")?;
            rest.split_once(" ms")?.0.parse::<u64>().ok()
        })
        .unwrap_or_else(|| panic!("no \"Applied … in X ms\" line in:\n{stderr}"));
    Duration::from_millis(ms)
}
