//! Replay (ferry-sql) against the planner, without a database: for pairs of schemas (A, B),
//! replaying A and then the planned migration `plan(A → B).to_sql()` gives exactly the
//! model of B, and the same the other way round. Plus hand-written migrations and errors.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_same, columns_by_name};
use ferry_core::{diff, Dialect, QualifiedName, Renames, Schema};
use ferry_postgres::POSTGRES;
use ferry_sql::{load_str, replay, LoadError};

fn load(sql: &str, origin: &str) -> Schema {
    match load_str(sql, origin, &POSTGRES) {
        Ok(s) => s,
        Err(e) => panic!("load failed: {e}"),
    }
}

fn replayed(scripts: &[(&str, &str)]) -> Result<Schema, LoadError> {
    replay(scripts.iter().copied(), &POSTGRES)
}

/// The migration from A to B as the planner writes it, with renames answered by B's
/// `@renamed` annotations and by `renames`.
fn migration(from: &Schema, to: &Schema, renames: &Renames) -> String {
    let mut renames = renames.clone();
    renames.add_hints(from, to);
    let changes = diff(from, to, &renames);
    match POSTGRES.plan(from, to, &changes) {
        Ok(p) => p.to_sql(),
        Err(e) => panic!("plan failed: {e}"),
    }
}

/// replay(A, plan(A → B)) == load(B). With `any_column_order`, columns are compared by
/// name: a column the plan drops and adds again (or adds back in the reverse direction)
/// goes last, as on the server.
#[track_caller]
fn check_direction(label: &str, a: &str, b: &str, renames: &Renames, any_column_order: bool) {
    let from = load(a, "a.sql");
    let to = load(b, "b.sql");
    assert!(
        from.opaque.is_empty() && to.opaque.is_empty(),
        "{label}: pairs are made of modelled statements only"
    );
    let up = migration(&from, &to, renames);
    let after = match replayed(&[("a.sql", a), ("up.sql", &up)]) {
        Ok(s) => s,
        Err(e) => panic!("{label}: replay failed: {e}\n--- up.sql\n{up}"),
    };
    let context = format!("{label}: replay of\n{up}");
    if any_column_order {
        assert_same(&columns_by_name(&to), &columns_by_name(&after), &context);
    } else {
        assert_same(&to, &after, &context);
    }
}

/// Both directions: A → B (with B's annotations and `renames`), then B → A (with none:
/// renames in that direction are drops and creates, and columns A has in the middle come
/// back last).
#[track_caller]
fn check_pair_with(label: &str, a: &str, b: &str, renames: &Renames) {
    check_direction(&format!("{label} (A→B)"), a, b, renames, false);
    check_direction(&format!("{label} (B→A)"), b, a, &Renames::default(), true);
}

#[track_caller]
fn check_pair(label: &str, a: &str, b: &str) {
    check_pair_with(label, a, b, &Renames::default());
}

/// Like [`check_pair`], for plans that drop and add a column again (a changed generated
/// expression): the column goes last, so columns are compared by name both ways.
#[track_caller]
fn check_pair_any_column_order(label: &str, a: &str, b: &str) {
    check_direction(&format!("{label} (A→B)"), a, b, &Renames::default(), true);
    check_direction(&format!("{label} (B→A)"), b, a, &Renames::default(), true);
}

fn qn(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(schema, name)
}

// ----- pairs reused from the other suites --------------------------------------------------

/// `PG_PAIRS` of ferry-cli's soundness suite.
const SOUNDNESS_PAIRS: &[(&str, &str, &str)] = &[
    (
        "add column with default",
        "CREATE TABLE users (id int PRIMARY KEY, name text);",
        "CREATE TABLE users (id int PRIMARY KEY, name text, age int NOT NULL DEFAULT 0);",
    ),
    (
        "widen types",
        "CREATE TABLE t (id int PRIMARY KEY, code varchar(10), n int, amount numeric(6,2));",
        "CREATE TABLE t (id bigint PRIMARY KEY, code varchar(50), n bigint, amount numeric(12,2));",
    ),
    (
        "text to integer with a cast",
        "CREATE TABLE t (id int PRIMARY KEY, qty text);",
        "CREATE TABLE t (id int PRIMARY KEY, qty integer);",
    ),
    (
        "defaults and nullability",
        "CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 'x', n int NOT NULL, ts timestamptz);",
        "CREATE TABLE t (id int PRIMARY KEY, s text NOT NULL DEFAULT 'y', n int, ts timestamptz DEFAULT now());",
    ),
    (
        "enum value added in the middle",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood DEFAULT 'sad');",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood DEFAULT 'sad');",
    ),
    (
        "enum value removed",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', ms mood[]);",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE p (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'sad', ms mood[]);",
    ),
    (
        "foreign keys, indexes and checks",
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int, v int);",
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a ON DELETE CASCADE, v int CHECK (v > 0)); CREATE INDEX b_a_idx ON b (a_id) WHERE v > 10;",
    ),
    (
        "rename column by annotation",
        "CREATE TABLE users (id int PRIMARY KEY, username text UNIQUE);",
        "CREATE TABLE users (id int PRIMARY KEY,\n user_name text UNIQUE -- @renamed from=username\n);",
    ),
    (
        "rename table by annotation",
        "CREATE TABLE accounts (id int PRIMARY KEY, n text); CREATE TABLE logs (id int, account_id int REFERENCES accounts);",
        "CREATE TABLE users ( -- @renamed from=accounts\n id int PRIMARY KEY, n text); CREATE TABLE logs (id int, account_id int REFERENCES users);",
    ),
    (
        "primary key change referenced by a foreign key",
        "CREATE TABLE a (id int PRIMARY KEY, code text NOT NULL); CREATE TABLE b (a_id int REFERENCES a (id));",
        "CREATE TABLE a (id int NOT NULL, code text PRIMARY KEY); CREATE TABLE b (a_id int);",
    ),
    (
        "tables referencing each other",
        "",
        "CREATE TABLE x (id int PRIMARY KEY, y_id int); CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x); ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y;",
    ),
    (
        "schemas, sequences, identity and comments",
        "CREATE TABLE t (id int PRIMARY KEY, n int);",
        "CREATE SCHEMA app; CREATE SEQUENCE app.s START 10; CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n int DEFAULT nextval('app.s')); COMMENT ON TABLE t IS 'tee'; COMMENT ON COLUMN t.n IS 'en';",
    ),
    (
        "unique constraint and partial index changes",
        "CREATE TABLE t (id int PRIMARY KEY, a text, b text, UNIQUE (a)); CREATE INDEX t_b ON t (b);",
        "CREATE TABLE t (id int PRIMARY KEY, a text, b text, UNIQUE (a, b)); CREATE INDEX t_b ON t (b) WHERE b IS NOT NULL;",
    ),
];

#[test]
fn soundness_pairs_replay_to_their_target() {
    for (label, a, b) in SOUNDNESS_PAIRS {
        check_pair(label, a, b);
    }
}

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-cli/tests/corpus/postgres");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect(),
        Err(e) => panic!("corpus {}: {e}", dir.display()),
    };
    files.sort();
    assert!(!files.is_empty(), "empty corpus in {}", dir.display());
    files
        .into_iter()
        .map(|f| {
            let name = f.file_name().map(|n| n.to_string_lossy().to_string());
            let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{e}"));
            (name.unwrap_or_default(), text)
        })
        .collect()
}

