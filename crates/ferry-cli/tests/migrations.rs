//! Versioned migrations through the binary, against real databases: generate, migrate,
//! status, rollback, check, baseline, repair; the lock, failures, tampering and merges.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// A project directory with a ferry.toml for `dialect`, the database URL as `dev`.
fn project(dialect: &str, url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "ferry.toml",
        &format!("dialect = \"{dialect}\"\n\n[environments.dev]\nurl = \"{url}\"\n"),
    );
    dir
}

/// Writes a hand-written migration `<version>_<name>` and leaves ferry.sum alone.
fn migration(dir: &Path, id: &str, up: &str, down: &str) {
    write_file(dir, &format!("migrations/{id}/up.sql"), up);
    write_file(dir, &format!("migrations/{id}/down.sql"), down);
}

/// ferry's advisory lock key: "ferry" in ASCII.
const LOCK_KEY: &str = "439788663417";

fn pg_versions(db: &PgDb) -> Vec<String> {
    db.query_strings("SELECT version FROM ferry.ferry_migrations ORDER BY version")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

fn pg_table_exists(db: &PgDb, name: &str) -> bool {
    db.query_strings(&format!("SELECT to_regclass('public.{name}') IS NOT NULL"))[0][0].as_deref()
        == Some("t")
}

#[test]
fn sqlite_generate_migrate_status_rollback_keep_rows() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    write_file(
        dir,
        "schema/app.sql",
        "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);\n",
    );
    ok(run_in(
        dir,
        &["generate", "init", "--version", "20260101000000"],
    ));
    write_file(
        dir,
        "schema/app.sql",
        "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, name text NOT NULL DEFAULT 'anon');\n\
         CREATE TABLE posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id), title text);\n",
    );
    ok(run_in(
        dir,
        &["generate", "add posts", "--version", "20260102000000"],
    ));
    let up =
        std::fs::read_to_string(dir.join("migrations/20260102000000_add_posts/up.sql")).unwrap();
    assert!(up.contains("CREATE TABLE"), "{up}");
    assert!(dir.join("migrations/ferry.sum").exists());

    // Nothing left to generate: replaying the migrations gives the schema.
    let again = ok(run_in(dir, &["generate", "noop"]));
    assert!(again.stderr.contains("Nothing to generate"), "{again}");
    assert_eq!(
        std::fs::read_dir(dir.join("migrations")).unwrap().count(),
        3
    );

    ok(run_in(dir, &["migrate", "--to", "20260101000000"]));
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x')")
        .unwrap();
    let out = ok(run_in(dir, &["migrate"]));
    assert!(
        out.stderr.contains("applied 20260102000000_add_posts"),
        "{out}"
    );
    let name: String = db
        .connection()
        .query_row("SELECT name FROM users WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "anon");

    let status = ok(run_in(dir, &["status", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["current_version"], "20260102000000");
    assert_eq!(doc["pending"], 0);
    assert_eq!(doc["migrations"][1]["state"], "applied");

    // The down of add_posts drops a table: data loss needs --force without a terminal.
    let refused = run_in(dir, &["rollback"]);
    assert_eq!(refused.code, 3, "{refused}");
    ok(run_in(dir, &["rollback", "--force"]));
    let (count, cols): (i64, i64) = db
        .connection()
        .query_row(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM pragma_table_info('users'))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((count, cols), (2, 2), "rows kept, column gone");
    let status = ok(run_in(dir, &["status"]));
    assert!(status.stdout.contains("pending"), "{status}");
    ok(run_in(dir, &["migrate"]));
}

#[test]
fn generate_is_deterministic() {
    let texts: Vec<String> = (0..2)
        .map(|_| {
            let p = project("postgres", "postgres://unused@127.0.0.1:1/x");
            let dir = p.path();
            write_file(
                dir,
                "schema/a.sql",
                "CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\nCREATE INDEX a_n ON a (n);\n",
            );
            ok(run_in(dir, &["generate", "init", "--version", "1"]));
            write_file(dir, "schema/a.sql", "CREATE TABLE a (id bigint PRIMARY KEY, m text);\n");
            ok(run_in(dir, &["generate", "change", "--version", "2", "--no-rename"]));
            let m = dir.join("migrations");
            [
                "1_init/up.sql",
                "1_init/down.sql",
                "2_change/up.sql",
                "2_change/down.sql",
                "ferry.sum",
            ]
            .iter()
            .map(|f| std::fs::read_to_string(m.join(f)).unwrap())
            .collect::<Vec<_>>()
            .join("\n=====\n")
        })
        .collect();
    assert_eq!(texts[0], texts[1]);
    assert!(
        texts[0].contains("data loss"),
        "hazards as comments: {}",
        texts[0]
    );
}

#[test]
fn postgres_up_down_up_with_data() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    write_file(
        dir,
        "schema/s.sql",
        "CREATE TABLE users (id int PRIMARY KEY, name text);\n",
    );
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    write_file(
        dir,
        "schema/s.sql",
        "CREATE TYPE mood AS ENUM ('sad', 'happy');\n\
         CREATE TABLE users (id bigint PRIMARY KEY, full_name text -- @renamed from=name\n, mood mood NOT NULL DEFAULT 'happy');\n\
         CREATE INDEX users_mood ON users (mood);\n",
    );
    ok(run_in(
        dir,
        &["generate", "rename and widen", "--version", "2"],
    ));
    ok(run_in(dir, &["migrate", "--to", "1"]));
    db.execute("INSERT INTO users VALUES (1, 'Ada'), (2, 'Bob')")
        .unwrap();
    ok(run_in(dir, &["migrate"]));
    assert_eq!(
        db.query_strings("SELECT full_name, mood::text FROM users ORDER BY id"),
        vec![
            vec![Some("Ada".into()), Some("happy".into())],
            vec![Some("Bob".into()), Some("happy".into())]
        ]
    );
    let after_up = ok(run_in(dir, &["pull", "--out", "up_state"]));
    drop(after_up);
    // The down drops users.mood: data loss, confirmed with --force.
    assert_eq!(run_in(dir, &["rollback"]).code, 3);
    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(
        db.query_strings("SELECT name FROM users ORDER BY id"),
        vec![vec![Some("Ada".into())], vec![Some("Bob".into())]]
    );
    // Back at 1: the database equals what migration 1 alone builds.
    let drift = run_in(
        dir,
        &[
            "diff",
            "--from",
            &db.url,
            "--to",
            "migrations/1_init/up.sql",
            "--exit-code",
        ],
    );
    assert_eq!(drift.code, 0, "{drift}");
    ok(run_in(dir, &["migrate"]));
    let same = run_in(
        dir,
        &["diff", "--from", &db.url, "--to", "up_state", "--exit-code"],
    );
    assert_eq!(same.code, 0, "up, down, up equals up: {same}");
    assert_eq!(pg_versions(&db), vec!["1", "2"]);
}

#[test]
fn eight_concurrent_migrates_apply_each_migration_once() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    for i in 1..=5 {
        // Not idempotent on purpose: a second run of any of these fails.
        migration(
            dir,
            &format!("{i}_step"),
            &format!("CREATE TABLE t{i} (id int PRIMARY KEY);\nSELECT pg_sleep(0.05);\nINSERT INTO t{i} VALUES ({i});\n"),
            &format!("DROP TABLE t{i};\n"),
        );
    }
    ok(run_in(dir, &["hash"]));
    let children: Vec<_> = (0..8)
        .map(|_| {
            ferry()
                .args(["migrate", "--lock-timeout", "30"])
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied_lines = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || out.status.code() == Some(8),
            "exit {:?}: {stderr}",
            out.status.code()
        );
        applied_lines += stderr.lines().filter(|l| l.starts_with("applied ")).count();
    }
    assert_eq!(
        applied_lines, 5,
        "each migration applied by exactly one process"
    );
    assert_eq!(pg_versions(&db), vec!["1", "2", "3", "4", "5"]);
    for i in 1..=5 {
        assert_eq!(
            db.query_strings(&format!("SELECT count(*) FROM t{i}"))[0][0].as_deref(),
            Some("1")
        );
    }
}

#[test]
fn a_failing_migration_leaves_the_previous_version() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    migration(
        dir,
        "1_a",
        "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n",
        "DROP TABLE a;",
    );
    migration(
        dir,
        "2_b",
        "CREATE TABLE b (id int PRIMARY KEY);\n",
        "DROP TABLE b;",
    );
    migration(
        dir,
        "3_c",
        "CREATE TABLE c (id int PRIMARY KEY);\nINSERT INTO a VALUES (2);\n\nINSERT INTO missing_table VALUES (1);\n",
        "DROP TABLE c;",
    );
    migration(dir, "4_d", "CREATE TABLE d (id int);\n", "DROP TABLE d;");
    migration(dir, "5_e", "CREATE TABLE e (id int);\n", "DROP TABLE e;");
    ok(run_in(dir, &["hash"]));
    let out = run_in(dir, &["migrate"]);
    assert_eq!(out.code, 7, "{out}");
    let file = dir.join("migrations/3_c/up.sql").display().to_string();
    assert!(
        out.stderr
            .contains(&format!("{file}:4: INSERT INTO missing_table")),
        "{out}"
    );
    assert!(out.stderr.contains("stays at version 2"), "{out}");
    assert_eq!(pg_versions(&db), vec!["1", "2"]);
    assert!(!pg_table_exists(&db, "c"), "3_c rolled back as a whole");
    assert_eq!(
        db.query_strings("SELECT count(*) FROM a")[0][0].as_deref(),
        Some("1")
    );
    let status = ok(run_in(dir, &["status", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["current_version"], "2");
    assert_eq!(doc["pending"], 3);
}

#[test]
fn kill_9_during_a_migration_leaves_the_previous_version_and_no_lock() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    migration(dir, "1_a", "CREATE TABLE a (id int);\n", "DROP TABLE a;");
    migration(
        dir,
        "2_slow",
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(60);\n",
        "DROP TABLE slow;",
    );
    ok(run_in(dir, &["hash"]));
    let mut child = ferry()
        .args(["migrate"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while db.query_strings(&format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
        db.name
    ))[0][0]
        .as_deref()
        != Some("1")
    {
        assert!(started.elapsed() < Duration::from_secs(20), "the slow migration never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The server notices the dead client, rolls back, and frees the lock.
    let started = Instant::now();
    loop {
        let free = db.query_strings(&format!("SELECT pg_try_advisory_lock({LOCK_KEY})"))[0][0]
            .as_deref()
            == Some("t");
        if free {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the lock was left behind"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(pg_versions(&db), vec!["1"]);
    assert!(!pg_table_exists(&db, "slow"));
}

#[test]
fn a_held_lock_names_its_holder() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    migration(dir, "1_a", "CREATE TABLE a (id int);\n", "DROP TABLE a;");
    ok(run_in(dir, &["hash"]));
    let mut holder: postgres::Config = db.url.parse().unwrap();
    let mut client = holder
        .application_name("deploy-bot")
        .connect(postgres::NoTls)
        .unwrap();
    client
        .batch_execute(&format!("SELECT pg_advisory_lock({LOCK_KEY})"))
        .unwrap();
    let out = run_in(dir, &["migrate", "--lock-timeout", "1"]);
    assert_eq!(out.code, 8, "{out}");
    assert!(out.stderr.contains("deploy-bot"), "{out}");
    assert!(!pg_table_exists(&db, "a"));
    drop(client);
    ok(run_in(dir, &["migrate"]));
}

#[test]
fn tampered_missing_and_merged_migrations_each_have_their_exit_code() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    migration(dir, "10_a", "CREATE TABLE a (id int);\n", "DROP TABLE a;");
    migration(dir, "20_b", "CREATE TABLE b (id int);\n", "DROP TABLE b;");
    ok(run_in(dir, &["hash"]));
    ok(run_in(dir, &["migrate"]));
    ok(run_in(dir, &["check", "--env", "dev"]));

    // Tampered: an applied file edited.
    let up = dir.join("migrations/10_a/up.sql");
    std::fs::write(&up, "CREATE TABLE a (id bigint);\n").unwrap();
    for cmd in [&["migrate"][..], &["check", "--env", "dev"][..]] {
        let out = run_in(dir, cmd);
        assert_eq!(out.code, 11, "{cmd:?}: {out}");
        assert!(
            out.stdout.contains("10_a") || out.stderr.contains("10_a"),
            "{out}"
        );
    }
    std::fs::write(&up, "CREATE TABLE a (id int);\n").unwrap();

    // Missing: an applied migration gone from disk.
    let b = dir.join("migrations/20_b");
    let aside = dir.join("20_b_aside");
    std::fs::rename(&b, &aside).unwrap();
    for cmd in [&["migrate"][..], &["check", "--env", "dev"][..]] {
        let out = run_in(dir, cmd);
        assert_eq!(out.code, 12, "{cmd:?}: {out}");
    }
    std::fs::rename(&aside, &b).unwrap();

    // Merged late from another branch: older than the newest applied one.
    migration(
        dir,
        "15_from_branch",
        "CREATE TABLE c (id int);\n",
        "DROP TABLE c;",
    );
    ok(run_in(dir, &["hash"]));
    for cmd in [&["migrate"][..], &["check", "--env", "dev"][..]] {
        let out = run_in(dir, cmd);
        assert_eq!(out.code, 13, "{cmd:?}: {out}");
    }
    assert!(!pg_table_exists(&db, "c"));
    ok(run_in(dir, &["migrate", "--allow-out-of-order"]));
    assert!(pg_table_exists(&db, "c"));

    // Two branches each added a migration: ferry.sum conflicts in git.
    let sum = dir.join("migrations/ferry.sum");
    let text = std::fs::read_to_string(&sum).unwrap();
    std::fs::write(
        &sum,
        format!("<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> other\n"),
    )
    .unwrap();
    for cmd in [&["migrate"][..], &["check"][..], &["generate", "x"][..]] {
        let out = run_in(dir, cmd);
        assert_eq!(out.code, 10, "{cmd:?}: {out}");
        assert!(format!("{out}").contains("two branches"), "{out}");
    }
}

#[test]
fn dry_run_prints_and_changes_nothing_and_no_transaction_files_run_concurrently() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int, v int);\nINSERT INTO t VALUES (1, 1);\n",
        "DROP TABLE t;",
    );
    migration(
        dir,
        "2_idx",
        "-- ferry:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n",
        "-- ferry:no-transaction\nDROP INDEX CONCURRENTLY t_v;\n",
    );
    ok(run_in(dir, &["hash"]));
    let out = ok(run_in(dir, &["migrate", "--dry-run"]));
    assert!(
        out.stdout
            .contains("CREATE INDEX CONCURRENTLY t_v ON t (v);"),
        "{out}"
    );
    assert!(out.stdout.contains("outside a transaction"), "{out}");
    assert!(!pg_table_exists(&db, "t"));
    ok(run_in(dir, &["migrate"]));
    assert!(pg_table_exists(&db, "t_v"));
    ok(run_in(dir, &["rollback"]));
    assert!(!pg_table_exists(&db, "t_v"));
    assert_eq!(pg_versions(&db), vec!["1"]);
}

#[test]
fn check_lints_pending_migrations_and_reports_drift() {
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY, v int);\n",
        "DROP TABLE t;",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(dir, &["migrate"]));
    migration(
        dir,
        "2_drop",
        "ALTER TABLE t DROP COLUMN v;\n",
        "ALTER TABLE t ADD COLUMN v int;",
    );
    ok(run_in(dir, &["hash"]));
    let out = run_in(dir, &["check", "--env", "dev", "--format", "json"]);
    assert_eq!(out.code, 14, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let drop = doc["lint"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "drop-column")
        .unwrap_or_else(|| panic!("no drop-column finding: {out}"));
    assert_eq!(
        (drop["severity"].as_str(), drop["line"].as_u64()),
        (Some("error"), Some(1))
    );

    // Silenced on purpose: check passes.
    migration(
        dir,
        "2_drop",
        "-- ferry:allow drop-column -- v was never read\nALTER TABLE t DROP COLUMN v;\n",
        "ALTER TABLE t ADD COLUMN v int;",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(dir, &["check", "--env", "dev"]));

    // Drift: a change made behind ferry's back.
    db.execute("ALTER TABLE t ADD COLUMN sneaky text").unwrap();
    let out = run_in(dir, &["check", "--env", "dev"]);
    assert_eq!(out.code, 15, "{out}");
    assert!(out.stdout.contains("sneaky"), "{out}");
}

