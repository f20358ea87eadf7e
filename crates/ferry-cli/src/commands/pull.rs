//! `ferry pull`: write a database's schema as SQL files that load back to the same model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::error::{CliError, Exit, Result};
use crate::source::{connect, report_opaque, target};
use crate::TargetArgs;

#[derive(Args)]
pub struct PullArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Directory to write into (default: the first `schema` path of ferry.toml, else ./schema).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(config_path: Option<&Path>, args: PullArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dest = target(&args.target, config.as_ref())?;
    let out = match args.out {
        Some(dir) => dir,
        None => config
            .as_ref()
            .and_then(|c| c.schema.first().cloned())
            .unwrap_or_else(|| PathBuf::from("schema")),
    };
    let mut db = connect(&dest.url)?;
    let schema = db.inspect()?;
    report_opaque(&schema, "the database");
    let files = db.dialect().render_schema(&schema);
    std::fs::create_dir_all(&out).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot create {}: {e}", out.display()),
        )
    })?;
    for (name, text) in files {
        let path = out.join(&name);
        std::fs::write(&path, text).map_err(|e| {
            CliError::new(
                Exit::Failure,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        crate::info!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