#[test]
fn corpus_schemas_replay_from_and_to_nothing() {
    let files = corpus();
    for (name, sql) in &files {
        // A file replays to what it loads to, then plans to nothing and back.
        let direct = match replayed(&[(name.as_str(), sql.as_str())]) {
            Ok(s) => s,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_same(
            &load(sql, name),
            &direct,
            &format!("{name} replayed directly"),
        );
        check_pair(name, "", sql);
    }
    let all: String = files
        .iter()
        .map(|(_, s)| s.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    check_pair("whole corpus", "", &all);
}

#[test]
fn corpus_schemas_replay_into_each_other() {
    let files = corpus();
    for (a_name, a) in &files {
        for (b_name, b) in &files {
            if a_name < b_name {
                check_pair(&format!("{a_name} ↔ {b_name}"), a, b);
            }
        }
    }
}

/// The pairs of `plan_apply.rs`, which apply the same plans to a real server.
const PLAN_APPLY_PAIRS: &[(&str, &str, &str)] = &[
    (
        "create everything from empty",
        "",
        r#"
        CREATE SCHEMA app;
        CREATE TYPE app.mood AS ENUM ('a', 'b');
        CREATE TABLE app.users (id bigserial PRIMARY KEY, m app.mood DEFAULT 'a', email text UNIQUE);
        CREATE TABLE app.orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          user_id bigint REFERENCES app.users ON DELETE CASCADE, total numeric(10,2) CHECK (total > 0));
        CREATE INDEX ON app.orders (user_id);
        COMMENT ON TABLE app.orders IS 'orders';
        "#,
    ),
    (
        "columns are added, altered and dropped",
        r#"
        CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b integer, c text DEFAULT 'x',
          d text NOT NULL, e text, gone int, num numeric(10,2), n2 text);
        "#,
        r#"
        CREATE TABLE t (id int PRIMARY KEY, a varchar(20), b bigint, c text, d text,
          e text NOT NULL DEFAULT 'e', num numeric(12,2), n2 integer DEFAULT 0,
          added timestamptz DEFAULT now() NOT NULL,
          added_id bigint GENERATED BY DEFAULT AS IDENTITY,
          g int GENERATED ALWAYS AS (id * 2) STORED);
        COMMENT ON COLUMN t.a IS 'now longer';
        "#,
    ),
    (
        "serial columns are added and removed",
        "CREATE TABLE t (x int); CREATE TABLE old (id serial PRIMARY KEY);",
        "CREATE TABLE t (x int, id bigserial);",
    ),
    (
        "constraints change",
        r#"
        CREATE TABLE users (id int CONSTRAINT users_pkey PRIMARY KEY, email text, age int CHECK (age > 0));
        CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id), a int, b int);
        "#,
        r#"
        CREATE TABLE users (id int CONSTRAINT users_id_pk PRIMARY KEY, email text UNIQUE NULLS NOT DISTINCT, age int CHECK (age >= 0));
        CREATE TABLE orders (id int PRIMARY KEY,
          user_id int REFERENCES users (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
          a int, b int, CONSTRAINT orders_ab UNIQUE (a, b), CHECK (a < b));
        "#,
    ),
    (
        "replacing a referenced key rebuilds referencing foreign keys",
        r#"
        CREATE TABLE users (id int PRIMARY KEY, email text);
        CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));
        "#,
        r#"
        CREATE TABLE users (id int NOT NULL UNIQUE, email text PRIMARY KEY);
        CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));
        "#,
    ),
    (
        "a renamed primary key keeps its foreign keys",
        "CREATE TABLE users (id int PRIMARY KEY); CREATE TABLE orders (user_id int REFERENCES users);",
        "CREATE TABLE users (id int CONSTRAINT users_pk PRIMARY KEY); CREATE TABLE orders (user_id int REFERENCES users);",
    ),
    (
        "indexes change",
        r#"
        CREATE TABLE t (a int, b text, c jsonb);
        CREATE INDEX t_a ON t (a);
        CREATE INDEX t_b ON t (b) WHERE a > 0;
        CREATE INDEX t_gone ON t (a, b);
        "#,
        r#"
        CREATE TABLE t (a int, b text, c jsonb);
        CREATE INDEX t_a ON t (a DESC NULLS LAST);
        CREATE INDEX t_b ON t (b) WHERE a > 1;
        CREATE UNIQUE INDEX t_new ON t (lower(b)) INCLUDE (a);
        CREATE INDEX t_gin ON t USING gin (c);
        "#,
    ),
    (
        "enum values are added",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE t (m mood);",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic'); CREATE TABLE t (m mood);",
    ),
    (
        "enum values are removed with dependent checks and indexes",
        r#"
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE TABLE t (m mood DEFAULT 'ok' CHECK (m <> 'sad'), ms mood[], gone mood);
        CREATE INDEX t_m_partial ON t (m) WHERE m <> 'ok';
        CREATE TABLE dropped (m mood);
        "#,
        r#"
        CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad2');
        CREATE TABLE t (m mood DEFAULT 'ok' CHECK (m <> 'sad2'), ms mood[]);
        CREATE INDEX t_m_partial ON t (m) WHERE m <> 'ok';
        "#,
    ),
    (
        "sequences change",
        r#"
        CREATE SEQUENCE a;
        CREATE SEQUENCE b INCREMENT BY 5;
        CREATE SEQUENCE gone;
        CREATE TABLE t (id int, other int);
        CREATE SEQUENCE owned OWNED BY t.id;
        "#,
        r#"
        CREATE SEQUENCE a AS integer START WITH 10 MAXVALUE 1000 CYCLE;
        CREATE SEQUENCE b;
        CREATE SEQUENCE fresh INCREMENT BY -1;
        CREATE TABLE t (id int, other int DEFAULT nextval('fresh'));
        CREATE SEQUENCE owned;
        ALTER SEQUENCE owned OWNED BY t.other;
        "#,
    ),
    (
        "sequence type changes keep their bounds",
        r#"
        CREATE SEQUENCE a AS smallint MINVALUE -32768;
        CREATE SEQUENCE b AS smallint INCREMENT BY -1 MAXVALUE 32767;
        CREATE SEQUENCE c;
        CREATE SEQUENCE d AS integer INCREMENT BY -1;
        "#,
        r#"
        CREATE SEQUENCE a AS integer MINVALUE -32768;
        CREATE SEQUENCE b AS integer INCREMENT BY -1 MAXVALUE 32767;
        CREATE SEQUENCE c AS integer;
        CREATE SEQUENCE d INCREMENT BY -1;
        "#,
    ),
    (
        "sequences keep a current value in their new range",
        r#"
        CREATE SEQUENCE flipped;
        CREATE SEQUENCE retyped AS smallint INCREMENT BY -1;
        CREATE SEQUENCE apart MAXVALUE 100;
        CREATE SEQUENCE fresh;
        CREATE SEQUENCE used;
        CREATE SEQUENCE down INCREMENT BY -1 MINVALUE -100;
        CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY, n int);
        "#,
        r#"
        CREATE SEQUENCE flipped INCREMENT BY -1;
        CREATE SEQUENCE retyped AS integer MAXVALUE 1000;
        CREATE SEQUENCE apart MINVALUE 200 MAXVALUE 300;
        CREATE SEQUENCE fresh MINVALUE 5 MAXVALUE 500 START 7;
        CREATE SEQUENCE used MINVALUE 5 MAXVALUE 500 START 7;
        CREATE SEQUENCE down INCREMENT BY -1 MINVALUE -100 MAXVALUE -50;
        CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY -1), n int);
        "#,
    ),
    (
        "a sequence survives when its owner column is dropped",
        "CREATE TABLE t (id int, x int); CREATE SEQUENCE s OWNED BY t.x;",
        "CREATE TABLE t (id int); CREATE SEQUENCE s;",
    ),
    (
        "tables with cycles are created and dropped",
        "CREATE TABLE keep (x int);",
        r#"
        CREATE TABLE keep (x int);
        CREATE TABLE a (id int PRIMARY KEY, b_id int);
        CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
        ALTER TABLE a ADD CONSTRAINT a_b_id_fkey FOREIGN KEY (b_id) REFERENCES b (id);
        CREATE TABLE c (id int PRIMARY KEY, b_id int REFERENCES b);
        "#,
    ),
    (
        "a new table references a key added in the same plan",
        "CREATE TABLE users (id int, email text);",
        r#"
        CREATE TABLE users (id int, email text UNIQUE);
        CREATE TABLE invites (email text REFERENCES users (email));
        "#,
    ),
    (
        "schemas and comments change",
        r#"
        CREATE SCHEMA old;
        CREATE TABLE old.t (x int);
        CREATE TABLE c (x int);
        COMMENT ON TABLE c IS 'before';
        COMMENT ON COLUMN c.x IS 'x before';
        "#,
        r#"
        CREATE SCHEMA "New";
        CREATE TABLE "New".t (x int);
        CREATE TABLE c (x int);
        COMMENT ON TABLE c IS 'after';
        "#,
    ),
    (
        "collations change",
        "CREATE TABLE t (a text, b text COLLATE \"C\");",
        "CREATE TABLE t (a text COLLATE \"POSIX\", b text);",
    ),
    (
        "type changes keep the collation",
        "CREATE TABLE t (c varchar(10) COLLATE \"C\", d text COLLATE \"POSIX\", e varchar(5));",
        "CREATE TABLE t (c varchar(20) COLLATE \"C\", d varchar(30) COLLATE \"C\", e text);",
    ),
    (
        "new enum values are used in the same plan",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE t (m mood DEFAULT 'sad');",
        r#"
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE TABLE t (m mood DEFAULT 'ok' CHECK (m <> 'happy'));
        CREATE TABLE u (m mood DEFAULT 'ok');
        "#,
    ),
    (
        "serial and identity columns convert into each other",
        "CREATE TABLE a (id serial PRIMARY KEY); CREATE TABLE b (id int GENERATED ALWAYS AS IDENTITY);",
        "CREATE TABLE a (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY); CREATE TABLE b (id serial);",
    ),
    (
        "dropping a referenced column and its referencing table",
        r#"
        CREATE TABLE a (id int PRIMARY KEY, x int UNIQUE);
        CREATE TABLE b (x int REFERENCES a (x));
        "#,
        "CREATE TABLE a (id int PRIMARY KEY);",
    ),
    (
        "new tables take the key and index names of dropped tables",
        r#"
        CREATE TABLE users (id int CONSTRAINT accounts_pkey PRIMARY KEY, full_name text, age bigint);
        CREATE INDEX accounts_name ON users (full_name);
        CREATE TABLE logins (user_id int REFERENCES users);
        CREATE TABLE unrelated (x int);
        "#,
        r#"
        CREATE TABLE accounts (id int PRIMARY KEY, name text, age int);
        CREATE INDEX accounts_name ON accounts (name);
        "#,
    ),
    (
        "a renamed table keeps its serial counter",
        r#"
        CREATE TABLE accounts (id serial PRIMARY KEY, email text UNIQUE);
        CREATE TABLE logins (account_id int REFERENCES accounts);
        "#,
        r#"
        CREATE TABLE users ( -- @renamed from=accounts
          id serial PRIMARY KEY, email text UNIQUE);
        CREATE TABLE logins (account_id int REFERENCES users);
        "#,
    ),
];

