//! Functions, procedures and triggers (PostgreSQL) in the schema model.
//!
//! A function is identified by its name and the canonical types of its input arguments
//! ([`FunctionId`]), so overloads are different objects. Its body is compared exactly as
//! written when the server keeps it verbatim (`AS $$ ... $$`, `AS '...'`), and by a
//! normalised key for SQL-standard bodies (`RETURN expr`, `BEGIN ATOMIC ... END`), which
//! the server rewrites.

use std::fmt;

use crate::model::{Deferrable, Expr, Grants, QualifiedName};

/// What tells overloads apart: the name and the canonical types of the input arguments
/// (IN, INOUT and VARIADIC; OUT arguments are not part of a function's identity).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionId {
    pub name: QualifiedName,
    pub args: Vec<String>,
}

impl fmt::Display for FunctionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.args.join(", "))
    }
}

/// A function or procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: QualifiedName,
    pub procedure: bool,
    pub args: Vec<FunctionArg>,
    /// Canonical return type (`integer`, `SETOF integer`, `TABLE(id integer, name text)`,
    /// `trigger`, `void`, `record`); `None` for a procedure.
    pub returns: Option<String>,
    /// Lower case (`plpgsql`, `sql`, `c`).
    pub language: String,
    pub body: FunctionBody,
    /// `immutable`, `stable` or `volatile` (the default).
    pub volatility: String,
    /// `STRICT` / `RETURNS NULL ON NULL INPUT`.
    pub strict: bool,
    pub security_definer: bool,
    pub leakproof: bool,
    /// `safe`, `restricted` or `unsafe` (the default).
    pub parallel: String,
    /// `COST n` when it is not the default (100; 1 for C and internal functions).
    pub cost: Option<String>,
    /// `ROWS n` when it is not the default (1000 for set-returning functions).
    pub rows: Option<String>,
    /// `SET name = value` clauses: lower-case name, value items joined by `, ` without
    /// quotes (`search_path` = `public, pg_temp`), in the order written.
    pub config: Vec<(String, String)>,
    pub comment: Option<String>,
    /// Privileges (`EXECUTE`), PUBLIC's default included (see
    /// [`crate::model::function_default_grants`]); not part of the definition the differ
    /// compares.
    pub grants: Grants,
}

impl Function {
    pub fn id(&self) -> FunctionId {
        FunctionId {
            name: self.name.clone(),
            args: self
                .args
                .iter()
                .filter(|a| a.mode != ArgMode::Out)
                .map(|a| a.data_type.clone())
                .collect(),
        }
    }

    /// This function with `other`'s privileges: equal to `other` when only privileges differ.
    pub fn with_grants_of(&self, other: &Function) -> Function {
        let mut f = self.clone();
        f.grants = other.grants.clone();
        f
    }

    /// `FUNCTION` or `PROCEDURE`.
    pub fn kind(&self) -> &'static str {
        if self.procedure {
            "PROCEDURE"
        } else {
            "FUNCTION"
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ArgMode {
    In,
    Out,
    InOut,
    Variadic,
}

impl ArgMode {
    pub fn sql(self) -> &'static str {
        match self {
            ArgMode::In => "IN",
            ArgMode::Out => "OUT",
            ArgMode::InOut => "INOUT",
            ArgMode::Variadic => "VARIADIC",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionArg {
    pub mode: ArgMode,
    pub name: Option<String>,
    /// Canonical type without type modifiers (the server drops them: `varchar(10)` is
    /// `character varying`).
    pub data_type: String,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FunctionBody {
    /// `AS 'definition'` or `AS $$definition$$`: the text the server keeps verbatim.
    Definition(String),
    /// `AS 'obj_file', 'link_symbol'` (C functions).
    ObjectFile(String, String),
    /// A SQL-standard body (`RETURN expr`, `BEGIN ATOMIC ... END`) as written, compared by
    /// its normalised key: the server stores it parsed and prints it back rewritten.
    Sql(Expr),
}

/// A trigger on a table or view.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    pub table: QualifiedName,
    pub name: String,
    pub timing: TriggerTiming,
    /// Sorted (INSERT, UPDATE, DELETE, TRUNCATE), without duplicates.
    pub events: Vec<TriggerEvent>,
    /// `UPDATE OF a, b`: the columns, as written.
    pub update_columns: Vec<String>,
    pub for_each_row: bool,
    pub when: Option<Expr>,
    pub function: QualifiedName,
    /// The arguments, as the strings the function receives (`tf('a', 1)` → `a`, `1`).
    pub arguments: Vec<String>,
    /// `CREATE CONSTRAINT TRIGGER`.
    pub constraint: bool,
    pub deferrable: Deferrable,
    /// `FROM referenced_table` (constraint triggers).
    pub from_table: Option<QualifiedName>,
    /// `REFERENCING OLD TABLE AS x`.
    pub old_table: Option<String>,
    /// `REFERENCING NEW TABLE AS x`.
    pub new_table: Option<String>,
    /// `ALTER TABLE ... ENABLE | DISABLE TRIGGER` state.
    pub enabled: TriggerEnabled,
    pub comment: Option<String>,
}

/// Whether a trigger fires (`pg_trigger.tgenabled`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TriggerEnabled {
    /// Fires in the `origin` and `local` replication roles (the default).
    #[default]
    Origin,
    Disabled,
    /// `ENABLE REPLICA TRIGGER`: fires only in the `replica` role.
    Replica,
    /// `ENABLE ALWAYS TRIGGER`.
    Always,
}

impl TriggerEnabled {
    /// The `ALTER TABLE` action that sets this state, for trigger `name` (quoted).
    pub fn action(self, name: &str) -> String {
        match self {
            TriggerEnabled::Origin => format!("ENABLE TRIGGER {name}"),
            TriggerEnabled::Disabled => format!("DISABLE TRIGGER {name}"),
            TriggerEnabled::Replica => format!("ENABLE REPLICA TRIGGER {name}"),
            TriggerEnabled::Always => format!("ENABLE ALWAYS TRIGGER {name}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerTiming {
    Before,
    After,
    InsteadOf,
}

impl TriggerTiming {
    pub fn sql(self) -> &'static str {
        match self {
            TriggerTiming::Before => "BEFORE",
            TriggerTiming::After => "AFTER",
            TriggerTiming::InsteadOf => "INSTEAD OF",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TriggerEvent {
    Insert,
    Update,
    Delete,
    Truncate,
}

impl TriggerEvent {
    pub fn sql(self) -> &'static str {
        match self {
            TriggerEvent::Insert => "INSERT",
            TriggerEvent::Update => "UPDATE",
            TriggerEvent::Delete => "DELETE",
            TriggerEvent::Truncate => "TRUNCATE",
        }
    }
}
