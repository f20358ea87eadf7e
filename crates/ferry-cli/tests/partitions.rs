//! PostgreSQL partitioned tables through the binary: push range, list and hash partitioned
//! tables and route rows to their partitions; add a partition and change a bound with the
//! rows kept; pull into an empty database (the two diff empty); generate + migrate.

mod common;

use std::path::Path;

use common::*;

const SCHEMA: &str = r#"
CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE logs (
  id bigint NOT NULL REFERENCES accounts (id),
  created_at timestamp NOT NULL,
  message text DEFAULT 'none',
  CHECK (id > 0),
  UNIQUE (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX logs_id ON logs (id);
COMMENT ON COLUMN logs.message IS 'what happened';
CREATE TABLE logs_2024_01 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE logs_2024_02 PARTITION OF logs (CONSTRAINT message_set CHECK (message <> ''))
  FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE INDEX logs_2024_02_message ON logs_2024_02 (message);
CREATE TABLE logs_default PARTITION OF logs DEFAULT;

CREATE TABLE orders (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE orders_na PARTITION OF orders FOR VALUES IN ('US', 'CA', 'MX') PARTITION BY LIST (id);
CREATE TABLE orders_na_small PARTITION OF orders_na FOR VALUES IN (1, 2, 3);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('FR', 'DE');

CREATE TABLE sessions (id bigint NOT NULL, user_id bigint NOT NULL) PARTITION BY HASH (user_id);
CREATE TABLE sessions_0 PARTITION OF sessions FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE sessions_1 PARTITION OF sessions FOR VALUES WITH (MODULUS 2, REMAINDER 1);

CREATE TABLE measures (sensor text, at date, value numeric(10,2))
  PARTITION BY RANGE (lower(sensor), at);
CREATE TABLE measures_a PARTITION OF measures FOR VALUES FROM ('a', '2024-01-01') TO ('b', '2025-01-01');
"#;

fn rows(db: &PgDb, sql: &str) -> Vec<Vec<Option<String>>> {
    db.query_strings(sql)
}

fn strings(v: &[&str]) -> Vec<Vec<Option<String>>> {
    v.iter().map(|s| vec![Some(s.to_string())]).collect()
}

const LOG_ROWS: &str = "INSERT INTO accounts VALUES (1), (2);
    INSERT INTO logs (id, created_at, message) VALUES
      (1, '2024-01-05', 'jan'), (2, '2024-02-10', 'feb'), (1, '2024-03-15', 'mar');";

#[test]
fn push_route_rows_then_pull_into_an_empty_database() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    // The file and a database the server built from it agree.
    let direct = PgDb::new();
    direct.execute(SCHEMA).unwrap();
    let out = run(&["diff", "--from", &file, "--to", &direct.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &direct.url,
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "pushed vs built by the server:\n{out}");

    db.execute(LOG_ROWS).unwrap();
    db.execute(
        "INSERT INTO orders VALUES (1, 'US'), (2, 'FR');
         INSERT INTO sessions SELECT g, g FROM generate_series(1, 20) g;
         INSERT INTO measures VALUES ('Alpha', '2024-06-01', 1.5);",
    )
    .unwrap();
    assert_eq!(
        rows(
            &db,
            "SELECT tableoid::regclass::text FROM logs ORDER BY created_at"
        ),
        strings(&["logs_2024_01", "logs_2024_02", "logs_default"])
    );
    assert_eq!(
        rows(
            &db,
            "SELECT tableoid::regclass::text FROM orders ORDER BY id"
        ),
        strings(&["orders_na_small", "orders_eu"])
    );
    assert_eq!(
        rows(
            &db,
            "SELECT (SELECT count(*) FROM sessions_0) > 0 AND (SELECT count(*) FROM sessions_1) > 0"
        ),
        strings(&["t"])
    );
    assert_eq!(
        rows(&db, "SELECT tableoid::regclass::text FROM measures"),
        strings(&["measures_a"])
    );
    // Inherited objects stay the parent's: no phantom diff with rows in place either.
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database with rows:\n{out}");

    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let text = std::fs::read_to_string(Path::new(&pulled).join("schema.sql")).unwrap();
    assert!(
        text.contains("PARTITION OF public.logs FOR VALUES FROM ('2024-01-01 00:00:00')"),
        "{text}"
    );
    assert!(!text.contains("logs_2024_01_id_idx"), "{text}");
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");
    let out = ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");
}

#[test]
fn add_a_partition_and_change_a_bound_keeping_rows() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    db.execute(LOG_ROWS).unwrap();

    // February's partition grows to cover March; April gets its own partition. The March
    // row sits in the default partition, so it must move out first for the attach to
    // pass: the server refuses an overlap with rows in the default partition.
    db.execute("DELETE FROM logs WHERE message = 'mar'")
        .unwrap();
    let changed = SCHEMA
        .replace(
            "FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')",
            "FOR VALUES FROM ('2024-02-01') TO ('2024-04-01')",
        )
        .replace(
            "CREATE TABLE logs_default",
            "CREATE TABLE logs_2024_04 PARTITION OF logs FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');\nCREATE TABLE logs_default",
        );
    let file = write_file(dir.path(), "schema.sql", &changed);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout
            .contains("ALTER TABLE public.logs DETACH PARTITION public.logs_2024_02"),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "ALTER TABLE public.logs ATTACH PARTITION public.logs_2024_02 FOR VALUES FROM ('2024-02-01') TO ('2024-04-01')"
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "CREATE TABLE public.logs_2024_04 PARTITION OF public.logs FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains("DROP TABLE"), "{out}");
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database after the change:\n{out}");

    // The rows stayed, and new ones are routed by the new bounds.
    db.execute(
        "INSERT INTO logs (id, created_at, message) VALUES (1, '2024-03-20', 'mar'), (2, '2024-04-02', 'apr')",
    )
    .unwrap();
    assert_eq!(
        rows(
            &db,
            "SELECT tableoid::regclass::text || ':' || message FROM logs ORDER BY created_at"
        ),
        strings(&[
            "logs_2024_01:jan",
            "logs_2024_02:feb",
            "logs_2024_02:mar",
            "logs_2024_04:apr"
        ])
    );

    // A bound the rows do not fit fails and changes nothing.
    let narrowed = changed.replace(
        "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')",
        "FOR VALUES FROM ('2024-01-10') TO ('2024-02-01')",
    );
    let file = write_file(dir.path(), "schema.sql", &narrowed);
    let out = run(&["push", "--url", &db.url, "--schema", &file]);
    assert!(!out.success(), "{out}");
    assert_eq!(
        rows(&db, "SELECT count(*)::text FROM logs_2024_01"),
        strings(&["1"])
    );
    assert_eq!(
        rows(
            &db,
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'logs_2024_01'"
        ),
        strings(&["FOR VALUES FROM ('2024-01-01 00:00:00') TO ('2024-02-01 00:00:00')"])
    );
}

#[test]
fn a_dropped_partition_is_data_loss_and_a_new_key_is_refused() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", SCHEMA);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    db.execute(LOG_ROWS).unwrap();

    let without = SCHEMA.replace(
        "CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('FR', 'DE');",
        "",
    );
    let file = write_file(dir.path(), "schema.sql", &without);
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(out.stdout.contains("DROP TABLE public.orders_eu"), "{out}");
    assert!(out.stderr.contains("data loss"), "{out}");

    let rekeyed = SCHEMA.replace("PARTITION BY HASH (user_id)", "PARTITION BY HASH (id)");
    let file = write_file(dir.path(), "schema.sql", &rekeyed);
    let out = run(&["diff", "--from", &db.url, "--to", &file]);
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr
            .contains("cannot change the partition key of public.sessions from PARTITION BY HASH (user_id) to PARTITION BY HASH (id)"),
        "{out}"
    );
}