#[test]
fn plan_apply_pairs_replay_to_their_target() {
    for (label, a, b) in PLAN_APPLY_PAIRS {
        check_pair(label, a, b);
    }
}

/// `plan_apply.rs`'s rename pair. B → A has no annotations: users is dropped and accounts
/// created with the name of users' key.
const RENAMES_BY_ANNOTATION: (&str, &str) = (
    r#"
    CREATE TABLE accounts (id int PRIMARY KEY, name text, age int);
    CREATE INDEX accounts_name ON accounts (name);
    "#,
    r#"
    CREATE TABLE users ( -- @renamed from=accounts
      id int CONSTRAINT accounts_pkey PRIMARY KEY,
      full_name text, -- @renamed from=name
      age bigint
    );
    CREATE INDEX users_name -- @renamed from=accounts_name
      ON users (full_name);
    "#,
);

#[test]
fn renames_follow_annotations() {
    let (a, b) = RENAMES_BY_ANNOTATION;
    check_pair("renames follow annotations", a, b);
}

#[test]
fn a_rebuilt_generated_column_moves_last() {
    check_pair_any_column_order(
        "identity and generated columns change",
        r#"
        CREATE TABLE t (
          id int NOT NULL,
          ident int GENERATED ALWAYS AS IDENTITY,
          opts bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 5),
          g int GENERATED ALWAYS AS (id + 1) STORED,
          plain int GENERATED ALWAYS AS (id * 3) STORED
        );
        CREATE INDEX t_g_idx ON t (g);
        "#,
        r#"
        CREATE TABLE t (
          id int GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY 10),
          ident int NOT NULL,
          opts bigint GENERATED ALWAYS AS IDENTITY (START WITH 5 INCREMENT BY 2 CACHE 5),
          g int GENERATED ALWAYS AS (id + 2) STORED,
          plain int
        );
        CREATE INDEX t_g_idx ON t (g);
        "#,
    );
}

#[test]
fn a_table_moves_to_another_schema() {
    let mut renames = Renames::default();
    renames
        .tables
        .insert(qn("app", "users"), qn("public", "accounts"));
    check_pair_with(
        "table moves to another schema",
        "CREATE TABLE accounts (id serial CONSTRAINT accounts_pkey PRIMARY KEY, n text); \
         CREATE INDEX accounts_n ON accounts (n); \
         CREATE TABLE logs (account_id int REFERENCES accounts);",
        "CREATE SCHEMA app; \
         CREATE TABLE app.users (id int NOT NULL DEFAULT nextval('app.accounts_id_seq'::regclass) \
           CONSTRAINT accounts_pkey PRIMARY KEY, n text); \
         CREATE SEQUENCE app.accounts_id_seq AS integer OWNED BY app.users.id; \
         CREATE INDEX accounts_n ON app.users (n); \
         CREATE TABLE logs (account_id int REFERENCES app.users);",
        &renames,
    );
}

