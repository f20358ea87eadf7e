//! The `backup` scenario: ferry's built-in logical dump against pg_dump / pg_restore on the
//! same data, in one run.
//!
//! `cargo run --release -p ferry-bench -- backup [--tables 10] [--rows 100000] [--runs 3] [--pg URL]`
//!
//! Fills a database with `--tables` tables of `--rows` rows of mixed types (bigint identity
//! key, varchar, unique text, numeric, enum, timestamptz, boolean, jsonb, text[], bytea,
//! text with NULLs, a foreign key to the previous table, one secondary index), then times,
//! each run:
//!
//! - through ferry's library (`PgDatabase::backup_with` / `restore_from`, what `ferry` runs):
//!   the built-in dump and its restore, and the pg_dump method (custom format) and its
//!   restore with pg_restore; the library also counts the rows of every table (in the
//!   built-in dump for free, beside pg_dump with an extra `count(*)` per table);
//! - the tools alone, as a shell script would run them: `pg_dump -Fc` (compressed, the
//!   default), `pg_dump -Fc -Z0` (uncompressed), `pg_dump -Fp` (plain SQL, like ferry's),
//!   `pg_restore --single-transaction`, and `psql --single-transaction -f` of the plain dump.
//!
//! Every restore goes into a fresh database, checked afterwards by its row count. Everything
//! connects over plain TCP (`sslmode=disable`, as ferry's own connection): TLS would cost
//! the tools and not ferry's built-in path. The tools are the real binaries of the newest
//! `/usr/lib/postgresql/*/bin`, not Debian's wrappers. Prints the median of `--runs` runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_core::Backup;
use ferry_postgres::{BackupMethod, PgDatabase};

use crate::{middle, Database};

/// Names the benchmark's databases apart from other scenarios' (`Database::new` takes a
/// number).
const DB_BASE: usize = 9000;

pub fn run(work: &Path, tables: usize, rows: usize, runs: usize, pg_admin: &str) {
    if postgres::Client::connect(pg_admin, postgres::NoTls).is_err() {
        eprintln!("no PostgreSQL at {pg_admin}: the backup scenario needs one");
        return;
    }
    let bin = tool_dir();
    let dir = work.join("backup");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut next_db = DB_BASE;
    let mut new_db = || {
        next_db += 1;
        Database::new("postgres", pg_admin, &dir, next_db)
    };

    let source = new_db();
    let url = plain_tcp(&source.url);
    let started = Instant::now();
    let expected = fill(&url, tables, rows);
    let size: i64 = client(&url)
        .query_one("SELECT pg_database_size(current_database())", &[])
        .unwrap()
        .get(0);
    eprintln!(
        "filled {tables} tables × {rows} rows ({expected} rows, {:.0} MB on disk) in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // label -> (times, file size)
    let mut results: Vec<(String, Vec<Duration>, u64)> = Vec::new();
    let mut record = |label: &str, took: Duration, bytes: u64| match results
        .iter_mut()
        .find(|(l, _, _)| l == label)
    {
        Some((_, times, b)) => {
            times.push(took);
            *b = bytes;
        }
        None => results.push((label.to_string(), vec![took], bytes)),
    };
    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        // ferry's library, both methods.
        for (name, method) in [
            ("built-in", BackupMethod::Builtin),
            ("pg_dump", BackupMethod::PgDump),
        ] {
            let file = dir.join(format!("ferry-{name}.backup"));
            let mut db = PgDatabase::connect(&url).expect("connect");
            let start = Instant::now();
            let info = db.backup_with(&file, method).expect("backup");
            record(
                &format!("ferry backup, {name}"),
                start.elapsed(),
                info.bytes,
            );
            assert_eq!(info.rows, expected, "{name} backup counted {}", info.rows);
            let target = new_db();
            let mut db = PgDatabase::connect(&plain_tcp(&target.url)).expect("connect");
            let start = Instant::now();
            let info = db.restore_from(&file).expect("restore");
            record(
                &format!("ferry restore, {name}"),
                start.elapsed(),
                info.bytes,
            );
            assert_eq!(count(&plain_tcp(&target.url), tables), expected);
            drop(target);
        }
        // The tools alone.
        for (name, args) in [
            ("pg_dump -Fc", vec!["-Fc"]),
            ("pg_dump -Fc -Z0", vec!["-Fc", "-Z0"]),
            ("pg_dump -Fp", vec!["-Fp"]),
        ] {
            let file = dir.join(format!("{}.dump", name.replace(' ', "")));
            let file_arg = file.display().to_string();
            let mut all = args.clone();
            all.extend(["-f", &file_arg, "-d", &url]);
            let took = tool(&bin.join("pg_dump"), &all);
            record(name, took, std::fs::metadata(&file).unwrap().len());
        }
        let custom = dir.join("pg_dump-Fc.dump").display().to_string();
        let target = new_db();
        let target_url = plain_tcp(&target.url);
        let took = tool(
            &bin.join("pg_restore"),
            &[
                "--single-transaction",
                "--exit-on-error",
                "-d",
                &target_url,
                &custom,
            ],
        );
        record("pg_restore --single-transaction (-Fc)", took, 0);
        assert_eq!(count(&target_url, tables), expected);
        drop(target);
        let plain = dir.join("pg_dump-Fp.dump").display().to_string();
        let target = new_db();
        let target_url = plain_tcp(&target.url);
        let took = tool(
            &bin.join("psql"),
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-o",
                "/dev/null",
                "-d",
                &target_url,
                "-f",
                &plain,
            ],
        );
        record("psql --single-transaction -f (-Fp)", took, 0);
        assert_eq!(count(&target_url, tables), expected);
        drop(target);
        // ferry's file through psql: it is plain SQL too.
        let builtin = dir.join("ferry-built-in.backup").display().to_string();
        let target = new_db();
        let target_url = plain_tcp(&target.url);
        let took = tool(
            &bin.join("psql"),
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-o",
                "/dev/null",
                "-d",
                &target_url,
                "-f",
                &builtin,
            ],
        );
        record("psql --single-transaction -f (ferry's file)", took, 0);
        assert_eq!(count(&target_url, tables), expected);
    }
    drop(source);
    let _ = std::fs::remove_dir_all(&dir);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "backup, {tables} tables × {rows} rows ({expected} rows, {:.0} MB database), median of {runs}:",
        size as f64 / 1e6
    );
    let width = results.iter().map(|(l, _, _)| l.len()).max().unwrap_or(10);
    let _ = writeln!(
        out,
        "{:width$}  {:>9}  {:>11}  {:>9}",
        "measurement", "time", "rows/s", "file"
    );
    for (label, times, bytes) in results {
        let t = middle(times);
        let file = if bytes > 0 {
            format!("{:.1} MB", bytes as f64 / 1e6)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{label:width$}  {:>7.2} s  {:>11.0}  {file:>9}",
            t.as_secs_f64(),
            expected as f64 / t.as_secs_f64()
        );
    }
    print!("{out}");
}

