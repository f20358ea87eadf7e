//! Schema files through the loader and real SQLite databases: what is pushed inspects back
//! equal, and migrations keep rows.

use ferry_core::{diff, Database, Dialect, Renames, Schema};
use ferry_sqlite::{SqliteDatabase, SQLITE};
use tempfile::TempDir;

fn load(sql: &str) -> Schema {
    ferry_sql::load_str(sql, "schema.sql", &SQLITE).unwrap_or_else(|e| panic!("{e}"))
}

fn open(dir: &TempDir) -> SqliteDatabase {
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    SqliteDatabase::open(&url).expect("open")
}

/// Plans the database to `target` (following its `@renamed` annotations) and applies it.
fn push(db: &mut SqliteDatabase, target: &Schema) -> ferry_core::Plan {
    let current = db.inspect().expect("inspect");
    let mut renames = Renames::default();
    renames.add_hints(&current, target);
    let plan = SQLITE
        .plan(&current, target, &diff(&current, target, &renames))
        .expect("plan");
    db.apply(&plan)
        .unwrap_or_else(|e| panic!("{e}\n--- plan ---\n{}", plan.to_sql()));
    plan
}

/// The database now has `target`'s tables, and nothing is left to do.
fn assert_converged(db: &mut SqliteDatabase, target: &Schema, context: &str) {
    let inspected = db.inspect().expect("inspect");
    assert_eq!(inspected.tables, target.tables, "{context}");
    let left = diff(&inspected, target, &Renames::default());
    assert!(left.is_empty(), "{context}: left over {left:#?}");
}

fn count(db: &mut SqliteDatabase, sql: &str) -> i64 {
    db.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

const RICH: &str = r#"
CREATE TABLE teams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL COLLATE NOCASE UNIQUE,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
  id integer primary key,
  team_id INTEGER REFERENCES teams(id) ON DELETE CASCADE,
  email VARCHAR(255) NOT NULL,
  "display name" text DEFAULT 'anon',
  "order" int DEFAULT -1,
  score real DEFAULT (0.5 * 2),
  email_lower text GENERATED ALWAYS AS (lower(email)) VIRTUAL,
  email_len integer GENERATED ALWAYS AS (length(email)) STORED,
  flags unsigned big int,
  CONSTRAINT users_email_key UNIQUE (email),
  CONSTRAINT users_score_positive CHECK (score >= 0),
  CHECK ("order" > -100)
);

CREATE TABLE memberships (
  user_id INTEGER NOT NULL,
  team_id INTEGER NOT NULL,
  role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
  PRIMARY KEY (user_id, team_id),
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE RESTRICT,
  CONSTRAINT memberships_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  payload ANY,
  at INTEGER NOT NULL
) STRICT;

CREATE INDEX users_team ON users (team_id);
CREATE UNIQUE INDEX users_email_nocase ON users (email COLLATE NOCASE);
CREATE INDEX users_recent ON users (id DESC) WHERE team_id IS NOT NULL;
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX "events by time" ON events (at, id);
"#;

#[test]
fn pushed_schema_inspects_equal_and_renders_back() {
    let target = load(RICH);
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &target);
    assert_converged(&mut db, &target, "after push");

    // Pushing again has nothing to do.
    let again = push(&mut db, &target);
    assert!(again.is_empty(), "{}", again.to_sql());

    // `pull`: the rendered file loads back to the same model, and creates it.
    let inspected = db.inspect().unwrap();
    let files = SQLITE.render_schema(&inspected);
    let rendered = load(&files[0].1);
    assert_eq!(rendered.tables, inspected.tables, "{}", files[0].1);
    let dir2 = TempDir::new().unwrap();
    let mut db2 = open(&dir2);
    push(&mut db2, &rendered);
    assert_converged(&mut db2, &target, "rendered schema pushed");
}

#[test]
fn views_and_triggers_are_kept_opaque() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    db.connection()
        .execute_batch(
            "CREATE TABLE t (a INTEGER);
             CREATE VIEW v AS SELECT a FROM t;
             CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;",
        )
        .unwrap();
    let s = db.inspect().unwrap();
    assert_eq!(s.tables.len(), 1);
    assert_eq!(s.opaque.len(), 2, "{:#?}", s.opaque);
    let rendered = SQLITE.render_schema(&s);
    let mut db2 = SqliteDatabase::open("sqlite::memory:").unwrap();
    db2.connection().execute_batch(&rendered[0].1).unwrap();
}

const A: &str = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT,
  age INTEGER,
  nickname TEXT
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL
);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  post_id INTEGER REFERENCES posts (id) ON DELETE CASCADE,
  body TEXT
);
CREATE INDEX posts_user ON posts (user_id);
"#;

