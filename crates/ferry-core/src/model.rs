//! The schema model (IR): one normalised description of a database schema.
//!
//! Loading schema files and inspecting a live database must produce *equal* values for the
//! same schema; every field here is therefore stored in a canonical form chosen by the
//! dialect (type names, implicit constraint names, expression keys). The model knows no
//! database and no file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

mod domain;
pub use domain::{type_name_of, Domain};
mod security;
pub use security::*;
mod default_privileges;
pub use default_privileges::*;

/// A schema-qualified object name. SQLite uses the schema `main`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// A whole database schema, as far as ferry manages it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    /// Namespaces other than the dialect's default one (`public`, `main`).
    pub namespaces: BTreeSet<String>,
    pub enums: BTreeMap<QualifiedName, EnumType>,
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    pub tables: BTreeMap<QualifiedName, Table>,
    /// Views and materialized views (PostgreSQL).
    pub views: BTreeMap<QualifiedName, View>,
    /// Privileges on schemas (PostgreSQL), by schema name, `public` included.
    pub namespace_grants: BTreeMap<String, Grants>,
    /// Comments on schemas (PostgreSQL), by schema name, `public` included unless it holds
    /// the server's own [`PUBLIC_SCHEMA_COMMENT`]; set through
    /// [`Schema::set_namespace_comment`].
    pub namespace_comments: BTreeMap<String, String>,
    /// Domains (PostgreSQL).
    pub domains: BTreeMap<QualifiedName, Domain>,
    /// Functions and procedures (PostgreSQL), by name and input argument types.
    pub functions: BTreeMap<crate::function::FunctionId, crate::function::Function>,
    /// Triggers (PostgreSQL), by (table or view, trigger name).
    pub triggers: BTreeMap<(QualifiedName, String), crate::function::Trigger>,
    /// Extensions by name (PostgreSQL; `plpgsql` is never listed).
    pub extensions: BTreeMap<String, Extension>,
    /// Composite types (PostgreSQL `CREATE TYPE name AS (...)`).
    pub composite_types: BTreeMap<QualifiedName, CompositeType>,
    /// `ALTER DEFAULT PRIVILEGES` (PostgreSQL): entries that differ from their baseline.
    pub default_privileges: DefaultPrivileges,
    /// Statements ferry does not model yet. Kept in order and reported, never dropped silently.
    pub opaque: Vec<OpaqueStatement>,
    /// `@renamed from=...` annotations found while loading; hints for the differ, not state.
    pub rename_hints: Vec<RenameHint>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumType {
    pub name: QualifiedName,
    pub values: Vec<String>,
    pub comment: Option<String>,
    /// Privileges (`USAGE`), PostgreSQL's default for a new type included: see
    /// [`type_default_grants`]. Not part of the definition the differ compares.
    pub grants: Grants,
}

/// A sequence. Options left at the dialect's default are `None`, so that a sequence written
/// with and without its defaults compares equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub name: QualifiedName,
    /// Canonical type name; `None` means the dialect default (`bigint`).
    pub data_type: Option<String>,
    pub options: SequenceOptions,
    /// `OWNED BY table.column`.
    pub owned_by: Option<(QualifiedName, String)>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceOptions {
    pub start: Option<i64>,
    pub increment: Option<i64>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    pub cache: Option<i64>,
    pub cycle: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: QualifiedName,
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub uniques: Vec<UniqueConstraint>,
    pub checks: Vec<CheckConstraint>,
    /// PostgreSQL `EXCLUDE` constraints, sorted by name.
    pub exclusions: Vec<ExclusionConstraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    pub comment: Option<String>,
    /// SQLite `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// SQLite `STRICT`.
    pub strict: bool,
    pub grants: Grants,
    /// `PARTITION BY ...`: a partitioned table (PostgreSQL); see `docs/partitions.md`.
    pub partition_by: Option<PartitionBy>,
    /// `PARTITION OF parent FOR VALUES ...`: a partition. Its columns, NOT NULLs, and the
    /// constraints and indexes it inherits belong to the parent and are not repeated here.
    pub partition_of: Option<PartitionOf>,
    /// PostgreSQL `ENABLE ROW LEVEL SECURITY`.
    pub row_security: bool,
    /// PostgreSQL `FORCE ROW LEVEL SECURITY`.
    pub force_row_security: bool,
    /// Row level security policies, sorted by name.
    pub policies: Vec<Policy>,
}

