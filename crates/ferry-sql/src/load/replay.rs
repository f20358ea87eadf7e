//! Replay: migration scripts applied, in order, to the schema model, the way the server
//! would apply them, without a server.
//!
//! Replay shares the declarative loader (CREATE statements, constraints, implicit names) and
//! adds what only makes sense for a sequence of changes: DROP, RENAME, SET SCHEMA, the
//! remaining ALTER forms, existence checks, and skipping data statements. Everything here
//! follows PostgreSQL's behaviour, because the model must equal what inspecting a database
//! that ran the same scripts gives: a renamed table keeps its index and constraint names,
//! a dropped column takes its indexes and constraints along, a moved table takes its owned
//! sequences, and so on.

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::*;
use crate::expr::sql_dialect;

mod domain;

/// Replays migration scripts, in order, onto an empty schema: DDL changes the model, data
/// statements (INSERT, UPDATE, DELETE, SELECT, COPY, DO, CALL, TRUNCATE, SET, ...) are
/// skipped. Each script is `(origin, SQL text)`; the origin (e.g. a file path) names it in
/// errors and in the origin of opaque statements.
///
/// Statements ferry does not model stay opaque, as when loading. A DROP or ALTER of an
/// object that does not exist (without IF EXISTS), or one that other objects still depend
/// on (without CASCADE), is an error pointing at the statement.
pub fn replay<'a>(
    scripts: impl IntoIterator<Item = (&'a str, &'a str)>,
    dialect: &dyn Dialect,
) -> Result<Schema, LoadError> {
    let mut replayer = Replayer::new(dialect);
    for (origin, sql) in scripts {
        replayer.apply(origin, sql)?;
    }
    replayer.loader.finish()
}

/// Replay one script at a time, with the schema available between them: `ferry check`
/// lints each migration against what the ones before it build, in one pass.
#[derive(Clone)]
pub struct Replayer<'d> {
    loader: Loader<'d>,
}

impl<'d> Replayer<'d> {
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        let mut loader = Loader::new(dialect);
        loader.replay = true;
        Replayer { loader }
    }

    /// Replays one script; `origin` names it in errors.
    pub fn apply(&mut self, origin: &str, sql: &str) -> Result<(), LoadError> {
        self.loader.load(sql, origin)
    }

    /// The schema the scripts so far build.
    pub fn schema(&self) -> Result<Schema, LoadError> {
        self.loader.clone().finish()
    }
}

/// Statements that change data or the session, never the schema.
const DATA_STATEMENTS: &[&str] = &[
    "insert",
    "update",
    "delete",
    "select",
    "copy",
    "do",
    "call",
    "truncate",
    "set",
    "reset",
    "begin",
    "commit",
    "rollback",
    "abort",
    "start",
    "end",
    "savepoint",
    "release",
    "lock",
    "analyze",
    "analyse",
    "vacuum",
    "with",
    "merge",
    "values",
    "refresh",
    "notify",
    "listen",
    "unlisten",
    "discard",
    "checkpoint",
    "cluster",
    "reindex",
    "prepare",
    "execute",
    "deallocate",
    "explain",
    "fetch",
    "move",
    "close",
    "declare",
    "show",
    "load",
];

/// One name of a DROP list: where it is written, and whether with its schema.
struct DropTarget {
    at: (u64, u64),
    name: QualifiedName,
    explicit: bool,
}

/// What to do with objects that depend on a dropped one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behavior {
    Restrict,
    Cascade,
}

/// The clauses of an ALTER SEQUENCE (or of an identity column's SET ...), as written:
/// `None` is "not mentioned", `Some(None)` is `NO MINVALUE` / `NO MAXVALUE`.
#[derive(Default)]
struct SequenceAlter {
    data_type: Option<String>,
    increment: Option<i64>,
    min_value: Option<Option<i64>>,
    max_value: Option<Option<i64>>,
    start: Option<i64>,
    cache: Option<i64>,
    cycle: Option<bool>,
    owned_by: Option<Option<(QualifiedName, String)>>,
}

/// A sequence's settings with every default spelled out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SequenceValues {
    start: i64,
    increment: i64,
    min_value: i64,
    max_value: i64,
    cache: i64,
    cycle: bool,
}

fn type_max(data_type: &str) -> i64 {
    match data_type {
        "smallint" => i16::MAX as i64,
        "integer" => i32::MAX as i64,
        _ => i64::MAX,
    }
}

impl SequenceValues {
    /// The concrete settings behind options stored without their defaults.
    fn resolve(o: &SequenceOptions, data_type: &str) -> SequenceValues {
        let increment = o.increment.unwrap_or(1);
        let ascending = increment > 0;
        let min_value = o.min_value.unwrap_or(if ascending {
            1
        } else {
            -type_max(data_type) - 1
        });
        let max_value = o
            .max_value
            .unwrap_or(if ascending { type_max(data_type) } else { -1 });
        SequenceValues {
            start: o
                .start
                .unwrap_or(if ascending { min_value } else { max_value }),
            increment,
            min_value,
            max_value,
            cache: o.cache.unwrap_or(1),
            cycle: o.cycle,
        }
    }

    fn options(&self, data_type: &str) -> SequenceOptions {
        SequenceOptions {
            start: Some(self.start),
            increment: Some(self.increment),
            min_value: Some(self.min_value),
            max_value: Some(self.max_value),
            cache: Some(self.cache),
            cycle: self.cycle,
        }
        .without_defaults(data_type)
    }

    /// ALTER SEQUENCE on existing settings, as PostgreSQL's `init_params` does it: bounds
    /// that were the old type's limits follow a type change, `NO MINVALUE`/`NO MAXVALUE`
    /// take the default for the (new) direction, and START stays unless given.
    fn alter(self, old_type: &str, new_type: &str, a: &SequenceAlter) -> SequenceValues {
        let changes_type = a.data_type.is_some();
        let reset_max = changes_type && self.max_value == type_max(old_type);
        let reset_min = changes_type && self.min_value == -type_max(old_type) - 1;
        let increment = a.increment.unwrap_or(self.increment);
        let max_value = match a.max_value {
            Some(Some(v)) => v,
            Some(None) => {
                if increment > 0 || reset_max {
                    type_max(new_type)
                } else {
                    -1
                }
            }
            None if reset_max => type_max(new_type),
            None => self.max_value,
        };
        let min_value = match a.min_value {
            Some(Some(v)) => v,
            Some(None) => {
                if increment < 0 || reset_min {
                    -type_max(new_type) - 1
                } else {
                    1
                }
            }
            None if reset_min => -type_max(new_type) - 1,
            None => self.min_value,
        };
        SequenceValues {
            start: a.start.unwrap_or(self.start),
            increment,
            min_value,
            max_value,
            cache: a.cache.unwrap_or(self.cache),
            cycle: a.cycle.unwrap_or(self.cycle),
        }
    }
}

/// Options of a sequence (or identity) of `old_type` after `a` is applied.
fn altered_options(
    o: &SequenceOptions,
    old_type: &str,
    new_type: &str,
    a: &SequenceAlter,
) -> SequenceOptions {
    SequenceValues::resolve(o, old_type)
        .alter(old_type, new_type, a)
        .options(new_type)
}

