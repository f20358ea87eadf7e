//! A throw-away database per test, so tests run in parallel against one server.

#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use ferry_core::{diff, Database, Dialect, Plan, Renames, Schema};
use ferry_postgres::{PgDatabase, POSTGRES};
use postgres::{Client, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

fn admin_url() -> String {
    std::env::var("FERRY_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// `url` pointing at database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// A fresh, empty database; `None` (the test is skipped) when no server answers,
    /// unless FERRY_TEST_PG_REQUIRED is set.
    pub fn new() -> Option<TestDb> {
        let admin_url = admin_url();
        let mut admin = match Client::connect(&admin_url, NoTls) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var_os("FERRY_TEST_PG_REQUIRED").is_some() {
                    panic!("no PostgreSQL server at {admin_url}: {e}");
                }
                eprintln!("skipping: no PostgreSQL server at {admin_url}: {e}");
                return None;
            }
        };
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        let name = format!("ferry_pg_{:016x}", h.finish());
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        Some(TestDb {
            admin_url,
            name,
            url,
        })
    }

    pub fn connect(&self) -> PgDatabase {
        PgDatabase::connect(&self.url).expect("connect to test database")
    }

    /// Runs SQL text as-is (a schema file executed by the server).
    pub fn execute(&self, sql: &str) {
        let mut db = self.connect();
        if let Err(e) = db.client().batch_execute(sql) {
            panic!("executing schema failed: {e:?}\n{sql}");
        }
    }

    pub fn inspect(&self) -> Schema {
        self.connect().inspect().expect("inspect")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&self.admin_url, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub fn load(sql: &str) -> Schema {
    match ferry_sql::load_str(sql, "test.sql", &POSTGRES) {
        Ok(s) => s,
        Err(e) => panic!("load failed: {e:?}"),
    }
}

pub fn plan(from: &Schema, to: &Schema) -> Plan {
    let changes = diff(from, to, &Renames::default());
    POSTGRES.plan(from, to, &changes).expect("plan")
}

/// Asserts two schemas are equal, reporting the first differing object readably.
#[track_caller]
pub fn assert_same(expected: &Schema, actual: &Schema, context: &str) {
    // Rename hints are instructions for the differ, not state a database can hold.
    let mut expected = expected.clone();
    expected.rename_hints.clear();
    let (expected, actual) = (&expected, actual);
    if expected == actual {
        return;
    }
    let mut report = String::new();
    if expected.namespaces != actual.namespaces {
        report += &format!(
            "namespaces: {:?} vs {:?}\n",
            expected.namespaces, actual.namespaces
        );
    }
    if expected.enums != actual.enums {
        report += &format!("enums:\n{:#?}\nvs\n{:#?}\n", expected.enums, actual.enums);
    }
    if expected.domains != actual.domains {
        report += &format!(
            "domains:\n{:#?}\nvs\n{:#?}\n",
            expected.domains, actual.domains
        );
    }
    for (name, s) in &expected.sequences {
        if actual.sequences.get(name) != Some(s) {
            report += &format!(
                "sequence {name}:\n{s:#?}\nvs\n{:#?}\n",
                actual.sequences.get(name)
            );
        }
    }
    for name in actual.sequences.keys() {
        if !expected.sequences.contains_key(name) {
            report += &format!("unexpected sequence {name}\n");
        }
    }
    for (name, t) in &expected.tables {
        let Some(a) = actual.tables.get(name) else {
            report += &format!("missing table {name}\n");
            continue;
        };
        if a == t {
            continue;
        }
        for (i, c) in t.columns.iter().enumerate() {
            if a.columns.get(i) != Some(c) {
                report += &format!("{name} column {i}:\n{c:#?}\nvs\n{:#?}\n", a.columns.get(i));
            }
        }
        if a.columns.len() != t.columns.len() {
            report += &format!(
                "{name}: {} columns vs {}\n",
                t.columns.len(),
                a.columns.len()
            );
        }
        if a.primary_key != t.primary_key {
            report += &format!("{name} pk: {:?} vs {:?}\n", t.primary_key, a.primary_key);
        }
        list_diff(&mut report, name, "unique", &t.uniques, &a.uniques, |x| {
            &x.name
        });
        list_diff(&mut report, name, "check", &t.checks, &a.checks, |x| {
            &x.name
        });
        list_diff(
            &mut report,
            name,
            "exclusion",
            &t.exclusions,
            &a.exclusions,
            |x| &x.name,
        );
        list_diff(
            &mut report,
            name,
            "foreign key",
            &t.foreign_keys,
            &a.foreign_keys,
            |x| &x.name,
        );
        list_diff(&mut report, name, "index", &t.indexes, &a.indexes, |x| {
            &x.name
        });
        if a.comment != t.comment {
            report += &format!("{name} comment: {:?} vs {:?}\n", t.comment, a.comment);
        }
    }
    for name in actual.tables.keys() {
        if !expected.tables.contains_key(name) {
            report += &format!("unexpected table {name}\n");
        }
    }
    for (name, v) in &expected.views {
        match actual.views.get(name) {
            None => report += &format!("missing view {name}\n"),
            Some(a) if a != v => {
                report += &format!("view {name}:\n{v:#?}\nvs\n{a:#?}\n");
            }
            Some(_) => {}
        }
    }
    for name in actual.views.keys() {
        if !expected.views.contains_key(name) {
            report += &format!("unexpected view {name}\n");
        }
    }
    if expected.functions != actual.functions {
        report += &format!(
            "functions:\n{:#?}\nvs\n{:#?}\n",
            expected.functions, actual.functions
        );
    }
    if expected.triggers != actual.triggers {
        report += &format!(
            "triggers:\n{:#?}\nvs\n{:#?}\n",
            expected.triggers, actual.triggers
        );
    }
    if expected.opaque != actual.opaque {
        report += &format!("opaque: {:#?} vs {:#?}\n", expected.opaque, actual.opaque);
    }
    panic!("{context}: schemas differ (expected vs actual)\n{report}");
}

/// Reports the elements of two name-keyed lists that differ.
fn list_diff<T: PartialEq + std::fmt::Debug>(
    report: &mut String,
    table: &ferry_core::QualifiedName,
    what: &str,
    expected: &[T],
    actual: &[T],
    name: impl Fn(&T) -> &String,
) {
    for e in expected {
        match actual.iter().find(|a| name(a) == name(e)) {
            None => *report += &format!("{table}: missing {what} {e:#?}\n"),
            Some(a) if a != e => *report += &format!("{table} {what}:\n{e:#?}\nvs\n{a:#?}\n"),
            Some(_) => {}
        }
    }
    for a in actual {
        if !expected.iter().any(|e| name(e) == name(a)) {
            *report += &format!("{table}: unexpected {what} {a:#?}\n");
        }
    }
    if expected.len() == actual.len() && expected != actual && report.is_empty() {
        *report += &format!("{table}: {what}s in a different order\n");
    }
}

/// `schema` with every table's columns sorted by name, for comparisons where PostgreSQL
/// cannot keep the column order (a column dropped and added again goes last).
pub fn columns_by_name(schema: &Schema) -> Schema {
    let mut s = schema.clone();
    for t in s.tables.values_mut() {
        t.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    s
}
