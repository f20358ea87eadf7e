//! Linting migration files before they deploy: statements that lose data, fail on a table
//! that has rows, block reads or writes for a long time, or break the application version
//! that is still running. In the spirit of Squawk (<https://squawkhq.com/docs/rules>), for
//! PostgreSQL and SQLite, with no database: what a table holds is judged from the schema
//! the earlier migrations produce (`LintInput::before`).
//!
//! Statements are split by `ferry_sql::split_statements` and matched on their tokens, not
//! parsed: a statement the rules do not recognise is skipped, never an error.
//!
//! See `docs/lint.md` for the rules and the `-- ferry:allow` comments that silence them.

mod check;
mod directives;
mod rules;
mod stmt;

use std::collections::BTreeSet;
use std::fmt;

use ferry_core::{DialectKind, Schema};
use ferry_sql::{split_statements, LoadError};

pub use rules::{rule, rules, RuleInfo};

use directives::Scope;
use stmt::Stmt;

/// One migration file to lint.
#[derive(Clone, Copy, Debug)]
pub struct LintInput<'a> {
    /// The file's text.
    pub sql: &'a str,
    /// Its path, for error messages.
    pub origin: &'a str,
    pub kind: DialectKind,
    /// The schema before this file runs (the earlier migrations, replayed): its tables are
    /// the ones that may hold rows and be in use.
    pub before: &'a Schema,
    /// False when the file opts out of the transaction with `-- ferry:no-transaction`.
    pub transactional: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// Where the offending statement (or ALTER TABLE action, or comment) starts, 1-based.
    pub line: u64,
    pub column: u64,
    /// The statement's first line, shortened.
    pub statement: String,
    pub message: String,
    /// What to do instead.
    pub hint: String,
    /// The statement destroys data that only a backup brings back.
    pub data_loss: bool,
}

/// Longest `Finding::statement`, in characters.
const STATEMENT_WIDTH: usize = 80;

/// Lints one migration file. Findings are ordered by line, column and rule name. The only
/// error is text the SQL tokenizer rejects (an unterminated string or comment).
pub fn lint(input: &LintInput) -> Result<Vec<Finding>, LoadError> {
    let statements = split_statements(input.sql, input.origin, input.kind)?;
    let (directives, bad_names) = directives::scan(input.sql, input.origin, input.kind)?;
    let stmts: Vec<Stmt> = statements
        .iter()
        .map(|s| Stmt::new(s, input.kind))
        .collect();

    let file_allowed: BTreeSet<&str> = directives
        .iter()
        .filter(|d| d.scope == Scope::File)
        .flat_map(|d| d.rules.iter().copied())
        .collect();
    let mut allowed: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); stmts.len()];
    for d in directives.iter().filter(|d| d.scope == Scope::Statement) {
        if let Some(i) = allow_target(&stmts, (d.line, d.column)) {
            allowed[i].extend(d.rules.iter().copied());
        }
    }

    let mut findings = Vec::new();
    let mut checker = check::Checker::new(input);
    // Reported once per file, at the first unprotected statement not silenced: one
    // `SET lock_timeout` at the top fixes them all.
    let mut lock_timeout_reported = false;
    for ((statement, stmt), allowed) in statements.iter().zip(&stmts).zip(&allowed) {
        for hit in checker.statement(stmt) {
            if file_allowed.contains(hit.rule) || allowed.contains(hit.rule) {
                continue;
            }
            if hit.rule == rules::MISSING_LOCK_TIMEOUT {
                if lock_timeout_reported {
                    continue;
                }
                lock_timeout_reported = true;
            }
            findings.push(finding(
                hit.rule,
                (hit.line, hit.column),
                &statement.sql,
                hit.message,
                hit.hint,
            ));
        }
    }
    // Typos in the silencing comments are never silenced themselves.
    for bad in bad_names {
        let line = input
            .sql
            .lines()
            .nth(bad.line.saturating_sub(1) as usize)
            .unwrap_or("");
        findings.push(finding(
            rules::UNKNOWN_RULE,
            (bad.line, bad.column),
            line,
            bad.message,
            bad.hint,
        ));
    }
    findings.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
    findings.dedup();
    Ok(findings)
}

fn finding(
    rule_name: &'static str,
    (line, column): (u64, u64),
    sql: &str,
    message: String,
    hint: String,
) -> Finding {
    let info = rule(rule_name).expect("every rule that fires is in the rule table");
    Finding {
        rule: info.name,
        severity: info.severity,
        line,
        column,
        statement: first_line(sql),
        message,
        hint,
        data_loss: info.data_loss,
    }
}

/// The first line of `sql`, trimmed and cut to `STATEMENT_WIDTH` characters.
fn first_line(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or("").trim_end();
    if line.chars().count() <= STATEMENT_WIDTH {
        return line.to_string();
    }
    let cut: String = line.chars().take(STATEMENT_WIDTH - 3).collect();
    format!("{cut}...")
}

/// The statement a `ferry:allow` comment at `at` applies to: the one it precedes or sits
/// inside, or, when it ends the line a statement ends on (`DROP TABLE t; -- ferry:allow
/// drop-table`), that statement.
fn allow_target(stmts: &[Stmt], at: (u64, u64)) -> Option<usize> {
    let end = |s: &Stmt| s.pos(s.len().saturating_sub(1));
    for (i, s) in stmts.iter().enumerate() {
        if at < s.pos(0) {
            let trailing = i > 0 && end(&stmts[i - 1]).0 == at.0;
            return Some(if trailing { i - 1 } else { i });
        }
        if at <= end(s) {
            return Some(i);
        }
    }
    // After the last statement: only a comment on its last line belongs to it.
    let last = stmts.len().checked_sub(1)?;
    (end(&stmts[last]).0 == at.0).then_some(last)
}

#[cfg(test)]
mod tests;
