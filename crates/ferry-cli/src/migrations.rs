//! What the versioned-migration commands share: finding the directory, its integrity,
//! refusing a history that disagrees with it, replaying it into a schema, and writing
//! generated migration files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use ferry_core::{
    AppliedMigration, Database, DialectKind, HistoryChange, MigrationStore, Plan, Schema,
};
use ferry_migrate::{sum, Migration, MigrationDir, State, Status, SumProblem};

use crate::config::Config;
use crate::dev::DevServer;
use crate::error::{CliError, Exit, Result};

#[derive(Args, Debug, Clone, Default)]
pub struct DirArgs {
    /// Migrations directory (default: `migrations` from ferry.toml, else ./migrations).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl DirArgs {
    pub fn path(&self, config: Option<&Config>) -> PathBuf {
        match (&self.dir, config) {
            (Some(dir), _) => dir.clone(),
            (None, Some(c)) => c.migrations.clone(),
            (None, None) => PathBuf::from("migrations"),
        }
    }

    pub fn open(&self, config: Option<&Config>) -> Result<MigrationDir> {
        let path = self.path(config);
        MigrationDir::open(&path).map_err(|e| {
            CliError::new(
                Exit::Failure,
                format!("cannot read {}: {e}", path.display()),
            )
        })
    }
}

/// What is wrong with the directory itself, one line each, and whether it lacks `ferry.sum`
/// (a directory written by another tool, or not yet hashed).
pub struct Integrity {
    pub problems: Vec<String>,
    pub unsummed: bool,
}

pub fn integrity(dir: &MigrationDir) -> Result<Integrity> {
    let mut problems: Vec<String> = dir.problems.iter().map(ToString::to_string).collect();
    let sum_problems = sum::verify(dir).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot read {}: {e}", sum::path(&dir.path).display()),
        )
    })?;
    let unsummed = sum_problems.contains(&SumProblem::Missing);
    problems.extend(sum_problems.iter().map(ToString::to_string));
    Ok(Integrity { problems, unsummed })
}

