//! Schema sources (a database URL, an environment, SQL files) and the shared steps every
//! command runs on them: pick the dialect, load or inspect, answer rename questions.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ferry_core::url::{dialect_of, redact};
use ferry_core::{
    find_ambiguities, Ambiguity, Database, Dialect, DialectKind, QualifiedName, Renames, Schema,
};

use crate::config::Config;
use crate::dev::DevServer;
use crate::error::{CliError, Exit, Result};
use crate::{prompt, RenameArgs, TargetArgs};

pub enum Source {
    Database(String),
    Files(Vec<PathBuf>),
}

impl Source {
    /// `postgres://…`, `sqlite://…`, `env:NAME`, or a path to a .sql file or directory.
    pub fn parse(text: &str, config: Option<&Config>) -> Result<Source> {
        if let Some(name) = text.strip_prefix("env:") {
            let config = config.ok_or_else(|| {
                CliError::usage(format!("{text}: environments need a ferry.toml"))
            })?;
            return Ok(Source::Database(config.environment_url(name)?));
        }
        if dialect_of(text).is_some() {
            return Ok(Source::Database(text.to_string()));
        }
        if text.contains("://") {
            return Err(CliError::usage(format!(
                "{}: unsupported database URL (use postgres://… or sqlite://…)",
                redact(text)
            )));
        }
        let path = PathBuf::from(text);
        if !path.exists() {
            return Err(CliError::usage(format!(
                "{text}: no such file or directory"
            )));
        }
        Ok(Source::Files(vec![path]))
    }

    pub fn dialect_kind(&self) -> Option<DialectKind> {
        match self {
            Source::Database(url) => dialect_of(url),
            Source::Files(_) => None,
        }
    }

    /// Loads (files, in the dev server's canonical form when there is one) or inspects
    /// (database) the schema.
    pub fn schema(&self, dialect: &'static dyn Dialect, dev: Option<&DevServer>) -> Result<Schema> {
        match self {
            Source::Files(paths) => load_files(paths, dialect, dev),
            Source::Database(url) => Ok(connect(url)?.inspect()?),
        }
    }

    /// The role a database source's statements run as (see [`resolve_session_role`]).
    pub fn session_role(&self) -> Result<Option<String>> {
        match self {
            Source::Database(url) => Ok(connect(url)?.session_role()?),
            Source::Files(_) => Ok(None),
        }
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            Source::Database(url) => Some(url),
            Source::Files(_) => None,
        }
    }
}

/// The schema that SQL files declare; through the dev server when there is one.
pub fn load_files(
    paths: &[PathBuf],
    dialect: &'static dyn Dialect,
    dev: Option<&DevServer>,
) -> Result<Schema> {
    let schema = ferry_sql::load_paths(paths, dialect)?;
    match dev {
        Some(dev) => dev.canonical(&schema),
        None => Ok(schema),
    }
}

/// Files compared with a database: their default privileges `FOR ROLE` the role ferry
/// connects as are the ones without `FOR ROLE`, as inspection reports them.
pub fn resolve_session_role(files: &mut Schema, role: Option<&str>) {
    if let Some(role) = role {
        files.resolve_session_role(role);
    }
}

/// Narrows both sides to the privileges ferry manages: those of the roles in
/// `[privileges] roles`, else of every role the declared schema (the files; `desired`
/// unless `current` is the files) grants something to. Grants to other roles are someone
/// else's business and never revoked.
pub fn managed_grants(
    current: &mut Schema,
    desired: &mut Schema,
    current_is_declared: bool,
    config: Option<&Config>,
) {
    let roles: BTreeSet<String> = match config.and_then(|c| c.privileges.roles.as_ref()) {
        // `public` in any case is PUBLIC: no role can take that name.
        Some(roles) => roles
            .iter()
            .map(|r| {
                if r.eq_ignore_ascii_case(ferry_core::PUBLIC) {
                    ferry_core::PUBLIC.to_string()
                } else {
                    r.clone()
                }
            })
            .collect(),
        None if current_is_declared => current.grantees(),
        None => desired.grantees(),
    };
    current.retain_grants(|r| roles.contains(r));
    desired.retain_grants(|r| roles.contains(r));
}

pub fn dialect(kind: DialectKind) -> &'static dyn Dialect {
    match kind {
        DialectKind::Postgres => &ferry_postgres::POSTGRES,
        DialectKind::Sqlite => &ferry_sqlite::SQLITE,
    }
}

