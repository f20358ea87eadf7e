//! `ferry repair VERSION…`: record that an applied migration's file was edited on purpose
//! (a comment, a formatting fix), so that its new checksum is accepted.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use ferry_core::{HistoryChange, Script};
use ferry_migrate::{status, State};

use crate::config::Config;
use crate::error::{CliError, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::TargetArgs;

#[derive(Args)]
pub struct RepairArgs {
    /// Versions of applied migrations whose edit is intended.
    #[arg(required = true, value_name = "VERSION")]
    versions: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
}

pub fn run(config_path: Option<&Path>, args: RepairArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    // No integrity check: the edit being accepted also breaks ferry.sum (`ferry hash`).
    let dir = args.dir.open(config.as_ref())?;
    let mut db = connect(&dest.url)?;
    let target = dest.display();
    let wait = migrations::lock_wait(None, config.as_ref());
    migrations::with_lock(db.as_mut(), wait, |db| {
        let history = db.history()?;
        let status = status(&dir, &history);
        for v in &args.versions {
            let Some(entry) = status
                .entries
                .iter()
                .find(|e| ferry_migrate::compare_versions(&e.version, v).is_eq())
            else {
                return Err(CliError::usage(format!("{v}: no such migration")));
            };
            let (State::Modified, Some(m)) = (entry.state, entry.migration) else {
                return Err(CliError::usage(format!(
                    "{}: {}, nothing to repair",
                    entry.id(),
                    entry.state.label()
                )));
            };
            let nothing = Script {
                origin: m.up_path().display().to_string(),
                statements: Vec::new(),
                transactional: true,
                committed_first: 0,
            };
            db.run_script(
                &nothing,
                &HistoryChange::Rechecksum {
                    version: m.version.clone(),
                    checksum: m.checksum(),
                },
            )?;
            crate::info!(
                "{target}: accepted the edited {} of {}",
                ferry_migrate::dir::UP,
                m.id()
            );
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
