//! Plans applied to real SQLite files, checked through SQLite itself (pragmas and rows), so
//! these do not depend on the loader.

use ferry_core::{
    diff, Column, Database, DbErrorKind, Dialect, ForeignKey, Index, IndexKey, Plan, PrimaryKey,
    QualifiedName, ReferentialAction, Renames, Schema, Table,
};
use ferry_sqlite::{SqliteDatabase, SQLITE};
use tempfile::TempDir;

fn q(name: &str) -> QualifiedName {
    QualifiedName::new("main", name)
}

fn table(name: &str, cols: &[(&str, &str)], pk: &[&str]) -> Table {
    let mut t = Table::new(q(name));
    t.columns = cols.iter().map(|(n, ty)| Column::new(*n, *ty)).collect();
    if !pk.is_empty() {
        t.primary_key = Some(PrimaryKey {
            name: String::new(),
            columns: pk.iter().map(|c| c.to_string()).collect(),
            autoincrement: false,
            comment: None,
        });
    }
    t
}

fn fk(cols: &[&str], parent: &str, ref_cols: &[&str], on_delete: ReferentialAction) -> ForeignKey {
    ForeignKey {
        name: String::new(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        ref_table: q(parent),
        ref_columns: ref_cols.iter().map(|c| c.to_string()).collect(),
        on_delete,
        on_update: ReferentialAction::NoAction,
        match_type: Default::default(),
        deferrable: Default::default(),
        comment: None,
    }
}

fn index(name: &str, cols: &[&str]) -> Index {
    Index {
        name: name.into(),
        unique: false,
        method: String::new(),
        keys: cols.iter().map(|c| IndexKey::column(*c)).collect(),
        include: vec![],
        predicate: None,
        nulls_not_distinct: false,
        ..Default::default()
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::default();
    for t in tables {
        s.tables.insert(t.name.clone(), t);
    }
    s
}

fn plan(from: &Schema, to: &Schema, renames: &Renames) -> Plan {
    SQLITE
        .plan(from, to, &diff(from, to, renames))
        .expect("plan")
}

fn open(dir: &TempDir) -> SqliteDatabase {
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    SqliteDatabase::open(&url).expect("open")
}

fn users() -> Table {
    table(
        "users",
        &[("id", "integer"), ("email", "text"), ("age", "integer")],
        &["id"],
    )
}

fn posts() -> Table {
    let mut t = table(
        "posts",
        &[("id", "integer"), ("user_id", "integer"), ("title", "text")],
        &["id"],
    );
    t.foreign_keys.push(fk(
        &["user_id"],
        "users",
        &["id"],
        ReferentialAction::Cascade,
    ));
    t
}

fn query_strings(db: &mut SqliteDatabase, sql: &str) -> Vec<String> {
    let conn = db.connection();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            let v: rusqlite::types::Value = r.get(0)?;
            Ok(format!("{v:?}"))
        })
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn count(db: &mut SqliteDatabase, sql: &str) -> i64 {
    db.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn foreign_keys_on(db: &mut SqliteDatabase) -> bool {
    count(db, "PRAGMA foreign_keys") == 1
}

fn seed_users_and_posts(db: &mut SqliteDatabase) {
    db.connection()
        .execute_batch(
            "INSERT INTO users (id, email, age) VALUES (1, 'a@x', 30), (2, 'b@x', 40), (3, 'c@x', NULL);
             INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'one'), (2, 1, 'two'), (3, 2, 'three');",
        )
        .unwrap();
}

#[test]
fn open_creates_a_missing_file_but_not_a_missing_directory() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("fresh.db");
    SqliteDatabase::open(&format!("sqlite:{}", path.display())).unwrap();
    assert!(path.exists());

    let missing = dir.path().join("nope").join("app.db");
    let err = SqliteDatabase::open(&format!("sqlite://{}", missing.display()))
        .expect_err("missing directory");
    assert_eq!(err.kind, DbErrorKind::Connect);
    assert!(err.message.contains("does not exist"), "{}", err.message);

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let err =
        SqliteDatabase::open(&format!("file:{}", garbage.display())).expect_err("not a database");
    assert_eq!(err.kind, DbErrorKind::Connect);

    let mut mem = SqliteDatabase::open("sqlite::memory:").unwrap();
    assert!(foreign_keys_on(&mut mem));
}

