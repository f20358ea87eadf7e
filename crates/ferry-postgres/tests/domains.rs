//! Domains against a real server: load(S) == inspect(apply(S)) over a corpus, pull round
//! trips, migrations between schemas (applied and replayed), and hand-written migrations
//! replayed exactly as the server runs them.

mod common;

use common::{assert_same, columns_by_name, load, plan, TestDb};
use ferry_core::{diff, Backup, Database, Dialect, QualifiedName, Renames, Schema};
use ferry_postgres::POSTGRES;
use ferry_sql::replay;

/// Domains in the shapes people write them.
const DOMAINS: &str = r#"
CREATE SCHEMA app;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN us_postal_code AS TEXT
  CHECK (VALUE ~ '^\d{5}$' OR VALUE ~ '^\d{5}-\d{4}$');
CREATE DOMAIN positive_int integer CONSTRAINT positive_int_positive CHECK (VALUE > 0);
CREATE DOMAIN quantity AS int4 DEFAULT 0 NOT NULL CHECK (VALUE >= 0);
CREATE DOMAIN score AS smallint CHECK (VALUE BETWEEN 0 AND 100) CHECK (VALUE <> 42);
CREATE DOMAIN percentage AS numeric(5,2)
  CONSTRAINT min_check CHECK (VALUE >= 0.0) CONSTRAINT max_check CHECK (VALUE <= 100.0);
CREATE DOMAIN status AS varchar(10) DEFAULT 'new' CHECK (VALUE IN ('new', 'done'));
CREATE DOMAIN dob AS date CHECK (VALUE > '1900-01-01'::date AND VALUE < CURRENT_DATE);
CREATE DOMAIN stamp AS timestamptz DEFAULT now() NOT NULL;
CREATE DOMAIN lowered AS text COLLATE "C" CHECK (VALUE = lower(VALUE) AND length(VALUE) > 0);
CREATE DOMAIN short_lowered AS lowered COLLATE "C" CHECK (char_length(VALUE) <= 20);
CREATE DOMAIN feeling AS mood DEFAULT 'ok';
CREATE DOMAIN small_list AS int[] CHECK (cardinality(VALUE) <= 3);
CREATE DOMAIN ipv4 AS inet CHECK (family(VALUE) = 4);
CREATE DOMAIN "Quoted Name" AS bigint DEFAULT -1;
CREATE DOMAIN app.money_amount AS numeric(12,2) DEFAULT 0.00 CHECK (VALUE > -1000);
CREATE DOMAIN app.code AS char(3) NULL CHECK (VALUE ~ '^[A-Z]{3}$');
COMMENT ON DOMAIN quantity IS 'how many';
COMMENT ON DOMAIN app.code IS 'three letters';
CREATE TABLE orders (
  id positive_int PRIMARY KEY,
  qty quantity,
  zip us_postal_code,
  state status,
  who short_lowered,
  mood feeling,
  tags small_list,
  scores score[],
  total app.money_amount DEFAULT 1,
  currency app.code NOT NULL DEFAULT 'EUR',
  created stamp,
  n "Quoted Name"
);
"#;

#[test]
fn loaded_domains_equal_inspected_ones() {
    let Some(db) = TestDb::new() else { return };
    db.execute(DOMAINS);
    let loaded = load(DOMAINS);
    assert!(loaded.opaque.is_empty(), "{:#?}", loaded.opaque);
    assert_eq!(loaded.domains.len(), 16);
    let inspected = db.inspect();
    assert_same(&loaded, &inspected, "domains");
    assert!(diff(&inspected, &loaded, &Renames::default()).is_empty());
    assert!(diff(&loaded, &inspected, &Renames::default()).is_empty());
    // Implicit names as the server gives them.
    let score = &inspected.domains[&QualifiedName::new("public", "score")];
    let names: Vec<&str> = score.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["score_check", "score_check1"]);
    let lowered = &inspected.domains[&QualifiedName::new("public", "lowered")];
    assert_eq!(lowered.collation.as_deref(), Some("C"));
    // A domain based on it inherits the collation and does not repeat it.
    let short = &inspected.domains[&QualifiedName::new("public", "short_lowered")];
    assert_eq!(short.collation, None);
    assert_eq!(short.data_type, "public.lowered");
}

