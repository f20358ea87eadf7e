//! `ferry migrate`: apply pending migrations, in order, each in its own transaction, under a
//! lock, after verifying every checksum.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use ferry_core::{AppliedMigration, Database};
use ferry_migrate::{compare_versions, status, Migration, MigrationDir};
use serde_json::json;

use super::status::Format;
use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::{prompt, TargetArgs};

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
    /// Print what would run and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Change nothing: apply the pending migrations, roll them back and apply them again on
    /// a scratch copy of the target's schema and history, and report each step.
    #[arg(long, conflicts_with = "dry_run")]
    rehearse: bool,
    /// Stop after this version (inclusive).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Apply pending migrations older than the newest applied one.
    #[arg(long)]
    allow_out_of_order: bool,
    /// Seconds to wait for another deploy's lock (default 60).
    #[arg(long, value_name = "SECONDS")]
    lock_timeout: Option<u64>,
    /// Deploy to a protected environment without asking (for CI).
    #[arg(long)]
    yes: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(config_path: Option<&Path>, args: MigrateArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
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
    let mut db = connect(&dest.url)?;
    let kind = db.dialect().kind();
    let target = dest.display();
    // History first: "this applied migration was edited" says more than "ferry.sum does not
    // match", which the same edit also causes.
    let history = db.history()?;
    let before = status(&dir, &history);
    migrations::require_consistent_history(&before, allow_out_of_order)?;
    // A protected environment deploys only what ferry.sum vouches for.
    migrations::require_integrity(&dir, !dest.protected)?;
    let pending: Vec<&Migration> = before
        .pending()
        .filter_map(|e| e.migration)
        .filter(|m| within(&m.version, args.to.as_deref()))
        .collect();

    if args.rehearse {
        // Reads the target and changes nothing there: no lock, backup or confirmation.
        return super::rehearse::run(
            db.as_mut(),
            &dir,
            &history,
            &pending,
            &target,
            migrations::lint_allowed(config.as_ref()),
            args.format,
        );
    }

    if args.dry_run {
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
        crate::info!(
            "Dry run: {} pending migration(s) for {target}, nothing applied.",
            pending.len()
        );
        return Ok(ExitCode::SUCCESS);
    }

    let mut backup = None;
    if dest.protected && !pending.is_empty() {
        preflight(
            db.as_mut(),
            &dir,
            &history,
            &pending,
            &target,
            config.as_ref(),
            args.yes,
        )?;
        backup = Some(migrations::take_backup(
            db.as_mut(),
            config.as_ref(),
            &dest,
            before.current_version(),
        )?);
    }

    let wait = migrations::lock_wait(args.lock_timeout, config.as_ref());
    let applied = migrations::with_lock(db.as_mut(), wait, |db| {
        // Read under the lock: another deploy may have just applied some.
        let history = db.history()?;
        let status = status(&dir, &history);
        migrations::require_consistent_history(&status, allow_out_of_order)?;
        let pending: Vec<_> = status
            .pending()
            .filter_map(|e| e.migration)
            .filter(|m| within(&m.version, args.to.as_deref()))
            .collect();
        let mut applied = Vec::new();
        if pending.is_empty() {
            crate::info!(
                "Nothing to do: {target} is at version {}.",
                status.current_version().unwrap_or("(none)")
            );
            return Ok(applied);
        }
        let started = Instant::now();
        let mut current = status.current_version().map(str::to_string);
        for m in &pending {
            let one = Instant::now();
            if let Err(e) = migrations::run_up(db, m, kind) {
                let at = current.as_deref().unwrap_or("(none: no migration applied)");
                let restore = match &backup {
                    Some(path) => format!(
                        "; the backup taken before this deploy is {}",
                        path.display()
                    ),
                    None => String::new(),
                };
                return Err(CliError::new(
                    e.exit,
                    format!(
                        "migration {} failed: {}\n{target} stays at version {at}{restore}",
                        m.id(),
                        e.message
                    ),
                ));
            }
            let ms = one.elapsed().as_millis();
            crate::info!("applied {} ({ms} ms)", m.id());
            applied.push(json!({"migration": m.id(), "ms": ms as u64}));
            current = Some(m.version.clone());
        }
        crate::info!(
            "Applied {} migration(s) to {target} in {} ms; now at version {}.",
            pending.len(),
            started.elapsed().as_millis(),
            current.unwrap_or_default()
        );
        Ok(applied)
    })?;

    // A protected environment is verified: the database must now be exactly what its
    // applied migrations build.
    let mut verified = None;
    if dest.protected && !applied.is_empty() {
        let history = db.history()?;
        if let Some(sql) = migrations::drift(db.as_mut(), &dir, &history, config.as_ref())? {
            return Err(CliError::new(
                Exit::Drift,
                format!(
                    "the migrations were applied, but {target} does not match what they build; what would make it match:\n{sql}"
                ),
            ));
        }
        crate::info!("Verified: {target} matches its migrations.");
        verified = Some(true);
    }
    if let Format::Json = args.format {
        let history = db.history()?;
        let after = status(&dir, &history);
        let doc = json!({
            "database": target,
            "applied": applied,
            "version": after.current_version(),
            "backup": backup.map(|p| p.display().to_string()),
            "verified": verified,
        });
        println!("{doc:#}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Before a protected deploy: no lint error in what is about to run, no drift in what
/// already ran, and a yes from a person (or `--yes`).
fn preflight(
    db: &mut dyn Database,
    dir: &MigrationDir,
    history: &[AppliedMigration],
    pending: &[&Migration],
    target: &str,
    config: Option<&Config>,
    yes: bool,
) -> Result<()> {
    let kind = db.dialect().kind();
    let lint = migrations::lint_migrations(dir, pending, kind, migrations::lint_allowed(config))?;
    let errors: Vec<String> = lint
        .iter()
        .filter(|l| l.finding.severity == ferry_lint::Severity::Error)
        .map(|l| {
            format!(
                "{}:{}: [{}] {}",
                l.file, l.finding.line, l.finding.rule, l.finding.message
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(CliError::new(
            Exit::Lint,
            format!(
                "nothing was applied: `ferry check` finds risky statements in the pending migrations:\n  {}\nfix them, or silence one on purpose with `-- ferry:allow RULE` above it",
                errors.join("\n  ")
            ),
        ));
    }
    if let Some(sql) = migrations::drift(db, dir, history, config)? {
        return Err(CliError::new(
            Exit::Drift,
            format!(
                "nothing was applied: {target} has drifted from its applied migrations; what would bring it back:\n{sql}Find out who changed it and why before deploying"
            ),
        ));
    }
    crate::info!("About to apply to {target}:");
    for m in pending {
        crate::info!("  {}", m.id());
    }
    for l in lint
        .iter()
        .filter(|l| l.finding.severity == ferry_lint::Severity::Warning)
    {
        eprintln!(
            "  warning: {}:{}: [{}] {}",
            l.file, l.finding.line, l.finding.rule, l.finding.message
        );
    }
    if yes {
        return Ok(());
    }
    if !prompt::interactive() {
        return Err(CliError::new(
            Exit::NeedsConfirmation,
            "this is a protected environment: nothing was applied. Re-run with --yes to deploy unattended",
        ));
    }
    if !prompt::confirm("Deploy these migrations?") {
        return Err(CliError::new(
            Exit::NeedsConfirmation,
            "cancelled; nothing was applied",
        ));
    }
    Ok(())
}

fn within(version: &str, to: Option<&str>) -> bool {
    to.is_none_or(|to| compare_versions(version, to).is_le())
}
