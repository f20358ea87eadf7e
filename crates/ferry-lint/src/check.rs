//! The rules themselves: one pass over the statements of a file, keeping just enough state
//! to know which tables already held rows before the migration (from `before`), which were
//! created, renamed or dropped earlier in the file, whether `lock_timeout` is set, and
//! which tables had their rows copied elsewhere (a table rebuild).

use std::collections::{BTreeMap, BTreeSet};

use ferry_core::{DialectKind, Table};
use sqlparser::tokenizer::Token;

use crate::rules::*;
use crate::stmt::{Key, Span, Stmt};
use crate::LintInput;

/// A rule that fired, before severity and silencing are applied.
#[derive(Clone, Debug)]
pub(crate) struct Hit {
    pub(crate) rule: &'static str,
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
    pub(crate) hint: String,
}

/// A lock the statement takes on a table that may be in use.
struct Lock {
    table: Key,
    mode: &'static str,
}

/// What was copied out of a table by `INSERT INTO … SELECT … FROM t` or
/// `CREATE TABLE … AS SELECT … FROM t`.
enum Copied {
    /// `SELECT *`.
    All,
    /// The identifiers named in the select list: a superset of the columns copied.
    Names(BTreeSet<String>),
}

/// A `CHECK (col IS NOT NULL)` added in this file, which lets a later `SET NOT NULL` skip
/// its table scan once validated (PostgreSQL 12+).
struct NotNullCheck {
    table: Key,
    column: String,
    constraint: Option<String>,
    validated: bool,
}

/// Volatile built-in functions: a column default calling one of them is evaluated per
/// existing row, so ADD COLUMN rewrites the table even on PostgreSQL 11+. `now()` and
/// `CURRENT_TIMESTAMP` are STABLE, evaluated once, and are deliberately not here.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
];

const SERIAL_TYPES: &[&str] = &[
    "serial",
    "serial2",
    "serial4",
    "serial8",
    "smallserial",
    "bigserial",
];