#[test]
fn pulled_domains_load_back_into_an_empty_database() {
    let Some(db) = TestDb::new() else { return };
    db.execute(DOMAINS);
    let inspected = db.inspect();
    let files = POSTGRES.render_schema(&inspected);
    let text: String = files.iter().map(|(_, t)| t.as_str()).collect();
    let pos = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{text}"))
    };
    assert!(pos("CREATE TYPE public.mood") < pos("CREATE DOMAIN public.feeling"));
    assert!(pos("CREATE DOMAIN public.lowered") < pos("CREATE DOMAIN public.short_lowered"));
    assert!(pos("CREATE DOMAIN public.short_lowered") < pos("CREATE TABLE public.orders"));
    let second = TestDb::new().expect("a second database");
    second.execute(&text);
    let again = second.inspect();
    assert_same(&inspected, &again, "pulled and pushed again");
    assert_same(&load(&text), &again, "pulled file loads as it inspects");
}

/// Schema pairs (label, A, B, rows inserted at A).
const PAIRS: &[(&str, &str, &str, &str)] = &[
    (
        "create and drop, with a table using them",
        "CREATE TABLE t (id int PRIMARY KEY);",
        "CREATE DOMAIN a AS text CHECK (VALUE <> ''); CREATE DOMAIN b AS a DEFAULT 'z' NOT NULL; \
         CREATE TABLE t (id int PRIMARY KEY, x b, y a[]);",
        "INSERT INTO t VALUES (1);",
    ),
    (
        "default, NOT NULL, checks and comment",
        "CREATE DOMAIN d AS int DEFAULT 1 CHECK (VALUE > 0) CHECK (VALUE < 100); \
         CREATE TABLE t (id int PRIMARY KEY, v d);",
        "CREATE DOMAIN d AS int NOT NULL CHECK (VALUE < 1000) CONSTRAINT named CHECK (VALUE <> 7); \
         COMMENT ON DOMAIN d IS 'dee'; CREATE TABLE t (id int PRIMARY KEY, v d);",
        "INSERT INTO t VALUES (1, 5), (2, 50);",
    ),
    (
        "base type and collation change, with a domain on top and an array column",
        "CREATE DOMAIN a AS varchar(10) DEFAULT 'x'; CREATE DOMAIN b AS a CHECK (VALUE <> 'no'); \
         CREATE TABLE t (id int PRIMARY KEY, x b DEFAULT 'y', xs a[], plain a COLLATE \"C\");",
        "CREATE DOMAIN a AS text COLLATE \"C\" DEFAULT 'x'; CREATE DOMAIN b AS a CHECK (VALUE <> 'no'); \
         CREATE TABLE t (id int PRIMARY KEY, x b DEFAULT 'y', xs a[], plain a COLLATE \"C\");",
        "INSERT INTO t VALUES (1, 'hello', '{a,b}', 'p');",
    ),
    (
        "a check added to a domain used in an array column",
        "CREATE DOMAIN d AS int; CREATE TABLE t (id int PRIMARY KEY, vs d[], v d DEFAULT 3);",
        "CREATE DOMAIN d AS int CHECK (VALUE > 0); \
         CREATE TABLE t (id int PRIMARY KEY, vs d[], v d DEFAULT 3);",
        "INSERT INTO t VALUES (1, '{1,2}', 4);",
    ),
    (
        "a column moves from a domain to another type while the domain changes base",
        "CREATE DOMAIN d AS int; CREATE TABLE t (id int PRIMARY KEY, v d, w d);",
        "CREATE DOMAIN d AS bigint; CREATE TABLE t (id int PRIMARY KEY, v text, w d);",
        "INSERT INTO t VALUES (1, 2, 3);",
    ),
    (
        "an enum loses a value under a domain",
        "CREATE TYPE e AS ENUM ('a', 'b', 'c'); CREATE DOMAIN d AS e DEFAULT 'a'; \
         CREATE DOMAIN dd AS d CHECK (VALUE::text <> 'b'); \
         CREATE TABLE t (id int PRIMARY KEY, v d, vs d[], w e, x dd DEFAULT 'a');",
        "CREATE TYPE e AS ENUM ('b', 'a'); CREATE DOMAIN d AS e DEFAULT 'a'; \
         CREATE DOMAIN dd AS d CHECK (VALUE::text <> 'b'); \
         CREATE TABLE t (id int PRIMARY KEY, v d, vs d[], w e, x dd DEFAULT 'a');",
        "INSERT INTO t VALUES (1, 'a', '{b,a}', 'b', 'a');",
    ),
    (
        "a domain in a new schema over an enum",
        "CREATE TYPE e AS ENUM ('a', 'b');",
        "CREATE SCHEMA s; CREATE TYPE e AS ENUM ('a', 'b', 'c'); CREATE DOMAIN s.d AS e DEFAULT 'c'; \
         CREATE TABLE s.t (v s.d);",
        "",
    ),
];

