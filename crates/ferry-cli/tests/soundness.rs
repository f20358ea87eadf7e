//! Soundness (DESIGN invariant 2) on pairs of schemas, through the binary: a database at A
//! plus the SQL of `ferry diff A B` inspects equal to B (and back again), both URL→URL and
//! file→file, and changes that can keep rows keep them (invariant 3).

mod common;

use common::*;

struct Pair {
    name: &'static str,
    a: &'static str,
    b: &'static str,
    /// Rows inserted at A before migrating.
    seed: &'static str,
    /// A query whose single value must be `expect` after migrating to B.
    check: &'static str,
    expect: &'static str,
}

const PG_PAIRS: &[Pair] = &[
    Pair {
        name: "add column with default",
        a: "CREATE TABLE users (id int PRIMARY KEY, name text);",
        b: "CREATE TABLE users (id int PRIMARY KEY, name text, age int NOT NULL DEFAULT 0);",
        seed: "INSERT INTO users VALUES (1, 'a'), (2, 'b');",
        check: "SELECT count(*) FROM users WHERE age = 0",
        expect: "2",
    },
    Pair {
        name: "widen types",
        a: "CREATE TABLE t (id int PRIMARY KEY, code varchar(10), n int, amount numeric(6,2));",
        b: "CREATE TABLE t (id bigint PRIMARY KEY, code varchar(50), n bigint, amount numeric(12,2));",
        seed: "INSERT INTO t VALUES (1, 'abc', 7, 12.5);",
        check: "SELECT code || n || amount FROM t",
        expect: "abc712.50",
    },
    Pair {
        name: "text to integer with a cast",
        a: "CREATE TABLE t (id int PRIMARY KEY, qty text);",
        b: "CREATE TABLE t (id int PRIMARY KEY, qty integer);",
        seed: "INSERT INTO t VALUES (1, '42');",
        check: "SELECT qty + 1 FROM t",
        expect: "43",
    },
    Pair {
        name: "defaults and nullability",
        a: "CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 'x', n int NOT NULL, ts timestamptz);",
        b: "CREATE TABLE t (id int PRIMARY KEY, s text NOT NULL DEFAULT 'y', n int, ts timestamptz DEFAULT now());",
        seed: "INSERT INTO t (id, n) VALUES (1, 5);",
        check: "SELECT s FROM t",
        expect: "x",
    },
    Pair {
        name: "enum value added in the middle",
        a: "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood DEFAULT 'sad');",
        b: "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood DEFAULT 'sad');",
        seed: "INSERT INTO p VALUES (1, 'happy');",
        check: "SELECT m::text FROM p",
        expect: "happy",
    },
    Pair {
        name: "enum value removed",
        a: "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', ms mood[]);",
        b: "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'sad', ms mood[]);",
        seed: "INSERT INTO p VALUES (1, 'happy', '{sad,happy}');",
        check: "SELECT m::text FROM p",
        expect: "happy",
    },
    Pair {
        name: "foreign keys, indexes and checks",
        a: "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int, v int);",
        b: "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a ON DELETE CASCADE, v int CHECK (v > 0)); CREATE INDEX b_a_idx ON b (a_id) WHERE v > 10;",
        seed: "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1, 1, 5);",
        check: "SELECT count(*) FROM b",
        expect: "1",
    },
    Pair {
        name: "rename column by annotation",
        a: "CREATE TABLE users (id int PRIMARY KEY, username text UNIQUE);",
        b: "CREATE TABLE users (id int PRIMARY KEY,\n user_name text UNIQUE -- @renamed from=username\n);",
        seed: "INSERT INTO users VALUES (1, 'kim');",
        check: "SELECT user_name FROM users",
        expect: "kim",
    },
    Pair {
        name: "rename table by annotation",
        a: "CREATE TABLE accounts (id int PRIMARY KEY, n text); CREATE TABLE logs (id int, account_id int REFERENCES accounts);",
        b: "CREATE TABLE users ( -- @renamed from=accounts\n id int PRIMARY KEY, n text); CREATE TABLE logs (id int, account_id int REFERENCES users);",
        // No logs rows: going back (B→A, without the annotation) drops and re-creates
        // the parent, which a referencing row would rightly block.
        seed: "INSERT INTO accounts VALUES (1, 'x');",
        check: "SELECT n FROM users",
        expect: "x",
    },
    Pair {
        name: "primary key change referenced by a foreign key",
        a: "CREATE TABLE a (id int PRIMARY KEY, code text NOT NULL); CREATE TABLE b (a_id int REFERENCES a (id));",
        b: "CREATE TABLE a (id int NOT NULL, code text PRIMARY KEY); CREATE TABLE b (a_id int);",
        seed: "INSERT INTO a VALUES (1, 'one');",
        check: "SELECT code FROM a",
        expect: "one",
    },
    Pair {
        name: "tables referencing each other",
        a: "",
        b: "CREATE TABLE x (id int PRIMARY KEY, y_id int); CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x); ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y;",
        seed: "",
        check: "SELECT count(*) FROM x",
        expect: "0",
    },
    Pair {
        name: "schemas, sequences, identity and comments",
        a: "CREATE TABLE t (id int PRIMARY KEY, n int);",
        b: "CREATE SCHEMA app; CREATE SEQUENCE app.s START 10; CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n int DEFAULT nextval('app.s')); COMMENT ON TABLE t IS 'tee'; COMMENT ON COLUMN t.n IS 'en';",
        seed: "INSERT INTO t VALUES (1, 1);",
        check: "SELECT count(*) FROM t",
        expect: "1",
    },
    Pair {
        name: "unique constraint and partial index changes",
        a: "CREATE TABLE t (id int PRIMARY KEY, a text, b text, UNIQUE (a)); CREATE INDEX t_b ON t (b);",
        b: "CREATE TABLE t (id int PRIMARY KEY, a text, b text, UNIQUE (a, b)); CREATE INDEX t_b ON t (b) WHERE b IS NOT NULL;",
        seed: "INSERT INTO t VALUES (1, 'a', 'b');",
        check: "SELECT count(*) FROM t",
        expect: "1",
    },
];

