//! Environments and their policies, through the binary: protected environments refuse
//! push and --force, and deploy with checks, a backup and a verification.

mod common;

use common::*;

/// A project with a `dev` and a protected `prod` environment.
fn project(dev: &str, prod: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "ferry.toml",
        &format!(
            "dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{dev}\"\n\n[environments.prod]\nurl = \"{prod}\"\n"
        ),
    );
    write_file(
        dir.path(),
        "schema/s.sql",
        "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
    );
    dir
}

#[test]
fn protected_environments_refuse_push_and_force() {
    let dev = PgDb::new();
    let prod = PgDb::new();
    let p = project(&dev.url, &prod.url);
    let dir = p.path();
    ok(run_in(dir, &["push", "--env", "dev"]));
    for args in [
        &["push", "--env", "prod"][..],
        &["push", "--env", "prod", "--force"][..],
        &["rollback", "--env", "prod", "--force"][..],
        &["baseline", "--env", "prod", "--force"][..],
    ] {
        let out = run_in(dir, args);
        assert_eq!(out.code, 16, "{args:?}: {out}");
        assert!(out.stderr.contains("protected"), "{out}");
    }
    assert_eq!(
        prod.query_strings("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0]
            .as_deref(),
        Some("0"),
        "nothing reached prod"
    );
    // `protected = false` is the user's explicit choice; `protected = true` works on any name.
    write_file(
        dir,
        "ferry.toml",
        &format!(
            "[environments.staging]\nurl = \"{}\"\nprotected = true\n\n[environments.prod]\nurl = \"{}\"\nprotected = false\n",
            dev.url, prod.url
        ),
    );
    assert_eq!(run_in(dir, &["push", "--env", "staging"]).code, 16);
    ok(run_in(dir, &["push", "--env", "prod"]));
    // Unknown keys name themselves.
    write_file(
        dir,
        "ferry.toml",
        "[environments.prod]\nurl = \"x\"\nprotect = true\n",
    );
    let out = run_in(dir, &["status", "--env", "prod"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(out.stderr.contains("protect"), "{out}");
}

/// Writes a hand-written migration and refreshes ferry.sum.
fn migration(dir: &std::path::Path, id: &str, up: &str, down: &str) {
    write_file(dir, &format!("migrations/{id}/up.sql"), up);
    write_file(dir, &format!("migrations/{id}/down.sql"), down);
    ok(run_in(dir, &["hash"]));
}

fn backups(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(dir.join("backups")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_protected_deploy_asks_backs_up_and_verifies() {
    let dev = PgDb::new();
    let prod = PgDb::new();
    let p = project(&dev.url, &prod.url);
    let dir = p.path();
    migration(dir, "1_t", "CREATE TABLE t (id int PRIMARY KEY, v text);\nINSERT INTO t VALUES (1, 'one'), (2, NULL);\n", "DROP TABLE t;");
    ok(run_in(dir, &["migrate", "--env", "prod", "--yes"]));
    migration(
        dir,
        "2_u",
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 7;\n",
        "ALTER TABLE t DROP COLUMN n;",
    );

    // Unattended without --yes: nothing happens.
    let out = run_in(dir, &["migrate", "--env", "prod"]);
    assert_eq!(out.code, 3, "{out}");
    assert!(out.stderr.contains("--yes"), "{out}");
    assert_eq!(
        prod.query_strings("SELECT count(*) FROM ferry.ferry_migrations")[0][0].as_deref(),
        Some("1")
    );

    let before = backups(dir).len();
    let out = ok(run_in(
        dir,
        &["migrate", "--env", "prod", "--yes", "--format", "json"],
    ));
    assert!(out.stderr.contains("Verified"), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["version"], "2");
    assert_eq!(doc["verified"], true);
    let backup = doc["backup"].as_str().unwrap().to_string();
    assert_eq!(backups(dir).len(), before + 1);
    assert!(
        backup.contains("prod-") && backup.ends_with("-v1.backup"),
        "{backup}"
    );

    // The backup restores into an empty database equal to prod before the deploy.
    let fresh = PgDb::new();
    ok(run_in(dir, &["restore", &backup, "--url", &fresh.url]));
    assert_eq!(
        fresh.query_strings("SELECT id, v FROM t ORDER BY id"),
        vec![
            vec![Some("1".into()), Some("one".into())],
            vec![Some("2".into()), None]
        ]
    );
    assert_eq!(
        fresh.query_strings("SELECT version FROM ferry.ferry_migrations")[0][0].as_deref(),
        Some("1")
    );
    // ... and it migrates forward like prod did.
    ok(run_in(dir, &["migrate", "--url", &fresh.url]));
    let same = run_in(
        dir,
        &[
            "diff",
            "--from",
            &prod.url,
            "--to",
            &fresh.url,
            "--exit-code",
        ],
    );
    assert_eq!(same.code, 0, "{same}");
    let list = ok(run_in(dir, &["backup", "list", "--env", "prod"]));
    assert!(list.stdout.contains("prod"), "{list}");
}

#[test]
fn a_failing_check_stops_the_deploy_before_any_change() {
    let dev = PgDb::new();
    let prod = PgDb::new();
    let p = project(&dev.url, &prod.url);
    let dir = p.path();
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
        "DROP TABLE t;",
    );
    ok(run_in(dir, &["migrate", "--env", "prod", "--yes"]));
    let taken = backups(dir).len();

    // A risky statement: refused, no backup, nothing applied.
    migration(
        dir,
        "2_drop",
        "ALTER TABLE t DROP COLUMN v;\n",
        "ALTER TABLE t ADD COLUMN v text;",
    );
    let out = run_in(dir, &["migrate", "--env", "prod", "--yes"]);
    assert_eq!(out.code, 14, "{out}");
    assert_eq!(backups(dir).len(), taken);
    assert_eq!(
        prod.query_strings(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"
        )[0][0]
            .as_deref(),
        Some("2")
    );
    std::fs::remove_dir_all(dir.join("migrations/2_drop")).unwrap();
    ok(run_in(dir, &["hash"]));

    // Drift: someone changed prod by hand.
    migration(
        dir,
        "2_n",
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE t ADD COLUMN n int;\n",
        "ALTER TABLE t DROP COLUMN n;",
    );
    prod.execute("CREATE INDEX sneaky ON t (v)").unwrap();
    let out = run_in(dir, &["migrate", "--env", "prod", "--yes"]);
    assert_eq!(out.code, 15, "{out}");
    assert!(out.stderr.contains("sneaky"), "{out}");
    assert_eq!(
        prod.query_strings("SELECT count(*) FROM ferry.ferry_migrations")[0][0].as_deref(),
        Some("1")
    );
}

#[test]
fn the_ci_pipeline_runs_and_a_failing_migration_stops_it() {
    let prod = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_file(
        dir,
        "ferry.toml",
        "dialect = \"postgres\"\n\n[environments.prod]\nurl = \"${DATABASE_URL}\"\n",
    );
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);\n",
        "DROP TABLE t;",
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ci/deploy.sh");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_ferry"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pipeline = || {
        let out = std::process::Command::new("sh")
            .arg(&script)
            .current_dir(dir)
            .env("PATH", &path)
            .env("FERRY_ENV", "prod")
            .env("DATABASE_URL", &prod.url)
            .env_remove("FERRY_URL")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let out = pipeline();
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("== verify"), "{out}");
    assert_eq!(backups(dir).len(), 1, "the deploy took a backup");

    migration(
        dir,
        "2_bad",
        "CREATE TABLE u (id int);\nINSERT INTO t VALUES (1);\n",
        "DROP TABLE u;",
    );
    let out = pipeline();
    assert_eq!(out.code, 7, "{out}");
    assert!(
        !out.stdout.contains("== verify"),
        "the pipeline stopped: {out}"
    );
    assert!(out.stderr.contains("2_bad/up.sql:2"), "{out}");
    assert_eq!(
        prod.query_strings("SELECT to_regclass('public.u') IS NULL")[0][0].as_deref(),
        Some("t")
    );
    assert_eq!(
        prod.query_strings("SELECT count(*) FROM ferry.ferry_migrations")[0][0].as_deref(),
        Some("1")
    );
}

#[test]
fn reset_rebuilds_development_databases_only() {
    let dev = PgDb::new();
    let prod = PgDb::new();
    let p = project(&dev.url, &prod.url);
    let dir = p.path();
    ok(run_in(dir, &["push", "--env", "dev"]));
    dev.execute("INSERT INTO t VALUES (1, 'x')").unwrap();
    assert_eq!(
        run_in(dir, &["reset", "--env", "dev"]).code,
        3,
        "unattended reset needs --yes"
    );
    assert_eq!(run_in(dir, &["reset", "--env", "prod", "--yes"]).code, 16);
    ok(run_in(dir, &["reset", "--env", "dev", "--yes"]));
    assert_eq!(
        dev.query_strings("SELECT count(*) FROM t")[0][0].as_deref(),
        Some("0")
    );

    // From the migrations: the history is rebuilt too.
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
        "DROP TABLE t;",
    );
    ok(run_in(
        dir,
        &["reset", "--env", "dev", "--yes", "--migrations"],
    ));
    assert_eq!(
        dev.query_strings("SELECT version FROM ferry.ferry_migrations")[0][0].as_deref(),
        Some("1")
    );
}

#[test]
fn no_output_contains_a_password() {
    const SECRET: &str = "s3cretPW_do_not_print";
    let db = PgDb::new();
    // The local server trusts connections: the password is carried but not checked.
    let url = db
        .url
        .replacen("postgres@", &format!("postgres:{SECRET}@"), 1);
    assert!(url.contains(SECRET));
    let wrong_db = format!("{}_missing", url);
    let in_query = format!("{}?password={SECRET}", db.url);
    let in_query_wrong_db = format!("{}_missing?password={SECRET}", db.url);
    let p = project(&url, &url);
    let dir = p.path();
    migration(
        dir,
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY);\n",
        "DROP TABLE t;",
    );
    migration(
        dir,
        "2_bad",
        "INSERT INTO nowhere VALUES (1);\n",
        "SELECT 1;",
    );
    let runs: Vec<Vec<&str>> = vec![
        vec!["push", "--url", &url, "--dry-run"],
        vec!["status", "--url", &url],
        vec!["status", "--url", &url, "--format", "json"],
        vec!["migrate", "--url", &url, "--to", "1"],
        vec!["migrate", "--url", &url, "--format", "json"],
        vec!["migrate", "--env", "prod"],
        vec!["check", "--url", &url, "--format", "json"],
        vec!["check", "--env", "dev"],
        vec!["diff", "--from", &url, "--to", "schema"],
        vec!["pull", "--url", &url, "--out", "pulled"],
        vec!["backup", "--url", &url],
        vec!["rollback", "--url", &url, "--dry-run"],
        vec!["status", "--url", &wrong_db],
        vec!["migrate", "--url", &wrong_db],
        vec!["status", "--url", &in_query],
        vec!["status", "--url", &in_query_wrong_db],
    ];
    for args in runs {
        let out = run_in(dir, &args);
        assert!(
            !format!("{out}").contains(SECRET),
            "{args:?} printed the password: {out}"
        );
    }
}