impl Loader<'_> {
    /// Replay-only statements. `Ok(None)`: not one of them, the declarative dispatch
    /// decides (CREATE, COMMENT ON, opaque).
    pub(super) fn replay_dispatch(&mut self, p: &mut StmtParser) -> PResult<Option<bool>> {
        if let Some(first) = p.current().and_then(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_lowercase()),
            _ => None,
        }) {
            if let Some(path) = search_path_setting(p) {
                // Unqualified names are replayed in the default namespace: a search path
                // that starts elsewhere would put objects where replay does not, so the
                // statement is kept opaque (and reported) rather than skipped.
                let first_schema = path
                    .iter()
                    .find(|s| *s != "$user" && *s != "pg_catalog" && *s != "pg_temp");
                let default_first = match first_schema {
                    None => true,
                    Some(s) => s == self.dialect.default_namespace(),
                };
                return Ok(Some(default_first));
            }
            if DATA_STATEMENTS.contains(&first.as_str()) {
                // SELECT ... INTO creates a table ferry cannot see: keep it opaque.
                let creates_table =
                    first == "select" && p.toks.iter().any(|t| is_word(&t.token, "into"));
                return Ok(Some(!creates_table));
            }
        }
        if p.eat_word("drop") {
            if self.kind == DialectKind::Postgres && p.peek_word("policy") {
                return self.drop_policy(p).map(Some);
            }
            if self.kind == DialectKind::Postgres && p.peek_word("extension") {
                return self.drop_extension(p).map(Some);
            }
            return self.replay_drop(p).map(Some);
        }
        if p.eat_word("alter") {
            if p.eat_word("table") {
                return self.replay_alter_table(p).map(Some);
            }
            if p.eat_word("sequence") {
                return self.replay_alter_sequence(p).map(Some);
            }
            if p.eat_word("type") {
                return self.replay_alter_type(p).map(Some);
            }
            if p.eat_word("index") {
                return self.replay_alter_index(p).map(Some);
            }
            if p.eat_word("schema") {
                return self.replay_alter_schema(p).map(Some);
            }
            return Ok(None);
        }
        if p.eat_word("create") {
            p.eat_words(&["or", "replace"]);
            let _ = p.eat_word("global") || p.eat_word("local");
            if p.eat_word("temp") || p.eat_word("temporary") {
                // Temporary relations are session state, not schema.
                p.eat_word("unlogged");
                if p.eat_word("table") || p.eat_word("sequence") || p.eat_word("view") {
                    p.eat_words(&["if", "not", "exists"]);
                    let name = p.ident()?;
                    self.temp_relations.insert(name);
                    return Ok(Some(true));
                }
            }
            return Ok(None);
        }
        Ok(None)
    }

    // ----- names -------------------------------------------------------------------------

    pub(super) fn relation_exists(&self, schema: &str, name: &str) -> bool {
        self.relation_names
            .contains(&(schema.to_string(), name.to_string()))
    }

    pub(super) fn remember_relation(&mut self, schema: &str, name: &str) {
        if !name.is_empty() {
            self.relation_names
                .insert((schema.to_string(), name.to_string()));
        }
    }

    fn forget_relation(&mut self, schema: &str, name: &str) {
        self.relation_names
            .remove(&(schema.to_string(), name.to_string()));
    }

    /// Named primary keys, unique and exclusion constraints create an index of the same
    /// name, which must not collide with another relation of the schema.
    pub(super) fn check_key_names(
        &self,
        p: &StmtParser,
        at: (u64, u64),
        schema: &str,
        pending: &PendingConstraints,
    ) -> PResult<()> {
        for c in &pending.items {
            let name = match c {
                PendingConstraint::PrimaryKey { name: Some(n), .. }
                | PendingConstraint::Unique { name: Some(n), .. }
                | PendingConstraint::Exclusion { name: Some(n), .. } => n,
                _ => continue,
            };
            if self.relation_exists(schema, name) {
                return Err(p.error_at(at, &format!("relation {schema}.{name} already exists")));
            }
        }
        Ok(())
    }

    /// A temporary relation (table, its index, sequence), when the name is written
    /// without a schema.
    pub(super) fn is_temp_relation(&self, name: &QualifiedName, explicit: bool) -> bool {
        !explicit && self.temp_relations.contains(&name.name)
    }

    /// The name of the object an opaque CREATE statement makes (a view, a domain, a
    /// partitioned table, an index on one of those ...), if it has one.
    pub(super) fn opaque_created_name(&self, stmt: &SqlStatement) -> Option<QualifiedName> {
        let mut p = StmtParser {
            toks: &stmt.tokens,
            pos: 0,
            origin: "",
            kind: self.kind,
        };
        if !p.eat_word("create") {
            return None;
        }
        p.eat_words(&["or", "replace"]);
        for modifier in [
            "global",
            "local",
            "unlogged",
            "materialized",
            "recursive",
            "foreign",
        ] {
            p.eat_word(modifier);
        }
        let index = p.eat_word("unique") || p.peek_word("index");
        let kinds = ["table", "view", "type", "domain", "sequence", "index"];
        if !kinds.iter().any(|k| p.eat_word(k)) {
            return None;
        }
        p.eat_word("concurrently");
        p.eat_words(&["if", "not", "exists"]);
        if index {
            // An index lives in its table's schema; find it after ON.
            let name = p.ident().ok()?;
            p.expect_word("on").ok()?;
            p.eat_word("only");
            let table = self.qualified(&mut p).ok()?;
            return Some(QualifiedName::new(table.schema, name));
        }
        self.qualified(&mut p).ok()
    }

    /// `DROP ... name [, ...] [CASCADE | RESTRICT]`: the names with where they start.
    fn drop_list(&self, p: &mut StmtParser) -> PResult<(Vec<DropTarget>, Behavior)> {
        let mut names = Vec::new();
        loop {
            let at = p.here();
            let (name, explicit) = self.qualified_explicit(p)?;
            names.push(DropTarget { at, name, explicit });
            if !p.eat(&Token::Comma) {
                break;
            }
        }
        let behavior = drop_behavior(p);
        p.expect_end()?;
        Ok((names, behavior))
    }

    // ----- DROP ----------------------------------------------------------------------------

    fn replay_drop(&mut self, p: &mut StmtParser) -> PResult<bool> {
        if p.eat_word("table") {
            let if_exists = p.eat_words(&["if", "exists"]);
            let (names, behavior) = self.drop_list(p)?;
            return self.drop_tables(p, names, if_exists, behavior);
        }
        if p.eat_word("index") {
            p.eat_word("concurrently");
            let if_exists = p.eat_words(&["if", "exists"]);
            let (names, behavior) = self.drop_list(p)?;
            let mut keep_opaque = false;
            for DropTarget { at, name, explicit } in names {
                if self.is_temp_relation(&name, explicit) {
                    self.temp_relations.remove(&name.name);
                } else if self.index_owner(&name).is_some() {
                    self.drop_index(p, at, &name, behavior)?;
                } else if let Some(view) = self.materialized_view_with_index(&name) {
                    if let Some(v) = self.schema.views.get_mut(&view) {
                        v.indexes.retain(|i| i.name != name.name);
                    }
                    self.forget_relation(&name.schema, &name.name);
                } else if self.opaque_objects.remove(&name) {
                    keep_opaque = true;
                } else if let Some((table, _)) = self.key_owner(&name) {
                    return Err(p.error_at(
                        at,
                        &format!(
                            "cannot drop index {name}: constraint {} on table {table} requires it \
                             (drop the constraint instead)",
                            name.name
                        ),
                    ));
                } else if !if_exists {
                    return Err(p.error_at(at, &format!("index {name} does not exist")));
                }
            }
            return Ok(!keep_opaque);
        }
        if p.eat_word("sequence") {
            let if_exists = p.eat_words(&["if", "exists"]);
            let (names, behavior) = self.drop_list(p)?;
            let mut keep_opaque = false;
            for DropTarget { at, name, explicit } in names {
                if self.is_temp_relation(&name, explicit) {
                    self.temp_relations.remove(&name.name);
                } else if self.schema.sequences.contains_key(&name) {
                    self.drop_sequence(p, at, &name, behavior)?;
                } else if self.opaque_objects.remove(&name) {
                    keep_opaque = true;
                } else if !if_exists {
                    return Err(p.error_at(at, &format!("sequence {name} does not exist")));
                }
            }
            return Ok(!keep_opaque);
        }
        if self.kind == DialectKind::Postgres && p.eat_word("domain") {
            return self.replay_drop_domain(p);
        }
        if p.eat_word("type") {
            let if_exists = p.eat_words(&["if", "exists"]);
            let (names, behavior) = self.drop_list(p)?;
            let mut keep_opaque = false;
            for DropTarget { at, name, .. } in names {
                if self.schema.enums.contains_key(&name) {
                    self.drop_enum(p, at, &name, behavior)?;
                } else if self.schema.domains.contains_key(&name) {
                    self.drop_domain(p, at, &name, behavior)?;
                } else if self.schema.composite_types.contains_key(&name) {
                    // Columns of the type: the same rules as for an enum.
                    self.drop_enum(p, at, &name, behavior)?;
                    self.schema.composite_types.remove(&name);
                    self.forget_relation(&name.schema, &name.name);
                } else if self.opaque_objects.remove(&name) {
                    keep_opaque = true;
                } else if !if_exists {
                    return Err(p.error_at(at, &format!("type {name} does not exist")));
                }
            }
            return Ok(!keep_opaque);
        }
        if p.eat_word("schema") {
            let if_exists = p.eat_words(&["if", "exists"]);
            let mut names = Vec::new();
            loop {
                names.push((p.here(), p.ident()?));
                if !p.eat(&Token::Comma) {
                    break;
                }
            }
            let behavior = drop_behavior(p);
            p.expect_end()?;
            for (at, name) in names {
                if self.schema.namespaces.contains(&name) {
                    self.drop_namespace(p, at, &name, behavior)?;
                } else if !if_exists {
                    return Err(p.error_at(at, &format!("schema {name} does not exist")));
                }
            }
            return Ok(true);
        }
        if self.kind == DialectKind::Postgres
            && (p.peek_word("view") || p.peek_words(&["materialized", "view"]))
        {
            let materialized = p.eat_word("materialized");
            p.expect_word("view")?;
            let if_exists = p.eat_words(&["if", "exists"]);
            let (names, behavior) = self.drop_list(p)?;
            let mut keep_opaque = false;
            for DropTarget { at, name, explicit } in names {
                if self.is_temp_relation(&name, explicit) {
                    self.temp_relations.remove(&name.name);
                } else if let Some(v) = self.schema.views.get(&name) {
                    if v.materialized != materialized {
                        let kind = if materialized {
                            "a materialized view"
                        } else {
                            "a view"
                        };
                        return Err(p.error_at(at, &format!("{name} is not {kind}")));
                    }
                    self.drop_views_with_dependents(p, at, &[name], behavior)?;
                } else if self.opaque_objects.remove(&name) {
                    keep_opaque = true;
                } else if !if_exists {
                    return Err(p.error_at(at, &format!("view {name} does not exist")));
                }
            }
            return Ok(!keep_opaque);
        }
        if self.kind == DialectKind::Postgres {
            if let Some(handled) = self.replay_drop_routine(p)? {
                return Ok(handled);
            }
        }
        // Domains, extensions ...: not modelled.
        Ok(false)
    }

    fn drop_tables(
        &mut self,
        p: &StmtParser,
        names: Vec<DropTarget>,
        if_exists: bool,
        behavior: Behavior,
    ) -> PResult<bool> {
        let mut keep_opaque = false;
        let mut dropped: Vec<((u64, u64), QualifiedName)> = Vec::new();
        for DropTarget { at, name, explicit } in names {
            let name = self.resolve_table(name);
            if self.is_temp_relation(&name, explicit) {
                self.temp_relations.remove(&name.name);
            } else if self.schema.tables.contains_key(&name) {
                dropped.push((at, name));
            } else if self.opaque_objects.remove(&name) {
                keep_opaque = true;
            } else if !if_exists {
                return Err(p.error_at(at, &format!("table {name} does not exist")));
            }
        }
        // Foreign keys of other tables that reference a dropped one.
        let gone: BTreeSet<&QualifiedName> = dropped.iter().map(|(_, n)| n).collect();
        let mut dependents: Vec<(QualifiedName, String, (u64, u64), QualifiedName)> = Vec::new();
        for t in self.schema.tables.values() {
            if gone.contains(&t.name) {
                continue;
            }
            for fk in &t.foreign_keys {
                if let Some((at, _)) = dropped.iter().find(|(_, n)| *n == fk.ref_table) {
                    dependents.push((t.name.clone(), fk.name.clone(), *at, fk.ref_table.clone()));
                }
            }
        }
        if let Some((table, fk, at, target)) = dependents.first() {
            if behavior == Behavior::Restrict {
                return Err(p.error_at(
                    *at,
                    &format!(
                        "cannot drop table {target}: constraint {fk} on table {table} depends on it \
                         (use CASCADE to drop it too)"
                    ),
                ));
            }
        }
        // Views reading a dropped table go with CASCADE and stop a plain DROP.
        let gone_names: Vec<QualifiedName> = dropped.iter().map(|(_, n)| n.clone()).collect();
        if let Some((at, _)) = dropped.first() {
            self.drop_views_with_dependents(p, *at, &gone_names, behavior)?;
        }
        for (table, fk, _, _) in &dependents {
            self.remove_foreign_key(table, fk);
        }
        for (_, name) in &dropped {
            self.remove_table(name);
        }
        Ok(!keep_opaque)
    }

    /// The materialized view that has index `name` (in the view's schema).
    fn materialized_view_with_index(&self, name: &QualifiedName) -> Option<QualifiedName> {
        self.schema
            .views
            .values()
            .find(|v| v.name.schema == name.schema && v.indexes.iter().any(|i| i.name == name.name))
            .map(|v| v.name.clone())
    }

    /// Drops the views among `names` and every view that reads them or `names` (tables),
    /// transitively; without CASCADE, a reading view that is not itself dropped is an error.
    fn drop_views_with_dependents(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        names: &[QualifiedName],
        behavior: Behavior,
    ) -> PResult<()> {
        let dependents = self.dependent_views(names);
        if let Some(first) = dependents.first() {
            if behavior == Behavior::Restrict {
                return Err(p.error_at(
                    at,
                    &format!(
                        "cannot drop {}: view {first} depends on it (use CASCADE to drop it too)",
                        names[0]
                    ),
                ));
            }
        }
        for name in names.iter().chain(&dependents) {
            self.remove_view(name);
        }
        Ok(())
    }

    /// Removes a table with everything that goes with it: its indexes and constraints and
    /// the sequences owned by its columns.
    fn remove_table(&mut self, name: &QualifiedName) {
        let Some(table) = self.schema.tables.remove(name) else {
            return;
        };
        // Partitions go with their parent.
        let partitions: Vec<QualifiedName> = self
            .schema
            .tables
            .values()
            .filter(|t| t.partition_of.as_ref().is_some_and(|o| o.parent == *name))
            .map(|t| t.name.clone())
            .collect();
        for partition in &partitions {
            self.remove_table(partition);
        }
        self.forget_triggers(name);
        for relation in table_relations(&table) {
            self.forget_relation(&name.schema, &relation);
        }
        let owned: Vec<QualifiedName> = self
            .schema
            .sequences
            .values()
            .filter(|s| s.owned_by.as_ref().is_some_and(|(t, _)| t == name))
            .map(|s| s.name.clone())
            .collect();
        for s in owned {
            self.remove_sequence(&s);
        }
    }

    fn remove_sequence(&mut self, name: &QualifiedName) {
        if self.schema.sequences.remove(name).is_some() {
            self.forget_relation(&name.schema, &name.name);
        }
    }

    fn remove_foreign_key(&mut self, table: &QualifiedName, name: &str) {
        if let Some(t) = self.schema.tables.get_mut(table) {
            t.foreign_keys.retain(|fk| fk.name != name);
        }
    }

    /// The table holding index `name` (schema-qualified: an index lives in its table's
    /// schema).
    fn index_owner(&self, name: &QualifiedName) -> Option<QualifiedName> {
        self.schema
            .tables
            .values()
            .find(|t| t.name.schema == name.schema && t.indexes.iter().any(|i| i.name == name.name))
            .map(|t| t.name.clone())
    }

    /// The table holding a primary key, unique or exclusion constraint named `name`, whose
    /// index carries the same name; true for a primary key.
    fn key_owner(&self, name: &QualifiedName) -> Option<(QualifiedName, bool)> {
        self.schema.tables.values().find_map(|t| {
            if t.name.schema != name.schema {
                return None;
            }
            if t.primary_key.as_ref().is_some_and(|k| k.name == name.name) {
                return Some((t.name.clone(), true));
            }
            (t.uniques.iter().any(|u| u.name == name.name)
                || t.exclusions.iter().any(|x| x.name == name.name))
            .then(|| (t.name.clone(), false))
        })
    }

    fn drop_index(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        name: &QualifiedName,
        behavior: Behavior,
    ) -> PResult<()> {
        let Some(table) = self.index_owner(name) else {
            return Ok(());
        };
        let key_columns = self.schema.tables.get(&table).and_then(|t| {
            t.indexes
                .iter()
                .find(|i| i.name == name.name)
                .and_then(plain_unique_columns)
        });
        if let Some(cols) = key_columns {
            self.drop_key_dependents(p, at, &table, &name.name, &cols, behavior)?;
        }
        if let Some(t) = self.schema.tables.get_mut(&table) {
            t.indexes.retain(|i| i.name != name.name);
        }
        self.forget_relation(&name.schema, &name.name);
        Ok(())
    }

    /// Foreign keys that rely on the unique key `key` (columns `cols`) of `table`: PostgreSQL
    /// refuses to drop the key under them without CASCADE, and drops them with it.
    ///
    /// A foreign key depends on the one unique index it was bound to when created, which
    /// the model does not record: it is taken to be `key` unless another unique key of
    /// the table covers the same columns.
    fn drop_key_dependents(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        table: &QualifiedName,
        key: &str,
        cols: &BTreeSet<String>,
        behavior: Behavior,
    ) -> PResult<()> {
        let Some(t) = self.schema.tables.get(table) else {
            return Ok(());
        };
        let other_key = unique_keys(t)
            .into_iter()
            .any(|(name, other)| name != key && other == *cols);
        if other_key {
            return Ok(());
        }
        let dependents: Vec<(QualifiedName, String)> = self
            .schema
            .tables
            .values()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|fk| {
                        fk.ref_table == *table
                            && fk.ref_columns.iter().cloned().collect::<BTreeSet<_>>() == *cols
                    })
                    .map(|fk| (t.name.clone(), fk.name.clone()))
            })
            .collect();
        if let Some((t, fk)) = dependents.first() {
            if behavior == Behavior::Restrict {
                return Err(p.error_at(
                    at,
                    &format!(
                        "cannot drop {key} of table {table}: constraint {fk} on table {t} depends \
                         on it (use CASCADE to drop it too)"
                    ),
                ));
            }
        }
        for (t, fk) in dependents {
            self.remove_foreign_key(&t, &fk);
        }
        Ok(())
    }

    fn drop_sequence(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        name: &QualifiedName,
        behavior: Behavior,
    ) -> PResult<()> {
        let default_ns = self.default_ns();
        let users: Vec<(QualifiedName, String)> = self
            .schema
            .tables
            .values()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| {
                        c.default.as_ref().is_some_and(|d| {
                            nextval_targets(&d.sql, &default_ns, self.kind).contains(name)
                        })
                    })
                    .map(|c| (t.name.clone(), c.name.clone()))
            })
            .collect();
        if let Some((t, c)) = users.first() {
            if behavior == Behavior::Restrict {
                return Err(p.error_at(
                    at,
                    &format!(
                        "cannot drop sequence {name}: the default of column {t}.{c} uses it \
                         (use CASCADE to drop the default too)"
                    ),
                ));
            }
        }
        for (t, c) in users {
            if let Some(col) = self
                .schema
                .tables
                .get_mut(&t)
                .and_then(|t| t.column_mut(&c))
            {
                col.default = None;
            }
        }
        self.remove_sequence(name);
        Ok(())
    }

    /// Columns of a type being dropped (`what`: "type x", "domain x"): RESTRICT refuses
    /// while one exists, CASCADE drops them, as PostgreSQL does. `hint` names what CASCADE
    /// would drop.
    fn drop_type_columns(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        what: &str,
        hint: &str,
        name: &QualifiedName,
        behavior: Behavior,
    ) -> PResult<()> {
        let users = self.type_users(name);
        if let (Some((t, c)), Behavior::Restrict) = (users.first(), behavior) {
            return Err(p.error_at(
                at,
                &format!(
                    "cannot drop {what}: column {t}.{c} uses it (use CASCADE to drop {hint} too)"
                ),
            ));
        }
        for (t, c) in users {
            if self
                .schema
                .tables
                .get(&t)
                .is_some_and(|t| t.column(&c).is_some())
            {
                self.drop_column(p, at, &t, &c, Behavior::Cascade)?;
            }
        }
        Ok(())
    }

    /// Columns (table, column) whose type is the user type `name` or an array of it.
    fn type_users(&self, name: &QualifiedName) -> Vec<(QualifiedName, String)> {
        let (plain, array) = self.user_type_names(name);
        self.schema
            .tables
            .values()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| c.data_type == plain || c.data_type == array)
                    .map(|c| (t.name.clone(), c.name.clone()))
            })
            .collect()
    }

    fn drop_enum(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        name: &QualifiedName,
        behavior: Behavior,
    ) -> PResult<()> {
        self.drop_domains_based_on(p, at, name, behavior)?;
        self.drop_type_columns(p, at, &format!("type {name}"), "the column", name, behavior)?;
        self.schema.enums.remove(name);
        Ok(())
    }

    fn drop_namespace(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        ns: &str,
        behavior: Behavior,
    ) -> PResult<()> {
        let tables: Vec<QualifiedName> = self
            .schema
            .tables
            .keys()
            .filter(|n| n.schema == ns)
            .cloned()
            .collect();
        let sequences: Vec<QualifiedName> = self
            .schema
            .sequences
            .keys()
            .filter(|n| n.schema == ns)
            .cloned()
            .collect();
        let enums: Vec<QualifiedName> = self
            .schema
            .enums
            .keys()
            .filter(|n| n.schema == ns)
            .cloned()
            .collect();
        if behavior == Behavior::Restrict {
            let first = tables
                .first()
                .map(|t| format!("table {t}"))
                .or_else(|| sequences.first().map(|s| format!("sequence {s}")))
                .or_else(|| enums.first().map(|e| format!("type {e}")))
                .or_else(|| self.first_function_in(ns));
            if let Some(what) = first {
                return Err(p.error_at(
                    at,
                    &format!("cannot drop schema {ns}: it contains {what} (use CASCADE)"),
                ));
            }
        }
        let names = tables
            .into_iter()
            .map(|name| DropTarget {
                at,
                name,
                explicit: true,
            })
            .collect();
        self.drop_tables(p, names, true, Behavior::Cascade)?;
        for s in sequences {
            if self.schema.sequences.contains_key(&s) {
                self.drop_sequence(p, at, &s, Behavior::Cascade)?;
            }
        }
        for e in enums {
            self.drop_enum(p, at, &e, Behavior::Cascade)?;
        }
        self.drop_namespace_domains(p, at, ns, behavior)?;
        self.forget_functions_in(ns);
        self.schema.namespaces.remove(ns);
        self.schema.namespace_comments.remove(ns);
        // Its default privileges go with it.
        self.schema
            .default_privileges
            .retain(|k, _| k.schema.as_deref() != Some(ns));
        Ok(())
    }

    /// DROP COLUMN: the column's indexes and constraints go with it, as do sequences it
    /// owns. Foreign keys that reference it and generated columns computed from it need
    /// CASCADE.
    fn drop_column(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        table: &QualifiedName,
        column: &str,
        behavior: Behavior,
    ) -> PResult<()> {
        let kind = self.kind;
        let Some(t) = self.schema.tables.get(table) else {
            return Ok(());
        };
        let generated: Vec<String> = t
            .columns
            .iter()
            .filter(|c| {
                c.name != column
                    && c.generated
                        .as_ref()
                        .is_some_and(|g| expr_mentions(&g.expr.sql, &t.name.name, column, kind))
            })
            .map(|c| c.name.clone())
            .collect();
        let mut referencing: Vec<(QualifiedName, String)> = Vec::new();
        for other in self.schema.tables.values() {
            for fk in &other.foreign_keys {
                let own_column = other.name == *table && fk.columns.iter().any(|c| c == column);
                if fk.ref_table == *table
                    && fk.ref_columns.iter().any(|c| c == column)
                    && !own_column
                {
                    referencing.push((other.name.clone(), fk.name.clone()));
                }
            }
        }
        if behavior == Behavior::Restrict {
            let dependent = generated
                .first()
                .map(|g| format!("column {table}.{g}"))
                .or_else(|| {
                    referencing
                        .first()
                        .map(|(t, fk)| format!("constraint {fk} on table {t}"))
                });
            if let Some(what) = dependent {
                return Err(p.error_at(
                    at,
                    &format!(
                        "cannot drop column {table}.{column}: {what} depends on it (use CASCADE \
                         to drop it too)"
                    ),
                ));
            }
        }
        for (t, fk) in &referencing {
            self.remove_foreign_key(t, fk);
        }
        let schema_name = table.schema.clone();
        let Some(t) = self.schema.tables.get_mut(table) else {
            return Ok(());
        };
        let tname = t.name.name.clone();
        let mentions = |sql: &str| expr_mentions(sql, &tname, column, kind);
        t.columns.retain(|c| c.name != column);
        let mut gone_relations: Vec<String> = Vec::new();
        if t.primary_key
            .as_ref()
            .is_some_and(|k| k.columns.iter().any(|c| c == column))
        {
            if let Some(k) = t.primary_key.take() {
                gone_relations.push(k.name);
            }
        }
        t.uniques.retain(|u| {
            let keep = !u.columns.iter().any(|c| c == column);
            if !keep {
                gone_relations.push(u.name.clone());
            }
            keep
        });
        t.checks.retain(|c| !mentions(&c.expr.sql));
        t.exclusions.retain(|x| {
            let uses = x.include.iter().any(|c| c == column)
                || x.predicate.as_ref().is_some_and(|e| mentions(&e.sql))
                || x.elements.iter().any(|e| match &e.key.target {
                    IndexTarget::Column(c) => c == column,
                    IndexTarget::Expr(e) => mentions(&e.sql),
                });
            if uses {
                gone_relations.push(x.name.clone());
            }
            !uses
        });
        t.foreign_keys
            .retain(|fk| !fk.columns.iter().any(|c| c == column));
        t.indexes.retain(|i| {
            let uses = i.include.iter().any(|c| c == column)
                || i.predicate.as_ref().is_some_and(|e| mentions(&e.sql))
                || i.keys.iter().any(|k| match &k.target {
                    IndexTarget::Column(c) => c == column,
                    IndexTarget::Expr(e) => mentions(&e.sql),
                });
            if uses {
                gone_relations.push(i.name.clone());
            }
            !uses
        });
        for r in gone_relations {
            self.forget_relation(&schema_name, &r);
        }
        let owned: Vec<QualifiedName> = self
            .schema
            .sequences
            .values()
            .filter(|s| {
                s.owned_by
                    .as_ref()
                    .is_some_and(|(t, c)| t == table && c == column)
            })
            .map(|s| s.name.clone())
            .collect();
        for s in owned {
            self.remove_sequence(&s);
        }
        for g in generated {
            self.drop_column(p, at, table, &g, Behavior::Cascade)?;
        }
        Ok(())
    }

    // ----- renames ---------------------------------------------------------------------

    /// Renames or moves a table. Its indexes and constraints keep their names; foreign
    /// keys that reference it follow it. With `take_sequences` (SET SCHEMA) the sequences
    /// its columns own move to the new schema too.
    fn move_table(&mut self, old: &QualifiedName, new: QualifiedName, take_sequences: bool) {
        let Some(mut table) = self.schema.tables.remove(old) else {
            return;
        };
        self.move_triggers(old, &new);
        for relation in table_relations(&table) {
            self.forget_relation(&old.schema, &relation);
        }
        table.name = new.clone();
        for relation in table_relations(&table) {
            self.remember_relation(&new.schema, &relation);
        }
        self.schema.tables.insert(new.clone(), table);
        for t in self.schema.tables.values_mut() {
            for fk in &mut t.foreign_keys {
                if fk.ref_table == *old {
                    fk.ref_table = new.clone();
                }
            }
            if let Some(of) = &mut t.partition_of {
                if of.parent == *old {
                    of.parent = new.clone();
                }
            }
        }
        let mut owned = Vec::new();
        for s in self.schema.sequences.values_mut() {
            if let Some((t, _)) = &mut s.owned_by {
                if t == old {
                    *t = new.clone();
                    owned.push(s.name.clone());
                }
            }
        }
        if take_sequences && old.schema != new.schema {
            for s in owned {
                let moved = QualifiedName::new(new.schema.clone(), s.name.clone());
                self.move_sequence(&s, moved);
            }
        }
    }

    /// Renames or moves a sequence; column defaults that draw from it follow it (the
    /// server stores them by object id).
    fn move_sequence(&mut self, old: &QualifiedName, new: QualifiedName) {
        let Some(mut seq) = self.schema.sequences.remove(old) else {
            return;
        };
        self.forget_relation(&old.schema, &old.name);
        self.remember_relation(&new.schema, &new.name);
        seq.name = new.clone();
        self.schema.sequences.insert(new.clone(), seq);
        let default_ns = self.default_ns();
        let kind = self.kind;
        for t in self.schema.tables.values_mut() {
            for c in &mut t.columns {
                let Some(d) = &c.default else { continue };
                if let Some(sql) = rename_nextval(&d.sql, old, &new, &default_ns, kind) {
                    c.default = Some(expr(&sql, kind));
                }
            }
        }
    }

    /// Renames or moves an enum; columns of the type follow it.
    fn move_enum(&mut self, old: &QualifiedName, new: QualifiedName) {
        let Some(mut e) = self.schema.enums.remove(old) else {
            return;
        };
        let (old_plain, old_array) = self.user_type_names(old);
        let (new_plain, new_array) = self.user_type_names(&new);
        e.name = new.clone();
        self.schema.enums.insert(new, e);
        for t in self.schema.tables.values_mut() {
            for c in &mut t.columns {
                if c.data_type == old_plain {
                    c.data_type = new_plain.clone();
                } else if c.data_type == old_array {
                    c.data_type = new_array.clone();
                }
            }
        }
        for d in self.schema.domains.values_mut() {
            if d.data_type == old_plain {
                d.data_type = new_plain.clone();
            } else if d.data_type == old_array {
                d.data_type = new_array.clone();
            }
        }
    }

    /// RENAME COLUMN: every list and expression of the table that names the column, the
    /// foreign keys that reference it and the sequences it owns follow the new name.
    fn rename_column(&mut self, table: &QualifiedName, old: &str, new: &str) {
        let kind = self.kind;
        let rename = |c: &mut String| {
            if c == old {
                *c = new.to_string();
            }
        };
        if let Some(t) = self.schema.tables.get_mut(table) {
            let tname = t.name.name.clone();
            let rewrite = |e: &mut Expr| {
                if let Some(sql) = rename_in_expr(&e.sql, &tname, old, new, kind) {
                    *e = expr(&sql, kind);
                }
            };
            for c in &mut t.columns {
                if c.name == old {
                    c.name = new.to_string();
                }
                if let Some(g) = &mut c.generated {
                    rewrite(&mut g.expr);
                }
            }
            if let Some(k) = &mut t.primary_key {
                k.columns.iter_mut().for_each(rename);
            }
            for u in &mut t.uniques {
                u.columns.iter_mut().for_each(rename);
            }
            for c in &mut t.checks {
                rewrite(&mut c.expr);
            }
            for x in &mut t.exclusions {
                for e in &mut x.elements {
                    match &mut e.key.target {
                        IndexTarget::Column(c) => rename(c),
                        IndexTarget::Expr(e) => rewrite(e),
                    }
                }
                x.include.iter_mut().for_each(rename);
                if let Some(e) = &mut x.predicate {
                    rewrite(e);
                }
            }
            for fk in &mut t.foreign_keys {
                fk.columns.iter_mut().for_each(rename);
            }
            for i in &mut t.indexes {
                for k in &mut i.keys {
                    match &mut k.target {
                        IndexTarget::Column(c) => rename(c),
                        IndexTarget::Expr(e) => rewrite(e),
                    }
                }
                i.include.iter_mut().for_each(rename);
                if let Some(e) = &mut i.predicate {
                    rewrite(e);
                }
            }
        }
        for t in self.schema.tables.values_mut() {
            for fk in &mut t.foreign_keys {
                if fk.ref_table == *table {
                    fk.ref_columns.iter_mut().for_each(rename);
                }
            }
        }
        for s in self.schema.sequences.values_mut() {
            if let Some((t, c)) = &mut s.owned_by {
                if t == table && c == old {
                    *c = new.to_string();
                }
            }
        }
        self.rename_column_in_policies(table, old, new);
    }

    /// RENAME CONSTRAINT (or ALTER INDEX ... RENAME of a key's index): a primary key or
    /// unique constraint and its index share the name.
    fn rename_constraint(&mut self, table: &QualifiedName, old: &str, new: &str) -> bool {
        let Some(t) = self.schema.tables.get_mut(table) else {
            return false;
        };
        let mut relation = false;
        let mut found = false;
        if let Some(k) = t.primary_key.as_mut().filter(|k| k.name == old) {
            k.name = new.to_string();
            relation = true;
            found = true;
        }
        for u in t.uniques.iter_mut().filter(|u| u.name == old) {
            u.name = new.to_string();
            relation = true;
            found = true;
        }
        for x in t.exclusions.iter_mut().filter(|x| x.name == old) {
            x.name = new.to_string();
            relation = true;
            found = true;
        }
        for c in t.checks.iter_mut().filter(|c| c.name == old) {
            c.name = new.to_string();
            found = true;
        }
        for fk in t.foreign_keys.iter_mut().filter(|f| f.name == old) {
            fk.name = new.to_string();
            found = true;
        }
        if relation {
            self.forget_relation(&table.schema, old);
            self.remember_relation(&table.schema, new);
        }
        found
    }

    fn constraint_exists(&self, table: &QualifiedName, name: &str) -> bool {
        self.schema.tables.get(table).is_some_and(|t| {
            t.primary_key.as_ref().is_some_and(|k| k.name == name)
                || t.uniques.iter().any(|u| u.name == name)
                || t.checks.iter().any(|c| c.name == name)
                || t.exclusions.iter().any(|x| x.name == name)
                || t.foreign_keys.iter().any(|f| f.name == name)
        })
    }

    // ----- ALTER TABLE -------------------------------------------------------------------

    fn replay_alter_table(&mut self, p: &mut StmtParser) -> PResult<bool> {
        if p.peek_words(&["all", "in"]) {
            // ALTER TABLE ALL IN TABLESPACE: storage, not schema, and not per table.
            return Ok(false);
        }
        let if_exists = p.eat_words(&["if", "exists"]);
        p.eat_word("only");
        let at = p.here();
        let (name, explicit) = self.qualified_explicit(p)?;
        let name = self.resolve_table(name);
        p.eat(&Token::Mul);
        if self.is_temp_relation(&name, explicit) {
            if p.peek_words(&["rename", "to"]) {
                p.pos += 2;
                let new = p.ident()?;
                self.temp_relations.remove(&name.name);
                self.temp_relations.insert(new);
            }
            return Ok(true);
        }
        if !self.schema.tables.contains_key(&name) {
            if self.opaque_objects.contains(&name) {
                return Ok(false);
            }
            if if_exists {
                return Ok(true);
            }
            return Err(p.error_at(at, &format!("table {name} does not exist")));
        }

        // Forms that stand alone.
        if p.eat_words(&["rename", "to"]) {
            let new_at = p.here();
            let new = QualifiedName::new(name.schema.clone(), p.ident()?);
            p.expect_end()?;
            if self.relation_exists(&new.schema, &new.name) {
                return Err(p.error_at(new_at, &format!("relation {new} already exists")));
            }
            self.move_table(&name, new, false);
            return Ok(true);
        }
        if p.eat_words(&["set", "schema"]) {
            let new_at = p.here();
            let new = QualifiedName::new(p.ident()?, name.name.clone());
            p.expect_end()?;
            if new == name {
                return Ok(true);
            }
            if self.relation_exists(&new.schema, &new.name) {
                return Err(p.error_at(new_at, &format!("relation {new} already exists")));
            }
            self.move_table(&name, new, true);
            return Ok(true);
        }
        if p.eat_words(&["rename", "constraint"]) {
            let old_at = p.here();
            let old = p.ident()?;
            p.expect_word("to")?;
            let new_at = p.here();
            let new = p.ident()?;
            p.expect_end()?;
            if !self.constraint_exists(&name, &old) {
                return Err(p.error_at(
                    old_at,
                    &format!("constraint {old} of table {name} does not exist"),
                ));
            }
            let is_key = self.key_owner(&QualifiedName::new(name.schema.clone(), old.clone()));
            if self.constraint_exists(&name, &new)
                || (is_key.is_some() && self.relation_exists(&name.schema, &new))
            {
                return Err(p.error_at(
                    new_at,
                    &format!("constraint {new} of table {name} already exists"),
                ));
            }
            self.rename_constraint(&name, &old, &new);
            return Ok(true);
        }
        if p.eat_word("rename") {
            p.eat_word("column");
            let old_at = p.here();
            let old = p.ident()?;
            p.expect_word("to")?;
            let new_at = p.here();
            let new = p.ident()?;
            p.expect_end()?;
            let table = &self.schema.tables[&name];
            if table.column(&old).is_none() {
                return Err(p.error_at(old_at, &format!("column {name}.{old} does not exist")));
            }
            if table.column(&new).is_some() {
                return Err(p.error_at(new_at, &format!("column {name}.{new} already exists")));
            }
            self.rename_column(&name, &old, &new);
            return Ok(true);
        }

        // A list of actions. PostgreSQL applies all or none: when one of several is not
        // understood, the whole statement stays opaque and the model as it was. Only some
        // forms can turn out not to be modelled, and only then is the model saved first
        // (a copy per statement would make long replays quadratic).
        let actions = split_actions(&p.toks[p.pos..]);
        let saved = (actions.len() > 1 && actions.iter().any(|a| may_be_unmodelled(a)))
            .then(|| (self.schema.clone(), self.relation_names.clone()));
        loop {
            if !self.replay_table_action(p, &name)? {
                if let Some((schema, names)) = saved {
                    self.schema = schema;
                    self.relation_names = names;
                }
                return Ok(false);
            }
            if !p.eat(&Token::Comma) {
                break;
            }
        }
        p.expect_end()?;
        Ok(true)
    }

    /// One action of ALTER TABLE; `Ok(false)` when it is not one ferry models.
    fn replay_table_action(&mut self, p: &mut StmtParser, table: &QualifiedName) -> PResult<bool> {
        if self.row_security_action(p, table)? {
            return Ok(true);
        }
        if p.eat_words(&["owner", "to"]) {
            p.ident()?;
            return Ok(true);
        }
        if p.eat_word("attach") {
            self.attach_partition(p, table)?;
            return Ok(true);
        }
        if p.eat_word("detach") {
            self.detach_partition(p, table)?;
            return Ok(true);
        }
        if self.kind == DialectKind::Postgres && (p.peek_word("enable") || p.peek_word("disable")) {
            return self.alter_table_trigger_state(p, table);
        }
        if p.eat_word("add") {
            if p.peek_word("constraint")
                || p.peek_words(&["primary", "key"])
                || p.peek_word("unique")
                || p.peek_word("check")
                || p.peek_words(&["foreign", "key"])
                || p.peek_word("exclude")
            {
                let at = p.here();
                let cname = if p.eat_word("constraint") {
                    Some(p.ident()?)
                } else {
                    None
                };
                if let Some(n) = &cname {
                    if self.constraint_exists(table, n) {
                        return Err(p.error_at(
                            at,
                            &format!("constraint {n} of table {table} already exists"),
                        ));
                    }
                }
                if p.peek_words(&["primary", "key", "using", "index"])
                    || p.peek_words(&["unique", "using", "index"])
                {
                    return self.add_constraint_using_index(p, table, cname);
                }
                let c = self.table_constraint(p, cname)?;
                let pending = PendingConstraints { items: vec![c] };
                self.check_key_names(p, at, &table.schema, &pending)?;
                self.apply_pending(table, pending);
                return Ok(true);
            }
            p.eat_word("column");
            let if_not_exists = p.eat_words(&["if", "not", "exists"]);
            let at = p.here();
            let existing = {
                let save = p.pos;
                let name = p.ident()?;
                p.pos = save;
                self.schema.tables[table]
                    .column(&name)
                    .is_some()
                    .then_some(name)
            };
            if let Some(col) = existing {
                if if_not_exists {
                    skip_action(p);
                    return Ok(true);
                }
                return Err(p.error_at(at, &format!("column {table}.{col} already exists")));
            }
            let mut pending = PendingConstraints::default();
            let col = self.column_def(p, table, &mut pending)?;
            self.check_key_names(p, at, &table.schema, &pending)?;
            if let Some(t) = self.schema.tables.get_mut(table) {
                t.columns.push(col);
            }
            self.apply_pending(table, pending);
            return Ok(true);
        }
        if p.eat_word("drop") {
            if p.eat_word("constraint") {
                let if_exists = p.eat_words(&["if", "exists"]);
                let at = p.here();
                let name = p.ident()?;
                let behavior = drop_behavior(p);
                if !self.constraint_exists(table, &name) {
                    if if_exists {
                        return Ok(true);
                    }
                    return Err(p.error_at(
                        at,
                        &format!("constraint {name} of table {table} does not exist"),
                    ));
                }
                self.drop_constraint(p, at, table, &name, behavior)?;
                return Ok(true);
            }
            p.eat_word("column");
            let if_exists = p.eat_words(&["if", "exists"]);
            let at = p.here();
            let column = p.ident()?;
            let behavior = drop_behavior(p);
            if self.schema.tables[table].column(&column).is_none() {
                if if_exists {
                    return Ok(true);
                }
                return Err(p.error_at(at, &format!("column {table}.{column} does not exist")));
            }
            self.drop_column(p, at, table, &column, behavior)?;
            return Ok(true);
        }
        if p.eat_word("alter") {
            if p.eat_word("constraint") {
                let at = p.here();
                let name = p.ident()?;
                let deferrable = p.deferrable();
                let Some(fk) = self
                    .schema
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.foreign_keys.iter_mut().find(|f| f.name == name))
                else {
                    return Err(p.error_at(
                        at,
                        &format!("foreign key {name} of table {table} does not exist"),
                    ));
                };
                fk.deferrable = deferrable;
                return Ok(true);
            }
            p.eat_word("column");
            let at = p.here();
            let column = p.ident()?;
            if self.schema.tables[table].column(&column).is_none() {
                return Err(p.error_at(at, &format!("column {table}.{column} does not exist")));
            }
            return self.replay_alter_column(p, at, table, &column);
        }
        if p.eat_words(&["validate", "constraint"]) {
            // NOT VALID is not modelled: validating changes nothing ferry sees.
            let at = p.here();
            let name = p.ident()?;
            if !self.constraint_exists(table, &name) {
                return Err(p.error_at(
                    at,
                    &format!("constraint {name} of table {table} does not exist"),
                ));
            }
            return Ok(true);
        }
        // Storage settings the model does not hold.
        if p.eat_words(&["set", "tablespace"]) || p.eat_words(&["cluster", "on"]) {
            p.ident()?;
            return Ok(true);
        }
        if p.eat_words(&["set", "logged"])
            || p.eat_words(&["set", "unlogged"])
            || p.eat_words(&["set", "without", "cluster"])
        {
            return Ok(true);
        }
        if (p.peek_word("set") || p.peek_word("reset"))
            && p.toks
                .get(p.pos + 1)
                .is_some_and(|t| t.token == Token::LParen)
        {
            p.pos += 1;
            p.paren_expr()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `ADD [CONSTRAINT name] {PRIMARY KEY | UNIQUE} USING INDEX idx`: the unique index
    /// becomes the constraint's index, renamed to the constraint's name.
    fn add_constraint_using_index(
        &mut self,
        p: &mut StmtParser,
        table: &QualifiedName,
        name: Option<String>,
    ) -> PResult<bool> {
        let primary = p.eat_words(&["primary", "key"]);
        if !primary {
            p.expect_word("unique")?;
        }
        p.expect_words(&["using", "index"])?;
        let at = p.here();
        let index_name = p.ident()?;
        let deferrable = p.deferrable();
        let Some(t) = self.schema.tables.get_mut(table) else {
            return Ok(true);
        };
        let Some(pos) = t.indexes.iter().position(|i| i.name == index_name) else {
            return Err(p.error_at(
                at,
                &format!("index {index_name} of table {table} does not exist"),
            ));
        };
        let index = &t.indexes[pos];
        let columns: Option<Vec<String>> = index
            .keys
            .iter()
            .map(|k| match &k.target {
                IndexTarget::Column(c) => Some(c.clone()),
                IndexTarget::Expr(_) => None,
            })
            .collect();
        let Some(columns) = columns.filter(|_| index.unique && index.predicate.is_none()) else {
            return Err(p.error_at(
                at,
                &format!("index {index_name} is not a unique index on plain columns"),
            ));
        };
        let nulls_not_distinct = index.nulls_not_distinct;
        t.indexes.remove(pos);
        let name = name.unwrap_or_else(|| index_name.clone());
        if primary {
            for c in &columns {
                if let Some(col) = t.column_mut(c) {
                    col.not_null = true;
                }
            }
            t.primary_key = Some(PrimaryKey {
                name: name.clone(),
                columns,
                autoincrement: false,
                comment: None,
            });
        } else {
            t.uniques.push(UniqueConstraint {
                name: name.clone(),
                columns,
                nulls_not_distinct,
                deferrable,
                comment: None,
            });
        }
        self.forget_relation(&table.schema, &index_name);
        self.remember_relation(&table.schema, &name);
        Ok(true)
    }

    fn drop_constraint(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        table: &QualifiedName,
        name: &str,
        behavior: Behavior,
    ) -> PResult<()> {
        let Some(t) = self.schema.tables.get(table) else {
            return Ok(());
        };
        let key_columns: Option<BTreeSet<String>> = t
            .primary_key
            .iter()
            .filter(|k| k.name == name)
            .map(|k| k.columns.iter().cloned().collect())
            .chain(
                t.uniques
                    .iter()
                    .filter(|u| u.name == name)
                    .map(|u| u.columns.iter().cloned().collect()),
            )
            .next();
        let is_exclusion = t.exclusions.iter().any(|x| x.name == name);
        if let Some(cols) = &key_columns {
            self.drop_key_dependents(p, at, table, name, cols, behavior)?;
            self.forget_relation(&table.schema, name);
        }
        if is_exclusion {
            self.forget_relation(&table.schema, name);
        }
        if let Some(t) = self.schema.tables.get_mut(table) {
            if t.primary_key.as_ref().is_some_and(|k| k.name == name) {
                t.primary_key = None;
            }
            t.uniques.retain(|u| u.name != name);
            t.checks.retain(|c| c.name != name);
            t.exclusions.retain(|x| x.name != name);
            t.foreign_keys.retain(|f| f.name != name);
        }
        Ok(())
    }

    /// ALTER [COLUMN] c ...: one column action (the identity forms may chain several SETs).
    fn replay_alter_column(
        &mut self,
        p: &mut StmtParser,
        at: (u64, u64),
        table: &QualifiedName,
        column: &str,
    ) -> PResult<bool> {
        let kind = self.kind;
        if p.eat_words(&["set", "data", "type"]) || p.eat_word("type") {
            let written = p.type_name()?;
            if written.is_empty() {
                return Err(p.unexpected("(expected a type)"));
            }
            let data_type = self.dialect.canonical_type(&written);
            // Without COLLATE the column takes the new type's default collation.
            let collation = if p.eat_word("collate") {
                Some(p.collation()?).filter(|c| c != "default")
            } else {
                None
            };
            if p.eat_word("using") {
                skip_action(p);
            }
            let Some(col) = self.column_mut(table, column) else {
                return Ok(true);
            };
            let old_type = std::mem::replace(&mut col.data_type, data_type.clone());
            col.collation = collation;
            // An identity's sequence changes type with its column.
            if let Some(identity) = &mut col.identity {
                let change = SequenceAlter {
                    data_type: Some(data_type.clone()),
                    ..SequenceAlter::default()
                };
                identity.options =
                    altered_options(&identity.options, &old_type, &data_type, &change);
            }
            return Ok(true);
        }
        if p.eat_words(&["set", "default"]) {
            let e = p.expr_until_constraint()?;
            if let Some(col) = self.column_mut(table, column) {
                col.default = (!e.eq_ignore_ascii_case("null")).then(|| expr(&e, kind));
            }
            return Ok(true);
        }
        if p.eat_words(&["drop", "default"]) {
            if let Some(col) = self.column_mut(table, column) {
                col.default = None;
            }
            return Ok(true);
        }
        if p.eat_words(&["set", "not", "null"]) {
            if let Some(col) = self.column_mut(table, column) {
                col.not_null = true;
            }
            return Ok(true);
        }
        if p.eat_words(&["drop", "not", "null"]) {
            if let Some(col) = self.column_mut(table, column) {
                col.not_null = false;
            }
            return Ok(true);
        }
        if p.eat_words(&["drop", "expression"]) {
            let if_exists = p.eat_words(&["if", "exists"]);
            let Some(col) = self.column_mut(table, column) else {
                return Ok(true);
            };
            if col.generated.is_none() && !if_exists {
                return Err(p.error_at(
                    at,
                    &format!("column {table}.{column} is not a generated column"),
                ));
            }
            // The column keeps its current values as plain data.
            col.generated = None;
            return Ok(true);
        }
        if p.eat_words(&["drop", "identity"]) {
            let if_exists = p.eat_words(&["if", "exists"]);
            let Some(col) = self.column_mut(table, column) else {
                return Ok(true);
            };
            if col.identity.is_none() && !if_exists {
                return Err(p.error_at(
                    at,
                    &format!("column {table}.{column} is not an identity column"),
                ));
            }
            // NOT NULL stays.
            col.identity = None;
            return Ok(true);
        }
        if p.eat_word("add") {
            p.expect_word("generated")?;
            let always = if p.eat_word("always") {
                true
            } else {
                p.expect_words(&["by", "default"])?;
                false
            };
            p.expect_words(&["as", "identity"])?;
            let data_type = match self.schema.tables[table].column(column) {
                Some(c) if c.identity.is_some() => {
                    return Err(p.error_at(
                        at,
                        &format!("column {table}.{column} is already an identity column"),
                    ))
                }
                Some(c) => c.data_type.clone(),
                None => return Ok(true),
            };
            let identity = self.identity(p, &data_type, always)?;
            if let Some(col) = self.column_mut(table, column) {
                col.identity = Some(identity);
                col.not_null = true;
            }
            return Ok(true);
        }
        // Per-column storage settings the model does not hold.
        if p.eat_words(&["set", "statistics"]) {
            p.integer()?;
            return Ok(true);
        }
        if p.eat_words(&["set", "storage"]) || p.eat_words(&["set", "compression"]) {
            p.ident()?;
            return Ok(true);
        }
        if (p.peek_word("set") || p.peek_word("reset"))
            && p.toks
                .get(p.pos + 1)
                .is_some_and(|t| t.token == Token::LParen)
        {
            p.pos += 1;
            p.paren_expr()?;
            return Ok(true);
        }
        if p.peek_word("set") || p.peek_word("restart") {
            return self.alter_identity(p, at, table, column);
        }
        Ok(false)
    }

    /// `SET GENERATED ...`, `SET <sequence option>`, `RESTART` on an identity column.
    fn alter_identity(
        &mut self,
        p: &mut StmtParser,
        at: (u64, u64),
        table: &QualifiedName,
        column: &str,
    ) -> PResult<bool> {
        let mut always = None;
        let mut change = SequenceAlter::default();
        loop {
            if p.eat_words(&["set", "generated"]) {
                always = Some(if p.eat_word("always") {
                    true
                } else {
                    p.expect_words(&["by", "default"])?;
                    false
                });
            } else if p.eat_word("restart") {
                // Restarting moves the counter, not the settings.
                p.eat_word("with");
                if matches!(
                    p.current().map(|t| &t.token),
                    Some(Token::Number(..)) | Some(Token::Minus)
                ) {
                    p.integer()?;
                }
            } else if p.peek_word("set") {
                let save = p.pos;
                p.pos += 1;
                if !self.sequence_alter_clause(p, &mut change)? || change.data_type.is_some() {
                    p.pos = save;
                    return Ok(false);
                }
            } else {
                break;
            }
        }
        let Some(col) = self.column_mut(table, column) else {
            return Ok(true);
        };
        let data_type = col.data_type.clone();
        let Some(identity) = &mut col.identity else {
            return Err(p.error_at(
                at,
                &format!("column {table}.{column} is not an identity column"),
            ));
        };
        if let Some(a) = always {
            identity.always = a;
        }
        identity.options = altered_options(&identity.options, &data_type, &data_type, &change);
        Ok(true)
    }

    fn column_mut(&mut self, table: &QualifiedName, column: &str) -> Option<&mut Column> {
        self.schema
            .tables
            .get_mut(table)
            .and_then(|t| t.column_mut(column))
    }

    // ----- ALTER SEQUENCE / TYPE / INDEX / SCHEMA -----------------------------------------

    /// One clause of ALTER SEQUENCE (also the identity column's SET clauses); false when
    /// the next words are not one.
    fn sequence_alter_clause(&self, p: &mut StmtParser, a: &mut SequenceAlter) -> PResult<bool> {
        if p.eat_word("as") {
            let t = p.type_name()?;
            a.data_type = Some(self.dialect.canonical_type(&t));
        } else if p.eat_word("increment") {
            p.eat_word("by");
            a.increment = Some(p.integer()?);
        } else if p.eat_word("minvalue") {
            a.min_value = Some(Some(p.integer()?));
        } else if p.eat_words(&["no", "minvalue"]) {
            a.min_value = Some(None);
        } else if p.eat_word("maxvalue") {
            a.max_value = Some(Some(p.integer()?));
        } else if p.eat_words(&["no", "maxvalue"]) {
            a.max_value = Some(None);
        } else if p.eat_word("start") {
            p.eat_word("with");
            a.start = Some(p.integer()?);
        } else if p.eat_word("restart") {
            // Moves the counter, not the settings.
            p.eat_word("with");
            if matches!(
                p.current().map(|t| &t.token),
                Some(Token::Number(..)) | Some(Token::Minus)
            ) {
                p.integer()?;
            }
        } else if p.eat_word("cache") {
            a.cache = Some(p.integer()?);
        } else if p.eat_words(&["no", "cycle"]) {
            a.cycle = Some(false);
        } else if p.eat_word("cycle") {
            a.cycle = Some(true);
        } else if p.eat_words(&["owned", "by"]) {
            if p.eat_word("none") {
                a.owned_by = Some(None);
            } else {
                let first = p.ident()?;
                p.expect(&Token::Period)?;
                let second = p.ident()?;
                let target = if p.eat(&Token::Period) {
                    let third = p.ident()?;
                    (QualifiedName::new(first, second), third)
                } else {
                    (QualifiedName::new(self.default_ns(), first), second)
                };
                a.owned_by = Some(Some(target));
            }
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The identity column whose internal sequence has this name: the server names it
    /// like a serial column's (`table_column_seq`).
    fn identity_sequence_owner(&self, name: &QualifiedName) -> Option<(QualifiedName, String)> {
        self.schema.tables.values().find_map(|t| {
            if t.name.schema != name.schema {
                return None;
            }
            t.columns
                .iter()
                .find(|c| {
                    c.identity.is_some()
                        && pg_object_name(&t.name.name, &c.name, "seq") == name.name
                })
                .map(|c| (t.name.clone(), c.name.clone()))
        })
    }

    /// ALTER SEQUENCE on an identity column's sequence: its options are the identity's.
    fn alter_identity_sequence(
        &mut self,
        p: &mut StmtParser,
        at: (u64, u64),
        table: &QualifiedName,
        column: &str,
    ) -> PResult<bool> {
        if p.eat_words(&["owner", "to"]) || p.eat_words(&["rename", "to"]) {
            // The model does not hold the sequence's name.
            return Ok(true);
        }
        let mut change = SequenceAlter::default();
        while self.sequence_alter_clause(p, &mut change)? {}
        p.expect_end()?;
        if change.data_type.is_some() || change.owned_by.is_some() {
            return Err(p.error_at(
                at,
                &format!("the sequence of identity column {table}.{column} follows its column"),
            ));
        }
        if let Some(col) = self.column_mut(table, column) {
            let data_type = col.data_type.clone();
            if let Some(identity) = &mut col.identity {
                identity.options =
                    altered_options(&identity.options, &data_type, &data_type, &change);
            }
        }
        Ok(true)
    }

    fn replay_alter_sequence(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let if_exists = p.eat_words(&["if", "exists"]);
        let at = p.here();
        let name = self.qualified(p)?;
        if !self.schema.sequences.contains_key(&name) {
            if self.opaque_objects.contains(&name) {
                return Ok(false);
            }
            if let Some((table, column)) = self.identity_sequence_owner(&name) {
                return self.alter_identity_sequence(p, at, &table, &column);
            }
            if if_exists {
                return Ok(true);
            }
            return Err(p.error_at(at, &format!("sequence {name} does not exist")));
        }
        if p.eat_words(&["owner", "to"]) {
            return Ok(true);
        }
        if p.eat_words(&["set", "logged"]) || p.eat_words(&["set", "unlogged"]) {
            return Ok(true);
        }
        if let Some((new, new_at)) = p.renamed_or_moved(&name)? {
            if new == name {
                return Ok(true);
            }
            if self.relation_exists(&new.schema, &new.name) {
                return Err(p.error_at(new_at, &format!("relation {new} already exists")));
            }
            self.move_sequence(&name, new);
            return Ok(true);
        }
        let mut change = SequenceAlter::default();
        while self.sequence_alter_clause(p, &mut change)? {}
        p.expect_end()?;
        if let Some(Some((table, column))) = &change.owned_by {
            let exists = self
                .schema
                .tables
                .get(table)
                .is_some_and(|t| t.column(column).is_some());
            if !exists {
                return Err(p.error_at(at, &format!("OWNED BY unknown column {table}.{column}")));
            }
        }
        let Some(seq) = self.schema.sequences.get_mut(&name) else {
            return Ok(true);
        };
        let old_type = seq
            .data_type
            .clone()
            .unwrap_or_else(|| "bigint".to_string());
        let new_type = change.data_type.clone().unwrap_or_else(|| old_type.clone());
        seq.options = altered_options(&seq.options, &old_type, &new_type, &change);
        seq.data_type = Some(new_type).filter(|t| t != "bigint");
        if let Some(owner) = change.owned_by {
            seq.owned_by = owner;
        }
        Ok(true)
    }

    fn replay_alter_type(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let start = p.pos;
        let at = p.here();
        let name = self.qualified(p)?;
        if self.schema.domains.contains_key(&name) {
            p.pos = start;
            return self.alter_domain(p);
        }
        if p.eat_words(&["owner", "to"]) {
            return Ok(true);
        }
        if let Some(handled) = self.alter_composite_type(p, &name)? {
            return Ok(handled);
        }
        if !self.schema.enums.contains_key(&name) {
            // A composite, range or extension type: not modelled.
            if self.opaque_objects.contains(&name) {
                return Ok(false);
            }
            return Err(p.error_at(at, &format!("type {name} does not exist")));
        }
        if p.eat_words(&["add", "value"]) {
            let if_not_exists = p.eat_words(&["if", "not", "exists"]);
            let value_at = p.here();
            let value = p.string_literal()?;
            let place = if p.eat_word("before") {
                Some((true, p.here(), p.string_literal()?))
            } else if p.eat_word("after") {
                Some((false, p.here(), p.string_literal()?))
            } else {
                None
            };
            p.expect_end()?;
            let Some(e) = self.schema.enums.get_mut(&name) else {
                return Ok(true);
            };
            if e.values.contains(&value) {
                if if_not_exists {
                    return Ok(true);
                }
                return Err(p.error_at(
                    value_at,
                    &format!("enum {name} already has the value '{value}'"),
                ));
            }
            let index = match place {
                None => e.values.len(),
                Some((before, neighbour_at, neighbour)) => {
                    let Some(i) = e.values.iter().position(|v| *v == neighbour) else {
                        return Err(p.error_at(
                            neighbour_at,
                            &format!("enum {name} has no value '{neighbour}'"),
                        ));
                    };
                    if before {
                        i
                    } else {
                        i + 1
                    }
                }
            };
            e.values.insert(index, value);
            return Ok(true);
        }
        if p.eat_words(&["rename", "value"]) {
            let old_at = p.here();
            let old = p.string_literal()?;
            p.expect_word("to")?;
            let new_at = p.here();
            let new = p.string_literal()?;
            p.expect_end()?;
            let Some(e) = self.schema.enums.get_mut(&name) else {
                return Ok(true);
            };
            if e.values.contains(&new) {
                return Err(p.error_at(
                    new_at,
                    &format!("enum {name} already has the value '{new}'"),
                ));
            }
            let Some(v) = e.values.iter_mut().find(|v| **v == old) else {
                return Err(p.error_at(old_at, &format!("enum {name} has no value '{old}'")));
            };
            *v = new;
            return Ok(true);
        }
        if let Some((new, new_at)) = p.renamed_or_moved(&name)? {
            if new == name {
                return Ok(true);
            }
            if self.schema.enums.contains_key(&new) {
                return Err(p.error_at(new_at, &format!("type {new} already exists")));
            }
            self.move_enum(&name, new);
            return Ok(true);
        }
        Ok(false)
    }

    fn replay_alter_index(&mut self, p: &mut StmtParser) -> PResult<bool> {
        if p.peek_words(&["all", "in"]) {
            return Ok(false);
        }
        let if_exists = p.eat_words(&["if", "exists"]);
        let at = p.here();
        let name = self.qualified(p)?;
        let index_table = self.index_owner(&name);
        let key_table = self.key_owner(&name).map(|(t, _)| t);
        if index_table.is_none() && key_table.is_none() {
            if self.opaque_objects.contains(&name) {
                return Ok(false);
            }
            if if_exists {
                return Ok(true);
            }
            return Err(p.error_at(at, &format!("index {name} does not exist")));
        }
        if p.eat_words(&["rename", "to"]) {
            let new_at = p.here();
            let new = p.ident()?;
            p.expect_end()?;
            if self.relation_exists(&name.schema, &new) {
                return Err(p.error_at(
                    new_at,
                    &format!("relation {}.{new} already exists", name.schema),
                ));
            }
            if let Some(table) = index_table {
                if let Some(i) = self
                    .schema
                    .tables
                    .get_mut(&table)
                    .and_then(|t| t.indexes.iter_mut().find(|i| i.name == name.name))
                {
                    i.name = new.clone();
                }
                self.forget_relation(&name.schema, &name.name);
                self.remember_relation(&name.schema, &new);
            } else if let Some(table) = key_table {
                // A key's index and the key share their name: renaming one renames both.
                self.rename_constraint(&table, &name.name, &new);
            }
            return Ok(true);
        }
        // Storage settings the model does not hold.
        if p.eat_words(&["owner", "to"]) || p.eat_words(&["set", "tablespace"]) {
            return Ok(true);
        }
        if (p.peek_word("set") || p.peek_word("reset"))
            && p.toks
                .get(p.pos + 1)
                .is_some_and(|t| t.token == Token::LParen)
        {
            // Storage parameters: the server drops the named ones and appends the ones set,
            // in order. A key's index keeps its parameters apart from the model.
            let set = if p.eat_word("reset") {
                p.paren_list(|p| p.ident())?
                    .into_iter()
                    .map(|n| (n, None))
                    .collect::<Vec<_>>()
            } else {
                p.expect_word("set")?;
                p.storage_params()?
                    .into_iter()
                    .map(|e| (StorageParams::name_of(&e).to_string(), Some(e)))
                    .collect()
            };
            p.expect_end()?;
            if let Some(index) = self.index_mut(&name) {
                for (param, entry) in set {
                    index
                        .storage
                        .0
                        .retain(|e| StorageParams::name_of(e) != param);
                    index.storage.0.extend(entry);
                }
            }
            return Ok(true);
        }
        if p.peek_word("alter") && p.rest_words().contains(&"statistics".to_string()) {
            return Ok(true);
        }
        Ok(false)
    }

    fn replay_alter_schema(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let at = p.here();
        let name = p.ident()?;
        if p.eat_words(&["owner", "to"]) {
            return Ok(true);
        }
        if !p.eat_words(&["rename", "to"]) {
            return Ok(false);
        }
        let new_at = p.here();
        let new = p.ident()?;
        p.expect_end()?;
        if !self.schema.namespaces.contains(&name) {
            return Err(p.error_at(at, &format!("schema {name} does not exist")));
        }
        if self.schema.namespaces.contains(&new) || new == self.dialect.default_namespace() {
            return Err(p.error_at(new_at, &format!("schema {new} already exists")));
        }
        self.schema.namespaces.remove(&name);
        self.schema.namespaces.insert(new.clone());
        if let Some(c) = self.schema.namespace_comments.remove(&name) {
            self.schema.namespace_comments.insert(new.clone(), c);
        }
        // Default privileges in the schema follow it.
        let moved: Vec<DefaultPrivilegeKey> = self
            .schema
            .default_privileges
            .keys()
            .filter(|k| k.schema.as_deref() == Some(name.as_str()))
            .cloned()
            .collect();
        for key in moved {
            let grants = self
                .schema
                .default_privileges
                .remove(&key)
                .unwrap_or_default();
            let key = DefaultPrivilegeKey {
                schema: Some(new.clone()),
                ..key
            };
            self.schema.default_privileges.insert(key, grants);
        }
        // Everything in the schema moves; sequences move on their own below.
        let tables: Vec<QualifiedName> = self
            .schema
            .tables
            .keys()
            .filter(|n| n.schema == name)
            .cloned()
            .collect();
        for t in tables {
            let moved = QualifiedName::new(new.clone(), t.name.clone());
            self.move_table(&t, moved, false);
        }
        let sequences: Vec<QualifiedName> = self
            .schema
            .sequences
            .keys()
            .filter(|n| n.schema == name)
            .cloned()
            .collect();
        for s in sequences {
            let moved = QualifiedName::new(new.clone(), s.name.clone());
            self.move_sequence(&s, moved);
        }
        let enums: Vec<QualifiedName> = self
            .schema
            .enums
            .keys()
            .filter(|n| n.schema == name)
            .cloned()
            .collect();
        for e in enums {
            let moved = QualifiedName::new(new.clone(), e.name.clone());
            self.move_enum(&e, moved);
        }
        self.move_namespace_domains(&name, &new);
        self.move_functions_in(&name, &new);
        self.move_composite_types_of_schema(&name, &new);
        Ok(true)
    }
}

// ----- helpers ---------------------------------------------------------------------------

/// The schemas of `SET [SESSION | LOCAL] search_path ...` or of pg_dump's
/// `SELECT pg_catalog.set_config('search_path', '...', false)`; `None` for any other
/// statement.
fn search_path_setting(p: &StmtParser) -> Option<Vec<String>> {
    let words: Vec<&Token> = p.toks.iter().map(|t| &t.token).collect();
    let is_set = is_word(words.first()?, "set");
    if is_set {
        let mut i = 1;
        if words
            .get(i)
            .is_some_and(|t| is_word(t, "session") || is_word(t, "local"))
        {
            i += 1;
        }
        if !words.get(i).is_some_and(|t| is_word(t, "search_path")) {
            return None;
        }
        i += 1;
        if words
            .get(i)
            .is_some_and(|t| is_word(t, "to") || **t == Token::Eq)
        {
            i += 1;
        }
        let mut path = Vec::new();
        for t in &words[i..] {
            match t {
                Token::Word(w) if w.quote_style.is_some() => path.push(w.value.clone()),
                Token::Word(w) if w.value.eq_ignore_ascii_case("default") => {
                    return Some(Vec::new())
                }
                Token::Word(w) => path.push(w.value.to_lowercase()),
                Token::SingleQuotedString(s) => path.extend(
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty()),
                ),
                _ => {}
            }
        }
        return Some(path);
    }
    if !is_word(words.first()?, "select") {
        return None;
    }
    // set_config('search_path', 'a, b', false)
    let at = words
        .iter()
        .position(|t| matches!(t, Token::SingleQuotedString(s) if s == "search_path"))?;
    let value = words[at + 1..].iter().find_map(|t| match t {
        Token::SingleQuotedString(s) => Some(s.clone()),
        _ => None,
    })?;
    Some(
        value
            .split(',')
            .map(|x| x.trim().trim_matches('"').to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    )
}

fn drop_behavior(p: &mut StmtParser) -> Behavior {
    if p.eat_word("cascade") {
        Behavior::Cascade
    } else {
        p.eat_word("restrict");
        Behavior::Restrict
    }
}

/// Skips to the end of the current ALTER TABLE action (the next top-level `,`).
fn skip_action(p: &mut StmtParser) {
    let mut depth = 0i32;
    while let Some(t) = p.current() {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => return,
            _ => {}
        }
        p.pos += 1;
    }
}

/// The actions of an ALTER TABLE, split at top-level commas.
fn split_actions(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[start..]);
    out
}