const SQLITE_PAIRS: &[Pair] = &[
    Pair {
        name: "add column",
        a: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);",
        b: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER NOT NULL DEFAULT 0);",
        seed: "INSERT INTO users VALUES (1, 'a');",
        check: "SELECT count(*) FROM users WHERE age = 0",
        expect: "1",
    },
    Pair {
        name: "type change rebuilds and keeps child rows of a cascading parent",
        a: "CREATE TABLE parent (id INTEGER PRIMARY KEY, name varchar(10)); CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);",
        b: "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT ''); CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);",
        seed: "INSERT INTO parent VALUES (1, 'p'); INSERT INTO child VALUES (1, 1), (2, 1);",
        check: "SELECT count(*) FROM child",
        expect: "2",
    },
    Pair {
        name: "rename column by annotation",
        a: "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);",
        b: "CREATE TABLE users (id INTEGER PRIMARY KEY,\n user_name TEXT -- @renamed from=username\n);",
        seed: "INSERT INTO users VALUES (1, 'kim');",
        check: "SELECT user_name FROM users",
        expect: "kim",
    },
    Pair {
        name: "add foreign key, unique and index",
        a: "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, code TEXT);",
        b: "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id), code TEXT UNIQUE); CREATE INDEX b_a ON b (a_id);",
        seed: "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1, 1, 'x');",
        check: "SELECT code FROM b",
        expect: "x",
    },
    Pair {
        name: "drop column and table",
        a: "CREATE TABLE t (id INTEGER PRIMARY KEY, keep TEXT, gone TEXT); CREATE TABLE old (id INTEGER);",
        b: "CREATE TABLE t (id INTEGER PRIMARY KEY, keep TEXT);",
        seed: "INSERT INTO t VALUES (1, 'k', 'g');",
        check: "SELECT keep FROM t",
        expect: "k",
    },
    Pair {
        name: "primary key and check change",
        a: "CREATE TABLE t (id INTEGER, code TEXT NOT NULL, n INTEGER CHECK (n > 0));",
        b: "CREATE TABLE t (id INTEGER, code TEXT NOT NULL PRIMARY KEY, n INTEGER CHECK (n >= 0));",
        seed: "INSERT INTO t VALUES (1, 'c', 3);",
        check: "SELECT code || n FROM t",
        expect: "c3",
    },
];

trait TestDb {
    fn url(&self) -> &str;
    fn exec(&self, sql: &str) -> Result<(), String>;
    fn scalar(&self, sql: &str) -> String;
    /// Runs a generated script the way a user would (psql -f / sqlite3).
    fn apply_script(&self, sql: &str) -> Result<(), String> {
        self.exec(sql)
    }
}

