//! Every rule: a case that fires (with its position), cases that do not.

use ferry_core::{CheckConstraint, Column, Expr, Index, IndexKey, QualifiedName, Schema, Table};

use super::*;

/// `users (id, email, name)` with index `users_email_idx`, `orders (id, user_id)`, and
/// `audit.events (id)`: tables the migration finds with rows in them.
fn before(kind: DialectKind) -> Schema {
    let ns = match kind {
        DialectKind::Postgres => "public",
        DialectKind::Sqlite => "main",
    };
    let table = |schema: &str, name: &str, cols: &[&str]| {
        let mut t = Table::new(QualifiedName::new(schema, name));
        t.columns = cols.iter().map(|c| Column::new(*c, "integer")).collect();
        t
    };
    let mut users = table(ns, "users", &["id", "email", "name"]);
    users.column_mut("email").unwrap().data_type = "character varying(40)".to_string();
    users.indexes.push(Index {
        name: "users_email_idx".to_string(),
        unique: false,
        method: "btree".to_string(),
        keys: vec![IndexKey::column("email")],
        include: vec![],
        predicate: None,
        nulls_not_distinct: false,
    });
    let orders = table(ns, "orders", &["id", "user_id"]);
    let events = table("audit", "events", &["id"]);
    let mut schema = Schema::default();
    for t in [users, orders, events] {
        schema.tables.insert(t.name.clone(), t);
    }
    schema
}

fn run(sql: &str, kind: DialectKind, transactional: bool) -> Vec<Finding> {
    let schema = before(kind);
    lint(&LintInput {
        sql,
        origin: "migrations/1_test/up.sql",
        kind,
        before: &schema,
        transactional,
    })
    .unwrap()
}

fn pg(sql: &str) -> Vec<Finding> {
    run(sql, DialectKind::Postgres, true)
}

/// (line, column) of each finding of `rule`.
fn at(findings: &[Finding], rule: &str) -> Vec<(u64, u64)> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.line, f.column))
        .collect()
}

fn names(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule).collect()
}

const NONE: &[(u64, u64)] = &[];

// ---- data loss ----------------------------------------------------------------------------

#[test]
fn drop_table_fires_on_existing_tables_only() {
    let f = pg("CREATE TABLE tmp (id int);\nDROP TABLE tmp;\n  DROP TABLE IF EXISTS users, orders CASCADE;");
    assert_eq!(at(&f, "drop-table"), vec![(3, 3)]);
    let hit = f.iter().find(|f| f.rule == "drop-table").unwrap();
    assert!(hit.data_loss);
    assert_eq!(hit.severity, Severity::Error);
    assert!(hit.message.contains("users, orders"), "{}", hit.message);
    assert_eq!(hit.statement, "DROP TABLE IF EXISTS users, orders CASCADE");

    let f = run("DROP TABLE users;", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "drop-table"), vec![(1, 1)]);
    // Not in `before`: nothing to lose.
    assert_eq!(at(&pg("DROP TABLE IF EXISTS ghosts;"), "drop-table"), NONE);
}

#[test]
fn schema_qualified_and_quoted_names_resolve() {
    assert_eq!(
        at(&pg("DROP TABLE audit.events;"), "drop-table"),
        vec![(1, 1)]
    );
    assert_eq!(
        at(&pg("DROP TABLE public.\"users\";"), "drop-table"),
        vec![(1, 1)]
    );
    // Unquoted names fold to lower case; quoted ones do not.
    assert_eq!(at(&pg("DROP TABLE USERS;"), "drop-table"), vec![(1, 1)]);
    assert_eq!(at(&pg("DROP TABLE \"USERS\";"), "drop-table"), NONE);
    // SQLite compares names case-insensitively.
    let f = run("DROP TABLE \"Users\";", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "drop-table"), vec![(1, 1)]);
}