#[test]
fn rebuild_of_a_cascading_parent_keeps_every_child_row() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let a = schema(vec![users(), posts()]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    seed_users_and_posts(&mut db);

    let mut new_users = users();
    new_users.column_mut("email").unwrap().not_null = true;
    new_users.column_mut("age").unwrap().data_type = "real".into();
    new_users.indexes.push(index("users_email", &["email"]));
    let b = schema(vec![new_users, posts()]);
    let p = plan(&a, &b, &Renames::default());
    assert!(p.to_sql().contains("DROP TABLE users"));
    db.apply(&p).unwrap();

    assert_eq!(count(&mut db, "SELECT count(*) FROM users"), 3);
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
    assert_eq!(
        count(
            &mut db,
            "SELECT \"notnull\" FROM pragma_table_info('users') WHERE name = 'email'"
        ),
        1
    );
    assert_eq!(
        query_strings(
            &mut db,
            "SELECT lower(type) FROM pragma_table_info('users') ORDER BY cid"
        ),
        ["Text(\"integer\")", "Text(\"text\")", "Text(\"real\")"]
    );
    assert_eq!(
        query_strings(&mut db, "SELECT name FROM pragma_index_list('users')"),
        ["Text(\"users_email\")"]
    );
    assert!(foreign_keys_on(&mut db));
    // The cascade still works after the rebuild.
    db.connection()
        .execute_batch("DELETE FROM users WHERE id = 1")
        .unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 1);
    // No temporary table is left behind.
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE '_ferry%'"
        ),
        0
    );
}

#[test]
fn rebuild_keeps_views_and_triggers_working() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let a = schema(vec![users()]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    db.connection()
        .execute_batch(
            "CREATE TABLE audit (msg text);
             CREATE VIEW adults AS SELECT email FROM users WHERE age >= 18;
             CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.email); END;
             INSERT INTO users VALUES (1, 'a@x', 30);",
        )
        .unwrap();
    let mut from = a.clone();
    from.opaque.push(ferry_core::OpaqueStatement {
        sql: "CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.email); END".into(),
        origin: "test".into(),
    });
    let mut new_users = users();
    new_users.column_mut("email").unwrap().not_null = true;
    let to = schema(vec![new_users]);
    db.apply(&plan(&from, &to, &Renames::default())).unwrap();

    assert_eq!(count(&mut db, "SELECT count(*) FROM adults"), 1);
    db.connection()
        .execute_batch("INSERT INTO users VALUES (2, 'b@x', 50)")
        .unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM audit"), 2);
}

#[test]
fn failed_statement_rolls_everything_back() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let a = schema(vec![users(), posts()]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    seed_users_and_posts(&mut db);
    let before = query_strings(&mut db, "SELECT sql FROM sqlite_schema ORDER BY name");

    // users 3 has a NULL age: the copy into the NOT NULL column fails.
    let mut new_users = users();
    new_users.column_mut("age").unwrap().not_null = true;
    let b = schema(vec![new_users, posts()]);
    let err = db.apply(&plan(&a, &b, &Renames::default())).unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Apply);
    assert!(
        err.statement
            .as_deref()
            .unwrap_or("")
            .starts_with("INSERT INTO _ferry_new_users"),
        "{err}"
    );
    assert!(err.message.contains("NOT NULL"), "{err}");
    assert_eq!(
        query_strings(&mut db, "SELECT sql FROM sqlite_schema ORDER BY name"),
        before
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
    assert!(foreign_keys_on(&mut db));
}

