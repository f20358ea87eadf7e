//! `ferry backup`: a complete copy of an environment's database in one file;
//! `ferry backup list`: the backups taken so far; `ferry restore FILE`: load one back.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::migrations;
use crate::source::{connect, target};
use crate::{prompt, TargetArgs};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    action: Option<BackupAction>,
    #[command(flatten)]
    target: TargetArgs,
    /// Write here instead of the backups directory (`backups` in ferry.toml, else ./backups).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BackupAction {
    /// List the backups in the backups directory, newest first.
    List {
        /// Only this environment's backups.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
}

pub fn run(config_path: Option<&Path>, args: BackupArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    if let Some(BackupAction::List { env }) = &args.action {
        return list(config.as_ref(), env.as_deref());
    }
    let dest = target(&args.target, config.as_ref())?;
    let mut db = connect(&dest.url)?;
    let version = db
        .history()?
        .iter()
        .map(|h| h.version.clone())
        .max_by(|a, b| ferry_migrate::compare_versions(a, b));
    match &args.out {
        Some(path) => {
            let info = db.backup_to(path)?;
            crate::info!(
                "Backup of {} written to {} ({}, {} table(s), {} row(s), {} bytes)",
                dest.display(),
                path.display(),
                info.method,
                info.tables,
                info.rows,
                info.bytes
            );
        }
        None => {
            migrations::take_backup(db.as_mut(), config.as_ref(), &dest, version.as_deref())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(config: Option<&Config>, env: Option<&str>) -> Result<ExitCode> {
    let dir = migrations::backups_dir(config);
    let mut rows = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::info!("No backups: {} does not exist.", dir.display());
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            return Err(CliError::new(
                Exit::Failure,
                format!("cannot read {}: {e}", dir.display()),
            ))
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".backup") else {
            continue;
        };
        // <env>-<time>-v<version>; the environment name may itself hold dashes.
        let mut parts = stem.rsplitn(3, '-');
        let (Some(version), Some(time), Some(environment)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if env.is_some_and(|e| e != environment) {
            continue;
        }
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        rows.push((
            time.to_string(),
            environment.to_string(),
            version.trim_start_matches('v').to_string(),
            bytes,
            entry.path(),
        ));
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (time, environment, version, bytes, path) in &rows {
        println!(
            "{time}  {environment:<12} version {version:<16} {bytes:>12} bytes  {}",
            path.display()
        );
    }
    if rows.is_empty() {
        crate::info!("No backups in {}.", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `ferry backup`.
    file: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Restore into a protected environment without asking.
    #[arg(long)]
    yes: bool,
}

pub fn restore(config_path: Option<&Path>, args: RestoreArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    if !args.file.is_file() {
        return Err(CliError::usage(format!(
            "{}: no such backup file (see `ferry backup list`)",
            args.file.display()
        )));
    }
    if dest.protected && !args.yes {
        let question = format!(
            "Restore {} into protected environment {}?",
            args.file.display(),
            dest.env.as_deref().unwrap_or("")
        );
        if !prompt::interactive() {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "restoring into a protected environment needs confirmation: re-run with --yes; nothing was changed",
            ));
        }
        if !prompt::confirm(&question) {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "cancelled; nothing was changed",
            ));
        }
    }
    let mut db = connect(&dest.url)?;
    let started = std::time::Instant::now();
    let info = db.restore_from(&args.file)?;
    crate::info!(
        "Restored {} into {} ({}, {} table(s), {} row(s), {} ms)",
        args.file.display(),
        dest.display(),
        info.method,
        info.tables,
        info.rows,
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}