#[test]
fn baseline_adopts_an_existing_database_and_repair_accepts_an_edit() {
    let db = PgDb::new();
    db.execute(
        "CREATE TABLE legacy (id int PRIMARY KEY, note text); INSERT INTO legacy VALUES (1, 'x');",
    )
    .unwrap();
    let p = project("postgres", &db.url);
    let dir = p.path();
    let out = ok(run_in(dir, &["baseline"]));
    assert!(out.stderr.contains("recorded"), "{out}");
    let status = ok(run_in(dir, &["status", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["pending"], 0);
    assert_eq!(doc["migrations"][0]["state"], "applied");
    ok(run_in(dir, &["check", "--env", "dev"]));

    // The baseline replays into a fresh database identical to the original.
    let fresh = PgDb::new();
    ok(run_in(dir, &["migrate", "--url", &fresh.url]));
    let same = run_in(
        dir,
        &["diff", "--from", &db.url, "--to", &fresh.url, "--exit-code"],
    );
    assert_eq!(same.code, 0, "{same}");

    // An intended edit (a comment) is accepted explicitly, then migrate is clean again.
    let m = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let up = m.join("up.sql");
    let text = std::fs::read_to_string(&up).unwrap();
    std::fs::write(&up, format!("-- reviewed\n{text}")).unwrap();
    assert_eq!(run_in(dir, &["migrate"]).code, 11);
    let version = m
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split('_')
        .next()
        .unwrap()
        .to_string();
    ok(run_in(dir, &["repair", &version]));
    ok(run_in(dir, &["hash"]));
    ok(run_in(dir, &["migrate"]));
}

#[test]
fn rebase_moves_a_branch_migration_after_the_merged_ones() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    let schema = |cols: &str| {
        write_file(
            dir,
            "schema/s.sql",
            &format!("CREATE TABLE t (id integer PRIMARY KEY{cols});\n"),
        );
    };
    schema("");
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    let base_sum = std::fs::read_to_string(dir.join("migrations/ferry.sum")).unwrap();
    // Our branch adds b (version 2); main meanwhile added a (version 3) and deployed it.
    schema(", b text");
    ok(run_in(dir, &["generate", "add b", "--version", "2"]));
    let ours = std::fs::read_to_string(dir.join("migrations/ferry.sum")).unwrap();
    std::fs::remove_dir_all(dir.join("migrations/2_add_b")).unwrap();
    std::fs::write(dir.join("migrations/ferry.sum"), &base_sum).unwrap();
    schema(", a text");
    ok(run_in(dir, &["generate", "add a", "--version", "3"]));
    ok(run_in(dir, &["migrate"]));
    let theirs = std::fs::read_to_string(dir.join("migrations/ferry.sum")).unwrap();

    // The merge: both migrations, both columns, and a conflict in ferry.sum.
    write_file(
        dir,
        "migrations/2_add_b/up.sql",
        "-- 2_add_b: up (generated by ferry)\n\nALTER TABLE t ADD COLUMN b text;\n",
    );
    write_file(
        dir,
        "migrations/2_add_b/down.sql",
        "-- 2_add_b: down (generated by ferry), undoes up.sql\n\nALTER TABLE t DROP COLUMN b;\n",
    );
    std::fs::write(
        dir.join("migrations/ferry.sum"),
        format!("<<<<<<< HEAD\n{ours}=======\n{theirs}>>>>>>> main\n"),
    )
    .unwrap();
    schema(", a text, b text");
    let out = run_in(dir, &["check"]);
    assert_eq!(out.code, 10, "{out}");
    assert!(out.stdout.contains("ferry rebase"), "{out}");

    let out = ok(run_in(dir, &["rebase", "2"]));
    assert!(out.stderr.contains("generated again"), "{out}");
    assert!(!dir.join("migrations/2_add_b").exists());
    ok(run_in(dir, &["check", "--env", "dev"]));
    ok(run_in(dir, &["migrate"]));
    let cols: i64 = db
        .connection()
        .query_row("SELECT count(*) FROM pragma_table_info('t')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cols, 3);
    let again = ok(run_in(dir, &["generate", "noop"]));
    assert!(again.stderr.contains("Nothing to generate"), "{again}");
}

#[test]
fn a_diesel_directory_applies_as_it_is() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    // diesel's layout: dashed versions, its own initial setup migration, no ferry.sum.
    migration(
        dir,
        "00000000000000_diesel_initial_setup",
        "-- This file was automatically created by Diesel\nSELECT 1;\n",
        "SELECT 1;\n",
    );
    migration(
        dir,
        "2017-12-03-234423_create_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR NOT NULL);\n",
        "DROP TABLE posts;\n",
    );
    migration(
        dir,
        "2017-12-10-101010_add_body",
        "ALTER TABLE posts ADD COLUMN body TEXT;\n",
        "ALTER TABLE posts DROP COLUMN body;\n",
    );
    let out = ok(run_in(dir, &["migrate"]));
    assert!(out.stderr.contains("no ferry.sum"), "{out}");
    assert!(
        out.stderr.contains("now at version 2017-12-10-101010"),
        "{out}"
    );
    // Offline commands need the directory vouched for first.
    assert_eq!(run_in(dir, &["check"]).code, 10);
    ok(run_in(dir, &["hash"]));
    ok(run_in(dir, &["check", "--env", "dev"]));
    ok(run_in(dir, &["rollback", "--force"]));
    let cols: i64 = db
        .connection()
        .query_row("SELECT count(*) FROM pragma_table_info('posts')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cols, 2);
}

#[test]
fn quiet_prints_nothing_on_success_and_verbose_prints_each_statement() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    migration(
        dir,
        "1_a",
        "CREATE TABLE a (id integer PRIMARY KEY);\n",
        "DROP TABLE a;\n",
    );
    migration(
        dir,
        "2_b",
        "CREATE TABLE b (id integer PRIMARY KEY);\n",
        "DROP TABLE b;\n",
    );
    ok(run_in(dir, &["hash"]));
    let out = ok(run_in(dir, &["-q", "migrate", "--to", "1"]));
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", ""),
        "{out}"
    );
    let out = ok(run_in(dir, &["migrate", "--verbose"]));
    assert!(out.stderr.contains("2_b/up.sql:1: CREATE TABLE b"), "{out}");
    // Errors still show when quiet.
    let out = run_in(dir, &["--quiet", "rollback", "--to", "7"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(out.stderr.contains("--to 7"), "{out}");
}

#[test]
fn lint_rules_can_be_allowed_project_wide() {
    let p = project("postgres", "postgres://unused@127.0.0.1:1/x");
    let dir = p.path();
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY);\n",
        "DROP TABLE t;",
    );
    migration(
        dir,
        "2_i",
        "CREATE INDEX t_id ON t (id);\n",
        "DROP INDEX t_id;",
    );
    ok(run_in(dir, &["hash"]));
    let out = ok(run_in(dir, &["check", "--format", "json"]));
    assert!(out.stdout.contains("missing-lock-timeout"), "{out}");
    let toml = std::fs::read_to_string(dir.join("ferry.toml")).unwrap();
    write_file(
        dir,
        "ferry.toml",
        &format!("{toml}\n[lint]\nallow = [\"missing-lock-timeout\"]\n"),
    );
    let out = ok(run_in(dir, &["check", "--format", "json"]));
    assert!(!out.stdout.contains("missing-lock-timeout"), "{out}");
    assert!(
        out.stdout.contains("create-index-non-concurrently"),
        "{out}"
    );
    write_file(
        dir,
        "ferry.toml",
        &format!("{toml}\n[lint]\nallow = [\"missing-lock-timout\"]\n"),
    );
    let out = run_in(dir, &["check"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(out.stderr.contains("missing-lock-timout"), "{out}");
}

#[test]
fn an_empty_down_is_irreversible_on_purpose() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    migration(
        dir,
        "1_a",
        "CREATE TABLE a (id integer PRIMARY KEY);\n",
        "DROP TABLE a;\n",
    );
    migration(
        dir,
        "2_backfill",
        "INSERT INTO a VALUES (1);\n",
        "-- cannot be undone\n",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(dir, &["migrate"]));
    let out = run_in(dir, &["rollback", "--force"]);
    assert_eq!(out.code, 10, "{out}");
    assert!(out.stderr.contains("irreversible"), "{out}");
    let status = ok(run_in(dir, &["status", "--format", "json"]));
    assert!(
        status.stdout.contains("\"current_version\": \"2\""),
        "{status}"
    );
}
