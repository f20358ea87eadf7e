//! PostgreSQL row level security and policies through the binary: push, what a non-owner
//! role really sees, ALTER POLICY, file vs database, pull round trip, generate + migrate
//! across a column type change under a policy, and a policy naming a missing role.
//!
//! Roles are cluster-wide: each test makes its own uniquely named role and drops it at the
//! end (after its databases, which hold its privileges).

mod common;

use std::path::Path;

use common::*;

/// A login-less role, dropped on drop. Declare it before the databases that grant it
/// anything, so that they are dropped first.
struct Role {
    name: String,
}

impl Role {
    fn new(tag: &str) -> Role {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("ferry_rls_{tag}_{}_{nanos}", std::process::id());
        let mut c = postgres::Client::connect(pg_admin_url(), postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE ROLE {name} NOLOGIN"))
            .unwrap();
        Role { name }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(pg_admin_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name));
        }
    }
}

fn schema(role: &str, using: &str) -> String {
    format!(
        r#"
CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL, body text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_read ON docs FOR SELECT TO {role} USING ({using});
CREATE POLICY docs_write ON docs AS RESTRICTIVE FOR INSERT TO {role}, public
  WITH CHECK (owner = current_user);
COMMENT ON POLICY docs_read ON docs IS 'owners read their rows';
"#
    )
}

/// The ids `role` can read from docs.
fn visible_ids(db: &PgDb, role: &str) -> Vec<String> {
    let mut c = db.client();
    c.batch_execute(&format!("SET ROLE {role}")).unwrap();
    c.query("SELECT id::text FROM docs ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

#[test]
fn push_policies_then_a_role_sees_only_its_rows() {
    let role = Role::new("push");
    let r = role.name.as_str();
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "schema.sql", &schema(r, "owner = current_user"));

    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    let out = ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert!(out.stderr.contains("Nothing to do"), "{out}");

    assert_eq!(
        db.query_strings(
            "SELECT policyname, permissive, array_to_string(roles, ','), cmd, qual, with_check \
             FROM pg_policies WHERE tablename = 'docs' ORDER BY policyname"
        ),
        vec![
            vec![
                Some("docs_read".into()),
                Some("PERMISSIVE".into()),
                Some(r.to_string()),
                Some("SELECT".into()),
                Some("(owner = CURRENT_USER)".into()),
                None,
            ],
            vec![
                Some("docs_write".into()),
                Some("RESTRICTIVE".into()),
                // PUBLIC among the roles means everyone: the server keeps only it.
                Some("public".into()),
                Some("INSERT".into()),
                None,
                Some("(owner = CURRENT_USER)".into()),
            ],
        ]
    );
    assert_eq!(
        db.query_strings(
            "SELECT relrowsecurity::text, relforcerowsecurity::text, \
               (SELECT obj_description(p.oid, 'pg_policy') FROM pg_policy p \
                WHERE p.polname = 'docs_read') \
             FROM pg_class WHERE relname = 'docs'"
        ),
        vec![vec![
            Some("true".into()),
            Some("false".into()),
            Some("owners read their rows".into())
        ]]
    );

    // The policy really filters what a non-owner role reads.
    db.execute(&format!(
        "INSERT INTO docs VALUES (0, 'nobody', 'shared'), (1, '{r}', 'mine'), \
         (2, 'someone', 'theirs'); GRANT SELECT ON docs TO {r}"
    ))
    .unwrap();
    assert_eq!(visible_ids(&db, r), ["1"]);

    // Changing USING alters the policy in place.
    let file = write_file(
        dir.path(),
        "schema.sql",
        &schema(r, "owner = current_user OR id = 0"),
    );
    let out = ok(run(&["diff", "--from", &db.url, "--to", &file]));
    assert!(
        out.stdout
            .contains("ALTER POLICY docs_read ON public.docs USING"),
        "{out}"
    );
    assert!(!out.stdout.contains("DROP POLICY"), "{out}");
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(visible_ids(&db, r), ["0", "1"]);

    // The file and the database agree, both ways.
    let out = run(&["diff", "--from", &file, "--to", &db.url, "--exit-code"]);
    assert_eq!(out.code, 0, "file vs database:\n{out}");
    let out = run(&["diff", "--from", &db.url, "--to", &file, "--exit-code"]);
    assert_eq!(out.code, 0, "database vs file:\n{out}");

    // Pull, then push the pulled files into an empty database: the two agree.
    let pulled = dir.path().join("pulled").display().to_string();
    ok(run(&["pull", "--url", &db.url, "--out", &pulled]));
    let text = std::fs::read_to_string(Path::new(&pulled).join("schema.sql")).unwrap();
    assert!(text.contains("ENABLE ROW LEVEL SECURITY"), "{text}");
    assert!(text.contains("COMMENT ON POLICY docs_read"), "{text}");
    let empty = PgDb::new();
    ok(run(&["push", "--url", &empty.url, "--schema", &pulled]));
    let out = run(&["diff", "--from", &db.url, "--to", &empty.url, "--exit-code"]);
    assert_eq!(out.code, 0, "the two databases differ:\n{out}");

    // Disabling row level security and dropping a policy.
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL, body text);\n\
         ALTER TABLE docs FORCE ROW LEVEL SECURITY;\n",
    );
    ok(run(&["push", "--url", &db.url, "--schema", &file]));
    assert_eq!(
        db.query_strings(
            "SELECT relrowsecurity::text, relforcerowsecurity::text, \
               (SELECT count(*)::text FROM pg_policy p WHERE p.polrelid = c.oid) \
             FROM pg_class c WHERE relname = 'docs'"
        ),
        vec![vec![
            Some("false".into()),
            Some("true".into()),
            Some("0".into())
        ]]
    );
    assert_eq!(visible_ids(&db, r), ["0", "1", "2"]);
}

