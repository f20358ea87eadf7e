//! `ferry status`: each migration's state in one environment.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use ferry_migrate::status;
use serde_json::json;

use crate::config::Config;
use crate::error::Result;
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::TargetArgs;

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(config_path: Option<&Path>, args: StatusArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    let dir = args.dir.open(config.as_ref())?;
    let integrity = migrations::integrity(&dir)?;
    let mut db = connect(&dest.url)?;
    let history = db.history()?;
    let status = status(&dir, &history);
    let target = dest.display();
    match args.format {
        Format::Json => {
            let entries: Vec<_> = status
                .entries
                .iter()
                .map(|e| {
                    json!({
                        "version": e.version,
                        "name": e.name,
                        "state": state_key(e.state),
                        "applied_at": e.applied.map(|a| a.applied_at.as_str()),
                        "execution_ms": e.applied.map(|a| a.execution_ms),
                        "path": e.migration.map(|m| m.path.display().to_string()),
                    })
                })
                .collect();
            let doc = json!({
                "database": target,
                "directory": dir.path.display().to_string(),
                "current_version": status.current_version(),
                "pending": status.pending().count(),
                "migrations": entries,
                "integrity_problems": integrity.problems,
            });
            println!("{doc:#}");
        }
        Format::Text => {
            println!("{target} — migrations in {}", dir.path.display());
            let width = status
                .entries
                .iter()
                .map(|e| e.id().len())
                .max()
                .unwrap_or(0);
            for e in &status.entries {
                let when = e
                    .applied
                    .map(|a| format!("  {}  {} ms", a.applied_at, a.execution_ms))
                    .unwrap_or_default();
                println!("  {:<22} {:<width$}{when}", e.state.label(), e.id());
            }
            println!(
                "current version: {}; {} pending",
                status.current_version().unwrap_or("(none)"),
                status.pending().count()
            );
            for p in &integrity.problems {
                println!("integrity: {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stable keys for `--format json`.
pub fn state_key(state: ferry_migrate::State) -> &'static str {
    use ferry_migrate::State::*;
    match state {
        Applied => "applied",
        Pending => "pending",
        OutOfOrder => "out_of_order",
        Modified => "modified",
        Missing => "missing",
    }
}