#[test]
fn table_rebuild_is_not_a_drop_but_columns_left_out_are() {
    // ferry's SQLite rebuild: copy, drop, rename.
    let sql = "CREATE TABLE \"_ferry_new_users\" (id integer, email text, name text);\n\
               INSERT INTO \"_ferry_new_users\" (\"id\", \"email\", \"name\") SELECT \"id\", \"email\", \"name\" FROM \"users\";\n\
               DROP TABLE \"users\";\n\
               ALTER TABLE \"_ferry_new_users\" RENAME TO \"users\";";
    let f = run(sql, DialectKind::Sqlite, true);
    assert_eq!(names(&f), Vec::<&str>::new());

    let sql = "CREATE TABLE new_users (id integer, email text);\n\
               INSERT INTO new_users (id, email) SELECT id, email FROM users;\n\
               DROP TABLE users;";
    let f = run(sql, DialectKind::Sqlite, true);
    assert_eq!(names(&f), vec!["drop-column"]);
    assert_eq!(at(&f, "drop-column"), vec![(3, 1)]);
    assert!(f[0].message.contains("name"), "{}", f[0].message);

    let sql = "CREATE TABLE users_copy AS SELECT * FROM users;\nDROP TABLE users;";
    assert_eq!(
        names(&run(sql, DialectKind::Sqlite, true)),
        Vec::<&str>::new()
    );
}

#[test]
fn drop_column_fires_on_the_action() {
    let f = pg("SET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD COLUMN age int,\n  DROP COLUMN name;");
    assert_eq!(names(&f), vec!["drop-column"]);
    assert_eq!(at(&f, "drop-column"), vec![(3, 3)]);
    assert!(f[0].data_loss);

    let f = run("ALTER TABLE users DROP name;", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "drop-column"), vec![(1, 19)]);
    // A table created in the same file, and DROP CONSTRAINT, lose nothing.
    let f = pg("CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b;\nALTER TABLE users DROP CONSTRAINT users_email_key;");
    assert_eq!(at(&f, "drop-column"), NONE);
    // Nor does a column added earlier in the file.
    let f = pg("ALTER TABLE users ADD COLUMN tmp int;\nALTER TABLE users DROP COLUMN tmp;");
    assert_eq!(at(&f, "drop-column"), NONE);
}

#[test]
fn drop_schema_cascade_fires_when_it_holds_tables() {
    let f = pg("DROP SCHEMA audit CASCADE;");
    assert_eq!(at(&f, "drop-schema"), vec![(1, 1)]);
    assert!(f[0].message.contains("audit.events"));
    assert_eq!(at(&pg("DROP SCHEMA audit;"), "drop-schema"), NONE);
    assert_eq!(at(&pg("DROP SCHEMA empty CASCADE;"), "drop-schema"), NONE);
}

#[test]
fn truncate_fires_on_existing_tables() {
    let f = pg("CREATE TABLE t (a int);\nTRUNCATE t;\nTRUNCATE TABLE ONLY orders CASCADE;");
    assert_eq!(at(&f, "truncate-table"), vec![(3, 1)]);
    let hit = f.iter().find(|f| f.rule == "truncate-table").unwrap();
    assert!(hit.message.contains("CASCADE"));
    assert!(hit.data_loss);
}

#[test]
fn delete_without_where_fires_only_without_where() {
    let f = pg("DELETE FROM orders WHERE id < 10;\n\nDELETE FROM orders;");
    assert_eq!(at(&f, "delete-without-where"), vec![(3, 1)]);
    let f = pg("WITH old AS (SELECT id FROM users WHERE id < 5)\nDELETE FROM orders;");
    assert_eq!(at(&f, "delete-without-where"), vec![(2, 1)]);
    // The WHERE inside the CTE is not the DELETE's.
    let f = pg("WITH gone AS (DELETE FROM orders WHERE id = 1 RETURNING id) SELECT * FROM gone;");
    assert_eq!(at(&f, "delete-without-where"), NONE);
    let f = run("DELETE FROM users;", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "delete-without-where"), vec![(1, 1)]);
    assert_eq!(
        at(
            &pg("CREATE TABLE t (a int);\nDELETE FROM t;"),
            "delete-without-where"
        ),
        NONE
    );
}

