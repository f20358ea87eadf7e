//! PostgreSQL row level security policies, extensions and composite types.

use super::{Expr, QualifiedName};

/// The command a policy applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyCommand {
    #[default]
    All,
    Select,
    Insert,
    Update,
    Delete,
}

impl PolicyCommand {
    pub fn sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}

/// `CREATE POLICY name ON table [AS PERMISSIVE|RESTRICTIVE] [FOR cmd] [TO roles]
/// [USING (expr)] [WITH CHECK (expr)]`. Expressions compare by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    /// `AS PERMISSIVE` (the default, true) or `AS RESTRICTIVE`.
    pub permissive: bool,
    pub command: PolicyCommand,
    /// Role names, sorted and deduplicated; `public` when none is given.
    pub roles: Vec<String>,
    pub using: Option<Expr>,
    pub with_check: Option<Expr>,
    pub comment: Option<String>,
}

impl Policy {
    pub fn new(name: impl Into<String>) -> Self {
        Policy {
            name: name.into(),
            permissive: true,
            command: PolicyCommand::All,
            roles: vec!["public".to_string()],
            using: None,
            with_check: None,
            comment: None,
        }
    }
}

/// An installed extension. The version is not part of the schema ferry compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    /// The schema it is installed in, when not the default one (`public`) and not the only
    /// one the extension allows.
    pub schema: Option<String>,
    pub comment: Option<String>,
}

/// `CREATE TYPE name AS (attr type [COLLATE c], ...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositeType {
    pub name: QualifiedName,
    pub attributes: Vec<CompositeAttribute>,
    pub comment: Option<String>,
    /// Privileges (`USAGE`), PUBLIC's default included; not part of the definition the
    /// differ compares.
    pub grants: super::Grants,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositeAttribute {
    pub name: String,
    /// Canonical type, as for columns.
    pub data_type: String,
    pub collation: Option<String>,
}