/// Whether `replay_table_action` may answer "not modelled" for this action: ADD, DROP,
/// OWNER TO, VALIDATE, ALTER CONSTRAINT and the common ALTER COLUMN forms either apply
/// or fail.
fn may_be_unmodelled(action: &[Tok]) -> bool {
    let word = |i: usize| {
        action
            .get(i)
            .is_some_and(|t| matches!(t.token, Token::Word(_)))
    };
    let is = |i: usize, w: &str| action.get(i).is_some_and(|t| is_word(&t.token, w));
    if is(0, "add") || is(0, "drop") || is(0, "owner") || is(0, "validate") {
        return false;
    }
    if !is(0, "alter") {
        return true;
    }
    if is(1, "constraint") {
        return false;
    }
    // ALTER [COLUMN] name <sub-action>
    let sub = if is(1, "column") { 3 } else { 2 };
    if !word(sub - 1) {
        return true;
    }
    let known = is(sub, "type")
        || (is(sub, "set") && is(sub + 1, "data"))
        || (is(sub, "set") && is(sub + 1, "default"))
        || (is(sub, "set") && is(sub + 1, "not"))
        || (is(sub, "drop")
            && ["default", "not", "expression", "identity"]
                .iter()
                .any(|w| is(sub + 1, w)))
        || is(sub, "add");
    !known
}

