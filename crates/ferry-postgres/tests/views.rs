//! Views and materialized views against a real server: load(S) == inspect(apply(S)) over a
//! corpus of realistic views, pull round trips, and migrations that must move views out of
//! the way of table changes.

mod common;

use common::{assert_same, load, plan, TestDb};
use ferry_core::{diff, Database, Dialect, HazardKind, Plan, Renames};
use ferry_postgres::POSTGRES;

const TABLES: &str = r#"
CREATE SCHEMA app;
CREATE TABLE users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email varchar(100),
  status varchar(10) DEFAULT 'active',
  price numeric(10,2),
  created_at timestamptz DEFAULT now()
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  user_id int REFERENCES users,
  total numeric(10,2),
  created_at timestamptz
);
CREATE TABLE app.events (id bigint PRIMARY KEY, kind text, at timestamptz);
"#;

/// Views in the shapes applications write: joins, filters, grouping, aliases, casts,
/// functions, `*`, views over views, options, comments, materialized views with indexes.
const VIEWS: &str = r#"
CREATE VIEW active_users AS SELECT id, name, email FROM users WHERE status = 'active';
CREATE VIEW all_users AS SELECT * FROM users;
CREATE VIEW user_totals AS
  SELECT u.id, u.name, count(o.id) AS order_count, sum(o.total) AS spent
  FROM users u LEFT OUTER JOIN orders o ON o.user_id = u.id
  GROUP BY u.id, u.name;
CREATE VIEW big_spenders AS SELECT id, name FROM user_totals WHERE spent > 1000 ORDER BY name;
CREATE VIEW shaped (user_id, label) AS SELECT id, upper(name) FROM users;
CREATE VIEW casts AS
  SELECT id, email::text AS mail, created_at::date AS day,
         CASE WHEN price > 100 THEN 'big' ELSE 'small' END AS size,
         coalesce(name, 'none') AS n, now() - created_at AS age
  FROM users
  WHERE name LIKE 'a%' OR status IN ('x', 'y') OR price BETWEEN 1 AND 2;
CREATE VIEW recent AS SELECT id FROM users WHERE created_at > now() - interval '1 day';
CREATE VIEW with_sub AS
  SELECT id FROM users WHERE id IN (SELECT user_id FROM orders) AND
    EXISTS (SELECT 1 FROM orders o2 WHERE o2.user_id = users.id);
CREATE VIEW unioned AS SELECT id FROM users UNION ALL SELECT id FROM orders;
CREATE VIEW ranked AS
  SELECT id, row_number() OVER (PARTITION BY status ORDER BY created_at DESC) AS rn FROM users;
CREATE VIEW barrier WITH (security_barrier) AS SELECT id, name FROM users WITH LOCAL CHECK OPTION;
CREATE VIEW app.kinds AS SELECT DISTINCT kind FROM app.events;
CREATE VIEW joined AS
  SELECT u.name, o.total FROM public.users u INNER JOIN orders o ON o.user_id = u.id
  WHERE o.total >= 10;
COMMENT ON VIEW active_users IS 'users that can log in';
CREATE MATERIALIZED VIEW order_stats AS
  SELECT user_id, count(*) AS n, max(created_at) FROM orders GROUP BY user_id WITH NO DATA;
CREATE UNIQUE INDEX order_stats_user ON order_stats (user_id);
CREATE INDEX ON order_stats (n DESC);
COMMENT ON MATERIALIZED VIEW order_stats IS 'per user';
"#;

fn schema(views: &str) -> String {
    format!("{TABLES}\n{views}")
}

#[test]
fn loaded_views_equal_inspected_ones() {
    let Some(db) = TestDb::new() else { return };
    let sql = schema(VIEWS);
    db.execute(&sql);
    let loaded = load(&sql);
    assert!(loaded.opaque.is_empty(), "{:#?}", loaded.opaque);
    assert_eq!(loaded.views.len(), 14);
    let inspected = db.inspect();
    assert_same(&loaded, &inspected, "views");
    // Nothing to do in either direction.
    assert!(diff(&inspected, &loaded, &Renames::default()).is_empty());
    // References were found on both sides.
    let big = &inspected.views[&ferry_core::QualifiedName::new("public", "big_spenders")];
    assert!(big
        .references
        .contains(&ferry_core::QualifiedName::new("public", "user_totals")));
}

