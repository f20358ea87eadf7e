use super::*;

use ferry_core::{diff, Generated, IndexKey, Renames, UniqueConstraint};

fn q(name: &str) -> QualifiedName {
    QualifiedName::new("main", name)
}

fn e(sql: &str) -> Expr {
    ferry_sql::expr(sql, DialectKind::Sqlite)
}

fn col(name: &str, ty: &str) -> Column {
    Column::new(name, ty)
}

fn table(name: &str, cols: Vec<Column>) -> Table {
    let mut t = Table::new(q(name));
    t.columns = cols;
    t
}

fn pk(cols: &[&str]) -> Option<PrimaryKey> {
    Some(PrimaryKey {
        name: String::new(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        autoincrement: false,
        comment: None,
    })
}

fn fk(cols: &[&str], parent: &str, ref_cols: &[&str]) -> ForeignKey {
    ForeignKey {
        name: String::new(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        ref_table: q(parent),
        ref_columns: ref_cols.iter().map(|c| c.to_string()).collect(),
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        match_type: MatchType::Simple,
        deferrable: Deferrable::NotDeferrable,
        comment: None,
    }
}

fn index(name: &str, cols: &[&str]) -> Index {
    Index {
        name: name.to_string(),
        unique: false,
        method: String::new(),
        keys: cols.iter().map(|c| IndexKey::column(*c)).collect(),
        include: Vec::new(),
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

fn users() -> Table {
    let mut t = table(
        "users",
        vec![
            col("id", "integer"),
            col("email", "text"),
            col("age", "integer"),
        ],
    );
    t.primary_key = pk(&["id"]);
    t
}

fn plan_with(from: &Schema, to: &Schema, renames: &Renames) -> Plan {
    let changes = diff(from, to, renames);
    plan(from, to, &changes).expect("plan")
}

fn plan_of(from: &Schema, to: &Schema) -> Plan {
    plan_with(from, to, &Renames::default())
}

fn statements(plan: &Plan) -> Vec<&str> {
    plan.steps
        .iter()
        .flat_map(|s| s.statements.iter().map(String::as_str))
        .collect()
}

fn hazards(plan: &Plan) -> Vec<(HazardKind, &str)> {
    plan.hazards()
        .map(|h| (h.kind, h.message.as_str()))
        .collect()
}

fn no_pragmas(plan: &Plan) -> bool {
    plan.before.is_empty() && plan.checks.is_empty() && plan.after.is_empty()
}

fn is_rebuild(plan: &Plan) -> bool {
    plan.has_hazard(HazardKind::TableRewrite)
        && plan.before == [FOREIGN_KEYS_OFF]
        && plan.checks == [FOREIGN_KEY_CHECK]
        && plan.after == [FOREIGN_KEYS_ON]
}

#[test]
fn create_table_renders_every_clause() {
    let mut t = table(
        "posts",
        vec![
            col("id", "integer"),
            Column {
                not_null: true,
                collation: Some("nocase".into()),
                ..col("title", "varchar(200)")
            },
            Column {
                not_null: true,
                default: Some(e("'draft'")),
                ..col("status", "text")
            },
            Column {
                default: Some(e("CURRENT_TIMESTAMP")),
                ..col("created_at", "text")
            },
            Column {
                default: Some(e("lower(hex(randomblob(4)))")),
                ..col("slug", "text")
            },
            Column {
                default: Some(e("-1")),
                ..col("score", "real")
            },
            Column {
                generated: Some(Generated {
                    expr: e("length(title)"),
                    stored: false,
                }),
                ..col("title_len", "integer")
            },
            col("author_id", "integer"),
            col("order", ""),
        ],
    );
    t.primary_key = Some(PrimaryKey {
        name: String::new(),
        columns: vec!["id".into()],
        autoincrement: true,
        comment: None,
    });
    t.uniques.push(UniqueConstraint {
        name: "posts_title_key".into(),
        columns: vec!["title".into(), "author_id".into()],
        nulls_not_distinct: false,
        deferrable: Deferrable::NotDeferrable,
        comment: None,
    });
    t.checks.push(CheckConstraint {
        name: String::new(),
        expr: e("score >= -1"),
        no_inherit: false,
        comment: None,
    });
    t.foreign_keys.push(ForeignKey {
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::SetNull,
        deferrable: Deferrable::InitiallyDeferred,
        ..fk(&["author_id"], "users", &["id"])
    });
    t.strict = true;
    assert_eq!(
        create_table_sql(&t, "posts"),
        "CREATE TABLE posts (
  id integer PRIMARY KEY AUTOINCREMENT,
  title varchar(200) NOT NULL COLLATE nocase,
  status text NOT NULL DEFAULT 'draft',
  created_at text DEFAULT CURRENT_TIMESTAMP,
  slug text DEFAULT (lower(hex(randomblob(4)))),
  score real DEFAULT -1,
  title_len integer GENERATED ALWAYS AS (length(title)) VIRTUAL,
  author_id integer,
  \"order\",
  CONSTRAINT posts_title_key UNIQUE (title, author_id),
  CHECK (score >= -1),
  FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED
) STRICT"
    );
}

#[test]
fn composite_and_plain_primary_keys_are_table_constraints() {
    let mut t = table("tags", vec![col("post_id", "integer"), col("tag", "text")]);
    t.primary_key = Some(PrimaryKey {
        name: "tags_pk".into(),
        columns: vec!["post_id".into(), "tag".into()],
        autoincrement: false,
        comment: None,
    });
    t.without_rowid = true;
    t.strict = true;
    assert_eq!(
        create_table_sql(&t, "tags"),
        "CREATE TABLE tags (\n  post_id integer,\n  tag text,\n  CONSTRAINT tags_pk PRIMARY KEY (post_id, tag)\n) WITHOUT ROWID, STRICT"
    );
    assert_eq!(
        create_table_sql(&users(), "users"),
        "CREATE TABLE users (\n  id integer,\n  email text,\n  age integer,\n  PRIMARY KEY (id)\n)"
    );
}

#[test]
fn indexes_render_keys_collations_and_predicates() {
    let mut idx = index("users_email", &["email"]);
    idx.unique = true;
    idx.keys[0].collation = Some("nocase".into());
    idx.keys.push(IndexKey {
        descending: true,
        ..IndexKey::column("age")
    });
    idx.keys.push(IndexKey {
        target: IndexTarget::Expr(e("lower(email)")),
        ..IndexKey::column("")
    });
    idx.predicate = Some(e("age > 18"));
    assert_eq!(
        create_index_sql("users", &idx),
        "CREATE UNIQUE INDEX users_email ON users (email COLLATE nocase, age DESC, (lower(email))) WHERE age > 18"
    );
}

#[test]
fn identifiers_are_quoted_only_when_needed() {
    assert_eq!(quote_ident("users"), "users");
    assert_eq!(quote_ident("_x9"), "_x9");
    assert_eq!(quote_ident("Users"), "Users");
    assert_eq!(quote_ident("order"), "\"order\"");
    assert_eq!(quote_ident("Select"), "\"Select\"");
    assert_eq!(quote_ident("first name"), "\"first name\"");
    assert_eq!(quote_ident("9lives"), "\"9lives\"");
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote_ident("été"), "\"été\"");
    assert_eq!(quote_ident(""), "\"\"");
}

#[test]
fn keyword_list_is_sorted_and_matches_sqlite() {
    assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    // The bundled SQLite's own list; every keyword must be quoted.
    let count = unsafe { rusqlite::ffi::sqlite3_keyword_count() };
    for i in 0..count {
        let mut name: *const std::os::raw::c_char = std::ptr::null();
        let mut len: std::os::raw::c_int = 0;
        let rc = unsafe { rusqlite::ffi::sqlite3_keyword_name(i, &mut name, &mut len) };
        assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
        let bytes = unsafe { std::slice::from_raw_parts(name as *const u8, len as usize) };
        let word = std::str::from_utf8(bytes).unwrap();
        assert!(is_keyword(word), "{word} is an SQLite keyword");
    }
}

#[test]
fn literals_and_parentheses() {
    for lit in [
        "1",
        "-1.5",
        "+3",
        "1e10",
        "0x1F",
        "'it''s'",
        "x'00ff'",
        "NULL",
        "true",
        "CURRENT_TIMESTAMP",
    ] {
        assert!(is_literal(lit), "{lit}");
    }
    for not_lit in ["1 + 1", "(1)", "lower('A')", "'a' || 'b'", "- - 1", "abc"] {
        assert!(!is_literal(not_lit), "{not_lit}");
    }
    assert!(is_constant("'x'") && is_constant("-1") && is_constant("NULL"));
    assert!(!is_constant("CURRENT_DATE"));
    assert_eq!(default_sql("1 + 1"), "(1 + 1)");
    assert_eq!(default_sql("(1 + 1)"), "(1 + 1)");
    assert_eq!(parenthesized("(a) AND (b)"), "((a) AND (b))");
    assert_eq!(parenthesized("(a AND ')')"), "(a AND ')')");
}

#[test]
fn renames_identifiers_but_not_functions_or_strings() {
    let renames = vec![("name".to_string(), "full name".to_string())];
    assert_eq!(
        rename_idents(
            "length(name) > 0 AND \"name\" <> 'name' AND name(x)",
            &renames
        ),
        "length(\"full name\") > 0 AND \"full name\" <> 'name' AND name(x)"
    );
    assert!(mentions("coalesce(\"Age\", 0) > 1", "age"));
    assert!(!mentions("'age' = x", "age"));
}

#[test]
fn finds_the_table_of_a_trigger() {
    assert_eq!(
        trigger_table("CREATE TRIGGER t AFTER UPDATE OF a, b ON users BEGIN SELECT 1; END"),
        Some("users".into())
    );
    assert_eq!(
        trigger_table("create temp trigger if not exists x before delete on main.\"my t\" begin select 1; end"),
        Some("my t".into())
    );
    assert_eq!(trigger_table("CREATE VIEW v AS SELECT 1 ON x"), None);
}

#[test]
fn nullable_column_at_the_end_is_added_in_place() {
    let from = schema(vec![users()]);
    let mut t = users();
    t.columns.push(col("nickname", "text"));
    t.columns.push(Column {
        not_null: true,
        default: Some(e("0")),
        ..col("karma", "integer")
    });
    let to = schema(vec![t]);
    let plan = plan_of(&from, &to);
    assert_eq!(
        statements(&plan),
        [
            "ALTER TABLE users ADD COLUMN nickname text",
            "ALTER TABLE users ADD COLUMN karma integer NOT NULL DEFAULT 0",
        ]
    );
    assert!(no_pragmas(&plan));
    assert!(hazards(&plan).is_empty());
}

#[test]
fn columns_alter_cannot_add_rebuild() {
    let cases: Vec<(&str, Column, bool)> = vec![
        (
            "NOT NULL without default",
            Column {
                not_null: true,
                ..col("x", "integer")
            },
            true,
        ),
        (
            "CURRENT_TIMESTAMP default",
            Column {
                default: Some(e("CURRENT_TIMESTAMP")),
                ..col("x", "text")
            },
            false,
        ),
        (
            "expression default",
            Column {
                default: Some(e("(1 + 1)")),
                ..col("x", "integer")
            },
            false,
        ),
        (
            "stored generated",
            Column {
                generated: Some(Generated {
                    expr: e("age * 2"),
                    stored: true,
                }),
                ..col("x", "integer")
            },
            false,
        ),
    ];
    for (what, column, may_fail) in cases {
        let from = schema(vec![users()]);
        let mut t = users();
        t.columns.push(column);
        let plan = plan_of(&from, &schema(vec![t]));
        assert!(is_rebuild(&plan), "{what}: {plan:#?}");
        assert_eq!(
            plan.has_hazard(HazardKind::MayFail),
            may_fail,
            "{what}: {:?}",
            hazards(&plan)
        );
    }
}

#[test]
fn virtual_generated_and_unique_columns() {
    let from = schema(vec![users()]);
    let mut t = users();
    t.columns.push(Column {
        generated: Some(Generated {
            expr: e("age * 2"),
            stored: false,
        }),
        ..col("double_age", "integer")
    });
    let plan = plan_of(&from, &schema(vec![t.clone()]));
    assert_eq!(
        statements(&plan),
        ["ALTER TABLE users ADD COLUMN double_age integer GENERATED ALWAYS AS (age * 2) VIRTUAL"]
    );

    t.columns.push(col("handle", "text"));
    t.uniques.push(UniqueConstraint {
        name: String::new(),
        columns: vec!["handle".into()],
        nulls_not_distinct: false,
        deferrable: Deferrable::NotDeferrable,
        comment: None,
    });
    assert!(is_rebuild(&plan_of(&from, &schema(vec![t]))));
}

#[test]
fn column_added_in_the_middle_rebuilds() {
    let from = schema(vec![users()]);
    let mut t = users();
    t.columns.insert(1, col("name", "text"));
    let plan = plan_of(&from, &schema(vec![t]));
    assert!(is_rebuild(&plan));
    assert!(statements(&plan).contains(
        &"INSERT INTO _ferry_new_users (id, email, age) SELECT id, email, age FROM users"
    ));
}

#[test]
fn referencing_column_is_added_inline() {
    let teams = {
        let mut t = table("teams", vec![col("id", "integer")]);
        t.primary_key = pk(&["id"]);
        t
    };
    let from = schema(vec![users(), teams.clone()]);
    let mut t = users();
    t.columns.push(col("team_id", "integer"));
    t.foreign_keys.push(ForeignKey {
        on_delete: ReferentialAction::SetNull,
        ..fk(&["team_id"], "teams", &["id"])
    });
    let plan = plan_of(&from, &schema(vec![t, teams]));
    assert_eq!(
        statements(&plan),
        ["ALTER TABLE users ADD COLUMN team_id integer REFERENCES teams (id) ON DELETE SET NULL"]
    );
    assert!(no_pragmas(&plan));
}

#[test]
fn plain_column_is_dropped_in_place() {
    let from = schema(vec![users()]);
    let mut t = users();
    t.columns.retain(|c| c.name != "age");
    let plan = plan_of(&from, &schema(vec![t]));
    assert_eq!(statements(&plan), ["ALTER TABLE users DROP COLUMN age"]);
    assert_eq!(
        hazards(&plan),
        [(HazardKind::DataLoss, "drops column users.age")]
    );
    assert!(no_pragmas(&plan));
}

#[test]
fn indexed_column_drops_its_index_first() {
    let mut before = users();
    before.indexes.push(index("users_age", &["age"]));
    let from = schema(vec![before]);
    let mut t = users();
    t.columns.retain(|c| c.name != "age");
    let plan = plan_of(&from, &schema(vec![t]));
    assert_eq!(
        statements(&plan),
        ["DROP INDEX users_age", "ALTER TABLE users DROP COLUMN age"]
    );
}

#[test]
fn constrained_column_drop_rebuilds_and_reports_the_loss() {
    let mut before = users();
    before.checks.push(CheckConstraint {
        name: String::new(),
        expr: e("age >= 0"),
        no_inherit: false,
        comment: None,
    });
    let from = schema(vec![before]);
    let mut t = users();
    t.columns.retain(|c| c.name != "age");
    let plan = plan_of(&from, &schema(vec![t]));
    assert!(is_rebuild(&plan));
    assert_eq!(
        hazards(&plan),
        [
            (
                HazardKind::TableRewrite,
                "rebuilds table users (rows are kept)"
            ),
            (HazardKind::DataLoss, "drops column users.age"),
        ]
    );
}

#[test]
fn type_change_is_a_rebuild_with_every_step_in_order() {
    let mut before = users();
    before.indexes.push(index("users_email", &["email"]));
    let from = schema(vec![before.clone()]);
    let mut t = before;
    t.column_mut("age").unwrap().data_type = "real".into();
    t.column_mut("email").unwrap().not_null = true;
    let plan = plan_of(&from, &schema(vec![t]));
    assert_eq!(plan.before, ["PRAGMA foreign_keys = OFF"]);
    assert_eq!(plan.checks, ["PRAGMA foreign_key_check"]);
    assert_eq!(plan.after, ["PRAGMA foreign_keys = ON"]);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(
        statements(&plan),
        [
            "CREATE TABLE _ferry_new_users (\n  id integer,\n  email text NOT NULL,\n  age real,\n  PRIMARY KEY (id)\n)",
            "INSERT INTO _ferry_new_users (id, email, age) SELECT id, email, age FROM users",
            "DROP TABLE users",
            "PRAGMA legacy_alter_table = ON",
            "ALTER TABLE _ferry_new_users RENAME TO users",
            "PRAGMA legacy_alter_table = OFF",
            "CREATE INDEX users_email ON users (email)",
        ]
    );
    assert_eq!(
        hazards(&plan),
        [
            (
                HazardKind::TableRewrite,
                "rebuilds table users (rows are kept)"
            ),
            (
                HazardKind::MayFail,
                "makes users.email NOT NULL: fails if a row holds NULL"
            ),
            (
                HazardKind::MayFail,
                "changes the type of users.age from integer to real"
            ),
        ]
    );
}

#[test]
fn renamed_column_is_renamed_before_the_rebuild() {
    let from = schema(vec![users()]);
    let mut t = users();
    t.column_mut("email").unwrap().name = "mail".into();
    t.column_mut("age").unwrap().data_type = "text".into();
    let mut renames = Renames::default();
    renames
        .columns
        .insert((q("users"), "mail".into()), "email".into());
    let plan = plan_with(&from, &schema(vec![t]), &renames);
    let stmts = statements(&plan);
    assert_eq!(stmts[0], "ALTER TABLE users RENAME COLUMN email TO mail");
    assert!(stmts
        .contains(&"INSERT INTO _ferry_new_users (id, mail, age) SELECT id, mail, age FROM users"));
}

#[test]
fn rename_alone_keeps_checks_indexes_and_references() {
    let mut before = users();
    before.checks.push(CheckConstraint {
        name: String::new(),
        expr: e("length(email) > 3"),
        no_inherit: false,
        comment: None,
    });
    let mut idx = index("users_lower_email", &[]);
    idx.keys.push(IndexKey {
        target: IndexTarget::Expr(e("lower(email)")),
        ..IndexKey::column("")
    });
    before.indexes.push(idx);
    let mut child = table("sessions", vec![col("user_email", "text")]);
    child
        .foreign_keys
        .push(fk(&["user_email"], "users", &["email"]));
    let from = schema(vec![before.clone(), child.clone()]);

    let mut after = before;
    after.name = q("accounts");
    after.column_mut("email").unwrap().name = "mail".into();
    after.checks[0].expr = e("length(mail) > 3");
    after.indexes[0].keys[0].target = IndexTarget::Expr(e("lower(mail)"));
    child.foreign_keys[0].ref_table = q("accounts");
    child.foreign_keys[0].ref_columns = vec!["mail".into()];
    let to = schema(vec![after, child]);

    let mut renames = Renames::default();
    renames.tables.insert(q("accounts"), q("users"));
    renames
        .columns
        .insert((q("accounts"), "mail".into()), "email".into());
    let plan = plan_with(&from, &to, &renames);
    assert_eq!(
        statements(&plan),
        [
            "ALTER TABLE users RENAME TO accounts",
            "ALTER TABLE accounts RENAME COLUMN email TO mail",
        ]
    );
    assert!(no_pragmas(&plan));
}

#[test]
fn renamed_index_is_dropped_and_created() {
    let mut before = users();
    before.indexes.push(index("idx_email", &["email"]));
    let mut after = users();
    after.indexes.push(index("users_email", &["email"]));
    let mut renames = Renames::default();
    renames
        .indexes
        .insert((q("users"), "users_email".into()), "idx_email".into());
    let plan = plan_with(&schema(vec![before]), &schema(vec![after]), &renames);
    assert_eq!(
        statements(&plan),
        [
            "DROP INDEX idx_email",
            "CREATE INDEX users_email ON users (email)"
        ]
    );
}

#[test]
fn creates_parents_first_and_drops_children_first() {
    let mut parent = table("z_parent", vec![col("id", "integer")]);
    parent.primary_key = pk(&["id"]);
    let mut child = table("a_child", vec![col("parent_id", "integer")]);
    child
        .foreign_keys
        .push(fk(&["parent_id"], "z_parent", &["id"]));
    child.indexes.push(index("a_child_parent", &["parent_id"]));
    let both = schema(vec![parent, child]);

    let create = plan_of(&Schema::default(), &both);
    let stmts = statements(&create);
    assert!(stmts[0].starts_with("CREATE TABLE z_parent"));
    assert!(stmts[1].starts_with("CREATE TABLE a_child"));
    assert_eq!(
        stmts[2],
        "CREATE INDEX a_child_parent ON a_child (parent_id)"
    );
    assert!(no_pragmas(&create));

    let drop = plan_of(&both, &Schema::default());
    assert_eq!(
        statements(&drop),
        ["DROP TABLE a_child", "DROP TABLE z_parent"]
    );
    assert_eq!(
        hazards(&drop),
        [
            (HazardKind::DataLoss, "drops table a_child"),
            (HazardKind::DataLoss, "drops table z_parent"),
        ]
    );
    // Both go: no surviving row can reference the parent, foreign keys may stay on.
    assert!(no_pragmas(&drop));
}

#[test]
fn dropping_a_referenced_parent_switches_foreign_keys_off() {
    let mut parent = table("parent", vec![col("id", "integer")]);
    parent.primary_key = pk(&["id"]);
    let mut child = table("child", vec![col("parent_id", "integer")]);
    child.foreign_keys.push(ForeignKey {
        on_delete: ReferentialAction::Cascade,
        ..fk(&["parent_id"], "parent", &["id"])
    });
    let from = schema(vec![parent, child.clone()]);
    child.foreign_keys.clear();
    let to = schema(vec![child]);
    let plan = plan_of(&from, &to);
    assert_eq!(plan.before, [FOREIGN_KEYS_OFF]);
    assert_eq!(plan.checks, [FOREIGN_KEY_CHECK]);
    // The child loses its foreign key (a rebuild) and the parent is dropped.
    assert!(statements(&plan).contains(&"DROP TABLE parent"));
}

#[test]
fn layout_changes_the_differ_does_not_report_rebuild() {
    let from = schema(vec![users()]);
    let mut strict = users();
    strict.strict = true;
    let plan = plan_of(&from, &schema(vec![strict]));
    assert!(is_rebuild(&plan));
    assert!(plan.has_hazard(HazardKind::MayFail));

    let mut reordered = users();
    reordered.columns.swap(1, 2);
    let plan = plan_of(&from, &schema(vec![reordered]));
    assert!(is_rebuild(&plan));
    assert!(statements(&plan).contains(
        &"INSERT INTO _ferry_new_users (id, age, email) SELECT id, age, email FROM users"
    ));
}

#[test]
fn autoincrement_rebuild_keeps_the_sequence() {
    let mut before = users();
    before.primary_key.as_mut().unwrap().autoincrement = true;
    let mut after = before.clone();
    after.column_mut("email").unwrap().not_null = true;
    let plan = plan_of(&schema(vec![before]), &schema(vec![after]));
    let stmts = statements(&plan);
    assert!(stmts[0].contains("id integer PRIMARY KEY AUTOINCREMENT"));
    assert!(stmts.contains(&"DELETE FROM sqlite_sequence WHERE name = '_ferry_new_users'"));
    assert!(stmts.contains(&"INSERT INTO sqlite_sequence (name, seq) SELECT '_ferry_new_users', seq FROM sqlite_sequence WHERE name = 'users'"));
}

#[test]
fn triggers_of_a_rebuilt_table_are_recreated() {
    let mut from = schema(vec![users()]);
    from.opaque.push(ferry_core::OpaqueStatement {
        sql: "CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN SELECT 1; END;".into(),
        origin: "sqlite_schema:9".into(),
    });
    let mut t = users();
    t.column_mut("age").unwrap().not_null = true;
    let plan = plan_of(&from, &schema(vec![t]));
    assert_eq!(
        statements(&plan).last(),
        Some(&"CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN SELECT 1; END")
    );
}

#[test]
fn unsupported_objects_are_plan_errors() {
    let mut to = Schema::default();
    to.namespaces.insert("other".into());
    let changes = diff(&Schema::default(), &to, &Renames::default());
    assert!(plan(&Schema::default(), &to, &changes).is_err());

    let mut t = table("t", vec![col("a", "integer"), col("b", "integer")]);
    t.primary_key = Some(PrimaryKey {
        name: String::new(),
        columns: vec!["a".into(), "b".into()],
        autoincrement: true,
        comment: None,
    });
    let to = schema(vec![t]);
    let changes = diff(&Schema::default(), &to, &Renames::default());
    let err = plan(&Schema::default(), &to, &changes).unwrap_err();
    assert!(err.0.contains("AUTOINCREMENT"), "{err}");
}

#[test]
fn render_schema_is_one_commented_file() {
    let text = render_schema(&schema(vec![users()]));
    assert_eq!(
        text,
        "-- Schema of an SQLite database, written by ferry.\n\nCREATE TABLE users (\n  id integer,\n  email text,\n  age integer,\n  PRIMARY KEY (id)\n);\n"
    );
}

#[test]
fn constraint_order_alone_is_no_change() {
    let mut a = users();
    for cols in [["email"], ["age"]] {
        a.uniques.push(UniqueConstraint {
            name: String::new(),
            columns: cols.iter().map(|c| c.to_string()).collect(),
            nulls_not_distinct: false,
            deferrable: Deferrable::NotDeferrable,
            comment: None,
        });
    }
    let mut b = a.clone();
    b.uniques.reverse();
    assert!(plan_of(&schema(vec![a]), &schema(vec![b])).is_empty());
}

#[test]
fn foreign_key_cycles_are_created_in_name_order() {
    let mut a = table("a", vec![col("id", "integer"), col("b_id", "integer")]);
    a.foreign_keys.push(fk(&["b_id"], "b", &["id"]));
    let mut b = table("b", vec![col("id", "integer"), col("a_id", "integer")]);
    b.foreign_keys.push(fk(&["a_id"], "a", &["id"]));
    let mut c = table("c", vec![col("a_id", "integer")]);
    c.foreign_keys.push(fk(&["a_id"], "a", &["id"]));
    let plan = plan_of(&Schema::default(), &schema(vec![c, b, a]));
    let names: Vec<&str> = statements(&plan)
        .iter()
        .map(|s| s.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
}