impl TestDb for PgDb {
    fn url(&self) -> &str {
        &self.url
    }
    fn apply_script(&self, sql: &str) -> Result<(), String> {
        self.psql_script(sql)
    }
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
    }
    fn scalar(&self, sql: &str) -> String {
        self.query_strings(sql)[0][0].clone().unwrap_or_default()
    }
}

impl TestDb for SqliteDb {
    fn url(&self) -> &str {
        &self.url
    }
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
    }
    fn scalar(&self, sql: &str) -> String {
        self.connection()
            .query_row(sql, [], |r| {
                let v: rusqlite::types::Value = r.get(0)?;
                Ok(match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    other => format!("{other:?}"),
                })
            })
            .expect("scalar query")
    }
}

/// Migrates `db` with the SQL of `ferry diff --from FROM --to TO`, then asserts that a
/// second diff from the database to `to` is empty.
fn migrate(db: &dyn TestDb, from: &str, to: &str, dialect: &str, label: &str) {
    let out = run(&[
        "diff",
        "--from",
        from,
        "--to",
        to,
        "--dialect",
        dialect,
        "--no-rename",
    ]);
    assert_eq!(out.code, 0, "{label}: diff failed:\n{out}");
    db.apply_script(&out.stdout)
        .unwrap_or_else(|e| panic!("{label}: generated SQL failed: {e}\n{}", out.stdout));
    let again = run(&[
        "diff",
        "--from",
        db.url(),
        "--to",
        to,
        "--dialect",
        dialect,
        "--exit-code",
        "--no-rename",
    ]);
    assert_eq!(
        again.code, 0,
        "{label}: not at the target after applying\n{}\n{again}",
        out.stdout
    );
}

fn check_pairs(pairs: &[Pair], dialect: &str, new_db: &dyn Fn() -> Box<dyn TestDb>) {
    for pair in pairs {
        let dir = tempfile::tempdir().unwrap();
        let a = write_file(dir.path(), "a.sql", pair.a);
        let b = write_file(dir.path(), "b.sql", pair.b);

        // URL → file, with data, then back.
        let db = new_db();
        db.exec(pair.a).unwrap();
        db.exec(pair.seed).unwrap();
        migrate(
            db.as_ref(),
            db.url(),
            &b,
            dialect,
            &format!("{}: A→B", pair.name),
        );
        assert_eq!(
            db.scalar(pair.check),
            pair.expect,
            "{}: rows not kept",
            pair.name
        );
        migrate(
            db.as_ref(),
            db.url(),
            &a,
            dialect,
            &format!("{}: B→A", pair.name),
        );

        // URL → URL.
        let (at_a, at_b) = (new_db(), new_db());
        at_a.exec(pair.a).unwrap();
        at_b.exec(pair.b).unwrap();
        migrate(
            at_a.as_ref(),
            at_a.url(),
            at_b.url(),
            dialect,
            &format!("{}: url A→B", pair.name),
        );

        // File → file, applied to a database at A.
        let db = new_db();
        db.exec(pair.a).unwrap();
        migrate(
            db.as_ref(),
            &a,
            &b,
            dialect,
            &format!("{}: file A→B", pair.name),
        );
        let db = new_db();
        db.exec(pair.b).unwrap();
        migrate(
            db.as_ref(),
            &b,
            &a,
            dialect,
            &format!("{}: file B→A", pair.name),
        );

        // push with consent does the same.
        let db = new_db();
        db.exec(pair.a).unwrap();
        db.exec(pair.seed).unwrap();
        let out = run(&[
            "push",
            "--url",
            db.url(),
            "--schema",
            &b,
            "--force",
            "--no-rename",
        ]);
        assert_eq!(out.code, 0, "{}: push failed:\n{out}", pair.name);
        let out = run(&["push", "--url", db.url(), "--schema", &b, "--no-rename"]);
        assert!(
            out.stderr.contains("Nothing to do"),
            "{}: push did not settle:\n{out}",
            pair.name
        );
    }
}

#[test]
fn postgres_pairs_are_sound() {
    check_pairs(PG_PAIRS, "postgres", &|| Box::new(PgDb::new()));
}

#[test]
fn sqlite_pairs_are_sound() {
    check_pairs(SQLITE_PAIRS, "sqlite", &|| Box::new(SqliteDb::new()));
}
