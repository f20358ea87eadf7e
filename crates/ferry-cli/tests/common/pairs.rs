//! The schema pairs of the soundness tests (DESIGN invariant 2), shared by `soundness.rs`
//! (`ferry diff` and `push`) and `migration_soundness.rs` (`generate`, `migrate`,
//! `rollback`). Each test crate includes this file with `#[path = "common/pairs.rs"] mod pairs;`.

pub struct Pair {
    pub name: &'static str,
    pub a: &'static str,
    pub b: &'static str,
    /// Rows inserted at A before migrating.
    pub seed: &'static str,
    /// A query whose single value must be `expect` after migrating to B.
    pub check: &'static str,
    pub expect: &'static str,
}

pub const PG_PAIRS: &[Pair] = &[
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

pub const SQLITE_PAIRS: &[Pair] = &[
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