/// Names in the relation namespace that a table brings: itself, its indexes, and the
/// indexes of its primary key, unique and exclusion constraints.
fn table_relations(t: &Table) -> Vec<String> {
    let mut out = vec![t.name.name.clone()];
    out.extend(t.indexes.iter().map(|i| i.name.clone()));
    out.extend(t.primary_key.iter().map(|k| k.name.clone()));
    out.extend(t.uniques.iter().map(|u| u.name.clone()));
    out.extend(t.exclusions.iter().map(|x| x.name.clone()));
    out
}

/// The column set of a unique, non-partial index on plain columns.
fn plain_unique_columns(idx: &Index) -> Option<BTreeSet<String>> {
    if !idx.unique || idx.predicate.is_some() {
        return None;
    }
    idx.keys
        .iter()
        .map(|k| match &k.target {
            IndexTarget::Column(c) => Some(c.clone()),
            IndexTarget::Expr(_) => None,
        })
        .collect()
}

/// Every key of a table a foreign key can reference: (name, column set).
fn unique_keys(t: &Table) -> Vec<(String, BTreeSet<String>)> {
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    if let Some(k) = &t.primary_key {
        out.push((k.name.clone(), k.columns.iter().cloned().collect()));
    }
    for u in &t.uniques {
        out.push((u.name.clone(), u.columns.iter().cloned().collect()));
    }
    for i in &t.indexes {
        if let Some(cols) = plain_unique_columns(i) {
            out.push((i.name.clone(), cols));
        }
    }
    out
}