#[test]
fn pulled_views_load_back_into_an_empty_database() {
    let Some(db) = TestDb::new() else { return };
    db.execute(&schema(VIEWS));
    let inspected = db.inspect();
    let files = POSTGRES.render_schema(&inspected);
    let text: String = files.iter().map(|(_, t)| t.as_str()).collect();
    // Views come after the tables and after the views they read.
    let pos = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{text}"))
    };
    assert!(pos("CREATE TABLE public.orders") < pos("VIEW public.user_totals"));
    assert!(pos("VIEW public.user_totals") < pos("VIEW public.big_spenders"));
    let second = TestDb::new().expect("a second database");
    second.execute(&text);
    let again = second.inspect();
    assert_same(&inspected, &again, "pulled and pushed again");
    assert_same(&load(&text), &again, "pulled file loads as it inspects");
}

/// A at `a`, plan to `b`, apply, check nothing is left, return the plan and the database.
fn migrate(a: &str, b: &str, renames: Renames, rows: &str) -> Option<(Plan, TestDb)> {
    let db = TestDb::new()?;
    db.execute(a);
    db.execute(rows);
    let from = db.inspect();
    let to = load(b);
    let mut renames = renames;
    renames.add_hints(&from, &to);
    let changes = diff(&from, &to, &renames);
    let plan = POSTGRES.plan(&from, &to, &changes).expect("plan");
    let sql = plan.to_sql();
    if let Err(e) = db.connect().apply(&plan) {
        panic!("apply failed: {e}\nplan:\n{sql}");
    }
    let after = db.inspect();
    assert_same(&to, &after, &format!("after\n{sql}"));
    assert!(
        plan_of(&after, &to).is_empty(),
        "a second plan is not empty after\n{sql}"
    );
    Some((plan, db))
}