#[test]
fn foreign_key_violations_fail_the_check_and_roll_back() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let mut loose_posts = posts();
    loose_posts.foreign_keys.clear();
    let a = schema(vec![users(), loose_posts]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    seed_users_and_posts(&mut db);
    db.connection()
        .execute_batch("INSERT INTO posts VALUES (4, 99, 'orphan')")
        .unwrap();

    let b = schema(vec![users(), posts()]);
    let err = db.apply(&plan(&a, &b, &Renames::default())).unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Check);
    assert!(
        err.message
            .contains("row 4 of table posts references a missing row of table users"),
        "{err}"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM pragma_foreign_key_list('posts')"
        ),
        0
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 4);
    assert!(foreign_keys_on(&mut db));
}

#[test]
fn dropping_a_parent_never_cascades() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let a = schema(vec![users(), posts()]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    seed_users_and_posts(&mut db);
    let mut loose_posts = posts();
    loose_posts.foreign_keys.clear();
    let b = schema(vec![loose_posts]);
    db.apply(&plan(&a, &b, &Renames::default())).unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'users'"
        ),
        0
    );
}

#[test]
fn autoincrement_survives_a_rebuild() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let mut t = users();
    t.primary_key.as_mut().unwrap().autoincrement = true;
    let a = schema(vec![t.clone()]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    db.connection()
        .execute_batch(
            "INSERT INTO users (email) VALUES ('a'), ('b'), ('c'); DELETE FROM users WHERE id = 3;",
        )
        .unwrap();
    t.column_mut("email").unwrap().not_null = true;
    db.apply(&plan(&a, &schema(vec![t]), &Renames::default()))
        .unwrap();
    db.connection()
        .execute_batch("INSERT INTO users (email) VALUES ('d')")
        .unwrap();
    assert_eq!(count(&mut db, "SELECT max(id) FROM users"), 4);
    assert_eq!(count(&mut db, "SELECT count(*) FROM sqlite_sequence"), 1);
}

#[test]
fn alter_statements_rename_add_and_drop_in_place() {
    let dir = TempDir::new().unwrap();
    let mut db = open(&dir);
    let mut u = users();
    u.indexes.push(index("users_age", &["age"]));
    let a = schema(vec![u, posts()]);
    db.apply(&plan(&Schema::default(), &a, &Renames::default()))
        .unwrap();
    seed_users_and_posts(&mut db);

    let mut accounts = table(
        "accounts",
        &[("id", "integer"), ("mail", "text"), ("nickname", "text")],
        &["id"],
    );
    accounts.columns[2].default = Some(ferry_sql::expr("'anon'", ferry_core::DialectKind::Sqlite));
    let mut new_posts = posts();
    new_posts.foreign_keys[0].ref_table = q("accounts");
    let b = schema(vec![accounts, new_posts]);
    let mut renames = Renames::default();
    renames.tables.insert(q("accounts"), q("users"));
    renames
        .columns
        .insert((q("accounts"), "mail".into()), "email".into());
    let p = plan(&a, &b, &renames);
    assert!(p.before.is_empty(), "{}", p.to_sql());
    db.apply(&p).unwrap();

    assert_eq!(
        query_strings(
            &mut db,
            "SELECT name FROM pragma_table_info('accounts') ORDER BY cid"
        ),
        ["Text(\"id\")", "Text(\"mail\")", "Text(\"nickname\")"]
    );
    assert_eq!(
        query_strings(&mut db, "SELECT nickname FROM accounts WHERE id = 1"),
        ["Text(\"anon\")"]
    );
    assert_eq!(
        query_strings(
            &mut db,
            "SELECT \"table\" FROM pragma_foreign_key_list('posts')"
        ),
        ["Text(\"accounts\")"]
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM posts"), 3);
}

#[test]
fn rendered_schema_runs_on_an_empty_database() {
    let mut u = users();
    u.indexes.push(index("users_email", &["email"]));
    let s = schema(vec![posts(), u]);
    let files = SQLITE.render_schema(&s);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "schema.sql");
    let mut db = SqliteDatabase::open("sqlite::memory:").unwrap();
    db.connection().execute_batch(&files[0].1).unwrap();
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
        ),
        2
    );
}
