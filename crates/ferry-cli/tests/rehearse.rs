//! `ferry migrate --rehearse` through the binary, against real databases: pending
//! migrations applied, rolled back and applied again on a scratch copy of a staging
//! database, which stays exactly as it was; a down.sql that does not undo its up.sql, a
//! failing up.sql and lint errors fail the rehearsal with their exit codes; no scratch
//! database is left on the server.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;

/// A project directory with a ferry.toml for `dialect`, the database as `staging`.
fn project(dialect: &str, url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "ferry.toml",
        &format!("dialect = \"{dialect}\"\n\n[environments.staging]\nurl = \"{url}\"\n"),
    );
    dir
}

fn migration(dir: &Path, id: &str, up: &str, down: &str) {
    write_file(dir, &format!("migrations/{id}/up.sql"), up);
    write_file(dir, &format!("migrations/{id}/down.sql"), down);
}

const INIT: &str = "20260101000000_init";
const POSTS: &str = "20260102000000_posts";
const EMAIL: &str = "20260103000000_email";

/// Three migrations: `init` (to be applied on staging), then `posts` and `email` (pending).
fn pg_migrations(dir: &Path) {
    migration(
        dir,
        INIT,
        "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);\n",
        "DROP TABLE users;\n",
    );
    migration(
        dir,
        POSTS,
        "CREATE TABLE posts (\n  id bigserial PRIMARY KEY,\n  user_id bigint NOT NULL REFERENCES users (id),\n  title text NOT NULL\n);\nCREATE INDEX posts_user_id ON posts (user_id);\n",
        "DROP TABLE posts;\n",
    );
    migration(
        dir,
        EMAIL,
        "CREATE TYPE mood AS ENUM ('happy', 'sad');\nALTER TABLE users ADD COLUMN email text;\nALTER TABLE users ADD COLUMN mood mood;\n",
        "ALTER TABLE users DROP COLUMN mood;\nDROP TYPE mood;\nALTER TABLE users DROP COLUMN email;\n",
    );
}

/// The PostgreSQL tests of this file compare the server's scratch databases before and
/// after: one at a time, so that they do not see each other's.
static PG_SERIAL: Mutex<()> = Mutex::new(());

