//! `ferry migrate --rehearse`: shows that the pending migrations apply, roll back and apply
//! again cleanly, on a scratch database holding a copy of the target's schema and history,
//! before the target sees them. The target is only read (its schema and history): no lock,
//! no history row, no statement.

use std::process::ExitCode;
use std::time::Instant;

use ferry_core::{AppliedMigration, Database, DialectKind, HistoryChange, Renames, Schema, Script};
use ferry_lint::Severity;
use ferry_migrate::{Migration, MigrationDir};
use serde_json::json;

use super::status::Format;
use crate::error::{CliError, Exit, Result};
use crate::migrations;

/// What the rehearsal cannot show, printed with every report so that a pass is not read as
/// more than it is.
const NOT_COVERED: [&str; 3] = [
    "objects ferry does not model (SQLite views and triggers; PostgreSQL rules, aggregates, event triggers, ...) are not copied into the scratch database: a migration that uses one can fail there although it would apply, or pass although it would break one",
    "no rows are copied: a migration that fails on existing data (a new NOT NULL, UNIQUE or foreign key, a type change) can still fail for real, and the timings say nothing about big tables",
    "for a full copy, take a `ferry backup` of the target and `ferry restore` it into a scratch database, then migrate that",
];

/// How one migration's rehearsal ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Every step passed, and `ferry check` finds no risky statement.
    Passed,
    /// Every step passed, but the lint finds errors (a protected deploy refuses those).
    LintErrors,
    /// Its `down.sql` is empty: irreversible on purpose, so it was not rolled back.
    Irreversible,
    /// Older than an irreversible one, so it cannot be rolled back from under it.
    BelowIrreversible,
    UpFailed,
    /// `down.sql` is missing, or a statement of it failed.
    DownFailed,
    /// `down.sql` ran but the schema is not what it was before `up.sql`.
    DownIncomplete,
    UpAgainFailed,
    /// `up.sql` applied after its rollback builds another schema than the first time.
    UpAgainDiffers,
    /// The rehearsal stopped (at another migration) before this one was through.
    NotFinished,
}

impl Outcome {
    /// Stable keys for `--format json`.
    fn key(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::LintErrors => "lint_errors",
            Outcome::Irreversible => "irreversible",
            Outcome::BelowIrreversible => "not_rolled_back",
            Outcome::UpFailed => "up_failed",
            Outcome::DownFailed => "down_failed",
            Outcome::DownIncomplete => "down_incomplete",
            Outcome::UpAgainFailed => "up_again_failed",
            Outcome::UpAgainDiffers => "up_again_differs",
            Outcome::NotFinished => "not_finished",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::LintErrors => "lint errors",
            Outcome::Irreversible => "irreversible (empty down.sql): not rolled back",
            Outcome::BelowIrreversible => "not rolled back (a newer one is irreversible)",
            Outcome::UpFailed => "up.sql failed",
            Outcome::DownFailed => "down.sql failed",
            Outcome::DownIncomplete => "down.sql does not undo up.sql",
            Outcome::UpAgainFailed => "up.sql failed when applied again",
            Outcome::UpAgainDiffers => "up.sql builds something else when applied again",
            Outcome::NotFinished => "not finished",
        }
    }
}

/// One pending migration, its timings, lint findings and outcome.
struct Rehearsed<'a> {
    migration: &'a Migration,
    up_ms: Option<u128>,
    down_ms: Option<u128>,
    up_again_ms: Option<u128>,
    lint: Vec<&'a migrations::LintLine>,
    outcome: Outcome,
}

impl Rehearsed<'_> {
    fn lint_count(&self, severity: Severity) -> usize {
        self.lint
            .iter()
            .filter(|l| l.finding.severity == severity)
            .count()
    }
}

/// The step that stopped the rehearsal.
struct Failure {
    migration: String,
    /// `up`, `down` or `up_again`.
    step: &'static str,
    exit: Exit,
    message: String,
}