impl Table {
    pub fn new(name: QualifiedName) -> Self {
        Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            exclusions: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            comment: None,
            without_rowid: false,
            strict: false,
            grants: Grants::new(),
            partition_by: None,
            partition_of: None,
            row_security: false,
            force_row_security: false,
            policies: Vec::new(),
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    /// Canonical type name as the dialect spells it (`integer`, `character varying(40)`,
    /// `timestamp(3) with time zone`, `text[]`, `"public"."mood"`).
    pub data_type: String,
    pub not_null: bool,
    pub default: Option<Expr>,
    pub identity: Option<Identity>,
    /// `GENERATED ALWAYS AS (expr) STORED` (or VIRTUAL on SQLite).
    pub generated: Option<Generated>,
    pub collation: Option<String>,
    pub comment: Option<String>,
    /// Column-level privileges (`GRANT SELECT (col) ON t`).
    pub grants: Grants,
}

impl Column {
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            not_null: false,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
            grants: Grants::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `ALWAYS` (true) or `BY DEFAULT` (false).
    pub always: bool,
    pub options: SequenceOptions,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    pub expr: Expr,
    pub stored: bool,
}

/// An SQL expression (default, check, index expression, predicate).
///
/// `sql` is the text to render; `key` is its normalised form, used for comparison, so that
/// `now()` / `CURRENT_TIMESTAMP`-style spellings and server rewrites (`(0)::numeric`) do not
/// produce phantom diffs. Equality compares keys only.
#[derive(Clone, Debug, Eq)]
pub struct Expr {
    pub sql: String,
    pub key: String,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
    /// SQLite `AUTOINCREMENT`.
    pub autoincrement: bool,
    /// `COMMENT ON CONSTRAINT` (PostgreSQL), as on every constraint: it changes without
    /// rebuilding the constraint (see [`Constraint::same_but_comment`]).
    pub comment: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Deferrable {
    #[default]
    NotDeferrable,
    InitiallyImmediate,
    InitiallyDeferred,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
    pub nulls_not_distinct: bool,
    pub deferrable: Deferrable,
    pub comment: Option<String>,
}

/// A check constraint of a table or a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckConstraint {
    pub name: String,
    pub expr: Expr,
    pub no_inherit: bool,
    pub comment: Option<String>,
}

/// PostgreSQL `EXCLUDE [USING method] (element WITH operator, ...) [INCLUDE (...)]
/// [WHERE (predicate)] [DEFERRABLE ...]`: no two rows may have every element's operator
/// return true. Backed by an index of the constraint's name, like a unique constraint.
/// Storage parameters and the index tablespace are accepted and not compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExclusionConstraint {
    pub name: String,
    /// Access method, lower case; `btree` when not written.
    pub method: String,
    pub elements: Vec<ExclusionElement>,
    pub include: Vec<String>,
    pub predicate: Option<Expr>,
    pub deferrable: Deferrable,
    pub comment: Option<String>,
}

/// One `element WITH operator` of an exclusion constraint: an index key (column or
/// expression, collation, operator class, order) and the operator that compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExclusionElement {
    pub key: IndexKey,
    /// As PostgreSQL prints it: `&&`, `=`, or `OPERATOR(schema.op)` for an operator
    /// outside `pg_catalog` and `public`.
    pub operator: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReferentialAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ReferentialAction {
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MatchType {
    #[default]
    Simple,
    Full,
    Partial,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: QualifiedName,
    pub ref_columns: Vec<String>,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
    pub match_type: MatchType,
    pub deferrable: Deferrable,
    pub comment: Option<String>,
}

/// Constraints and indexes: what the differ needs to tell a comment change (a `COMMENT ON`)
/// from a change of the object itself (a rebuild).
pub trait Constraint: Clone + PartialEq {
    fn name(&self) -> &String;
    fn set_name(&mut self, name: String);
    fn comment(&self) -> Option<&str>;
    fn comment_mut(&mut self) -> &mut Option<String>;

    /// Equal but for the comment.
    fn same_but_comment(&self, other: &Self) -> bool {
        let mut a = self.clone();
        *a.comment_mut() = other.comment().map(str::to_string);
        &a == other
    }
}

macro_rules! constraint_with_comment {
    ($($t:ty),*) => {$(
        impl Constraint for $t {
            fn name(&self) -> &String {
                &self.name
            }
            fn set_name(&mut self, name: String) {
                self.name = name;
            }
            fn comment(&self) -> Option<&str> {
                self.comment.as_deref()
            }
            fn comment_mut(&mut self) -> &mut Option<String> {
                &mut self.comment
            }
        }
    )*};
}
constraint_with_comment!(
    PrimaryKey,
    UniqueConstraint,
    CheckConstraint,
    ExclusionConstraint,
    ForeignKey,
    Index
);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// Access method, lower case; `btree` is the default on PostgreSQL, empty on SQLite.
    pub method: String,
    pub keys: Vec<IndexKey>,
    pub include: Vec<String>,
    pub predicate: Option<Expr>,
    pub nulls_not_distinct: bool,
    /// `WITH (fillfactor = 70)` (PostgreSQL).
    pub storage: StorageParams,
    /// `COMMENT ON INDEX` (PostgreSQL).
    pub comment: Option<String>,
}