/// Applies plan(A → B) to a database built from A (with rows), checks the result equals
/// B and that a second plan is empty; replaying A and the plan gives B too.
fn check_migration(label: &str, a: &str, b: &str, rows: &str) {
    let Some(db) = TestDb::new() else { return };
    db.execute(a);
    db.execute(rows);
    let from = db.inspect();
    let to = load(b);
    let plan = plan(&from, &to);
    let sql = plan.to_sql();
    if let Err(e) = db.connect().apply(&plan) {
        panic!("{label}: apply failed: {e}\nplan:\n{sql}");
    }
    let after = db.inspect();
    assert_same(&to, &after, &format!("{label}: after\n{sql}"));
    let again = diff(&after, &to, &Renames::default());
    assert!(again.is_empty(), "{label}: left {again:#?} after\n{sql}");
    let replayed = match replay([("a.sql", a), ("up.sql", sql.as_str())], &POSTGRES) {
        Ok(s) => s,
        Err(e) => panic!("{label}: replay failed: {e}\n{sql}"),
    };
    assert_same(
        &columns_by_name(&to),
        &columns_by_name(&replayed),
        &format!("{label}: replayed\n{sql}"),
    );
}

#[test]
fn migrations_between_domain_schemas_apply_and_replay() {
    for (label, a, b, rows) in PAIRS {
        check_migration(&format!("{label} (A→B)"), a, b, rows);
        check_migration(&format!("{label} (B→A)"), b, a, "");
    }
}

