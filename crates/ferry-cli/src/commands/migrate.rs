//! `ferry migrate`: apply pending migrations, in order, each in its own transaction, under a
//! lock, after verifying every checksum.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use ferry_core::url::redact;
use ferry_migrate::{compare_versions, status};

use crate::config::Config;
use crate::error::{CliError, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::TargetArgs;

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
    /// Print what would run and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Stop after this version (inclusive).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Apply pending migrations older than the newest applied one.
    #[arg(long)]
    allow_out_of_order: bool,
    /// Seconds to wait for another deploy's lock (default 60).
    #[arg(long, value_name = "SECONDS")]
    lock_timeout: Option<u64>,
}

pub fn run(config_path: Option<&Path>, args: MigrateArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    let url = dest.url.clone();
    let dir = args.dir.open(config.as_ref())?;
    if let Some(to) = &args.to {
        if dir.get(to).is_none() {
            return Err(CliError::usage(format!(
                "--to {to}: no such migration in {}",
                dir.path.display()
            )));
        }
    }
    let allow_out_of_order = args.allow_out_of_order
        || config
            .as_ref()
            .is_some_and(|c| c.migrate.allow_out_of_order);
    let mut db = connect(&url)?;
    let kind = db.dialect().kind();
    let target = redact(&url);
    // History first: "this applied migration was edited" says more than "ferry.sum does not
    // match", which the same edit also causes.
    let history = db.history()?;
    migrations::require_consistent_history(&status(&dir, &history), allow_out_of_order)?;
    migrations::require_integrity(&dir, true)?;

    if args.dry_run {
        let status = status(&dir, &history);
        let pending: Vec<_> = status
            .pending()
            .filter_map(|e| e.migration)
            .filter(|m| within(&m.version, args.to.as_deref()))
            .collect();
        for m in &pending {
            let script = m.up_script(kind)?;
            let mode = if script.transactional {
                "in one transaction"
            } else {
                "outside a transaction (ferry:no-transaction)"
            };
            println!("-- {} ({}), {mode}", m.id(), m.up_path().display());
            for stmt in &script.statements {
                println!("{};", stmt.sql);
            }
            println!();
        }
        eprintln!(
            "Dry run: {} pending migration(s) for {target}, nothing applied.",
            pending.len()
        );
        return Ok(ExitCode::SUCCESS);
    }

    let wait = migrations::lock_wait(args.lock_timeout, config.as_ref());
    migrations::with_lock(db.as_mut(), wait, |db| {
        // Read under the lock: another deploy may have just applied some.
        let history = db.history()?;
        let status = status(&dir, &history);
        migrations::require_consistent_history(&status, allow_out_of_order)?;
        let pending: Vec<_> = status
            .pending()
            .filter_map(|e| e.migration)
            .filter(|m| within(&m.version, args.to.as_deref()))
            .collect();
        if pending.is_empty() {
            eprintln!(
                "Nothing to do: {target} is at version {}.",
                status.current_version().unwrap_or("(none)")
            );
            return Ok(());
        }
        let started = Instant::now();
        let mut current = status.current_version().map(str::to_string);
        for m in &pending {
            let one = Instant::now();
            if let Err(e) = migrations::run_up(db, m, kind) {
                let at = current.as_deref().unwrap_or("(none: no migration applied)");
                return Err(CliError::new(
                    e.exit,
                    format!(
                        "migration {} failed: {}\n{target} stays at version {at}",
                        m.id(),
                        e.message
                    ),
                ));
            }
            eprintln!("applied {} ({} ms)", m.id(), one.elapsed().as_millis());
            current = Some(m.version.clone());
        }
        eprintln!(
            "Applied {} migration(s) to {target} in {} ms; now at version {}.",
            pending.len(),
            started.elapsed().as_millis(),
            current.unwrap_or_default()
        );
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn within(version: &str, to: Option<&str>) -> bool {
    to.is_none_or(|to| compare_versions(version, to).is_le())
}