impl Index {
    /// Whether `self` and `other` are the same index built the same way: equal but for the
    /// comment and the storage parameters, which change without a rebuild.
    pub fn same_build(&self, other: &Index) -> bool {
        let mut a = self.clone();
        a.storage = other.storage.clone();
        a.same_but_comment(other)
    }
}

/// Storage parameters (`WITH (fillfactor = 70, deduplicate_items = on)`) as `name=value`
/// strings the way the server keeps them in `reloptions`: names lower case, values as
/// stored (`'70'` and `70` are both `70`). Kept in the order written, which is the order
/// the server keeps and prints; compared as a set.
#[derive(Clone, Debug, Default, Eq)]
pub struct StorageParams(pub Vec<String>);

impl StorageParams {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parameter's name in a `name=value` entry.
    pub fn name_of(entry: &str) -> &str {
        entry.split_once('=').map_or(entry, |(n, _)| n)
    }

    fn sorted(&self) -> Vec<&String> {
        let mut v: Vec<&String> = self.0.iter().collect();
        v.sort();
        v
    }
}

impl PartialEq for StorageParams {
    fn eq(&self, other: &Self) -> bool {
        self.sorted() == other.sorted()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexTarget {
    Column(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexKey {
    pub target: IndexTarget,
    pub collation: Option<String>,
    pub opclass: Option<String>,
    pub descending: bool,
    /// Explicit NULLS FIRST / LAST only when it differs from the default for the direction
    /// (`NULLS LAST` for ASC, `NULLS FIRST` for DESC); `None` otherwise.
    pub nulls_first: Option<bool>,
}

impl IndexKey {
    pub fn column(name: impl Into<String>) -> Self {
        IndexKey {
            target: IndexTarget::Column(name.into()),
            collation: None,
            opclass: None,
            descending: false,
            nulls_first: None,
        }
    }
}

/// A partitioned table's key: `PARTITION BY RANGE (a, lower(b))`. Keys are parsed like
/// index keys (column or expression, collation, operator class).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionBy {
    /// `range`, `list` or `hash`.
    pub strategy: String,
    pub keys: Vec<IndexKey>,
}

/// A partition's parent and bound. `bound.sql` is `FOR VALUES ...` or `DEFAULT` as written
/// (or as `pg_get_expr(relpartbound)` prints it); `bound.key` is its normalised form (see
/// `ferry_sql::partition_bound`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    pub bound: Expr,
}

/// A view or materialized view.
///
/// PostgreSQL stores a view's query rewritten (`pg_get_viewdef`), so the text read from a file
/// never equals the text read from a database; `query.key` is a normalised form of the parsed
/// query (see `ferry_sql::resolve_views`) that both sides agree on for common queries.
/// Equality compares what defines the view: name, kind, query key, options, comments, indexes
/// (not its privileges: those change with GRANT and REVOKE, see `Change::Grants`).
/// `outputs`, `references` and `calls` are derived facts for the planner and are not compared.
#[derive(Clone, Debug)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// The query as written (`sql`, rendered back) and its normalised key. The explicit
    /// column list is folded into the key (as output aliases), as PostgreSQL does.
    pub query: Expr,
    /// `CREATE VIEW v (a, b) AS ...`: the explicit column list as written; empty when none
    /// (always empty when inspected: the server keeps the names as aliases in the query).
    pub columns: Vec<String>,
    /// `WITH (...)` options as sorted `key=value` strings; `WITH [LOCAL|CASCADED] CHECK
    /// OPTION` is stored as `check_option=...`, the way the server keeps it.
    pub options: Vec<String>,
    pub comment: Option<String>,
    /// Comments on the view's columns, by column name.
    pub column_comments: BTreeMap<String, String>,
    /// Indexes of a materialized view, sorted by name.
    pub indexes: Vec<Index>,
    pub grants: Grants,
    /// The output columns, with the key of each one's expression when the query is
    /// understood; empty when not. Used to decide whether `CREATE OR REPLACE` can work.
    pub outputs: Vec<ViewColumn>,
    /// Tables and views the query reads: from `pg_depend` when inspected, and from its FROM
    /// and JOIN clauses resolved against the schema. May contain false positives; never
    /// compared.
    pub references: BTreeSet<QualifiedName>,
    /// Functions of the schema the query calls, by name: from `pg_depend` when inspected,
    /// and from names written before a parenthesis. May contain false positives; never
    /// compared.
    pub calls: BTreeSet<QualifiedName>,
}

impl View {
    pub fn new(name: QualifiedName, query: Expr) -> Self {
        View {
            name,
            materialized: false,
            query,
            columns: Vec::new(),
            options: Vec::new(),
            comment: None,
            column_comments: BTreeMap::new(),
            indexes: Vec::new(),
            grants: Grants::new(),
            outputs: Vec::new(),
            references: BTreeSet::new(),
            calls: BTreeSet::new(),
        }
    }
}

impl PartialEq for View {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.materialized == other.materialized
            && self.query == other.query
            && self.options == other.options
            && self.comment == other.comment
            && self.column_comments == other.column_comments
            && self.indexes == other.indexes
    }
}