#[test]
fn attach_and_detach_in_files_and_migrations() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ferry.toml"),
        format!(
            "dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{}\"\n",
            db.url
        ),
    )
    .unwrap();
    // A table created on its own and attached: the same model as PARTITION OF.
    let attached =
        "CREATE TABLE events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 (id int NOT NULL, at date NOT NULL);
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
";
    let direct = PgDb::new();
    direct
        .execute(
            "CREATE TABLE events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
             CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        )
        .unwrap();
    let schema_file = write_file(dir.path(), "schema/s.sql", attached);
    let out = run(&[
        "diff",
        "--from",
        &schema_file,
        "--to",
        &direct.url,
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "attached vs PARTITION OF:\n{out}");

    ok(run_in(dir.path(), &["generate", "init", "--version", "1"]));
    // Detached: a table of its own again.
    let detached =
        "CREATE TABLE events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 (id int NOT NULL, at date NOT NULL);
";
    write_file(dir.path(), "schema/s.sql", detached);
    ok(run_in(
        dir.path(),
        &["generate", "detach", "--version", "2"],
    ));
    let up = std::fs::read_to_string(dir.path().join("migrations/2_detach/up.sql")).unwrap();
    assert!(
        up.contains("ALTER TABLE public.events DETACH PARTITION public.events_2024"),
        "{up}"
    );
    assert!(!up.contains("DROP"), "{up}");
    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir.path());
    ok(run_in(dir.path(), &["migrate", "--to", "1"]));
    db.execute("INSERT INTO events VALUES (1, '2024-05-05')")
        .unwrap();
    ok(run_in(dir.path(), &["migrate"]));
    assert_eq!(
        rows(&db, "SELECT count(*)::text FROM events_2024"),
        strings(&["1"])
    );
    assert_eq!(
        rows(
            &db,
            "SELECT relispartition::text FROM pg_class WHERE relname = 'events_2024'"
        ),
        strings(&["false"])
    );
    let out = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.path().join("schema").display().to_string(),
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "database vs schema after migrate:\n{out}");
}

#[test]
fn views_over_partitions_survive_a_renamed_parent_and_a_column_type_change() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let before = "CREATE TABLE logs (id bigint NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE logs_1 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE VIEW january AS SELECT * FROM logs_1;
CREATE VIEW everything AS SELECT id, note FROM logs;
";
    let file = write_file(dir.path(), "schema.sql", before);
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "`*` over a partition:\n{out}");
    db.execute("INSERT INTO logs VALUES (1, '2024-01-02', 'kept')")
        .unwrap();

    let after = before
        .replace("CREATE TABLE logs (", "CREATE TABLE events (")
        .replace("PARTITION OF logs", "PARTITION OF events")
        .replace("FROM logs;", "FROM events;")
        .replace("note text", "note varchar(20)");
    let file = write_file(dir.path(), "schema.sql", &after);
    let out = ok(run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &file,
        "--rename",
        "logs=events",
    ]));
    assert!(out.stdout.contains("DROP VIEW public.january"), "{out}");
    assert!(!out.stdout.contains("PARTITION public.logs_1"), "{out}");
    ok(run(&[
        "push",
        "--url",
        &db.url,
        "--schema",
        &file,
        "--rename",
        "logs=events",
        "--force",
    ]));
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database after the change:\n{out}");
    assert_eq!(rows(&db, "SELECT note FROM january"), strings(&["kept"]));
}