/// Tokens of an expression, whitespace and comments included, so that it can be printed
/// back unchanged but for the tokens replaced.
fn expr_tokens(sql: &str, kind: DialectKind) -> Option<Vec<Token>> {
    Tokenizer::new(sql_dialect(kind), sql)
        .with_unescape(false)
        .tokenize()
        .ok()
}

fn is_space(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

/// The name a word token stands for: quoted as written, unquoted folded the way the
/// dialect folds identifiers.
fn word_name(t: &Token, kind: DialectKind) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_some() => Some(w.value.replace("\"\"", "\"")),
        Token::Word(w) => Some(match kind {
            DialectKind::Postgres => w.value.to_lowercase(),
            DialectKind::Sqlite => w.value.clone(),
        }),
        _ => None,
    }
}

fn same_name(found: &str, wanted: &str, kind: DialectKind) -> bool {
    match kind {
        DialectKind::Postgres => found == wanted,
        DialectKind::Sqlite => found.eq_ignore_ascii_case(wanted),
    }
}

/// Positions of the tokens that refer to column `column` of table `table`: a name that is
/// not a function (followed by `(`), not a type (after `::`), not a qualifier (followed by
/// `.`), and, when qualified, qualified by the table's own name.
fn column_positions(tokens: &[Token], table: &str, column: &str, kind: DialectKind) -> Vec<usize> {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !is_space(&tokens[i]))
        .collect();
    let mut out = Vec::new();
    for (k, &i) in significant.iter().enumerate() {
        let Some(name) = word_name(&tokens[i], kind) else {
            continue;
        };
        if !same_name(&name, column, kind) {
            continue;
        }
        let prev = k.checked_sub(1).map(|j| &tokens[significant[j]]);
        let next = significant.get(k + 1).map(|&j| &tokens[j]);
        if matches!(next, Some(Token::LParen) | Some(Token::Period)) {
            continue;
        }
        match prev {
            Some(Token::DoubleColon) => continue,
            Some(Token::Period) => {
                let qualifier = k
                    .checked_sub(2)
                    .and_then(|j| word_name(&tokens[significant[j]], kind));
                if !qualifier.is_some_and(|q| same_name(&q, table, kind)) {
                    continue;
                }
            }
            _ => {}
        }
        out.push(i);
    }
    out
}

