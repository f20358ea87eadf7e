//! `ferry init`: a starter project.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::FILE_NAME;
use crate::error::{CliError, Exit, Result};
use crate::source::parse_dialect;

#[derive(Args)]
pub struct InitArgs {
    /// postgres or sqlite.
    #[arg(long, default_value = "sqlite")]
    dialect: String,
    /// Directory to initialise.
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub fn run(args: InitArgs) -> Result<ExitCode> {
    let kind = parse_dialect(&args.dialect)?;
    let config = args.dir.join(FILE_NAME);
    if config.exists() {
        return Err(CliError::usage(format!(
            "{} already exists; nothing written",
            config.display()
        )));
    }
    let url = match kind {
        ferry_core::DialectKind::Sqlite => "sqlite://dev.db",
        ferry_core::DialectKind::Postgres => "${DATABASE_URL}",
    };
    let toml = format!(
        "# ferry configuration: https://github.com/ferry-migrate/ferry\n\
         dialect = \"{}\"\n\
         schema = [\"schema\"]\n\
         migrations = \"migrations\"\n\
         \n\
         [environments.dev]\n\
         url = \"{url}\"\n",
        kind.name()
    );
    let schema_dir = args.dir.join("schema");
    let write = |path: &PathBuf, text: &str| {
        std::fs::write(path, text).map_err(|e| {
            CliError::new(
                Exit::Failure,
                format!("cannot write {}: {e}", path.display()),
            )
        })
    };
    std::fs::create_dir_all(&schema_dir).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot create {}: {e}", schema_dir.display()),
        )
    })?;
    write(&config, &toml)?;
    let starter = schema_dir.join("schema.sql");
    if !starter.exists() {
        write(
            &starter,
            "-- Declare the schema you want; `ferry push` makes the dev database match it.\n\
             CREATE TABLE users (\n  id integer PRIMARY KEY,\n  email text NOT NULL UNIQUE\n);\n",
        )?;
    }
    crate::info!("wrote {} and {}", config.display(), starter.display());
    Ok(ExitCode::SUCCESS)
}
