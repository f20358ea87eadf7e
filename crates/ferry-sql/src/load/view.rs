//! Views and materialized views (PostgreSQL): CREATE, ALTER ... RENAME, DROP, COMMENT ON.
//!
//! The query is kept as written; its normalised key, outputs and references are computed
//! once every file is loaded (`crate::view::resolve_views`), because a view may read tables
//! declared in a later file.

use super::*;

impl Loader<'_> {
    /// `CREATE [OR REPLACE] [MATERIALIZED] VIEW name [(cols)] [WITH (...)] AS query
    /// [WITH [CASCADED | LOCAL] CHECK OPTION | WITH [NO] DATA]`, after `CREATE [OR REPLACE]`.
    /// `Ok(false)` (opaque) for forms ferry does not model (`RECURSIVE`, `TEMP`, `USING`,
    /// `TABLESPACE`).
    pub(super) fn create_view(&mut self, p: &mut StmtParser, or_replace: bool) -> PResult<bool> {
        let materialized = p.eat_word("materialized");
        p.expect_word("view")?;
        let if_not_exists = materialized && p.eat_words(&["if", "not", "exists"]);
        let at = p.here();
        let name = self.qualified(p)?;
        let columns = if p.peek(&Token::LParen) {
            p.paren_list(|p| p.ident())?
        } else {
            Vec::new()
        };
        if p.peek_word("using") || p.peek_word("tablespace") {
            return Ok(false);
        }
        let mut options = if p.eat_word("with") {
            p.storage_params()?
        } else {
            Vec::new()
        };
        if p.peek_word("tablespace") {
            return Ok(false);
        }
        p.expect_word("as")?;
        // The trailing clauses are not part of the query.
        let mut end = p.toks.len();
        let words_at = |from: usize| -> Vec<String> {
            p.toks[from..]
                .iter()
                .map(|t| match &t.token {
                    Token::Word(w) if w.quote_style.is_none() => w.value.to_lowercase(),
                    other => other.to_string(),
                })
                .collect()
        };
        for len in [4, 3, 2] {
            if end < p.pos + len {
                continue;
            }
            let tail = words_at(end - len);
            let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
            let check = match tail.as_slice() {
                ["with", "local", "check", "option"] => Some("local"),
                ["with", "cascaded", "check", "option"] | ["with", "check", "option"] => {
                    Some("cascaded")
                }
                _ => None,
            };
            if let Some(c) = check {
                if materialized {
                    return Err(p.error("a materialized view has no CHECK OPTION"));
                }
                options.retain(|o| !o.starts_with("check_option="));
                options.push(format!("check_option={c}"));
                end -= len;
                break;
            }
            // Whether a materialized view is populated is data, not schema.
            if materialized && matches!(tail.as_slice(), ["with", "no", "data"] | ["with", "data"])
            {
                end -= len;
                break;
            }
        }
        options.sort();
        let query_sql = render(&p.toks[p.pos..end]);
        p.pos = p.toks.len();
        if query_sql.is_empty() {
            return Err(p.error_at(at, &format!("view {name} has no query")));
        }
        if let Some(old) = self.schema.views.get(&name) {
            if if_not_exists {
                return Ok(true);
            }
            if !or_replace || old.materialized || materialized {
                return Err(p.error_at(at, &format!("relation {name} already exists")));
            }
        } else if self.schema.tables.contains_key(&name)
            || self.schema.sequences.contains_key(&name)
        {
            return Err(p.error_at(at, &format!("relation {name} already exists")));
        }
        let mut view = View::new(
            name.clone(),
            Expr {
                sql: query_sql,
                // Filled in by `resolve_views` when loading is done.
                key: String::new(),
            },
        );
        view.materialized = materialized;
        view.columns = columns;
        view.options = options;
        // CREATE OR REPLACE keeps the comments and (materialized) indexes.
        if let Some(old) = self.schema.views.remove(&name) {
            view.comment = old.comment;
            view.column_comments = old.column_comments;
            view.indexes = old.indexes;
        }
        self.relation_names
            .insert((name.schema.clone(), name.name.clone()));
        self.schema.views.insert(name, view);
        Ok(true)
    }

    /// `ALTER [MATERIALIZED] VIEW [IF EXISTS] name RENAME TO new`, after `ALTER`. Ownership
    /// changes carry no schema; other forms stay opaque.
    pub(super) fn alter_view(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let materialized = p.eat_word("materialized");
        p.expect_word("view")?;
        let if_exists = p.eat_words(&["if", "exists"]);
        let at = p.here();
        let name = self.qualified(p)?;
        if p.eat_words(&["rename", "to"]) {
            let new_name = QualifiedName::new(name.schema.clone(), p.ident()?);
            p.expect_end()?;
            let Some(mut view) = self.schema.views.remove(&name) else {
                if if_exists {
                    return Ok(true);
                }
                if self.replay && self.opaque_objects.contains(&name) {
                    return Ok(false);
                }
                return Err(p.error_at(at, &format!("view {name} does not exist")));
            };
            if view.materialized != materialized {
                self.schema.views.insert(name.clone(), view);
                return Err(p.error_at(
                    at,
                    &format!(
                        "{name} is not a {}view",
                        if materialized { "materialized " } else { "" }
                    ),
                ));
            }
            self.relation_names
                .remove(&(name.schema.clone(), name.name.clone()));
            self.relation_names
                .insert((new_name.schema.clone(), new_name.name.clone()));
            view.name = new_name.clone();
            self.move_triggers(&name, &new_name);
            self.schema.views.insert(new_name, view);
            return Ok(true);
        }
        let rest = p.rest_words();
        Ok(rest.first().map(String::as_str) == Some("owner"))
    }

    /// `COMMENT ON [MATERIALIZED] VIEW name IS ...`, after `COMMENT ON`.
    pub(super) fn comment_on_view(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.eat_word("materialized");
        p.expect_word("view")?;
        let at = p.here();
        let name = self.qualified(p)?;
        let text = p.comment_text()?;
        match self.schema.views.get_mut(&name) {
            Some(v) => {
                v.comment = text;
                Ok(true)
            }
            None if self.replay && self.opaque_objects.contains(&name) => Ok(false),
            None => Err(p.error_at(at, &format!("COMMENT ON unknown view {name}"))),
        }
    }

    /// Views that read any of `names`, and the views that read those, transitively.
    pub(super) fn dependent_views(&self, names: &[QualifiedName]) -> Vec<QualifiedName> {
        let known: BTreeSet<QualifiedName> = self
            .schema
            .tables
            .keys()
            .chain(self.schema.views.keys())
            .cloned()
            .collect();
        let mut found: Vec<QualifiedName> = Vec::new();
        let mut frontier: Vec<QualifiedName> = names.to_vec();
        while let Some(n) = frontier.pop() {
            for v in self.schema.views.values() {
                if found.contains(&v.name) || names.contains(&v.name) {
                    continue;
                }
                if crate::view::references(&v.query.sql, &known).contains(&n) {
                    found.push(v.name.clone());
                    frontier.push(v.name.clone());
                }
            }
        }
        found
    }

    pub(super) fn remove_view(&mut self, name: &QualifiedName) {
        if let Some(v) = self.schema.views.remove(name) {
            self.forget_triggers(name);
            self.relation_names
                .remove(&(name.schema.clone(), name.name.clone()));
            for idx in v.indexes {
                self.relation_names.remove(&(name.schema.clone(), idx.name));
            }
        }
    }
}
