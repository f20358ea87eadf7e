//! `ferry rebase VERSION`: after a merge brought in other branches' migrations, move one of
//! yours after them. A migration ferry generated is generated again on top of the merged
//! ones (the "delete and generate again" workflow, done for you); one written by hand is
//! renumbered as it is. `ferry.sum` is rewritten either way, which also settles a git
//! conflict in it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ferry_migrate::MigrationDir;

use super::generate::{generated_files, next_version, offline_dialect, write_migration, GENERATED};
use crate::config::Config;
use crate::dev::DevServer;
use crate::error::{CliError, Exit, Result};
use crate::migrations::DirArgs;
use crate::source::schema_paths;
use crate::{DevArgs, RenameArgs};

#[derive(Args)]
pub struct RebaseArgs {
    /// The version of your migration to move after all the others.
    version: String,
    #[command(flatten)]
    dir: DirArgs,
    /// Schema files or directories (default: `schema` from ferry.toml, else ./schema).
    #[arg(long, value_name = "PATH")]
    schema: Vec<PathBuf>,
    /// postgres or sqlite (default: `dialect` from ferry.toml).
    #[arg(long, value_name = "DIALECT")]
    dialect: Option<String>,
    #[command(flatten)]
    dev: DevArgs,
    #[command(flatten)]
    renames: RenameArgs,
}

pub fn run(config_path: Option<&Path>, args: RebaseArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dir = args.dir.open(config.as_ref())?;
    if !dir.problems.is_empty() {
        let list: Vec<String> = dir.problems.iter().map(ToString::to_string).collect();
        return Err(CliError::new(
            Exit::Integrity,
            format!("fix the directory first:\n  - {}", list.join("\n  - ")),
        ));
    }
    let Some(mine) = dir.get(&args.version).cloned() else {
        return Err(CliError::usage(format!(
            "{}: no such migration in {}",
            args.version,
            dir.path.display()
        )));
    };
    let others = MigrationDir {
        migrations: dir
            .migrations
            .iter()
            .filter(|m| m.id() != mine.id())
            .cloned()
            .collect(),
        ..dir.clone()
    };
    let version = next_version(&others, None)?;
    let id = format!("{version}_{}", mine.name);
    let generated = mine
        .up
        .lines()
        .next()
        .is_some_and(|l| l.contains(GENERATED));
    let (up, down, how) = if generated {
        let kind = offline_dialect(args.dialect.as_deref(), config.as_ref())?;
        let base: Vec<_> = others.migrations.iter().collect();
        let paths = schema_paths(&args.schema, config.as_ref())?;
        let dev = DevServer::resolve(&args.dev, config.as_ref(), None, kind)?;
        match generated_files(
            kind,
            &base,
            &paths,
            dev.as_ref(),
            config.as_ref(),
            &args.renames,
            &id,
        )? {
            Some((up, down)) => (up, down, "generated again on top of the others"),
            None => {
                remove(&mine.path)?;
                crate::migrations::write_sum(&dir.path)?;
                crate::info!(
                    "{} is no longer needed (the other migrations already build the schema): removed it",
                    mine.id()
                );
                return Ok(ExitCode::SUCCESS);
            }
        }
    } else {
        let down = mine.down.clone().unwrap_or_default();
        (mine.up.clone(), down, "renumbered, content unchanged")
    };
    remove(&mine.path)?;
    write_migration(&dir.path, &id, &up, &down)?;
    crate::info!("moved {} to {id} ({how})", mine.id());
    Ok(ExitCode::SUCCESS)
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_dir_all(path).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot remove {}: {e}", path.display()),
        )
    })
}