/// Everything the report prints.
struct Report<'r, 'a> {
    target: &'r str,
    kind: DialectKind,
    rows: &'r [Rehearsed<'a>],
    history_rows: usize,
    copy_ms: u128,
    total_ms: u128,
    failure: Option<&'r Failure>,
    /// The first lines of the target's statements ferry keeps but does not model (SQLite's
    /// views and triggers), which the scratch database lacks.
    not_copied: Vec<String>,
    /// Why the lint could not run (it replays the migrations offline).
    lint_failure: Option<&'r str>,
    exit_code: u8,
}

/// Rehearses `pending` (in the order `ferry migrate` would apply them) for the target `db`,
/// whose applied history is `history`, prints the report, and fails (with the exit code the
/// failing step has elsewhere) unless everything passed.
pub fn run(
    db: &mut dyn Database,
    dir: &MigrationDir,
    history: &[AppliedMigration],
    pending: &[&Migration],
    target: &str,
    lint_allowed: &[String],
    format: Format,
) -> Result<ExitCode> {
    let started = Instant::now();
    let kind = db.dialect().kind();
    if pending.is_empty() {
        crate::info!("Nothing to rehearse: {target} has no pending migration.");
        if let Format::Json = format {
            let doc = json!({
                "database": target,
                "passed": true,
                "migrations": [],
                "failure": null,
                "not_covered": NOT_COVERED,
                "exit_code": 0,
            });
            println!("{doc:#}");
        }
        return Ok(ExitCode::SUCCESS);
    }

    // The lint replays the migrations offline, where a migration that fails to apply fails
    // too; that failure is the rehearsal's to report (with its exit code), so a lint that
    // cannot run is held back until the rehearsal has spoken.
    let (lint, lint_failure) = match migrations::lint_migrations(dir, pending, kind, lint_allowed) {
        Ok(lint) => (lint, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let mut rows: Vec<Rehearsed> = pending
        .iter()
        .map(|m| {
            let file = m.up_path().display().to_string();
            Rehearsed {
                migration: m,
                up_ms: None,
                down_ms: None,
                up_again_ms: None,
                lint: lint.iter().filter(|l| l.file == file).collect(),
                outcome: Outcome::NotFinished,
            }
        })
        .collect();

    crate::info!(
        "Rehearsing {} pending migration(s) of {target} on {}; {target} is not changed.",
        pending.len(),
        scratch_description(kind)
    );
    // The only read of the target besides its history (read by the caller).
    let current = db.inspect()?;
    let not_copied: Vec<String> = current
        .opaque
        .iter()
        .map(|s| shorten(s.sql.lines().next().unwrap_or("")))
        .collect();
    let mut scratch = db.scratch().map_err(|e| {
        let e = CliError::from(e);
        CliError::new(e.exit, format!("cannot rehearse: {}", e.message))
    })?;
    let copy_started = Instant::now();
    copy_target(scratch.as_mut(), &current, history, target)?;
    let copy_ms = copy_started.elapsed().as_millis();
    let failure = rehearse(scratch.as_mut(), &mut rows, kind)?;
    // Dropped here, before the report, so that a warning about a scratch database that
    // could not be dropped comes before the result.
    drop(scratch);

    let lint_errors: usize = rows.iter().map(|r| r.lint_count(Severity::Error)).sum();
    // The first failing step is the news; then a lint that could not run; then lint errors
    // (a protected deploy refuses those, so a rehearsal does not pass them).
    let verdict: Option<CliError> = if let Some(f) = &failure {
        Some(CliError::new(
            f.exit,
            format!(
                "rehearsal failed: {}\n{target} was not changed: the rehearsal ran on a scratch database",
                f.message
            ),
        ))
    } else if let Some(e) = &lint_failure {
        Some(CliError::new(
            e.exit,
            format!(
                "rehearsal failed: the pending migrations apply, roll back and apply again, but they cannot be linted: {}",
                e.message
            ),
        ))
    } else if lint_errors > 0 {
        Some(CliError::new(
            Exit::Lint,
            format!(
                "rehearsal failed: the pending migrations apply, roll back and apply again, but `ferry check` finds {lint_errors} risky statement(s) in them (listed above), which a protected deploy refuses; fix them, or silence one on purpose with `-- ferry:allow RULE` above it"
            ),
        ))
    } else {
        None
    };
    let report = Report {
        target,
        kind,
        rows: &rows,
        history_rows: history.len(),
        copy_ms,
        total_ms: started.elapsed().as_millis(),
        failure: failure.as_ref(),
        not_copied,
        lint_failure: lint_failure.as_ref().map(|e| e.message.as_str()),
        exit_code: verdict.as_ref().map_or(0, |e| e.exit as u8),
    };
    match format {
        Format::Json => print_json(&report),
        Format::Text => print_text(&report),
    }
    match verdict {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn scratch_description(kind: DialectKind) -> &'static str {
    match kind {
        DialectKind::Postgres => "a scratch database on the same server (dropped afterwards)",
        DialectKind::Sqlite => "an in-memory scratch database",
    }
}

/// Answers every "renamed or created?" with "created": comparisons, not migrations.
fn no_renames() -> Renames {
    Renames {
        no_rename: true,
        ..Default::default()
    }
}

/// The SQL that would turn `actual` into `expected`; `None` when they are the same schema.
fn difference(db: &dyn Database, actual: &Schema, expected: &Schema) -> Result<Option<String>> {
    let dialect = db.dialect();
    let changes = ferry_core::diff(actual, expected, &no_renames());
    let plan = dialect.plan(actual, expected, &changes)?;
    Ok((!plan.is_empty()).then(|| plan.to_sql()))
}

/// Builds the target's schema in the empty scratch database and records its applied
/// migrations there, without running them (as `ferry baseline` does).
fn copy_target(
    scratch: &mut dyn Database,
    current: &Schema,
    history: &[AppliedMigration],
    target: &str,
) -> Result<()> {
    let empty = Schema::default();
    let changes = ferry_core::diff(&empty, current, &no_renames());
    let plan = scratch.dialect().plan(&empty, current, &changes)?;
    scratch.apply(&plan).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!(
                "cannot rehearse: copying the schema of {target} into the scratch database failed: {e}\nit may depend on something ferry does not copy (an extension, a function)"
            ),
        )
    })?;
    // The comparisons below are only as good as the copy: refuse one that is not exact.
    let copied = scratch.inspect()?;
    if let Some(sql) = difference(scratch, &copied, current)? {
        return Err(CliError::new(
            Exit::Failure,
            format!(
                "cannot rehearse: the scratch copy of {target}'s schema differs from it (a ferry bug: please report it); what would make it match:\n{sql}"
            ),
        ));
    }
    for row in history {
        let nothing = Script {
            origin: format!("the history of {target}"),
            statements: Vec::new(),
            transactional: true,
            committed_first: 0,
        };
        scratch.run_script(
            &nothing,
            &HistoryChange::Record {
                version: row.version.clone(),
                name: row.name.clone(),
                checksum: row.checksum.clone(),
            },
        )?;
    }
    Ok(())
}

