//! Plans: ordered, rendered steps with their hazards, ready to show or apply.

use std::fmt;

/// What a step may do to existing data or to the running application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HazardKind {
    /// Rows or values are destroyed (drop table/column, narrowing type, removed enum value).
    DataLoss,
    /// The whole table is rewritten or rebuilt (rows are kept).
    TableRewrite,
    /// Takes a lock that blocks reads or writes for a long time on a big table.
    LongLock,
    /// May fail on existing rows (new NOT NULL, UNIQUE, CHECK, foreign key, type cast).
    MayFail,
}

impl HazardKind {
    pub fn label(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data loss",
            HazardKind::TableRewrite => "table rewrite",
            HazardKind::LongLock => "long lock",
            HazardKind::MayFail => "may fail on existing rows",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    pub kind: HazardKind,
    pub message: String,
}

impl Hazard {
    pub fn new(kind: HazardKind, message: impl Into<String>) -> Self {
        Hazard {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

/// One logical change, rendered as one or more statements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub statements: Vec<String>,
    pub hazards: Vec<Hazard>,
}

impl Step {
    pub fn new(statement: impl Into<String>) -> Self {
        Step {
            statements: vec![statement.into()],
            hazards: Vec::new(),
        }
    }

    pub fn with_hazard(mut self, kind: HazardKind, message: impl Into<String>) -> Self {
        self.hazards.push(Hazard::new(kind, message));
        self
    }
}

/// A complete migration plan.
///
/// `steps` run inside one transaction where the dialect allows it. `before` and `after` run
/// outside it (SQLite's `PRAGMA foreign_keys` cannot change inside a transaction), and every
/// query in `checks` must return no rows before the transaction commits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub before: Vec<String>,
    pub steps: Vec<Step>,
    pub checks: Vec<String>,
    pub after: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn hazards(&self) -> impl Iterator<Item = &Hazard> {
        self.steps.iter().flat_map(|s| s.hazards.iter())
    }

    pub fn has_hazard(&self, kind: HazardKind) -> bool {
        self.hazards().any(|h| h.kind == kind)
    }

    /// The plan as an SQL script: each statement terminated by `;` on its own line(s).
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        let stmts = self
            .before
            .iter()
            .chain(self.steps.iter().flat_map(|s| s.statements.iter()))
            .chain(self.checks.iter())
            .chain(self.after.iter());
        for stmt in stmts {
            out.push_str(stmt);
            out.push_str(";\n");
        }
        out
    }
}