// ---- failures -----------------------------------------------------------------------------

#[test]
fn adding_not_null_column_without_default() {
    let f = pg("ALTER TABLE users ADD COLUMN age integer NOT NULL;");
    assert_eq!(
        at(&f, "adding-not-null-column-without-default"),
        vec![(1, 19)]
    );
    let f = run(
        "ALTER TABLE users ADD COLUMN age integer NOT NULL;",
        DialectKind::Sqlite,
        true,
    );
    assert_eq!(
        at(&f, "adding-not-null-column-without-default"),
        vec![(1, 19)]
    );
    // DEFAULT NULL is no default.
    let f = pg("ALTER TABLE users ADD age int DEFAULT NULL NOT NULL;");
    assert_eq!(
        at(&f, "adding-not-null-column-without-default"),
        vec![(1, 19)]
    );

    for ok in [
        "ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;",
        "ALTER TABLE users ADD COLUMN age integer;",
        "ALTER TABLE users ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY NOT NULL;",
        "ALTER TABLE users ADD COLUMN n bigserial NOT NULL;",
        "ALTER TABLE users ADD COLUMN ok boolean CHECK (ok IS NOT NULL);",
        "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int NOT NULL;",
    ] {
        assert_eq!(
            at(&pg(ok), "adding-not-null-column-without-default"),
            NONE,
            "{ok}"
        );
    }
}

#[test]
fn concurrently_in_a_transaction_fails() {
    let sql = "-- an index\nCREATE INDEX CONCURRENTLY users_name_idx ON users (name);";
    let f = pg(sql);
    assert_eq!(at(&f, "concurrently-in-transaction"), vec![(2, 1)]);
    assert!(f[0].hint.contains("ferry:no-transaction"));
    assert_eq!(
        names(&run(sql, DialectKind::Postgres, false)),
        Vec::<&str>::new()
    );

    let f = pg(
        "DROP INDEX CONCURRENTLY users_email_idx;\nVACUUM users;\nALTER TYPE mood ADD VALUE 'meh';",
    );
    assert_eq!(at(&f, "concurrently-in-transaction"), vec![(1, 1), (2, 1)]);
    let f = run("VACUUM;", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "concurrently-in-transaction"), vec![(1, 1)]);
    let f = run("PRAGMA foreign_keys = OFF;", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "concurrently-in-transaction"), vec![(1, 1)]);
    let f = run("PRAGMA foreign_keys = OFF;", DialectKind::Sqlite, false);
    assert_eq!(at(&f, "concurrently-in-transaction"), NONE);
}

#[test]
fn transaction_nesting() {
    let f = pg("BEGIN;\nALTER TABLE t ADD x int;\nCOMMIT;");
    assert_eq!(at(&f, "transaction-nesting"), vec![(1, 1), (3, 1)]);
    let f = pg("SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;");
    assert_eq!(at(&f, "transaction-nesting"), NONE);
    let f = run("BEGIN;\nCOMMIT;", DialectKind::Postgres, false);
    assert_eq!(at(&f, "transaction-nesting"), NONE);
    let f = run("BEGIN IMMEDIATE;", DialectKind::Sqlite, true);
    assert_eq!(at(&f, "transaction-nesting"), vec![(1, 1)]);
}

// ---- locks --------------------------------------------------------------------------------

