//! PostgreSQL exclusion constraints through the binary: push (inline, ALTER TABLE ADD,
//! implicit names, every clause), file vs database both ways, pull round trip, offline
//! file-against-itself, a change of operator and predicate through generate + migrate +
//! rollback with rows, and a migration that fails on rows the new constraint rejects.

mod common;

use std::path::Path;

use common::*;

/// `=` on a scalar column inside a gist index needs btree_gist's operator classes.
const SCHEMA: &str = r#"
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE booking (
  id int PRIMARY KEY,
  room int NOT NULL,
  during tstzrange NOT NULL,
  guest text,
  cancelled boolean NOT NULL DEFAULT false,
  CONSTRAINT booking_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
    INCLUDE (guest) WITH (fillfactor = 90) WHERE (NOT cancelled) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE person (
  name varchar(100),
  email text,
  EXCLUDE (lower(name::text) WITH =) WHERE (name::text <> '')
);

ALTER TABLE person ADD EXCLUDE USING btree (email text_pattern_ops DESC NULLS LAST WITH OPERATOR(pg_catalog.=));
COMMENT ON CONSTRAINT booking_no_overlap ON booking IS 'One guest per room at a time';
"#;

fn constraints(db: &PgDb) -> Vec<Vec<Option<String>>> {
    db.query_strings(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE contype = 'x' ORDER BY conname",
    )
}

#[test]
fn push_diff_pull_round_trip() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
    assert_eq!(
        constraints(&db),
        vec![
            vec![
                Some("booking_no_overlap".into()),
                Some(
                    "EXCLUDE USING gist (room WITH =, during WITH &&) INCLUDE (guest) \
                     WHERE ((NOT cancelled)) DEFERRABLE INITIALLY DEFERRED"
                        .into()
                ),
            ],
            // Implicit names as PostgreSQL gives them.
            vec![
                Some("person_email_excl".into()),
                Some(
                    "EXCLUDE USING btree (email text_pattern_ops DESC NULLS LAST WITH =)".into()
                ),
            ],
            vec![
                Some("person_lower_excl".into()),
                Some(
                    "EXCLUDE USING btree (lower((name)::text) WITH =) WHERE (((name)::text <> ''::text))"
                        .into()
                ),
            ],
        ]
    );
    // The constraint works: an overlapping booking of the same room is refused.
    db.execute(
        "INSERT INTO booking VALUES (1, 101, '[2024-01-01, 2024-01-05)', 'a', false), \
         (2, 102, '[2024-01-01, 2024-01-05)', 'b', false)",
    )
    .unwrap();
    let err = db
        .execute("INSERT INTO booking VALUES (3, 101, '[2024-01-04, 2024-01-06)', 'c', false)")
        .unwrap_err();
    assert!(err.contains("booking_no_overlap"), "{err}");
    assert_eq!(
        db.query_strings(
            "SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint \
             WHERE conname = 'booking_no_overlap'"
        ),
        vec![vec![Some("One guest per room at a time".into())]]
    );

    // The file and the database agree, both ways; the file agrees with itself offline.
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "database vs file:\n{out}");
    let out = read_pg_file(&file, &["--exit-code"]);
    assert_eq!(out.code, 0, "file vs itself:\n{out}");

    // Pull writes them; the pulled files build the same database.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let text = pulled_text(Path::new(&pulled));
    assert!(
        text.contains(
            "CONSTRAINT booking_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "COMMENT ON CONSTRAINT booking_no_overlap ON public.booking IS 'One guest per room at a time';"
        ),
        "{text}"
    );
    let out = run(&["diff", "--from", &pulled, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "pulled files vs database:\n{out}");
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");
    assert_eq!(constraints(&empty), constraints(&db));

    // Renaming alone is a RENAME CONSTRAINT, not a rebuild.
    let renamed = write_file(
        dir.path(),
        "schema.sql",
        &SCHEMA.replace("booking_no_overlap", "booking_no_double_booking"),
    );
    let out = ok(run(&["diff", "--from", &db.url, "--to", &renamed]));
    assert!(
        out.stdout
            .contains("RENAME CONSTRAINT booking_no_overlap TO booking_no_double_booking"),
        "{out}"
    );
    assert!(!out.stdout.contains("ADD CONSTRAINT"), "{out}");
}

/// Every `.sql` file pull wrote, concatenated.
fn pulled_text(dir: &Path) -> String {
    let mut files: Vec<_> = walk(dir);
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|e| e == "sql") {
            out.push(p);
        }
    }
    out
}

