//! The dev database (`--dev-url`, `dev_url`): schema files are created in a throwaway
//! database on that server and read back, so they compare in the server's own form; and
//! `generate` replays the migrations there for real.

mod common;

use common::*;

/// A view PostgreSQL stores quite differently from how it is written (casts, `EXTRACT`,
/// `TRIM`, columns of two tables left unqualified).
const SCHEMA: &str = r#"
CREATE TABLE authors (id int PRIMARY KEY, name text, born date);
CREATE TABLE books (id int PRIMARY KEY, author_id int REFERENCES authors (id), title varchar(20));
CREATE VIEW shelf AS
  SELECT authors.id, name, title, extract(year from born) AS year, trim(name)::varchar(10) AS short
  FROM authors JOIN books ON books.author_id = authors.id;
"#;

#[test]
fn files_compare_in_the_servers_form() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&[
        "push",
        "--url",
        &db.url,
        "--schema",
        &file,
        "--dev-url",
        "target",
    ]));
    let out = ok(run(&[
        "push",
        "--url",
        &db.url,
        "--schema",
        &file,
        "--dev-url",
        "target",
    ]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
    // Offline, the rewritten view cannot be proven unchanged: a note names it.
    let out = run(&["diff", "--from", &db.url, "--to", &file]);
    assert!(out.stdout.contains("CREATE VIEW public.shelf"), "{out}");
    assert!(
        out.stderr.contains(
            "could not prove these unchanged offline and re-creates them: view public.shelf."
        ),
        "{out}"
    );
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &file,
        "--dev-url",
        "target",
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stderr.contains("could not prove"), "{out}");

    // The same through ferry.toml, with the URL from an environment variable.
    write_file(
        dir.path(),
        "ferry.toml",
        "dialect = \"postgres\"\ndev_url = \"${FERRY_TEST_DEV_URL}\"\n",
    );
    let out = ferry()
        .current_dir(dir.path())
        .env("FERRY_TEST_DEV_URL", pg_admin_url())
        .args([
            "diff",
            "--from",
            "schema.sql",
            "--to",
            &db.url,
            "--exit-code",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run_in(
        dir.path(),
        &["diff", "--from", "schema.sql", "--to", "schema.sql"],
    );
    assert_eq!(out.code, 64, "{out}");
    assert!(
        out.stderr
            .contains("dev_url needs the variable FERRY_TEST_DEV_URL"),
        "{out}"
    );
}

#[test]
fn the_dev_database_rejects_what_the_server_would() {
    let dir = tempfile::tempdir().unwrap();
    // Offline this loads (the view's query is not checked against the table); the server
    // refuses it.
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (a int);\nCREATE VIEW v AS SELECT b FROM t;\n",
    );
    let offline = read_pg_file(&file, &[]);
    assert_eq!(offline.code, 0, "{offline}");
    let out = read_pg_file(&file, &["--dev-url", pg_admin_url()]);
    assert_eq!(out.code, 5, "{out}");
    assert!(
        out.stderr.contains("the dev database rejected the schema"),
        "{out}"
    );
    assert!(out.stderr.contains("column \"b\" does not exist"), "{out}");

    let out = read_pg_file(&file, &["--dev-url", "sqlite://dev.db"]);
    assert_eq!(out.code, 64, "{out}");
    assert!(
        out.stderr.contains("is sqlite, but the schema is postgres"),
        "{out}"
    );
    let out = read_pg_file(&file, &["--dev-url", "target"]);
    assert_eq!(out.code, 64, "{out}");
}

#[test]
fn generate_replays_migrations_on_the_dev_database() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "schema/schema.sql", SCHEMA);
    write_file(
        dir.path(),
        "ferry.toml",
        "dialect = \"postgres\"\nschema = [\"schema\"]\n",
    );
    let dev = ["--dev-url", pg_admin_url()];
    let gen = |name: &str, version: &str| {
        let mut args = vec!["generate", name, "--version", version];
        args.extend(dev);
        run_in(dir.path(), &args)
    };
    ok(gen("init", "20260101000000"));
    let out = ok(gen("again", "20260101000001"));
    assert!(out.stderr.contains("Nothing to generate"), "{out}");

    // A migration written by hand, spelled differently from the schema file, builds the
    // same database: still nothing to generate.
    let init = dir.path().join("migrations/20260101000000_init/up.sql");
    let text = std::fs::read_to_string(&init).unwrap();
    let view = text.find("CREATE VIEW").unwrap();
    let rewritten = format!(
        "{}CREATE VIEW public.shelf AS SELECT authors.id, authors.name, books.title, EXTRACT(YEAR FROM authors.born) AS year, CAST(TRIM(authors.name) AS character varying(10)) AS short FROM public.authors INNER JOIN public.books ON (books.author_id = authors.id);\n",
        &text[..view]
    );
    std::fs::write(&init, rewritten).unwrap();
    ok(run_in(dir.path(), &["hash"]));
    let out = ok(gen("again", "20260101000002"));
    assert!(out.stderr.contains("Nothing to generate"), "{out}");

    // And it runs: migrate a real database with the result.
    let db = PgDb::new();
    ok(run_in(dir.path(), &["migrate", "--url", &db.url]));
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.path().join("schema").display().to_string(),
        "--dev-url",
        "target",
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{out}");
}

/// A `BEGIN ATOMIC` body comes back from the server rewritten: offline, the note names the
/// function; with the dev database it compares equal.
#[test]
fn sql_standard_bodies_compare_in_the_servers_form() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (a int);\n\
         CREATE FUNCTION bump(x int) RETURNS int LANGUAGE sql\n\
         BEGIN ATOMIC SELECT x+1 AS y; END;\n",
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = run(&["diff", "--from", &db.url, "--to", &file]);
    assert!(
        out.stderr
            .contains("re-creates them: function public.bump(integer)."),
        "{out}"
    );
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &file,
        "--dev-url",
        "target",
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stderr.contains("could not prove"), "{out}");
}