/// The cases of the planner's unit tests (`src/plan/tests.rs`), written as SQL.
const PLANNER_CASES: &[(&str, &str, &str)] = &[
    (
        "referenced tables first, inline foreign keys",
        "",
        "CREATE TABLE users (id integer PRIMARY KEY, email text); \
         CREATE TABLE a_orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));",
    ),
    (
        "serial columns",
        "",
        "CREATE TABLE users (id serial PRIMARY KEY);",
    ),
    (
        "a sequence that is not serial's",
        "",
        "CREATE TABLE users (id integer NOT NULL DEFAULT nextval('users_id_seq'::regclass) PRIMARY KEY); \
         CREATE SEQUENCE users_id_seq AS integer INCREMENT BY 10; \
         ALTER SEQUENCE users_id_seq OWNED BY users.id;",
    ),
    (
        "phases are ordered",
        "CREATE SCHEMA old; \
         CREATE TABLE users (id integer PRIMARY KEY, email text); \
         CREATE TABLE a_orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));",
        "CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('a'); \
         CREATE TABLE app.things (m app.mood); \
         CREATE TABLE users (id integer PRIMARY KEY); \
         CREATE INDEX users_id_idx ON users (id); \
         CREATE TABLE a_orders (id integer PRIMARY KEY, user_id integer);",
    ),
    (
        "type changes",
        "CREATE TABLE t (a varchar(10), b varchar(10), c numeric(10,2), d int, e bigint, f varchar(20), g text);",
        "CREATE TABLE t (a varchar(20), b text, c numeric(12,2), d bigint, e int, f varchar(10), g integer);",
    ),
    (
        "defaults survive type changes",
        "CREATE TABLE t (c text DEFAULT '1'::text);",
        "CREATE TABLE t (c integer DEFAULT 1);",
    ),
    (
        "not null, default and identity changes",
        "CREATE TABLE t (a int, b int, c int GENERATED ALWAYS AS IDENTITY (START WITH 10), \
           d int GENERATED ALWAYS AS IDENTITY, e int GENERATED ALWAYS AS (1 + 1) STORED);",
        "CREATE TABLE t (a int NOT NULL, b int GENERATED ALWAYS AS IDENTITY (START WITH 10), \
           c int GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY 5), d int NOT NULL, e int);",
    ),
    (
        "collation changes keep the type",
        "CREATE TABLE t (c text);",
        "CREATE TABLE t (c text COLLATE \"C\");",
    ),
    (
        "enum values are added in place",
        "CREATE TYPE mood AS ENUM ('a', 'c'); CREATE TABLE t (m mood DEFAULT 'a'::mood);",
        "CREATE TYPE mood AS ENUM ('z', 'a', 'b', 'c', 'd'); CREATE TABLE t (m mood DEFAULT 'a'::mood);",
    ),
    (
        "enum value removal rebuilds the type",
        "CREATE TYPE mood AS ENUM ('a', 'b', 'c'); CREATE TABLE t (m mood DEFAULT 'a'::mood);",
        "CREATE TYPE mood AS ENUM ('a', 'c'); CREATE TABLE t (m mood DEFAULT 'a'::mood);",
    ),
    (
        "enum values used in the plan are added first",
        "CREATE TYPE mood AS ENUM ('a'); CREATE TABLE t (m mood DEFAULT 'a'::mood);",
        "CREATE TYPE mood AS ENUM ('a', 'x', 'b'); CREATE TABLE t (m mood DEFAULT 'b'::mood);",
    ),
    (
        "dropping a referenced key rebuilds its foreign keys",
        "CREATE TABLE users (id integer PRIMARY KEY, email text); \
         CREATE TABLE a_orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));",
        "CREATE TABLE users (id integer NOT NULL UNIQUE, email text); \
         CREATE TABLE a_orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));",
    ),
    (
        "a renamed key is renamed in place",
        "CREATE TABLE users (id integer PRIMARY KEY, email text);",
        "CREATE TABLE users (id integer CONSTRAINT users_new_pkey PRIMARY KEY, email text);",
    ),
    (
        "identifiers are quoted only when needed",
        "",
        "CREATE SCHEMA \"My Schema\"; CREATE TYPE \"Mood\" AS ENUM ('x'); \
         CREATE TABLE \"My Schema\".\"order\" (\"select\" text, \"Name\" public.\"Mood\", plain text); \
         COMMENT ON TABLE \"My Schema\".\"order\" IS 'it''s';",
    ),
    (
        "indexes with every option",
        "CREATE TABLE t (a text, b int, c int, data jsonb);",
        "CREATE TABLE t (a text, b int, c int, data jsonb); \
         CREATE UNIQUE INDEX t_idx ON t ((lower(a)) COLLATE \"C\" text_pattern_ops DESC NULLS LAST, b) \
           INCLUDE (c) NULLS NOT DISTINCT WHERE b > 0; \
         CREATE INDEX t_gin ON t USING gin (data);",
    ),
    (
        "sequences are created, altered and dropped in their phases",
        "CREATE TABLE t (c bigint); CREATE SEQUENCE s;",
        "CREATE TABLE t (c bigint); CREATE SEQUENCE s INCREMENT BY -1 OWNED BY t.c;",
    ),
];

#[test]
fn planner_cases_replay_to_their_target() {
    for (label, a, b) in PLANNER_CASES {
        check_pair(label, a, b);
    }
}

#[test]
fn renames_answered_explicitly() {
    // Table and column renamed, another column's type changed.
    let mut renames = Renames::default();
    renames
        .tables
        .insert(qn("public", "users"), qn("public", "accounts"));
    renames
        .columns
        .insert((qn("public", "users"), "full_name".into()), "name".into());
    check_pair_with(
        "renames use old names before and new names after",
        "CREATE TABLE accounts (name text, age integer);",
        "CREATE TABLE users (full_name text, age bigint); COMMENT ON TABLE users IS 'renamed';",
        &renames,
    );

    // Two columns swap names: through temporary names.
    let mut renames = Renames::default();
    renames
        .columns
        .insert((qn("public", "t"), "b".into()), "a".into());
    renames
        .columns
        .insert((qn("public", "t"), "a".into()), "b".into());
    check_pair_with(
        "swapped column names",
        "CREATE TABLE t (a text, b integer CHECK (b > 0)); CREATE INDEX t_a ON t (lower(a));",
        "CREATE TABLE t (b text, a integer CHECK (a > 0)); CREATE INDEX t_a ON t (lower(b));",
        &renames,
    );

    // Implicit names (key, check, index, serial sequence) follow the table's new name.
    let mut renames = Renames::default();
    renames
        .tables
        .insert(qn("public", "users"), qn("public", "accounts"));
    check_pair_with(
        "implicit names follow a table rename",
        "CREATE TABLE accounts (id serial PRIMARY KEY, n text CHECK (n <> '')); \
         CREATE INDEX ON accounts (n);",
        "CREATE TABLE users (id serial PRIMARY KEY, n text CHECK (n <> '')); \
         CREATE INDEX ON users (n);",
        &renames,
    );
}