/// Whether an expression of table `table` refers to `column`.
fn expr_mentions(sql: &str, table: &str, column: &str, kind: DialectKind) -> bool {
    expr_tokens(sql, kind)
        .is_some_and(|tokens| !column_positions(&tokens, table, column, kind).is_empty())
}

/// An identifier as it can be written in an expression: quoted unless it is a plain
/// lower-case name that is no key word.
fn expr_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let keyword =
        matches!(Token::make_word(name, None), Token::Word(w) if w.keyword != Keyword::NoKeyword);
    if plain && !keyword {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The expression with column `old` of `table` renamed to `new`; `None` when it does not
/// mention the column (or cannot be tokenised).
pub(super) fn rename_in_expr(
    sql: &str,
    table: &str,
    old: &str,
    new: &str,
    kind: DialectKind,
) -> Option<String> {
    let tokens = expr_tokens(sql, kind)?;
    let positions = column_positions(&tokens, table, old, kind);
    if positions.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if positions.contains(&i) {
            out.push_str(&expr_ident(new));
        } else {
            out.push_str(&t.to_string());
        }
    }
    Some(out)
}

/// For each `nextval('name')` of an expression: the position of its literal and the
/// sequence it names (unqualified names are in the default namespace, as the server
/// resolves them with the default search path).
fn nextval_literals(tokens: &[Token], default_ns: &str) -> Vec<(usize, QualifiedName)> {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !is_space(&tokens[i]))
        .collect();
    let mut out = Vec::new();
    for (k, &i) in significant.iter().enumerate() {
        let is_nextval = matches!(&tokens[i], Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("nextval"));
        if !is_nextval {
            continue;
        }
        let (Some(&open), Some(&lit)) = (significant.get(k + 1), significant.get(k + 2)) else {
            continue;
        };
        if tokens[open] != Token::LParen {
            continue;
        }
        let Token::SingleQuotedString(text) = &tokens[lit] else {
            continue;
        };
        let Some(parts) = crate::split_identifier(&text.replace("''", "'")) else {
            continue;
        };
        let name = match parts.as_slice() {
            [name] => QualifiedName::new(default_ns, name.clone()),
            [.., schema, name] => QualifiedName::new(schema.clone(), name.clone()),
            [] => continue,
        };
        out.push((lit, name));
    }
    out
}