#[test]
fn create_index_non_concurrently() {
    let f = pg("CREATE UNIQUE INDEX users_name_idx ON users (name);");
    assert_eq!(at(&f, "create-index-non-concurrently"), vec![(1, 1)]);
    assert_eq!(f[0].severity, Severity::Warning);
    for ok in [
        "CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);",
        "CREATE INDEX IF NOT EXISTS ghosts_idx ON ghosts (a);",
        // The partitioned-table pattern: the parent index alone is instant.
        "CREATE INDEX events_id_idx ON ONLY audit.events (id);",
    ] {
        assert_eq!(at(&pg(ok), "create-index-non-concurrently"), NONE, "{ok}");
    }
    let f = run(
        "CREATE INDEX CONCURRENTLY users_name_idx ON ONLY users (name);",
        DialectKind::Postgres,
        false,
    );
    assert_eq!(names(&f), Vec::<&str>::new());
    // SQLite has no concurrent builds: nothing to suggest.
    let f = run("CREATE INDEX i ON users (name);", DialectKind::Sqlite, true);
    assert_eq!(names(&f), Vec::<&str>::new());
}

#[test]
fn drop_index_non_concurrently() {
    let f = pg("SET lock_timeout = '1s';\nDROP INDEX IF EXISTS users_email_idx;");
    assert_eq!(names(&f), vec!["drop-index-non-concurrently"]);
    assert_eq!(at(&f, "drop-index-non-concurrently"), vec![(2, 1)]);
    assert!(f[0].message.contains("users"));
    assert_eq!(
        at(
            &pg("DROP INDEX unknown_idx;"),
            "drop-index-non-concurrently"
        ),
        NONE
    );
}

#[test]
fn setting_not_null() {
    let f = pg("ALTER TABLE users ALTER COLUMN name SET NOT NULL;");
    assert_eq!(at(&f, "setting-not-null"), vec![(1, 19)]);
    // The documented way: a validated CHECK (col IS NOT NULL) first.
    let sql = "ALTER TABLE users ADD CONSTRAINT name_nn CHECK (name IS NOT NULL) NOT VALID;\n\
               ALTER TABLE users VALIDATE CONSTRAINT name_nn;\n\
               ALTER TABLE users ALTER COLUMN name SET NOT NULL;";
    assert_eq!(names(&pg(sql)), vec!["missing-lock-timeout"]);
    // Not validated yet: still a scan.
    let sql = "ALTER TABLE users ADD CONSTRAINT name_nn CHECK (name IS NOT NULL) NOT VALID;\n\
               ALTER TABLE users ALTER name SET NOT NULL;";
    assert_eq!(at(&pg(sql), "setting-not-null"), vec![(2, 19)]);
    // A CHECK in the schema before the migration counts too.
    let mut schema = before(DialectKind::Postgres);
    let users = schema
        .tables
        .get_mut(&QualifiedName::new("public", "users"))
        .unwrap();
    users.checks.push(CheckConstraint {
        name: "users_name_check".to_string(),
        expr: Expr {
            sql: "(name IS NOT NULL)".to_string(),
            key: "(name IS NOT NULL)".to_string(),
        },
        no_inherit: false,
    });
    let f = lint(&LintInput {
        sql: "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
        origin: "x",
        kind: DialectKind::Postgres,
        before: &schema,
        transactional: true,
    })
    .unwrap();
    assert_eq!(at(&f, "setting-not-null"), NONE);
    assert_eq!(
        at(
            &pg("CREATE TABLE t (a int);\nALTER TABLE t ALTER a SET NOT NULL;"),
            "setting-not-null"
        ),
        NONE
    );
}

#[test]
fn changing_column_type() {
    let f = pg("ALTER TABLE users ALTER COLUMN id TYPE bigint;");
    assert_eq!(at(&f, "changing-column-type"), vec![(1, 19)]);
    let f = pg("ALTER TABLE users ALTER COLUMN email SET DATA TYPE varchar(20);");
    assert_eq!(at(&f, "changing-column-type"), vec![(1, 19)]);
    let f = pg("ALTER TABLE users ALTER COLUMN email TYPE text USING lower(email);");
    assert_eq!(at(&f, "changing-column-type"), vec![(1, 19)]);
    // Widening varchar needs no rewrite.
    for ok in [
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(80);",
        "ALTER TABLE users ALTER COLUMN email TYPE character varying(40);",
        "ALTER TABLE users ALTER COLUMN email TYPE text;",
        "CREATE TABLE t (a int);\nALTER TABLE t ALTER a TYPE bigint;",
    ] {
        assert_eq!(at(&pg(ok), "changing-column-type"), NONE, "{ok}");
    }
}