/// The first column of every row, as text.
fn query_strings(db: &TestDb, sql: &str) -> Vec<String> {
    let mut conn = db.connect();
    let rows = conn.client().query(sql, &[]).expect("query");
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

fn plan_of(from: &ferry_core::Schema, to: &ferry_core::Schema) -> Plan {
    plan(from, to)
}

fn statements(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .flat_map(|s| s.statements.iter().cloned())
        .collect()
}

fn position(stmts: &[String], prefix: &str) -> usize {
    stmts
        .iter()
        .position(|s| s.starts_with(prefix))
        .unwrap_or_else(|| panic!("no statement starting with {prefix} in {stmts:#?}"))
}

#[test]
fn a_column_type_change_under_views_over_views_keeps_the_rows() {
    let a = r#"
    CREATE TABLE items (id int PRIMARY KEY, qty int, note text);
    CREATE VIEW item_qty AS SELECT id, qty FROM items;
    CREATE VIEW big_items AS SELECT id FROM item_qty WHERE qty > 10;
    CREATE VIEW notes AS SELECT note FROM items;
    CREATE TABLE other (id int);
    CREATE VIEW other_ids AS SELECT id FROM other;
    "#;
    let b = a.replace("qty int", "qty bigint");
    let Some((plan, db)) = migrate(
        a,
        &b,
        Renames::default(),
        "INSERT INTO items VALUES (1, 20, 'x'), (2, 5, 'y');",
    ) else {
        return;
    };
    let stmts = statements(&plan);
    let drop_big = position(&stmts, "DROP VIEW public.big_items");
    let drop_qty = position(&stmts, "DROP VIEW public.item_qty");
    let alter = position(&stmts, "ALTER TABLE public.items");
    let create_qty = position(&stmts, "CREATE VIEW public.item_qty");
    let create_big = position(&stmts, "CREATE VIEW public.big_items");
    assert!(
        drop_big < drop_qty && drop_qty < alter && alter < create_qty && create_qty < create_big
    );
    // Views that do not read the changed table are left alone.
    assert!(!stmts.iter().any(|s| s.contains("other_ids")), "{stmts:#?}");
    // `notes` reads the table too: a harmless re-creation, since references are per table.
    let rows = query_strings(&db, "SELECT id::text FROM big_items ORDER BY id");
    assert_eq!(rows, ["1"]);
}

#[test]
fn renaming_a_column_under_a_view() {
    let a = r#"
    CREATE TABLE people (id int PRIMARY KEY, name text);
    CREATE VIEW names AS SELECT id, name FROM people;
    "#;
    let b = r#"
    CREATE TABLE people (id int PRIMARY KEY, full_name text);
    CREATE VIEW names AS SELECT id, full_name FROM people;
    "#;
    let mut renames = Renames::default();
    renames.columns.insert(
        (
            ferry_core::QualifiedName::new("public", "people"),
            "full_name".into(),
        ),
        "name".into(),
    );
    let Some((_, db)) = migrate(a, b, renames, "INSERT INTO people VALUES (1, 'Ann');") else {
        return;
    };
    assert_eq!(query_strings(&db, "SELECT full_name FROM names"), ["Ann"]);
}

#[test]
fn views_are_dropped_changed_and_replaced() {
    let a = r#"
    CREATE TABLE t (id int PRIMARY KEY, a int, b int);
    CREATE VIEW gone AS SELECT id FROM t;
    CREATE VIEW grows AS SELECT id, a FROM t;
    CREATE VIEW changes AS SELECT id, a FROM t;
    CREATE VIEW reads_changes AS SELECT id FROM changes;
    "#;
    let b = r#"
    CREATE TABLE t (id int PRIMARY KEY, a int, b int);
    CREATE VIEW grows AS SELECT id, a, b FROM t;
    CREATE VIEW changes AS SELECT id, b AS a FROM t;
    CREATE VIEW reads_changes AS SELECT id FROM changes;
    COMMENT ON VIEW grows IS 'more';
    "#;
    let Some((plan, _)) = migrate(a, b, Renames::default(), "") else {
        return;
    };
    let stmts = statements(&plan);
    position(&stmts, "DROP VIEW public.gone");
    position(&stmts, "CREATE OR REPLACE VIEW public.grows");
    // `changes` changes an existing output's expression: dropped and created, with the view
    // that reads it.
    let d1 = position(&stmts, "DROP VIEW public.reads_changes");
    let d2 = position(&stmts, "DROP VIEW public.changes");
    let c1 = position(&stmts, "CREATE VIEW public.changes");
    let c2 = position(&stmts, "CREATE VIEW public.reads_changes");
    assert!(d1 < d2 && d2 < c1 && c1 < c2);
}

#[test]
fn a_materialized_view_is_rebuilt_with_its_indexes() {
    let a = r#"
    CREATE TABLE t (id int PRIMARY KEY, v int);
    CREATE MATERIALIZED VIEW mv AS SELECT id, v FROM t;
    CREATE UNIQUE INDEX mv_id ON mv (id);
    "#;
    let b = r#"
    CREATE TABLE t (id int PRIMARY KEY, v bigint);
    CREATE MATERIALIZED VIEW mv AS SELECT id, v FROM t;
    CREATE UNIQUE INDEX mv_id ON mv (id);
    "#;
    let Some((plan, db)) = migrate(a, b, Renames::default(), "INSERT INTO t VALUES (1, 2);") else {
        return;
    };
    assert!(plan.hazards().any(|h| h.kind == HazardKind::TableRewrite
        && h.message
            .contains("rebuilds the materialized view public.mv")));
    assert_eq!(query_strings(&db, "SELECT v::text FROM mv"), ["2"]);
    // Dropping it.
    let c = r#"CREATE TABLE t (id int PRIMARY KEY, v bigint);"#;
    let from = db.inspect();
    let to = load(c);
    let p = plan_of(&from, &to);
    db.connect().apply(&p).expect("apply");
    assert!(db.inspect().views.is_empty());
}

/// Inspection reads what a view depends on from `pg_depend`, including what no scan of its
/// text sees: a function called through an operator.
#[test]
fn view_dependencies_come_from_pg_depend() {
    let Some(db) = TestDb::new() else { return };
    db.execute(
        "CREATE TABLE prices (id int PRIMARY KEY, amount numeric NOT NULL);
         CREATE FUNCTION plus_tax(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
           AS $$ SELECT $1 + $2 * 1.2 $$;
         CREATE OPERATOR +% (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = plus_tax);
         CREATE VIEW taxed AS SELECT id, amount +% 1 AS total FROM ONLY prices;",
    );
    let inspected = db.inspect();
    let view = &inspected.views[&ferry_core::QualifiedName::new("public", "taxed")];
    let names = |set: &std::collections::BTreeSet<ferry_core::QualifiedName>| {
        set.iter().map(|n| n.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(&view.calls), ["public.plus_tax"]);
    assert_eq!(names(&view.references), ["public.prices"]);
}