/// Applies every pending migration, rolls them back newest first, applies them again,
/// checking the schema after each step. Stops at the first failing step and returns it.
fn rehearse(
    scratch: &mut dyn Database,
    rows: &mut [Rehearsed],
    kind: DialectKind,
) -> Result<Option<Failure>> {
    // schemas[i]: the schema before rows[i] is applied; schemas[rows.len()]: after them all.
    let mut schemas = vec![scratch.inspect()?];

    for row in rows.iter_mut() {
        let m = row.migration;
        let started = Instant::now();
        if let Err(e) = migrations::run_up(scratch, m, kind) {
            row.outcome = Outcome::UpFailed;
            return Ok(Some(Failure {
                migration: m.id(),
                step: "up",
                exit: e.exit,
                message: format!("migration {} failed: {}", m.id(), e.message),
            }));
        }
        row.up_ms = Some(started.elapsed().as_millis());
        schemas.push(scratch.inspect()?);
    }

    // Newest first, as `ferry rollback` does; an irreversible one stops the rollback, since
    // the ones before it cannot be rolled back from under it.
    let mut rolled_back_from = rows.len();
    for i in (0..rows.len()).rev() {
        let m = rows[i].migration;
        let script = match m.down_script(kind) {
            Some(script) => script?,
            None => {
                rows[i].outcome = Outcome::DownFailed;
                return Ok(Some(Failure {
                    migration: m.id(),
                    step: "down",
                    exit: Exit::Integrity,
                    message: format!(
                        "{} has no {}: it cannot be rolled back (write one; an empty file declares it irreversible on purpose)",
                        m.id(),
                        ferry_migrate::dir::DOWN
                    ),
                }));
            }
        };
        if script.statements.is_empty() {
            rows[i].outcome = Outcome::Irreversible;
            for row in &mut rows[..i] {
                row.outcome = Outcome::BelowIrreversible;
            }
            break;
        }
        migrations::echo(&script);
        let change = HistoryChange::Forget {
            version: m.version.clone(),
        };
        let started = Instant::now();
        if let Err(e) = scratch.run_script(&script, &change) {
            let e = CliError::from(e);
            rows[i].outcome = Outcome::DownFailed;
            return Ok(Some(Failure {
                migration: m.id(),
                step: "down",
                exit: e.exit,
                message: format!("rolling back {} failed: {}", m.id(), e.message),
            }));
        }
        rows[i].down_ms = Some(started.elapsed().as_millis());
        let after = scratch.inspect()?;
        if let Some(sql) = difference(scratch, &after, &schemas[i])? {
            rows[i].outcome = Outcome::DownIncomplete;
            return Ok(Some(Failure {
                migration: m.id(),
                step: "down",
                exit: Exit::Drift,
                message: format!(
                    "{} does not undo {}: after rolling back {} the schema differs from the one before it was applied; what would bring it back:\n{}",
                    m.down_path().display(),
                    m.up_path().display(),
                    m.id(),
                    sql.trim_end()
                ),
            }));
        }
        rolled_back_from = i;
    }

    for i in rolled_back_from..rows.len() {
        let m = rows[i].migration;
        let started = Instant::now();
        if let Err(e) = migrations::run_up(scratch, m, kind) {
            rows[i].outcome = Outcome::UpAgainFailed;
            return Ok(Some(Failure {
                migration: m.id(),
                step: "up_again",
                exit: e.exit,
                message: format!(
                    "migration {} failed when applied again after its rollback: {}",
                    m.id(),
                    e.message
                ),
            }));
        }
        rows[i].up_again_ms = Some(started.elapsed().as_millis());
        let after = scratch.inspect()?;
        if let Some(sql) = difference(scratch, &after, &schemas[i + 1])? {
            rows[i].outcome = Outcome::UpAgainDiffers;
            return Ok(Some(Failure {
                migration: m.id(),
                step: "up_again",
                exit: Exit::Drift,
                message: format!(
                    "{} builds another schema when applied again after its rollback than the first time; what would make it the same:\n{}",
                    m.id(),
                    sql.trim_end()
                ),
            }));
        }
        rows[i].outcome = Outcome::Passed;
    }

    for row in rows.iter_mut() {
        if row.outcome == Outcome::Passed && row.lint_count(Severity::Error) > 0 {
            row.outcome = Outcome::LintErrors;
        }
    }
    Ok(None)
}