/// Pairs aimed at one statement form each (named in the label) that the planner writes.
const STATEMENT_PAIRS: &[(&str, &str, &str)] = &[
    (
        "DROP TABLE of tables in a foreign key cycle",
        "CREATE TABLE a (id int PRIMARY KEY, b_id int); \
         CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); \
         ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b; \
         CREATE TABLE keep (a_id int);",
        "CREATE TABLE keep (a_id int);",
    ),
    (
        "DROP TABLE takes its serial sequence and indexes",
        "CREATE TABLE t (id serial PRIMARY KEY, n text UNIQUE); CREATE INDEX t_n ON t (lower(n)); \
         CREATE TABLE u (id int);",
        "CREATE TABLE u (id int);",
    ),
    (
        "DROP SEQUENCE and CREATE SEQUENCE with options",
        "CREATE SEQUENCE s1; CREATE SEQUENCE s2 AS smallint CACHE 20;",
        "CREATE SEQUENCE s2 AS integer MINVALUE 5 MAXVALUE 500 START 7 CYCLE; CREATE SEQUENCE s3 INCREMENT 3;",
    ),
    (
        "ALTER SEQUENCE AS, bounds, cache, cycle and direction",
        "CREATE SEQUENCE a AS smallint; CREATE SEQUENCE b INCREMENT BY -2 MINVALUE -100; \
         CREATE SEQUENCE c START 5 CACHE 10 CYCLE; CREATE SEQUENCE d AS integer MAXVALUE 1000;",
        "CREATE SEQUENCE a AS bigint START 3; CREATE SEQUENCE b INCREMENT BY 4; \
         CREATE SEQUENCE c; CREATE SEQUENCE d AS smallint MAXVALUE 1000;",
    ),
    (
        "ALTER SEQUENCE AS with NO MINVALUE on an ascending sequence",
        "CREATE SEQUENCE d AS smallint INCREMENT BY -1;",
        "CREATE SEQUENCE d AS integer MAXVALUE 1000;",
    ),
    (
        "ALTER SEQUENCE OWNED BY and OWNED BY NONE",
        "CREATE TABLE t (a int, b int); CREATE SEQUENCE s OWNED BY t.a; CREATE SEQUENCE r;",
        "CREATE TABLE t (a int, b int); CREATE SEQUENCE s; CREATE SEQUENCE r OWNED BY t.b;",
    ),
    (
        "DROP TYPE and CREATE TYPE",
        "CREATE TYPE gone AS ENUM ('x'); CREATE TYPE kept AS ENUM ('a');",
        "CREATE TYPE kept AS ENUM ('a'); CREATE TYPE fresh AS ENUM ('y', 'z');",
    ),
    (
        "DROP SCHEMA after its objects",
        "CREATE SCHEMA s; CREATE TYPE s.e AS ENUM ('a'); CREATE SEQUENCE s.q; \
         CREATE TABLE s.t (id serial PRIMARY KEY, e s.e); CREATE TABLE r (t_id int REFERENCES s.t);",
        "CREATE TABLE r (t_id int);",
    ),
    (
        "ALTER TABLE SET SCHEMA and RENAME TO together",
        "CREATE SCHEMA a; CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE c (t_id int REFERENCES t);",
        "CREATE SCHEMA a; CREATE TABLE a.u ( -- @renamed from=t\n id int CONSTRAINT t_pkey PRIMARY KEY); \
         CREATE TABLE c (t_id int REFERENCES a.u);",
    ),
    (
        "RENAME COLUMN used by keys, indexes, checks, foreign keys and generated columns",
        "CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE, n int CHECK (n > 0), \
           g int GENERATED ALWAYS AS (n * 2) STORED); \
         CREATE INDEX p_lower ON p (lower(code)) INCLUDE (n) WHERE n > 1; \
         CREATE TABLE c (code text REFERENCES p (code));",
        "CREATE TABLE p (id int PRIMARY KEY, \
           label text CONSTRAINT p_code_key UNIQUE, -- @renamed from=code\n \
           amount int CONSTRAINT p_n_check CHECK (amount > 0), -- @renamed from=n\n \
           g int GENERATED ALWAYS AS (amount * 2) STORED); \
         CREATE INDEX p_lower ON p (lower(label)) INCLUDE (amount) WHERE amount > 1; \
         CREATE TABLE c (code text CONSTRAINT c_code_fkey REFERENCES p (label));",
    ),
    (
        "ALTER INDEX RENAME by annotation",
        "CREATE TABLE t (a int); CREATE INDEX t_a_old ON t (a);",
        "CREATE TABLE t (a int); CREATE INDEX t_a_new -- @renamed from=t_a_old\n ON t (a);",
    ),
    (
        "RENAME CONSTRAINT of every kind",
        "CREATE TABLE p (id int PRIMARY KEY); \
         CREATE TABLE t (a int CONSTRAINT t_a_u UNIQUE, b int CONSTRAINT t_b_c CHECK (b > 0), \
           c int CONSTRAINT t_c_f REFERENCES p);",
        "CREATE TABLE p (id int CONSTRAINT p_key PRIMARY KEY); \
         CREATE TABLE t (a int CONSTRAINT t_a_unique UNIQUE, b int CONSTRAINT t_b_positive CHECK (b > 0), \
           c int CONSTRAINT t_c_p REFERENCES p);",
    ),
    (
        "DROP COLUMN with its constraints and indexes",
        "CREATE TABLE p (id int PRIMARY KEY, a int, b int, c int, \
           UNIQUE (a, b), CHECK (a < b), FOREIGN KEY (c) REFERENCES p (id)); \
         CREATE INDEX p_ab ON p (b) WHERE a > 0; CREATE INDEX p_expr ON p ((a + c));",
        "CREATE TABLE p (id int PRIMARY KEY, b int);",
    ),
    (
        "DROP COLUMN of a referenced key",
        "CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE); \
         CREATE TABLE c (p_code text REFERENCES p (code), p_id int REFERENCES p);",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p_code text, p_id int REFERENCES p);",
    ),
    (
        "DROP CONSTRAINT and ADD CONSTRAINT",
        "CREATE TABLE t (id int, a int, CONSTRAINT t_pk PRIMARY KEY (id), CONSTRAINT a_pos CHECK (a > 0));",
        "CREATE TABLE t (id int, a int, CONSTRAINT t_pk PRIMARY KEY (id, a), CONSTRAINT a_pos CHECK (a >= 0), \
           CONSTRAINT t_a_key UNIQUE (a) DEFERRABLE INITIALLY DEFERRED);",
    ),
    (
        "foreign key actions, match and deferrable change",
        "CREATE TABLE p (a int, b int, PRIMARY KEY (a, b)); \
         CREATE TABLE c (a int, b int, FOREIGN KEY (a, b) REFERENCES p);",
        "CREATE TABLE p (a int, b int, PRIMARY KEY (a, b)); \
         CREATE TABLE c (a int, b int, FOREIGN KEY (a, b) REFERENCES p MATCH FULL \
           ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE);",
    ),
    (
        "ALTER COLUMN TYPE of an identity column",
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, n smallint GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 100));",
        "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY, n integer GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 100));",
    ),
    (
        "ALTER COLUMN TYPE with enum and array columns",
        "CREATE TYPE e AS ENUM ('a', 'b'); CREATE TABLE t (x text, y e, z text[]);",
        "CREATE TYPE e AS ENUM ('a', 'b'); CREATE TABLE t (x e, y text, z varchar(5)[]);",
    ),
    (
        "ADD COLUMN serial and identity into a table with rows",
        "CREATE TABLE t (a int);",
        "CREATE TABLE t (a int, s serial, b bigserial UNIQUE, i int GENERATED ALWAYS AS IDENTITY (CACHE 3), \
           g text GENERATED ALWAYS AS (a::text) STORED, d timestamptz NOT NULL DEFAULT now());",
    ),
    (
        "DROP EXPRESSION",
        "CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 2) STORED);",
        "CREATE TABLE t (a int, g int);",
    ),
    (
        "enum rebuild with a column in another schema and an array",
        "CREATE SCHEMA s; CREATE TYPE mood AS ENUM ('a', 'b', 'c'); \
         CREATE TABLE s.t (m mood NOT NULL DEFAULT 'b', ms mood[] DEFAULT '{a}', CHECK (m <> 'c')); \
         CREATE INDEX t_m ON s.t (m) WHERE m <> 'a';",
        "CREATE SCHEMA s; CREATE TYPE mood AS ENUM ('c', 'b', 'a'); \
         CREATE TABLE s.t (m mood NOT NULL DEFAULT 'b', ms mood[] DEFAULT '{a}', CHECK (m <> 'c')); \
         CREATE INDEX t_m ON s.t (m) WHERE m <> 'a';",
    ),
    (
        "comments on every modelled object",
        "CREATE TYPE e AS ENUM ('a'); CREATE SEQUENCE s; CREATE TABLE t (c int); \
         COMMENT ON TYPE e IS 'old'; COMMENT ON SEQUENCE s IS 'old'; COMMENT ON COLUMN t.c IS 'old';",
        "CREATE TYPE e AS ENUM ('a'); CREATE SEQUENCE s; CREATE TABLE t (c int); \
         COMMENT ON TABLE t IS 'new'; COMMENT ON SEQUENCE s IS 'new';",
    ),
    (
        "implicit names are chosen against the replayed relations",
        "CREATE TABLE t (a int UNIQUE, b int); CREATE INDEX ON t (b);",
        "CREATE TABLE t (a int, b int UNIQUE); CREATE INDEX ON t (a); CREATE INDEX ON t (b);",
    ),
];

#[test]
fn statement_pairs_replay_to_their_target() {
    for (label, a, b) in STATEMENT_PAIRS {
        check_pair(label, a, b);
    }
}

// ----- hand-written migrations --------------------------------------------------------------

