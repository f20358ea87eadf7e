//! The sqldef conformance suite, run against real databases.
//!
//! Test data: the YAML cases of the sqldef project (`current` / `desired` schema pairs), found
//! in `../shared/conformance/sqldef/` beside the checkout or in `$FERRY_CONFORMANCE_DIR`. A
//! fresh clone has no such folder: the suite then says it was skipped and passes.
//!
//! For every in-scope case the databases are compared, never the SQL text:
//!
//! * url→url: A is built from `current` and B from `desired` by running their SQL directly;
//!   `ferry diff --from A --to B` is applied to A, after which `diff --exit-code` from A to B
//!   must find nothing. Then the reverse: B is migrated to C (built from `current`).
//! * file→file: `ferry diff --from current.sql --to desired.sql` is applied to a database at
//!   `current` and must leave it equal to one at `desired`; and the reverse.
//!
//! Equality is judged by ferry's own inspection (`diff --exit-code` between two databases).
//!
//! Knobs: `FERRY_CONFORMANCE_MIN` (pass-rate floor in percent per mode, default 95),
//! `FERRY_CONFORMANCE_CASES` (only cases whose `file/name` contains this text, or one of
//! several comma-separated texts),
//! `FERRY_CONFORMANCE_THREADS` (default 4). The full report goes to
//! `target/tmp/conformance-<dialect>.txt` (`-filtered.txt` when `FERRY_CONFORMANCE_CASES` is set).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fmt::Write as _;
use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{PgDb, SqliteDb};
use yaml_rust2::{Yaml, YamlLoader};

/// How long one `ferry` run may take before it counts as hung.
const FERRY_TIMEOUT: Duration = Duration::from_secs(120);
/// Failure lines printed on the console (the report file has them all).
const CONSOLE_FAILURES: usize = 40;

#[test]
fn conformance_postgres() {
    run_suite(Dialect::Postgres);
}

#[test]
fn conformance_sqlite() {
    run_suite(Dialect::Sqlite);
}

// ---------------------------------------------------------------------------------------------
// Test cases

/// One sqldef test case, reduced to what the runner looks at.
#[derive(Clone, Debug)]
struct Case {
    /// `tests_tables/CreateTable`
    id: String,
    current: String,
    desired: String,
    expects_error: bool,
    min_version: Option<String>,
    max_version: Option<String>,
    flavor: Option<String>,
    enable_drop: bool,
    manage: bool,
    /// sqldef's `managed_roles`: exactly ferry's `[privileges] roles` (`[]` manages none).
    managed_roles: Option<Vec<String>>,
    legacy_ignore_quotes: Option<bool>,
    config: bool,
    user: bool,
    offline: bool,
}

impl Default for Case {
    fn default() -> Case {
        Case {
            id: String::new(),
            current: String::new(),
            desired: String::new(),
            expects_error: false,
            min_version: None,
            max_version: None,
            flavor: None,
            enable_drop: true,
            manage: false,
            managed_roles: None,
            legacy_ignore_quotes: None,
            config: false,
            user: false,
            offline: false,
        }
    }
}

fn conformance_dir() -> PathBuf {
    match std::env::var_os("FERRY_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/sqldef"),
    }
}

/// Every case of every `*.yml` file in `dir`, in file then document order.
fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        cases.extend(parse_cases(&stem, &text).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(cases)
}