pub(crate) struct Checker<'a> {
    kind: DialectKind,
    transactional: bool,
    /// Tables that held rows before this migration and, at this point of the file, still
    /// exist under this name. Tables created in the file are never here: they are empty and
    /// nobody else uses them yet.
    existing: BTreeMap<Key, &'a Table>,
    copied: BTreeMap<Key, Copied>,
    lock_timeout: bool,
    not_null_checks: Vec<NotNullCheck>,
    /// Columns added to existing tables earlier in the file: still empty, so dropping one
    /// loses nothing.
    added_columns: BTreeSet<(Key, String)>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(input: &LintInput<'a>) -> Self {
        let existing = input
            .before
            .tables
            .iter()
            .map(|(name, table)| {
                let key = Key {
                    schema: model_name(input.kind, &name.schema),
                    name: model_name(input.kind, &name.name),
                };
                (key, table)
            })
            .collect();
        Checker {
            kind: input.kind,
            transactional: input.transactional,
            existing,
            copied: BTreeMap::new(),
            lock_timeout: false,
            not_null_checks: Vec::new(),
            added_columns: BTreeSet::new(),
        }
    }

    fn pg(&self) -> bool {
        self.kind == DialectKind::Postgres
    }

    /// A name as messages show it: without the default schema.
    fn show(&self, key: &Key) -> String {
        let default = match self.kind {
            DialectKind::Postgres => "public",
            DialectKind::Sqlite => "main",
        };
        if key.schema == default {
            key.name.clone()
        } else {
            format!("{}.{}", key.schema, key.name)
        }
    }

    /// Checks one statement and updates the state for the ones after it.
    pub(crate) fn statement(&mut self, s: &Stmt) -> Vec<Hit> {
        let mut out = Vec::new();
        let mut locks = Vec::new();
        match s.kw(0) {
            Some("set") => self.set(s),
            Some("reset") if s.is(1, "lock_timeout") || s.is(1, "all") => {
                self.lock_timeout = false;
            }
            Some("select") => self.set_config(s),
            Some("begin" | "start" | "commit" | "end" | "rollback" | "abort") => {
                self.transaction_control(s, &mut out)
            }
            Some("create") => self.create(s, &mut out, &mut locks),
            Some("drop") => self.drop(s, &mut out, &mut locks),
            Some("alter") => self.alter(s, &mut out, &mut locks),
            Some("truncate") => self.truncate(s, &mut out, &mut locks),
            Some("delete" | "with") => self.delete(s, &mut out),
            Some("insert" | "replace") => {
                if let Some(sel) = s.find((0, s.len()), 0, "select") {
                    self.copy(s, sel);
                }
            }
            Some("vacuum") => self.not_in_transaction(s, "VACUUM", &mut out),
            Some("reindex") if self.pg() => {
                let span = (1, s.len());
                if s.find(span, 0, "concurrently").is_some() {
                    self.not_in_transaction(s, "REINDEX ... CONCURRENTLY", &mut out);
                } else if s.find(span, 0, "database").is_some()
                    || s.find(span, 0, "system").is_some()
                {
                    self.not_in_transaction(s, "REINDEX DATABASE / SYSTEM", &mut out);
                }
            }
            Some("pragma") if !self.pg() => self.pragma(s, &mut out),
            _ => {}
        }
        // One finding per statement is enough: the fix (a timeout before it) is the same.
        if self.pg() && !self.lock_timeout {
            if let Some(lock) = locks.first() {
                let (line, column) = s.pos(0);
                out.push(Hit {
                    rule: MISSING_LOCK_TIMEOUT,
                    line,
                    column,
                    message: format!(
                        "takes a lock in {} mode on existing table {} with no lock_timeout set before it in this file: \
                         while it waits behind a long-running query, every other query on the table queues behind it",
                        lock.mode,
                        self.show(&lock.table)
                    ),
                    hint: "start the file with `SET LOCAL lock_timeout = '5s';` (plain `SET` in a `-- ferry:no-transaction` file) \
                           and retry the migration when it times out"
                        .to_string(),
                });
            }
        }
        out
    }

    fn hit(&self, s: &Stmt, at: usize, rule: &'static str, message: String, hint: &str) -> Hit {
        let (line, column) = s.pos(at);
        Hit {
            rule,
            line,
            column,
            message,
            hint: hint.to_string(),
        }
    }

    fn not_in_transaction(&self, s: &Stmt, what: &str, out: &mut Vec<Hit>) {
        if !self.transactional {
            return;
        }
        out.push(self.hit(
            s,
            0,
            CONCURRENTLY_IN_TRANSACTION,
            format!(
                "{what} cannot run inside a transaction block, and ferry runs this migration in one: it will fail"
            ),
            "move it to its own migration whose first line is `-- ferry:no-transaction`",
        ));
    }

    // ---- session settings -------------------------------------------------------------

    /// `SET [SESSION | LOCAL] lock_timeout { TO | = } value`.
    fn set(&mut self, s: &Stmt) {
        let mut i = 1;
        s.eat(&mut i, &["session"]);
        let local = s.eat(&mut i, &["local"]);
        if !s.eat(&mut i, &["lock_timeout"]) {
            return;
        }
        if !s.eat(&mut i, &["to"]) && matches!(s.token(i), Some(Token::Eq)) {
            i += 1;
        }
        // SET LOCAL outside a transaction block does nothing (PostgreSQL only warns).
        if local && !self.transactional {
            return;
        }
        self.lock_timeout = !is_zero(s, i);
    }

    /// `SELECT set_config('lock_timeout', '5s', is_local)`.
    fn set_config(&mut self, s: &Stmt) {
        let Some(at) = (0..s.len()).find(|&i| s.is(i, "set_config")) else {
            return;
        };
        let is_str = |i: usize, v: &str| matches!(s.token(i), Some(Token::SingleQuotedString(x)) if x.eq_ignore_ascii_case(v));
        if !matches!(s.token(at + 1), Some(Token::LParen)) || !is_str(at + 2, "lock_timeout") {
            return;
        }
        if s.is(at + 6, "true") && !self.transactional {
            return;
        }
        self.lock_timeout = !is_zero(s, at + 4);
    }

    // ---- transactions -----------------------------------------------------------------

    fn transaction_control(&self, s: &Stmt, out: &mut Vec<Hit>) {
        if !self.transactional {
            return;
        }
        let word = s.kw(0).unwrap_or_default();
        let message = match word {
            "start" if !s.is(1, "transaction") => return,
            "begin" | "start" => match self.kind {
                DialectKind::Postgres => {
                    "BEGIN inside the transaction ferry runs this migration in is ignored with a warning, \
                     and the COMMIT that usually follows it ends ferry's transaction early"
                }
                DialectKind::Sqlite => {
                    "BEGIN inside the transaction ferry runs this migration in fails: \
                     cannot start a transaction within a transaction"
                }
            },
            "commit" | "end" => {
                "COMMIT ends the transaction ferry runs this migration in: the statements after it run \
                 outside any transaction, and a failure there leaves the migration half-applied"
            }
            _ => {
                // ROLLBACK TO [SAVEPOINT] stays inside the transaction and is fine.
                let mut i = 1;
                s.eat(&mut i, &["transaction"]);
                s.eat(&mut i, &["work"]);
                if s.is(i, "to") {
                    return;
                }
                "ROLLBACK undoes the transaction ferry runs this migration in: the statements after it run \
                 outside any transaction"
            }
        };
        out.push(self.hit(
            s,
            0,
            TRANSACTION_NESTING,
            message.to_string(),
            "remove it: ferry already wraps the file in a transaction; to manage transactions yourself, \
             start the file with `-- ferry:no-transaction`",
        ));
    }

    // ---- CREATE -----------------------------------------------------------------------

    fn create(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        let mut i = 1;
        s.eat(&mut i, &["or", "replace"]);
        let unique = s.eat(&mut i, &["unique"]);
        if s.is(i, "index") {
            return self.create_index(s, i + 1, out, locks);
        }
        if unique {
            return;
        }
        for modifier in ["global", "local", "temporary", "temp", "unlogged"] {
            s.eat(&mut i, &[modifier]);
        }
        if s.is(i, "table") {
            return self.create_table(s, i + 1, locks);
        }
        s.eat(&mut i, &["constraint"]);
        if s.is(i, "trigger") && self.pg() {
            // CREATE TRIGGER takes SHARE ROW EXCLUSIVE on its table: it blocks writes.
            if let Some(on) = s.find((i, s.len()), 0, "on") {
                let mut j = on + 1;
                if let Some(table) = s.name(&mut j) {
                    self.lock(&table, "SHARE ROW EXCLUSIVE", locks);
                }
            }
        } else if (s.is(i, "database") || s.is(i, "tablespace")) && self.pg() {
            let what = format!("CREATE {}", s.kw(i).unwrap_or_default().to_uppercase());
            self.not_in_transaction(s, &what, out);
        }
    }

    /// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table ...`,
    /// from just after INDEX.
    fn create_index(&mut self, s: &Stmt, mut i: usize, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        if !self.pg() {
            return;
        }
        let concurrently = s.eat(&mut i, &["concurrently"]);
        let Some(on) = s.find((i, s.len()), 0, "on") else {
            return;
        };
        let mut j = on + 1;
        // `ON ONLY parent` is the first step of indexing a partitioned table without
        // blocking: it only creates the (invalid) parent index, instantly; the partitions
        // are then indexed CONCURRENTLY and attached.
        let only = s.eat(&mut j, &["only"]);
        let Some(table) = s.name(&mut j) else {
            return;
        };
        if concurrently {
            self.not_in_transaction(s, "CREATE INDEX CONCURRENTLY", out);
            return;
        }
        if !self.existing.contains_key(&table) {
            return;
        }
        self.lock(&table, "SHARE", locks);
        if only {
            return;
        }
        out.push(self.hit(
            s,
            0,
            CREATE_INDEX_NON_CONCURRENTLY,
            format!(
                "CREATE INDEX on existing table {} without CONCURRENTLY blocks writes to it (INSERT, UPDATE, DELETE) \
                 until the index is built",
                self.show(&table)
            ),
            "use CREATE INDEX CONCURRENTLY, in its own migration whose first line is `-- ferry:no-transaction` \
             (it cannot run in a transaction)",
        ));
    }

    /// `CREATE TABLE [IF NOT EXISTS] name ...`, from just after TABLE.
    fn create_table(&mut self, s: &Stmt, mut i: usize, locks: &mut Vec<Lock>) {
        let if_not_exists = s.eat(&mut i, &["if", "not", "exists"]);
        let Some(table) = s.name(&mut i) else {
            return;
        };
        if self.pg() {
            self.references(s, (i, s.len()), locks);
        }
        if let Some(sel) = s.find((i, s.len()), 0, "select") {
            self.copy(s, sel);
        }
        if if_not_exists && self.existing.contains_key(&table) {
            // A no-op: the table and its rows stay.
            return;
        }
        self.existing.remove(&table);
        self.copied.remove(&table);
    }

    /// Every `REFERENCES t` in `span` locks `t` (SHARE ROW EXCLUSIVE) until commit.
    fn references(&self, s: &Stmt, span: Span, locks: &mut Vec<Lock>) {
        for r in span.0..span.1 {
            if s.is(r, "references") {
                let mut j = r + 1;
                if let Some(target) = s.name(&mut j) {
                    self.lock(&target, "SHARE ROW EXCLUSIVE", locks);
                }
            }
        }
    }

    fn lock(&self, table: &Key, mode: &'static str, locks: &mut Vec<Lock>) {
        if self.existing.contains_key(table) {
            locks.push(Lock {
                table: table.clone(),
                mode,
            });
        }
    }

    // ---- copies (table rebuilds) ------------------------------------------------------

    /// Records what `SELECT … FROM t` at `sel` copies out of an existing table `t`.
    fn copy(&mut self, s: &Stmt, sel: usize) {
        let Some(from) = s.find((sel + 1, s.len()), 0, "from") else {
            return;
        };
        let mut j = from + 1;
        let Some(source) = s.name(&mut j) else {
            return;
        };
        if !self.existing.contains_key(&source) {
            return;
        }
        // `*` selects everything when it stands for a column list (`SELECT *`, `, *`,
        // `t.*`), not when it multiplies.
        let star = (sel + 1..from).any(|k| {
            matches!(s.token(k), Some(Token::Mul))
                && (k == sel + 1 || matches!(s.token(k - 1), Some(Token::Comma | Token::Period)))
        });
        let names: BTreeSet<String> = (sel + 1..from)
            .filter_map(|k| s.ident(k).map(str::to_string))
            .collect();
        let entry = self
            .copied
            .entry(source)
            .or_insert_with(|| Copied::Names(BTreeSet::new()));
        match entry {
            Copied::All => {}
            Copied::Names(_) if star => *entry = Copied::All,
            Copied::Names(seen) => seen.extend(names),
        }
    }

    // ---- DROP -------------------------------------------------------------------------

    fn drop(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        match s.kw(1) {
            Some("table") => self.drop_table(s, out, locks),
            Some("index") if self.pg() => self.drop_index(s, out, locks),
            Some("schema") if self.pg() => self.drop_schema(s, out, locks),
            Some("database") if self.pg() => self.not_in_transaction(s, "DROP DATABASE", out),
            Some("tablespace") if self.pg() => self.not_in_transaction(s, "DROP TABLESPACE", out),
            _ => {}
        }
    }

    /// Comma-separated names from `i` (`a, s.b, c`).
    fn names(&self, s: &Stmt, mut i: usize) -> Vec<Key> {
        let mut out = Vec::new();
        loop {
            s.eat(&mut i, &["only"]);
            let Some(name) = s.name(&mut i) else { break };
            out.push(name);
            if matches!(s.token(i), Some(Token::Mul)) {
                i += 1;
            }
            if !matches!(s.token(i), Some(Token::Comma)) {
                break;
            }
            i += 1;
        }
        out
    }

    fn drop_table(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        let mut i = 2;
        s.eat(&mut i, &["if", "exists"]);
        let mut dropped = Vec::new();
        for key in self.names(s, i) {
            let Some(table) = self.existing.get(&key).copied() else {
                continue;
            };
            self.lock(&key, "ACCESS EXCLUSIVE", locks);
            match self.copied.remove(&key) {
                Some(Copied::All) => {}
                Some(Copied::Names(names)) => {
                    // A rebuild: the rows live on in the copy, but columns left out of it
                    // are gone. Generated columns are recomputed, never copied.
                    let lost: Vec<&str> = table
                        .columns
                        .iter()
                        .filter(|c| c.generated.is_none())
                        .filter(|c| !names.contains(&model_name(self.kind, &c.name)))
                        .map(|c| c.name.as_str())
                        .collect();
                    if !lost.is_empty() {
                        out.push(self.hit(
                            s,
                            0,
                            DROP_COLUMN,
                            format!(
                                "drops table {} after copying its rows, but not column(s) {}: their values are lost",
                                self.show(&key),
                                lost.join(", ")
                            ),
                            "copy every column that is still needed, or add \
                             `-- ferry:allow drop-column -- <reason>` if losing them is intended",
                        ));
                    }
                }
                None => dropped.push(self.show(&key)),
            }
            self.existing.remove(&key);
        }
        if !dropped.is_empty() {
            out.push(self.hit(
                s,
                0,
                DROP_TABLE,
                format!("drops existing table {} and every row in it", dropped.join(", ")),
                "drop a table only after no deployed code uses it and its data is backed up; \
                 add `-- ferry:allow drop-table -- <reason>` before the statement when that is the case",
            ));
        }
    }

    fn drop_index(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        let mut i = 2;
        let concurrently = s.eat(&mut i, &["concurrently"]);
        s.eat(&mut i, &["if", "exists"]);
        if concurrently {
            self.not_in_transaction(s, "DROP INDEX CONCURRENTLY", out);
            return;
        }
        for index in self.names(s, i) {
            let owner = self.existing.iter().find(|(key, table)| {
                key.schema == index.schema
                    && table
                        .indexes
                        .iter()
                        .any(|ix| model_name(self.kind, &ix.name) == index.name)
            });
            let Some((table, _)) = owner else { continue };
            out.push(self.hit(
                s,
                0,
                DROP_INDEX_NON_CONCURRENTLY,
                format!(
                    "DROP INDEX {} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on table {}, blocking reads and writes",
                    index.name,
                    self.show(table)
                ),
                "use DROP INDEX CONCURRENTLY, in its own migration whose first line is `-- ferry:no-transaction`",
            ));
            self.lock(&table.clone(), "ACCESS EXCLUSIVE", locks);
            // One finding per statement: the fix is the same for every index in it.
            break;
        }
    }

    fn drop_schema(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        let mut i = 2;
        s.eat(&mut i, &["if", "exists"]);
        // Without CASCADE a schema that still holds tables is not dropped: the statement fails.
        if s.find((i, s.len()), 0, "cascade").is_none() {
            return;
        }
        let schemas: Vec<String> = s
            .split_commas((i, s.len()), 0)
            .iter()
            .filter_map(|span| s.ident(span.0).map(str::to_string))
            .collect();
        let tables: Vec<Key> = self
            .existing
            .keys()
            .filter(|k| schemas.contains(&k.schema))
            .cloned()
            .collect();
        if tables.is_empty() {
            return;
        }
        let shown: Vec<String> = tables.iter().map(|t| self.show(t)).collect();
        out.push(self.hit(
            s,
            0,
            DROP_SCHEMA,
            format!(
                "DROP SCHEMA ... CASCADE drops existing table(s) {} and every row in them",
                shown.join(", ")
            ),
            "drop the tables explicitly, each after no deployed code uses it, or add \
             `-- ferry:allow drop-schema -- <reason>`",
        ));
        for t in tables {
            self.lock(&t, "ACCESS EXCLUSIVE", locks);
            self.existing.remove(&t);
        }
    }

    // ---- TRUNCATE, DELETE -------------------------------------------------------------

    fn truncate(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        let mut i = 1;
        s.eat(&mut i, &["table"]);
        let tables: Vec<Key> = self
            .names(s, i)
            .into_iter()
            .filter(|k| self.existing.contains_key(k))
            .collect();
        if tables.is_empty() {
            return;
        }
        let shown: Vec<String> = tables.iter().map(|t| self.show(t)).collect();
        let cascade = if s.find((i, s.len()), 0, "cascade").is_some() {
            ", and CASCADE also empties every table with a foreign key to it"
        } else {
            ""
        };
        out.push(self.hit(
            s,
            0,
            TRUNCATE_TABLE,
            format!(
                "TRUNCATE deletes every row of existing table {}{cascade}",
                shown.join(", ")
            ),
            "delete only the rows that must go (DELETE ... WHERE), or add \
             `-- ferry:allow truncate-table -- <reason>` when emptying the table is intended",
        ));
        for t in &tables {
            self.lock(t, "ACCESS EXCLUSIVE", locks);
        }
    }

    /// `[WITH ...] DELETE FROM [ONLY] t ...` without a WHERE of its own.
    fn delete(&mut self, s: &Stmt, out: &mut Vec<Hit>) {
        let Some(at) = s.find((0, s.len()), 0, "delete") else {
            return;
        };
        let mut i = at + 1;
        if !s.eat(&mut i, &["from"]) {
            return;
        }
        s.eat(&mut i, &["only"]);
        let Some(table) = s.name(&mut i) else {
            return;
        };
        if !self.existing.contains_key(&table) || s.find((i, s.len()), 0, "where").is_some() {
            return;
        }
        out.push(self.hit(
            s,
            at,
            DELETE_WITHOUT_WHERE,
            format!(
                "DELETE without WHERE deletes every row of existing table {}",
                self.show(&table)
            ),
            "add a WHERE clause for the rows that must go, or add \
             `-- ferry:allow delete-without-where -- <reason>` when emptying the table is intended",
        ));
    }

    // ---- ALTER ------------------------------------------------------------------------

    fn alter(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        if s.is(1, "table") {
            self.alter_table(s, out, locks);
        } else if s.is(1, "system") && self.pg() {
            self.not_in_transaction(s, "ALTER SYSTEM", out);
        }
    }

    fn alter_table(&mut self, s: &Stmt, out: &mut Vec<Hit>, locks: &mut Vec<Lock>) {
        let mut i = 2;
        s.eat(&mut i, &["if", "exists"]);
        s.eat(&mut i, &["only"]);
        let Some(key) = s.name(&mut i) else {
            return;
        };
        if matches!(s.token(i), Some(Token::Mul)) {
            i += 1;
        }
        let existing = self.existing.get(&key).copied();
        let mut takes_lock = false;
        for span in s.split_commas((i, s.len()), 0) {
            let action = s.kw(span.0).unwrap_or_default();
            match action {
                "add" => self.alter_add(s, span, &key, existing, out, locks),
                "drop" => self.alter_drop(s, span, &key, existing, out),
                "alter" => self.alter_column(s, span, &key, existing, out),
                "rename" => self.alter_rename(s, span, &key, existing, out),
                "validate" => {
                    if let Some(name) = s.ident(span.0 + 2) {
                        for c in &mut self.not_null_checks {
                            if c.table == key && c.constraint.as_deref() == Some(name) {
                                c.validated = true;
                            }
                        }
                    }
                }
                "detach" if self.pg() && s.find(span, 0, "concurrently").is_some() => {
                    self.not_in_transaction(
                        s,
                        "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY",
                        out,
                    );
                }
                _ => {}
            }
            // VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE, which blocks neither reads
            // nor writes; every other action takes ACCESS EXCLUSIVE (or close to it).
            if action != "validate" {
                takes_lock = true;
            }
        }
        if takes_lock && existing.is_some() {
            // After a RENAME the table is known under its new name; report the old one.
            locks.push(Lock {
                table: key,
                mode: "ACCESS EXCLUSIVE",
            });
        }
    }

    fn alter_add(
        &mut self,
        s: &Stmt,
        span: Span,
        table: &Key,
        existing: Option<&Table>,
        out: &mut Vec<Hit>,
        locks: &mut Vec<Lock>,
    ) {
        let mut j = span.0 + 1;
        let constraint_words = [
            "constraint",
            "primary",
            "unique",
            "check",
            "foreign",
            "exclude",
        ];
        if constraint_words.iter().any(|w| s.is(j, w)) {
            return self.add_constraint(s, span, table, existing, out, locks);
        }
        s.eat(&mut j, &["column"]);
        s.eat(&mut j, &["if", "not", "exists"]);
        let Some(column) = s.ident(j).map(str::to_string) else {
            return;
        };
        let rest = (j + 1, span.1);
        if self.pg() {
            self.references(s, rest, locks);
        }
        if existing.is_none() {
            return;
        }
        self.added_columns.insert((table.clone(), column.clone()));
        let shown = self.show(table);
        let not_null = s.find_seq(rest, 0, &["not", "null"]).is_some();
        let primary = s.find_seq(rest, 0, &["primary", "key"]).is_some();
        let default = s.find(rest, 0, "default");
        // `DEFAULT NULL` is no default as far as NOT NULL is concerned.
        let has_default = default.is_some_and(|d| !s.is(d + 1, "null"));
        let generated = s.find(rest, 0, "generated");
        let serial = s.kw(j + 1).is_some_and(|t| SERIAL_TYPES.contains(&t));

        if (not_null || primary) && !has_default && generated.is_none() && !serial {
            out.push(self.hit(
                s,
                span.0,
                ADDING_NOT_NULL_COLUMN,
                format!(
                    "adds NOT NULL column {column} without a DEFAULT to existing table {shown}: \
                     it fails as soon as the table has a row"
                ),
                "add the column with a DEFAULT, or add it nullable, backfill it, then make it NOT NULL",
            ));
        }
        if !self.pg() {
            return;
        }

        let volatile = if serial {
            Some("a serial type (its default, nextval(), is volatile)".to_string())
        } else if let Some(g) = generated {
            if s.find((g, span.1), 0, "identity").is_some() {
                Some("an identity (every existing row gets a value)".to_string())
            } else {
                Some("a stored generated expression".to_string())
            }
        } else if let Some(d) = default {
            VOLATILE_FUNCTIONS
                .iter()
                .find(|f| s.calls((d + 1, span.1), f))
                .map(|f| format!("DEFAULT {f}() (volatile: evaluated once per row)"))
        } else {
            None
        };
        if let Some(why) = volatile {
            out.push(self.hit(
                s,
                span.0,
                ADDING_VOLATILE_DEFAULT,
                format!(
                    "adds column {column} to existing table {shown} with {why}: PostgreSQL computes it for \
                     every existing row and rewrites the table under an ACCESS EXCLUSIVE lock"
                ),
                "add the column without it (nullable, or with a constant DEFAULT), set the default with \
                 ALTER COLUMN ... SET DEFAULT, and backfill existing rows in batches",
            ));
        }
        if primary || s.find(rest, 0, "unique").is_some() {
            out.push(self.hit(
                s,
                span.0,
                ADDING_UNIQUE,
                format!(
                    "adds column {column} with a UNIQUE or PRIMARY KEY constraint to existing table {shown}: \
                     its index is built under an ACCESS EXCLUSIVE lock, blocking reads and writes"
                ),
                "add the column plain, CREATE UNIQUE INDEX CONCURRENTLY on it (in a `-- ferry:no-transaction` \
                 migration), then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)",
            ));
        }
        if s.find(rest, 0, "check").is_some() {
            out.push(self.hit(
                s,
                span.0,
                ADDING_CHECK,
                format!(
                    "adds column {column} with a CHECK constraint to existing table {shown}: every row is \
                     checked under an ACCESS EXCLUSIVE lock"
                ),
                "add the column plain, then ADD CONSTRAINT ... CHECK (...) NOT VALID and VALIDATE CONSTRAINT \
                 it in a later statement",
            ));
        }
        if s.find(rest, 0, "references").is_some() {
            out.push(self.hit(
                s,
                span.0,
                ADDING_FOREIGN_KEY,
                format!(
                    "adds column {column} with a foreign key to existing table {shown}: every row is checked \
                     while writes to both tables are blocked"
                ),
                "add the column plain, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID and \
                 VALIDATE CONSTRAINT it in a later statement",
            ));
        }
    }

    fn add_constraint(
        &mut self,
        s: &Stmt,
        span: Span,
        table: &Key,
        existing: Option<&Table>,
        out: &mut Vec<Hit>,
        locks: &mut Vec<Lock>,
    ) {
        let mut j = span.0 + 1;
        let mut name = None;
        if s.eat(&mut j, &["constraint"]) {
            name = s.ident(j).map(str::to_string);
            j += 1;
        }
        let not_valid = s.find_seq(span, 0, &["not", "valid"]).is_some();
        let shown = self.show(table);
        let what = name
            .as_ref()
            .map(|n| format!("constraint {n}"))
            .unwrap_or_else(|| "a constraint".to_string());
        match s.kw(j) {
            Some("foreign") => {
                if self.pg() {
                    self.references(s, span, locks);
                }
                if self.pg() && existing.is_some() && !not_valid {
                    out.push(self.hit(
                        s,
                        span.0,
                        ADDING_FOREIGN_KEY,
                        format!(
                            "adds foreign key {what} to existing table {shown} without NOT VALID: every row is \
                             checked while writes to both tables are blocked"
                        ),
                        "add it with NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement \
                         (validation does not block writes)",
                    ));
                }
            }
            Some("check") => {
                if let Some(column) = not_null_check(s, (j + 1, span.1)) {
                    self.not_null_checks.push(NotNullCheck {
                        table: table.clone(),
                        column,
                        constraint: name.clone(),
                        validated: !not_valid,
                    });
                }
                if self.pg() && existing.is_some() && !not_valid {
                    out.push(self.hit(
                        s,
                        span.0,
                        ADDING_CHECK,
                        format!(
                            "adds CHECK {what} to existing table {shown} without NOT VALID: every row is \
                             checked under an ACCESS EXCLUSIVE lock, blocking reads and writes"
                        ),
                        "add it with NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement \
                         (validation does not block reads or writes)",
                    ));
                }
            }
            Some("unique" | "primary") => {
                let using_index = s.find_seq(span, 0, &["using", "index"]).is_some();
                if self.pg() && existing.is_some() && !using_index {
                    out.push(self.hit(
                        s,
                        span.0,
                        ADDING_UNIQUE,
                        format!(
                            "adds {} {what} to existing table {shown}: its index is built under an \
                             ACCESS EXCLUSIVE lock, blocking reads and writes",
                            if s.is(j, "primary") { "PRIMARY KEY" } else { "UNIQUE" }
                        ),
                        "CREATE UNIQUE INDEX CONCURRENTLY first (in a `-- ferry:no-transaction` migration), \
                         then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)",
                    ));
                }
            }
            _ => {}
        }
    }

    fn alter_drop(
        &mut self,
        s: &Stmt,
        span: Span,
        table: &Key,
        existing: Option<&Table>,
        out: &mut Vec<Hit>,
    ) {
        let mut j = span.0 + 1;
        if s.is(j, "constraint") || existing.is_none() {
            return;
        }
        s.eat(&mut j, &["column"]);
        s.eat(&mut j, &["if", "exists"]);
        let Some(column) = s.ident(j) else {
            return;
        };
        if self
            .added_columns
            .contains(&(table.clone(), column.to_string()))
        {
            return;
        }
        out.push(self.hit(
            s,
            span.0,
            DROP_COLUMN,
            format!(
                "drops column {column} of existing table {} and every value in it",
                self.show(table)
            ),
            "stop reading and writing the column in a deploy first, and back its data up; add \
             `-- ferry:allow drop-column -- <reason>` before the statement when that is done",
        ));
    }

    /// `ALTER [COLUMN] c SET NOT NULL | [SET DATA] TYPE t`.
    fn alter_column(
        &mut self,
        s: &Stmt,
        span: Span,
        table: &Key,
        existing: Option<&Table>,
        out: &mut Vec<Hit>,
    ) {
        let mut j = span.0 + 1;
        if s.is(j, "constraint") || !self.pg() {
            return;
        }
        s.eat(&mut j, &["column"]);
        let Some(column) = s.ident(j).map(str::to_string) else {
            return;
        };
        let Some(model) = existing else {
            return;
        };
        j += 1;
        let shown = self.show(table);
        if s.is_seq(j, &["set", "not", "null"]) && !self.has_not_null_check(table, model, &column) {
            out.push(self.hit(
                s,
                span.0,
                SETTING_NOT_NULL,
                format!(
                    "SET NOT NULL on column {column} of existing table {shown} scans every row under an \
                     ACCESS EXCLUSIVE lock, blocking reads and writes"
                ),
                "first ADD CONSTRAINT ... CHECK (column IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT it \
                 (which does not block writes); SET NOT NULL then skips the scan (PostgreSQL 12+), and the \
                 CHECK can be dropped after",
            ));
            return;
        }
        let type_at = if s.is(j, "type") {
            j + 1
        } else if s.is_seq(j, &["set", "data", "type"]) {
            j + 3
        } else {
            return;
        };
        if cheap_type_change(s, (type_at, span.1), model, self.kind, &column) {
            return;
        }
        out.push(self.hit(
            s,
            span.0,
            CHANGING_COLUMN_TYPE,
            format!(
                "changes the type of column {column} of existing table {shown}: PostgreSQL rewrites the table \
                 (and its indexes) under an ACCESS EXCLUSIVE lock, and running code may not expect the new type"
            ),
            "add a column of the new type, backfill it in batches, switch the application to it, then drop \
             the old one; widening varchar(n) or changing it to text needs no rewrite",
        ));
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` already exists, so SET NOT NULL
    /// needs no scan.
    fn has_not_null_check(&self, table: &Key, model: &Table, column: &str) -> bool {
        let wanted = format!("{}isnotnull", column.to_ascii_lowercase());
        let in_model = model.checks.iter().any(|c| compact(&c.expr.sql) == wanted);
        let in_file = self
            .not_null_checks
            .iter()
            .any(|c| &c.table == table && c.column == column && c.validated);
        in_model || in_file
    }

    fn alter_rename(
        &mut self,
        s: &Stmt,
        span: Span,
        table: &Key,
        existing: Option<&Table>,
        out: &mut Vec<Hit>,
    ) {
        let mut j = span.0 + 1;
        let shown = self.show(table);
        if s.eat(&mut j, &["to"]) {
            let Some(new_name) = s.ident(j).map(str::to_string) else {
                return;
            };
            let new_key = Key {
                schema: table.schema.clone(),
                name: new_name,
            };
            if let Some(model) = self.existing.remove(table) {
                self.existing.insert(new_key.clone(), model);
                if let Some(c) = self.copied.remove(table) {
                    self.copied.insert(new_key.clone(), c);
                }
            }
            if self.pg() && existing.is_some() {
                out.push(self.hit(
                    s,
                    span.0,
                    RENAMING_TABLE,
                    format!(
                        "renames existing table {shown} to {}: the application version still running during \
                         and after the deploy uses the old name and fails",
                        self.show(&new_key)
                    ),
                    "deploy code that no longer uses the old name first (e.g. through an updatable view \
                     named after the new one), or add `-- ferry:allow renaming-table -- <reason>` when nothing \
                     uses the table during the deploy",
                ));
            }
            return;
        }
        if s.is(j, "constraint") || !self.pg() || existing.is_none() {
            return;
        }
        s.eat(&mut j, &["column"]);
        let Some(column) = s.ident(j) else {
            return;
        };
        let to = s.ident(j + 2).unwrap_or("?");
        out.push(self.hit(
            s,
            span.0,
            RENAMING_COLUMN,
            format!(
                "renames column {column} of existing table {shown} to {to}: the application version still \
                 running during and after the deploy uses the old name and fails"
            ),
            "add the new column, write to both, backfill, move reads, then drop the old one; or add \
             `-- ferry:allow renaming-column -- <reason>` when nothing uses the column during the deploy",
        ));
    }

    // ---- SQLite -----------------------------------------------------------------------

    /// `PRAGMA journal_mode = …` fails inside a transaction. (`PRAGMA foreign_keys` is a
    /// silent no-op there, but ferry's SQLite runner turns foreign keys off around every
    /// transactional migration itself, and generated rebuilds carry the PRAGMAs for
    /// readers: flagging them would fail every generated rebuild.)
    fn pragma(&self, s: &Stmt, out: &mut Vec<Hit>) {
        let mut i = 1;
        let Some(_) = s.name(&mut i) else { return };
        let name = s.kw(i - 1).unwrap_or_default();
        let sets = matches!(s.token(i), Some(Token::Eq | Token::LParen));
        if !self.transactional || !sets {
            return;
        }
        if name == "journal_mode" {
            self.not_in_transaction(s, "PRAGMA journal_mode", out);
        }
    }
}

/// A model name normalised like [`Key`]s: SQLite compares names case-insensitively.
pub(crate) fn model_name(kind: DialectKind, name: &str) -> String {
    match kind {
        DialectKind::Postgres => name.to_string(),
        DialectKind::Sqlite => name.to_ascii_lowercase(),
    }
}

/// Whether the setting value at `i` turns the timeout off (`0`, `'0'`, `'0s'`, DEFAULT).
fn is_zero(s: &Stmt, i: usize) -> bool {
    let text = match s.token(i) {
        Some(Token::Number(n, _)) => n.clone(),
        Some(Token::SingleQuotedString(v)) => v.clone(),
        Some(Token::Word(w)) => return w.value.eq_ignore_ascii_case("default"),
        _ => return false,
    };
    let digits: String = text
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse::<u64>().is_ok_and(|v| v == 0)
}

/// `(col IS NOT NULL)` in `span` (the tokens after CHECK): the column, if that is all it is.
fn not_null_check(s: &Stmt, span: Span) -> Option<String> {
    let words: Vec<usize> = (span.0..span.1.min(s.len()))
        .filter(|&i| !matches!(s.token(i), Some(Token::LParen | Token::RParen)))
        .collect();
    // The constraint may end with NOT VALID / NO INHERIT; only the parenthesised part counts.
    let [col, is, not, null, ..] = words.as_slice() else {
        return None;
    };
    let inside = s.toks[*col].depth > 0;
    (inside && s.is(*is, "is") && s.is(*not, "not") && s.is(*null, "null"))
        .then(|| s.ident(*col).map(str::to_string))
        .flatten()
}

/// Lower case, without whitespace, quotes and parentheses: `("email" IS NOT NULL)` →
/// `emailisnotnull`.
fn compact(sql: &str) -> String {
    sql.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '"' | '(' | ')'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Type changes PostgreSQL does without a rewrite that are worth recognising: within the
/// varchar/text family, to a type at least as wide.
fn cheap_type_change(s: &Stmt, span: Span, model: &Table, kind: DialectKind, column: &str) -> bool {
    let Some(col) = model
        .columns
        .iter()
        .find(|c| model_name(kind, &c.name) == column)
    else {
        return false;
    };
    // A USING expression computes new values: always a rewrite.
    if s.find(span, 0, "using").is_some() {
        return false;
    }
    let new: String = (span.0..span.1.min(s.len()))
        .take_while(|&i| !s.is(i, "collate"))
        .map(|i| s.token(i).map(|t| t.to_string()).unwrap_or_default())
        .collect::<String>()
        .to_ascii_lowercase();
    let new = new.replace("charactervarying", "varchar");
    let old: String = col
        .data_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
        .replace("charactervarying", "varchar");
    let width = |t: &str| -> Option<Option<u64>> {
        if t == "text" || t == "varchar" {
            return Some(None);
        }
        let n = t
            .strip_prefix("varchar")?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        n.parse().ok().map(Some)
    };
    match (width(&old), width(&new)) {
        // To text or unbounded varchar: never a rewrite.
        (Some(_), Some(None)) => true,
        (Some(Some(old)), Some(Some(new))) => new >= old,
        _ => false,
    }
}