#[test]
fn adding_foreign_key_without_not_valid() {
    let f = pg("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);");
    assert_eq!(
        at(&f, "adding-foreign-key-without-not-valid"),
        vec![(1, 20)]
    );
    let f = pg("ALTER TABLE orders ADD COLUMN buyer int REFERENCES users;");
    assert_eq!(
        at(&f, "adding-foreign-key-without-not-valid"),
        vec![(1, 20)]
    );
    for ok in [
        "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
        "CREATE TABLE t (u int);\nALTER TABLE t ADD FOREIGN KEY (u) REFERENCES users (id);",
    ] {
        assert_eq!(at(&pg(ok), "adding-foreign-key-without-not-valid"), NONE, "{ok}");
    }
}

#[test]
fn adding_check_without_not_valid() {
    let f = pg("ALTER TABLE users ADD CONSTRAINT id_positive CHECK (id > 0);");
    assert_eq!(at(&f, "adding-check-without-not-valid"), vec![(1, 19)]);
    let f = pg("ALTER TABLE users ADD CHECK (id > 0) NOT VALID;");
    assert_eq!(at(&f, "adding-check-without-not-valid"), NONE);
}

#[test]
fn adding_unique_constraint() {
    let f = pg("ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);");
    assert_eq!(at(&f, "adding-unique-constraint"), vec![(1, 19)]);
    let f = pg("ALTER TABLE orders ADD PRIMARY KEY (id);");
    assert_eq!(at(&f, "adding-unique-constraint"), vec![(1, 20)]);
    let f = pg("ALTER TABLE users ADD COLUMN handle text UNIQUE;");
    assert_eq!(at(&f, "adding-unique-constraint"), vec![(1, 19)]);
    for ok in [
        "ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE USING INDEX users_name_idx;",
        "CREATE TABLE t (a int);\nALTER TABLE t ADD PRIMARY KEY (a);",
    ] {
        assert_eq!(at(&pg(ok), "adding-unique-constraint"), NONE, "{ok}");
    }
}

#[test]
fn adding_column_with_volatile_default() {
    for (sql, word) in [
        (
            "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
            "gen_random_uuid",
        ),
        ("ALTER TABLE users ADD COLUMN n bigserial;", "serial"),
        (
            "ALTER TABLE users ADD COLUMN n int GENERATED BY DEFAULT AS IDENTITY;",
            "identity",
        ),
        (
            "ALTER TABLE users ADD COLUMN l int GENERATED ALWAYS AS (id * 2) STORED;",
            "generated",
        ),
    ] {
        let f = pg(sql);
        assert_eq!(
            at(&f, "adding-column-with-volatile-default"),
            vec![(1, 19)],
            "{sql}"
        );
        let hit = f
            .iter()
            .find(|f| f.rule == "adding-column-with-volatile-default")
            .unwrap();
        assert!(hit.message.contains(word), "{}", hit.message);
    }
    // STABLE and constant defaults are stored once (PostgreSQL 11+): no rewrite.
    for ok in [
        "ALTER TABLE users ADD COLUMN created timestamptz NOT NULL DEFAULT now();",
        "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT CURRENT_TIMESTAMP;",
        "ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;",
        "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();",
    ] {
        assert_eq!(
            at(&pg(ok), "adding-column-with-volatile-default"),
            NONE,
            "{ok}"
        );
    }
}