fn seed(db: &mut SqliteDatabase) {
    db.connection()
        .execute_batch(
            "INSERT INTO users VALUES (1, 'a@x', 30, 'al'), (2, 'b@x', 41, NULL), (3, 'c@x', 17, 'cy');
             INSERT INTO posts VALUES (1, 1, 'one'), (2, 1, 'two'), (3, 2, 'three');
             INSERT INTO comments VALUES (1, 1, 'hi'), (2, 3, 'yo');",
        )
        .unwrap();
}

fn migrate(a: &str, b: &str) -> (TempDir, SqliteDatabase, ferry_core::Plan) {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    seed(&mut db);
    let target = load(b);
    let plan = push(&mut db, &target);
    assert_converged(&mut db, &target, &plan.to_sql());
    (dir, db, plan)
}

#[test]
fn parent_rebuild_keeps_cascading_children() {
    // users: email becomes NOT NULL and unique, age changes type, a check is added.
    let b = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  age REAL CHECK (age > 0),
  nickname TEXT
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL
);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  post_id INTEGER REFERENCES posts (id) ON DELETE CASCADE,
  body TEXT
);
CREATE INDEX posts_user ON posts (user_id);
"#;
    let (_dir, mut db, plan) = migrate(A, b);
    assert!(
        plan.to_sql().contains("DROP TABLE users"),
        "{}",
        plan.to_sql()
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM users"), 3);
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
    assert_eq!(count(&mut db, "SELECT count(*) FROM comments"), 2);
    assert_eq!(count(&mut db, "PRAGMA foreign_keys"), 1);
}

#[test]
fn rebuild_of_a_middle_table_keeps_both_neighbours() {
    // posts gains a column in the middle and loses its cascade; comments point at it.
    let b = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT,
  age INTEGER,
  nickname TEXT
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  slug TEXT,
  title TEXT NOT NULL
) STRICT;
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  post_id INTEGER REFERENCES posts (id) ON DELETE CASCADE,
  body TEXT
);
CREATE INDEX posts_user ON posts (user_id);
CREATE INDEX posts_slug ON posts (slug) WHERE slug IS NOT NULL;
"#;
    let (_dir, mut db, _) = migrate(A, b);
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
    assert_eq!(count(&mut db, "SELECT count(*) FROM comments"), 2);
}

#[test]
fn renames_adds_and_drops_run_in_place() {
    let b = r#"
CREATE TABLE people ( -- @renamed from=users
  id INTEGER PRIMARY KEY,
  mail TEXT, -- @renamed from=email
  age INTEGER,
  joined TEXT DEFAULT 'never'
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  title TEXT NOT NULL
);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  post_id INTEGER REFERENCES posts (id) ON DELETE CASCADE,
  body TEXT
);
CREATE INDEX posts_by_user ON posts (user_id); -- @renamed from=posts_user
CREATE INDEX people_mail ON people (mail);
"#;
    let (_dir, mut db, plan) = migrate(A, b);
    let sql = plan.to_sql();
    assert!(!sql.contains("_ferry_new_"), "{sql}");
    assert!(plan.before.is_empty(), "{sql}");
    assert_eq!(
        db.connection()
            .query_row(
                "SELECT mail || ' ' || joined FROM people WHERE id = 1",
                [],
                |r| r.get::<_, String>(0)
            )
            .unwrap(),
        "a@x never"
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
}

#[test]
fn column_reorder_and_drop_of_a_referenced_table() {
    let b = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  nickname TEXT,
  email TEXT,
  age INTEGER
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL
);
CREATE INDEX posts_user ON posts (user_id);
"#;
    let (_dir, mut db, plan) = migrate(A, b);
    assert!(plan.has_hazard(ferry_core::HazardKind::DataLoss));
    assert_eq!(
        db.connection()
            .query_row("SELECT nickname FROM users WHERE id = 3", [], |r| r
                .get::<_, String>(0))
            .unwrap(),
        "cy"
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
}

