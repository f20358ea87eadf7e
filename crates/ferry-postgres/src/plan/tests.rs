//! Planner tests built from model values: ordering, rendering and hazards.

use ferry_core::*;

use super::*;

fn qn(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(schema, name)
}

fn pg_expr(sql: &str) -> Expr {
    ferry_sql::expr(sql, DialectKind::Postgres)
}

fn col(name: &str, ty: &str) -> Column {
    Column::new(name, ty)
}

fn not_null(name: &str, ty: &str) -> Column {
    let mut c = Column::new(name, ty);
    c.not_null = true;
    c
}

fn table(name: &str, columns: Vec<Column>) -> Table {
    let mut t = Table::new(qn("public", name));
    t.columns = columns;
    t
}

fn with_pk(mut t: Table, cols: &[&str]) -> Table {
    t.primary_key = Some(PrimaryKey {
        name: format!("{}_pkey", t.name.name),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        autoincrement: false,
        comment: None,
    });
    t
}

fn fk(name: &str, cols: &[&str], ref_table: &str, ref_cols: &[&str]) -> ForeignKey {
    ForeignKey {
        name: name.to_string(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        ref_table: qn("public", ref_table),
        ref_columns: ref_cols.iter().map(|c| c.to_string()).collect(),
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        match_type: MatchType::Simple,
        deferrable: Deferrable::NotDeferrable,
        comment: None,
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::default();
    for t in tables {
        s.tables.insert(t.name.clone(), t);
    }
    s
}

fn plan_between(from: &Schema, to: &Schema) -> Plan {
    let changes = diff(from, to, &Renames::default());
    match plan(from, to, &changes) {
        Ok(p) => p,
        Err(e) => panic!("plan failed: {e}"),
    }
}

fn statements(p: &Plan) -> Vec<String> {
    p.steps.iter().flat_map(|s| s.statements.clone()).collect()
}

fn position(stmts: &[String], needle: &str) -> usize {
    match stmts.iter().position(|s| s.contains(needle)) {
        Some(i) => i,
        None => panic!("no statement contains {needle:?}:\n{}", stmts.join("\n")),
    }
}

fn users_and_orders() -> Schema {
    let users = with_pk(
        table(
            "users",
            vec![not_null("id", "integer"), col("email", "text")],
        ),
        &["id"],
    );
    let mut orders = with_pk(
        table(
            "a_orders",
            vec![not_null("id", "integer"), col("user_id", "integer")],
        ),
        &["id"],
    );
    orders
        .foreign_keys
        .push(fk("a_orders_user_id_fkey", &["user_id"], "users", &["id"]));
    schema(vec![users, orders])
}

#[test]
fn creates_referenced_tables_first_with_inline_foreign_keys() {
    let to = users_and_orders();
    let p = plan_between(&Schema::default(), &to);
    let s = statements(&p);
    assert!(
        position(&s, "CREATE TABLE public.users") < position(&s, "CREATE TABLE public.a_orders")
    );
    assert!(
        s.iter().all(|x| !x.starts_with("ALTER TABLE")),
        "foreign key is inline: {s:#?}"
    );
    assert_eq!(
        s[position(&s, "CREATE TABLE public.a_orders")],
        "CREATE TABLE public.a_orders (\n  id integer NOT NULL,\n  user_id integer,\n  \
         CONSTRAINT a_orders_pkey PRIMARY KEY (id),\n  \
         CONSTRAINT a_orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id)\n)"
    );
    assert!(p.hazards().next().is_none(), "creating is harmless");
}

#[test]
fn foreign_key_cycles_are_added_after_the_tables() {
    let mut a = with_pk(
        table("a", vec![not_null("id", "integer"), col("b_id", "integer")]),
        &["id"],
    );
    let mut b = with_pk(
        table("b", vec![not_null("id", "integer"), col("a_id", "integer")]),
        &["id"],
    );
    a.foreign_keys
        .push(fk("a_b_id_fkey", &["b_id"], "b", &["id"]));
    b.foreign_keys
        .push(fk("b_a_id_fkey", &["a_id"], "a", &["id"]));
    let to = schema(vec![a, b]);
    let s = statements(&plan_between(&Schema::default(), &to));
    let deferred = position(&s, "ADD CONSTRAINT");
    assert!(deferred > position(&s, "CREATE TABLE public.a"));
    assert!(deferred > position(&s, "CREATE TABLE public.b"));
    assert_eq!(s.iter().filter(|x| x.contains("FOREIGN KEY")).count(), 2);
}

#[test]
fn drops_referencing_tables_first() {
    let from = users_and_orders();
    let p = plan_between(&from, &Schema::default());
    let s = statements(&p);
    assert_eq!(
        s,
        vec!["DROP TABLE public.a_orders", "DROP TABLE public.users"]
    );
    let messages: Vec<String> = p.hazards().map(|h| h.to_string()).collect();
    assert_eq!(
        messages,
        vec![
            "data loss: drops table public.a_orders",
            "data loss: drops table public.users"
        ]
    );
}

#[test]
fn a_dropped_table_goes_first_when_its_names_are_taken_again() {
    // users' key is named accounts_pkey; the new table accounts takes that name again.
    let mut users = with_pk(
        table("users", vec![not_null("id", "integer"), col("n", "text")]),
        &["id"],
    );
    if let Some(pk) = &mut users.primary_key {
        pk.name = "accounts_pkey".into();
    }
    // A dropped table referencing users goes with it; an unrelated one stays last.
    let mut logins = table("logins", vec![col("user_id", "integer")]);
    logins
        .foreign_keys
        .push(fk("logins_user_id_fkey", &["user_id"], "users", &["id"]));
    let unrelated = table("unrelated", vec![col("x", "integer")]);
    let from = schema(vec![users, logins, unrelated]);
    let accounts = with_pk(
        table(
            "accounts",
            vec![not_null("id", "integer"), col("n", "text")],
        ),
        &["id"],
    );
    let to = schema(vec![accounts]);
    let p = plan_between(&from, &to);
    assert_eq!(
        statements(&p),
        vec![
            "DROP TABLE public.logins",
            "DROP TABLE public.users",
            "CREATE TABLE public.accounts (\n  id integer NOT NULL,\n  n text,\n  \
             CONSTRAINT accounts_pkey PRIMARY KEY (id)\n)",
            "DROP TABLE public.unrelated",
        ]
    );
    let dropped = p
        .hazards()
        .filter(|h| h.kind == HazardKind::DataLoss)
        .count();
    assert_eq!(dropped, 3, "every drop keeps its hazard");

    // An index name counts too: the new index takes the name of the dropped table's.
    let mut old = table("old", vec![col("a", "integer")]);
    old.indexes.push(Index {
        name: "t_a_idx".into(),
        unique: false,
        method: "btree".into(),
        keys: vec![IndexKey::column("a")],
        include: vec![],
        predicate: None,
        nulls_not_distinct: false,
        ..Default::default()
    });
    let mut t = table("t", vec![col("a", "integer")]);
    t.indexes = old.indexes.clone();
    let from = schema(vec![old, table("t", vec![col("a", "integer")])]);
    let to = schema(vec![t]);
    let s = statements(&plan_between(&from, &to));
    assert!(
        position(&s, "DROP TABLE public.old") < position(&s, "CREATE INDEX t_a_idx"),
        "{s:#?}"
    );
}

#[test]
fn serial_columns_render_as_serial_without_their_sequence() {
    let mut id = not_null("id", "integer");
    id.default = Some(pg_expr("nextval('users_id_seq'::regclass)"));
    let users = with_pk(table("users", vec![id]), &["id"]);
    let mut to = schema(vec![users]);
    let seq = Sequence {
        name: qn("public", "users_id_seq"),
        data_type: Some("integer".into()),
        options: SequenceOptions::default(),
        owned_by: Some((qn("public", "users"), "id".into())),
        comment: None,
        grants: Default::default(),
    };
    to.sequences.insert(seq.name.clone(), seq.clone());
    let s = statements(&plan_between(&Schema::default(), &to));
    assert_eq!(
        s,
        vec!["CREATE TABLE public.users (\n  id serial NOT NULL,\n  CONSTRAINT users_pkey PRIMARY KEY (id)\n)"]
    );

    // A sequence that is not exactly serial's is created and owned explicitly.
    let mut custom = seq;
    custom.options.increment = Some(10);
    to.sequences.insert(custom.name.clone(), custom);
    let s = statements(&plan_between(&Schema::default(), &to));
    assert!(
        position(
            &s,
            "CREATE SEQUENCE public.users_id_seq AS integer INCREMENT BY 10"
        ) < position(&s, "CREATE TABLE")
    );
    assert!(s[position(&s, "CREATE TABLE")]
        .contains("id integer DEFAULT nextval('users_id_seq'::regclass) NOT NULL"));
    assert!(
        position(
            &s,
            "ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id"
        ) > position(&s, "CREATE TABLE")
    );
}

#[test]
fn phases_are_ordered() {
    let mut from = users_and_orders();
    from.namespaces.insert("old".into());
    let mut to = from.clone();
    to.namespaces.remove("old");
    to.namespaces.insert("app".into());
    to.enums.insert(
        qn("app", "mood"),
        EnumType {
            name: qn("app", "mood"),
            values: vec!["a".into()],
            comment: None,
            grants: ferry_core::type_default_grants(),
        },
    );
    let mut t = table("things", vec![col("m", "app.mood")]);
    t.name = qn("app", "things");
    to.tables.insert(t.name.clone(), t);
    // Drop the foreign key and a column, add an index.
    let orders = to
        .tables
        .get_mut(&qn("public", "a_orders"))
        .expect("orders");
    orders.foreign_keys.clear();
    let users = to.tables.get_mut(&qn("public", "users")).expect("users");
    users.columns.retain(|c| c.name != "email");
    users.indexes.push(Index {
        name: "users_id_idx".into(),
        unique: false,
        method: "btree".into(),
        keys: vec![IndexKey::column("id")],
        include: vec![],
        predicate: None,
        nulls_not_distinct: false,
        ..Default::default()
    });
    let p = plan_between(&from, &to);
    let s = statements(&p);
    let order = [
        "CREATE SCHEMA app",
        "CREATE TYPE app.mood AS ENUM ('a')",
        "ALTER TABLE public.a_orders DROP CONSTRAINT a_orders_user_id_fkey",
        "CREATE TABLE app.things",
        "ALTER TABLE public.users DROP COLUMN email",
        "CREATE INDEX users_id_idx ON public.users (id)",
        "DROP SCHEMA old",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(&s, n)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{s:#?}");
    assert!(p
        .hazards()
        .any(|h| h.kind == HazardKind::DataLoss && h.message == "drops column public.users.email"));
    assert!(p
        .hazards()
        .any(|h| h.kind == HazardKind::LongLock && h.message.contains("users_id_idx")));
}

fn alter(from_col: Column, to_col: Column) -> Plan {
    let from = schema(vec![table("t", vec![from_col])]);
    let to = schema(vec![table("t", vec![to_col])]);
    plan_between(&from, &to)
}

fn kinds(p: &Plan) -> Vec<HazardKind> {
    let mut k: Vec<HazardKind> = p.hazards().map(|h| h.kind).collect();
    k.sort();
    k.dedup();
    k
}

#[test]
fn type_changes_and_their_hazards() {
    let p = alter(
        col("c", "character varying(10)"),
        col("c", "character varying(20)"),
    );
    assert_eq!(
        statements(&p),
        vec!["ALTER TABLE public.t ALTER COLUMN c TYPE character varying(20) USING c::character varying(20)"]
    );
    assert!(kinds(&p).is_empty());
    assert!(kinds(&alter(col("c", "character varying(10)"), col("c", "text"))).is_empty());
    assert!(kinds(&alter(col("c", "numeric(10,2)"), col("c", "numeric(12,2)"))).is_empty());
    assert_eq!(
        kinds(&alter(col("c", "integer"), col("c", "bigint"))),
        vec![HazardKind::TableRewrite]
    );
    assert_eq!(
        kinds(&alter(col("c", "bigint"), col("c", "integer"))),
        vec![
            HazardKind::DataLoss,
            HazardKind::TableRewrite,
            HazardKind::MayFail
        ]
    );
    assert_eq!(
        kinds(&alter(
            col("c", "character varying(20)"),
            col("c", "character varying(10)")
        )),
        vec![
            HazardKind::DataLoss,
            HazardKind::TableRewrite,
            HazardKind::MayFail
        ]
    );
    assert_eq!(
        kinds(&alter(col("c", "text"), col("c", "integer"))),
        vec![HazardKind::TableRewrite, HazardKind::MayFail]
    );
}

#[test]
fn defaults_survive_type_changes() {
    let mut a = col("c", "text");
    a.default = Some(pg_expr("'1'::text"));
    let mut b = col("c", "integer");
    b.default = Some(pg_expr("1"));
    assert_eq!(
        statements(&alter(a, b)),
        vec![
            "ALTER TABLE public.t ALTER COLUMN c DROP DEFAULT",
            "ALTER TABLE public.t ALTER COLUMN c TYPE integer USING c::integer",
            "ALTER TABLE public.t ALTER COLUMN c SET DEFAULT 1",
        ]
    );
}

#[test]
fn not_null_default_identity_and_generated_changes() {
    let p = alter(col("c", "integer"), not_null("c", "integer"));
    assert_eq!(
        statements(&p),
        vec!["ALTER TABLE public.t ALTER COLUMN c SET NOT NULL"]
    );
    assert_eq!(
        p.hazards().next().map(|h| h.message.as_str()),
        Some("sets NOT NULL on public.t.c: fails if any row holds NULL")
    );
    assert_eq!(kinds(&p), vec![HazardKind::MayFail]);

    let mut id = not_null("c", "integer");
    id.identity = Some(Identity {
        always: true,
        options: SequenceOptions {
            start: Some(10),
            ..Default::default()
        },
    });
    assert_eq!(
        statements(&alter(col("c", "integer"), id.clone())),
        vec![
            "ALTER TABLE public.t ALTER COLUMN c SET NOT NULL",
            "ALTER TABLE public.t ALTER COLUMN c ADD GENERATED ALWAYS AS IDENTITY (START WITH 10)",
        ]
    );
    let mut by_default = id.clone();
    if let Some(i) = &mut by_default.identity {
        i.always = false;
        i.options.start = None;
        i.options.increment = Some(5);
    }
    assert_eq!(
        statements(&alter(id.clone(), by_default)),
        vec!["ALTER TABLE public.t ALTER COLUMN c SET GENERATED BY DEFAULT SET INCREMENT BY 5 SET START WITH 1"]
    );
    assert_eq!(
        statements(&alter(id, not_null("c", "integer"))),
        vec!["ALTER TABLE public.t ALTER COLUMN c DROP IDENTITY"]
    );

    let mut g1 = col("c", "integer");
    g1.generated = Some(Generated {
        expr: pg_expr("1 + 1"),
        stored: true,
    });
    let mut g2 = g1.clone();
    g2.generated = Some(Generated {
        expr: pg_expr("2 + 2"),
        stored: true,
    });
    assert_eq!(
        statements(&alter(g1.clone(), g2)),
        vec![
            "ALTER TABLE public.t DROP COLUMN c",
            "ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS (2 + 2) STORED",
        ]
    );
    assert_eq!(
        statements(&alter(g1, col("c", "integer"))),
        vec!["ALTER TABLE public.t ALTER COLUMN c DROP EXPRESSION"]
    );
}

#[test]
fn collation_changes_keep_the_type() {
    let mut c = col("c", "text");
    c.collation = Some("C".into());
    assert_eq!(
        statements(&alter(col("c", "text"), c.clone())),
        vec!["ALTER TABLE public.t ALTER COLUMN c TYPE text COLLATE \"C\""]
    );
    // Without COLLATE the column takes its type's collation (a domain's own, for a domain).
    assert_eq!(
        statements(&alter(c, col("c", "text"))),
        vec!["ALTER TABLE public.t ALTER COLUMN c TYPE text"]
    );
}

#[test]
fn type_changes_keep_the_collation() {
    // ALTER COLUMN ... TYPE without COLLATE would reset the column to the default.
    let mut short = col("c", "character varying(10)");
    short.collation = Some("C".into());
    let mut long = col("c", "character varying(20)");
    long.collation = Some("C".into());
    assert_eq!(
        statements(&alter(short, long)),
        vec![
            "ALTER TABLE public.t ALTER COLUMN c TYPE character varying(20) COLLATE \"C\" \
             USING c::character varying(20)"
        ]
    );
    // A column with the default collation needs none.
    assert_eq!(
        statements(&alter(col("c", "character varying(10)"), col("c", "text"))),
        vec!["ALTER TABLE public.t ALTER COLUMN c TYPE text USING c::text"]
    );
}

fn with_enum(values: &[&str]) -> Schema {
    let mut s = schema(vec![table("t", vec![col("m", "public.mood")])]);
    if let Some(t) = s.tables.get_mut(&qn("public", "t")) {
        t.columns[0].default = Some(pg_expr("'a'::mood"));
    }
    s.enums.insert(
        qn("public", "mood"),
        EnumType {
            name: qn("public", "mood"),
            values: values.iter().map(|v| v.to_string()).collect(),
            comment: None,
            grants: ferry_core::type_default_grants(),
        },
    );
    s
}

#[test]
fn enum_values_are_added_in_place() {
    let p = plan_between(
        &with_enum(&["a", "c"]),
        &with_enum(&["z", "a", "b", "c", "d"]),
    );
    assert_eq!(
        statements(&p),
        vec![
            "ALTER TYPE public.mood ADD VALUE 'z' BEFORE 'a'",
            "ALTER TYPE public.mood ADD VALUE 'b' AFTER 'a'",
            "ALTER TYPE public.mood ADD VALUE 'd' AFTER 'c'",
        ]
    );
    assert!(p.hazards().next().is_none());
}

#[test]
fn enum_value_removal_rebuilds_the_type() {
    let p = plan_between(&with_enum(&["a", "b", "c"]), &with_enum(&["a", "c"]));
    assert_eq!(
        statements(&p),
        vec![
            "ALTER TYPE public.mood RENAME TO ferry_old_mood_enum",
            "CREATE TYPE public.mood AS ENUM ('a', 'c')",
            "ALTER TABLE public.t ALTER COLUMN m DROP DEFAULT",
            "ALTER TABLE public.t ALTER COLUMN m TYPE public.mood USING m::text::public.mood",
            "ALTER TABLE public.t ALTER COLUMN m SET DEFAULT 'a'::mood",
            "DROP TYPE public.ferry_old_mood_enum",
        ]
    );
    assert!(p.hazards().any(|h| h.kind == HazardKind::DataLoss
        && h.message.contains("'b'")
        && h.message.contains("public.mood")));
}

#[test]
fn dropping_a_referenced_key_rebuilds_its_foreign_keys() {
    let from = users_and_orders();
    let mut to = from.clone();
    if let Some(users) = to.tables.get_mut(&qn("public", "users")) {
        // The key moves from the primary key to a unique constraint on the same column.
        users.primary_key = None;
        users.uniques.push(UniqueConstraint {
            name: "users_id_key".into(),
            columns: vec!["id".into()],
            nulls_not_distinct: false,
            deferrable: Deferrable::NotDeferrable,
            comment: None,
        });
    }
    let s = statements(&plan_between(&from, &to));
    assert_eq!(
        s,
        vec![
            "ALTER TABLE public.a_orders DROP CONSTRAINT a_orders_user_id_fkey",
            "ALTER TABLE public.users DROP CONSTRAINT users_pkey",
            "ALTER TABLE public.users ADD CONSTRAINT users_id_key UNIQUE (id)",
            "ALTER TABLE public.a_orders ADD CONSTRAINT a_orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id)",
        ]
    );
}

#[test]
fn a_renamed_key_is_renamed_in_place() {
    let from = users_and_orders();
    let mut to = from.clone();
    if let Some(pk) = to
        .tables
        .get_mut(&qn("public", "users"))
        .and_then(|t| t.primary_key.as_mut())
    {
        pk.name = "users_new_pkey".into();
    }
    assert_eq!(
        statements(&plan_between(&from, &to)),
        vec!["ALTER TABLE public.users RENAME CONSTRAINT users_pkey TO users_new_pkey"]
    );
}

#[test]
fn renames_use_old_names_before_and_new_names_after() {
    let from = schema(vec![table(
        "accounts",
        vec![col("name", "text"), col("age", "integer")],
    )]);
    let mut target = table(
        "users",
        vec![col("full_name", "text"), col("age", "bigint")],
    );
    target.comment = Some("renamed".into());
    let to = schema(vec![target]);
    let mut renames = Renames::default();
    renames
        .tables
        .insert(qn("public", "users"), qn("public", "accounts"));
    renames
        .columns
        .insert((qn("public", "users"), "full_name".into()), "name".into());
    let changes = diff(&from, &to, &renames);
    let p = match plan(&from, &to, &changes) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        statements(&p),
        vec![
            "ALTER TABLE public.accounts RENAME TO users",
            "ALTER TABLE public.users RENAME COLUMN name TO full_name",
            "ALTER TABLE public.users ALTER COLUMN age TYPE bigint USING age::bigint",
            "COMMENT ON TABLE public.users IS 'renamed'",
        ]
    );
}

#[test]
fn swapped_column_names_go_through_temporary_names() {
    let from = schema(vec![table("t", vec![col("a", "text"), col("b", "text")])]);
    let to = schema(vec![table("t", vec![col("b", "text"), col("a", "text")])]);
    let mut renames = Renames::default();
    renames
        .columns
        .insert((qn("public", "t"), "b".into()), "a".into());
    renames
        .columns
        .insert((qn("public", "t"), "a".into()), "b".into());
    let changes = diff(&from, &to, &renames);
    let s = match plan(&from, &to, &changes) {
        Ok(p) => statements(&p),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(s.len(), 4, "{s:#?}");
    assert!(s[0].contains("TO ferry_tmp_0") && s[1].contains("TO ferry_tmp_1"));
}

#[test]
fn identifiers_are_quoted_only_when_needed() {
    let mut t = Table::new(qn("My Schema", "order"));
    t.columns = vec![
        col("select", "text"),
        col("Name", "public.\"Mood\""),
        col("plain", "text"),
    ];
    t.comment = Some("it's".into());
    let mut to = schema(vec![t]);
    to.namespaces.insert("My Schema".into());
    let s = statements(&plan_between(&Schema::default(), &to));
    assert_eq!(
        s,
        vec![
            "CREATE SCHEMA \"My Schema\"",
            "CREATE TABLE \"My Schema\".\"order\" (\n  \"select\" text,\n  \"Name\" public.\"Mood\",\n  plain text\n)",
            "COMMENT ON TABLE \"My Schema\".\"order\" IS 'it''s'",
        ]
    );
}

#[test]
fn indexes_render_every_option() {
    let idx = Index {
        name: "t_idx".into(),
        unique: true,
        method: "btree".into(),
        keys: vec![
            IndexKey {
                target: IndexTarget::Expr(pg_expr("lower(a)")),
                collation: Some("C".into()),
                opclass: Some("text_pattern_ops".into()),
                descending: true,
                nulls_first: Some(false),
            },
            IndexKey::column("b"),
        ],
        include: vec!["c".into()],
        predicate: Some(pg_expr("b > 0")),
        nulls_not_distinct: true,
        ..Default::default()
    };
    assert_eq!(
        create_index_sql(&qn("public", "t"), &idx),
        "CREATE UNIQUE INDEX t_idx ON public.t ((lower(a)) COLLATE \"C\" text_pattern_ops DESC NULLS LAST, b) \
         INCLUDE (c) NULLS NOT DISTINCT WHERE b > 0"
    );
    let gin = Index {
        method: "gin".into(),
        unique: false,
        keys: vec![IndexKey::column("data")],
        include: vec![],
        predicate: None,
        nulls_not_distinct: false,
        ..idx
    };
    assert_eq!(
        create_index_sql(&qn("public", "t"), &gin),
        "CREATE INDEX t_idx ON public.t USING gin (data)"
    );
    assert_eq!(parenthesized("(a + 1)"), "(a + 1)");
    assert_eq!(parenthesized("(a) + (b)"), "((a) + (b))");
    assert_eq!(parenthesized("lower(a)"), "(lower(a))");
}

#[test]
fn sequences_are_created_altered_and_dropped_in_their_phases() {
    let seq = |inc: Option<i64>, owner: Option<(QualifiedName, String)>| Sequence {
        name: qn("public", "s"),
        data_type: None,
        options: SequenceOptions {
            increment: inc,
            ..Default::default()
        },
        owned_by: owner,
        comment: None,
        grants: Default::default(),
    };
    let base = schema(vec![table("t", vec![col("c", "bigint")])]);
    let mut from = base.clone();
    from.sequences.insert(qn("public", "s"), seq(None, None));
    let mut to = base.clone();
    to.sequences.insert(
        qn("public", "s"),
        seq(Some(-1), Some((qn("public", "t"), "c".into()))),
    );
    assert_eq!(
        statements(&plan_between(&from, &to)),
        vec![
            "ALTER SEQUENCE public.s INCREMENT BY -1 NO MINVALUE NO MAXVALUE START WITH -1 RESTART",
            "ALTER SEQUENCE public.s OWNED BY public.t.c",
        ]
    );
    // A sequence owned by a dropped table goes with it.
    let mut gone = Schema::default();
    gone.namespaces.clear();
    let p = plan_between(&to, &gone);
    assert_eq!(statements(&p), vec!["DROP TABLE public.t"]);
    // Otherwise it is dropped after the tables.
    let p = plan_between(&from, &Schema::default());
    assert_eq!(
        statements(&p),
        vec!["DROP TABLE public.t", "DROP SEQUENCE public.s"]
    );
}

fn sequence(data_type: Option<&str>, options: SequenceOptions) -> Schema {
    let mut s = Schema::default();
    let seq = Sequence {
        name: qn("public", "s"),
        data_type: data_type.map(str::to_string),
        options,
        owned_by: None,
        comment: None,
        grants: Default::default(),
    };
    s.sequences.insert(seq.name.clone(), seq);
    s
}

#[test]
fn a_sequence_type_change_writes_the_bounds_the_server_would_move() {
    // The server would move a minimum at smallint's limit to integer's limit.
    let explicit_min = SequenceOptions {
        min_value: Some(-32768),
        ..Default::default()
    };
    assert_eq!(
        statements(&plan_between(
            &sequence(Some("smallint"), explicit_min.clone()),
            &sequence(Some("integer"), explicit_min),
        )),
        vec!["ALTER SEQUENCE public.s AS integer MINVALUE -32768"]
    );
    // NO MINVALUE would do the same to an ascending sequence's default minimum of 1.
    let descending = SequenceOptions {
        increment: Some(-1),
        ..Default::default()
    };
    let capped = SequenceOptions {
        max_value: Some(1000),
        ..Default::default()
    };
    let s = statements(&plan_between(
        &sequence(Some("smallint"), descending),
        &sequence(Some("integer"), capped.clone()),
    ));
    assert!(
        s[0].starts_with("ALTER SEQUENCE public.s AS integer INCREMENT BY 1 MINVALUE 1 MAXVALUE 1000 START WITH 1"),
        "{s:#?}"
    );
    // Bounds that follow the type as the target's defaults do are left to the server.
    assert_eq!(
        statements(&plan_between(
            &sequence(Some("integer"), SequenceOptions::default()),
            &sequence(None, SequenceOptions::default()),
        )),
        vec!["ALTER SEQUENCE public.s AS bigint"]
    );
    // Without a type change, bounds are written as the options say.
    let s = statements(&plan_between(
        &sequence(None, SequenceOptions::default()),
        &sequence(None, capped),
    ));
    assert_eq!(
        s,
        vec!["ALTER SEQUENCE public.s MAXVALUE 1000 START WITH 1"]
    );
}

fn messages(p: &Plan) -> Vec<String> {
    p.hazards().map(|h| h.to_string()).collect()
}

#[test]
fn a_sequence_whose_current_value_may_leave_its_range() {
    let opts = |increment: Option<i64>, min: Option<i64>, max: Option<i64>| SequenceOptions {
        increment,
        min_value: min,
        max_value: max,
        ..Default::default()
    };
    let between = |a: SequenceOptions, b: SequenceOptions| {
        plan_between(&sequence(None, a), &sequence(None, b))
    };

    // The direction flips: counting on would give the same values again.
    let p = between(opts(None, None, None), opts(Some(-1), None, None));
    assert_eq!(
        statements(&p),
        vec![
            "ALTER SEQUENCE public.s INCREMENT BY -1 NO MINVALUE NO MAXVALUE START WITH -1 RESTART"
        ]
    );
    assert_eq!(
        messages(&p),
        vec!["data loss: restarts sequence public.s at -1: its direction changes"]
    );

    // The ranges do not overlap: the current value cannot be in the new one.
    let p = between(
        opts(None, None, Some(100)),
        opts(None, Some(200), Some(300)),
    );
    assert_eq!(
        statements(&p),
        vec!["ALTER SEQUENCE public.s MINVALUE 200 MAXVALUE 300 START WITH 200 RESTART"]
    );
    assert_eq!(
        messages(&p),
        vec!["data loss: restarts sequence public.s at 200: its current value is outside the new range"]
    );

    // A raised minimum: a sequence still below it moves forward to the new start first.
    let mut raised = opts(None, Some(5), Some(500));
    raised.start = Some(7);
    let p = between(opts(None, None, None), raised);
    assert_eq!(
        statements(&p),
        vec![
            "SELECT setval('public.s', 7, false) FROM public.s WHERE last_value < 5",
            "ALTER SEQUENCE public.s MINVALUE 5 MAXVALUE 500 START WITH 7",
        ]
    );
    assert_eq!(
        messages(&p),
        vec![
            "data loss: moves sequence public.s to 7 if its current value is below 5",
            "may fail on existing rows: fails if sequence public.s is already above 500",
        ]
    );
    // Descending, the same happens from above; the position stays within the old range.
    let p = between(
        opts(Some(-1), Some(-100), None),
        opts(Some(-1), None, Some(-50)),
    );
    assert_eq!(
        statements(&p)[0],
        "SELECT setval('public.s', -50, false) FROM public.s WHERE last_value > -50"
    );

    // A wider range keeps the current value.
    let p = between(opts(None, Some(5), Some(500)), opts(None, None, None));
    assert!(p.hazards().next().is_none(), "{:?}", messages(&p));
    assert!(!statements(&p)[0].contains("RESTART"));

    // An identity restarts the same way; one behind its new range cannot be moved.
    let identity = |options: SequenceOptions| {
        let mut c = not_null("c", "integer");
        c.identity = Some(Identity {
            always: false,
            options,
        });
        c
    };
    let p = alter(
        identity(opts(None, None, None)),
        identity(opts(Some(-1), None, None)),
    );
    assert_eq!(
        statements(&p),
        vec![
            "ALTER TABLE public.t ALTER COLUMN c SET INCREMENT BY -1 SET NO MINVALUE \
             SET NO MAXVALUE SET START WITH -1 RESTART"
        ]
    );
    assert_eq!(kinds(&p), vec![HazardKind::DataLoss]);
    let p = alter(
        identity(opts(None, None, None)),
        identity(opts(None, Some(5), None)),
    );
    assert_eq!(
        messages(&p),
        vec!["data loss: moves the identity of public.t.c to 5 if its current value is below 5"]
    );
    assert_eq!(
        statements(&p)[0],
        "DO $ferry$ DECLARE s regclass := pg_get_serial_sequence('public.t', 'c'); v bigint; \
         BEGIN EXECUTE format('SELECT last_value FROM %s', s) INTO v; \
         IF v < 5 THEN PERFORM setval(s, 5, false); END IF; END $ferry$"
    );
}

#[test]
fn nextval_targets() {
    assert_eq!(
        nextval_target("nextval('users_id_seq'::regclass)"),
        Some(qn("public", "users_id_seq"))
    );
    assert_eq!(
        nextval_target("nextval('app.\"Odd\"'::regclass)"),
        Some(qn("app", "Odd"))
    );
    assert_eq!(nextval_target("nextval('x')"), Some(qn("public", "x")));
    assert_eq!(nextval_target("nextval('x'::regclass) + 1"), None);
    assert_eq!(nextval_target("now()"), None);
}

#[test]
fn mentions_finds_identifiers_not_literals() {
    assert!(mentions("lower(email) = 'x'", "email"));
    assert!(!mentions("note = 'email'", "email"));
    assert!(mentions("\"Email\" > 0", "Email"));
    assert!(!mentions("emails > 0", "email"));
    assert!(mentions("EMAIL > 0", "email"));
}

#[test]
fn render_schema_has_a_header_and_one_statement_per_object() {
    let files = render_schema(&users_and_orders());
    assert_eq!(files.len(), 1);
    let (name, text) = &files[0];
    assert_eq!(name, "schema.sql");
    assert!(text.starts_with("-- "));
    assert_eq!(text.matches("CREATE TABLE").count(), 2);
    assert!(text.ends_with(")\n;\n") || text.ends_with(");\n"), "{text}");
}

#[test]
fn enum_values_used_in_the_plan_are_added_before_the_transaction() {
    let from = with_enum(&["a"]);
    let mut to = with_enum(&["a", "x", "b"]);
    if let Some(t) = to.tables.get_mut(&qn("public", "t")) {
        t.columns[0].default = Some(pg_expr("'b'::mood"));
    }
    let p = plan_between(&from, &to);
    assert_eq!(
        p.before,
        vec![
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'x' AFTER 'a'",
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'b' AFTER 'x'",
        ]
    );
    assert_eq!(
        statements(&p),
        vec!["ALTER TABLE public.t ALTER COLUMN m SET DEFAULT 'b'::mood"]
    );
}

#[test]
fn implicit_names_follow_a_table_rename() {
    let build = |t: &str| {
        let mut id = not_null("id", "integer");
        id.default = Some(pg_expr(&format!("nextval('{t}_id_seq'::regclass)")));
        let mut table = with_pk(table(t, vec![id, col("n", "text")]), &["id"]);
        table.checks.push(CheckConstraint {
            name: format!("{t}_n_check"),
            expr: pg_expr("n <> ''"),
            no_inherit: false,
            comment: None,
        });
        table.indexes.push(Index {
            name: format!("{t}_n_idx"),
            unique: false,
            method: "btree".into(),
            keys: vec![IndexKey::column("n")],
            include: vec![],
            predicate: None,
            nulls_not_distinct: false,
            ..Default::default()
        });
        let mut s = schema(vec![table]);
        let seq = Sequence {
            name: qn("public", &format!("{t}_id_seq")),
            data_type: Some("integer".into()),
            options: SequenceOptions::default(),
            owned_by: Some((qn("public", t), "id".into())),
            comment: None,
            grants: Default::default(),
        };
        s.sequences.insert(seq.name.clone(), seq);
        s
    };
    let from = build("accounts");
    let to = build("users");
    let mut renames = Renames::default();
    renames
        .tables
        .insert(qn("public", "users"), qn("public", "accounts"));
    let changes = diff(&from, &to, &renames);
    let p = match plan(&from, &to, &changes) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        statements(&p),
        vec![
            "ALTER TABLE public.accounts RENAME TO users",
            "ALTER TABLE public.users RENAME CONSTRAINT accounts_pkey TO users_pkey",
            "ALTER TABLE public.users RENAME CONSTRAINT accounts_n_check TO users_n_check",
            "ALTER INDEX public.accounts_n_idx RENAME TO users_n_idx",
            "ALTER SEQUENCE public.accounts_id_seq RENAME TO users_id_seq",
            "ALTER TABLE public.users ALTER COLUMN id SET DEFAULT nextval('users_id_seq'::regclass)",
        ]
    );
    assert!(p.hazards().next().is_none());
}

fn exclusion(name: &str, operator: &str, predicate: Option<&str>) -> ExclusionConstraint {
    ExclusionConstraint {
        name: name.to_string(),
        method: "gist".to_string(),
        elements: vec![
            ExclusionElement {
                key: IndexKey::column("room"),
                operator: "=".to_string(),
            },
            ExclusionElement {
                key: IndexKey::column("during"),
                operator: operator.to_string(),
            },
        ],
        include: Vec::new(),
        predicate: predicate.map(pg_expr),
        deferrable: Deferrable::NotDeferrable,
        comment: None,
    }
}

fn booking(x: ExclusionConstraint) -> Schema {
    let mut t = table(
        "booking",
        vec![not_null("room", "integer"), not_null("during", "tstzrange")],
    );
    t.exclusions.push(x);
    schema(vec![t])
}

#[test]
fn exclusion_constraints_are_inline_when_new_and_rebuilt_when_changed() {
    let p = plan_between(&Schema::default(), &booking(exclusion("x", "&&", None)));
    let s = statements(&p);
    assert!(
        s[0].contains("CONSTRAINT x EXCLUDE USING gist (room WITH =, during WITH &&)"),
        "{s:?}"
    );
    assert!(p.hazards().next().is_none(), "creating is harmless");

    let from = booking(exclusion("x", "&&", None));
    let to = booking(exclusion("x", "-|-", Some("room > 0")));
    let p = plan_between(&from, &to);
    let s = statements(&p);
    let drop = position(&s, "ALTER TABLE public.booking DROP CONSTRAINT x");
    let add = position(
        &s,
        "ALTER TABLE public.booking ADD CONSTRAINT x EXCLUDE USING gist (room WITH =, during WITH -|-) WHERE (room > 0)",
    );
    assert!(drop < add, "{s:?}");
    let m = messages(&p);
    assert!(
        m.iter()
            .any(|h| h.contains("fails if existing rows conflict")),
        "{m:?}"
    );
    assert!(m.iter().any(|h| h.contains("blocking writes")), "{m:?}");

    // A new name alone is a rename.
    let p = plan_between(&from, &booking(exclusion("y", "&&", None)));
    assert_eq!(
        statements(&p),
        ["ALTER TABLE public.booking RENAME CONSTRAINT x TO y"]
    );
}