#[test]
fn rebuilt_domains_keep_the_rows() {
    let (_, a, b, rows) = PAIRS[2];
    let Some(db) = TestDb::new() else { return };
    db.execute(a);
    db.execute(rows);
    let from = db.inspect();
    let plan = plan(&from, &load(b));
    db.connect().apply(&plan).expect("apply");
    let mut conn = db.connect();
    let row = conn
        .client()
        .query_one("SELECT x::text, xs::text, plain::text FROM t", &[])
        .expect("row");
    let got: (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(got, ("hello".into(), "{a,b}".into(), "p".into()));
    let collation: String = conn
        .client()
        .query_one(
            "SELECT coalesce((SELECT collname::text FROM pg_collation WHERE oid = attcollation), '') \
             FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'plain'",
            &[],
        )
        .expect("collation")
        .get(0);
    assert_eq!(collation, "C");
    // The rebuilt domain's check still holds on the converted column.
    assert!(conn
        .client()
        .batch_execute("INSERT INTO t (id, x) VALUES (2, 'no')")
        .is_err());
}

/// Hand-written migrations, each run by the server and replayed: the two must agree.
const HAND_WRITTEN: &[(&str, &str)] = &[
    (
        "ALTER DOMAIN forms",
        "CREATE DOMAIN d AS int; CREATE TABLE t (v d);\n\
         ALTER DOMAIN d SET DEFAULT 5;\n\
         ALTER DOMAIN d SET NOT NULL;\n\
         ALTER DOMAIN d ADD CHECK (VALUE > 0);\n\
         ALTER DOMAIN d ADD CHECK (VALUE < 10);\n\
         ALTER DOMAIN d ADD CONSTRAINT big CHECK (VALUE < 100) NOT VALID;\n\
         ALTER DOMAIN d VALIDATE CONSTRAINT big;\n\
         ALTER DOMAIN d DROP CONSTRAINT d_check;\n\
         ALTER DOMAIN d ADD CHECK (VALUE <> 3);\n\
         ALTER DOMAIN d RENAME CONSTRAINT d_check1 TO below_ten;\n\
         ALTER DOMAIN d DROP CONSTRAINT IF EXISTS nope;\n\
         ALTER DOMAIN d DROP NOT NULL;\n\
         ALTER DOMAIN d DROP DEFAULT;\n\
         ALTER DOMAIN d SET DEFAULT 7;\n\
         COMMENT ON DOMAIN d IS 'dee';\n\
         COMMENT ON TYPE d IS 'type comment on a domain';\n\
         ALTER DOMAIN d OWNER TO CURRENT_USER;",
    ),
    (
        "renames and moves take the columns along",
        "CREATE SCHEMA s; CREATE SCHEMA u;\n\
         CREATE DOMAIN a AS text; CREATE DOMAIN b AS a; CREATE DOMAIN s.c AS int;\n\
         CREATE TABLE t (x a, xs a[], y b, z s.c);\n\
         ALTER DOMAIN a RENAME TO aa;\n\
         ALTER TYPE b RENAME TO bb;\n\
         ALTER DOMAIN aa SET SCHEMA s;\n\
         ALTER SCHEMA s RENAME TO z;\n\
         CREATE TYPE e AS ENUM ('x'); CREATE DOMAIN de AS e[]; CREATE DOMAIN de2 AS e;\n\
         CREATE TABLE u (v de, w de2[]);\n\
         ALTER TYPE e RENAME TO e2; ALTER TYPE e2 SET SCHEMA z;",
    ),
    (
        "drops with CASCADE take columns and domains based on them",
        "CREATE SCHEMA s;\n\
         CREATE DOMAIN a AS text; CREATE DOMAIN b AS a; CREATE DOMAIN keep AS int;\n\
         CREATE DOMAIN s.gone AS int; CREATE TYPE e AS ENUM ('x');\n\
         CREATE TABLE t (id int, x a, xs a[], y b, k keep);\n\
         DROP DOMAIN a CASCADE;\n\
         DROP SCHEMA s CASCADE;\n\
         DROP TYPE keep CASCADE;\n\
         CREATE DOMAIN f AS e; DROP DOMAIN IF EXISTS f, nope;\n\
         CREATE DOMAIN g AS e; CREATE DOMAIN h AS g; CREATE TABLE u (id int, v h, w e);\n\
         DROP TYPE e CASCADE;",
    ),
];

fn without_opaque(mut s: Schema) -> Schema {
    s.opaque.clear();
    s
}

#[test]
fn hand_written_migrations_replay_like_the_server() {
    for (label, script) in HAND_WRITTEN {
        let Some(db) = TestDb::new() else { return };
        db.execute(script);
        let inspected = db.inspect();
        let replayed = match replay([("up.sql", *script)], &POSTGRES) {
            Ok(s) => s,
            Err(e) => panic!("{label}: replay failed: {e}"),
        };
        assert!(
            replayed.opaque.is_empty(),
            "{label}: {:#?}",
            replayed.opaque
        );
        assert_same(&inspected, &without_opaque(replayed), label);
    }
}

#[test]
fn replay_refuses_what_the_server_refuses() {
    let base = "CREATE DOMAIN a AS int;\nCREATE DOMAIN b AS a;\nCREATE TABLE t (x a);\n";
    let cases = [
        (
            "DROP DOMAIN a;",
            "4:13: cannot drop domain public.a: column public.t.x uses it (use CASCADE to drop it too)",
        ),
        (
            "DROP DOMAIN b, nope;",
            "4:16: domain public.nope does not exist",
        ),
        ("CREATE DOMAIN a AS text;", "4:15: type public.a already exists"),
        (
            "CREATE TYPE e AS ENUM ('x');\nCREATE DOMAIN f AS e;\nDROP TYPE e;",
            "6:11: cannot drop type public.e: domain public.f is based on it (use CASCADE to drop \
             it too)",
        ),
        (
            "DROP DOMAIN b; DROP DOMAIN a CASCADE; CREATE DOMAIN a AS int; CREATE DOMAIN b AS a; DROP DOMAIN a;",
            "4:97: cannot drop type public.a: domain public.b is based on it (use CASCADE to drop \
             it too)",
        ),
        ("CREATE DOMAIN t AS text;", "4:15: type public.t already exists"),
        (
            "ALTER DOMAIN a DROP CONSTRAINT c;",
            "4:32: constraint \"c\" of domain public.a does not exist",
        ),
        (
            "ALTER DOMAIN a ADD CONSTRAINT c CHECK (VALUE > 0);\nALTER DOMAIN a ADD CONSTRAINT c CHECK (VALUE > 1);",
            "5:20: constraint \"c\" for domain public.a already exists",
        ),
        ("ALTER DOMAIN nope SET NOT NULL;", "4:14: domain public.nope does not exist"),
        ("ALTER DOMAIN b RENAME TO a;", "4:26: type public.a already exists"),
        (
            "CREATE DOMAIN c AS int NULL NOT NULL;",
            "4:29: domain public.c: conflicting NULL/NOT NULL constraints",
        ),
    ];
    for (statement, expected) in cases {
        let script = format!("{base}{statement}\n");
        // The server refuses it too.
        if let Some(db) = TestDb::new() {
            let mut conn = db.connect();
            assert!(
                conn.client().batch_execute(&script).is_err(),
                "the server accepts {statement}"
            );
        }
        let message = match replay([("up.sql", script.as_str())], &POSTGRES) {
            Ok(_) => panic!("replay accepts {statement}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(message, format!("up.sql:{expected}"), "{statement}");
    }
}

#[test]
fn the_builtin_dump_holds_domains() {
    let Some(src) = TestDb::new() else { return };
    src.execute(DOMAINS);
    src.execute(
        "INSERT INTO orders (id, qty, zip, state, who, mood, tags, scores, currency, n) \
         VALUES (1, 2, '12345', 'done', 'ada', 'happy', '{1,2}', '{7,8}', 'USD', 5);\n\
         ALTER DOMAIN score ADD CONSTRAINT later CHECK (VALUE < 99) NOT VALID;",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("backup.sql");
    let mut source = src.connect();
    let taken = source
        .backup_with(&path, ferry_postgres::BackupMethod::Builtin)
        .expect("backup");
    // Only the NOT VALID check is named as restored differently.
    assert!(
        taken.method.contains("without 1 object(s)")
            && taken
                .method
                .contains("NOT VALID domain constraint (restored as valid) later"),
        "{}",
        taken.method
    );
    let Some(dst) = TestDb::new() else { return };
    let mut target = dst.connect();
    target.restore_from(&path).expect("restore");
    assert_same(
        &source.inspect().unwrap(),
        &target.inspect().unwrap(),
        "restored",
    );
    let row = |db: &mut ferry_postgres::PgDatabase| -> String {
        db.client()
            .query_one("SELECT orders::text FROM orders", &[])
            .expect("row")
            .get(0)
    };
    assert_eq!(row(&mut source), row(&mut target));
}