/// A statement's first line, cut to fit a report line.
fn shorten(line: &str) -> String {
    const WIDTH: usize = 80;
    match line.char_indices().nth(WIDTH) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}

fn ms(value: Option<u128>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn lint_summary(row: &Rehearsed) -> String {
    let errors = row.lint_count(Severity::Error);
    let warnings = row.lint_count(Severity::Warning);
    match (errors, warnings) {
        (0, 0) => "-".to_string(),
        (e, 0) => format!("{e} error(s)"),
        (0, w) => format!("{w} warning(s)"),
        (e, w) => format!("{e} error(s), {w} warning(s)"),
    }
}

fn sum(rows: &[Rehearsed], field: impl Fn(&Rehearsed) -> Option<u128>) -> u128 {
    rows.iter().filter_map(field).sum()
}

fn print_text(report: &Report) {
    let Report {
        target,
        kind,
        rows,
        history_rows,
        copy_ms,
        total_ms,
        ..
    } = report;
    println!(
        "Rehearsal of {} pending migration(s) of {target} on {}:",
        rows.len(),
        scratch_description(*kind)
    );
    println!(
        "  copied the target's schema and {history_rows} history row(s) in {copy_ms} ms (no rows of data)"
    );
    let ids: Vec<String> = rows.iter().map(|r| r.migration.id()).collect();
    let id_width = ids.iter().map(String::len).max().unwrap_or(0).max(9);
    let lints: Vec<String> = rows.iter().map(lint_summary).collect();
    let lint_width = lints.iter().map(String::len).max().unwrap_or(0).max(4);
    println!(
        "  {:<id_width$}  {:>6}  {:>8}  {:>12}  {:<lint_width$}  outcome",
        "migration", "up ms", "down ms", "up again ms", "lint"
    );
    for ((row, id), lint) in rows.iter().zip(&ids).zip(&lints) {
        println!(
            "  {id:<id_width$}  {:>6}  {:>8}  {:>12}  {lint:<lint_width$}  {}",
            ms(row.up_ms),
            ms(row.down_ms),
            ms(row.up_again_ms),
            row.outcome.label()
        );
    }
    println!(
        "  {:<id_width$}  {:>6}  {:>8}  {:>12}  ({total_ms} ms in all)",
        "total",
        sum(rows, |r| r.up_ms),
        sum(rows, |r| r.down_ms),
        sum(rows, |r| r.up_again_ms),
    );
    for l in rows.iter().flat_map(|r| &r.lint) {
        let severity = match l.finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!(
            "  {}:{}:{}: {severity}[{}]: {}",
            l.file, l.finding.line, l.finding.column, l.finding.rule, l.finding.message
        );
    }
    if let Some(message) = report.lint_failure {
        println!("  the lint could not run: {message}");
    }
    if !report.not_copied.is_empty() {
        println!(
            "  not copied into the scratch database ({} statement(s) ferry does not model):",
            report.not_copied.len()
        );
        for line in &report.not_copied {
            println!("    {line}");
        }
    }
    let not_rolled_back = rows
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Outcome::Irreversible | Outcome::BelowIrreversible
            )
        })
        .count();
    if not_rolled_back > 0 {
        println!(
            "  {not_rolled_back} migration(s) not rolled back: an empty down.sql declares a migration irreversible, and the ones before it cannot be rolled back from under it"
        );
    }
    if report.exit_code == 0 {
        println!("Rehearsal passed; {target} was not changed.");
    }
    println!("What a rehearsal does not cover:");
    for note in NOT_COVERED {
        println!("  - {note}");
    }
}