fn scratch_databases(db: &PgDb) -> BTreeSet<String> {
    db.query_strings("SELECT datname FROM pg_database WHERE datname LIKE 'ferry_scratch_%'")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

/// No scratch database made since `before` is left. Another process's rehearsal on the
/// same server may be running: its database goes away within seconds, ours never would.
#[track_caller]
fn assert_no_scratch_left(db: &PgDb, before: &BTreeSet<String>) {
    let started = Instant::now();
    loop {
        let new: Vec<String> = scratch_databases(db).difference(before).cloned().collect();
        if new.is_empty() {
            return;
        }
        if started.elapsed() > Duration::from_secs(15) {
            panic!("scratch database(s) left on the server: {new:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Everything a rehearsal must not change: the history rows as stored, the schema as the
/// catalogs list it, and the rows.
fn pg_snapshot(db: &PgDb) -> Vec<Vec<Option<String>>> {
    let mut out = db.query_strings(
        "SELECT version, name, checksum, applied_at::text, execution_ms::text, ferry_version \
         FROM ferry.ferry_migrations ORDER BY version",
    );
    out.extend(db.query_strings(
        "SELECT c.relname::text, c.relkind::text, a.attname::text, format_type(a.atttypid, a.atttypmod) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname IN ('public', 'ferry') ORDER BY 1, 3",
    ));
    out.extend(db.query_strings(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE connamespace = 'public'::regnamespace ORDER BY 1",
    ));
    out.extend(db.query_strings(
        "SELECT typname::text FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'",
    ));
    out.extend(db.query_strings("SELECT id::text, name FROM users ORDER BY id"));
    out
}

#[test]
fn postgres_rehearsal_passes_and_leaves_the_target_alone() {
    let _serial = PG_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    pg_migrations(dir);
    ok(run_in(dir, &["hash"]));
    ok(run_in(
        dir,
        &["migrate", "--env", "staging", "--to", "20260101000000"],
    ));
    db.execute("INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace')")
        .unwrap();
    let before = pg_snapshot(&db);
    let scratch_before = scratch_databases(&db);

    let out = ok(run_in(dir, &["migrate", "--env", "staging", "--rehearse"]));
    for id in [POSTS, EMAIL] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{out}"));
        assert!(line.trim_end().ends_with("passed"), "{line}\n{out}");
    }
    assert!(!out.stdout.contains(INIT), "{out}");
    assert!(out.stdout.contains("1 history row(s)"), "{out}");
    assert!(out.stdout.contains("Rehearsal passed"), "{out}");
    // What it cannot show is said with the result.
    assert!(out.stdout.contains("not copied"), "{out}");
    assert!(out.stdout.contains("no rows are copied"), "{out}");
    assert!(out.stdout.contains("ferry backup"), "{out}");
    assert_eq!(pg_snapshot(&db), before);
    assert_no_scratch_left(&db, &scratch_before);

    let json = ok(run_in(
        dir,
        &[
            "migrate",
            "--env",
            "staging",
            "--rehearse",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect(&json.stdout);
    assert_eq!(doc["passed"], true, "{json}");
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["history_rows_copied"], 1);
    assert_eq!(doc["failure"], serde_json::Value::Null);
    let migrations = doc["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 2);
    for (m, id) in migrations.iter().zip([POSTS, EMAIL]) {
        assert_eq!(m["migration"], id);
        assert_eq!(m["outcome"], "passed", "{m}");
        for key in ["up_ms", "down_ms", "up_again_ms"] {
            assert!(m[key].is_u64(), "{key} in {m}");
        }
    }
    assert!(doc["total"]["ms"].is_u64());
    assert_eq!(doc["not_covered"].as_array().unwrap().len(), 3);
    assert_eq!(pg_snapshot(&db), before);
    assert_no_scratch_left(&db, &scratch_before);

    // Nothing was recorded: the real deploy still has both to apply, and they apply.
    let status = ok(run_in(
        dir,
        &["status", "--env", "staging", "--format", "json"],
    ));
    let st: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(st["pending"], 2);
    ok(run_in(dir, &["migrate", "--env", "staging"]));
    let nothing = ok(run_in(dir, &["migrate", "--env", "staging", "--rehearse"]));
    assert!(nothing.stderr.contains("Nothing to rehearse"), "{nothing}");
}

#[test]
fn postgres_down_that_does_not_undo_its_up_fails_naming_it() {
    let _serial = PG_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    pg_migrations(dir);
    // Forgets to drop the column.
    migration(
        dir,
        "20260104000000_nick",
        "ALTER TABLE users ADD COLUMN nick text;\nCREATE INDEX users_nick ON users (nick);\n",
        "DROP INDEX users_nick;\n",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(
        dir,
        &["migrate", "--env", "staging", "--to", "20260102000000"],
    ));
    db.execute("INSERT INTO users (id, name) VALUES (1, 'ada')")
        .unwrap();
    let before = pg_snapshot(&db);
    let scratch_before = scratch_databases(&db);

    let out = run_in(dir, &["migrate", "--env", "staging", "--rehearse"]);
    assert_eq!(out.code, 15, "{out}");
    assert!(out.stderr.contains("20260104000000_nick"), "{out}");
    assert!(out.stderr.contains("down.sql does not undo"), "{out}");
    // What the down.sql leaves behind, as the statement that would remove it.
    assert!(out.stderr.contains("DROP COLUMN nick"), "{out}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("20260104000000_nick"))
        .unwrap();
    assert!(line.contains("down.sql does not undo up.sql"), "{line}");
    assert_eq!(pg_snapshot(&db), before);
    assert_no_scratch_left(&db, &scratch_before);

    let json = run_in(
        dir,
        &[
            "migrate",
            "--env",
            "staging",
            "--rehearse",
            "--format",
            "json",
        ],
    );
    assert_eq!(json.code, 15, "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect(&json.stdout);
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["failure"]["migration"], "20260104000000_nick");
    assert_eq!(doc["failure"]["step"], "down");
    assert_eq!(doc["failure"]["exit_code"], 15);
    assert_eq!(doc["migrations"][1]["migration"], "20260104000000_nick");
    assert_eq!(doc["migrations"][1]["outcome"], "down_incomplete");
    assert_eq!(pg_snapshot(&db), before);
    assert_no_scratch_left(&db, &scratch_before);
}

#[test]
fn postgres_failing_up_fails_with_exit_7_naming_file_line_and_statement() {
    let _serial = PG_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::new();
    let p = project("postgres", &db.url);
    let dir = p.path();
    pg_migrations(dir);
    migration(
        dir,
        "20260104000000_broken",
        "-- adds an age, then refers to a table that does not exist\nALTER TABLE users ADD COLUMN age int;\nALTER TABLE no_such_table ADD COLUMN x int;\n",
        "ALTER TABLE users DROP COLUMN age;\n",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(
        dir,
        &["migrate", "--env", "staging", "--to", "20260101000000"],
    ));
    db.execute("INSERT INTO users (id, name) VALUES (1, 'ada')")
        .unwrap();
    let before = pg_snapshot(&db);
    let scratch_before = scratch_databases(&db);

    let out = run_in(dir, &["migrate", "--env", "staging", "--rehearse"]);
    assert_eq!(out.code, 7, "{out}");
    assert!(out.stderr.contains("20260104000000_broken"), "{out}");
    assert!(
        out.stderr
            .contains("20260104000000_broken/up.sql:3: ALTER TABLE no_such_table"),
        "{out}"
    );
    assert!(out.stderr.contains("was not changed"), "{out}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("20260104000000_broken"))
        .unwrap();
    assert!(line.contains("up.sql failed"), "{line}");
    assert_eq!(pg_snapshot(&db), before);
    assert_no_scratch_left(&db, &scratch_before);
}

#[test]
fn postgres_rehearsal_without_createdb_says_so() {
    let _serial = PG_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::new();
    // A role of its own for this test (roles are server-wide), taken on at connection time
    // through the startup options, so that pg_hba.conf needs no entry for it.
    let role = format!("{}_nocreatedb", db.name);
    db.execute(&format!("CREATE ROLE {role} NOLOGIN NOCREATEDB"))
        .unwrap();
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options=-c%20role%3D{role}", db.url);
    let p = project("postgres", &url);
    let dir = p.path();
    pg_migrations(dir);
    ok(run_in(dir, &["hash"]));
    let out = run_in(dir, &["migrate", "--env", "staging", "--rehearse"]);
    db.execute(&format!("DROP ROLE {role}")).unwrap();
    assert_eq!(out.code, 6, "{out}");
    assert!(out.stderr.contains("CREATEDB"), "{out}");
    assert!(out.stderr.contains(&role), "{out}");
}

/// The same three migrations, for SQLite.
fn sqlite_migrations(dir: &Path) {
    migration(
        dir,
        INIT,
        "CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\n",
        "DROP TABLE users;\n",
    );
    migration(
        dir,
        POSTS,
        "CREATE TABLE posts (\n  id integer PRIMARY KEY,\n  user_id integer NOT NULL REFERENCES users (id),\n  title text NOT NULL\n);\nCREATE INDEX posts_user_id ON posts (user_id);\n",
        "DROP TABLE posts;\n",
    );
    migration(
        dir,
        EMAIL,
        "ALTER TABLE users ADD COLUMN email text;\nCREATE UNIQUE INDEX users_email ON users (email);\n",
        "DROP INDEX users_email;\nALTER TABLE users DROP COLUMN email;\n",
    );
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_rehearsal_passes_and_leaves_the_file_byte_for_byte() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    sqlite_migrations(dir);
    ok(run_in(dir, &["hash"]));
    ok(run_in(
        dir,
        &["migrate", "--env", "staging", "--to", "20260101000000"],
    ));
    db.execute(
        "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace');\n\
         CREATE VIEW user_names AS SELECT name FROM users;",
    )
    .unwrap();
    let bytes = std::fs::read(&db.path).unwrap();
    let files = files_in(db.dir.path());

    let out = ok(run_in(dir, &["migrate", "--env", "staging", "--rehearse"]));
    for id in [POSTS, EMAIL] {
        let line = out.stdout.lines().find(|l| l.contains(id)).unwrap();
        assert!(line.trim_end().ends_with("passed"), "{line}\n{out}");
    }
    assert!(out.stdout.contains("Rehearsal passed"), "{out}");
    assert!(out.stdout.contains("no rows are copied"), "{out}");
    // The view ferry does not model is named as not copied.
    assert!(
        out.stdout.contains("not copied into the scratch database"),
        "{out}"
    );
    assert!(out.stdout.contains("CREATE VIEW user_names"), "{out}");
    let json = ok(run_in(
        dir,
        &[
            "migrate",
            "--env",
            "staging",
            "--rehearse",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect(&json.stdout);
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["migrations"][0]["outcome"], "passed");
    assert_eq!(doc["migrations"][1]["outcome"], "passed");
    assert_eq!(doc["not_copied"].as_array().unwrap().len(), 1);

    // Not a byte changed, and no file written beside it.
    assert_eq!(std::fs::read(&db.path).unwrap(), bytes);
    assert_eq!(files_in(db.dir.path()), files);
    let status = ok(run_in(
        dir,
        &["status", "--env", "staging", "--format", "json"],
    ));
    let st: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(st["pending"], 2);
}

#[test]
fn sqlite_down_that_does_not_undo_and_failing_up_fail_the_rehearsal() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    sqlite_migrations(dir);
    // Forgets to drop the column.
    migration(
        dir,
        "20260104000000_nick",
        "ALTER TABLE users ADD COLUMN nick text;\n",
        "SELECT 1;\n",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(
        dir,
        &["migrate", "--env", "staging", "--to", "20260101000000"],
    ));
    db.execute("INSERT INTO users (id, name) VALUES (1, 'ada')")
        .unwrap();
    let bytes = std::fs::read(&db.path).unwrap();

    let out = run_in(dir, &["migrate", "--env", "staging", "--rehearse"]);
    assert_eq!(out.code, 15, "{out}");
    assert!(out.stderr.contains("20260104000000_nick"), "{out}");
    assert!(out.stderr.contains("does not undo"), "{out}");
    assert!(out.stderr.contains("DROP COLUMN nick"), "{out}");
    assert_eq!(std::fs::read(&db.path).unwrap(), bytes);

    // A failing up.sql: exit 7, the file, line and statement named.
    write_file(
        dir,
        "migrations/20260104000000_nick/up.sql",
        "ALTER TABLE users ADD COLUMN nick text;\n\nINSERT INTO no_such_table VALUES (1);\n",
    );
    ok(run_in(dir, &["hash"]));
    let out = run_in(dir, &["migrate", "--env", "staging", "--rehearse"]);
    assert_eq!(out.code, 7, "{out}");
    assert!(
        out.stderr
            .contains("20260104000000_nick/up.sql:3: INSERT INTO no_such_table"),
        "{out}"
    );
    assert_eq!(std::fs::read(&db.path).unwrap(), bytes);
}

#[test]
fn sqlite_lint_errors_and_irreversible_migrations_are_reported() {
    let db = SqliteDb::new();
    let p = project("sqlite", &db.url);
    let dir = p.path();
    sqlite_migrations(dir);
    // Rolls back cleanly, but drops a table with rows: a lint error, which a protected
    // deploy refuses, so the rehearsal does not pass it.
    migration(
        dir,
        "20260104000000_drop_posts",
        "DROP TABLE posts;\n",
        "CREATE TABLE posts (\n  id integer PRIMARY KEY,\n  user_id integer NOT NULL REFERENCES users (id),\n  title text NOT NULL\n);\nCREATE INDEX posts_user_id ON posts (user_id);\n",
    );
    ok(run_in(dir, &["hash"]));
    ok(run_in(
        dir,
        &["migrate", "--env", "staging", "--to", "20260103000000"],
    ));
    let out = run_in(dir, &["migrate", "--env", "staging", "--rehearse"]);
    assert_eq!(out.code, 14, "{out}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("20260104000000_drop_posts"))
        .unwrap();
    assert!(line.contains("1 error(s)"), "{line}");
    assert!(line.contains("lint errors"), "{line}");
    assert!(out.stdout.contains("error[drop-table]"), "{out}");

    // An empty down.sql declares a migration irreversible: it is applied but not rolled
    // back, and that passes.
    write_file(
        dir,
        "migrations/20260104000000_drop_posts/up.sql",
        "-- ferry:allow drop-table\nDROP TABLE posts;\n",
    );
    write_file(dir, "migrations/20260104000000_drop_posts/down.sql", "");
    ok(run_in(dir, &["hash"]));
    let out = ok(run_in(dir, &["migrate", "--env", "staging", "--rehearse"]));
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("20260104000000_drop_posts"))
        .unwrap();
    assert!(line.contains("irreversible"), "{line}\n{out}");
}
