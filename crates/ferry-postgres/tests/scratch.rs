//! Scratch databases (`Database::scratch`): created empty on the same server, usable like
//! any database, and dropped when the value is dropped, on error paths too; a role without
//! CREATEDB gets an error that says so.

mod common;

use common::{load, plan, TestDb};
use ferry_core::{
    Database, DbErrorKind, HistoryChange, MigrationStore, Schema, Script, ScriptStatement,
};
use ferry_postgres::{PgDatabase, SCRATCH_PREFIX};

fn database_exists(origin: &mut PgDatabase, name: &str) -> bool {
    origin
        .client()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

/// The database's encoding, collation and character classification.
fn locale(db: &mut PgDatabase) -> (String, String, String) {
    let row = db
        .client()
        .query_one(
            "SELECT pg_encoding_to_char(encoding), datcollate::text, datctype::text \
             FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[test]
fn scratch_is_created_empty_usable_and_dropped() {
    let Some(db) = TestDb::new() else { return };
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)");
    let mut origin = db.connect();
    let mut scratch = origin.scratch_database().expect("scratch");
    let name = scratch.scratch_name().expect("a scratch name").to_string();
    assert!(name.starts_with(SCRATCH_PREFIX), "{name}");
    assert!(database_exists(&mut origin, &name));
    assert_eq!(locale(&mut scratch), locale(&mut origin));

    // Empty: nothing of the original is in it.
    assert_eq!(scratch.inspect().unwrap(), Schema::default());

    // Usable: a plan applies, a migration script runs with its history row.
    let schema = load("CREATE TABLE posts (id bigint PRIMARY KEY, title text NOT NULL);");
    scratch.apply(&plan(&Schema::default(), &schema)).unwrap();
    let script = Script {
        origin: "up.sql".into(),
        statements: vec![ScriptStatement {
            sql: "ALTER TABLE posts ADD COLUMN body text".into(),
            line: 1,
        }],
        transactional: true,
        committed_first: 0,
    };
    let record = HistoryChange::Record {
        version: "1".into(),
        name: "body".into(),
        checksum: "c".into(),
    };
    scratch.run_script(&script, &record).unwrap();
    assert_eq!(scratch.history().unwrap().len(), 1);
    let inspected = scratch.inspect().unwrap();
    assert_eq!(inspected.tables.len(), 1);
    assert!(inspected
        .tables
        .values()
        .next()
        .unwrap()
        .column("body")
        .is_some());

    // The original is untouched.
    let original = origin.inspect().unwrap();
    assert_eq!(original.tables.len(), 1);
    assert!(original.tables.keys().any(|t| t.name == "users"));
    assert!(origin.history().unwrap().is_empty());

    drop(scratch);
    assert!(
        !database_exists(&mut origin, &name),
        "{name} was not dropped"
    );
}

#[test]
fn scratch_through_the_trait_is_a_database_of_its_own() {
    let Some(db) = TestDb::new() else { return };
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY)");
    let mut origin: Box<dyn Database> = Box::new(db.connect());
    let mut scratch = origin.scratch().expect("scratch");
    assert_eq!(scratch.inspect().unwrap(), Schema::default());
    let schema = load("CREATE TABLE users (id bigint PRIMARY KEY, name text);");
    scratch.apply(&plan(&Schema::default(), &schema)).unwrap();
    assert!(scratch
        .inspect()
        .unwrap()
        .tables
        .values()
        .next()
        .unwrap()
        .column("name")
        .is_some());
    assert!(origin
        .inspect()
        .unwrap()
        .tables
        .values()
        .next()
        .unwrap()
        .column("name")
        .is_none());
}

#[test]
fn scratch_is_dropped_after_a_failure_and_after_its_origin() {
    let Some(db) = TestDb::new() else { return };
    let mut origin = db.connect();
    let mut checker = db.connect();

    // A statement fails in the scratch database: still dropped.
    let mut scratch = origin.scratch_database().expect("scratch");
    let name = scratch.scratch_name().unwrap().to_string();
    let bad = Script {
        origin: "up.sql".into(),
        statements: vec![ScriptStatement {
            sql: "ALTER TABLE missing ADD COLUMN x int".into(),
            line: 3,
        }],
        transactional: true,
        committed_first: 0,
    };
    let record = HistoryChange::Record {
        version: "1".into(),
        name: "x".into(),
        checksum: "c".into(),
    };
    let err = scratch.run_script(&bad, &record).unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Apply);
    drop(scratch);
    assert!(!database_exists(&mut checker, &name), "{name} left behind");

    // The connection it was made from goes first: the scratch database still goes.
    let scratch = origin.scratch_database().expect("scratch");
    let name = scratch.scratch_name().unwrap().to_string();
    drop(origin);
    assert!(database_exists(&mut checker, &name));
    drop(scratch);
    assert!(!database_exists(&mut checker, &name), "{name} left behind");

    // Two scratch databases at once are two databases.
    let mut origin = db.connect();
    let a = origin.scratch_database().unwrap();
    let b = origin.scratch_database().unwrap();
    assert_ne!(a.scratch_name(), b.scratch_name());
    assert_eq!(origin.scratch_name(), None);
}

#[test]
fn a_role_without_createdb_is_told_so() {
    let Some(db) = TestDb::new() else { return };
    // Roles are server-wide: one per test database, dropped at the end.
    let role = format!("{}_nocreatedb", db.name);
    db.execute(&format!("CREATE ROLE {role} NOLOGIN NOCREATEDB"));
    // The test's own (superuser) login, acting as the role from the start of the session,
    // so that no pg_hba.conf entry for the role is needed.
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options=-c%20role%3D{role}", db.url);
    let result =
        PgDatabase::connect(&url).and_then(|mut as_role| as_role.scratch_database().map(|_| ()));
    db.execute(&format!("DROP ROLE {role}"));
    let err = result.expect_err("a role without CREATEDB cannot make a scratch database");
    assert_eq!(err.kind, DbErrorKind::Connect);
    assert!(err.message.contains("CREATEDB"), "{}", err.message);
    assert!(err.message.contains(&role), "{}", err.message);
}