/// One output column of a view: its name and the key of its expression (empty if unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewColumn {
    pub name: String,
    pub key: String,
}

/// One privilege on an object, held by a role. The object's owner holds every privilege
/// implicitly; those are not listed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// The role as the server spells it (case kept), or `PUBLIC`.
    pub grantee: String,
    /// Upper case: `SELECT`, `INSERT`, `USAGE`, ...
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
}

/// The grantee standing for every role.
pub const PUBLIC: &str = "PUBLIC";

pub type Grants = BTreeSet<Grant>;

/// `privilege` held by PUBLIC: what PostgreSQL gives every new function and procedure
/// (`EXECUTE`) and type (`USAGE`) besides its owner, when nothing else is said (a NULL ACL).
pub fn public_default(privilege: &str) -> Grants {
    [Grant {
        grantee: PUBLIC.to_string(),
        privilege: privilege.to_string(),
        grantable: false,
    }]
    .into()
}

/// A new function's or procedure's privileges: `EXECUTE` to PUBLIC.
pub fn function_default_grants() -> Grants {
    public_default("EXECUTE")
}

/// The comment PostgreSQL gives the `public` schema of a new database. It counts as no
/// comment, so that schema files need not repeat it.
pub const PUBLIC_SCHEMA_COMMENT: &str = "standard public schema";

impl Schema {
    /// Sets or clears the comment on schema `name`; the server's default comment on
    /// `public` is stored as none.
    pub fn set_namespace_comment(&mut self, name: &str, comment: Option<String>) {
        match comment {
            Some(c) if !(name == "public" && c == PUBLIC_SCHEMA_COMMENT) => {
                self.namespace_comments.insert(name.to_string(), c);
            }
            _ => {
                self.namespace_comments.remove(name);
            }
        }
    }
}

/// A new type's (enum, domain, composite type) privileges: `USAGE` to PUBLIC.
pub fn type_default_grants() -> Grants {
    public_default("USAGE")
}