/// Refuses a directory that fails its integrity check. Without `ferry.sum` (a directory
/// written by another tool) `allow_unsummed` lets the caller go on with a warning.
pub fn require_integrity(dir: &MigrationDir, allow_unsummed: bool) -> Result<()> {
    let Integrity {
        mut problems,
        unsummed,
    } = integrity(dir)?;
    if unsummed && allow_unsummed {
        problems.retain(|p| *p != SumProblem::Missing.to_string());
        eprintln!(
            "warning: {} has no {}: file integrity is not verified (run `ferry hash` to create it)",
            dir.path.display(),
            sum::FILE_NAME
        );
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(CliError::new(
        Exit::Integrity,
        format!(
            "{} fails its integrity check; nothing was done:\n  - {}",
            dir.path.display(),
            problems.join("\n  - ")
        ),
    ))
}

/// Refuses a history that disagrees with the directory: an applied file edited, an applied
/// file gone, or (unless allowed) a pending migration older than the newest applied one.
pub fn require_consistent_history(status: &Status, allow_out_of_order: bool) -> Result<()> {
    let ids = |state: State| -> Vec<String> { status.with_state(state).map(|e| e.id()).collect() };
    let modified = ids(State::Modified);
    if !modified.is_empty() {
        return Err(CliError::new(
            Exit::Modified,
            format!(
                "applied migration(s) changed since they were applied: {}\nnothing was done. An applied migration must not be edited: revert the edit and put the change in a new migration (`ferry generate`); if the edit is intended and harmless, record it with `ferry repair VERSION`",
                modified.join(", ")
            ),
        ));
    }
    let missing = ids(State::Missing);
    if !missing.is_empty() {
        return Err(CliError::new(
            Exit::Missing,
            format!(
                "applied migration(s) missing from the migrations directory: {}\nnothing was done. Restore them (they are in git history, or on the branch that applied them) before migrating this database",
                missing.join(", ")
            ),
        ));
    }
    let late = ids(State::OutOfOrder);
    if !late.is_empty() && !allow_out_of_order {
        let current = status.current_version().unwrap_or("");
        return Err(CliError::new(
            Exit::OutOfOrder,
            format!(
                "pending migration(s) older than the newest applied one ({current}): {}\nthey were probably merged late from another branch; nothing was done. Move them after the applied ones with `ferry rebase VERSION`, or apply them where they are with --allow-out-of-order (or `allow_out_of_order = true` under [migrate] in ferry.toml)",
                late.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Migrations replayed one at a time without touching any real database: SQLite runs
/// them in an in-memory database, PostgreSQL replays their DDL onto the model.
pub enum Replay {
    Sqlite(ferry_sqlite::SqliteDatabase),
    Postgres(Box<ferry_sql::Replayer<'static>>),
    /// Run for real in a throwaway database on the dev server.
    Dev(Box<dyn Database>),
}

impl Replay {
    pub fn new(kind: DialectKind) -> Result<Replay> {
        Replay::on(kind, None)
    }

    /// On the dev server when there is one, else offline.
    pub fn on(kind: DialectKind, dev: Option<&DevServer>) -> Result<Replay> {
        if let Some(dev) = dev {
            return Ok(Replay::Dev(dev.scratch()?));
        }
        Ok(match kind {
            DialectKind::Sqlite => {
                Replay::Sqlite(ferry_sqlite::SqliteDatabase::open("sqlite::memory:")?)
            }
            DialectKind::Postgres => Replay::Postgres(Box::new(ferry_sql::Replayer::new(
                crate::source::dialect(kind),
            ))),
        })
    }

    pub fn apply(&mut self, m: &Migration) -> Result<()> {
        match self {
            Replay::Sqlite(db) => run_up(db, m, DialectKind::Sqlite).map_err(|e| {
                CliError::new(
                    Exit::InvalidSchema,
                    format!("cannot replay the migrations: {}", e.message),
                )
            }),
            Replay::Postgres(replayer) => {
                Ok(replayer.apply(&m.up_path().display().to_string(), &m.up)?)
            }
            Replay::Dev(db) => {
                let kind = db.dialect().kind();
                run_up(db.as_mut(), m, kind).map_err(|e| {
                    CliError::new(
                        Exit::InvalidSchema,
                        format!(
                            "cannot replay the migrations on the dev database: {}",
                            e.message
                        ),
                    )
                })
            }
        }
    }

    /// The schema the migrations so far build.
    pub fn schema(&mut self) -> Result<Schema> {
        match self {
            Replay::Sqlite(db) => Ok(db.inspect()?),
            Replay::Postgres(replayer) => Ok(replayer.schema()?),
            Replay::Dev(db) => Ok(db.inspect()?),
        }
    }
}

/// The schema that `migrations` build: on the dev server when there is one, else offline
/// (see [`Replay`]).
pub fn replay(
    kind: DialectKind,
    migrations: &[&Migration],
    dev: Option<&DevServer>,
) -> Result<Schema> {
    let mut replay = Replay::on(kind, dev)?;
    for m in migrations {
        replay.apply(m)?;
    }
    replay.schema()
}

/// Runs a migration's `up.sql` and records it.
pub fn run_up(db: &mut dyn MigrationStore, m: &Migration, kind: DialectKind) -> Result<()> {
    let script = m.up_script(kind)?;
    echo(&script);
    db.run_script(
        &script,
        &HistoryChange::Record {
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.checksum(),
        },
    )?;
    Ok(())
}

/// With `--verbose`: the statements of a script about to run.
pub fn echo(script: &ferry_core::Script) {
    if !crate::ui::verbose() {
        return;
    }
    for stmt in &script.statements {
        eprintln!("  {}:{}: {}", script.origin, stmt.line, stmt.sql);
    }
}

/// The migrations an applied history stands for, in order.
pub fn applied_migrations<'a>(
    dir: &'a MigrationDir,
    history: &[AppliedMigration],
) -> Vec<&'a Migration> {
    dir.migrations
        .iter()
        .filter(|m| {
            history
                .iter()
                .any(|h| ferry_migrate::compare_versions(&h.version, &m.version).is_eq())
        })
        .collect()
}

pub fn lock_wait(seconds: Option<u64>, config: Option<&Config>) -> Duration {
    seconds
        .or_else(|| config.and_then(|c| c.migrate.lock_timeout))
        .map(Duration::from_secs)
        .unwrap_or(ferry_core::history::DEFAULT_LOCK_WAIT)
}

/// Runs `body` under the migration lock, releasing it whatever happens.
pub fn with_lock<T>(
    db: &mut dyn Database,
    wait: Duration,
    body: impl FnOnce(&mut dyn Database) -> Result<T>,
) -> Result<T> {
    db.lock(wait)?;
    let result = body(db);
    let unlocked = db.unlock();
    let value = result?;
    unlocked?;
    Ok(value)
}

/// A migration file's text: what it is, its hazards, then the plan's statements (SQLite's
/// foreign-key checks are run by `ferry migrate` itself, so they are left out).
pub fn render_migration_file(title: &str, plan: &Plan) -> String {
    let mut out = format!("-- {title}\n");
    let hazards: Vec<String> = plan.hazards().map(ToString::to_string).collect();
    if !hazards.is_empty() {
        out.push_str("--\n-- hazards:\n");
        for h in &hazards {
            out.push_str(&format!("--   {h}\n"));
        }
    }
    out.push('\n');
    for stmt in &plan.before {
        out.push_str(&format!("{stmt};\n"));
    }
    if !plan.before.is_empty() {
        // PostgreSQL refuses an enum value in the transaction that adds it; these
        // statements are written to be safe to run again.
        out.push_str(&format!(
            "-- {} (the statements above are committed before the transaction of the rest)\n",
            ferry_migrate::dir::COMMIT
        ));
    }
    for step in &plan.steps {
        for h in &step.hazards {
            out.push_str(&format!("-- {h}\n"));
        }
        for stmt in &step.statements {
            out.push_str(&format!("{stmt};\n"));
        }
    }
    for stmt in &plan.after {
        out.push_str(&format!("{stmt};\n"));
    }
    out
}

pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

pub fn write_sum(dir: &Path) -> Result<()> {
    let fresh = MigrationDir::open(dir)
        .map_err(|e| CliError::new(Exit::Failure, format!("cannot read {}: {e}", dir.display())))?;
    sum::write(&fresh).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot write {}: {e}", sum::path(dir).display()),
        )
    })
}

/// The rules ferry.toml's `[lint] allow` silences everywhere.
pub fn lint_allowed(config: Option<&Config>) -> &[String] {
    config.map(|c| c.lint.allow.as_slice()).unwrap_or(&[])
}

/// A lint finding and the file it is in.
pub struct LintLine {
    pub file: String,
    pub finding: ferry_lint::Finding,
}

/// Lints each migration against the schema the migrations before it build, replaying the
/// directory once.
pub fn lint_migrations(
    dir: &MigrationDir,
    to_lint: &[&Migration],
    kind: DialectKind,
    allowed: &[String],
) -> Result<Vec<LintLine>> {
    let wanted: std::collections::HashSet<String> = to_lint.iter().map(|m| m.id()).collect();
    let mut left = wanted.len();
    let mut replay = Replay::new(kind)?;
    let mut out = Vec::new();
    for m in &dir.migrations {
        if wanted.contains(&m.id()) {
            let before = replay.schema()?;
            let file = m.up_path().display().to_string();
            let findings = ferry_lint::lint(&ferry_lint::LintInput {
                sql: &m.up,
                origin: &file,
                kind,
                before: &before,
                transactional: ferry_migrate::dir::is_transactional(&m.up),
            })?;
            out.extend(
                findings
                    .into_iter()
                    .filter(|f| !allowed.iter().any(|rule| rule == f.rule))
                    .map(|finding| LintLine {
                        file: file.clone(),
                        finding,
                    }),
            );
            left -= 1;
            // The last one linted need not replay: a statement replay cannot follow
            // must not hide its findings.
            if left == 0 {
                break;
            }
        }
        replay.apply(m)?;
    }
    Ok(out)
}

/// Drift: the SQL that would bring the database back to what its applied migrations
/// build; `None` when they match.
pub fn drift(
    db: &mut dyn Database,
    dir: &MigrationDir,
    history: &[AppliedMigration],
    config: Option<&Config>,
) -> Result<Option<String>> {
    let dialect = db.dialect();
    let applied = applied_migrations(dir, history);
    let mut expected = replay(dialect.kind(), &applied, None)?;
    let mut actual = db.inspect()?;
    crate::source::resolve_session_role(&mut expected, db.session_role()?.as_deref());
    crate::source::managed_grants(&mut actual, &mut expected, false, config);
    let renames = ferry_core::Renames {
        no_rename: true,
        ..Default::default()
    };
    let plan = dialect.plan(
        &actual,
        &expected,
        &ferry_core::diff(&actual, &expected, &renames),
    )?;
    Ok((!plan.is_empty()).then(|| plan.to_sql()))
}

/// `backups` from ferry.toml, else ./backups.
pub fn backups_dir(config: Option<&Config>) -> PathBuf {
    config
        .map(|c| c.backups.clone())
        .unwrap_or_else(|| PathBuf::from("backups"))
}

/// Takes a backup of `dest` into the configured backups directory before a deploy; the file
/// name carries the environment, the UTC time and the schema version.
pub fn take_backup(
    db: &mut dyn Database,
    config: Option<&Config>,
    dest: &crate::source::Target,
    version: Option<&str>,
) -> Result<PathBuf> {
    let dir = backups_dir(config);
    std::fs::create_dir_all(&dir).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let name = format!(
        "{}-{}-v{}.backup",
        dest.env.as_deref().unwrap_or("db"),
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        version.unwrap_or("0")
    );
    let path = dir.join(name);
    let started = std::time::Instant::now();
    let info = db.backup_to(&path)?;
    crate::info!(
        "Backup of {} written to {} ({}, {} table(s), {} row(s), {} bytes, {} ms)",
        dest.display(),
        path.display(),
        info.method,
        info.tables,
        info.rows,
        info.bytes,
        started.elapsed().as_millis()
    );
    Ok(path)
}
