//! Loading SQL text into the schema model.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ferry_core::*;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::expr::expr;
use crate::split::{split_statements, Comment, SqlStatement, Tok};

mod comment;
mod default_privileges;
mod domain;
mod exclusion;
mod function;
mod grant;
mod partition;
mod replay;
mod security;
mod view;

pub use exclusion::exclusion_constraint;
pub use partition::partition_key;
pub use replay::{replay, Replayer};

/// A schema file that cannot be read or parsed. Points at the file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads every `.sql` file under `paths` (files or directories, recursively, sorted by
/// path so the result never depends on directory order) into one schema.
pub fn load_paths(paths: &[PathBuf], dialect: &dyn Dialect) -> Result<Schema, LoadError> {
    let mut files = Vec::new();
    for p in paths {
        collect_sql_files(p, &mut files)?;
    }
    files.sort();
    files.dedup();
    let mut loader = Loader::new(dialect);
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| LoadError {
            file: file.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        loader.load(&text, &file.display().to_string())?;
    }
    loader.finish()
}

/// Loads one SQL text; `origin` names it in errors.
pub fn load_str(sql: &str, origin: &str, dialect: &dyn Dialect) -> Result<Schema, LoadError> {
    let mut loader = Loader::new(dialect);
    loader.load(sql, origin)?;
    loader.finish()
}

fn collect_sql_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let err = |e: std::io::Error| LoadError {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(err)? {
        let p = entry.map_err(err)?.path();
        if p.is_dir() {
            collect_sql_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "sql") {
            out.push(p);
        }
    }
    Ok(())
}

/// A named item (table, column, index) whose `@renamed` annotation may follow it.
struct Annotatable {
    line: u64,
    col: u64,
    target: RenameTarget,
}

enum RenameTarget {
    Table(QualifiedName),
    Column(QualifiedName, String),
    Index(QualifiedName, String),
}

#[derive(Clone)]
struct Loader<'d> {
    dialect: &'d dyn Dialect,
    kind: DialectKind,
    schema: Schema,
    /// Relation-like names per namespace (tables, indexes, sequences): PostgreSQL picks
    /// implicit names that do not collide with these.
    relation_names: HashSet<(String, String)>,
    /// The file being loaded, for errors and opaque statements' origins.
    errors_origin: String,
    /// Replaying migrations (see `replay`): statements change the model in order, and DROP
    /// and the other ALTER forms are understood. Declarative loading leaves this off.
    replay: bool,
    /// Replay only: temporary tables, and their indexes and temporary sequences, by name.
    /// They are session state, so statements on them are skipped rather than modelled.
    temp_relations: HashSet<String>,
    /// Replay only: objects created by statements kept opaque (views, domains,
    /// partitioned tables ...). Statements on them stay opaque instead of failing as
    /// "does not exist".
    opaque_objects: HashSet<QualifiedName>,
    /// Declarative loading: GRANTs and REVOKEs, applied once every object is known.
    pending_grants: Vec<grant::PendingGrant>,
}

type PResult<T> = Result<T, LoadError>;

impl<'d> Loader<'d> {
    fn new(dialect: &'d dyn Dialect) -> Self {
        Loader {
            dialect,
            kind: dialect.kind(),
            schema: Schema::default(),
            relation_names: HashSet::new(),
            errors_origin: String::new(),
            replay: false,
            temp_relations: HashSet::new(),
            opaque_objects: HashSet::new(),
            pending_grants: Vec::new(),
        }
    }

