//! `ferry.toml`: dialect, paths and named environments.
//!
//! ```toml
//! dialect = "sqlite"            # or "postgres"
//! schema = ["schema"]           # files or directories of .sql files
//! migrations = "migrations"
//! dev_url = "postgres://localhost/postgres"  # canonical forms via throwaway databases there
//!
//! [lint]
//! allow = ["missing-lock-timeout"]  # rules silenced everywhere
//!
//! [privileges]
//! roles = ["app", "reporting"]  # whose GRANTs ferry manages (default: those the schema grants to)
//!
//! [migrate]
//! allow_out_of_order = false    # apply migrations merged late, older than the newest applied
//! lock_timeout = 60             # seconds to wait for another deploy's lock
//!
//! [environments.dev]
//! url = "sqlite://dev.db"
//!
//! [environments.prod]
//! url = "${DATABASE_URL}"       # expanded from the environment (and a .env beside the file)
//! protected = true              # the default for `prod` and `production`
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{CliError, Result};

pub const FILE_NAME: &str = "ferry.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dialect: Option<String>,
    #[serde(default)]
    schema: Vec<String>,
    migrations: Option<String>,
    backups: Option<String>,
    dev_url: Option<String>,
    #[serde(default)]
    migrate: MigrateSettings,
    #[serde(default)]
    lint: LintSettings,
    #[serde(default)]
    privileges: PrivilegeSettings,
    #[serde(default)]
    environments: BTreeMap<String, RawEnvironment>,
}

/// `[privileges]`: whose GRANTs ferry manages.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivilegeSettings {
    /// The roles whose privileges are compared, granted and revoked; grants to any other
    /// role are left alone. Default: every role the desired schema grants something to.
    pub roles: Option<Vec<String>>,
}

/// `[lint]`: project-wide choices about the rules of `ferry check`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSettings {
    /// Rules silenced everywhere (e.g. `missing-lock-timeout` when the migration role has a
    /// lock_timeout of its own).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// `[migrate]`: how `ferry migrate` treats history.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrateSettings {
    /// Apply pending migrations older than the newest applied one (merged late).
    #[serde(default)]
    pub allow_out_of_order: bool,
    /// Seconds to wait for another deploy's migration lock.
    pub lock_timeout: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    url: String,
    /// Default: true for `prod` and `production`, false otherwise.
    protected: Option<bool>,
}

/// A named target and its policy.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The URL as written, `${VAR}`s not yet expanded (they may hold secrets).
    url: String,
    /// Refuses push, reset and --force; migrate checks first, takes a backup, verifies after
    /// and needs --yes when unattended.
    pub protected: bool,
}

/// A loaded configuration; paths are resolved against the file's directory.
#[derive(Debug, Default)]
pub struct Config {
    /// Directory of `ferry.toml` (the project root).
    pub root: PathBuf,
    pub dialect: Option<String>,
    pub schema: Vec<PathBuf>,
    pub migrations: PathBuf,
    pub migrate: MigrateSettings,
    pub lint: LintSettings,
    pub privileges: PrivilegeSettings,
    /// Where `ferry backup` and protected migrations write backups.
    pub backups: PathBuf,
    /// The dev database's URL as written (`${VAR}`s not yet expanded); see `dev.rs`.
    pub dev_url: Option<String>,
    environments: BTreeMap<String, Environment>,
}

impl Config {
    /// Finds `ferry.toml` (given path, or the current directory and its parents) and loads
    /// it. No file is fine: every command also works from flags alone.
    pub fn discover(explicit: Option<&Path>) -> Result<Option<Config>> {
        let path = match explicit {
            Some(p) => {
                if !p.is_file() {
                    return Err(CliError::usage(format!(
                        "config file {} not found",
                        p.display()
                    )));
                }
                p.to_path_buf()
            }
            None => {
                let Ok(mut dir) = std::env::current_dir() else {
                    return Ok(None);
                };
                loop {
                    let candidate = dir.join(FILE_NAME);
                    if candidate.is_file() {
                        break candidate;
                    }
                    if !dir.pop() {
                        return Ok(None);
                    }
                }
            }
        };
        Self::load(&path).map(Some)
    }

    fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
        let raw: RawConfig = toml::from_str(&text)
            .map_err(|e| CliError::usage(format!("{}: {}", path.display(), e.message())))?;
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        // A .env beside ferry.toml feeds ${VAR}s; real environment variables win.
        let _ = dotenvy::from_path(root.join(".env"));
        if let Some(d) = &raw.dialect {
            if !matches!(d.as_str(), "postgres" | "sqlite") {
                return Err(CliError::usage(format!(
                    "{}: dialect = \"{d}\" is not supported (use \"postgres\" or \"sqlite\")",
                    path.display()
                )));
            }
        }
        for rule in &raw.lint.allow {
            if ferry_lint::rule(rule).is_none() {
                let known: Vec<&str> = ferry_lint::rules().iter().map(|r| r.name).collect();
                return Err(CliError::usage(format!(
                    "{}: [lint] allow names no rule \"{rule}\" (rules: {})",
                    path.display(),
                    known.join(", ")
                )));
            }
        }
        let schema = if raw.schema.is_empty() {
            vec![root.join("schema")]
        } else {
            raw.schema.iter().map(|s| root.join(s)).collect()
        };
        Ok(Config {
            dialect: raw.dialect,
            schema,
            migrations: root.join(raw.migrations.as_deref().unwrap_or("migrations")),
            migrate: raw.migrate,
            lint: raw.lint,
            privileges: raw.privileges,
            backups: root.join(raw.backups.as_deref().unwrap_or("backups")),
            dev_url: raw.dev_url,
            environments: raw
                .environments
                .into_iter()
                .map(|(name, env)| {
                    let protected = env
                        .protected
                        .unwrap_or(matches!(name.as_str(), "prod" | "production"));
                    (
                        name,
                        Environment {
                            url: env.url,
                            protected,
                        },
                    )
                })
                .collect(),
            root,
        })
    }

    /// The URL of environment `name`, with `${VAR}`s expanded.
    pub fn environment_url(&self, name: &str) -> Result<String> {
        let raw = &self.environment(name)?.url;
        let url = expand_vars(raw, &format!("environment \"{name}\""))?;
        Ok(self.resolve_sqlite_path(&url))
    }

    pub fn environment(&self, name: &str) -> Result<&Environment> {
        let Some(env) = self.environments.get(name) else {
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            return Err(CliError::usage(format!(
                "no environment \"{name}\" in {}{}",
                self.root.join(FILE_NAME).display(),
                if known.is_empty() {
                    String::from(" (it defines none)")
                } else {
                    format!(" (it defines: {})", known.join(", "))
                }
            )));
        };
        Ok(env)
    }

    /// Relative SQLite paths in ferry.toml are relative to the file, not to the cwd.
    fn resolve_sqlite_path(&self, url: &str) -> String {
        for prefix in ["sqlite://", "sqlite:"] {
            if let Some(path) = url.strip_prefix(prefix) {
                if path.starts_with(':')
                    || Path::new(path).is_absolute()
                    || self.root == Path::new(".")
                {
                    return url.to_string();
                }
                return format!("sqlite://{}", self.root.join(path).display());
            }
        }
        url.to_string()
    }
}

/// Expands `${VAR}` from the process environment; a missing variable names itself and
/// `owner`, the setting that needs it (`environment "prod"`, `dev_url`).
pub fn expand_vars(value: &str, owner: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(CliError::usage(format!("{owner}: unclosed ${{ in its url")));
        };
        let var = &after[..end];
        match std::env::var(var) {
            Ok(v) => out.push_str(&v),
            Err(_) => {
                return Err(CliError::usage(format!(
                    "{owner} needs the variable {var}, which is not set (set it, or add it to .env beside ferry.toml)"
                )))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
