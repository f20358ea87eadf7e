//! `ferry check`: everything that can be known before a deploy. Offline: the directory's
//! integrity and a lint of its migrations. With an environment: also the history against
//! the directory (edited, missing, out-of-order migrations), a lint of what is pending,
//! and drift (the database against what its applied migrations build).

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use ferry_migrate::{status, Migration, State};
use serde_json::json;

use super::status::{state_key, Format};
use crate::config::Config;
use crate::error::{Exit, Result};
use crate::migrations::{self, DirArgs};
use crate::source::{connect, target};
use crate::TargetArgs;

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    dir: DirArgs,
    /// Lint only the newest N migrations (offline; with an environment, the pending ones).
    #[arg(long, value_name = "N")]
    latest: Option<usize>,
    /// postgres or sqlite, for an offline check (default: `dialect` from ferry.toml).
    #[arg(long, value_name = "DIALECT")]
    dialect: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(config_path: Option<&Path>, args: CheckArgs) -> Result<ExitCode> {
    let config = Config::discover(config_path)?;
    let dir = args.dir.open(config.as_ref())?;
    let mut integrity = migrations::integrity(&dir)?.problems;
    for m in &dir.migrations {
        if m.down.is_none() {
            integrity.push(format!(
                "{} has no {}: it cannot be rolled back (write one; an empty file declares it irreversible on purpose)",
                m.id(),
                ferry_migrate::dir::DOWN
            ));
        }
    }

    // A database only when one is named: check runs offline in CI by default.
    let with_db = args.target.env.is_some() || args.target.url.is_some();
    let dest = match with_db {
        true => Some(target(&args.target, config.as_ref())?),
        false => None,
    };
    let mut db = match &dest {
        Some(dest) => Some(connect(&dest.url)?),
        None => None,
    };
    let kind = match &db {
        Some(db) => db.dialect().kind(),
        None => super::generate::offline_dialect(args.dialect.as_deref(), config.as_ref())?,
    };

    let mut history_lines: Vec<(String, State)> = Vec::new();
    let mut drift: Option<String> = None;
    let to_lint: Vec<&Migration>;
    let shown = dest.as_ref().map(|d| d.display());
    let history;
    if let Some(db) = db.as_mut() {
        history = db.history()?;
        let st = status(&dir, &history);
        let allow_late = config
            .as_ref()
            .is_some_and(|c| c.migrate.allow_out_of_order);
        for e in &st.entries {
            let bad = matches!(e.state, State::Modified | State::Missing)
                || (e.state == State::OutOfOrder && !allow_late);
            if bad {
                history_lines.push((e.id(), e.state));
            }
        }
        to_lint = st.pending().filter_map(|e| e.migration).collect();
        drift = migrations::drift(db.as_mut(), &dir, &history, config.as_ref())?;
    } else {
        let n = args.latest.unwrap_or(dir.migrations.len());
        to_lint = dir.migrations.iter().rev().take(n).rev().collect();
    }
    let lint = migrations::lint_migrations(
        &dir,
        &to_lint,
        kind,
        migrations::lint_allowed(config.as_ref()),
    )?;

    let lint_errors = lint
        .iter()
        .filter(|l| l.finding.severity == ferry_lint::Severity::Error)
        .count();
    // The most specific finding decides the exit code: an edited applied migration also
    // breaks ferry.sum, but "edited after it was applied" is the news.
    let has = |state: State| history_lines.iter().any(|(_, s)| *s == state);
    let exit = if has(State::Modified) {
        Some(Exit::Modified)
    } else if has(State::Missing) {
        Some(Exit::Missing)
    } else if has(State::OutOfOrder) {
        Some(Exit::OutOfOrder)
    } else if !integrity.is_empty() {
        Some(Exit::Integrity)
    } else if lint_errors > 0 {
        Some(Exit::Lint)
    } else if drift.is_some() {
        Some(Exit::Drift)
    } else {
        None
    };
    let code = exit.map(|e| e as u8).unwrap_or(0);

    match args.format {
        Format::Json => {
            let doc = json!({
                "database": shown,
                "directory": dir.path.display().to_string(),
                "integrity": integrity,
                "history": history_lines.iter().map(|(id, s)| json!({"migration": id, "state": state_key(*s)})).collect::<Vec<_>>(),
                "lint": lint.iter().map(|l| json!({
                    "file": l.file,
                    "line": l.finding.line,
                    "column": l.finding.column,
                    "rule": l.finding.rule,
                    "severity": match l.finding.severity { ferry_lint::Severity::Error => "error", ferry_lint::Severity::Warning => "warning" },
                    "statement": l.finding.statement,
                    "message": l.finding.message,
                    "hint": l.finding.hint,
                })).collect::<Vec<_>>(),
                "drift": drift,
                "exit_code": code,
            });
            println!("{doc:#}");
        }
        Format::Text => {
            for p in &integrity {
                println!("integrity: {p}");
            }
            for (id, state) in &history_lines {
                println!("history: {id}: {}", state.label());
            }
            for l in &lint {
                let sev = match l.finding.severity {
                    ferry_lint::Severity::Error => "error",
                    ferry_lint::Severity::Warning => "warning",
                };
                println!(
                    "{}:{}:{}: {sev}[{}]: {}\n    {}\n    hint: {}",
                    l.file,
                    l.finding.line,
                    l.finding.column,
                    l.finding.rule,
                    l.finding.message,
                    l.finding.statement,
                    l.finding.hint
                );
            }
            if let Some(sql) = &drift {
                println!(
                    "drift: {} differs from what its applied migrations build; this would bring it back:\n{sql}",
                    shown.as_deref().unwrap_or("the database")
                );
            }
            let summary =
                format!(
                "{} integrity problem(s), {} history problem(s), {} lint error(s), {} warning(s){}",
                integrity.len(),
                history_lines.len(),
                lint_errors,
                lint.len() - lint_errors,
                if with_db {
                    if drift.is_some() { ", drift" } else { ", no drift" }
                } else {
                    ""
                }
            );
            crate::info!(
                "{}: {summary}",
                if code == 0 { "ok" } else { "check failed" }
            );
        }
    }
    Ok(ExitCode::from(code))
}
