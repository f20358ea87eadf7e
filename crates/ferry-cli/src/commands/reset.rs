//! `ferry reset` (development only): drop everything ferry manages and build the database
//! again from the schema files, or from the migrations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ferry_core::{Renames, Schema};

use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, report_opaque, schema_paths, target};
use crate::{prompt, TargetArgs};

#[derive(Args)]
pub struct ResetArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Rebuild by applying the migrations instead of pushing the schema files.
    #[arg(long)]
    migrations: bool,
    #[command(flatten)]
    dir: DirArgs,
    /// Schema files or directories (default: `schema` from ferry.toml, else ./schema).
    #[arg(long, value_name = "PATH")]
    schema: Vec<PathBuf>,
    /// Do not ask (needed when not on a terminal): every row is lost.
    #[arg(long)]
    yes: bool,
}

pub fn run(config_path: Option<&Path>, args: ResetArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    dest.refuse_if_protected(
        "reset",
        "reset drops every table; it is for development databases only",
    )?;
    if !args.yes {
        if !prompt::interactive() {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                format!(
                    "reset drops every table of {} and its rows; re-run with --yes to confirm. Nothing was changed",
                    dest.display()
                ),
            ));
        }
        if !prompt::confirm(&format!(
            "Drop every table of {} and rebuild it?",
            dest.display()
        )) {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "cancelled; nothing was changed",
            ));
        }
    }
    // Read everything needed before dropping anything.
    let dir = args.dir.open(config.as_ref())?;
    let paths = match args.migrations {
        true => Vec::new(),
        false => schema_paths(&args.schema, config.as_ref())?,
    };
    let mut db = connect(&dest.url)?;
    let dialect = db.dialect();
    let desired = match args.migrations {
        true => None,
        false => Some(ferry_sql::load_paths(&paths, dialect)?),
    };
    if args.migrations {
        migrations::require_integrity(&dir, true)?;
    }

    let current = db.inspect()?;
    report_opaque(&current, "the database");
    let empty = Schema::default();
    let no_renames = Renames {
        no_rename: true,
        ..Renames::default()
    };
    let wait = migrations::lock_wait(None, config.as_ref());
    migrations::with_lock(db.as_mut(), wait, |db| {
        let drop = dialect.plan(
            &current,
            &empty,
            &ferry_core::diff(&current, &empty, &no_renames),
        )?;
        db.apply(&drop)?;
        db.drop_history()?;
        crate::info!(
            "Dropped {} table(s) of {}.",
            current.tables.len(),
            dest.display()
        );
        match &desired {
            Some(schema) => {
                report_opaque(schema, "the schema");
                let build = dialect.plan(
                    &empty,
                    schema,
                    &ferry_core::diff(&empty, schema, &no_renames),
                )?;
                db.apply(&build)?;
                crate::info!("Pushed the schema: {} table(s).", schema.tables.len());
            }
            None => {
                for m in &dir.migrations {
                    migrations::run_up(db, m, dialect.kind())?;
                    crate::info!("applied {}", m.id());
                }
            }
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