/// A project's migrations as people write them: transactions, data changes, a plpgsql
/// function, a DO block, IF [NOT] EXISTS, temporary tables.
const PROJECT_MIGRATIONS: &[(&str, &str)] = &[
    (
        "migrations/001_init/up.sql",
        r#"BEGIN;
CREATE SCHEMA IF NOT EXISTS app;
CREATE TYPE app.status AS ENUM ('new', 'active');
CREATE TABLE app.users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  status app.status NOT NULL DEFAULT 'new',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_idx ON app.users (lower(email));
INSERT INTO app.users (email) VALUES ('a@example.com'), ('b@example.com');
COMMIT;
"#,
    ),
    (
        "migrations/002_orders/up.sql",
        r#"CREATE TABLE IF NOT EXISTS app.orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app.users ON DELETE CASCADE,
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  note text
);
CREATE INDEX orders_user_id_idx ON app.orders (user_id);
CREATE TABLE IF NOT EXISTS app.orders (id int);

CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- a statement separator inside the body: ;
  NEW.note := coalesce(NEW.note, '');
  RETURN NEW;
END;
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') THEN
    RAISE NOTICE 'no reporting role; skipping grants';
  END IF;
END
$$;
"#,
    ),
    (
        "migrations/003_refactor/up.sql",
        r#"ALTER TABLE app.users ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE app.users ADD COLUMN IF NOT EXISTS name text;
UPDATE app.users SET name = split_part(email, '@', 1) WHERE name IS NULL;
ALTER TABLE app.users ALTER COLUMN name SET NOT NULL;
ALTER TABLE app.users RENAME COLUMN email TO email_address;
ALTER TYPE app.status ADD VALUE IF NOT EXISTS 'banned' AFTER 'active';
ALTER TYPE app.status RENAME VALUE 'new' TO 'pending';
ALTER TABLE app.users ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE app.orders
  ALTER COLUMN amount_cents SET DATA TYPE bigint,
  ALTER COLUMN note TYPE varchar(200) USING left(note, 200);
CREATE TEMP TABLE tmp_totals AS
  SELECT user_id, sum(amount_cents) AS total FROM app.orders GROUP BY user_id;
CREATE INDEX ON tmp_totals (user_id);
DELETE FROM app.orders WHERE user_id NOT IN (SELECT user_id FROM tmp_totals);
DROP TABLE tmp_totals;
ALTER TABLE app.orders RENAME TO purchases;
ALTER INDEX app.orders_user_id_idx RENAME TO purchases_user_id_idx;
ALTER TABLE app.purchases RENAME CONSTRAINT orders_amount_cents_check TO purchases_amount_check;
DROP INDEX IF EXISTS app.nonexistent_idx;
DROP TABLE IF EXISTS app.legacy CASCADE;
SELECT setval('app.users_id_seq', (SELECT max(id) FROM app.users));
TRUNCATE app.purchases;
WITH gone AS (DELETE FROM app.users WHERE created_at < now() - interval '10 years' RETURNING id) SELECT count(*) FROM gone;
SET statement_timeout = '5s';
RESET statement_timeout;
ANALYZE app.users;
"#,
    ),
];

/// What the migrations above leave, written as a schema.
const PROJECT_SCHEMA: &str = r#"
CREATE SCHEMA app;
CREATE TYPE app.status AS ENUM ('pending', 'active', 'banned');
CREATE TABLE app.users (
  id bigserial PRIMARY KEY,
  email_address text NOT NULL,
  status app.status NOT NULL DEFAULT 'pending',
  created_at timestamptz NOT NULL DEFAULT now(),
  name text NOT NULL
);
CREATE UNIQUE INDEX users_email_idx ON app.users (lower(email_address));
CREATE TABLE app.purchases (
  id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT orders_pkey PRIMARY KEY,
  user_id bigint NOT NULL CONSTRAINT orders_user_id_fkey REFERENCES app.users ON DELETE CASCADE,
  amount_cents bigint NOT NULL CONSTRAINT purchases_amount_check CHECK (amount_cents >= 0),
  note varchar(200)
);
CREATE INDEX purchases_user_id_idx ON app.purchases (user_id);
CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- a statement separator inside the body: ;
  NEW.note := coalesce(NEW.note, '');
  RETURN NEW;
END;
$$;
"#;

#[test]
fn hand_written_migrations_replay_to_the_expected_schema() {
    let after = match replayed(PROJECT_MIGRATIONS) {
        Ok(s) => s,
        Err(e) => panic!("replay failed: {e}"),
    };
    // The function is modelled; the DO block and data are not schema.
    assert!(after.opaque.is_empty(), "{:#?}", after.opaque);
    assert_same(
        &load(PROJECT_SCHEMA, "schema.sql"),
        &after,
        "project migrations",
    );
    // The replayed schema is where `generate` starts: nothing left to do.
    let up = migration(
        &after,
        &load(PROJECT_SCHEMA, "schema.sql"),
        &Renames::default(),
    );
    assert!(up.is_empty(), "{up}");
}

