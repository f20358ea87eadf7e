//! `ferry generate NAME`: diff(replay(migrations), load(schema)) written as a new migration,
//! `up.sql` and a `down.sql` that reverses it. Needs no database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ferry_core::DialectKind;
use ferry_migrate::{compare_versions, slug, Migration, MigrationDir};

use crate::config::Config;
use crate::dev::DevServer;
use crate::error::{CliError, Exit, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{
    dialect, load_files, managed_grants, parse_dialect, report_opaque, resolve_renames,
    schema_paths,
};
use crate::{DevArgs, RenameArgs};

#[derive(Args)]
pub struct GenerateArgs {
    /// What the migration does, e.g. add_user_email.
    name: String,
    #[command(flatten)]
    dir: DirArgs,
    /// Schema files or directories (default: `schema` from ferry.toml, else ./schema).
    #[arg(long, value_name = "PATH")]
    schema: Vec<PathBuf>,
    /// postgres or sqlite (default: `dialect` from ferry.toml).
    #[arg(long, value_name = "DIALECT")]
    dialect: Option<String>,
    /// Write an empty migration to fill in by hand.
    #[arg(long)]
    empty: bool,
    /// The version to use instead of the current UTC time (YYYYMMDDHHMMSS).
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    #[command(flatten)]
    dev: DevArgs,
    #[command(flatten)]
    renames: RenameArgs,
}

pub fn run(config_path: Option<&Path>, args: GenerateArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let kind = offline_dialect(args.dialect.as_deref(), config.as_ref())?;
    let name = slug(&args.name);
    if name.is_empty() {
        return Err(CliError::usage(format!(
            "\"{}\" is not a usable migration name: use letters and digits, e.g. add_user_email",
            args.name
        )));
    }
    let dir = args.dir.open(config.as_ref())?;
    migrations::require_integrity(&dir, false)?;
    let version = next_version(&dir, args.version.as_deref())?;
    let id = format!("{version}_{name}");

    let (up, down) = if args.empty {
        let body = "-- Write the statements here; each file runs in one transaction unless it starts with\n-- `-- ferry:no-transaction`.\n";
        (
            format!("-- {id}: up (written by hand)\n{body}"),
            format!("-- {id}: down (written by hand), undoes up.sql\n{body}"),
        )
    } else {
        let base: Vec<_> = dir.migrations.iter().collect();
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
            Some(files) => files,
            None => {
                crate::info!(
                    "Nothing to generate: the migrations in {} already build the schema.",
                    dir.path.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
        }
    };
    write_migration(&dir.path, &id, &up, &down)?;
    Ok(ExitCode::SUCCESS)
}

/// The dialect of an offline command: `--dialect`, else ferry.toml's `dialect`.
pub fn offline_dialect(flag: Option<&str>, config: Option<&Config>) -> Result<DialectKind> {
    match flag.or_else(|| config.and_then(|c| c.dialect.as_deref())) {
        Some(d) => parse_dialect(d),
        None => Err(CliError::usage(
            "cannot tell the dialect: pass --dialect postgres|sqlite or set `dialect` in ferry.toml",
        )),
    }
}

/// `up.sql` and `down.sql` of migration `id`: from what `base` builds to what the schema
/// files declare. `None` when there is no difference.
pub fn generated_files(
    kind: DialectKind,
    base: &[&Migration],
    schema: &[PathBuf],
    dev: Option<&DevServer>,
    config: Option<&Config>,
    rename_args: &RenameArgs,
    id: &str,
) -> Result<Option<(String, String)>> {
    let dialect = dialect(kind);
    let mut current = migrations::replay(kind, base, dev)?;
    let mut desired = load_files(schema, dialect, dev)?;
    report_opaque(&desired, "the schema");
    managed_grants(&mut current, &mut desired, false, config);
    let renames = resolve_renames(&current, &desired, rename_args, dialect)?;
    let up_plan = dialect.plan(
        &current,
        &desired,
        &ferry_core::diff(&current, &desired, &renames),
    )?;
    if up_plan.is_empty() {
        return Ok(None);
    }
    let down_plan = dialect.plan(
        &desired,
        &current,
        &ferry_core::diff(&desired, &current, &renames.reversed()),
    )?;
    for line in super::hazard_lines(&up_plan) {
        eprintln!("{line}");
    }
    Ok(Some((
        migrations::render_migration_file(&format!("{id}: up ({GENERATED})"), &up_plan),
        migrations::render_migration_file(
            &format!("{id}: down ({GENERATED}), undoes up.sql"),
            &down_plan,
        ),
    )))
}

/// Marks a migration's first line as ferry's work, which `ferry rebase` may regenerate.
pub const GENERATED: &str = "generated by ferry";

/// Writes `<dir>/<id>/{up,down}.sql` and refreshes `ferry.sum`.
pub fn write_migration(dir: &Path, id: &str, up: &str, down: &str) -> Result<()> {
    let target = dir.join(id);
    std::fs::create_dir_all(&target).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot create {}: {e}", target.display()),
        )
    })?;
    migrations::write_file(&target.join(ferry_migrate::dir::UP), up)?;
    migrations::write_file(&target.join(ferry_migrate::dir::DOWN), down)?;
    migrations::write_sum(dir)?;
    crate::info!(
        "wrote {}/{{{},{}}}",
        target.display(),
        ferry_migrate::dir::UP,
        ferry_migrate::dir::DOWN
    );
    Ok(())
}

/// `--version`, else the current UTC time; either way newer than every migration on disk.
pub fn next_version(dir: &MigrationDir, explicit: Option<&str>) -> Result<String> {
    let latest = dir.latest().map(|m| m.version.as_str());
    if let Some(v) = explicit {
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
            return Err(CliError::usage(format!(
                "--version {v}: use digits only, e.g. 20261130120000"
            )));
        }
        if let Some(latest) = latest.filter(|l| compare_versions(v, l).is_le()) {
            return Err(CliError::usage(format!(
                "--version {v} is not newer than the latest migration ({latest})"
            )));
        }
        return Ok(v.to_string());
    }
    let now = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    match latest {
        // Two generates within a second, or a clock behind the newest migration: one more.
        Some(l) if compare_versions(&now, l).is_le() => {
            let digits: String = l.chars().filter(char::is_ascii_digit).collect();
            Ok(digits
                .parse::<u64>()
                .map(|n| (n + 1).to_string())
                .unwrap_or(now))
        }
        _ => Ok(now),
    }
}