impl Schema {
    /// Keeps only the grants whose grantee `managed` accepts, on every object: ferry manages
    /// the privileges of some roles and leaves the others' alone.
    pub fn retain_grants(&mut self, managed: impl Fn(&str) -> bool) {
        let keep = |g: &mut Grants| g.retain(|g| managed(&g.grantee));
        self.namespace_grants.values_mut().for_each(keep);
        self.namespace_grants.retain(|_, g| !g.is_empty());
        for t in self.tables.values_mut() {
            keep(&mut t.grants);
            t.columns.iter_mut().for_each(|c| keep(&mut c.grants));
        }
        self.views.values_mut().for_each(|v| keep(&mut v.grants));
        self.sequences
            .values_mut()
            .for_each(|s| keep(&mut s.grants));
        // Objects with a default ACL: a role that is not managed is taken to hold its
        // default (PUBLIC's EXECUTE or USAGE), on both sides, so that it never differs.
        let keep_default = |g: &mut Grants, default: &Grants| {
            g.retain(|g| managed(&g.grantee));
            g.extend(default.iter().filter(|d| !managed(&d.grantee)).cloned());
        };
        let (fd, td) = (function_default_grants(), type_default_grants());
        for f in self.functions.values_mut() {
            keep_default(&mut f.grants, &fd);
        }
        for e in self.enums.values_mut() {
            keep_default(&mut e.grants, &td);
        }
        for d in self.domains.values_mut() {
            keep_default(&mut d.grants, &td);
        }
        for c in self.composite_types.values_mut() {
            keep_default(&mut c.grants, &td);
        }
        // Default privileges: likewise against each entry's baseline.
        for (key, grants) in std::mem::take(&mut self.default_privileges) {
            let mut grants = grants;
            keep_default(&mut grants, &key.baseline());
            self.set_default_privileges(key, grants);
        }
    }

    /// Every role granted something anywhere in this schema.
    pub fn grantees(&self) -> BTreeSet<String> {
        let mut all: Vec<&Grants> = self.namespace_grants.values().collect();
        for t in self.tables.values() {
            all.push(&t.grants);
            all.extend(t.columns.iter().map(|c| &c.grants));
        }
        all.extend(self.views.values().map(|v| &v.grants));
        all.extend(self.sequences.values().map(|s| &s.grants));
        let mut roles: BTreeSet<String> = all
            .into_iter()
            .flatten()
            .map(|g| g.grantee.clone())
            .collect();
        // Objects with a default ACL: the roles whose privileges differ from the default
        // (so a REVOKE ... FROM PUBLIC makes PUBLIC managed; the default alone does not).
        let (fd, td) = (function_default_grants(), type_default_grants());
        let mut differing = |g: &Grants, default: &Grants| {
            roles.extend(g.symmetric_difference(default).map(|g| g.grantee.clone()));
        };
        for f in self.functions.values() {
            differing(&f.grants, &fd);
        }
        for e in self.enums.values() {
            differing(&e.grants, &td);
        }
        for d in self.domains.values() {
            differing(&d.grants, &td);
        }
        for c in self.composite_types.values() {
            differing(&c.grants, &td);
        }
        for (key, grants) in &self.default_privileges {
            differing(grants, &key.baseline());
        }
        roles
    }
}

/// A statement ferry keeps but does not understand yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueStatement {
    pub sql: String,
    /// Where it came from, e.g. `schema/views.sql:12`.
    pub origin: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameHint {
    Table {
        from: QualifiedName,
        to: QualifiedName,
    },
    Column {
        table: QualifiedName,
        from: String,
        to: String,
    },
    Index {
        table: QualifiedName,
        from: String,
        to: String,
    },
}

impl SequenceOptions {
    /// These options with every value that equals PostgreSQL's default for a sequence of
    /// `data_type` (`smallint`, `integer`, `bigint`) set to `None`, so a sequence written
    /// with and without its defaults compares equal.
    pub fn without_defaults(&self, data_type: &str) -> SequenceOptions {
        let type_max = match data_type {
            "smallint" => i16::MAX as i64,
            "integer" => i32::MAX as i64,
            _ => i64::MAX,
        };
        let increment = self.increment.unwrap_or(1);
        let ascending = increment > 0;
        let default_min = if ascending { 1 } else { -type_max - 1 };
        let default_max = if ascending { type_max } else { -1 };
        let min = self.min_value.unwrap_or(default_min);
        let max = self.max_value.unwrap_or(default_max);
        let default_start = if ascending { min } else { max };
        SequenceOptions {
            start: self.start.filter(|v| *v != default_start),
            increment: self.increment.filter(|v| *v != 1),
            min_value: self.min_value.filter(|v| *v != default_min),
            max_value: self.max_value.filter(|v| *v != default_max),
            cache: self.cache.filter(|v| *v != 1),
            cycle: self.cycle,
        }
    }
}
