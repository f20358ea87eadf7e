//! The rule table: every rule's name, severity and one-line description, in one place so
//! that docs, `--format json` and the `ferry:allow` name check all read the same list.

use ferry_core::DialectKind;

use crate::Severity;

/// A rule, as documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    pub name: &'static str,
    pub severity: Severity,
    /// The statement destroys rows or values that cannot be recovered without a backup.
    pub data_loss: bool,
    /// The dialects the rule checks.
    pub dialects: &'static [DialectKind],
    pub description: &'static str,
}

const BOTH: &[DialectKind] = &[DialectKind::Postgres, DialectKind::Sqlite];
const PG: &[DialectKind] = &[DialectKind::Postgres];

pub const DROP_TABLE: &str = "drop-table";
pub const DROP_COLUMN: &str = "drop-column";
pub const DROP_SCHEMA: &str = "drop-schema";
pub const TRUNCATE_TABLE: &str = "truncate-table";
pub const DELETE_WITHOUT_WHERE: &str = "delete-without-where";
pub const ADDING_NOT_NULL_COLUMN: &str = "adding-not-null-column-without-default";
pub const CREATE_INDEX_NON_CONCURRENTLY: &str = "create-index-non-concurrently";
pub const DROP_INDEX_NON_CONCURRENTLY: &str = "drop-index-non-concurrently";
pub const CONCURRENTLY_IN_TRANSACTION: &str = "concurrently-in-transaction";
pub const TRANSACTION_NESTING: &str = "transaction-nesting";
pub const SETTING_NOT_NULL: &str = "setting-not-null";
pub const CHANGING_COLUMN_TYPE: &str = "changing-column-type";
pub const ADDING_FOREIGN_KEY: &str = "adding-foreign-key-without-not-valid";
pub const ADDING_CHECK: &str = "adding-check-without-not-valid";
pub const ADDING_UNIQUE: &str = "adding-unique-constraint";
pub const ADDING_VOLATILE_DEFAULT: &str = "adding-column-with-volatile-default";
pub const RENAMING_TABLE: &str = "renaming-table";
pub const RENAMING_COLUMN: &str = "renaming-column";
pub const MISSING_LOCK_TIMEOUT: &str = "missing-lock-timeout";
pub const UNKNOWN_RULE: &str = "unknown-rule";

static RULES: &[RuleInfo] = &[
    RuleInfo {
        name: DROP_TABLE,
        severity: Severity::Error,
        data_loss: true,
        dialects: BOTH,
        description: "DROP TABLE of an existing table deletes all its rows",
    },
    RuleInfo {
        name: DROP_COLUMN,
        severity: Severity::Error,
        data_loss: true,
        dialects: BOTH,
        description: "DROP COLUMN (or a table rebuild that leaves a column out) deletes the column's values",
    },
    RuleInfo {
        name: DROP_SCHEMA,
        severity: Severity::Error,
        data_loss: true,
        dialects: PG,
        description: "DROP SCHEMA ... CASCADE deletes every table in the schema",
    },
    RuleInfo {
        name: TRUNCATE_TABLE,
        severity: Severity::Error,
        data_loss: true,
        dialects: BOTH,
        description: "TRUNCATE of an existing table deletes all its rows",
    },
    RuleInfo {
        name: DELETE_WITHOUT_WHERE,
        severity: Severity::Error,
        data_loss: true,
        dialects: BOTH,
        description: "DELETE without WHERE on an existing table deletes all its rows",
    },
    RuleInfo {
        name: ADDING_NOT_NULL_COLUMN,
        severity: Severity::Error,
        data_loss: false,
        dialects: BOTH,
        description: "ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows",
    },
    RuleInfo {
        name: CREATE_INDEX_NON_CONCURRENTLY,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds",
    },
    RuleInfo {
        name: DROP_INDEX_NON_CONCURRENTLY,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
    },
    RuleInfo {
        name: CONCURRENTLY_IN_TRANSACTION,
        severity: Severity::Error,
        data_loss: false,
        dialects: BOTH,
        description: "a statement that cannot run inside a transaction (CONCURRENTLY, VACUUM, ...) in a transactional migration",
    },
    RuleInfo {
        name: TRANSACTION_NESTING,
        severity: Severity::Error,
        data_loss: false,
        dialects: BOTH,
        description: "BEGIN / COMMIT / ROLLBACK in a migration that ferry already runs in a transaction",
    },
    RuleInfo {
        name: SETTING_NOT_NULL,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "ALTER COLUMN ... SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
    },
    RuleInfo {
        name: CHANGING_COLUMN_TYPE,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "ALTER COLUMN ... TYPE rewrites the table under an ACCESS EXCLUSIVE lock",
    },
    RuleInfo {
        name: ADDING_FOREIGN_KEY,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "adding a FOREIGN KEY without NOT VALID checks every row while blocking writes",
    },
    RuleInfo {
        name: ADDING_CHECK,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "adding a CHECK constraint without NOT VALID scans the table under an ACCESS EXCLUSIVE lock",
    },
    RuleInfo {
        name: ADDING_UNIQUE,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "adding a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock",
    },
    RuleInfo {
        name: ADDING_VOLATILE_DEFAULT,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "ADD COLUMN whose value is computed per row (volatile DEFAULT, serial, identity, stored generated) rewrites the table",
    },
    RuleInfo {
        name: RENAMING_TABLE,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "renaming a table breaks the application version that is still running",
    },
    RuleInfo {
        name: RENAMING_COLUMN,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "renaming a column breaks the application version that is still running",
    },
    RuleInfo {
        name: MISSING_LOCK_TIMEOUT,
        severity: Severity::Warning,
        data_loss: false,
        dialects: PG,
        description: "the migration locks an existing table without setting lock_timeout first",
    },
    RuleInfo {
        name: UNKNOWN_RULE,
        severity: Severity::Error,
        data_loss: false,
        dialects: BOTH,
        description: "a ferry:allow or ferry:allow-file comment names a rule that does not exist",
    },
];

/// Every rule, in the order the docs list them.
pub fn rules() -> &'static [RuleInfo] {
    RULES
}

/// The rule called `name`, if there is one.
pub fn rule(name: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.name == name)
}
