//! Environments and their policies, through the binary: protected environments refuse
//! push and --force, and deploy with checks, a backup and a verification.

mod common;

use common::*;

fn ok(out: Output) -> Output {
    assert!(out.success(), "{out}");
    out
}

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