pub fn parse_dialect(name: &str) -> Result<DialectKind> {
    match name.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" | "pg" => Ok(DialectKind::Postgres),
        "sqlite" | "sqlite3" => Ok(DialectKind::Sqlite),
        other => Err(CliError::usage(format!(
            "unknown dialect \"{other}\" (use postgres or sqlite)"
        ))),
    }
}

pub fn connect(url: &str) -> Result<Box<dyn Database>> {
    match dialect_of(url) {
        Some(DialectKind::Postgres) => Ok(Box::new(ferry_postgres::PgDatabase::connect(url)?)),
        Some(DialectKind::Sqlite) => Ok(Box::new(ferry_sqlite::SqliteDatabase::open(url)?)),
        None => Err(CliError::usage(format!(
            "{}: not a database URL",
            redact(url)
        ))),
    }
}

/// The database a command targets, and the policy it runs under.
pub struct Target {
    pub url: String,
    /// The environment's name, when the target is one.
    pub env: Option<String>,
    pub protected: bool,
}

impl Target {
    /// The URL with its password masked, for every message.
    pub fn display(&self) -> String {
        redact(&self.url)
    }

    /// Refuses `what` in a protected environment, saying why and what to run instead.
    pub fn refuse_if_protected(&self, what: &str, instead: &str) -> Result<()> {
        match (&self.env, self.protected) {
            (Some(env), true) => Err(CliError::new(
                Exit::Protected,
                format!(
                    "environment \"{env}\" is protected: ferry refuses {what} there, whatever the flags. {instead}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The database a command targets: `--url`, else `--env` (default `dev`) from ferry.toml.
pub fn target(args: &TargetArgs, config: Option<&Config>) -> Result<Target> {
    if let Some(url) = &args.url {
        if dialect_of(url).is_none() {
            return Err(CliError::usage(format!(
                "{}: unsupported database URL (use postgres://… or sqlite://…)",
                redact(url)
            )));
        }
        return Ok(Target {
            url: url.clone(),
            env: None,
            protected: false,
        });
    }
    let name = args.env.as_deref().unwrap_or("dev");
    let Some(config) = config else {
        return Err(CliError::usage(
            "no database given: pass --url URL, or run where a ferry.toml defines environments",
        ));
    };
    Ok(Target {
        url: config.environment_url(name)?,
        protected: config.environment(name)?.protected,
        env: Some(name.to_string()),
    })
}

/// Schema files: `--schema`, else ferry.toml's `schema`, else `./schema`.
pub fn schema_paths(explicit: &[PathBuf], config: Option<&Config>) -> Result<Vec<PathBuf>> {
    let paths = if !explicit.is_empty() {
        explicit.to_vec()
    } else if let Some(c) = config {
        c.schema.clone()
    } else {
        vec![PathBuf::from("schema")]
    };
    for p in &paths {
        if !p.exists() {
            return Err(CliError::usage(format!(
                "schema path {} does not exist (pass --schema PATH or set `schema` in ferry.toml)",
                p.display()
            )));
        }
    }
    Ok(paths)
}

/// After comparing schema files with a database without a dev database: names the changes
/// that may only be the server's rewriting (see `ferry_core::unproven_changes`), and how to
/// compare in the server's own form instead.
pub fn report_unproven(changes: &[ferry_core::Change]) {
    let names = ferry_core::unproven_changes(changes);
    if names.is_empty() {
        return;
    }
    crate::info!(
        "note: the server rewrites view queries and SQL-standard function bodies; ferry could not \
         prove these unchanged offline and re-creates them: {}. If you did not change them, \
         compare in the server's form with --dev-url URL (or --dev-url target).",
        names.join(", ")
    );
}

/// Warns about statements ferry keeps but does not manage yet.
pub fn report_opaque(schema: &Schema, what: &str) {
    if schema.opaque.is_empty() {
        return;
    }
    crate::info!(
        "note: {} statement(s) in {what} are not managed by ferry yet and were left alone:",
        schema.opaque.len()
    );
    for s in schema.opaque.iter().take(10) {
        let first_line = s.sql.lines().next().unwrap_or("");
        crate::info!("  {}: {first_line}", s.origin);
    }
    if schema.opaque.len() > 10 {
        crate::info!("  … and {} more", schema.opaque.len() - 10);
    }
}

/// Collects every answer to "renamed or created?": annotations, flags, then a prompt when
/// a person is there. Fails, listing each question, when one is left unanswered.
pub fn resolve_renames(
    from: &Schema,
    to: &Schema,
    args: &RenameArgs,
    dialect: &dyn Dialect,
) -> Result<Renames> {
    let mut renames = Renames {
        no_rename: args.no_rename,
        ..Renames::default()
    };
    renames.add_hints(from, to);
    for flag in &args.renames {
        add_rename_flag(&mut renames, flag, from, dialect)?;
    }
    renames.validate(from, to).map_err(CliError::usage)?;
    let mut open = find_ambiguities(from, to, &renames);
    if open.is_empty() {
        return Ok(renames);
    }
    if !prompt::interactive() {
        let list: Vec<String> = open.iter().map(|a| format!("  - {a}")).collect();
        return Err(CliError::new(
            Exit::Ambiguous,
            format!(
                "ferry cannot tell renames from drop + create here:\n{}\nanswer with --rename OLD=NEW (e.g. --rename users.name=full_name), a `-- @renamed from=OLD` comment in the schema, or --no-rename to drop and create",
                list.join("\n")
            ),
        ));
    }
    while let Some(question) = open.first().cloned() {
        ask(&question, &mut renames);
        open = find_ambiguities(from, to, &renames);
    }
    Ok(renames)
}

fn ask(question: &Ambiguity, renames: &mut Renames) {
    match question {
        Ambiguity::Table {
            namespace,
            dropped,
            added,
        } => {
            let new = &added[0];
            let mut choices = vec![format!("create table {new}")];
            choices.extend(dropped.iter().map(|d| format!("rename {d} → {new}")));
            let pick = prompt::choose(
                &format!("Is table {namespace}.{new} new, or renamed?"),
                &choices,
            );
            let to = QualifiedName::new(namespace.clone(), new.clone());
            match pick {
                Some(i) if i > 0 => {
                    renames.tables.insert(
                        to,
                        QualifiedName::new(namespace.clone(), dropped[i - 1].clone()),
                    );
                }
                _ => {
                    renames.created_tables.insert(to);
                }
            }
        }
        Ambiguity::Column {
            table,
            dropped,
            added,
        } => {
            let new = &added[0];
            let mut choices = vec![format!("create column {new}")];
            choices.extend(dropped.iter().map(|d| format!("rename {d} → {new}")));
            let pick = prompt::choose(
                &format!("Is column {table}.{new} new, or renamed?"),
                &choices,
            );
            let key = (table.clone(), new.clone());
            match pick {
                Some(i) if i > 0 => {
                    renames.columns.insert(key, dropped[i - 1].clone());
                }
                _ => {
                    renames.created_columns.insert(key);
                }
            }
        }
    }
}

fn add_rename_flag(
    renames: &mut Renames,
    flag: &str,
    from: &Schema,
    dialect: &dyn Dialect,
) -> Result<()> {
    let bad = || {
        CliError::usage(format!(
            "--rename {flag}: expected OLD=NEW, e.g. users=accounts or users.name=full_name"
        ))
    };
    let (old, new) = flag.split_once('=').ok_or_else(bad)?;
    let new = new.trim().to_string();
    let parts: Vec<String> = old.trim().split('.').map(str::to_string).collect();
    if new.is_empty() || parts.iter().any(String::is_empty) {
        return Err(bad());
    }
    let ns = dialect.default_namespace().to_string();
    match parts.as_slice() {
        [table] => {
            renames.tables.insert(
                QualifiedName::new(ns.clone(), new),
                QualifiedName::new(ns, table.clone()),
            );
        }
        [a, b] => {
            // table.column, unless `a.b` names a table in schema `a`.
            let as_table = QualifiedName::new(a.clone(), b.clone());
            if from.tables.contains_key(&as_table)
                && !from
                    .tables
                    .contains_key(&QualifiedName::new(ns.clone(), a.clone()))
            {
                renames
                    .tables
                    .insert(QualifiedName::new(a.clone(), new), as_table);
            } else {
                let table = QualifiedName::new(ns, a.clone());
                let table = renamed_table(renames, table);
                renames.columns.insert((table, new), b.clone());
            }
        }
        [schema, table, column] => {
            let table = renamed_table(renames, QualifiedName::new(schema.clone(), table.clone()));
            renames.columns.insert((table, new), column.clone());
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// Column renames are keyed by the table's new name.
fn renamed_table(renames: &Renames, old: QualifiedName) -> QualifiedName {
    renames
        .tables
        .iter()
        .find(|(_, o)| **o == old)
        .map(|(n, _)| n.clone())
        .unwrap_or(old)
}