#[test]
fn generate_and_migrate_through_a_type_change_under_a_policy() {
    let role = Role::new("migrate");
    let r = role.name.as_str();
    let db = PgDb::new();
    let p = tempfile::tempdir().unwrap();
    let dir = p.path();
    write_file(
        dir,
        "ferry.toml",
        &format!(
            "dialect = \"postgres\"\n\n[environments.dev]\nurl = \"{}\"\n",
            db.url
        ),
    );
    let v1 = "CREATE TABLE tenants (id int PRIMARY KEY, name text);\n\
              CREATE TABLE docs (id int PRIMARY KEY, tenant_id int, owner varchar(20));\n";
    write_file(dir, "schema/s.sql", v1);
    ok(run_in(dir, &["generate", "init", "--version", "1"]));

    let v2 = format!(
        "{v1}ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\n\
         CREATE POLICY by_tenant ON docs TO {r} \
           USING (tenant_id IN (SELECT id FROM tenants WHERE name = current_setting('app.tenant', true)));\n\
         CREATE POLICY by_owner ON docs FOR UPDATE USING (owner::text = current_user);\n"
    );
    write_file(dir, "schema/s.sql", &v2);
    ok(run_in(dir, &["generate", "policies", "--version", "2"]));

    // Both columns a policy reads change type: each policy is dropped and created again
    // around the change, including the one reading `tenants` from a subquery.
    let v3 = v2
        .replace("owner varchar(20)", "owner varchar(50)")
        .replace("tenants (id int", "tenants (id bigint")
        .replace("tenant_id int", "tenant_id bigint");
    write_file(dir, "schema/s.sql", &v3);
    ok(run_in(dir, &["generate", "widen", "--version", "3"]));
    let up = std::fs::read_to_string(dir.join("migrations/3_widen/up.sql")).unwrap();
    let drop_at = up.find("DROP POLICY by_tenant").expect(&up);
    let alter_at = up.find("ALTER COLUMN").expect(&up);
    let create_at = up.find("CREATE POLICY by_tenant").expect(&up);
    assert!(drop_at < alter_at && alter_at < create_at, "{up}");
    assert!(up.contains("DROP POLICY by_owner"), "{up}");

    // Replaying the migrations builds the schema: nothing left to generate.
    assert_generates_nothing(dir);

    ok(run_in(dir, &["migrate"]));
    let out2 = run(&[
        "diff",
        "--from",
        &db.url,
        "--to",
        &dir.join("schema").display().to_string(),
        "--exit-code",
    ]);
    assert_eq!(out2.code, 0, "database vs schema after migrate:\n{out2}");
    assert_eq!(
        db.query_strings(
            "SELECT policyname, array_to_string(roles, ',') FROM pg_policies \
             WHERE tablename = 'docs' ORDER BY 1"
        ),
        vec![
            vec![Some("by_owner".into()), Some("public".into())],
            vec![Some("by_tenant".into()), Some(r.to_string())],
        ]
    );
    let rollback = run_in(dir, &["rollback", "--force"]);
    assert!(rollback.success(), "{rollback}");
    assert_eq!(
        db.query_strings(
            "SELECT data_type FROM information_schema.columns \
             WHERE table_name = 'tenants' AND column_name = 'id'"
        ),
        vec![vec![Some("integer".into())]]
    );
}

#[test]
fn a_policy_for_a_missing_role_fails_with_the_server_message() {
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int);\n\
         CREATE POLICY p ON t TO ferry_no_such_role_anywhere USING (id > 0);\n",
    );
    let out = run(&["push", "--url", &db.url, "--schema", &file]);
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr
            .contains("role \"ferry_no_such_role_anywhere\" does not exist"),
        "{out}"
    );
    // The push was one transaction: not even the table is there.
    assert_eq!(
        db.query_strings("SELECT to_regclass('public.t') IS NULL"),
        vec![vec![Some("t".into())]]
    );
}

#[test]
fn a_policy_on_an_unknown_table_is_an_error_pointing_at_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int);\n\nCREATE POLICY p ON nope USING (true);\n",
    );
    let out = read_pg_file(&file, &[]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("schema.sql:3:"), "{out}");
    assert!(out.stderr.contains("unknown table public.nope"), "{out}");
}
