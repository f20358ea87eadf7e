//! PostgreSQL row level security and policies, extensions and composite types:
//! `CREATE POLICY`, `ALTER POLICY`, `DROP POLICY`, `ALTER TABLE ... ROW LEVEL SECURITY`,
//! `CREATE EXTENSION`, `ALTER EXTENSION`, `DROP EXTENSION`, `CREATE TYPE name AS (...)`,
//! `ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE`, and their `COMMENT ON` forms.

use super::*;

impl Loader<'_> {
    /// A table for a policy or an RLS switch: `Ok(None)` when it is an object ferry keeps
    /// opaque during replay.
    fn policy_table(&self, p: &mut StmtParser) -> PResult<Option<QualifiedName>> {
        let at = p.here();
        let name = self.resolve_table(self.qualified(p)?);
        if self.schema.tables.contains_key(&name) {
            return Ok(Some(name));
        }
        if self.replay && self.opaque_objects.contains(&name) {
            return Ok(None);
        }
        Err(p.error_at(
            at,
            &format!("policy on unknown table {name}: create the table first"),
        ))
    }

    /// `ENABLE | DISABLE | FORCE | NO FORCE ROW LEVEL SECURITY`, one action of ALTER TABLE.
    /// `Ok(false)` when the action is another one (nothing consumed).
    pub(super) fn row_security_action(
        &mut self,
        p: &mut StmtParser,
        table: &QualifiedName,
    ) -> PResult<bool> {
        const RLS: [&str; 3] = ["row", "level", "security"];
        let (enable, force) = if p.peek_word("enable") && p.peek_words_at(1, &RLS) {
            (Some(true), None)
        } else if p.peek_word("disable") && p.peek_words_at(1, &RLS) {
            (Some(false), None)
        } else if p.peek_word("force") && p.peek_words_at(1, &RLS) {
            (None, Some(true))
        } else if p.peek_words(&["no", "force"]) && p.peek_words_at(2, &RLS) {
            p.pos += 1;
            (None, Some(false))
        } else {
            return Ok(false);
        };
        p.pos += 4;
        if let Some(t) = self.schema.tables.get_mut(table) {
            if let Some(e) = enable {
                t.row_security = e;
            }
            if let Some(f) = force {
                t.force_row_security = f;
            }
        }
        Ok(true)
    }

    /// `CREATE POLICY name ON table [AS PERMISSIVE | RESTRICTIVE] [FOR cmd] [TO roles]
    /// [USING (expr)] [WITH CHECK (expr)]`, after `CREATE`.
    pub(super) fn create_policy(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("policy")?;
        let at = p.here();
        let name = p.ident()?;
        p.expect_word("on")?;
        let Some(table) = self.policy_table(p)? else {
            return Ok(false);
        };
        let mut policy = Policy::new(name.clone());
        if p.eat_word("as") {
            if p.eat_word("restrictive") {
                policy.permissive = false;
            } else if !p.eat_word("permissive") {
                return Err(p.unexpected("(expected PERMISSIVE or RESTRICTIVE)"));
            }
        }
        if p.eat_word("for") {
            policy.command = policy_command(p)?;
        }
        if p.eat_word("to") {
            policy.roles = role_list(p)?;
        }
        self.policy_clauses(p, &mut policy)?;
        p.expect_end()?;
        let t = self
            .schema
            .tables
            .get_mut(&table)
            .expect("policy_table checked the table");
        if t.policies.iter().any(|x| x.name == name) {
            return Err(p.error_at(
                at,
                &format!("policy {name} for table {table} already exists"),
            ));
        }
        let pos = t.policies.partition_point(|x| x.name < name);
        t.policies.insert(pos, policy);
        Ok(true)
    }

    /// `USING (expr)` and `WITH CHECK (expr)`, in either order.
    fn policy_clauses(&self, p: &mut StmtParser, policy: &mut Policy) -> PResult<()> {
        loop {
            if p.eat_word("using") {
                policy.using = Some(crate::view::expr_with_queries(&p.paren_expr()?));
            } else if p.eat_words(&["with", "check"]) {
                policy.with_check = Some(crate::view::expr_with_queries(&p.paren_expr()?));
            } else {
                return Ok(());
            }
        }
    }

    /// `ALTER POLICY [IF EXISTS] name ON table { RENAME TO new | [TO roles] [USING (..)]
    /// [WITH CHECK (..)] }`, after `ALTER`.
    pub(super) fn alter_policy(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("policy")?;
        let if_exists = p.eat_words(&["if", "exists"]);
        let at = p.here();
        let name = p.ident()?;
        p.expect_word("on")?;
        let Some(table) = self.policy_table(p)? else {
            return Ok(false);
        };
        let t = self
            .schema
            .tables
            .get_mut(&table)
            .expect("policy_table checked the table");
        let Some(idx) = t.policies.iter().position(|x| x.name == name) else {
            if if_exists {
                return Ok(true);
            }
            return Err(p.error_at(
                at,
                &format!("policy {name} for table {table} does not exist"),
            ));
        };
        let mut policy = t.policies.remove(idx);
        let result = (|| {
            if p.eat_words(&["rename", "to"]) {
                let new_at = p.here();
                let new = p.ident()?;
                p.expect_end()?;
                if t.policies.iter().any(|x| x.name == new) {
                    return Err(p.error_at(
                        new_at,
                        &format!("policy {new} for table {table} already exists"),
                    ));
                }
                policy.name = new;
                return Ok(());
            }
            if p.eat_word("to") {
                policy.roles = role_list(p)?;
            }
            loop {
                if p.eat_word("using") {
                    policy.using = Some(crate::view::expr_with_queries(&p.paren_expr()?));
                } else if p.eat_words(&["with", "check"]) {
                    policy.with_check = Some(crate::view::expr_with_queries(&p.paren_expr()?));
                } else {
                    break;
                }
            }
            p.expect_end()
        })();
        let pos = t.policies.partition_point(|x| x.name < policy.name);
        t.policies.insert(pos, policy);
        result.map(|()| true)
    }

    /// `DROP POLICY [IF EXISTS] name ON table [CASCADE | RESTRICT]`, after `DROP`.
    pub(super) fn drop_policy(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("policy")?;
        let if_exists = p.eat_words(&["if", "exists"]);
        let at = p.here();
        let name = p.ident()?;
        p.expect_word("on")?;
        let table_at = p.here();
        let table = self.resolve_table(self.qualified(p)?);
        let _ = p.eat_word("cascade") || p.eat_word("restrict");
        p.expect_end()?;
        let Some(t) = self.schema.tables.get_mut(&table) else {
            if self.opaque_objects.contains(&table) {
                return Ok(false);
            }
            if if_exists {
                return Ok(true);
            }
            return Err(p.error_at(table_at, &format!("table {table} does not exist")));
        };
        let before = t.policies.len();
        t.policies.retain(|x| x.name != name);
        if t.policies.len() == before && !if_exists {
            return Err(p.error_at(
                at,
                &format!("policy {name} for table {table} does not exist"),
            ));
        }
        Ok(true)
    }

    /// `COMMENT ON POLICY name ON table IS ...`, after `COMMENT ON`.
    pub(super) fn comment_on_policy(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("policy")?;
        let at = p.here();
        let name = p.ident()?;
        p.expect_word("on")?;
        let Some(table) = self.policy_table(p)? else {
            return Ok(false);
        };
        let text = comment_text(p)?;
        let t = self
            .schema
            .tables
            .get_mut(&table)
            .expect("policy_table checked the table");
        match t.policies.iter_mut().find(|x| x.name == name) {
            Some(policy) => {
                policy.comment = text;
                Ok(true)
            }
            None => Err(p.error_at(
                at,
                &format!("COMMENT ON unknown policy {name} for table {table}"),
            )),
        }
    }

    /// Replay of a column rename: the server rewrites the policies of the table that read
    /// the column.
    pub(super) fn rename_column_in_policies(
        &mut self,
        table: &QualifiedName,
        old: &str,
        new: &str,
    ) {
        let kind = self.kind;
        let Some(t) = self.schema.tables.get_mut(table) else {
            return;
        };
        let tname = t.name.name.clone();
        for p in &mut t.policies {
            for e in [&mut p.using, &mut p.with_check].into_iter().flatten() {
                if let Some(sql) = super::replay::rename_in_expr(&e.sql, &tname, old, new, kind) {
                    *e = crate::view::expr_with_queries(&sql);
                }
            }
        }
    }

    // ----- extensions --------------------------------------------------------------------

    /// `CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA s] [VERSION v] [CASCADE]`,
    /// after `CREATE`.
    pub(super) fn create_extension(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("extension")?;
        let if_not_exists = p.eat_words(&["if", "not", "exists"]);
        let at = p.here();
        let name = p.ident()?;
        p.eat_word("with");
        let mut schema = None;
        loop {
            if p.eat_word("schema") {
                schema = Some(p.ident()?);
            } else if p.eat_word("version") {
                if p.string_literal().is_err() {
                    p.ident()?;
                }
            } else if p.eat_word("from") {
                // Old PostgreSQL: upgrade from unpackaged objects.
                if p.string_literal().is_err() {
                    p.ident()?;
                }
            } else if !p.eat_word("cascade") {
                break;
            }
        }
        p.expect_end()?;
        if name == "plpgsql" {
            // Always there; never listed.
            return Ok(true);
        }
        if self.schema.extensions.contains_key(&name) {
            if if_not_exists {
                return Ok(true);
            }
            return Err(p.error_at(at, &format!("extension {name} already exists")));
        }
        let schema = schema.filter(|s| s != self.dialect.default_namespace());
        self.schema.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema,
                comment: None,
            },
        );
        Ok(true)
    }

    /// `ALTER EXTENSION name SET SCHEMA s | UPDATE [TO v]`, after `ALTER`. Other forms
    /// (ADD / DROP member) stay opaque.
    pub(super) fn alter_extension(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("extension")?;
        let at = p.here();
        let name = p.ident()?;
        if !self.schema.extensions.contains_key(&name) {
            return Err(p.error_at(at, &format!("extension {name} does not exist")));
        }
        if p.eat_words(&["set", "schema"]) {
            let schema = p.ident()?;
            p.expect_end()?;
            let default = self.dialect.default_namespace();
            if let Some(e) = self.schema.extensions.get_mut(&name) {
                e.schema = (schema != default).then_some(schema);
            }
            return Ok(true);
        }
        if p.eat_word("update") {
            // The version is not part of the schema.
            p.pos = p.toks.len();
            return Ok(true);
        }
        Ok(false)
    }

    /// `DROP EXTENSION [IF EXISTS] name [, ...] [CASCADE | RESTRICT]`, after `DROP`.
    pub(super) fn drop_extension(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("extension")?;
        let if_exists = p.eat_words(&["if", "exists"]);
        let mut names = Vec::new();
        loop {
            names.push((p.here(), p.ident()?));
            if !p.eat(&Token::Comma) {
                break;
            }
        }
        let _ = p.eat_word("cascade") || p.eat_word("restrict");
        p.expect_end()?;
        for (at, name) in names {
            if self.schema.extensions.remove(&name).is_none() && !if_exists && name != "plpgsql" {
                return Err(p.error_at(at, &format!("extension {name} does not exist")));
            }
        }
        Ok(true)
    }

    /// `COMMENT ON EXTENSION name IS ...`, after `COMMENT ON`.
    pub(super) fn comment_on_extension(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("extension")?;
        let at = p.here();
        let name = p.ident()?;
        let text = comment_text(p)?;
        match self.schema.extensions.get_mut(&name) {
            Some(e) => {
                e.comment = text;
                Ok(true)
            }
            None if name == "plpgsql" => Ok(true),
            None => Err(p.error_at(at, &format!("COMMENT ON unknown extension {name}"))),
        }
    }

    // ----- composite types ---------------------------------------------------------------

    /// `( attr type [COLLATE c], ... )` of `CREATE TYPE name AS`, at the `(`.
    pub(super) fn create_composite_type(
        &mut self,
        p: &mut StmtParser,
        at: (u64, u64),
        name: QualifiedName,
    ) -> PResult<bool> {
        let attributes = p.paren_list(|p| self.composite_attribute(p))?;
        p.expect_end()?;
        if self.schema.composite_types.contains_key(&name) || self.schema.enums.contains_key(&name)
        {
            return Err(p.error_at(at, &format!("type {name} already exists")));
        }
        self.relation_names
            .insert((name.schema.clone(), name.name.clone()));
        self.schema.composite_types.insert(
            name.clone(),
            CompositeType {
                name,
                attributes,
                comment: None,
                grants: ferry_core::type_default_grants(),
            },
        );
        Ok(true)
    }

    /// A composite type renamed or moved, with the columns and attributes of its type.
    fn move_composite_type(&mut self, old: &QualifiedName, new: QualifiedName) {
        let Some(mut ty) = self.schema.composite_types.remove(old) else {
            return;
        };
        let (old_plain, old_array) = self.user_type_names(old);
        let (new_plain, new_array) = self.user_type_names(&new);
        let retype = |t: &mut String| {
            if *t == old_plain {
                *t = new_plain.clone();
            } else if *t == old_array {
                *t = new_array.clone();
            }
        };
        ty.name = new.clone();
        self.relation_names
            .remove(&(old.schema.clone(), old.name.clone()));
        self.relation_names
            .insert((new.schema.clone(), new.name.clone()));
        self.schema.composite_types.insert(new, ty);
        for t in self.schema.tables.values_mut() {
            t.columns.iter_mut().for_each(|c| retype(&mut c.data_type));
        }
        for ty in self.schema.composite_types.values_mut() {
            ty.attributes
                .iter_mut()
                .for_each(|a| retype(&mut a.data_type));
        }
    }

    /// `ALTER SCHEMA old RENAME TO new` in replay: its composite types move along.
    pub(super) fn move_composite_types_of_schema(&mut self, old: &str, new: &str) {
        let names: Vec<QualifiedName> = self
            .schema
            .composite_types
            .keys()
            .filter(|n| n.schema == old)
            .cloned()
            .collect();
        for n in names {
            let moved = QualifiedName::new(new.to_string(), n.name.clone());
            self.move_composite_type(&n, moved);
        }
    }

    fn composite_attribute(&self, p: &mut StmtParser) -> PResult<CompositeAttribute> {
        let name = p.ident()?;
        let at = p.here();
        let written = p.type_name()?;
        if written.is_empty() {
            return Err(p.error_at(at, &format!("attribute {name} has no type")));
        }
        let collation = if p.eat_word("collate") {
            Some(p.collation()?)
        } else {
            None
        };
        Ok(CompositeAttribute {
            name,
            data_type: self.dialect.canonical_type(&written),
            collation: collation.filter(|c| c != "default"),
        })
    }

    /// `ALTER TYPE name ADD | DROP | ALTER ATTRIBUTE ...` (comma-separated) and
    /// `RENAME ATTRIBUTE a TO b` on a composite type, after `ALTER TYPE name`.
    /// `Ok(None)`: `name` is not a composite type.
    pub(super) fn alter_composite_type(
        &mut self,
        p: &mut StmtParser,
        name: &QualifiedName,
    ) -> PResult<Option<bool>> {
        let Some(mut ty) = self.schema.composite_types.get(name).cloned() else {
            return Ok(None);
        };
        if let Some((new, new_at)) = p.renamed_or_moved(name)? {
            if new == *name {
                return Ok(Some(true));
            }
            if self.schema.composite_types.contains_key(&new)
                || self.schema.enums.contains_key(&new)
                || self
                    .relation_names
                    .contains(&(new.schema.clone(), new.name.clone()))
            {
                return Err(p.error_at(new_at, &format!("type {new} already exists")));
            }
            self.move_composite_type(name, new);
            return Ok(Some(true));
        }
        if p.eat_words(&["rename", "attribute"]) {
            let at = p.here();
            let old = p.ident()?;
            p.expect_word("to")?;
            let new = p.ident()?;
            let _ = p.eat_word("cascade") || p.eat_word("restrict");
            p.expect_end()?;
            let Some(a) = ty.attributes.iter_mut().find(|a| a.name == old) else {
                return Err(p.error_at(
                    at,
                    &format!("attribute {old} of type {name} does not exist"),
                ));
            };
            a.name = new;
            self.schema.composite_types.insert(name.clone(), ty);
            return Ok(Some(true));
        }
        loop {
            if p.eat_words(&["add", "attribute"]) {
                let a = self.composite_attribute(p)?;
                ty.attributes.push(a);
            } else if p.eat_words(&["drop", "attribute"]) {
                let if_exists = p.eat_words(&["if", "exists"]);
                let at = p.here();
                let attr = p.ident()?;
                let before = ty.attributes.len();
                ty.attributes.retain(|a| a.name != attr);
                if before == ty.attributes.len() && !if_exists {
                    return Err(p.error_at(
                        at,
                        &format!("attribute {attr} of type {name} does not exist"),
                    ));
                }
            } else if p.eat_words(&["alter", "attribute"]) {
                let at = p.here();
                let attr = p.ident()?;
                let _ = p.eat_words(&["set", "data"]);
                p.expect_word("type")?;
                let written = p.type_name()?;
                let collation = if p.eat_word("collate") {
                    Some(p.collation()?)
                } else {
                    None
                };
                let Some(a) = ty.attributes.iter_mut().find(|a| a.name == attr) else {
                    return Err(p.error_at(
                        at,
                        &format!("attribute {attr} of type {name} does not exist"),
                    ));
                };
                a.data_type = self.dialect.canonical_type(&written);
                a.collation = collation.filter(|c| c != "default");
            } else {
                return Ok(Some(false));
            }
            let _ = p.eat_word("cascade") || p.eat_word("restrict");
            if !p.eat(&Token::Comma) {
                break;
            }
        }
        p.expect_end()?;
        self.schema.composite_types.insert(name.clone(), ty);
        Ok(Some(true))
    }
}

fn policy_command(p: &mut StmtParser) -> PResult<PolicyCommand> {
    for (w, c) in [
        ("all", PolicyCommand::All),
        ("select", PolicyCommand::Select),
        ("insert", PolicyCommand::Insert),
        ("update", PolicyCommand::Update),
        ("delete", PolicyCommand::Delete),
    ] {
        if p.eat_word(w) {
            return Ok(c);
        }
    }
    Err(p.unexpected("(expected ALL, SELECT, INSERT, UPDATE or DELETE)"))
}

/// `role [, ...]`: sorted names; `PUBLIC` among them makes the list just `public`, as the
/// server does.
fn role_list(p: &mut StmtParser) -> PResult<Vec<String>> {
    let mut roles = Vec::new();
    loop {
        roles.push(p.ident()?);
        if !p.eat(&Token::Comma) {
            break;
        }
    }
    if roles.iter().any(|r| r == "public") {
        return Ok(vec!["public".to_string()]);
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// `IS 'text' | IS NULL` and the end of the statement.
fn comment_text(p: &mut StmtParser) -> PResult<Option<String>> {
    let text = p.comment_text()?;
    Ok(text)
}
