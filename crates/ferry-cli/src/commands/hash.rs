//! `ferry hash`: (re)write `ferry.sum`, vouching for the directory as it is now.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::migrations::{self, DirArgs};

#[derive(Args)]
pub struct HashArgs {
    #[command(flatten)]
    dir: DirArgs,
}

pub fn run(config_path: Option<&Path>, args: HashArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dir = args.dir.open(config.as_ref())?;
    if !dir.problems.is_empty() {
        let list: Vec<String> = dir.problems.iter().map(ToString::to_string).collect();
        return Err(CliError::new(
            Exit::Integrity,
            format!(
                "fix the directory first; {} was not written:\n  - {}",
                ferry_migrate::sum::FILE_NAME,
                list.join("\n  - ")
            ),
        ));
    }
    migrations::write_sum(&dir.path)?;
    crate::info!(
        "wrote {} ({} migration(s))",
        ferry_migrate::sum::path(&dir.path).display(),
        dir.migrations.len()
    );
    Ok(ExitCode::SUCCESS)
}