/// `url` with `sslmode=disable`.
fn plain_tcp(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect")
}

/// The newest `/usr/lib/postgresql/*/bin` (the real binaries), else the PATH's.
fn tool_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_dump").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_default()
}

fn tool(program: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new(program)
        .env("PGGSSENCMODE", "disable")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tool");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{} {} failed:\n{}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// Creates and fills the tables; returns the number of rows.
fn fill(url: &str, tables: usize, rows: usize) -> u64 {
    let mut c = client(url);
    c.batch_execute("CREATE TYPE status AS ENUM ('new', 'active', 'archived')")
        .unwrap();
    for t in 0..tables {
        let parent = if t == 0 {
            String::new()
        } else {
            format!(",\n  parent_id bigint REFERENCES t_{} (id)", t - 1)
        };
        let parent_value = if t == 0 { "" } else { ", g" };
        let parent_column = if t == 0 { "" } else { ", parent_id" };
        c.batch_execute(&format!(
            "CREATE TABLE t_{t} (
               id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
               name varchar(200) NOT NULL,
               email text UNIQUE,
               score numeric(10,2),
               status status NOT NULL DEFAULT 'new',
               created timestamptz NOT NULL,
               flag boolean NOT NULL,
               payload jsonb,
               tags text[],
               blob bytea,
               note text{parent}
             );
             INSERT INTO t_{t} (name, email, score, status, created, flag, payload, tags, blob, note{parent_column})
             SELECT 'name ' || g, 'user' || g || '@example.com', (g % 100000) / 100.0,
                    (ARRAY['new', 'active', 'archived'])[g % 3 + 1]::status,
                    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0,
                    jsonb_build_object('g', g, 'k', md5(g::text), 'ok', g % 7 = 0),
                    ARRAY['tag' || g % 10, 'x'], decode(md5(g::text), 'hex'),
                    CASE WHEN g % 5 = 0 THEN NULL ELSE repeat('note ', g % 20) END{parent_value}
             FROM generate_series(1, {rows}) g;
             CREATE INDEX t_{t}_created_idx ON t_{t} (created);
             ANALYZE t_{t};"
        ))
        .unwrap();
    }
    (tables * rows) as u64
}

fn count(url: &str, tables: usize) -> u64 {
    let mut c = client(url);
    let mut total = 0u64;
    for t in 0..tables {
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM t_{t}"), &[])
            .unwrap()
            .get(0);
        total += n as u64;
    }
    total
}
