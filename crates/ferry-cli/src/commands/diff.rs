//! `ferry diff --from SRC --to SRC`: the SQL that turns FROM into TO, on stdout only.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::dev::DevServer;
use crate::error::{CliError, Exit, Result};
use crate::source::{
    dialect, managed_grants, parse_dialect, report_opaque, report_unproven, resolve_renames, Source,
};
use crate::{DevArgs, RenameArgs};

#[derive(Args)]
pub struct DiffArgs {
    /// Current state: a database URL, env:NAME, a .sql file or a directory of them.
    #[arg(long, value_name = "SRC")]
    from: String,
    /// Desired state, same forms as --from.
    #[arg(long, value_name = "SRC")]
    to: String,
    /// Dialect of file sources (default: from a URL source, else ferry.toml).
    #[arg(long, value_name = "DIALECT")]
    dialect: Option<String>,
    /// Exit with 2 when there is a difference.
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    dev: DevArgs,
    /// `json`: the SQL and its hazards as one JSON document.
    #[arg(long, value_enum, default_value_t)]
    format: super::status::Format,
    #[command(flatten)]
    renames: RenameArgs,
}

pub fn run(config_path: Option<&Path>, args: DiffArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let from = Source::parse(&args.from, config.as_ref())?;
    let to = Source::parse(&args.to, config.as_ref())?;
    let kind = match (&args.dialect, from.dialect_kind(), to.dialect_kind()) {
        (_, Some(a), Some(b)) if a != b => {
            return Err(CliError::usage(format!(
                "--from is {} but --to is {}: ferry diffs sources of one dialect",
                a.name(),
                b.name()
            )))
        }
        (Some(d), a, b) => {
            let d = parse_dialect(d)?;
            if let Some(src) = a.or(b).filter(|k| *k != d) {
                return Err(CliError::usage(format!(
                    "--dialect {} does not match the {} URL given",
                    d.name(),
                    src.name()
                )));
            }
            d
        }
        (None, Some(k), _) | (None, None, Some(k)) => k,
        (None, None, None) => match config.as_ref().and_then(|c| c.dialect.as_deref()) {
            Some(d) => parse_dialect(d)?,
            None => {
                return Err(CliError::usage(
                    "cannot tell the dialect of file sources: pass --dialect postgres|sqlite",
                ))
            }
        },
    };
    let dialect = dialect(kind);
    let dev = DevServer::resolve(&args.dev, config.as_ref(), from.url().or(to.url()), kind)?;
    let mut current = from.schema(dialect, dev.as_ref())?;
    let mut desired = to.schema(dialect, dev.as_ref())?;
    // Files compared with a database: `FOR ROLE` the connecting role is no role at all.
    match (&from, &to) {
        (Source::Files(_), Source::Database(_)) => {
            crate::source::resolve_session_role(&mut current, to.session_role()?.as_deref())
        }
        (Source::Database(_), Source::Files(_)) => {
            crate::source::resolve_session_role(&mut desired, from.session_role()?.as_deref())
        }
        _ => {}
    }
    // The files declare which roles are managed; between two databases, --to does.
    let current_is_declared = matches!(from, Source::Files(_)) && !matches!(to, Source::Files(_));
    managed_grants(
        &mut current,
        &mut desired,
        current_is_declared,
        config.as_ref(),
    );
    report_opaque(&desired, "--to");
    let renames = resolve_renames(&current, &desired, &args.renames, dialect)?;
    let changes = ferry_core::diff(&current, &desired, &renames);
    let files_against_database = matches!(from, Source::Files(_)) != matches!(to, Source::Files(_));
    if files_against_database && dev.is_none() {
        report_unproven(&changes);
    }
    let plan = dialect.plan(&current, &desired, &changes)?;
    let text = match args.format {
        super::status::Format::Json => {
            let hazards: Vec<_> = plan
                .hazards()
                .map(|h| serde_json::json!({"kind": h.kind.label(), "message": h.message}))
                .collect();
            let doc = serde_json::json!({
                "differs": !plan.is_empty(),
                "sql": plan.to_sql(),
                "hazards": hazards,
            });
            format!("{doc:#}\n")
        }
        super::status::Format::Text => {
            for line in super::hazard_lines(&plan) {
                eprintln!("{line}");
            }
            plan.to_sql()
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| CliError::new(Exit::Failure, format!("cannot write output: {e}")))?;
    if args.exit_code && !plan.is_empty() {
        return Ok(ExitCode::from(Exit::Differences as u8));
    }
    Ok(ExitCode::SUCCESS)
}