fn print_json(report: &Report) {
    let migrations: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            json!({
                "migration": r.migration.id(),
                "up_ms": r.up_ms.map(|v| v as u64),
                "down_ms": r.down_ms.map(|v| v as u64),
                "up_again_ms": r.up_again_ms.map(|v| v as u64),
                "lint_errors": r.lint_count(Severity::Error),
                "lint_warnings": r.lint_count(Severity::Warning),
                "lint": r.lint.iter().map(|l| json!({
                    "file": l.file,
                    "line": l.finding.line,
                    "column": l.finding.column,
                    "rule": l.finding.rule,
                    "severity": match l.finding.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "message": l.finding.message,
                })).collect::<Vec<_>>(),
                "outcome": r.outcome.key(),
            })
        })
        .collect();
    let rows = report.rows;
    let doc = json!({
        "database": report.target,
        "passed": report.exit_code == 0,
        "history_rows_copied": report.history_rows,
        "copy_ms": report.copy_ms as u64,
        "migrations": migrations,
        "total": {
            "up_ms": sum(rows, |r| r.up_ms) as u64,
            "down_ms": sum(rows, |r| r.down_ms) as u64,
            "up_again_ms": sum(rows, |r| r.up_again_ms) as u64,
            "ms": report.total_ms as u64,
        },
        "failure": report.failure.map(|f| json!({
            "migration": f.migration,
            "step": f.step,
            "message": f.message,
            "exit_code": f.exit as u8,
        })),
        "lint_failure": report.lint_failure,
        "not_copied": report.not_copied,
        "not_covered": NOT_COVERED,
        "exit_code": report.exit_code,
    });
    println!("{doc:#}");
}