/// Forms people write by hand that the planner never does: (what, migration, the schema
/// it leaves).
const HAND_WRITTEN_FORMS: &[(&str, &str, &str)] = &[
    (
        "ALTER SCHEMA RENAME moves everything, defaults follow their sequence",
        "CREATE SCHEMA s; CREATE TYPE s.e AS ENUM ('a'); \
         CREATE TABLE s.t (id serial PRIMARY KEY, e s.e); \
         CREATE TABLE r (t_id int REFERENCES s.t); \
         ALTER SCHEMA s RENAME TO z;",
        "CREATE SCHEMA z; CREATE TYPE z.e AS ENUM ('a'); \
         CREATE TABLE z.t (id int NOT NULL DEFAULT nextval('z.t_id_seq'::regclass) PRIMARY KEY, e z.e); \
         CREATE SEQUENCE z.t_id_seq AS integer OWNED BY z.t.id; \
         CREATE TABLE r (t_id int REFERENCES z.t);",
    ),
    (
        "SET SCHEMA of a table, an enum and a sequence",
        "CREATE SCHEMA s; CREATE TYPE e AS ENUM ('a'); CREATE SEQUENCE q; \
         CREATE TABLE t (id serial PRIMARY KEY, e e, n bigint DEFAULT nextval('q')); \
         ALTER TABLE t SET SCHEMA s; ALTER TYPE e SET SCHEMA s; ALTER SEQUENCE q SET SCHEMA s;",
        "CREATE SCHEMA s; CREATE TYPE s.e AS ENUM ('a'); CREATE SEQUENCE s.q; \
         CREATE TABLE s.t (id int NOT NULL DEFAULT nextval('s.t_id_seq'::regclass) PRIMARY KEY, \
           e s.e, n bigint DEFAULT nextval('s.q'::regclass)); \
         CREATE SEQUENCE s.t_id_seq AS integer OWNED BY s.t.id;",
    ),
    (
        "ALTER SEQUENCE RENAME and ALTER TYPE RENAME",
        "CREATE SEQUENCE q; CREATE TYPE e AS ENUM ('a'); \
         CREATE TABLE t (n bigint DEFAULT nextval('q'), e e, es e[]); \
         ALTER SEQUENCE q RENAME TO counter; ALTER TYPE e RENAME TO kind;",
        "CREATE SEQUENCE counter; CREATE TYPE kind AS ENUM ('a'); \
         CREATE TABLE t (n bigint DEFAULT nextval('counter'), e kind, es kind[]);",
    ),
    (
        "ADD CONSTRAINT ... USING INDEX",
        "CREATE TABLE t (id int, code text); \
         CREATE UNIQUE INDEX CONCURRENTLY t_id_idx ON t (id); \
         CREATE UNIQUE INDEX t_code_idx ON t (code); \
         ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx; \
         ALTER TABLE t ADD UNIQUE USING INDEX t_code_idx;",
        "CREATE TABLE t (id int CONSTRAINT t_pkey PRIMARY KEY, code text CONSTRAINT t_code_idx UNIQUE);",
    ),
    (
        "ALTER CONSTRAINT and VALIDATE CONSTRAINT",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p_id int); \
         ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p NOT VALID; \
         ALTER TABLE c VALIDATE CONSTRAINT c_p; \
         ALTER TABLE c ALTER CONSTRAINT c_p DEFERRABLE INITIALLY DEFERRED;",
        "CREATE TABLE p (id int PRIMARY KEY); \
         CREATE TABLE c (p_id int CONSTRAINT c_p REFERENCES p DEFERRABLE INITIALLY DEFERRED);",
    ),
    (
        "DROP ... CASCADE takes dependents along",
        "CREATE TYPE e AS ENUM ('a'); CREATE SEQUENCE q; \
         CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE, e e, n bigint DEFAULT nextval('q'), \
           g int GENERATED ALWAYS AS (id * 2) STORED); \
         CREATE TABLE c (p_id int REFERENCES p, p_code text REFERENCES p (code)); \
         DROP TYPE e CASCADE; DROP SEQUENCE q CASCADE; \
         ALTER TABLE p DROP COLUMN code CASCADE; ALTER TABLE p DROP COLUMN id CASCADE;",
        "CREATE TABLE p (n bigint); CREATE TABLE c (p_id int, p_code text);",
    ),
    (
        "DROP TABLE CASCADE and DROP SCHEMA CASCADE",
        "CREATE SCHEMA s; CREATE TABLE s.a (id int PRIMARY KEY); CREATE TABLE s.b (id serial); \
         CREATE TABLE p (id int PRIMARY KEY); \
         CREATE TABLE c (p_id int REFERENCES p, a_id int REFERENCES s.a); \
         DROP TABLE p CASCADE; DROP SCHEMA s CASCADE;",
        "CREATE TABLE c (p_id int, a_id int);",
    ),
    (
        "identity columns altered by hand",
        "CREATE TABLE t (id int NOT NULL, n bigint GENERATED BY DEFAULT AS IDENTITY); \
         ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH 100); \
         ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 10 RESTART WITH 500; \
         ALTER TABLE t ALTER COLUMN n SET GENERATED ALWAYS SET CACHE 5; \
         ALTER TABLE t ALTER COLUMN n DROP IDENTITY IF EXISTS; \
         ALTER TABLE t ALTER COLUMN n DROP IDENTITY IF EXISTS;",
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10), \
           n bigint NOT NULL);",
    ),
    (
        "ALTER SEQUENCE on an identity column's sequence",
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY); \
         ALTER SEQUENCE t_id_seq INCREMENT BY 5 RESTART WITH 10; \
         ALTER SEQUENCE t_id_seq OWNER TO postgres;",
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5));",
    ),
    (
        "ALTER SEQUENCE by hand",
        "CREATE TABLE t (id int); CREATE SEQUENCE q AS integer; \
         ALTER SEQUENCE q INCREMENT 2 MINVALUE 10 RESTART WITH 10 START 10 NO CYCLE OWNED BY t.id; \
         ALTER SEQUENCE IF EXISTS missing RENAME TO other;",
        "CREATE TABLE t (id int); \
         CREATE SEQUENCE q AS integer INCREMENT BY 2 MINVALUE 10 START WITH 10 OWNED BY t.id;",
    ),
    (
        "renamed columns in quoted, keyword and qualified expressions",
        "CREATE TABLE t (a int, b int CHECK (b > a), c text); \
         CREATE INDEX t_expr ON t ((a + b)) WHERE c <> 'a'; \
         ALTER TABLE t RENAME a TO \"Order\"; ALTER TABLE t RENAME COLUMN c TO \"select\";",
        "CREATE TABLE t (\"Order\" int, b int CONSTRAINT t_check CHECK (b > \"Order\"), \"select\" text); \
         CREATE INDEX t_expr ON t ((\"Order\" + b)) WHERE \"select\" <> 'a';",
    ),
    (
        "table storage settings, owners and statistics change nothing ferry models; an index's \
         storage parameters are modelled",
        "CREATE TABLE t (id int PRIMARY KEY, doc text); CREATE INDEX t_doc ON t (doc); \
         ALTER TABLE t OWNER TO postgres; ALTER TABLE t SET (fillfactor = 70); \
         ALTER TABLE t ALTER COLUMN doc SET STATISTICS 500, ALTER COLUMN doc SET STORAGE EXTERNAL; \
         ALTER INDEX t_doc SET (fillfactor = 80); ALTER TABLE t CLUSTER ON t_pkey; \
         ALTER TABLE t SET WITHOUT CLUSTER; ALTER TABLE t SET UNLOGGED; ALTER TABLE t SET LOGGED;",
        "CREATE TABLE t (id int PRIMARY KEY, doc text); \
         CREATE INDEX t_doc ON t (doc) WITH (fillfactor = 80);",
    ),
    (
        "implicit names freed by drops are taken again",
        "CREATE TABLE t (a int UNIQUE, b int); CREATE INDEX ON t (b); \
         ALTER TABLE t DROP CONSTRAINT t_a_key; DROP INDEX t_b_idx; \
         ALTER TABLE t ADD UNIQUE (a); CREATE INDEX ON t (b);",
        "CREATE TABLE t (a int UNIQUE, b int); CREATE INDEX ON t (b);",
    ),
    (
        "CREATE ... IF NOT EXISTS on existing objects",
        "CREATE SCHEMA s; CREATE TABLE t (id int); CREATE INDEX i ON t (id); CREATE SEQUENCE q; \
         CREATE SCHEMA IF NOT EXISTS s; CREATE TABLE IF NOT EXISTS t (other text); \
         CREATE INDEX IF NOT EXISTS i ON t (id DESC); CREATE SEQUENCE IF NOT EXISTS q INCREMENT 5;",
        "CREATE SCHEMA s; CREATE TABLE t (id int); CREATE INDEX i ON t (id); CREATE SEQUENCE q;",
    ),
];

#[test]
fn hand_written_forms_replay_to_the_expected_schema() {
    for (label, script, expected) in HAND_WRITTEN_FORMS {
        let after = match replayed(&[("up.sql", script)]) {
            Ok(s) => s,
            Err(e) => panic!("{label}: replay failed: {e}"),
        };
        assert_same(&load(expected, "expected.sql"), &after, label);
    }
}

#[test]
fn statements_on_opaque_objects_stay_opaque() {
    // Views are modelled (see `views_replay_like_the_server`); a comment on a view's
    // column is not.
    let script = "CREATE TABLE t (id int PRIMARY KEY, n int);\n\
                  CREATE TABLE parted0 (k int) INHERITS (t);\n\
                  CREATE TABLE parted1 (k int) INHERITS (t);\n\
                  CREATE INDEX p_n ON parted1 (k);\n\
                  DROP INDEX p_n;\n\
                  DROP TABLE parted0;\n\
                  ALTER TABLE t ADD COLUMN m int, REPLICA IDENTITY FULL;\n\
                  CREATE TABLE parted (k int) INHERITS (t);\n\
                  ALTER TABLE parted ADD COLUMN x int;\n\
                  GRANT CONNECT ON DATABASE postgres TO PUBLIC;\n\
                  CREATE TABLE parted2 (name int) INHERITS (t);\n\
                  COMMENT ON COLUMN parted2.name IS 'an inheriting table column';\n\
                  CREATE TABLE copy (LIKE t INCLUDING ALL);\n\
                  ALTER TABLE copy ADD COLUMN z int;\n";
    let after = match replayed(&[("up.sql", script)]) {
        Ok(s) => s,
        Err(e) => panic!("replay failed: {e}"),
    };
    // Every statement but the first, in order, with its line.
    let lines: Vec<&str> = after.opaque.iter().map(|o| o.origin.as_str()).collect();
    let expected_lines: Vec<String> = (2..=14).map(|n| format!("up.sql:{n}")).collect();
    assert_eq!(lines, expected_lines);
    // The ALTER with an action ferry does not model changed nothing, not even its first
    // action: the whole statement is kept as written.
    let mut expected = load("CREATE TABLE t (id int PRIMARY KEY, n int);", "e.sql");
    expected.opaque = after.opaque.clone();
    assert_same(&expected, &after, "opaque objects");
}

