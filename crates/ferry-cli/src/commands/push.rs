//! `ferry push`: make a development database match the schema files, in one transaction.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use ferry_core::HazardKind;

use crate::config::Config;
use crate::dev::DevServer;
use crate::error::{CliError, Exit, Result};
use crate::source::{
    connect, load_files, managed_grants, report_opaque, report_unproven, resolve_renames,
    schema_paths, target,
};
use crate::{prompt, DevArgs, RenameArgs, TargetArgs};

#[derive(Args)]
pub struct PushArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Schema files or directories (default: `schema` from ferry.toml, else ./schema).
    #[arg(long, value_name = "PATH")]
    schema: Vec<PathBuf>,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    dev: DevArgs,
    /// Apply changes that lose data without asking.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    renames: RenameArgs,
}

pub fn run(config_path: Option<&Path>, args: PushArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    dest.refuse_if_protected(
        "push",
        "push is for development databases; generate a migration (`ferry generate NAME`), review it, and deploy it with `ferry migrate`",
    )?;
    let paths = schema_paths(&args.schema, config.as_ref())?;
    let mut db = connect(&dest.url)?;
    let dialect = db.dialect();
    let dev = DevServer::resolve(&args.dev, config.as_ref(), Some(&dest.url), dialect.kind())?;
    let mut desired = load_files(&paths, dialect, dev.as_ref())?;
    report_opaque(&desired, "the schema");
    let mut current = db.inspect()?;
    crate::source::resolve_session_role(&mut desired, db.session_role()?.as_deref());
    managed_grants(&mut current, &mut desired, false, config.as_ref());
    let renames = resolve_renames(&current, &desired, &args.renames, dialect)?;
    let changes = ferry_core::diff(&current, &desired, &renames);
    if dev.is_none() {
        report_unproven(&changes);
    }
    let plan = dialect.plan(&current, &desired, &changes)?;
    let target = dest.display();
    if plan.is_empty() {
        crate::info!("Nothing to do: {target} already matches the schema.");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", super::annotated_sql(&plan));
    for line in super::hazard_lines(&plan) {
        eprintln!("{line}");
    }
    if args.dry_run {
        crate::info!(
            "Dry run: {} step(s) planned for {target}, nothing applied.",
            plan.steps.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if plan.has_hazard(HazardKind::DataLoss) && !args.force {
        if !prompt::interactive() {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "this plan loses data (see the warnings above); nothing was applied. Re-run with --force to apply it, or change the schema",
            ));
        }
        if !prompt::confirm("This plan loses data. Apply it?") {
            return Err(CliError::new(
                Exit::NeedsConfirmation,
                "cancelled; nothing was applied",
            ));
        }
    }
    let started = Instant::now();
    db.apply(&plan)?;
    crate::info!(
        "Applied {} step(s) to {target} in {} ms.",
        plan.steps.len(),
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}
