//! `ferry rollback`: run `down.sql` files, newest first, each in its own transaction with
//! its history row removed.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use ferry_core::{AppliedMigration, DialectKind, HistoryChange, Schema};
use ferry_migrate::{compare_versions, status, Migration, MigrationDir};

use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::{prompt, TargetArgs};

#[derive(Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
    /// How many applied migrations to roll back, newest first (default 1).
    #[arg(long, value_name = "N", conflicts_with = "to")]
    steps: Option<usize>,
    /// Roll back every migration newer than this version (it stays applied).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Print what would run and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Run down steps that lose data without asking.
    #[arg(long)]
    force: bool,
    /// Seconds to wait for another deploy's lock (default 60).
    #[arg(long, value_name = "SECONDS")]
    lock_timeout: Option<u64>,
}

pub fn run(config_path: Option<&Path>, args: RollbackArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    if args.force {
        dest.refuse_if_protected(
            "--force",
            "roll back interactively (ferry asks before a step that loses data), or restore the backup taken before the deploy",
        )?;
    }
    let dir = args.dir.open(config.as_ref())?;
    let mut db = connect(&dest.url)?;
    let kind = db.dialect().kind();
    let target = dest.display();

    let history = db.history()?;
    let chosen = choose(&dir, &history, &args, kind)?;
    migrations::require_integrity(&dir, true)?;
    if chosen.is_empty() {
        crate::info!("Nothing to roll back: {target} has no applied migration to undo.");
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        for m in &chosen {
            let script = down_script(m, kind)?;
            println!("-- {} ({})", m.id(), m.down_path().display());
            for stmt in &script.statements {
                println!("{};", stmt.sql);
            }
            println!();
        }
        crate::info!(
            "Dry run: {} migration(s) of {target} would be rolled back, nothing changed.",
            chosen.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // With --force the answer is known: skip inspecting and linting.
    let losses = match args.force {
        true => Vec::new(),
        false => data_loss(&chosen, kind, &db.inspect()?)?,
    };
    if !losses.is_empty() {
        for l in &losses {
            eprintln!("warning: data loss: {l}");
        }
        if !prompt::interactive() {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "rolling back loses data (see the warnings above); nothing was changed. Take a backup, then re-run with --force",
            ));
        }
        if !prompt::confirm("Rolling back loses data. Go on?") {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "cancelled; nothing was changed",
            ));
        }
    }

    let wait = migrations::lock_wait(args.lock_timeout, config.as_ref());
    migrations::with_lock(db.as_mut(), wait, |db| {
        // Another deploy may have moved the database while we asked.
        let history = db.history()?;
        let again = choose(&dir, &history, &args, kind)?;
        if again
            .iter()
            .map(|m| m.id())
            .ne(chosen.iter().map(|m| m.id()))
        {
            return Err(CliError::new(
                Exit::Failure,
                "the migration history changed while ferry was asking; nothing was changed. Run the command again",
            ));
        }
        for (i, m) in chosen.iter().enumerate() {
            let script = down_script(m, kind)?;
            migrations::echo(&script);
            let change = HistoryChange::Forget {
                version: m.version.clone(),
            };
            if let Err(e) = db.run_script(&script, &change) {
                let e = CliError::from(e);
                return Err(CliError::new(
                    e.exit,
                    format!(
                        "rolling back {} failed: {}\n{i} migration(s) were rolled back before it; {} is still applied",
                        m.id(),
                        e.message,
                        m.id()
                    ),
                ));
            }
            crate::info!("rolled back {}", m.id());
        }
        Ok(())
    })?;
    let history = db.history()?;
    let after = status(&dir, &history);
    crate::info!(
        "Rolled back {} migration(s) of {target}; now at version {}.",
        chosen.len(),
        after.current_version().unwrap_or("(none)")
    );
    Ok(ExitCode::SUCCESS)
}

/// The applied migrations to undo, newest first, each checked to be on disk, unchanged,
/// and reversible.
fn choose<'a>(
    dir: &'a MigrationDir,
    history: &'a [AppliedMigration],
    args: &RollbackArgs,
    kind: DialectKind,
) -> Result<Vec<&'a Migration>> {
    let status = status(dir, history);
    migrations::require_consistent_history(&status, true)?;
    let mut applied: Vec<_> = status.applied().collect();
    applied.reverse();
    let selected: Vec<_> = match &args.to {
        Some(to) => {
            if !applied
                .iter()
                .any(|e| compare_versions(&e.version, to).is_eq())
            {
                return Err(CliError::usage(format!(
                    "--to {to}: that version is not applied here"
                )));
            }
            applied
                .into_iter()
                .take_while(|e| compare_versions(&e.version, to).is_gt())
                .collect()
        }
        None => applied.into_iter().take(args.steps.unwrap_or(1)).collect(),
    };
    let mut out = Vec::new();
    for e in selected {
        // Applied entries on disk are `Applied` (require_consistent_history refused the rest).
        let Some(m) = e.migration else { continue };
        if m.down.is_none() {
            return Err(CliError::new(
                Exit::Integrity,
                format!(
                    "{} has no {}: it cannot be rolled back; nothing was changed",
                    m.id(),
                    ferry_migrate::dir::DOWN
                ),
            ));
        }
        if down_script(m, kind)?.statements.is_empty() {
            return Err(CliError::new(
                Exit::Integrity,
                format!(
                    "{} is irreversible (its {} is empty on purpose): it cannot be rolled back; nothing was changed. Restore a backup, or write a new migration that undoes it",
                    m.id(),
                    ferry_migrate::dir::DOWN
                ),
            ));
        }
        out.push(m);
    }
    Ok(out)
}

fn down_script(m: &Migration, kind: DialectKind) -> Result<ferry_core::Script> {
    match m.down_script(kind) {
        Some(script) => Ok(script?),
        None => Err(CliError::new(
            Exit::Integrity,
            format!("{} has no {}", m.id(), ferry_migrate::dir::DOWN),
        )),
    }
}

/// The down statements that destroy data, as `file:line: message`.
fn data_loss(chosen: &[&Migration], kind: DialectKind, current: &Schema) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for m in chosen {
        let Some(down) = &m.down else { continue };
        let origin = m.down_path().display().to_string();
        let findings = ferry_lint::lint(&ferry_lint::LintInput {
            sql: down,
            origin: &origin,
            kind,
            before: current,
            transactional: ferry_migrate::dir::is_transactional(down),
        })?;
        out.extend(
            findings
                .iter()
                .filter(|f| f.data_loss)
                .map(|f| format!("{origin}:{}: {}", f.line, f.message)),
        );
    }
    Ok(out)
}