#[test]
fn renaming_table_and_column() {
    let f = pg("ALTER TABLE users RENAME TO accounts;\nALTER TABLE accounts RENAME COLUMN name TO full_name;");
    assert_eq!(at(&f, "renaming-table"), vec![(1, 19)]);
    // The renamed table is still the one with rows.
    assert_eq!(at(&f, "renaming-column"), vec![(2, 22)]);
    let f = pg("CREATE TABLE t (a int);\nALTER TABLE t RENAME a TO b;\nALTER TABLE t RENAME TO u;\nALTER TABLE users RENAME CONSTRAINT a TO b;");
    // Renaming a constraint still locks `users`, but breaks no query.
    assert_eq!(names(&f), vec!["missing-lock-timeout"]);
    let f = run(
        "ALTER TABLE users RENAME TO accounts;",
        DialectKind::Sqlite,
        true,
    );
    assert_eq!(names(&f), Vec::<&str>::new());
}

#[test]
fn missing_lock_timeout_is_reported_once_at_the_first_lock() {
    let sql = "CREATE TABLE t (a int);\nALTER TABLE users ADD COLUMN age int;\nALTER TABLE orders ADD COLUMN note text;";
    let f = pg(sql);
    assert_eq!(names(&f), vec!["missing-lock-timeout"]);
    assert_eq!(at(&f, "missing-lock-timeout"), vec![(2, 1)]);

    for ok in [
        "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN age int;",
        "SET LOCAL lock_timeout TO 5000;\nALTER TABLE users ADD COLUMN age int;",
        "SELECT set_config('lock_timeout', '3s', true);\nALTER TABLE users ADD COLUMN age int;",
        // Validation takes a lock that blocks neither reads nor writes.
        "ALTER TABLE users VALIDATE CONSTRAINT c;",
        "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;",
    ] {
        assert_eq!(at(&pg(ok), "missing-lock-timeout"), NONE, "{ok}");
    }
    // Zero turns the timeout off again.
    let f = pg(
        "SET lock_timeout = '5s';\nSET lock_timeout = 0;\nALTER TABLE users ADD COLUMN age int;",
    );
    assert_eq!(at(&f, "missing-lock-timeout"), vec![(3, 1)]);
    // SET LOCAL does nothing outside a transaction.
    let f = run(
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN age int;",
        DialectKind::Postgres,
        false,
    );
    assert_eq!(at(&f, "missing-lock-timeout"), vec![(2, 1)]);
    // A new table referencing an existing one locks the existing one.
    let f = pg("CREATE TABLE t (u int REFERENCES users (id));");
    assert_eq!(at(&f, "missing-lock-timeout"), vec![(1, 1)]);
    // SQLite has no lock_timeout.
    let f = run(
        "ALTER TABLE users ADD COLUMN age int;",
        DialectKind::Sqlite,
        true,
    );
    assert_eq!(names(&f), Vec::<&str>::new());
}

// ---- silencing ----------------------------------------------------------------------------

#[test]
fn allow_silences_one_statement() {
    let sql = "-- ferry:allow drop-table -- archived in ticket 42\n\
               DROP TABLE users;\n\
               DROP TABLE orders;";
    let f = pg(sql);
    assert_eq!(at(&f, "drop-table"), vec![(3, 1)]);

    // At the end of the statement's line, after its `;`, it belongs to that statement.
    let sql = "DROP TABLE users; -- ferry:allow drop-table\nDROP TABLE orders; /* ferry:allow drop-table, truncate-table */";
    assert_eq!(at(&pg(sql), "drop-table"), NONE);
    // Several names, in a block comment, directly before.
    let sql =
        "/* ferry:allow drop-column, missing-lock-timeout */ ALTER TABLE users DROP COLUMN name;";
    assert_eq!(names(&pg(sql)), Vec::<&str>::new());
}

#[test]
fn allow_file_silences_every_statement() {
    let sql = "ALTER TABLE users DROP COLUMN name;\nALTER TABLE orders DROP COLUMN user_id;\n-- ferry:allow-file drop-column, missing-lock-timeout";
    assert_eq!(names(&pg(sql)), Vec::<&str>::new());
}

