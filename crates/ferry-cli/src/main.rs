//! The `ferry` command line: parse arguments, load configuration, run one pipeline of
//! stages (load / inspect → diff → plan → render / apply), print.

mod commands;
mod config;
mod dev;
mod error;
mod migrations;
mod prompt;
mod source;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ferry",
    version,
    about = "Database schema migrations: declare, push, generate, migrate, check."
)]
struct Cli {
    /// Path to ferry.toml (default: ./ferry.toml or the nearest one above).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Print only errors, warnings and results.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print each statement of a migration as it runs.
    #[arg(short, long, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a starter ferry.toml and schema/ directory.
    Init(commands::init::InitArgs),
    /// Print the SQL that turns one schema source into another.
    Diff(commands::diff::DiffArgs),
    /// Make a development database match the schema files.
    Push(commands::push::PushArgs),
    /// Write a database's schema as SQL files.
    Pull(commands::pull::PullArgs),
    /// Write a new migration (up.sql + down.sql) from the schema files. No database needed.
    Generate(commands::generate::GenerateArgs),
    /// Apply pending migrations, each in its own transaction, under a lock.
    Migrate(commands::migrate::MigrateArgs),
    /// Show applied, pending, modified and missing migrations of an environment.
    Status(commands::status::StatusArgs),
    /// Undo the newest applied migrations with their down.sql.
    Rollback(commands::rollback::RollbackArgs),
    /// Verify migrations before a deploy: integrity, history, risky statements, drift.
    Check(commands::check::CheckArgs),
    /// (Re)write migrations/ferry.sum for the directory as it is.
    Hash(commands::hash::HashArgs),
    /// Adopt an existing database: write its schema as the first migration, record it applied.
    Baseline(commands::baseline::BaselineArgs),
    /// Move one of your migrations after those a merge brought in (regenerating it if ferry wrote it).
    Rebase(commands::rebase::RebaseArgs),
    /// Development only: drop everything and rebuild from the schema (or the migrations).
    Reset(commands::reset::ResetArgs),
    /// Write a complete copy of a database to a file (`backup list`: the backups taken).
    Backup(commands::backup::BackupArgs),
    /// Load a backup into an empty database.
    Restore(commands::backup::RestoreArgs),
    /// Accept an intended edit of an applied migration (records its new checksum).
    Repair(commands::repair::RepairArgs),
}

/// Which database a command talks to.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// Environment from ferry.toml.
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    env: Option<String>,
    /// Database URL (postgres://…, sqlite://path); overrides --env.
    #[arg(long, value_name = "URL", env = "FERRY_URL", hide_env_values = true)]
    url: Option<String>,
}

/// The dev database (see `dev.rs`).
#[derive(Args, Debug, Clone, Default)]
pub struct DevArgs {
    /// Bring schema files into canonical form on this server: they are created in a
    /// throwaway database there and read back (`target`: the target database's own server).
    /// Default: `dev_url` from ferry.toml; without either, files are compared offline.
    #[arg(long, value_name = "URL")]
    dev_url: Option<String>,
}

/// How to answer "renamed or created?" questions without a prompt.
#[derive(Args, Debug, Clone, Default)]
pub struct RenameArgs {
    /// Declare a rename: `old=new` for tables, `table.old=new` for columns (schema-qualify
    /// as `schema.table.old=new`). Repeatable.
    #[arg(long = "rename", value_name = "OLD=NEW")]
    renames: Vec<String>,
    /// Treat every unanswered dropped+added pair as a drop and a create.
    #[arg(long)]
    no_rename: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ui::init(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Init(args) => commands::init::run(args),
        Command::Diff(args) => commands::diff::run(cli.config.as_deref(), args),
        Command::Push(args) => commands::push::run(cli.config.as_deref(), args),
        Command::Pull(args) => commands::pull::run(cli.config.as_deref(), args),
        Command::Generate(args) => commands::generate::run(cli.config.as_deref(), args),
        Command::Migrate(args) => commands::migrate::run(cli.config.as_deref(), args),
        Command::Status(args) => commands::status::run(cli.config.as_deref(), args),
        Command::Rollback(args) => commands::rollback::run(cli.config.as_deref(), args),
        Command::Check(args) => commands::check::run(cli.config.as_deref(), args),
        Command::Hash(args) => commands::hash::run(cli.config.as_deref(), args),
        Command::Baseline(args) => commands::baseline::run(cli.config.as_deref(), args),
        Command::Reset(args) => commands::reset::run(cli.config.as_deref(), args),
        Command::Backup(args) => commands::backup::run(cli.config.as_deref(), args),
        Command::Restore(args) => commands::backup::restore(cli.config.as_deref(), args),
        Command::Rebase(args) => commands::rebase::run(cli.config.as_deref(), args),
        Command::Repair(args) => commands::repair::run(cli.config.as_deref(), args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.exit as u8)
        }
    }
}