    fn finish(mut self) -> PResult<Schema> {
        for g in std::mem::take(&mut self.pending_grants) {
            self.apply_grant(&g)?;
        }
        // `REFERENCES t` names t's primary key; t may be declared later (any file order).
        let primary_keys: std::collections::HashMap<QualifiedName, Vec<String>> = self
            .schema
            .tables
            .iter()
            .filter_map(|(n, t)| Some((n.clone(), t.primary_key.as_ref()?.columns.clone())))
            .collect();
        for t in self.schema.tables.values_mut() {
            for fk in &mut t.foreign_keys {
                if fk.ref_columns.is_empty() {
                    if let Some(pk) = primary_keys.get(&fk.ref_table) {
                        fk.ref_columns = pk.clone();
                    }
                }
            }
        }
        for t in self.schema.tables.values_mut() {
            t.checks
                .sort_by(|a, b| a.name.cmp(&b.name).then(a.expr.key.cmp(&b.expr.key)));
            t.uniques
                .sort_by(|a, b| a.name.cmp(&b.name).then(a.columns.cmp(&b.columns)));
            t.exclusions.sort_by(|a, b| a.name.cmp(&b.name));
            t.foreign_keys
                .sort_by(|a, b| a.name.cmp(&b.name).then(a.columns.cmp(&b.columns)));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        for v in self.schema.views.values_mut() {
            v.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.normalise_domain_collations();
        crate::view::resolve_views(&mut self.schema);
        Ok(self.schema)
    }

    fn load(&mut self, text: &str, origin: &str) -> PResult<()> {
        self.errors_origin = origin.to_string();
        for stmt in split_statements(text, origin, self.kind)? {
            self.statement(stmt)?;
        }
        Ok(())
    }

    fn statement(&mut self, stmt: SqlStatement) -> PResult<()> {
        let origin = self.errors_origin.clone();
        let mut p = StmtParser {
            toks: &stmt.tokens,
            pos: 0,
            origin: &origin,
            kind: self.kind,
        };
        let mut annotatables = Vec::new();
        let before = self.objects_before_create(&p);
        let handled = self.dispatch(&mut p, &mut annotatables)?;
        if let (true, Some(before)) = (handled, &before) {
            self.grant_defaults_to_created(before);
        }
        if !handled {
            if self.replay {
                if let Some(name) = self.opaque_created_name(&stmt) {
                    self.opaque_objects.insert(name);
                }
            }
            self.schema.opaque.push(OpaqueStatement {
                origin: format!("{}:{}", self.errors_origin, stmt.line),
                sql: stmt.sql,
            });
            return Ok(());
        }
        // `@renamed` annotations are hints for diffing a schema file; a replayed
        // migration describes a database, which holds no hints.
        if !self.replay {
            self.attach_annotations(&stmt.comments, &annotatables);
        }
        Ok(())
    }

    /// Parses one statement into the model. `Ok(false)`: not a statement ferry models.
    fn dispatch(&mut self, p: &mut StmtParser, ann: &mut Vec<Annotatable>) -> PResult<bool> {
        if self.replay {
            if let Some(handled) = self.replay_dispatch(p)? {
                return Ok(handled);
            }
            p.pos = 0;
        }
        if p.eat_word("create") {
            let or_replace = p.eat_words(&["or", "replace"]);
            // Views are modelled for PostgreSQL; SQLite keeps them opaque.
            if self.kind == DialectKind::Postgres
                && (p.peek_word("view") || p.peek_words(&["materialized", "view"]))
            {
                return self.create_view(p, or_replace);
            }
            if self.kind == DialectKind::Postgres && p.eat_word("domain") {
                return self.create_domain(p);
            }
            if self.kind == DialectKind::Postgres
                && (p.peek_word("function") || p.peek_word("procedure"))
            {
                return self.create_function(p, or_replace);
            }
            if self.kind == DialectKind::Postgres
                && (p.peek_word("trigger") || p.peek_words(&["constraint", "trigger"]))
            {
                return self.create_trigger(p, or_replace);
            }
            if p.peek_word("table")
                || p.peek_words(&["temp", "table"])
                || p.peek_words(&["temporary", "table"])
                || p.peek_words(&["unlogged", "table"])
            {
                if p.eat_word("temp") || p.eat_word("temporary") {
                    // Temporary tables are session state, not schema.
                    return Ok(true);
                }
                p.eat_word("unlogged");
                p.expect_word("table")?;
                return self.create_table(p, ann);
            }
            if p.eat_word("unique") {
                p.expect_word("index")?;
                return self.create_index(p, true, ann);
            }
            if p.eat_word("index") {
                return self.create_index(p, false, ann);
            }
            if p.eat_word("schema") {
                let if_not_exists = p.eat_words(&["if", "not", "exists"]);
                let at = p.here();
                let name = p.ident()?;
                if self.replay && self.schema.namespaces.contains(&name) {
                    if if_not_exists {
                        return Ok(true);
                    }
                    return Err(p.error_at(at, &format!("schema {name} already exists")));
                }
                if name != self.dialect.default_namespace() {
                    self.schema.namespaces.insert(name);
                }
                return Ok(true);
            }
            if p.eat_word("sequence") {
                return self.create_sequence(p);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("policy") {
                return self.create_policy(p);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("extension") {
                return self.create_extension(p);
            }
            if p.peek_word("type") {
                let save = p.pos;
                p.expect_word("type")?;
                let at = p.here();
                let name = self.qualified(p)?;
                if p.eat_words(&["as", "enum"]) {
                    let values = p.paren_list(|p| p.string_literal())?;
                    if self.replay && self.schema.enums.contains_key(&name) {
                        return Err(p.error_at(at, &format!("type {name} already exists")));
                    }
                    self.schema.enums.insert(
                        name.clone(),
                        EnumType {
                            name,
                            values,
                            comment: None,
                            grants: ferry_core::type_default_grants(),
                        },
                    );
                    return Ok(true);
                }
                if self.kind == DialectKind::Postgres && p.eat_word("as") && p.peek(&Token::LParen)
                {
                    return self.create_composite_type(p, at, name);
                }
                p.pos = save;
            }
            return Ok(false);
        }
        if p.eat_word("alter") {
            if self.kind == DialectKind::Postgres && p.eat_words(&["default", "privileges"]) {
                return self.alter_default_privileges(p);
            }
            if p.eat_word("table") {
                return self.alter_table(p, ann);
            }
            if p.eat_word("sequence") {
                return self.alter_sequence(p);
            }
            if self.kind == DialectKind::Postgres
                && (p.peek_word("view") || p.peek_words(&["materialized", "view"]))
            {
                return self.alter_view(p);
            }
            if self.kind == DialectKind::Postgres && p.eat_word("domain") {
                return self.alter_domain(p);
            }
            if self.kind == DialectKind::Postgres
                && (p.peek_word("function") || p.peek_word("procedure") || p.peek_word("routine"))
            {
                return self.alter_routine(p);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("trigger") {
                return self.alter_trigger(p);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("policy") {
                return self.alter_policy(p);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("extension") {
                return self.alter_extension(p);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("type") {
                let save = p.pos;
                p.pos += 1;
                let name = self.qualified(p)?;
                if let Some(handled) = self.alter_composite_type(p, &name)? {
                    return Ok(handled);
                }
                p.pos = save;
            }
            if p.eat_word("type") || p.eat_word("schema") || p.eat_word("index") {
                // OWNER TO and similar: ownership is not part of the schema ferry manages.
                let rest = p.rest_words();
                return Ok(rest.contains(&"owner".to_string()));
            }
            return Ok(false);
        }
        if p.eat_word("comment") {
            return self.comment(p);
        }
        if p.eat_word("grant") {
            return self.grant(p, false);
        }
        if p.eat_word("revoke") {
            return self.grant(p, true);
        }
        // Session settings and transaction control in dumps carry no schema.
        for w in ["set", "begin", "commit", "start", "end", "pragma", "reset"] {
            if p.peek_word(w) {
                return Ok(true);
            }
        }
        if p.peek_word("select") && p.toks.iter().any(|t| is_word(&t.token, "set_config")) {
            return Ok(true);
        }
        Ok(false)
    }

    fn default_ns(&self) -> String {
        self.dialect.default_namespace().to_string()
    }

    fn qualified(&self, p: &mut StmtParser) -> PResult<QualifiedName> {
        Ok(self.qualified_explicit(p)?.0)
    }

    /// A name, and whether it was written with its schema (an unqualified name may be a
    /// temporary table, which shadows the default namespace).
    fn qualified_explicit(&self, p: &mut StmtParser) -> PResult<(QualifiedName, bool)> {
        let first = p.ident()?;
        if p.eat(&Token::Period) {
            let second = p.ident()?;
            // SQLite's `temp` namespace is not schema.
            return Ok((QualifiedName::new(first, second), true));
        }
        Ok((QualifiedName::new(self.default_ns(), first), false))
    }

    /// SQLite names are case-insensitive: `ON PRODUCTS` finds table `products`.
    fn resolve_table(&self, name: QualifiedName) -> QualifiedName {
        if self.kind != DialectKind::Sqlite || self.schema.tables.contains_key(&name) {
            return name;
        }
        self.schema
            .tables
            .keys()
            .find(|k| {
                k.schema.eq_ignore_ascii_case(&name.schema)
                    && k.name.eq_ignore_ascii_case(&name.name)
            })
            .cloned()
            .unwrap_or(name)
    }

    fn create_table(&mut self, p: &mut StmtParser, ann: &mut Vec<Annotatable>) -> PResult<bool> {
        let if_not_exists = p.eat_words(&["if", "not", "exists"]);
        let name_tok = p.here();
        let name = self.qualified(p)?;
        if p.peek_word("as") || p.peek_word("of") {
            // CREATE TABLE AS and typed tables are not modelled.
            return Ok(false);
        }
        if self.replay && self.relation_exists(&name.schema, &name.name) {
            if if_not_exists {
                return Ok(true);
            }
            return Err(p.error_at(name_tok, &format!("relation {name} already exists")));
        }
        if self.kind == DialectKind::Postgres && p.peek_words(&["partition", "of"]) {
            return self.create_partition(p, name, ann, name_tok);
        }
        if self.replay && copies_another_table(&p.toks[p.pos..]) {
            // `(LIKE other ...)` copies columns ferry would have to resolve; replayed, the
            // table is kept opaque, and so are later statements on it.
            return Ok(false);
        }
        ann.push(Annotatable {
            line: name_tok.0,
            col: name_tok.1,
            target: RenameTarget::Table(name.clone()),
        });
        let mut table = Table::new(name.clone());
        let mut pending = PendingConstraints::default();
        p.expect(&Token::LParen)?;
        if !p.eat(&Token::RParen) {
            loop {
                self.table_element(p, &mut table, &mut pending, ann)?;
                if p.eat(&Token::Comma) {
                    continue;
                }
                p.expect(&Token::RParen)?;
                break;
            }
        }
        // Table options.
        loop {
            if p.eat_words(&["without", "rowid"]) {
                table.without_rowid = true;
            } else if p.eat_word("strict") {
                table.strict = true;
            } else if p.eat(&Token::Comma) {
            } else if self.kind == DialectKind::Postgres && p.eat_words(&["partition", "by"]) {
                table.partition_by = Some(self.partition_by(p)?);
            } else if p.peek_word("partition") || p.peek_word("inherits") {
                return Ok(false);
            } else if p.eat_word("with") || p.eat_word("tablespace") || p.eat_word("using") {
                p.skip_rest();
            } else {
                break;
            }
        }
        p.expect_end()?;
        if self.replay {
            self.check_key_names(p, name_tok, &name.schema, &pending)?;
        }
        self.relation_names
            .insert((name.schema.clone(), name.name.clone()));
        self.schema.tables.insert(name.clone(), table);
        self.apply_pending(&name, pending);
        Ok(true)
    }

    fn table_element(
        &mut self,
        p: &mut StmtParser,
        table: &mut Table,
        pending: &mut PendingConstraints,
        ann: &mut Vec<Annotatable>,
    ) -> PResult<()> {
        let constraint_name = if p.eat_word("constraint") {
            Some(p.ident()?)
        } else {
            None
        };
        if p.peek_words(&["primary", "key"])
            || p.peek_word("unique")
            || p.peek_word("check")
            || p.peek_words(&["foreign", "key"])
            || p.peek_word("exclude")
        {
            let c = self.table_constraint(p, constraint_name)?;
            pending.items.push(c);
            return Ok(());
        }
        if constraint_name.is_some() {
            return Err(p.error(
                "expected PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY or EXCLUDE after CONSTRAINT name",
            ));
        }
        if p.peek_word("like") {
            return Err(
                p.error("CREATE TABLE ... (LIKE ...) is not supported yet; list the columns")
            );
        }
        let at = p.here();
        let column = self.column_def(p, &table.name, pending)?;
        ann.push(Annotatable {
            line: at.0,
            col: at.1,
            target: RenameTarget::Column(table.name.clone(), column.name.clone()),
        });
        if table.column(&column.name).is_some() {
            return Err(p.error_at(
                at,
                &format!("column \"{}\" specified more than once", column.name),
            ));
        }
        table.columns.push(column);
        Ok(())
    }

    fn column_def(
        &mut self,
        p: &mut StmtParser,
        table: &QualifiedName,
        pending: &mut PendingConstraints,
    ) -> PResult<Column> {
        let name = p.ident()?;
        let written = p.type_name()?;
        let mut column;
        if written.is_empty() {
            // SQLite allows columns without a type.
            column = Column::new(name.clone(), "");
        } else if let Some(real) = self.dialect.serial_type(&written) {
            column = Column::new(name.clone(), real);
            let seq = self.serial_sequence(table, &name, real);
            column.default = Some(seq);
            column.not_null = true;
        } else {
            column = Column::new(name.clone(), self.dialect.canonical_type(&written));
        }
        self.column_constraints(p, table, &mut column, pending)?;
        Ok(column)
    }

    /// `serial` = integer column + owned sequence + nextval default, as PostgreSQL does it.
    fn serial_sequence(&mut self, table: &QualifiedName, column: &str, real: &str) -> Expr {
        let seq_name = self.choose_relation_name(
            &table.schema,
            &pg_object_name(&table.name, column, "seq"),
            &table.name,
            column,
            "seq",
        );
        let seq = QualifiedName::new(table.schema.clone(), seq_name.clone());
        self.schema.sequences.insert(
            seq.clone(),
            Sequence {
                name: seq.clone(),
                data_type: if real == "bigint" {
                    None
                } else {
                    Some(real.to_string())
                },
                options: SequenceOptions::default(),
                owned_by: Some((table.clone(), column.to_string())),
                comment: None,
                grants: Default::default(),
            },
        );
        let shown = if table.schema == "public" {
            quote_pg(&seq_name)
        } else {
            format!("{}.{}", quote_pg(&table.schema), quote_pg(&seq_name))
        };
        expr(&format!("nextval('{shown}'::regclass)"), self.kind)
    }

    fn column_constraints(
        &mut self,
        p: &mut StmtParser,
        table: &QualifiedName,
        column: &mut Column,
        pending: &mut PendingConstraints,
    ) -> PResult<()> {
        loop {
            let name = if p.eat_word("constraint") {
                Some(p.ident()?)
            } else {
                None
            };
            if p.eat_words(&["not", "null"]) {
                column.not_null = true;
                self.conflict_clause(p)?;
            } else if p.eat_word("null") {
                column.not_null = false;
            } else if p.eat_word("default") {
                let at = p.here();
                let e = p.expr_until_constraint()?;
                if let Err(why) = crate::expr::validate_default(&e, self.kind) {
                    return Err(p.error_at(at, &format!("invalid DEFAULT `{e}`: {why}")));
                }
                column.default = crate::expr::column_default(&e, self.kind);
            } else if p.eat_word("check") {
                let e = p.paren_expr()?;
                let no_inherit = p.eat_words(&["no", "inherit"]);
                pending.items.push(PendingConstraint::Check {
                    name,
                    expr: e,
                    no_inherit,
                });
            } else if p.eat_word("unique") {
                let nnd = p.nulls_distinct()?;
                self.conflict_clause(p)?;
                let deferrable = p.deferrable();
                pending.items.push(PendingConstraint::Unique {
                    name,
                    columns: vec![column.name.clone()],
                    nulls_not_distinct: nnd,
                    deferrable,
                });
            } else if p.eat_words(&["primary", "key"]) {
                let _ = p.eat_word("asc") || p.eat_word("desc");
                self.conflict_clause(p)?;
                let autoincrement = p.eat_word("autoincrement");
                let _ = p.deferrable();
                column.not_null = column.not_null || self.kind == DialectKind::Postgres;
                pending.items.push(PendingConstraint::PrimaryKey {
                    name,
                    columns: vec![column.name.clone()],
                    autoincrement,
                });
            } else if p.eat_word("references") {
                let fk = self.references(p, vec![column.name.clone()])?;
                pending
                    .items
                    .push(PendingConstraint::ForeignKey { name, fk });
            } else if p.peek_word("generated") || p.peek_word("as") {
                if p.eat_word("generated") {
                    if p.eat_words(&["by", "default"]) {
                        p.expect_words(&["as", "identity"])?;
                        column.identity = Some(self.identity(p, &column.data_type, false)?);
                        column.not_null = true;
                        continue;
                    }
                    p.expect_word("always")?;
                    if p.peek_words(&["as", "identity"]) {
                        p.expect_words(&["as", "identity"])?;
                        column.identity = Some(self.identity(p, &column.data_type, true)?);
                        column.not_null = true;
                        continue;
                    }
                }
                p.expect_word("as")?;
                let e = p.paren_expr()?;
                let stored = if p.eat_word("stored") {
                    true
                } else {
                    // PostgreSQL only has STORED; SQLite's default is VIRTUAL.
                    !p.eat_word("virtual") && self.kind == DialectKind::Postgres
                };
                column.generated = Some(Generated {
                    expr: expr(&e, self.kind),
                    stored,
                });
            } else if p.eat_word("collate") {
                column.collation = Some(p.collation()?);
            } else if p.eat_word("on") {
                // SQLite: ON CONFLICT <algorithm> on a column constraint.
                p.expect_word("conflict")?;
                p.ident()?;
            } else if name.is_some() {
                return Err(p.error("expected a constraint after CONSTRAINT name"));
            } else if p.at_element_end() {
                return Ok(());
            } else {
                return Err(p.unexpected(&format!(
                    "in the definition of column {}.{}",
                    table.name, column.name
                )));
            }
        }
    }

    fn conflict_clause(&self, p: &mut StmtParser) -> PResult<()> {
        if p.eat_words(&["on", "conflict"]) {
            p.ident()?;
        }
        Ok(())
    }

    fn identity(&self, p: &mut StmtParser, data_type: &str, always: bool) -> PResult<Identity> {
        let mut options = SequenceOptions::default();
        if p.eat(&Token::LParen) {
            let mut ignored_type = None;
            self.sequence_options(p, &mut options, &mut ignored_type, &mut None)?;
            p.expect(&Token::RParen)?;
        }
        Ok(Identity {
            always,
            options: options.without_defaults(data_type),
        })
    }

    fn table_constraint(
        &mut self,
        p: &mut StmtParser,
        name: Option<String>,
    ) -> PResult<PendingConstraint> {
        if p.eat_words(&["primary", "key"]) {
            let columns = p.paren_list(|p| p.ident_with_order())?;
            let autoincrement = p.eat_word("autoincrement");
            self.conflict_clause(p)?;
            let _ = p.deferrable();
            p.skip_index_params();
            return Ok(PendingConstraint::PrimaryKey {
                name,
                columns,
                autoincrement,
            });
        }
        if p.eat_word("unique") {
            let nnd = p.nulls_distinct()?;
            let columns = p.paren_list(|p| p.ident_with_order())?;
            self.conflict_clause(p)?;
            p.skip_index_params();
            let deferrable = p.deferrable();
            return Ok(PendingConstraint::Unique {
                name,
                columns,
                nulls_not_distinct: nnd,
                deferrable,
            });
        }
        if p.eat_word("check") {
            let e = p.paren_expr()?;
            let no_inherit = p.eat_words(&["no", "inherit"]);
            p.eat_words(&["not", "valid"]);
            return Ok(PendingConstraint::Check {
                name,
                expr: e,
                no_inherit,
            });
        }
        if p.eat_words(&["foreign", "key"]) {
            let columns = p.paren_list(|p| p.ident())?;
            p.expect_word("references")?;
            let fk = self.references(p, columns)?;
            p.eat_words(&["not", "valid"]);
            return Ok(PendingConstraint::ForeignKey { name, fk });
        }
        p.expect_word("exclude")?;
        let exclusion = self.exclusion(p)?;
        Ok(PendingConstraint::Exclusion { name, exclusion })
    }

    fn references(&mut self, p: &mut StmtParser, columns: Vec<String>) -> PResult<ForeignKey> {
        let ref_table = self.qualified(p)?;
        let ref_columns = if p.peek(&Token::LParen) {
            p.paren_list(|p| p.ident())?
        } else {
            Vec::new()
        };
        let mut fk = ForeignKey {
            name: String::new(),
            columns,
            ref_table,
            ref_columns,
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
            match_type: MatchType::Simple,
            deferrable: Deferrable::NotDeferrable,
            comment: None,
        };
        loop {
            if p.eat_word("match") {
                fk.match_type = if p.eat_word("full") {
                    MatchType::Full
                } else if p.eat_word("partial") {
                    MatchType::Partial
                } else {
                    p.expect_word("simple")?;
                    MatchType::Simple
                };
            } else if p.eat_words(&["on", "delete"]) {
                fk.on_delete = p.referential_action()?;
            } else if p.eat_words(&["on", "update"]) {
                fk.on_update = p.referential_action()?;
            } else if p.peek_word("deferrable")
                || p.peek_words(&["not", "deferrable"])
                || p.peek_word("initially")
            {
                fk.deferrable = p.deferrable();
            } else {
                break;
            }
        }
        Ok(fk)
    }

    /// Resolves names and implicit names of constraints once the table's columns are known.
    fn apply_pending(&mut self, table_name: &QualifiedName, pending: PendingConstraints) {
        for c in pending.items {
            self.add_constraint(table_name, c);
        }
    }

    fn add_constraint(&mut self, table_name: &QualifiedName, c: PendingConstraint) {
        let Some(table) = self.schema.tables.get(table_name) else {
            return;
        };
        let tname = table.name.name.clone();
        match c {
            PendingConstraint::PrimaryKey {
                name,
                columns,
                autoincrement,
            } => {
                let name = match name {
                    Some(n) => {
                        // Its index takes the name: later implicit names avoid it.
                        self.remember_relation(&table_name.schema, &n);
                        n
                    }
                    None => {
                        let base =
                            self.dialect
                                .implicit_name(ImplicitName::PrimaryKey, &tname, &[]);
                        self.unique_relation_name(
                            &table_name.schema,
                            base,
                            ImplicitName::PrimaryKey,
                            &tname,
                            &[],
                        )
                    }
                };
                let Some(table) = self.schema.tables.get_mut(table_name) else {
                    return;
                };
                if self.kind == DialectKind::Postgres {
                    for c in &columns {
                        if let Some(col) = table.column_mut(c) {
                            col.not_null = true;
                        }
                    }
                }
                table.primary_key = Some(PrimaryKey {
                    name,
                    columns,
                    autoincrement,
                    comment: None,
                });
            }
            PendingConstraint::Unique {
                name,
                columns,
                nulls_not_distinct,
                deferrable,
            } => {
                let name = match name {
                    Some(n) => {
                        self.remember_relation(&table_name.schema, &n);
                        n
                    }
                    None => {
                        let base =
                            self.dialect
                                .implicit_name(ImplicitName::Unique, &tname, &columns);
                        self.unique_relation_name(
                            &table_name.schema,
                            base,
                            ImplicitName::Unique,
                            &tname,
                            &columns,
                        )
                    }
                };
                if let Some(table) = self.schema.tables.get_mut(table_name) {
                    table.uniques.push(UniqueConstraint {
                        name,
                        columns,
                        nulls_not_distinct,
                        deferrable,
                        comment: None,
                    });
                }
            }
            PendingConstraint::Exclusion {
                name,
                mut exclusion,
            } => {
                exclusion.name = match name {
                    Some(n) => {
                        // Its index takes the name: later implicit names avoid it.
                        self.remember_relation(&table_name.schema, &n);
                        n
                    }
                    None => {
                        let cols = exclusion::name_columns(
                            exclusion.elements.iter().map(|e| &e.key),
                            &exclusion.include,
                        );
                        let base =
                            self.dialect
                                .implicit_name(ImplicitName::Exclusion, &tname, &cols);
                        self.unique_relation_name(
                            &table_name.schema,
                            base,
                            ImplicitName::Exclusion,
                            &tname,
                            &cols,
                        )
                    }
                };
                if let Some(table) = self.schema.tables.get_mut(table_name) {
                    table.exclusions.push(exclusion);
                }
            }
            PendingConstraint::Check {
                name,
                expr: text,
                no_inherit,
            } => {
                let e = expr(&text, self.kind);
                let name = match name {
                    Some(n) => n,
                    None => {
                        let cols = referenced_columns(&text, table);
                        let base = self
                            .dialect
                            .implicit_name(ImplicitName::Check, &tname, &cols);
                        let taken = self.constraint_names(&table_name.schema);
                        let mut candidate = base.clone();
                        let mut n = 1;
                        while !candidate.is_empty() && taken.contains(&candidate) {
                            candidate = self.dialect.numbered_implicit_name(
                                ImplicitName::Check,
                                &tname,
                                &cols,
                                n,
                            );
                            n += 1;
                        }
                        candidate
                    }
                };
                if let Some(table) = self.schema.tables.get_mut(table_name) {
                    table.checks.push(CheckConstraint {
                        name,
                        expr: e,
                        no_inherit,
                        comment: None,
                    });
                }
            }
            PendingConstraint::ForeignKey { name, mut fk } => {
                let name = match name {
                    Some(n) => n,
                    None => {
                        let base = self.dialect.implicit_name(
                            ImplicitName::ForeignKey,
                            &tname,
                            &fk.columns,
                        );
                        let taken = self.constraint_names(&table_name.schema);
                        let mut candidate = base.clone();
                        let mut n = 1;
                        while !candidate.is_empty() && taken.contains(&candidate) {
                            candidate = self.dialect.numbered_implicit_name(
                                ImplicitName::ForeignKey,
                                &tname,
                                &fk.columns,
                                n,
                            );
                            n += 1;
                        }
                        candidate
                    }
                };
                fk.name = name;
                if fk.ref_columns.is_empty() {
                    // `REFERENCES t` means t's primary key.
                    if let Some(pk) = self
                        .schema
                        .tables
                        .get(&fk.ref_table)
                        .and_then(|t| t.primary_key.as_ref())
                    {
                        fk.ref_columns = pk.columns.clone();
                    } else if fk.ref_table == *table_name {
                        if let Some(pk) = table.primary_key.as_ref() {
                            fk.ref_columns = pk.columns.clone();
                        }
                    }
                }
                if let Some(table) = self.schema.tables.get_mut(table_name) {
                    table.foreign_keys.push(fk);
                }
            }
        }
    }

    /// PostgreSQL's implicit index names must not collide with any relation in the schema.
    /// Constraint names taken in namespace `schema`: PostgreSQL picks implicit constraint
    /// names unique across the namespace, not only the table.
    fn constraint_names(&self, schema: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for t in self
            .schema
            .tables
            .values()
            .filter(|t| t.name.schema == schema)
        {
            names.extend(t.primary_key.iter().map(|k| k.name.clone()));
            names.extend(t.uniques.iter().map(|k| k.name.clone()));
            names.extend(t.checks.iter().map(|k| k.name.clone()));
            names.extend(t.exclusions.iter().map(|k| k.name.clone()));
            names.extend(t.foreign_keys.iter().map(|k| k.name.clone()));
        }
        names
    }

    fn unique_relation_name(
        &mut self,
        schema: &str,
        base: String,
        kind: ImplicitName,
        table: &str,
        columns: &[String],
    ) -> String {
        if base.is_empty() {
            return base;
        }
        let mut candidate = base;
        let mut n = 1;
        while self
            .relation_names
            .contains(&(schema.to_string(), candidate.clone()))
        {
            candidate = self.dialect.numbered_implicit_name(kind, table, columns, n);
            n += 1;
        }
        self.relation_names
            .insert((schema.to_string(), candidate.clone()));
        candidate
    }

    fn choose_relation_name(
        &mut self,
        schema: &str,
        base: &str,
        table: &str,
        column: &str,
        label: &str,
    ) -> String {
        let mut candidate = base.to_string();
        let mut n = 1;
        while self
            .relation_names
            .contains(&(schema.to_string(), candidate.clone()))
        {
            candidate = pg_object_name(table, column, &format!("{label}{n}"));
            n += 1;
        }
        self.relation_names
            .insert((schema.to_string(), candidate.clone()));
        candidate
    }

    fn create_index(
        &mut self,
        p: &mut StmtParser,
        unique: bool,
        ann: &mut Vec<Annotatable>,
    ) -> PResult<bool> {
        p.eat_word("concurrently");
        let if_not_exists = p.eat_words(&["if", "not", "exists"]);
        let name_at = p.here();
        let mut name = None;
        if !p.peek_word("on") {
            let first = p.ident()?;
            // An index lives in its table's schema; a qualified index name repeats it.
            if p.eat(&Token::Period) {
                name = Some(p.ident()?);
            } else {
                name = Some(first);
            }
        }
        p.expect_word("on")?;
        p.eat_word("only");
        let (table_name, explicit) = self.qualified_explicit(p)?;
        let table_name = self.resolve_table(table_name);
        if self.replay {
            if self.is_temp_relation(&table_name, explicit) {
                // An index on a temporary table is session state too.
                if let Some(n) = name {
                    self.temp_relations.insert(n);
                }
                return Ok(true);
            }
            if !self.schema.tables.contains_key(&table_name)
                && self.opaque_objects.contains(&table_name)
            {
                // On a view or partitioned table ferry keeps opaque: opaque as well.
                return Ok(false);
            }
            if let Some(n) = &name {
                if self.relation_exists(&table_name.schema, n) {
                    if if_not_exists {
                        return Ok(true);
                    }
                    return Err(p.error_at(
                        name_at,
                        &format!("relation {}.{n} already exists", table_name.schema),
                    ));
                }
            }
        }
        let method = if p.eat_word("using") {
            p.ident()?.to_lowercase()
        } else {
            match self.kind {
                DialectKind::Postgres => "btree".to_string(),
                DialectKind::Sqlite => String::new(),
            }
        };
        p.expect(&Token::LParen)?;
        let mut keys = Vec::new();
        loop {
            keys.push(self.index_key(p)?);
            if p.eat(&Token::Comma) {
                continue;
            }
            p.expect(&Token::RParen)?;
            break;
        }
        let include = if p.eat_word("include") {
            p.paren_list(|p| p.ident())?
        } else {
            Vec::new()
        };
        let nulls_not_distinct = p.nulls_distinct()?;
        let storage = if p.eat_word("with") {
            StorageParams(p.storage_params()?)
        } else {
            StorageParams::default()
        };
        if p.eat_word("tablespace") {
            p.ident()?;
        }
        let predicate = if p.eat_word("where") {
            Some(expr(&p.rest_text(), self.kind))
        } else {
            None
        };
        p.expect_end()?;
        let on_view = self
            .schema
            .views
            .get(&table_name)
            .is_some_and(|v| v.materialized);
        let owner = match self.schema.tables.get(&table_name) {
            Some(table) => table.name.name.clone(),
            None if on_view => table_name.name.clone(),
            None => {
                let message = if self.replay {
                    format!("table {table_name} does not exist")
                } else {
                    format!(
                        "index on unknown table {table_name}: create the table first (in any file)"
                    )
                };
                return Err(p.error_at(name_at, &message));
            }
        };
        let name = match name {
            Some(n) => {
                self.relation_names
                    .insert((table_name.schema.clone(), n.clone()));
                n
            }
            None => {
                // PostgreSQL names an expression key after its function (`lower`), else
                // `expr`, and counts INCLUDE columns too.
                let cols = exclusion::name_columns(keys.iter(), &include);
                let base = self
                    .dialect
                    .implicit_name(ImplicitName::Index, &owner, &cols);
                let tname = owner.clone();
                self.unique_relation_name(
                    &table_name.schema,
                    base,
                    ImplicitName::Index,
                    &tname,
                    &cols,
                )
            }
        };
        ann.push(Annotatable {
            line: name_at.0,
            col: name_at.1,
            target: RenameTarget::Index(table_name.clone(), name.clone()),
        });
        let index = Index {
            name,
            unique,
            method,
            keys,
            include,
            predicate,
            nulls_not_distinct,
            storage,
            comment: None,
        };
        if let Some(table) = self.schema.tables.get_mut(&table_name) {
            table.indexes.push(index);
        } else if let Some(view) = self.schema.views.get_mut(&table_name) {
            view.indexes.push(index);
        }
        Ok(true)
    }

    fn index_key(&mut self, p: &mut StmtParser) -> PResult<IndexKey> {
        let target = if p.peek(&Token::LParen) {
            IndexTarget::Expr(expr(&p.paren_expr()?, self.kind))
        } else {
            let start = p.pos;
            let name = p.ident()?;
            if p.peek(&Token::LParen) {
                // A function call: an expression without extra parentheses.
                p.pos = start;
                let text = p.take_key_expr()?;
                IndexTarget::Expr(expr(&text, self.kind))
            } else {
                IndexTarget::Column(name)
            }
        };
        let mut key = IndexKey {
            target,
            collation: None,
            opclass: None,
            descending: false,
            nulls_first: None,
        };
        if p.eat_word("collate") {
            key.collation = Some(p.collation()?);
        }
        // `WITH` ends an exclusion constraint's element.
        if !p.peek_word("asc")
            && !p.peek_word("desc")
            && !p.peek_word("nulls")
            && !p.peek_word("with")
            && p.peek_ident()
        {
            let mut opclass = p.ident()?;
            if p.eat(&Token::Period) {
                opclass = p.ident()?;
            }
            key.opclass = Some(opclass.to_lowercase());
        }
        if p.eat_word("desc") {
            key.descending = true;
        } else {
            p.eat_word("asc");
        }
        if p.eat_word("nulls") {
            let first = if p.eat_word("first") {
                true
            } else {
                p.expect_word("last")?;
                false
            };
            // Keep only a non-default choice (default: NULLS LAST for ASC, FIRST for DESC).
            if first != key.descending {
                key.nulls_first = Some(first);
            }
        }
        Ok(key)
    }

    fn create_sequence(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let if_not_exists = p.eat_words(&["if", "not", "exists"]);
        let at = p.here();
        let name = self.qualified(p)?;
        if self.replay && self.relation_exists(&name.schema, &name.name) {
            if if_not_exists {
                return Ok(true);
            }
            return Err(p.error_at(at, &format!("relation {name} already exists")));
        }
        let mut options = SequenceOptions::default();
        let mut data_type = None;
        let mut owned_by = None;
        self.sequence_options(p, &mut options, &mut data_type, &mut owned_by)?;
        p.expect_end()?;
        let type_for_defaults = data_type.clone().unwrap_or_else(|| "bigint".to_string());
        self.relation_names
            .insert((name.schema.clone(), name.name.clone()));
        self.schema.sequences.insert(
            name.clone(),
            Sequence {
                name,
                data_type: data_type.filter(|t| t != "bigint"),
                options: options.without_defaults(&type_for_defaults),
                owned_by: owned_by.flatten(),
                comment: None,
                grants: Default::default(),
            },
        );
        Ok(true)
    }

    fn sequence_options(
        &self,
        p: &mut StmtParser,
        o: &mut SequenceOptions,
        data_type: &mut Option<String>,
        owned_by: &mut Option<Option<(QualifiedName, String)>>,
    ) -> PResult<()> {
        let _ = owned_by;
        loop {
            if p.eat_word("as") {
                let t = p.type_name()?;
                *data_type = Some(self.dialect.canonical_type(&t));
            } else if p.eat_word("increment") {
                p.eat_word("by");
                o.increment = Some(p.integer()?);
            } else if p.eat_word("minvalue") {
                o.min_value = Some(p.integer()?);
            } else if p.eat_word("maxvalue") {
                o.max_value = Some(p.integer()?);
            } else if p.eat_words(&["no", "minvalue"]) {
                o.min_value = None;
            } else if p.eat_words(&["no", "maxvalue"]) {
                o.max_value = None;
            } else if p.eat_words(&["no", "cycle"]) {
                o.cycle = false;
            } else if p.eat_word("cycle") {
                o.cycle = true;
            } else if p.eat_word("start") {
                p.eat_word("with");
                o.start = Some(p.integer()?);
            } else if p.eat_word("cache") {
                o.cache = Some(p.integer()?);
            } else if p.eat_words(&["sequence", "name"]) {
                self.qualified(p)?;
            } else if p.eat_words(&["owned", "by"]) {
                if p.eat_word("none") {
                    *owned_by = Some(None);
                } else {
                    let a = p.ident()?;
                    p.expect(&Token::Period)?;
                    let b = p.ident()?;
                    let target = if p.eat(&Token::Period) {
                        let c = p.ident()?;
                        (QualifiedName::new(a, b), c)
                    } else {
                        (QualifiedName::new(self.default_ns(), a), b)
                    };
                    *owned_by = Some(Some(target));
                }
            } else if p.eat_word("restart") {
                p.eat_word("with");
                let _ = p.integer();
            } else {
                return Ok(());
            }
        }
    }

    fn alter_sequence(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.eat_words(&["if", "exists"]);
        let name = self.qualified(p)?;
        if p.peek_words(&["owner", "to"]) {
            return Ok(true);
        }
        let mut options = SequenceOptions::default();
        let mut data_type = None;
        let mut owned_by = None;
        self.sequence_options(p, &mut options, &mut data_type, &mut owned_by)?;
        p.expect_end()?;
        let Some(seq) = self.schema.sequences.get_mut(&name) else {
            return Err(p.error_at(
                (p.toks[0].line, p.toks[0].col),
                &format!("unknown sequence {name}"),
            ));
        };
        if let Some(owner) = owned_by {
            seq.owned_by = owner;
        }
        let unchanged = options == SequenceOptions::default() && data_type.is_none();
        if !unchanged {
            return Ok(false);
        }
        Ok(true)
    }

    fn alter_table(&mut self, p: &mut StmtParser, ann: &mut Vec<Annotatable>) -> PResult<bool> {
        p.eat_words(&["if", "exists"]);
        p.eat_word("only");
        let at = p.here();
        let name = self.resolve_table(self.qualified(p)?);
        p.eat(&Token::Mul);
        if !self.schema.tables.contains_key(&name) {
            return Err(p.error_at(
                at,
                &format!("ALTER TABLE on unknown table {name}: create the table first"),
            ));
        }
        loop {
            if self.row_security_action(p, &name)? {
            } else if p.eat_words(&["owner", "to"]) {
                p.ident()?;
            } else if self.kind == DialectKind::Postgres && p.eat_word("attach") {
                self.attach_partition(p, &name)?;
            } else if self.kind == DialectKind::Postgres && p.eat_word("detach") {
                self.detach_partition(p, &name)?;
            } else if self.kind == DialectKind::Postgres
                && (p.peek_word("enable") || p.peek_word("disable"))
            {
                if !self.alter_table_trigger_state(p, &name)? {
                    return Ok(false);
                }
            } else if p.eat_word("add") {
                if p.peek_word("constraint")
                    || p.peek_words(&["primary", "key"])
                    || p.peek_word("unique")
                    || p.peek_word("check")
                    || p.peek_words(&["foreign", "key"])
                    || p.peek_word("exclude")
                {
                    let cname = if p.eat_word("constraint") {
                        Some(p.ident()?)
                    } else {
                        None
                    };
                    let c = self.table_constraint(p, cname)?;
                    self.add_constraint(&name, c);
                } else {
                    p.eat_word("column");
                    p.eat_words(&["if", "not", "exists"]);
                    let mut pending = PendingConstraints::default();
                    let at = p.here();
                    let col = self.column_def(p, &name, &mut pending)?;
                    ann.push(Annotatable {
                        line: at.0,
                        col: at.1,
                        target: RenameTarget::Column(name.clone(), col.name.clone()),
                    });
                    if let Some(t) = self.schema.tables.get_mut(&name) {
                        t.columns.push(col);
                    }
                    self.apply_pending(&name, pending);
                }
            } else if p.eat_word("alter") {
                p.eat_word("column");
                let col_at = p.here();
                let col = p.ident()?;
                let kind = self.kind;
                let Some(column) = self
                    .schema
                    .tables
                    .get_mut(&name)
                    .and_then(|t| t.column_mut(&col))
                else {
                    return Err(p.error_at(col_at, &format!("unknown column {name}.{col}")));
                };
                if p.eat_words(&["set", "default"]) {
                    let e = p.expr_until_constraint()?;
                    column.default = crate::expr::column_default(&e, kind);
                } else if p.eat_words(&["drop", "default"]) {
                    column.default = None;
                } else if p.eat_words(&["set", "not", "null"]) {
                    column.not_null = true;
                } else if p.eat_words(&["drop", "not", "null"]) {
                    column.not_null = false;
                } else if p.eat_word("add") {
                    p.expect_word("generated")?;
                    let always = if p.eat_word("always") {
                        true
                    } else {
                        p.expect_words(&["by", "default"])?;
                        false
                    };
                    p.expect_words(&["as", "identity"])?;
                    let data_type = column.data_type.clone();
                    let identity = self.identity(p, &data_type, always)?;
                    if let Some(column) = self
                        .schema
                        .tables
                        .get_mut(&name)
                        .and_then(|t| t.column_mut(&col))
                    {
                        column.identity = Some(identity);
                        column.not_null = true;
                    }
                } else {
                    return Ok(false);
                }
            } else {
                return Ok(false);
            }
            if !p.eat(&Token::Comma) {
                break;
            }
        }
        p.expect_end()?;
        Ok(true)
    }

    fn comment(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("on")?;
        let at = p.here();
        if self.kind == DialectKind::Postgres
            && (p.peek_word("view") || p.peek_words(&["materialized", "view"]))
        {
            return self.comment_on_view(p);
        }
        if self.kind == DialectKind::Postgres && p.peek_word("domain") {
            return self.comment_on_domain(p);
        }
        if self.kind == DialectKind::Postgres && p.peek_word("index") {
            return self.comment_on_index(p);
        }
        if self.kind == DialectKind::Postgres && p.peek_word("constraint") {
            return self.comment_on_constraint(p);
        }
        if self.kind == DialectKind::Postgres
            && ["function", "procedure", "routine", "trigger"]
                .iter()
                .any(|w| p.peek_word(w))
        {
            return self.comment_on_routine(p);
        }
        if self.kind == DialectKind::Postgres && p.peek_word("policy") {
            return self.comment_on_policy(p);
        }
        if self.kind == DialectKind::Postgres && p.peek_word("extension") {
            return self.comment_on_extension(p);
        }
        if self.kind == DialectKind::Postgres && p.eat_word("schema") {
            let name = p.ident()?;
            let text = p.comment_text()?;
            if name != self.dialect.default_namespace() && !self.schema.namespaces.contains(&name) {
                return Err(p.error_at(at, &format!("COMMENT ON unknown schema {name}")));
            }
            self.schema.set_namespace_comment(&name, text);
            return Ok(true);
        }
        if p.peek_word("type") || p.peek_word("sequence") {
            let is_type = p.eat_word("type");
            if !is_type {
                p.expect_word("sequence")?;
            }
            let name = self.qualified(p)?;
            let text = p.comment_text()?;
            let slot = if is_type {
                let domains = &mut self.schema.domains;
                match self.schema.composite_types.get_mut(&name) {
                    Some(c) => Some(&mut c.comment),
                    None => (self.schema.enums.get_mut(&name).map(|e| &mut e.comment))
                        .or_else(|| domains.get_mut(&name).map(|d| &mut d.comment)),
                }
            } else {
                self.schema.sequences.get_mut(&name).map(|s| &mut s.comment)
            };
            // A comment on a type ferry does not model (domain, composite) stays opaque.
            return Ok(match slot {
                Some(slot) => {
                    *slot = text;
                    true
                }
                None => false,
            });
        }
        let target = if p.eat_word("table") {
            let t = self.qualified(p)?;
            (t, None)
        } else if p.eat_word("column") {
            let a = p.ident()?;
            p.expect(&Token::Period)?;
            let b = p.ident()?;
            if p.eat(&Token::Period) {
                let c = p.ident()?;
                (QualifiedName::new(a, b), Some(c))
            } else {
                (QualifiedName::new(self.default_ns(), a), Some(b))
            }
        } else {
            return Ok(false);
        };
        let text = p.comment_text()?;
        if let Some(view) = self.schema.views.get_mut(&target.0) {
            // COMMENT ON TABLE naming a view: not modelled, kept opaque.
            let Some(column) = target.1 else {
                return Ok(false);
            };
            match text {
                Some(text) => view.column_comments.insert(column, text),
                None => view.column_comments.remove(&column),
            };
            return Ok(true);
        }
        if self.replay && !self.schema.tables.contains_key(&target.0) {
            // A view's column, or a temporary table's: not modelled.
            if self.opaque_objects.contains(&target.0) {
                return Ok(false);
            }
            if self.temp_relations.contains(&target.0.name) {
                return Ok(true);
            }
        }
        let Some(table) = self.schema.tables.get_mut(&target.0) else {
            return Err(p.error_at(at, &format!("COMMENT ON unknown table {}", target.0)));
        };
        match target.1 {
            None => table.comment = text,
            Some(c) => match table.column_mut(&c) {
                Some(col) => col.comment = text,
                None => {
                    return Err(
                        p.error_at(at, &format!("COMMENT ON unknown column {}.{c}", target.0))
                    )
                }
            },
        }
        Ok(true)
    }

    /// `@renamed from=X` annotations attach to the last named item that starts on the
    /// comment's line before the comment.
    fn attach_annotations(&mut self, comments: &[Comment], items: &[Annotatable]) {
        for c in comments {
            let Some(from) = renamed_from(&c.text) else {
                continue;
            };
            let owner = items.iter().rfind(|i| i.line == c.line && i.col < c.col);
            let Some(owner) = owner else { continue };
            let hint = match &owner.target {
                RenameTarget::Table(t) => RenameHint::Table {
                    from: QualifiedName::new(t.schema.clone(), from),
                    to: t.clone(),
                },
                RenameTarget::Column(t, col) => RenameHint::Column {
                    table: t.clone(),
                    from,
                    to: col.clone(),
                },
                RenameTarget::Index(t, idx) => RenameHint::Index {
                    table: t.clone(),
                    from,
                    to: idx.clone(),
                },
            };
            self.schema.rename_hints.push(hint);
        }
    }
}

/// Whether a CREATE TABLE element list, from its `(`, has a `LIKE other` element.
fn copies_another_table(toks: &[Tok]) -> bool {
    let mut depth = 0;
    let mut element_start = false;
    for t in toks {
        match t.token {
            Token::LParen => {
                depth += 1;
                element_start = depth == 1;
                continue;
            }
            Token::RParen => depth -= 1,
            Token::Comma if depth == 1 => {
                element_start = true;
                continue;
            }
            _ => {}
        }
        if element_start && is_word(&t.token, "like") {
            return true;
        }
        element_start = false;
    }
    false
}

/// `lower(email)` → `lower`; `schema.f(x)` → `f`; anything else → None.
fn function_name(sql: &str) -> Option<String> {
    let head = sql.trim().split('(').next()?;
    let name = head.rsplit('.').next()?.trim();
    let simple = !name.is_empty()
        && sql.trim().ends_with(')')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    simple.then(|| name.to_lowercase())
}

/// Parses `@renamed from=name` or `@renamed from="quoted name"` out of a comment.
fn renamed_from(comment: &str) -> Option<String> {
    let rest = comment.split("@renamed").nth(1)?.trim_start();
    let rest = rest
        .strip_prefix("from")?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    if let Some(q) = rest.strip_prefix('"') {
        return Some(q.split('"').next()?.to_string());
    }
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Columns of `table` that an expression mentions, in order of first mention.
fn referenced_columns(text: &str, table: &Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Ok(tokens) = Tokenizer::new(&sqlparser::dialect::GenericDialect {}, text).tokenize() else {
        return out;
    };
    for t in tokens {
        if let Token::Word(w) = t {
            let name = if w.quote_style.is_some() {
                w.value.clone()
            } else {
                w.value.to_lowercase()
            };
            if let Some(col) = table.columns.iter().find(|c| {
                c.name == name || (w.quote_style.is_none() && c.name.eq_ignore_ascii_case(&name))
            }) {
                if !out.contains(&col.name) {
                    out.push(col.name.clone());
                }
            }
        }
    }
    out
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, shortening the longer of name1 and
/// name2 first so the whole fits in 63 bytes.
pub(crate) fn pg_object_name(name1: &str, name2: &str, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(!name2.is_empty());
    let avail = 63usize.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let cut = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = cut(name1, n1);
    if !name2.is_empty() {
        out.push('_');
        out.push_str(&cut(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

fn quote_pg(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w))
}

#[derive(Default)]
struct PendingConstraints {
    items: Vec<PendingConstraint>,
}

enum PendingConstraint {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
        autoincrement: bool,
    },
    Unique {
        name: Option<String>,
        columns: Vec<String>,
        nulls_not_distinct: bool,
        deferrable: Deferrable,
    },
    Check {
        name: Option<String>,
        expr: String,
        no_inherit: bool,
    },
    ForeignKey {
        name: Option<String>,
        fk: ForeignKey,
    },
    /// `exclusion.name` is empty until resolved.
    Exclusion {
        name: Option<String>,
        exclusion: ExclusionConstraint,
    },
}

/// A cursor over one statement's significant tokens.
struct StmtParser<'a> {
    toks: &'a [Tok],
    pos: usize,
    origin: &'a str,
    kind: DialectKind,
}

impl StmtParser<'_> {
    fn current(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn here(&self) -> (u64, u64) {
        match self.current().or(self.toks.last()) {
            Some(t) => (t.line, t.col),
            None => (0, 0),
        }
    }

    fn error_at(&self, at: (u64, u64), message: &str) -> LoadError {
        LoadError {
            file: self.origin.to_string(),
            line: at.0,
            column: at.1,
            message: message.to_string(),
        }
    }

    fn error(&self, message: &str) -> LoadError {
        self.error_at(self.here(), message)
    }

    fn unexpected(&self, context: &str) -> LoadError {
        match self.current() {
            Some(t) => self.error(&format!("unexpected `{}` {context}", t.token)),
            None => self.error(&format!("unexpected end of statement {context}")),
        }
    }

    fn peek(&self, t: &Token) -> bool {
        self.current().is_some_and(|c| &c.token == t)
    }

    fn eat(&mut self, t: &Token) -> bool {
        if self.peek(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Token) -> PResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("(expected `{t}`)")))
        }
    }

    fn peek_word(&self, w: &str) -> bool {
        self.current().is_some_and(|t| is_word(&t.token, w))
    }

    fn peek_words(&self, ws: &[&str]) -> bool {
        self.peek_words_at(0, ws)
    }

    /// Whether `ws` follow, starting `skip` tokens ahead.
    fn peek_words_at(&self, skip: usize, ws: &[&str]) -> bool {
        ws.iter().enumerate().all(|(i, w)| {
            self.toks
                .get(self.pos + skip + i)
                .is_some_and(|t| is_word(&t.token, w))
        })
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.peek_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_words(&mut self, ws: &[&str]) -> bool {
        if self.peek_words(ws) {
            self.pos += ws.len();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("(expected {})", w.to_uppercase())))
        }
    }

    fn expect_words(&mut self, ws: &[&str]) -> PResult<()> {
        for w in ws {
            self.expect_word(w)?;
        }
        Ok(())
    }

    /// `IS 'text'` or `IS NULL` ending a `COMMENT ON` statement.
    fn comment_text(&mut self) -> PResult<Option<String>> {
        self.expect_word("is")?;
        let text = if self.eat_word("null") {
            None
        } else {
            Some(self.string_literal()?)
        };
        self.expect_end()?;
        Ok(text)
    }

    /// `RENAME TO new` or `SET SCHEMA s` (to the end of the statement), at the parser: the
    /// object's new name and where it is written. `None`: neither form.
    fn renamed_or_moved(
        &mut self,
        name: &QualifiedName,
    ) -> PResult<Option<(QualifiedName, (u64, u64))>> {
        let renaming = self.eat_words(&["rename", "to"]);
        if !renaming && !self.eat_words(&["set", "schema"]) {
            return Ok(None);
        }
        let at = self.here();
        let word = self.ident()?;
        self.expect_end()?;
        let new = if renaming {
            QualifiedName::new(name.schema.clone(), word)
        } else {
            QualifiedName::new(word, name.name.clone())
        };
        Ok(Some((new, at)))
    }

    fn expect_end(&self) -> PResult<()> {
        match self.current() {
            None => Ok(()),
            Some(_) => Err(self.unexpected("(expected the end of the statement)")),
        }
    }

    fn skip_rest(&mut self) {
        self.pos = self.toks.len();
    }

    fn rest_words(&self) -> Vec<String> {
        self.toks[self.pos.min(self.toks.len())..]
            .iter()
            .filter_map(|t| match &t.token {
                Token::Word(w) => Some(w.value.to_lowercase()),
                _ => None,
            })
            .collect()
    }

    fn peek_ident(&self) -> bool {
        matches!(self.current().map(|t| &t.token), Some(Token::Word(_)))
    }

    /// An identifier: unquoted ones fold to lower case on PostgreSQL.
    fn ident(&mut self) -> PResult<String> {
        match self.current().map(|t| t.token.clone()) {
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(match (w.quote_style, self.kind) {
                    (Some(_), _) => w.value.replace("\"\"", "\"").replace("``", "`"),
                    (None, DialectKind::Postgres) => w.value.to_lowercase(),
                    (None, DialectKind::Sqlite) => w.value,
                })
            }
            Some(Token::DoubleQuotedString(s)) | Some(Token::SingleQuotedString(s))
                if self.kind == DialectKind::Sqlite =>
            {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected("(expected a name)")),
        }
    }

    fn ident_with_order(&mut self) -> PResult<String> {
        let name = self.ident()?;
        if self.eat_word("collate") {
            self.ident()?;
        }
        let _ = self.eat_word("asc") || self.eat_word("desc");
        Ok(name)
    }

    fn collation(&mut self) -> PResult<String> {
        let mut name = self.ident()?;
        if self.eat(&Token::Period) {
            // pg_catalog."C" and "C" are the same collation.
            let second = self.ident()?;
            if name != "pg_catalog" {
                name = format!("{name}.{second}");
            } else {
                name = second;
            }
        }
        Ok(name)
    }

    fn integer(&mut self) -> PResult<i64> {
        let negative = self.eat(&Token::Minus);
        match self.current().map(|t| t.token.clone()) {
            Some(Token::Number(n, _)) => {
                self.pos += 1;
                let v: i64 = n
                    .parse()
                    .map_err(|_| self.error(&format!("`{n}` is not an integer")))?;
                Ok(if negative { -v } else { v })
            }
            _ => Err(self.unexpected("(expected an integer)")),
        }
    }

    fn string_literal(&mut self) -> PResult<String> {
        match self.current().map(|t| t.token.clone()) {
            Some(Token::SingleQuotedString(s)) => {
                self.pos += 1;
                Ok(s.replace("''", "'"))
            }
            Some(Token::EscapedStringLiteral(s)) => {
                self.pos += 1;
                Ok(s.replace("\\'", "'")
                    .replace("''", "'")
                    .replace("\\\\", "\\"))
            }
            _ => Err(self.unexpected("(expected a string literal)")),
        }
    }

    fn paren_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        self.expect(&Token::LParen)?;
        let mut out = Vec::new();
        if self.eat(&Token::RParen) {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.eat(&Token::Comma) {
                continue;
            }
            self.expect(&Token::RParen)?;
            return Ok(out);
        }
    }

    /// `( expr )`: returns the inner text.
    fn paren_expr(&mut self) -> PResult<String> {
        let open = self.here();
        self.expect(&Token::LParen)?;
        let start = self.pos;
        let mut depth = 1;
        while let Some(t) = self.current() {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        let text = render(&self.toks[start..self.pos]);
                        self.pos += 1;
                        return Ok(text);
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.error_at(open, "unbalanced parenthesis"))
    }

    /// An index key written as a bare function call: `lower(email)`.
    fn take_key_expr(&mut self) -> PResult<String> {
        let start = self.pos;
        self.ident()?;
        while self.eat(&Token::Period) {
            self.ident()?;
        }
        self.paren_expr()?;
        Ok(render(&self.toks[start..self.pos]))
    }

    /// A default expression: tokens up to the next column constraint, `,` or `)`.
    fn expr_until_constraint(&mut self) -> PResult<String> {
        let start = self.pos;
        let mut depth = 0;
        while let Some(t) = self.current() {
            match &t.token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen | Token::RBracket => depth -= 1,
                Token::Comma if depth == 0 => break,
                Token::Word(_) if depth == 0 && self.pos > start => {
                    const STOP: &[&[&str]] = &[
                        &["constraint"],
                        &["not", "null"],
                        &["null"],
                        &["check"],
                        &["unique"],
                        &["primary", "key"],
                        &["references"],
                        &["generated"],
                        &["collate"],
                        &["on", "conflict"],
                    ];
                    if STOP.iter().any(|ws| self.peek_words(ws)) {
                        break;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected("(expected an expression)"));
        }
        Ok(render(&self.toks[start..self.pos]))
    }

    fn rest_text(&mut self) -> String {
        let text = render(&self.toks[self.pos..]);
        self.pos = self.toks.len();
        text
    }

    fn at_element_end(&self) -> bool {
        matches!(
            self.current().map(|t| &t.token),
            None | Some(Token::Comma) | Some(Token::RParen)
        )
    }

    /// The type as written, normalised: lower-case words, single spaces, no spaces inside
    /// parentheses (`numeric(10,2)`, `timestamp(3) with time zone`, `integer[]`).
    fn type_name(&mut self) -> PResult<String> {
        const STOP: &[&str] = &[
            "constraint",
            "not",
            "null",
            "default",
            "check",
            "unique",
            "primary",
            "references",
            "generated",
            "collate",
            "as",
            "on",
            "autoincrement",
            "asc",
            "desc",
            "stored",
            "virtual",
            "increment",
            "minvalue",
            "maxvalue",
            "start",
            "cache",
            "no",
            "cycle",
            "owned",
        ];
        let mut out = String::new();
        let mut first = true;
        while let Some(t) = self.current() {
            match &t.token {
                Token::Word(w) => {
                    if w.quote_style.is_none() {
                        let lw = w.value.to_lowercase();
                        if STOP.contains(&lw.as_str()) && !(first && lw == "double") {
                            break;
                        }
                        if !first && lw == "array" {
                            out.push_str("[]");
                            self.pos += 1;
                            if self.peek(&Token::LBracket) {
                                self.skip_brackets()?;
                            }
                            continue;
                        }
                        // PostgreSQL's multi-word types use only these words after the
                        // first; SQLite accepts any sequence of names as a type.
                        const PG_TYPE_WORDS: &[&str] = &[
                            "precision",
                            "varying",
                            "character",
                            "char",
                            "with",
                            "without",
                            "time",
                            "zone",
                            "year",
                            "month",
                            "day",
                            "hour",
                            "minute",
                            "second",
                            "to",
                        ];
                        if !first
                            && self.kind == DialectKind::Postgres
                            && !out.ends_with('.')
                            && !PG_TYPE_WORDS.contains(&lw.as_str())
                        {
                            break;
                        }
                        if !out.is_empty() && !out.ends_with('.') {
                            out.push(' ');
                        }
                        out.push_str(&lw);
                    } else {
                        if !out.is_empty() && !out.ends_with('.') {
                            out.push(' ');
                        }
                        out.push('"');
                        out.push_str(&w.value);
                        out.push('"');
                    }
                    self.pos += 1;
                }
                Token::Period if !out.is_empty() => {
                    out.push('.');
                    self.pos += 1;
                }
                Token::LParen if !out.is_empty() => {
                    let inner = self.paren_expr()?;
                    out.push('(');
                    out.push_str(&inner.split_whitespace().collect::<String>());
                    out.push(')');
                }
                Token::LBracket if !out.is_empty() => {
                    self.skip_brackets()?;
                    if !out.ends_with("[]") {
                        out.push_str("[]");
                    }
                }
                _ => break,
            }
            first = false;
        }
        Ok(out)
    }

    fn skip_brackets(&mut self) -> PResult<()> {
        self.expect(&Token::LBracket)?;
        while !self.eat(&Token::RBracket) {
            if self.current().is_none() {
                return Err(self.error("unclosed `[`"));
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn nulls_distinct(&mut self) -> PResult<bool> {
        if self.eat_words(&["nulls", "not", "distinct"]) {
            return Ok(true);
        }
        self.eat_words(&["nulls", "distinct"]);
        Ok(false)
    }

    fn deferrable(&mut self) -> Deferrable {
        let mut d = Deferrable::NotDeferrable;
        loop {
            if self.eat_words(&["not", "deferrable"]) {
                d = Deferrable::NotDeferrable;
            } else if self.eat_word("deferrable") {
                if d == Deferrable::NotDeferrable {
                    d = Deferrable::InitiallyImmediate;
                }
            } else if self.eat_words(&["initially", "deferred"]) {
                d = Deferrable::InitiallyDeferred;
            } else if self.eat_words(&["initially", "immediate"]) {
                if d == Deferrable::InitiallyDeferred {
                    d = Deferrable::InitiallyImmediate;
                }
            } else {
                return d;
            }
        }
    }

    fn referential_action(&mut self) -> PResult<ReferentialAction> {
        Ok(if self.eat_words(&["no", "action"]) {
            ReferentialAction::NoAction
        } else if self.eat_word("restrict") {
            ReferentialAction::Restrict
        } else if self.eat_word("cascade") {
            ReferentialAction::Cascade
        } else if self.eat_words(&["set", "null"]) {
            ReferentialAction::SetNull
        } else if self.eat_words(&["set", "default"]) {
            ReferentialAction::SetDefault
        } else {
            return Err(
                self.unexpected("(expected NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT)")
            );
        })
    }

    /// `( name [= value] [, ...] )` after `WITH`: `name=value` strings in the order
    /// written, as the server stores them (`'70'` and `70` alike, a bare name `name=true`).
    fn storage_params(&mut self) -> PResult<Vec<String>> {
        self.paren_list(|p| {
            let name = p.ident()?;
            let value = if p.eat(&Token::Eq) {
                match p.current().map(|t| t.token.clone()) {
                    Some(Token::SingleQuotedString(s)) => {
                        p.pos += 1;
                        s
                    }
                    Some(Token::Number(n, _)) => {
                        p.pos += 1;
                        n
                    }
                    _ => p.ident()?,
                }
            } else {
                "true".to_string()
            };
            Ok(format!("{name}={value}"))
        })
    }

    /// `WITH (...)`/`USING INDEX TABLESPACE` after a PK or UNIQUE.
    fn skip_index_params(&mut self) {
        if self.peek_word("with")
            && self
                .toks
                .get(self.pos + 1)
                .is_some_and(|t| t.token == Token::LParen)
        {
            self.pos += 1;
            let _ = self.paren_expr();
        }
        if self.eat_words(&["using", "index", "tablespace"]) {
            let _ = self.ident();
        }
    }
}

/// Tokens back to text: single spaces between words, none around punctuation where SQL
/// does not need them. Only used for expressions, whose key is normalised separately.
fn render(toks: &[Tok]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Tok> = None;
    for t in toks {
        if let Some(p) = prev {
            let adjacent = p.line == t.line && {
                let width = p.token.to_string().chars().count() as u64;
                p.col + width == t.col
            };
            if !adjacent {
                out.push(' ');
            }
        }
        out.push_str(&t.token.to_string());
        prev = Some(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_postgres_truncation() {
        assert_eq!(pg_object_name("users", "email", "key"), "users_email_key");
        let long = "a".repeat(70);
        let name = pg_object_name(&long, "col", "fkey");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_col_fkey"));
        assert_eq!(pg_object_name("t", "", "pkey"), "t_pkey");
    }

    #[test]
    fn renamed_annotation_forms() {
        assert_eq!(
            renamed_from(" @renamed from=username").as_deref(),
            Some("username")
        );
        assert_eq!(
            renamed_from(" @renamed from=\"user name\" ").as_deref(),
            Some("user name")
        );
        assert_eq!(renamed_from("plain comment"), None);
    }
}