#[test]
fn self_referencing_table_rebuild_keeps_the_tree() {
    let a = r#"
CREATE TABLE employees (
  id INTEGER PRIMARY KEY,
  manager_id INTEGER REFERENCES employees (id) ON DELETE CASCADE,
  name TEXT
);
"#;
    let b = r#"
CREATE TABLE employees (
  id INTEGER PRIMARY KEY,
  manager_id INTEGER REFERENCES employees (id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT ''
);
"#;
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    db.connection()
        .execute_batch("INSERT INTO employees VALUES (1, NULL, 'boss'), (2, 1, 'a'), (3, 2, 'b')")
        .unwrap();
    let target = load(b);
    let plan = push(&mut db, &target);
    assert!(plan.to_sql().contains("_ferry_new_employees"));
    assert_converged(&mut db, &target, &plan.to_sql());
    assert_eq!(count(&mut db, "SELECT count(*) FROM employees"), 3);
    db.connection()
        .execute_batch("DELETE FROM employees WHERE id = 1")
        .unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM employees"), 0);
}

#[test]
fn renamed_parent_column_is_followed_by_its_children() {
    let a = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE CHECK (length(email) > 2)
);
CREATE TABLE sessions (
  token TEXT PRIMARY KEY,
  user_email TEXT REFERENCES users (email) ON UPDATE CASCADE
) WITHOUT ROWID;
CREATE INDEX users_email_lower ON users (lower(email));
"#;
    let b = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  mail TEXT NOT NULL UNIQUE CHECK (length(mail) > 2) -- @renamed from=email
);
CREATE TABLE sessions (
  token TEXT PRIMARY KEY,
  user_email TEXT REFERENCES users (mail) ON UPDATE CASCADE
) WITHOUT ROWID;
CREATE INDEX users_email_lower ON users (lower(mail));
"#;
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    db.connection()
        .execute_batch(
            "INSERT INTO users VALUES (1, 'a@x'); INSERT INTO sessions VALUES ('t', 'a@x');",
        )
        .unwrap();
    let target = load(b);
    let plan = push(&mut db, &target);
    assert_eq!(
        plan.to_sql(),
        "ALTER TABLE users RENAME COLUMN email TO mail;\n"
    );
    assert_converged(&mut db, &target, "after the rename");
    assert_eq!(count(&mut db, "SELECT count(*) FROM sessions"), 1);
}

#[test]
fn autoincrement_table_round_trips_and_keeps_its_sequence() {
    let a = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);";
    let b = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL DEFAULT 'x');";
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    db.connection()
        .execute_batch("INSERT INTO t (v) VALUES ('a'), ('b'), ('c'); DELETE FROM t WHERE id > 1;")
        .unwrap();
    let target = load(b);
    push(&mut db, &target);
    assert_converged(&mut db, &target, "autoincrement");
    db.connection()
        .execute_batch("INSERT INTO t (v) VALUES ('d')")
        .unwrap();
    assert_eq!(count(&mut db, "SELECT max(id) FROM t"), 4);
}

#[test]
fn virtual_tables_and_their_shadow_tables_are_not_tables() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    db.connection()
        .execute_batch("CREATE TABLE t (a INTEGER); CREATE VIRTUAL TABLE docs USING fts5(body);")
        .unwrap();
    let s = db.inspect().unwrap();
    let names: Vec<&str> = s.tables.keys().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["t"]);
}

#[test]
fn rebuilt_and_renamed_table_keeps_its_trigger() {
    let a = "CREATE TABLE log (msg TEXT); CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);";
    let b = "CREATE TABLE log (msg TEXT);\nCREATE TABLE people ( -- @renamed from=users\n id INTEGER PRIMARY KEY, email TEXT NOT NULL);";
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    db.connection()
        .execute_batch(
            "CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO log VALUES (new.email); END;
             INSERT INTO users VALUES (1, 'a');",
        )
        .unwrap();
    let mut target = load(b);
    // ferry does not manage triggers: the target keeps what the database has.
    target.opaque = db.inspect().unwrap().opaque;
    let plan = push(&mut db, &target);
    assert!(
        plan.to_sql().contains("RENAME TO people"),
        "{}",
        plan.to_sql()
    );
    db.connection()
        .execute_batch("INSERT INTO people VALUES (2, 'b')")
        .unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM log"), 2);
}

#[test]
fn mixed_case_column_rename_converges() {
    let a = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT CHECK (length(email) > 2));";
    let b = "CREATE TABLE users (id INTEGER PRIMARY KEY, Email TEXT CHECK (length(Email) > 2) -- @renamed from=email\n);";
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    let target = load(b);
    let plan = push(&mut db, &target);
    assert_eq!(
        plan.to_sql(),
        "ALTER TABLE users RENAME COLUMN email TO Email;\n"
    );
    assert_converged(&mut db, &target, &plan.to_sql());
}

#[test]
fn referencing_column_is_added_without_a_rebuild() {
    let a = r#"
CREATE TABLE teams (id INTEGER PRIMARY KEY);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER,
  email TEXT,
  UNIQUE (email),
  FOREIGN KEY (owner_id) REFERENCES users (id)
);
"#;
    let b = r#"
CREATE TABLE teams (id INTEGER PRIMARY KEY);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER,
  email TEXT,
  team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL,
  UNIQUE (email),
  FOREIGN KEY (owner_id) REFERENCES users (id)
);
"#;
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    push(&mut db, &load(a));
    db.connection()
        .execute_batch("INSERT INTO teams VALUES (1); INSERT INTO users VALUES (1, NULL, 'a');")
        .unwrap();
    let target = load(b);
    let plan = push(&mut db, &target);
    assert_eq!(
        plan.to_sql(),
        "ALTER TABLE users ADD COLUMN team_id integer REFERENCES teams (id) ON DELETE SET NULL;\n"
    );
    assert_converged(&mut db, &target, "after ADD COLUMN ... REFERENCES");
}