#[test]
fn views_replay_like_the_server() {
    let script = "CREATE TABLE t (id int PRIMARY KEY, n int);\n\
                  CREATE VIEW v AS SELECT id FROM t;\n\
                  CREATE VIEW vv AS SELECT id FROM v;\n\
                  CREATE MATERIALIZED VIEW mv AS SELECT n FROM t WITH NO DATA;\n\
                  CREATE INDEX mv_n ON mv (n);\n\
                  CREATE INDEX mv_n2 ON mv (n);\n\
                  DROP INDEX mv_n;\n\
                  ALTER VIEW vv RENAME TO w;\n\
                  COMMENT ON VIEW w IS 'renamed';\n\
                  CREATE OR REPLACE VIEW v AS SELECT id, n FROM t;\n\
                  CREATE VIEW gone AS SELECT 1 AS one;\n\
                  DROP VIEW gone;\n";
    let after = match replayed(&[("up.sql", script)]) {
        Ok(s) => s,
        Err(e) => panic!("replay failed: {e}"),
    };
    let expected = load(
        "CREATE TABLE t (id int PRIMARY KEY, n int);\n\
         CREATE VIEW v AS SELECT id, n FROM t;\n\
         CREATE VIEW w AS SELECT id FROM v;\n\
         COMMENT ON VIEW w IS 'renamed';\n\
         CREATE MATERIALIZED VIEW mv AS SELECT n FROM t;\n\
         CREATE INDEX mv_n2 ON mv (n);\n",
        "e.sql",
    );
    assert_same(&expected, &after, "views");
    // A table that views read is dropped only with CASCADE, which takes them along.
    let message = replay_error(&[("up.sql", &format!("{script}DROP TABLE t;\n"))]);
    assert!(message.contains("depends on it"), "{message}");
    let after =
        replayed(&[("up.sql", &format!("{script}DROP TABLE t CASCADE;\n"))]).expect("cascade");
    assert!(after.views.is_empty() && after.tables.is_empty());
}

// ----- errors -------------------------------------------------------------------------------

#[track_caller]
fn replay_error(scripts: &[(&str, &str)]) -> String {
    match replayed(scripts) {
        Ok(_) => panic!("replay should fail: {scripts:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn dropping_an_unknown_table_names_file_line_and_column() {
    let message = replay_error(&[
        ("migrations/001/up.sql", "CREATE TABLE t (id int);\n"),
        (
            "migrations/002/up.sql",
            "INSERT INTO t VALUES (1);\n\nDROP TABLE t, missing;\n",
        ),
    ]);
    assert_eq!(
        message,
        "migrations/002/up.sql:3:15: table public.missing does not exist"
    );
    // IF EXISTS makes it a no-op; the table before it is dropped.
    let after = replayed(&[(
        "up.sql",
        "CREATE TABLE t (id int); DROP TABLE IF EXISTS t, missing;",
    )]);
    assert_eq!(after.map(|s| s.tables.len()), Ok(0));
}

#[test]
fn changes_to_missing_objects_are_errors() {
    let base = "CREATE TABLE t (id int PRIMARY KEY, n int);\nCREATE TYPE e AS ENUM ('a');\n";
    let cases = [
        ("ALTER TABLE nope ADD COLUMN x int;", "3:13: table public.nope does not exist"),
        ("ALTER TABLE t DROP COLUMN x;", "3:27: column public.t.x does not exist"),
        ("ALTER TABLE t ALTER COLUMN x SET NOT NULL;", "3:28: column public.t.x does not exist"),
        ("ALTER TABLE t RENAME COLUMN x TO y;", "3:29: column public.t.x does not exist"),
        ("ALTER TABLE t RENAME COLUMN n TO id;", "3:34: column public.t.id already exists"),
        ("ALTER TABLE t DROP CONSTRAINT t_x;", "3:31: constraint t_x of table public.t does not exist"),
        ("DROP INDEX t_idx;", "3:12: index public.t_idx does not exist"),
        (
            "DROP INDEX t_pkey;",
            "3:12: cannot drop index public.t_pkey: constraint t_pkey on table public.t requires it \
             (drop the constraint instead)",
        ),
        ("ALTER INDEX t_idx RENAME TO x;", "3:13: index public.t_idx does not exist"),
        ("DROP SEQUENCE s;", "3:15: sequence public.s does not exist"),
        ("ALTER SEQUENCE s RESTART;", "3:16: sequence public.s does not exist"),
        ("DROP TYPE f;", "3:11: type public.f does not exist"),
        ("ALTER TYPE e ADD VALUE 'a';", "3:24: enum public.e already has the value 'a'"),
        ("ALTER TYPE e ADD VALUE 'b' AFTER 'z';", "3:34: enum public.e has no value 'z'"),
        ("DROP SCHEMA s;", "3:13: schema s does not exist"),
        ("CREATE TABLE t (x int);", "3:14: relation public.t already exists"),
        ("ALTER TABLE t ALTER COLUMN n DROP IDENTITY;", "3:28: column public.t.n is not an identity column"),
    ];
    for (statement, expected) in cases {
        let script = format!("{base}{statement}\n");
        let message = replay_error(&[("up.sql", &script)]);
        assert_eq!(message, format!("up.sql:{expected}"), "{statement}");
    }
}

#[test]
fn drops_with_dependents_need_cascade() {
    let base = "CREATE TYPE e AS ENUM ('a');\n\
                CREATE SEQUENCE q;\n\
                CREATE TABLE p (id int PRIMARY KEY, e e, n bigint DEFAULT nextval('q'), \
                  g int GENERATED ALWAYS AS (id + 1) STORED);\n\
                CREATE TABLE c (p_id int REFERENCES p);\n\
                CREATE SCHEMA s;\nCREATE TABLE s.x (id int);\n";
    let cases = [
        (
            "DROP TABLE p;",
            "7:12: cannot drop table public.p: constraint c_p_id_fkey on table public.c depends on \
             it (use CASCADE to drop it too)",
        ),
        (
            "ALTER TABLE p DROP CONSTRAINT p_pkey;",
            "7:31: cannot drop p_pkey of table public.p: constraint c_p_id_fkey on table public.c \
             depends on it (use CASCADE to drop it too)",
        ),
        (
            "ALTER TABLE p DROP COLUMN id;",
            "7:27: cannot drop column public.p.id: column public.p.g depends on it (use CASCADE to \
             drop it too)",
        ),
        (
            "DROP TYPE e;",
            "7:11: cannot drop type public.e: column public.p.e uses it (use CASCADE to drop the \
             column too)",
        ),
        (
            "DROP SEQUENCE q;",
            "7:15: cannot drop sequence public.q: the default of column public.p.n uses it (use \
             CASCADE to drop the default too)",
        ),
        (
            "DROP SCHEMA s;",
            "7:13: cannot drop schema s: it contains table s.x (use CASCADE)",
        ),
    ];
    for (statement, expected) in cases {
        let script = format!("{base}{statement}\n");
        let message = replay_error(&[("up.sql", &script)]);
        assert_eq!(message, format!("up.sql:{expected}"), "{statement}");
    }
}

#[test]
fn partitions_replay_like_the_server() {
    const PARENT: &str = "CREATE TABLE logs (id int NOT NULL, at date NOT NULL, CHECK (id > 0)) \
                          PARTITION BY RANGE (at);\nCREATE INDEX logs_id ON logs (id);\n";
    let p1 =
        "CREATE TABLE logs_1 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');\n";
    let p2 =
        "CREATE TABLE logs_2 PARTITION OF logs FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');\n";
    let p2_wide =
        "CREATE TABLE logs_2 PARTITION OF logs FOR VALUES FROM ('2024-02-01') TO ('2024-05-01');\n";
    let standalone = "CREATE TABLE logs_2 (id int NOT NULL, at date NOT NULL, \
                      CONSTRAINT logs_id_check CHECK (id > 0));\n\
                      CREATE INDEX logs_2_id_idx ON logs_2 (id);\n";
    check_pair(
        "add a partition",
        &format!("{PARENT}{p1}"),
        &format!("{PARENT}{p1}{p2}"),
    );
    check_pair(
        "change a bound",
        &format!("{PARENT}{p1}{p2}"),
        &format!("{PARENT}{p1}{p2_wide}"),
    );
    check_pair(
        "detach a partition",
        &format!("{PARENT}{p1}{p2}"),
        &format!("{PARENT}{p1}{standalone}"),
    );
    check_pair(
        "add a column to a partitioned table",
        &format!("{PARENT}{p1}"),
        &format!(
            "{}{p1}",
            PARENT.replace("at date NOT NULL", "at date NOT NULL, note text")
        ),
    );
    // Dropping the parent drops its partitions.
    let after = replayed(&[("up.sql", &format!("{PARENT}{p1}{p2}DROP TABLE logs;\n"))])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(after.tables.is_empty(), "{:?}", after.tables.keys());
}