fn parse_cases(file: &str, text: &str) -> Result<Vec<Case>, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let mut cases = Vec::new();
    for doc in docs {
        let map = match doc {
            Yaml::Hash(map) => map,
            Yaml::Null => continue,
            other => return Err(format!("top level is not a map of cases: {other:?}")),
        };
        for (key, v) in map {
            let name = scalar(&key).ok_or_else(|| format!("case name is not a string: {key:?}"))?;
            if !matches!(v, Yaml::Hash(_)) {
                return Err(format!("case {name} is not a map"));
            }
            let present = |k: &str| !matches!(v[k], Yaml::BadValue | Yaml::Null);
            cases.push(Case {
                id: format!("{file}/{name}"),
                current: scalar(&v["current"]).unwrap_or_default(),
                desired: scalar(&v["desired"]).unwrap_or_default(),
                expects_error: present("error"),
                min_version: scalar(&v["min_version"]),
                max_version: scalar(&v["max_version"]),
                flavor: scalar(&v["flavor"]),
                enable_drop: v["enable_drop"].as_bool() != Some(false),
                manage: present("manage"),
                managed_roles: match &v["managed_roles"] {
                    Yaml::Array(roles) => Some(
                        roles
                            .iter()
                            .map(|r| {
                                scalar(r).ok_or_else(|| {
                                    format!("case {name}: managed_roles entry is not a name: {r:?}")
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    Yaml::BadValue | Yaml::Null => None,
                    other => {
                        return Err(format!(
                            "case {name}: managed_roles is not a list: {other:?}"
                        ))
                    }
                },
                legacy_ignore_quotes: v["legacy_ignore_quotes"].as_bool(),
                config: present("config"),
                user: present("user"),
                offline: v["offline"].as_bool() == Some(true),
            });
        }
    }
    Ok(cases)
}

impl Case {
    /// The roles this case needs on the server: its `managed_roles` and every grantee of
    /// its GRANT and REVOKE statements (PUBLIC and run-time roles left out).
    fn roles(&self) -> BTreeSet<String> {
        let mut roles = grantees(&self.current);
        roles.extend(grantees(&self.desired));
        roles.extend(
            self.managed_roles
                .iter()
                .flatten()
                .filter(|r| !is_role_keyword(&r.to_uppercase()))
                .cloned(),
        );
        roles
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Scope: which cases run, and why the others do not

/// Why a case is not run. Every skip is counted and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Skip {
    /// Gated by `offline: true` (a proprietary dialect sqldef only renders, e.g. Aurora DSQL).
    OfflineOnly,
    /// `flavor` names a server flavour we do not run (pgvector).
    Flavor,
    /// `min_version` / `max_version` exclude this server.
    Version,
    /// Relies on a sqldef-only switch: the behaviour it tests is not ferry's.
    SqldefSwitch(&'static str),
    /// Objects that belong to a later issue.
    OutOfScope(Feature),
    /// The case expects sqldef to report an error (not checked yet).
    ExpectsError,
    /// `current` or `desired` does not run on this server (decided at run time).
    InvalidOnServer,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::OfflineOnly => f.write_str("offline-only"),
            Skip::Flavor => f.write_str("flavor not available"),
            Skip::Version => f.write_str("server version excluded"),
            Skip::SqldefSwitch(s) => write!(f, "sqldef switch {s}"),
            Skip::OutOfScope(feature) => write!(f, "out of scope: {}", feature.label()),
            Skip::ExpectsError => f.write_str("expects an error"),
            Skip::InvalidOnServer => f.write_str("invalid on this server"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Feature {
    /// SQLite views are kept as opaque statements (PostgreSQL's are modelled).
    SqliteView,
    /// `ALTER … OWNER TO`: ownership is not managed (GRANT and REVOKE are).
    Ownership,
    Rule,
    Collation,
    Inherits,
    Like,
}

impl Feature {
    fn label(self) -> &'static str {
        match self {
            Feature::SqliteView => "views (opaque on SQLite)",
            Feature::Ownership => "ownership (OWNER TO)",
            Feature::Rule => "rules",
            Feature::Collation => "collations",
            Feature::Inherits => "INHERITS",
            Feature::Like => "CREATE TABLE (LIKE …)",
        }
    }
}

/// Decides whether `case` runs on a server of version `server` (version components, e.g.
/// `[15, 4]`). `None`: in scope.
fn classify(case: &Case, server: &[u64]) -> Option<Skip> {
    if case.offline {
        return Some(Skip::OfflineOnly);
    }
    if case.flavor.as_deref().is_some_and(|f| !f.starts_with('!')) {
        return Some(Skip::Flavor);
    }
    if !version_allows(
        server,
        case.min_version.as_deref(),
        case.max_version.as_deref(),
    ) {
        return Some(Skip::Version);
    }
    let switch = if !case.enable_drop {
        Some("enable_drop: false")
    } else if case.manage {
        Some("manage")
    } else if case.legacy_ignore_quotes == Some(true) {
        Some("legacy_ignore_quotes: true")
    } else if case.config {
        Some("config")
    } else if case.user {
        Some("user")
    } else {
        None
    };
    if let Some(s) = switch {
        return Some(Skip::SqldefSwitch(s));
    }
    if let Some(feature) =
        out_of_scope_feature(&case.current).or_else(|| out_of_scope_feature(&case.desired))
    {
        return Some(Skip::OutOfScope(feature));
    }
    if case.expects_error {
        return Some(Skip::ExpectsError);
    }
    None
}

/// [`classify`] for `dialect`: SQLite keeps views opaque, so its view cases would pass
/// without building the views; they are skipped.
fn classify_for(dialect: Dialect, case: &Case, server: &[u64]) -> Option<Skip> {
    classify(case, server).or_else(|| {
        // `CREATE [TEMP | TEMPORARY] VIEW`
        let creates_view = |sql: &str| {
            let t = tokens(sql);
            (0..t.len()).any(|i| {
                t[i] == "CREATE"
                    && t[i + 1..]
                        .iter()
                        .find(|w| *w != "TEMP" && *w != "TEMPORARY")
                        .is_some_and(|w| w == "VIEW")
            })
        };
        (dialect == Dialect::Sqlite && (creates_view(&case.current) || creates_view(&case.desired)))
            .then_some(Skip::OutOfScope(Feature::SqliteView))
    })
}

/// Whether a server at `server` satisfies `min`/`max` ("12", "18.0"). Only as many
/// components as the bound names are compared, so `max_version: "14"` admits 14.9.
fn version_allows(server: &[u64], min: Option<&str>, max: Option<&str>) -> bool {
    let cmp = |bound: &str| {
        let bound: Vec<u64> = bound
            .split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect();
        let have: Vec<u64> = (0..bound.len())
            .map(|i| server.get(i).copied().unwrap_or(0))
            .collect();
        have.cmp(&bound)
    };
    min.is_none_or(|m| cmp(m).is_ge()) && max.is_none_or(|m| cmp(m).is_le())
}

/// The first object kind in `sql` that this suite leaves for later, if any.
fn out_of_scope_feature(sql: &str) -> Option<Feature> {
    let t = tokens(sql);
    let has = |seq: &[&str]| {
        t.windows(seq.len())
            .any(|w| w.iter().zip(seq).all(|(a, b)| a == b))
    };
    // `CREATE [OR REPLACE] [TEMP | MATERIALIZED | CONSTRAINT | EVENT …] <kind>`
    let creates = |kind: &str| {
        const MODIFIERS: &[&str] = &[
            "OR",
            "REPLACE",
            "TEMP",
            "TEMPORARY",
            "RECURSIVE",
            "MATERIALIZED",
            "CONSTRAINT",
            "EVENT",
            "TRUSTED",
            "PROCEDURAL",
            "UNLOGGED",
            "GLOBAL",
            "LOCAL",
        ];
        t.iter()
            .enumerate()
            .filter(|(_, w)| *w == "CREATE")
            .any(|(i, _)| {
                t[i + 1..]
                    .iter()
                    .find(|w| !MODIFIERS.contains(&w.as_str()))
                    .is_some_and(|w| w == kind)
            })
    };
    // `CREATE TABLE t (LIKE other …)`: LIKE opening a table element, not inside an expression.
    let like = t
        .windows(2)
        .any(|w| (w[0] == "(" || w[0] == ",") && w[1] == "LIKE");
    let checks: [(bool, Feature); 5] = [
        (has(&["OWNER", "TO"]), Feature::Ownership),
        (creates("RULE"), Feature::Rule),
        (creates("COLLATION"), Feature::Collation),
        (t.iter().any(|w| w == "INHERITS"), Feature::Inherits),
        (like, Feature::Like),
    ];
    checks.into_iter().find(|(hit, _)| *hit).map(|(_, f)| f)
}

/// `PUBLIC` and the roles known only at run time: never created, never dropped.
fn is_role_keyword(upper: &str) -> bool {
    matches!(
        upper,
        "PUBLIC" | "CURRENT_USER" | "SESSION_USER" | "CURRENT_ROLE"
    )
}

/// The roles that `sql`'s GRANT and REVOKE statements grant to or revoke from, as the server
/// spells them: unquoted names lower-cased, quoted ones exactly. PUBLIC and the run-time
/// roles are left out.
fn grantees(sql: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for statement in split_statements(sql) {
        let lexed = lex(&statement);
        let keyword = match lexed.first().map(|(_, t)| t.as_str()) {
            Some("GRANT") => "TO",
            Some("REVOKE") => "FROM",
            _ => continue,
        };
        let Some(start) = lexed.iter().position(|(_, t)| t == keyword) else {
            continue;
        };
        for (at, token) in &lexed[start + 1..] {
            let text = &statement[*at..];
            match token.as_str() {
                "," | "GROUP" => {}
                t if is_role_keyword(t) => {}
                "\"" => {
                    // `"…"` with `""` for a quote inside.
                    let mut name = String::new();
                    let mut chars = text[1..].chars().peekable();
                    while let Some(c) = chars.next() {
                        if c == '"' {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        name.push(c);
                    }
                    out.insert(name);
                }
                t if t.starts_with(|c: char| c.is_alphabetic() || c == '_')
                    && !matches!(t, "WITH" | "GRANTED" | "CASCADE" | "RESTRICT") =>
                {
                    let end = text
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                        .unwrap_or(text.len());
                    out.insert(text[..end].to_ascii_lowercase());
                }
                _ => break,
            }
        }
    }
    out
}

/// The `ferry.toml` that makes ferry manage exactly `roles`' privileges, as sqldef's
/// `managed_roles` does.
fn managed_roles_config(dialect: Dialect, roles: &[String]) -> String {
    let quoted: Vec<String> = roles.iter().map(|r| toml_string(r)).collect();
    format!(
        "dialect = {}\n\n[privileges]\nroles = [{}]\n",
        toml_string(dialect.name()),
        quoted.join(", ")
    )
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// SQL as upper-cased words and single punctuation characters. Comments vanish; string
/// literals become `'`, quoted identifiers `"`, dollar-quoted bodies `$`, so that words
/// inside them never look like keywords.
fn tokens(sql: &str) -> Vec<String> {
    lex(sql).into_iter().map(|(_, token)| token).collect()
}

/// `sql` cut at its top-level semicolons; statements holding only comments are left out.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut has_tokens = false;
    for (at, token) in lex(sql) {
        if token == ";" {
            if has_tokens {
                out.push(sql[start..at].trim().to_string());
            }
            start = at + 1;
            has_tokens = false;
        } else {
            has_tokens = true;
        }
    }
    if has_tokens {
        out.push(sql[start..].trim().to_string());
    }
    out
}

/// The tokens of `sql` (see [`tokens`]), each with the byte offset where it starts.
fn lex(sql: &str) -> Vec<(usize, String)> {
    let s: Vec<(usize, char)> = sql.char_indices().collect();
    let at = |i: usize| s.get(i).map(|&(_, c)| c);
    let offset = |i: usize| s.get(i).map_or(sql.len(), |&(o, _)| o);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let begin = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && at(i + 1) == Some('-') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            i += 2;
            while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' || c == '"' || c == '`' {
            // Quoted until the matching quote; a doubled quote is an escaped one.
            i += 1;
            while let Some(d) = at(i) {
                i += 1;
                if d == c {
                    if at(i) == Some(c) {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            out.push((
                offset(begin),
                if c == '\'' { "'" } else { "\"" }.to_string(),
            ));
        } else if c == '$' {
            // `$tag$ … $tag$` (or `$$ … $$`) is one token; `$1` is `$` then a word.
            let mut j = i + 1;
            while at(j).is_some_and(|d| d.is_alphanumeric() || d == '_') {
                j += 1;
            }
            if at(j) == Some('$') {
                let tag = &sql[offset(i)..offset(j + 1)];
                i = match sql[offset(j + 1)..].find(tag) {
                    Some(end) => {
                        let end_byte = offset(j + 1) + end + tag.len();
                        s.partition_point(|&(o, _)| o < end_byte)
                    }
                    None => s.len(),
                };
            } else {
                i += 1;
            }
            out.push((offset(begin), "$".to_string()));
        } else if c.is_alphanumeric() || c == '_' {
            while at(i).is_some_and(|d| d.is_alphanumeric() || d == '_' || d == '$') {
                i += 1;
            }
            out.push((offset(begin), sql[offset(begin)..offset(i)].to_uppercase()));
        } else {
            out.push((offset(begin), c.to_string()));
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Databases

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// The sqldef folder holding this dialect's cases.
    fn folder(self) -> &'static str {
        match self {
            Dialect::Postgres => "psqldef",
            Dialect::Sqlite => "sqlite3def",
        }
    }

    /// The server's version as components (`[15, 4]`, `[3, 50, 4]`).
    fn server_version(self) -> Vec<u64> {
        match self {
            Dialect::Postgres => {
                let mut client = postgres::Client::connect(common::pg_admin_url(), postgres::NoTls)
                    .expect("connect to PostgreSQL");
                let row = client
                    .query_one("SHOW server_version_num", &[])
                    .expect("server_version_num");
                let n: u64 = row
                    .get::<_, String>(0)
                    .trim()
                    .parse()
                    .expect("numeric server_version_num");
                if n >= 100_000 {
                    vec![n / 10_000, n % 10_000]
                } else {
                    vec![n / 10_000, n / 100 % 100, n % 100]
                }
            }
            Dialect::Sqlite => {
                let conn = rusqlite::Connection::open_in_memory().expect("open sqlite");
                let v: String = conn
                    .query_row("select sqlite_version()", [], |r| r.get(0))
                    .expect("sqlite_version");
                v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
            }
        }
    }

    /// A new empty database.
    fn fresh(self) -> TestDb {
        match self {
            Dialect::Postgres => TestDb::Pg(PgDb::new()),
            Dialect::Sqlite => TestDb::Lite(SqliteDb::new()),
        }
    }

    /// A new database with `sql` run in it directly (not through ferry).
    ///
    /// sqldef's schemas may name things before declaring them (a foreign key to a table
    /// created further down, a table in a schema created after it), and so may a ferry
    /// user's schema files. When the script fails as written, its statements are run one by
    /// one in a fresh database, and the failed ones again while that makes progress; the
    /// database then counts only if every statement succeeded. `reordered` tells.
    fn build(self, sql: &str) -> Result<Built, String> {
        let db = self.fresh();
        let Err(error) = db.execute(sql) else {
            return Ok(Built {
                db,
                reordered: false,
            });
        };
        drop(db);
        let db = self.fresh();
        match db.execute_until_settled(&split_statements(sql)) {
            Ok(()) => Ok(Built {
                db,
                reordered: true,
            }),
            Err(_) => Err(error),
        }
    }
}

/// The cluster-wide roles the cases grant to. Roles that already exist are used as they are;
/// those this run created are dropped when it ends (quietly failing while another run's
/// databases still hold grants to them).
struct ServerRoles {
    created: Vec<String>,
}

impl ServerRoles {
    fn ensure(names: &BTreeSet<String>) -> ServerRoles {
        let mut roles = ServerRoles {
            created: Vec::new(),
        };
        if names.is_empty() {
            return roles;
        }
        let mut client = postgres::Client::connect(common::pg_admin_url(), postgres::NoTls)
            .expect("connect to PostgreSQL");
        for name in names {
            let exists = client
                .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[name])
                .expect("read pg_roles")
                .is_some();
            if exists {
                continue;
            }
            match client.batch_execute(&format!("CREATE ROLE {}", quote_ident(name))) {
                Ok(()) => roles.created.push(name.clone()),
                // Another run made it in the meantime: theirs, not ours.
                Err(e) if e.code() == Some(&postgres::error::SqlState::DUPLICATE_OBJECT) => {}
                Err(e) => eprintln!("cannot create role {name}: {e}"),
            }
        }
        roles
    }
}

impl Drop for ServerRoles {
    fn drop(&mut self) {
        if self.created.is_empty() {
            return;
        }
        if let Ok(mut client) = postgres::Client::connect(common::pg_admin_url(), postgres::NoTls) {
            for name in &self.created {
                let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(name)));
            }
        }
    }
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Built {
    db: TestDb,
    reordered: bool,
}

enum TestDb {
    Pg(PgDb),
    Lite(SqliteDb),
}

impl TestDb {
    fn url(&self) -> &str {
        match self {
            TestDb::Pg(db) => &db.url,
            TestDb::Lite(db) => &db.url,
        }
    }

    fn execute(&self, sql: &str) -> Result<(), String> {
        match self {
            TestDb::Pg(db) => db.execute(sql),
            TestDb::Lite(db) => db.execute(sql),
        }
    }

    /// The schema as sorted lines of text, read from the catalog with the server's own
    /// functions (see [`PG_CATALOG`], [`SQLITE_CATALOG`]).
    fn catalog(&self) -> Result<Vec<String>, String> {
        match self {
            TestDb::Pg(db) => {
                let rows = db
                    .client()
                    .simple_query(PG_CATALOG)
                    .map_err(|e| e.to_string())?;
                Ok(rows
                    .into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                        _ => None,
                    })
                    .collect())
            }
            TestDb::Lite(db) => {
                let conn = db.connection();
                let mut stmt = conn.prepare(SQLITE_CATALOG).map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
            }
        }
    }

    /// Runs each statement on its own (one session throughout), then the failed ones again,
    /// until all succeed or a round makes no progress (the last error).
    fn execute_until_settled(&self, statements: &[String]) -> Result<(), String> {
        enum Session {
            Pg(postgres::Client),
            Lite(rusqlite::Connection),
        }
        let mut session = match self {
            TestDb::Pg(db) => Session::Pg(db.client()),
            TestDb::Lite(db) => Session::Lite(db.connection()),
        };
        let mut run = |sql: &str| match &mut session {
            Session::Pg(client) => client.batch_execute(sql).map_err(|e| e.to_string()),
            Session::Lite(conn) => conn.execute_batch(sql).map_err(|e| e.to_string()),
        };
        let mut pending: Vec<&String> = statements.iter().collect();
        loop {
            let mut last_error = None;
            let before = pending.len();
            pending.retain(|sql| match run(sql) {
                Ok(()) => false,
                Err(e) => {
                    last_error = Some(e);
                    true
                }
            });
            match last_error {
                None => return Ok(()),
                Some(e) if pending.len() == before => return Err(e),
                Some(_) => {}
            }
        }
    }
}

/// A PostgreSQL schema as text lines: schemas, relations, columns (type, nullability,
/// default, identity, generated, collation), constraints, indexes not behind a constraint,
/// enums, sequences, comments, and the privileges granted on schemas, relations and columns
/// (to roles other than the owner; `… to <role name as stored, or PUBLIC>` ends the line). Names are as `regclass` prints them (the default search_path).
const PG_CATALOG: &str = "
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
)
SELECT 'schema ' || quote_ident(nspname) FROM ns
UNION ALL
SELECT 'relation ' || c.oid::regclass::text || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
       || coalesce(' options=' || array_to_string(c.reloptions, ','), '')
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
UNION ALL
SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(a.attname) || ' '
       || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
       || CASE a.attgenerated WHEN 's' THEN ' generated stored' ELSE '' END
       || CASE WHEN a.attcollation <> t.typcollation THEN ' collate ' || a.attcollation::regcollation::text ELSE '' END
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || con.conrelid::regclass::text || ' ' || quote_ident(con.conname) || ' '
       || pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN ns ON ns.oid = con.connamespace
 WHERE con.conrelid <> 0
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'enum ' || t.oid::regtype::text || ' ' || string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
 GROUP BY t.oid
UNION ALL
SELECT 'domain ' || t.oid::regtype::text || ' ' || format_type(t.typbasetype, t.typtypmod)
       || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(t.typdefaultbin, 0), '')
       || CASE WHEN t.typcollation <> bt.typcollation THEN ' collate ' || t.typcollation::regcollation::text ELSE '' END
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
 WHERE t.typtype = 'd'
UNION ALL
SELECT 'domain constraint ' || con.contypid::regtype::text || ' ' || quote_ident(con.conname) || ' '
       || pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN ns ON ns.oid = con.connamespace
 WHERE con.contypid <> 0
UNION ALL
SELECT 'sequence ' || s.seqrelid::regclass::text || ' ' || format_type(s.seqtypid, NULL)
       || ' start=' || s.seqstart || ' increment=' || s.seqincrement || ' min=' || s.seqmin
       || ' max=' || s.seqmax || ' cache=' || s.seqcache || ' cycle=' || s.seqcycle
  FROM pg_sequence s
UNION ALL
SELECT 'comment on ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || quote_literal(d.description)
  FROM pg_description d WHERE d.objoid >= 16384
UNION ALL
SELECT 'grant ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END
       || ' on schema ' || quote_ident(n.nspname) || ' to ' || coalesce(r.rolname, 'PUBLIC')
  FROM pg_namespace n CROSS JOIN aclexplode(n.nspacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
 WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' AND a.grantee <> n.nspowner
UNION ALL
SELECT 'grant ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END
       || ' on ' || c.oid::regclass::text || ' to ' || coalesce(r.rolname, 'PUBLIC')
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace CROSS JOIN aclexplode(c.relacl) a
  LEFT JOIN pg_roles r ON r.oid = a.grantee
 WHERE a.grantee <> c.relowner
UNION ALL
SELECT 'grant ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END
       || ' on column ' || c.oid::regclass::text || '.' || quote_ident(att.attname) || ' to ' || coalesce(r.rolname, 'PUBLIC')
  FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN ns ON ns.oid = c.relnamespace
  CROSS JOIN aclexplode(att.attacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
 WHERE att.attnum > 0 AND NOT att.attisdropped AND a.grantee <> c.relowner
ORDER BY 1";

/// A SQLite schema as text lines: tables (kind, WITHOUT ROWID, STRICT), columns (declared
/// type, NOT NULL, default, primary-key position, hidden/generated), indexes (explicit ones by
/// name, automatic ones by origin) and foreign keys.
const SQLITE_CATALOG: &str = "
SELECT 'table ' || l.name || ' type=' || l.type || ' without_rowid=' || l.wr || ' strict=' || l.strict
  FROM pragma_table_list l WHERE l.schema = 'main' AND l.name NOT LIKE 'sqlite_%'
UNION ALL
SELECT 'column ' || t.name || '.' || c.name || ' ' || lower(c.type) || ' notnull=' || c.\"notnull\"
       || ' default=' || coalesce(c.dflt_value, '-') || ' pk=' || c.pk || ' hidden=' || c.hidden
  FROM sqlite_schema t, pragma_table_xinfo(t.name) c
 WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'
UNION ALL
SELECT 'index on ' || t.name || ' ' || CASE WHEN i.origin = 'c' THEN i.name ELSE '(' || i.origin || ')' END
       || ' unique=' || i.\"unique\" || ' partial=' || i.partial || ' columns='
       || (SELECT group_concat(coalesce(x.name, '<expr>') || ' desc=' || x.desc || ' ' || x.coll, ', ')
             FROM pragma_index_xinfo(i.name) x WHERE x.key = 1)
  FROM sqlite_schema t, pragma_index_list(t.name) i
 WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'
UNION ALL
SELECT 'foreign key ' || t.name || ' (' || group_concat(f.\"from\", ',') || ') references ' || f.\"table\"
       || ' (' || group_concat(coalesce(f.\"to\", ''), ',') || ') on update ' || f.on_update
       || ' on delete ' || f.on_delete || ' match ' || f.\"match\"
  FROM sqlite_schema t, pragma_foreign_key_list(t.name) f
 WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'
 GROUP BY t.name, f.id
ORDER BY 1";

// ---------------------------------------------------------------------------------------------
// Running one case

/// The first thing that went wrong in one mode of one case.
#[derive(Clone, Debug)]
struct Failure {
    /// e.g. `url forward: apply`
    step: String,
    /// Everything known: exit code, stderr, the SQL that failed.
    detail: String,
}

impl Failure {
    fn new(step: impl Into<String>, detail: impl Into<String>) -> Failure {
        Failure {
            step: step.into(),
            detail: detail.into(),
        }
    }

    /// What went wrong regardless of direction and mode (for grouping): `apply`, `diff`, …
    fn kind(&self) -> &str {
        self.step.rsplit(": ").next().unwrap_or(&self.step)
    }

    /// One line: the step and the first informative line of the detail.
    fn short(&self) -> String {
        let first = self
            .detail
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("exit ") && !l.starts_with("---"))
            .unwrap_or("");
        truncate(&format!("{}: {first}", self.step), 200)
    }
}

enum CaseResult {
    /// Not run, and why (with the server's complaint for [`Skip::InvalidOnServer`]).
    Skipped(Skip, Option<String>),
    Ran {
        url: Result<(), Failure>,
        file: Result<(), Failure>,
        /// `current` or `desired` ran only with its statements reordered.
        reordered: bool,
        /// Steps that passed ferry's check but not the independent catalog comparison.
        catalog: Vec<String>,
    },
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn run_case(case: &Case, dialect: Dialect) -> CaseResult {
    // Reference states, built by the server itself. Cases the server refuses are not ours.
    let built = dialect
        .build(&case.current)
        .map_err(|e| format!("current: {e}"))
        .and_then(|a| {
            let b = dialect
                .build(&case.desired)
                .map_err(|e| format!("desired: {e}"))?;
            let c = dialect
                .build(&case.current)
                .map_err(|e| format!("current: {e}"))?;
            Ok((a, b, c))
        });
    let (a, b, c) = match built {
        Ok(dbs) => dbs,
        Err(e) => return CaseResult::Skipped(Skip::InvalidOnServer, Some(e)),
    };
    let reordered = a.reordered || b.reordered;
    let (a, b, c) = (a.db, b.db, c.db);
    let work = tempfile::tempdir().expect("temp dir");
    // Both the diffs and the rechecks run in `work`, so they all see this configuration.
    if let Some(roles) = &case.managed_roles {
        common::write_file(
            work.path(),
            "ferry.toml",
            &managed_roles_config(dialect, roles),
        );
    }
    let mut catalog = Vec::new();
    let url_mode = Mode {
        dialect: None,
        dir: work.path(),
        managed_roles: case.managed_roles.as_deref(),
    };
    let url = (|| {
        catalog.extend(migrate(&a, a.url(), b.url(), &b, "url forward", &url_mode)?);
        catalog.extend(migrate(&b, b.url(), c.url(), &c, "url reverse", &url_mode)?);
        Ok(())
    })();

    // A database at `current` and one at `desired` for the file mode: after a clean url run
    // (the catalog check included) B is back at `current` and A at `desired`; otherwise
    // build them anew.
    let url_clean = url.is_ok() && catalog.is_empty();
    let file = (|| {
        let (x, y) = if url_clean {
            (b, a)
        } else {
            let rebuild = |sql: &str| {
                dialect
                    .build(sql)
                    .map(|b| b.db)
                    .map_err(|e| Failure::new("file: rebuild", e))
            };
            (rebuild(&case.current)?, rebuild(&case.desired)?)
        };
        let current = common::write_file(work.path(), "current.sql", &case.current);
        let desired = common::write_file(work.path(), "desired.sql", &case.desired);
        let file_mode = Mode {
            dialect: Some(dialect.name()),
            ..url_mode
        };
        catalog.extend(migrate(
            &x,
            &current,
            &desired,
            &y,
            "file forward",
            &file_mode,
        )?);
        catalog.extend(migrate(
            &y,
            &desired,
            &current,
            &c,
            "file reverse",
            &file_mode,
        )?);
        Ok(())
    })();
    CaseResult::Ran {
        url,
        file,
        reordered,
        catalog,
    }
}

/// How one mode of one case runs ferry.
#[derive(Clone, Copy)]
struct Mode<'a> {
    /// `--dialect` (file mode).
    dialect: Option<&'a str>,
    /// Where ferry runs (and finds the case's `ferry.toml`).
    dir: &'a Path,
    /// The case's `managed_roles`: grants to other roles are not compared.
    managed_roles: Option<&'a [String]>,
}

/// `ferry diff --from FROM --to TO`, applied to `target`; then ferry must find `target` equal
/// to `reference`. `Ok(Some(note))`: ferry's check passed but the independent catalog
/// comparison ([`catalog_difference`]) did not: reported, not counted as a failure.
fn migrate(
    target: &TestDb,
    from: &str,
    to: &str,
    reference: &TestDb,
    label: &str,
    mode: &Mode,
) -> Result<Option<String>, Failure> {
    let dir = mode.dir;
    let mut args = vec!["diff", "--from", from, "--to", to, "--no-rename"];
    if let Some(d) = mode.dialect {
        args.extend(["--dialect", d]);
    }
    let out = ferry(dir, &args).map_err(|e| Failure::new(format!("{label}: diff"), e))?;
    if out.code != 0 {
        return Err(Failure::new(
            format!("{label}: diff"),
            format!("exit {}\n{}", out.code, out.stderr),
        ));
    }
    let applied = out.stdout;
    target.execute(&applied).map_err(|e| {
        Failure::new(
            format!("{label}: apply"),
            format!("{e}\n--- sql\n{applied}"),
        )
    })?;
    let check = [
        "diff",
        "--from",
        target.url(),
        "--to",
        reference.url(),
        "--exit-code",
        "--no-rename",
    ];
    let out = ferry(dir, &check).map_err(|e| Failure::new(format!("{label}: recheck"), e))?;
    match out.code {
        0 => Ok(catalog_difference(target, reference, mode.managed_roles)
            .map(|d| format!("{label}: {d}\n--- applied\n{}", applied.trim()))),
        2 => Err(Failure::new(
            format!("{label}: still differs"),
            format!(
                "{}\n--- applied before\n{}",
                out.stdout.trim(),
                applied.trim()
            ),
        )),
        code => Err(Failure::new(
            format!("{label}: recheck"),
            format!("exit {code}\n{}", out.stderr),
        )),
    }
}

/// Where the catalogs of `target` and `reference` differ, read with the server's own
/// functions rather than ferry's inspection (`+` only in `target`, `-` only in `reference`).
/// Column order is not compared: ferry cannot reorder columns in PostgreSQL. With
/// `managed_roles`, only those roles' grants are (ferry leaves the others alone).
fn catalog_difference(
    target: &TestDb,
    reference: &TestDb,
    managed_roles: Option<&[String]>,
) -> Option<String> {
    let (mine, theirs) = match (target.catalog(), reference.catalog()) {
        (Ok(m), Ok(t)) => (m, t),
        (Err(e), _) | (_, Err(e)) => return Some(format!("catalog query failed: {e}")),
    };
    let compared = |line: &String| match (managed_roles, grant_line_grantee(line)) {
        (Some(roles), Some(grantee)) => roles.iter().any(|r| r == grantee),
        _ => true,
    };
    let mine: BTreeSet<String> = mine.into_iter().filter(compared).collect();
    let theirs: BTreeSet<String> = theirs.into_iter().filter(compared).collect();
    let lines: Vec<String> = mine
        .difference(&theirs)
        .map(|l| format!("+ {l}"))
        .chain(theirs.difference(&mine).map(|l| format!("- {l}")))
        .collect();
    (!lines.is_empty()).then(|| format!("catalog differs\n{}", lines.join("\n")))
}

/// The grantee of a `grant … to <role>` line of [`PG_CATALOG`] (the role's name as stored,
/// or `PUBLIC`).
fn grant_line_grantee(line: &str) -> Option<&str> {
    line.strip_prefix("grant ")?
        .rsplit_once(" to ")
        .map(|(_, grantee)| grantee)
}

/// Runs `ferry args…` in `dir` with stdin closed, giving up after [`FERRY_TIMEOUT`].
fn ferry(dir: &Path, args: &[&str]) -> Result<common::Output, String> {
    let mut child = common::ferry()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start ferry: {e}"))?;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > FERRY_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "ferry {} timed out after {FERRY_TIMEOUT:?}",
                    args.join(" ")
                ));
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("waiting for ferry: {e}")),
        }
    };
    Ok(common::Output {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------------
// The suite

fn env_number(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

fn run_suite(dialect: Dialect) {
    let root = conformance_dir();
    let dir = root.join(dialect.folder());
    if !dir.is_dir() {
        println!(
            "{}: sqldef conformance suite skipped: {} not found (it lives in ../shared beside the checkout; set FERRY_CONFORMANCE_DIR to point elsewhere)",
            dialect.name(),
            dir.display()
        );
        return;
    }
    let filter = std::env::var("FERRY_CONFORMANCE_CASES").ok();
    let cases: Vec<Case> = load_cases(&dir)
        .unwrap_or_else(|e| panic!("cannot read the conformance cases: {e}"))
        .into_iter()
        .filter(|c| {
            filter
                .as_deref()
                .is_none_or(|f| f.split(',').any(|f| c.id.contains(f)))
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "no conformance cases found in {}",
        dir.display()
    );
    let server = dialect.server_version();
    let threads = env_number("FERRY_CONFORMANCE_THREADS", 4.0).max(1.0) as usize;
    // Roles are cluster-wide: made once, before any case runs, and dropped (those made here)
    // after the last one, also when an assertion below fails.
    let _roles = (dialect == Dialect::Postgres).then(|| {
        ServerRoles::ensure(
            &cases
                .iter()
                .filter(|c| classify_for(dialect, c, &server).is_none())
                .flat_map(Case::roles)
                .collect(),
        )
    });

    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let mut results: Vec<(usize, CaseResult)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { break };
                        let result = match classify_for(dialect, case, &server) {
                            Some(skip) => CaseResult::Skipped(skip, None),
                            None => std::panic::catch_unwind(AssertUnwindSafe(|| {
                                run_case(case, dialect)
                            }))
                            .unwrap_or_else(|panic| {
                                let msg = panic
                                    .downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                    .unwrap_or_default();
                                let f = Failure::new("harness panic", msg);
                                CaseResult::Ran {
                                    url: Err(f.clone()),
                                    file: Err(f),
                                    reordered: false,
                                    catalog: Vec::new(),
                                }
                            }),
                        };
                        mine.push((i, result));
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(100) {
                            eprintln!(
                                "{}: {n}/{} cases ({:.0?})",
                                dialect.name(),
                                cases.len(),
                                started.elapsed()
                            );
                        }
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker thread"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);

    let report = Report::new(dialect, &cases, &results, started.elapsed());
    // A filtered run does not overwrite the full run's report.
    let suffix = if filter.is_some() { "-filtered" } else { "" };
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("conformance-{}{suffix}.txt", dialect.name()));
    let written = std::fs::write(&path, report.full()).map(|()| path.display().to_string());
    println!("{}\n{}", report.summary(), report.notes());
    for line in report.failure_lines().iter().take(CONSOLE_FAILURES) {
        println!("  {line}");
    }
    if report.failed_cases > CONSOLE_FAILURES {
        println!("  … {} more", report.failed_cases - CONSOLE_FAILURES);
    }
    match written {
        Ok(p) => println!("{}: full report in {p}", dialect.name()),
        Err(e) => println!(
            "{}: cannot write the report to {}: {e}",
            dialect.name(),
            path.display()
        ),
    }

    let floor = env_number("FERRY_CONFORMANCE_MIN", 95.0);
    let ran = report.url.0 + report.url.1;
    assert!(
        ran > 0,
        "{}: no in-scope case ran: {}",
        dialect.name(),
        report.summary()
    );
    let low: Vec<String> = [("url→url", report.url), ("file→file", report.file)]
        .into_iter()
        .filter(|(_, (passed, failed))| (*passed as f64) * 100.0 < floor * (passed + failed) as f64)
        .map(|(mode, (passed, failed))| {
            format!(
                "{mode} {:.1}%",
                passed as f64 * 100.0 / (passed + failed) as f64
            )
        })
        .collect();
    assert!(
        low.is_empty(),
        "{}: pass rate below the {floor}% floor (FERRY_CONFORMANCE_MIN): {}\n{}\nfailures:\n{}",
        dialect.name(),
        low.join(", "),
        report.summary(),
        report
            .failure_lines()
            .iter()
            .take(CONSOLE_FAILURES)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

struct Report<'a> {
    dialect: Dialect,
    cases: &'a [Case],
    results: &'a [(usize, CaseResult)],
    elapsed: Duration,
    /// (passed, failed)
    url: (usize, usize),
    file: (usize, usize),
    skipped: BTreeMap<Skip, usize>,
    failed_cases: usize,
    /// Cases whose reference databases needed their statements reordered to build.
    reordered: usize,
    /// Cases where ferry's check passed but the independent catalog comparison did not.
    catalog_differs: usize,
}

impl<'a> Report<'a> {
    fn new(
        dialect: Dialect,
        cases: &'a [Case],
        results: &'a [(usize, CaseResult)],
        elapsed: Duration,
    ) -> Self {
        let mut r = Report {
            dialect,
            cases,
            results,
            elapsed,
            url: (0, 0),
            file: (0, 0),
            skipped: BTreeMap::new(),
            failed_cases: 0,
            reordered: 0,
            catalog_differs: 0,
        };
        for (_, result) in results {
            match result {
                CaseResult::Skipped(skip, _) => *r.skipped.entry(*skip).or_default() += 1,
                CaseResult::Ran {
                    url,
                    file,
                    reordered,
                    catalog,
                } => {
                    r.reordered += usize::from(*reordered);
                    r.catalog_differs += usize::from(!catalog.is_empty());
                    let count = |tally: &mut (usize, usize), ok: bool| {
                        if ok {
                            tally.0 += 1
                        } else {
                            tally.1 += 1
                        }
                    };
                    count(&mut r.url, url.is_ok());
                    count(&mut r.file, file.is_ok());
                    if url.is_err() || file.is_err() {
                        r.failed_cases += 1;
                    }
                }
            }
        }
        r
    }

    fn summary(&self) -> String {
        let skipped: usize = self.skipped.values().sum();
        let reasons: Vec<String> = self
            .skipped
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        format!(
            "{}: url→url {} passed, {} failed; file→file {} passed, {} failed; {skipped} skipped ({}) in {:.0?}",
            self.dialect.name(),
            self.url.0,
            self.url.1,
            self.file.0,
            self.file.1,
            reasons.join(", "),
            self.elapsed
        )
    }

    /// Facts beside the pass/fail counts.
    fn notes(&self) -> String {
        format!(
            "{}: independent catalog check differs in {} case(s) that ferry's check passed (informational); {} case(s) built only with reordered statements",
            self.dialect.name(),
            self.catalog_differs,
            self.reordered
        )
    }

    fn failures(
        &self,
    ) -> impl Iterator<Item = (&'a Case, Option<&'a Failure>, Option<&'a Failure>)> {
        self.results.iter().filter_map(|(i, r)| match r {
            CaseResult::Ran { url, file, .. } if url.is_err() || file.is_err() => {
                Some((&self.cases[*i], url.as_ref().err(), file.as_ref().err()))
            }
            _ => None,
        })
    }

    /// One line per failing case: which modes failed and the first reason.
    fn failure_lines(&self) -> Vec<String> {
        self.failures()
            .map(|(case, url, file)| {
                let modes = match (url, file) {
                    (Some(_), Some(_)) => "url+file",
                    (Some(_), None) => "url",
                    _ => "file",
                };
                let first = url.or(file).map(Failure::short).unwrap_or_default();
                format!("FAIL {} [{modes}] {first}", case.id)
            })
            .collect()
    }

    fn full(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}\n{}\n", self.summary(), self.notes());
        let mut by_step: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for (_, url, file) in self.failures() {
            for f in [url, file].into_iter().flatten() {
                *by_step.entry(f.step.clone()).or_default() += 1;
                *by_kind.entry(f.kind().to_string()).or_default() += 1;
            }
        }
        let _ = writeln!(s, "== failures by step (url and file counted separately)");
        for (step, n) in &by_step {
            let _ = writeln!(s, "{n:5}  {step}");
        }
        let _ = writeln!(s, "\n== failures by kind");
        for (kind, n) in &by_kind {
            let _ = writeln!(s, "{n:5}  {kind}");
        }
        let _ = writeln!(s, "\n== failing cases");
        for line in self.failure_lines() {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s, "\n== failure details");
        for (case, url, file) in self.failures() {
            let _ = writeln!(s, "\n### {}", case.id);
            for (mode, f) in [("url→url", url), ("file→file", file)] {
                if let Some(f) = f {
                    let _ = writeln!(
                        s,
                        "-- {mode}: {}\n{}",
                        f.step,
                        truncate(f.detail.trim_end(), 4000)
                    );
                }
            }
            let _ = writeln!(
                s,
                "-- current:\n{}\n-- desired:\n{}",
                case.current.trim_end(),
                case.desired.trim_end()
            );
        }
        let _ = writeln!(
            s,
            "\n== independent catalog check (informational: ferry's own check passed)"
        );
        for (i, r) in self.results {
            if let CaseResult::Ran { catalog, .. } = r {
                for note in catalog {
                    let _ = writeln!(s, "\n### {}\n{}", self.cases[*i].id, truncate(note, 4000));
                }
            }
        }
        let _ = writeln!(s, "\n== built only with reordered statements");
        for (i, r) in self.results {
            if let CaseResult::Ran {
                reordered: true, ..
            } = r
            {
                let _ = writeln!(s, "{}", self.cases[*i].id);
            }
        }
        let _ = writeln!(s, "\n== skipped cases");
        for (i, r) in self.results {
            if let CaseResult::Skipped(skip, why) = r {
                let why = why
                    .as_deref()
                    .map(|w| format!(" ({})", truncate(w, 200)))
                    .unwrap_or_default();
                let _ = writeln!(s, "{}: {skip}{why}", self.cases[*i].id);
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The classifier's own tests (no database needed)

#[cfg(test)]
mod classifier {
    use super::*;

    fn case(current: &str, desired: &str) -> Case {
        Case {
            id: "t/c".into(),
            current: current.into(),
            desired: desired.into(),
            ..Case::default()
        }
    }

    const PG15: &[u64] = &[15, 4];

    #[test]
    fn plain_tables_are_in_scope() {
        let c = case(
            "CREATE TABLE t (id int PRIMARY KEY, name text CHECK (name LIKE 'a%'));",
            "CREATE TYPE s AS ENUM ('a', 'b'); -- a view in a comment\nCREATE TABLE t (id int, s s DEFAULT 'create view');",
        );
        assert_eq!(classify(&c, PG15), None);
    }

    #[test]
    fn policies_extensions_and_composite_types_are_in_scope() {
        let run = |sql: &str| classify(&case("", sql), PG15);
        assert_eq!(run("ALTER TABLE t ENABLE ROW LEVEL SECURITY"), None);
        assert_eq!(run("CREATE POLICY p ON t USING (true)"), None);
        assert_eq!(run("CREATE EXTENSION citext"), None);
        assert_eq!(run("CREATE TYPE s.c AS (a int)"), None);
    }

    #[test]
    fn later_objects_are_out_of_scope() {
        let skip = |sql: &str| classify(&case("", sql), PG15);
        let out = |f| Some(Skip::OutOfScope(f));
        // Views are in scope; a view case that also needs a later object is skipped for
        // that object.
        assert_eq!(skip("CREATE OR REPLACE VIEW v AS SELECT 1"), None);
        assert_eq!(skip("create materialized view v as select 1"), None);
        assert_eq!(
            skip("CREATE VIEW v AS SELECT 1; CREATE TABLE c () INHERITS (p)"),
            out(Feature::Inherits)
        );
        // Functions, procedures and triggers are modelled.
        assert_eq!(
            skip("CREATE FUNCTION f() RETURNS int AS $$ select 1 $$ LANGUAGE sql"),
            None
        );
        assert_eq!(
            skip("CREATE CONSTRAINT TRIGGER t AFTER INSERT ON x EXECUTE FUNCTION f()"),
            None
        );
        assert_eq!(skip("ALTER TABLE t ENABLE ROW LEVEL SECURITY"), None);
        // Domains, extensions and composite types are modelled.
        assert_eq!(skip("CREATE DOMAIN d AS int"), None);
        assert_eq!(skip("CREATE EXTENSION citext"), None);
        assert_eq!(skip("CREATE TYPE s.c AS (a int)"), None);
        // Partitioned tables and partitions are in scope.
        assert_eq!(
            skip("CREATE TABLE m (a int) PARTITION BY RANGE (a); CREATE TABLE m1 PARTITION OF m DEFAULT"),
            None
        );
        // Privileges are managed; ownership is not.
        assert_eq!(skip("GRANT SELECT ON t TO r"), None);
        assert_eq!(skip("REVOKE INSERT ON t FROM r"), None);
        assert_eq!(skip("ALTER TABLE t OWNER TO r"), out(Feature::Ownership));
        // Exclusion constraints are modelled.
        assert_eq!(
            skip("CREATE TABLE t (a int, EXCLUDE USING gist (a WITH =))"),
            None
        );
        assert_eq!(
            skip("ALTER TABLE t ADD CONSTRAINT x EXCLUDE (a WITH =)"),
            None
        );
        assert_eq!(
            skip("CREATE TABLE c () INHERITS (p)"),
            out(Feature::Inherits)
        );
        assert_eq!(
            skip("CREATE TABLE c (LIKE p INCLUDING ALL)"),
            out(Feature::Like)
        );
        // Keywords inside quotes and comments are not objects.
        assert_eq!(
            skip("CREATE TABLE \"grant\" (a text DEFAULT 'GRANT'); /* CREATE VIEW */"),
            None
        );
    }

    #[test]
    fn sqlite_views_stay_out_of_scope() {
        let c = case(
            "",
            "CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;",
        );
        assert_eq!(classify_for(Dialect::Postgres, &c, PG15), None);
        assert_eq!(
            classify_for(Dialect::Sqlite, &c, &[3, 50]),
            Some(Skip::OutOfScope(Feature::SqliteView))
        );
        let t = case("", "CREATE TEMP VIEW v AS SELECT 1;");
        assert_eq!(
            classify_for(Dialect::Sqlite, &t, &[3, 50]),
            Some(Skip::OutOfScope(Feature::SqliteView))
        );
        let plain = case("", "CREATE TABLE t (a int);");
        assert_eq!(classify_for(Dialect::Sqlite, &plain, &[3, 50]), None);
    }

    #[test]
    fn sqldef_switches_and_gates() {
        let base = case("", "CREATE TABLE t (a int);");
        let with = |f: &dyn Fn(&mut Case)| {
            let mut c = base.clone();
            f(&mut c);
            classify(&c, PG15)
        };
        assert_eq!(
            with(&|c| c.enable_drop = false),
            Some(Skip::SqldefSwitch("enable_drop: false"))
        );
        assert_eq!(with(&|c| c.legacy_ignore_quotes = Some(false)), None);
        assert_eq!(
            with(&|c| c.legacy_ignore_quotes = Some(true)),
            Some(Skip::SqldefSwitch("legacy_ignore_quotes: true"))
        );
        assert_eq!(
            with(&|c| c.flavor = Some("pgvector".into())),
            Some(Skip::Flavor)
        );
        assert_eq!(with(&|c| c.flavor = Some("!pgvector".into())), None);
        assert_eq!(
            with(&|c| c.min_version = Some("18.0".into())),
            Some(Skip::Version)
        );
        assert_eq!(with(&|c| c.min_version = Some("15".into())), None);
        assert_eq!(with(&|c| c.max_version = Some("15".into())), None);
        assert_eq!(
            with(&|c| c.max_version = Some("14.9".into())),
            Some(Skip::Version)
        );
        assert_eq!(with(&|c| c.expects_error = true), Some(Skip::ExpectsError));
        // `managed_roles` is ferry's `[privileges] roles`: run, also when empty.
        assert_eq!(with(&|c| c.managed_roles = Some(vec![])), None);
        assert_eq!(with(&|c| c.managed_roles = Some(vec!["app".into()])), None);
        assert_eq!(
            with(&|c| {
                c.managed_roles = Some(vec!["app".into()]);
                c.enable_drop = false;
            }),
            Some(Skip::SqldefSwitch("enable_drop: false"))
        );
        assert_eq!(with(&|c| c.offline = true), Some(Skip::OfflineOnly));
    }

    #[test]
    fn splits_statements_at_top_level_semicolons() {
        let sql = "CREATE TABLE a (x text DEFAULT 'a;b'); -- c;d\n/* e; */ CREATE TABLE \"f;g\" (y int);\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ select 1; $body$ LANGUAGE sql;\n-- trailing; comment\n";
        assert_eq!(
            split_statements(sql),
            [
                "CREATE TABLE a (x text DEFAULT 'a;b')",
                "-- c;d\n/* e; */ CREATE TABLE \"f;g\" (y int)",
                "CREATE FUNCTION f() RETURNS int AS $body$ select 1; $body$ LANGUAGE sql",
            ]
        );
        assert_eq!(tokens("é $1 x$y"), ["É", "$", "1", "X$Y"]);
    }

    #[test]
    fn parses_yaml_cases() {
        let text = "A:\n  desired: |\n    CREATE TABLE t (a int);\n  min_version: '10'\n  enable_drop: false\nB:\n  current: x\n  error: boom\n";
        let cases = parse_cases("f", text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].id, "f/A");
        assert_eq!(cases[0].current, "");
        assert_eq!(cases[0].desired, "CREATE TABLE t (a int);\n");
        assert_eq!(cases[0].min_version.as_deref(), Some("10"));
        assert!(!cases[0].enable_drop);
        assert!(cases[1].expects_error && cases[1].enable_drop);
        assert_eq!(cases[0].managed_roles, None);

        let text = "A:\n  managed_roles:\n    - app_user\n    - user@domain.com\n    - PUBLIC\nB:\n  managed_roles: []\n";
        let cases = parse_cases("f", text).unwrap();
        assert_eq!(
            cases[0].managed_roles,
            Some(vec![
                "app_user".to_string(),
                "user@domain.com".to_string(),
                "PUBLIC".to_string()
            ])
        );
        assert_eq!(cases[1].managed_roles, Some(vec![]));
        assert!(parse_cases("f", "A:\n  managed_roles: app\n").is_err());
    }

    #[test]
    fn finds_the_roles_a_case_needs() {
        let sql = "GRANT SELECT, INSERT ON TABLE users, posts TO Reader, \"user@domain.com\" WITH GRANT OPTION;\n\
                   GRANT SELECT (a, b) ON t TO GROUP staff, PUBLIC, CURRENT_USER;\n\
                   revoke grant option for select on t from \"Odd\"\"Name\" cascade;\n\
                   REVOKE ALL ON t FROM writer GRANTED BY boss;\n\
                   CREATE TABLE \"to\" (a text DEFAULT 'GRANT x TO y');\n\
                   COMMENT ON TABLE t IS 'REVOKE a FROM b';";
        assert_eq!(
            grantees(sql).into_iter().collect::<Vec<_>>(),
            ["Odd\"Name", "reader", "staff", "user@domain.com", "writer"]
        );
        let c = Case {
            current: "GRANT SELECT ON t TO a;".into(),
            desired: "GRANT SELECT ON t TO \"user-with-dash\";".into(),
            managed_roles: Some(vec!["b".into(), "PUBLIC".into(), "a".into()]),
            ..Case::default()
        };
        assert_eq!(
            c.roles().into_iter().collect::<Vec<_>>(),
            ["a", "b", "user-with-dash"]
        );
    }

    #[test]
    fn writes_managed_roles_as_ferry_toml() {
        let roles = [
            "app".to_string(),
            "we\"ird\\name".to_string(),
            "PUBLIC".to_string(),
        ];
        let text = managed_roles_config(Dialect::Postgres, &roles);
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["dialect"].as_str(), Some("postgres"));
        let listed: Vec<&str> = parsed["privileges"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(listed, ["app", "we\"ird\\name", "PUBLIC"]);
        let none = managed_roles_config(Dialect::Postgres, &[]);
        let parsed: toml::Table = none.parse().unwrap();
        assert_eq!(
            parsed["privileges"]["roles"].as_array().map(Vec::len),
            Some(0)
        );
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn reads_the_grantee_of_catalog_grant_lines() {
        assert_eq!(
            grant_line_grantee("grant SELECT on column users.id to user@domain.com"),
            Some("user@domain.com")
        );
        assert_eq!(
            grant_line_grantee("grant USAGE on schema public to PUBLIC"),
            Some("PUBLIC")
        );
        assert_eq!(grant_line_grantee("relation users kind=r"), None);
    }
}