/// The sequences an expression draws from with `nextval`.
fn nextval_targets(sql: &str, default_ns: &str, kind: DialectKind) -> Vec<QualifiedName> {
    expr_tokens(sql, kind)
        .map(|tokens| {
            nextval_literals(&tokens, default_ns)
                .into_iter()
                .map(|(_, n)| n)
                .collect()
        })
        .unwrap_or_default()
}

/// The expression with `nextval('old')` turned into `nextval('new')`; `None` when it does
/// not draw from `old`.
fn rename_nextval(
    sql: &str,
    old: &QualifiedName,
    new: &QualifiedName,
    default_ns: &str,
    kind: DialectKind,
) -> Option<String> {
    let tokens = expr_tokens(sql, kind)?;
    let hits: BTreeMap<usize, ()> = nextval_literals(&tokens, default_ns)
        .into_iter()
        .filter(|(_, n)| n == old)
        .map(|(i, _)| (i, ()))
        .collect();
    if hits.is_empty() {
        return None;
    }
    // Written the way the server prints a regclass: qualified outside the search path.
    let shown = if new.schema == default_ns {
        quote_pg(&new.name)
    } else {
        format!("{}.{}", quote_pg(&new.schema), quote_pg(&new.name))
    };
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if hits.contains_key(&i) {
            out.push_str(&format!("'{}'", shown.replace('\'', "''")));
        } else {
            out.push_str(&t.to_string());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: DialectKind = DialectKind::Postgres;

    /// Enough of PostgreSQL for the loader: the types as written, `makeObjectName`-like
    /// implicit names.
    struct Pg;

    impl Dialect for Pg {
        fn kind(&self) -> DialectKind {
            DialectKind::Postgres
        }
        fn default_namespace(&self) -> &'static str {
            "public"
        }
        fn canonical_type(&self, written: &str) -> String {
            written.to_string()
        }
        fn serial_type(&self, written: &str) -> Option<&'static str> {
            (written == "serial").then_some("integer")
        }
        fn implicit_name(&self, kind: ImplicitName, table: &str, columns: &[String]) -> String {
            let label = match kind {
                ImplicitName::PrimaryKey => return format!("{table}_pkey"),
                ImplicitName::Unique => "key",
                ImplicitName::Check => "check",
                ImplicitName::ForeignKey => "fkey",
                ImplicitName::Index => "idx",
                ImplicitName::Exclusion => "excl",
            };
            pg_object_name(table, &columns.join("_"), label)
        }
        fn plan(&self, _: &Schema, _: &Schema, _: &[Change]) -> Result<Plan, PlanError> {
            Ok(Plan::default())
        }
        fn render_schema(&self, _: &Schema) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    fn replay_loader(sql: &str) -> Loader<'static> {
        let mut loader = Loader::new(&Pg);
        loader.replay = true;
        if let Err(e) = loader.load(sql, "up.sql") {
            panic!("{e}");
        }
        loader
    }

    /// The relation names a schema holds, computed from scratch.
    fn relations_of(schema: &Schema) -> HashSet<(String, String)> {
        let mut out = HashSet::new();
        for t in schema.tables.values() {
            for r in table_relations(t) {
                out.insert((t.name.schema.clone(), r));
            }
        }
        for s in schema.sequences.keys() {
            out.insert((s.schema.clone(), s.name.clone()));
        }
        out
    }

    #[test]
    fn relation_names_follow_drops_renames_and_moves() {
        let loader = replay_loader(
            "CREATE SCHEMA s; CREATE SCHEMA z;
             CREATE TABLE a (id serial PRIMARY KEY, code text UNIQUE, n int);
             CREATE INDEX ON a (n);
             CREATE TABLE b (id int CONSTRAINT b_pk PRIMARY KEY, a_id int REFERENCES a);
             CREATE SEQUENCE q;
             ALTER TABLE a RENAME TO a2;
             ALTER TABLE a2 RENAME CONSTRAINT a_code_key TO a2_code_key;
             ALTER INDEX a_n_idx RENAME TO a2_n_idx;
             ALTER TABLE a2 SET SCHEMA s;
             ALTER SEQUENCE q RENAME TO q2;
             ALTER TABLE b DROP CONSTRAINT b_pk;
             ALTER TABLE s.a2 DROP COLUMN code;
             DROP INDEX s.a2_n_idx;
             ALTER SCHEMA s RENAME TO t;
             CREATE TABLE c (id serial, x int);
             CREATE UNIQUE INDEX c_x_idx ON c (x);
             ALTER TABLE c ADD CONSTRAINT c_x_key UNIQUE USING INDEX c_x_idx;
             DROP TABLE b;",
        );
        assert_eq!(loader.relation_names, relations_of(&loader.schema));
        assert!(loader.relation_exists("t", "a_id_seq"));
        assert!(loader.relation_exists("t", "a_pkey"));
        assert!(!loader.relation_exists("public", "a_id_seq"));
    }

    #[test]
    fn an_alter_table_with_an_unmodelled_action_changes_nothing() {
        let before = replay_loader("CREATE TABLE t (id serial PRIMARY KEY, n int);");
        for unmodelled in [
            "ALTER TABLE t ADD COLUMN m int, REPLICA IDENTITY DEFAULT",
            "ALTER TABLE t DROP COLUMN n, ALTER COLUMN id SET EXPRESSION AS (1)",
            "ALTER TABLE t ALTER COLUMN n TYPE bigint, REPLICA IDENTITY FULL",
        ] {
            let sql = format!("CREATE TABLE t (id serial PRIMARY KEY, n int); {unmodelled};");
            let after = replay_loader(&sql);
            assert_eq!(after.schema.tables, before.schema.tables, "{unmodelled}");
            assert_eq!(after.relation_names, before.relation_names, "{unmodelled}");
            assert_eq!(after.schema.opaque.len(), 1, "{unmodelled}");
        }
        let toks = |sql: &str| {
            split_statements(sql, "t.sql", PG).unwrap_or_default()[0]
                .tokens
                .clone()
        };
        let modelled = toks("ADD COLUMN a int, DROP COLUMN b, ALTER COLUMN c TYPE text USING f(c, 1), ALTER d DROP DEFAULT");
        assert!(split_actions(&modelled)
            .iter()
            .all(|a| !may_be_unmodelled(a)));
        assert_eq!(split_actions(&modelled).len(), 4);
        let other = toks("ALTER COLUMN c SET STATISTICS 10");
        assert!(may_be_unmodelled(&other));
    }

    #[test]
    fn search_path_settings() {
        let path = |sql: &str| {
            let stmts = split_statements(sql, "t.sql", PG).unwrap_or_default();
            let p = StmtParser {
                toks: &stmts[0].tokens,
                pos: 0,
                origin: "t.sql",
                kind: PG,
            };
            search_path_setting(&p)
        };
        assert_eq!(
            path("SET search_path TO app, public"),
            Some(vec!["app".to_string(), "public".to_string()])
        );
        assert_eq!(
            path("SET LOCAL search_path = \"$user\", public"),
            Some(vec!["$user".to_string(), "public".to_string()])
        );
        assert_eq!(
            path("SELECT pg_catalog.set_config('search_path', '', false)"),
            Some(vec![])
        );
        assert_eq!(path("SET statement_timeout = 0"), None);
        assert_eq!(path("SELECT 1"), None);
        // Replay keeps a path that starts elsewhere, and skips the harmless ones.
        let loader = replay_loader(
            "SET search_path TO public; SELECT pg_catalog.set_config('search_path', '', false);
             SET search_path = app, public;",
        );
        assert_eq!(loader.schema.opaque.len(), 1);
        assert_eq!(loader.schema.opaque[0].sql, "SET search_path = app, public");
    }

    #[test]
    fn temporary_relations_are_skipped() {
        let loader = replay_loader(
            "CREATE TABLE t (id int);
             CREATE TEMP TABLE t (x int); CREATE INDEX tmp_x ON t (x); ALTER TABLE t ADD y int;
             CREATE TEMPORARY SEQUENCE tmp_s; DROP SEQUENCE tmp_s; DROP INDEX tmp_x;
             DROP TABLE t;
             ALTER TABLE t ADD COLUMN z int;",
        );
        assert!(loader.schema.opaque.is_empty());
        let t = &loader.schema.tables[&QualifiedName::new("public", "t")];
        let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(columns, vec!["id", "z"]);
    }

    #[test]
    fn sequence_type_change_moves_the_old_types_minimum() {
        // Checked on PostgreSQL 15: `AS integer` on a descending smallint sequence takes
        // the new type's minimum even with NO MINVALUE and an ascending increment.
        let o = SequenceOptions {
            increment: Some(-1),
            ..Default::default()
        };
        let after = alter(
            o,
            "smallint",
            "integer",
            SequenceAlter {
                data_type: Some("integer".into()),
                increment: Some(1),
                min_value: Some(None),
                max_value: Some(Some(1000)),
                start: Some(1),
                ..Default::default()
            },
        );
        assert_eq!(after.min_value, Some(i32::MIN as i64));
        assert_eq!(after.max_value, Some(1000));
        assert_eq!(after.start, Some(1));
    }

    #[test]
    fn column_references_are_found_and_renamed() {
        assert!(expr_mentions("lower(email) <> ''", "t", "email", PG));
        assert!(!expr_mentions("note = 'email'", "t", "email", PG));
        assert!(!expr_mentions("email(x) > 0", "t", "email", PG));
        assert!(!expr_mentions("x::email", "t", "email", PG));
        assert!(!expr_mentions("other.email > 0", "t", "email", PG));
        assert!(expr_mentions("t.email > 0", "t", "email", PG));
        assert!(expr_mentions("\"Email\" > 0", "t", "Email", PG));
        assert!(!expr_mentions("\"Email\" > 0", "t", "email", PG));
        assert!(expr_mentions("EMAIL > 0", "t", "email", PG));
        assert_eq!(
            rename_in_expr(
                "lower(email) <> 'email' AND t.email IS NOT NULL",
                "t",
                "email",
                "mail",
                PG
            )
            .as_deref(),
            Some("lower(mail) <> 'email' AND t.mail IS NOT NULL")
        );
        assert_eq!(
            rename_in_expr("a > 0", "t", "a", "Order", PG).as_deref(),
            Some("\"Order\" > 0")
        );
        assert_eq!(
            rename_in_expr("a > 0", "t", "a", "select", PG).as_deref(),
            Some("\"select\" > 0")
        );
        assert_eq!(rename_in_expr("b > 0", "t", "a", "c", PG), None);
    }

    #[test]
    fn nextval_literals_follow_sequence_renames() {
        let old = QualifiedName::new("public", "t_id_seq");
        let new = QualifiedName::new("app", "t_id_seq");
        assert_eq!(
            rename_nextval("nextval('t_id_seq'::regclass)", &old, &new, "public", PG).as_deref(),
            Some("nextval('app.t_id_seq'::regclass)")
        );
        assert_eq!(
            rename_nextval("nextval('public.t_id_seq')", &old, &new, "public", PG).as_deref(),
            Some("nextval('app.t_id_seq')")
        );
        assert_eq!(
            rename_nextval("nextval('other')", &old, &new, "public", PG),
            None
        );
        assert_eq!(
            nextval_targets("nextval('\"Odd\"')", "public", PG),
            vec![QualifiedName::new("public", "Odd")]
        );
    }

    fn alter(o: SequenceOptions, from: &str, to: &str, a: SequenceAlter) -> SequenceOptions {
        altered_options(&o, from, to, &a)
    }

    #[test]
    fn sequence_alters_follow_postgres() {
        // Direction flip without NO MINVALUE: the old bounds stay and become explicit.
        let flipped = alter(
            SequenceOptions::default(),
            "bigint",
            "bigint",
            SequenceAlter {
                increment: Some(-1),
                ..Default::default()
            },
        );
        assert_eq!(flipped.min_value, Some(1));
        assert_eq!(flipped.max_value, Some(i64::MAX));
        assert_eq!(flipped.start, Some(1));
        // With NO MINVALUE NO MAXVALUE START WITH -1 (what the planner writes): defaults.
        let planned = alter(
            SequenceOptions::default(),
            "bigint",
            "bigint",
            SequenceAlter {
                increment: Some(-1),
                min_value: Some(None),
                max_value: Some(None),
                start: Some(-1),
                ..Default::default()
            },
        );
        assert_eq!(
            planned,
            SequenceOptions {
                increment: Some(-1),
                ..Default::default()
            }
        );
        // A type change moves bounds that were the old type's limits.
        let narrowed = alter(
            SequenceOptions::default(),
            "bigint",
            "integer",
            SequenceAlter {
                data_type: Some("integer".into()),
                ..Default::default()
            },
        );
        assert_eq!(narrowed, SequenceOptions::default());
        // An explicit bound stays.
        let kept = alter(
            SequenceOptions {
                max_value: Some(1000),
                ..Default::default()
            },
            "bigint",
            "integer",
            SequenceAlter {
                data_type: Some("integer".into()),
                ..Default::default()
            },
        );
        assert_eq!(kept.max_value, Some(1000));
    }
}