const V1: &str = "CREATE EXTENSION IF NOT EXISTS btree_gist;\n\
    CREATE TABLE booking (id int PRIMARY KEY, room int NOT NULL, during tstzrange NOT NULL, \
    cancelled boolean NOT NULL DEFAULT false, \
    CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&));\n";

#[test]
fn generate_migrate_rollback_a_changed_exclusion_with_rows() {
    let db = PgDb::new();
    let project = pg_project(&db.url);
    let dir = project.path();
    write_file(dir, "schema/s.sql", V1);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    // Rows that both the old and the new constraint accept.
    db.execute(
        "INSERT INTO booking VALUES (1, 101, '[2024-01-01, 2024-01-05)', false), \
         (2, 102, '[2024-01-03, 2024-01-08)', true)",
    )
    .unwrap();

    // A new operator (adjacent periods of one room instead of overlapping ones) and a
    // predicate (cancelled bookings do not count).
    let v2 = V1.replace(
        "(room WITH =, during WITH &&))",
        "(room WITH =, during WITH -|-) WHERE (NOT cancelled))",
    );
    write_file(dir, "schema/s.sql", &v2);
    ok(run_in(dir, &["generate", "adjacent", "--version", "2"]));
    let up = std::fs::read_to_string(dir.join("migrations/2_adjacent/up.sql")).unwrap();
    let drop_at = up.find("DROP CONSTRAINT no_overlap").expect(&up);
    let add_at = up
        .find("ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH -|-) WHERE (NOT cancelled)")
        .expect(&up);
    assert!(drop_at < add_at, "{up}");
    let down = std::fs::read_to_string(dir.join("migrations/2_adjacent/down.sql")).unwrap();
    assert!(
        down.contains("ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)"),
        "{down}"
    );

    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate"]));
    let schema_dir = dir.join("schema").display().to_string();
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &schema_dir,
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "database vs schema after migrate:\n{out}");
    assert_eq!(
        db.query_strings("SELECT count(*)::text FROM booking"),
        vec![vec![Some("2".into())]]
    );
    // Adjacent periods of one room are now refused, overlapping ones allowed.
    db.execute("INSERT INTO booking VALUES (3, 101, '[2024-01-05, 2024-01-06)', false)")
        .unwrap_err();

    ok(run_in(dir, &["rollback", "--force"]));
    assert_eq!(
        constraints(&db),
        vec![vec![
            Some("no_overlap".into()),
            Some("EXCLUDE USING gist (room WITH =, during WITH &&)".into()),
        ]]
    );
    assert_eq!(
        db.query_strings("SELECT count(*)::text FROM booking"),
        vec![vec![Some("2".into())]]
    );
}

#[test]
fn rows_that_violate_the_new_constraint_fail_the_migration_with_nothing_applied() {
    let db = PgDb::new();
    let project = pg_project(&db.url);
    let dir = project.path();
    write_file(dir, "schema/s.sql", V1);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));
    ok(run_in(dir, &["migrate"]));
    // Two rooms booked over the same period: fine today.
    db.execute(
        "INSERT INTO booking VALUES (1, 101, '[2024-01-01, 2024-01-05)', false), \
         (2, 102, '[2024-01-03, 2024-01-08)', false)",
    )
    .unwrap();

    // Only one booking at a time, whatever the room: these rows violate it.
    let v2 = V1.replace("(room WITH =, during WITH &&))", "(during WITH &&))");
    write_file(dir, "schema/s.sql", &v2);
    ok(run_in(
        dir,
        &["generate", "one_at_a_time", "--version", "2"],
    ));
    let out = run_in(dir, &["migrate"]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("no_overlap"), "{out}");
    // The migration ran in one transaction: the old constraint is still there, the
    // history does not record it, and the rows are untouched.
    assert_eq!(
        constraints(&db),
        vec![vec![
            Some("no_overlap".into()),
            Some("EXCLUDE USING gist (room WITH =, during WITH &&)".into()),
        ]]
    );
    assert_eq!(
        db.query_strings("SELECT count(*)::text FROM booking"),
        vec![vec![Some("2".into())]]
    );
    let status = ok(run_in(dir, &["status"]));
    assert!(status.stdout.contains("one_at_a_time"), "{status}");
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.join("migrations/1_init/up.sql").display().to_string(),
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "the database is still at version 1:\n{out}");
}

#[test]
fn a_bad_exclusion_is_an_error_pointing_at_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (a int);\n\nALTER TABLE t ADD EXCLUDE USING gist (a WITH);\n",
    );
    let out = read_pg_file(&file, &[]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("schema.sql:3:"), "{out}");
    assert!(out.stderr.contains("operator"), "{out}");
}