#[test]
fn allow_on_the_first_lock_moves_the_timeout_warning_to_the_next() {
    let sql = "-- ferry:allow missing-lock-timeout -- tiny table\n\
               ALTER TABLE orders ADD COLUMN note text;\n\
               ALTER TABLE users ADD COLUMN age int;";
    assert_eq!(at(&pg(sql), "missing-lock-timeout"), vec![(3, 1)]);
}

#[test]
fn unknown_rule_names_are_errors() {
    let sql = "SET lock_timeout = '1s';\n  -- ferry:allow drop-tabel\nDROP TABLE users;\n-- ferry:allow\n/* ferry:allow-file nope */";
    let f = pg(sql);
    assert_eq!(
        names(&f),
        vec!["unknown-rule", "drop-table", "unknown-rule", "unknown-rule"]
    );
    assert_eq!(at(&f, "unknown-rule"), vec![(2, 3), (4, 1), (5, 1)]);
    assert!(f[0].hint.contains("drop-table"), "{}", f[0].hint);
    assert_eq!(f[0].statement, "-- ferry:allow drop-tabel");
    assert_eq!(f[0].severity, Severity::Error);
    // Other comments mentioning ferry are left alone.
    assert_eq!(
        names(&pg("-- ferry:allowed to fail\nSELECT 1;")),
        Vec::<&str>::new()
    );
}

#[test]
fn readme_example() {
    let sql =
        "CREATE INDEX users_email_idx ON users (email);\nALTER TABLE users DROP COLUMN nickname;";
    let f = pg(sql);
    let got: Vec<(u64, u64, &str)> = f.iter().map(|f| (f.line, f.column, f.rule)).collect();
    assert_eq!(
        got,
        vec![
            (1, 1, "create-index-non-concurrently"),
            (1, 1, "missing-lock-timeout"),
            (2, 19, "drop-column"),
        ]
    );
    assert!(f[1]
        .message
        .starts_with("takes a SHARE lock on existing table users"));
}

// ---- general --------------------------------------------------------------------------------

#[test]
fn findings_are_ordered_and_statements_shortened() {
    let long = format!(
        "ALTER TABLE users DROP COLUMN name, ADD COLUMN {} int NOT NULL;",
        "x".repeat(80)
    );
    let f = pg(&long);
    assert_eq!(
        names(&f),
        vec![
            "missing-lock-timeout",
            "drop-column",
            "adding-not-null-column-without-default"
        ]
    );
    assert_eq!(f[0].statement.chars().count(), 80);
    assert!(f[0].statement.ends_with("..."));
    let again = pg(&long);
    assert_eq!(f, again);
}

#[test]
fn unparseable_statements_are_skipped_and_bad_text_is_an_error() {
    let sql = "CREATE DOMAIN d AS int NOT NULL;\nDO $$ BEGIN DELETE FROM users; END $$;\nCOMMENT ON CONSTRAINT c ON users IS 'x';";
    assert_eq!(names(&pg(sql)), Vec::<&str>::new());
    let schema = Schema::default();
    let err = lint(&LintInput {
        sql: "SELECT 'unterminated",
        origin: "m/up.sql",
        kind: DialectKind::Postgres,
        before: &schema,
        transactional: true,
    })
    .unwrap_err();
    assert_eq!(err.file, "m/up.sql");
}

#[test]
fn the_rule_table_is_complete() {
    let mut seen = BTreeSet::new();
    for r in rules() {
        assert!(seen.insert(r.name), "duplicate {}", r.name);
        assert!(!r.description.is_empty());
        assert_eq!(r.data_loss, r.severity == Severity::Error && r.data_loss);
    }
    let doc = include_str!("../../../docs/lint.md");
    for r in rules() {
        assert!(
            doc.contains(&format!("`{}`", r.name)),
            "docs/lint.md misses {}",
            r.name
        );
    }
}
