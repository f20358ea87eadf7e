//! `ferry baseline`: adopt an existing database. Writes its current schema as the first
//! migration and records it as applied there, without running it; or, with `--version` of
//! a migration already on disk, records that migration and every older one as applied in
//! a database that already matches them.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use ferry_core::{HistoryChange, Schema, Script};
use ferry_migrate::{compare_versions, slug};

use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::TargetArgs;

#[derive(Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
    /// Record the migrations up to this existing version as applied, instead of writing one.
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// Name of the migration written (default: baseline).
    #[arg(long, default_value = "baseline")]
    name: String,
    /// Record even when the database does not match the migrations.
    #[arg(long)]
    force: bool,
}

pub fn run(config_path: Option<&Path>, args: BaselineArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    if args.force {
        dest.refuse_if_protected(
            "--force",
            "make the database match the migrations first (`ferry check --env` shows the drift)",
        )?;
    }
    let mut dir = args.dir.open(config.as_ref())?;
    migrations::require_integrity(&dir, false)?;
    let mut db = connect(&dest.url)?;
    let dialect = db.dialect();
    let target = dest.display();
    if !db.history()?.is_empty() {
        return Err(CliError::usage(format!(
            "{target} already has a migration history: baseline adopts a database that has none (see `ferry status`)"
        )));
    }
    let current = db.inspect()?;

    let upto = match &args.version {
        Some(v) => {
            let Some(m) = dir.get(v) else {
                return Err(CliError::usage(format!(
                    "--version {v}: no such migration in {}",
                    dir.path.display()
                )));
            };
            m.version.clone()
        }
        None => {
            if let Some(latest) = dir.latest() {
                return Err(CliError::usage(format!(
                    "{} already holds migrations (latest {}): pass --version VERSION to record the ones this database already has",
                    dir.path.display(),
                    latest.id()
                )));
            }
            let version = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
            write_baseline(&dir.path, &version, &slug(&args.name), &current, dialect)?;
            dir = args.dir.open(config.as_ref())?;
            version
        }
    };

    let adopted: Vec<_> = dir
        .migrations
        .iter()
        .filter(|m| compare_versions(&m.version, &upto).is_le())
        .collect();
    let history: Vec<_> = adopted
        .iter()
        .map(|m| ferry_core::AppliedMigration {
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.checksum(),
            applied_at: String::new(),
            execution_ms: 0,
            ferry_version: String::new(),
        })
        .collect();
    if let (Some(drift), false) = (
        migrations::drift(db.as_mut(), &dir, &history, config.as_ref())?,
        args.force,
    ) {
        return Err(CliError::new(
            Exit::Drift,
            format!(
                "{target} does not match the migrations up to {upto}; nothing was recorded. What would make it match:\n{drift}Fix the database or the migrations, or pass --force to record them anyway"
            ),
        ));
    }
    let wait = migrations::lock_wait(None, config.as_ref());
    migrations::with_lock(db.as_mut(), wait, |db| {
        for m in &adopted {
            let nothing = Script {
                origin: m.up_path().display().to_string(),
                statements: Vec::new(),
                transactional: true,
                committed_first: 0,
            };
            db.run_script(
                &nothing,
                &HistoryChange::Record {
                    version: m.version.clone(),
                    name: m.name.clone(),
                    checksum: m.checksum(),
                },
            )?;
            crate::info!("recorded {} as applied (not run)", m.id());
        }
        Ok(())
    })?;
    crate::info!("{target} is now at version {upto}.");
    Ok(ExitCode::SUCCESS)
}

fn write_baseline(
    dir: &Path,
    version: &str,
    name: &str,
    schema: &Schema,
    dialect: &'static dyn ferry_core::Dialect,
) -> Result<()> {
    let id = format!("{version}_{name}");
    let path = dir.join(&id);
    std::fs::create_dir_all(&path).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot create {}: {e}", path.display()),
        )
    })?;
    let mut up =
        format!("-- {id}: up (the schema of an existing database, written by ferry baseline)\n\n");
    for (_, text) in dialect.render_schema(schema) {
        up.push_str(&text);
    }
    let empty = Schema::default();
    let renames = ferry_core::Renames {
        no_rename: true,
        ..Default::default()
    };
    let down_plan = dialect.plan(schema, &empty, &ferry_core::diff(schema, &empty, &renames))?;
    let down = migrations::render_migration_file(
        &format!("{id}: down (generated by ferry), drops everything up.sql creates"),
        &down_plan,
    );
    migrations::write_file(&path.join(ferry_migrate::dir::UP), &up)?;
    migrations::write_file(&path.join(ferry_migrate::dir::DOWN), &down)?;
    migrations::write_sum(dir)?;
    crate::info!("wrote {}", path.display());
    Ok(())
}
