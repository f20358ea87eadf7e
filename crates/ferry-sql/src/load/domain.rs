//! Domains (PostgreSQL): CREATE DOMAIN, ALTER DOMAIN, COMMENT ON DOMAIN.
//!
//! DROP DOMAIN, which only replay understands, is in `replay/domain.rs`.

use super::*;

/// One `[CONSTRAINT name] {NOT NULL | NULL | CHECK (expr)}` item of a domain.
enum DomainConstraint {
    NotNull(bool),
    Check(Option<String>, String),
}

impl Loader<'_> {
    /// `CREATE DOMAIN [IF NOT EXISTS] name [AS] type [COLLATE c] [DEFAULT e]
    /// [[CONSTRAINT n] {NOT NULL | NULL | CHECK (e)}]...`, after `CREATE DOMAIN`.
    pub(super) fn create_domain(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let if_not_exists = p.eat_words(&["if", "not", "exists"]);
        let at = p.here();
        let name = self.qualified(p)?;
        p.eat_word("as");
        let type_at = p.here();
        let written = p.type_name()?;
        if written.is_empty() {
            return Err(p.error_at(type_at, &format!("domain {name}: expected its data type")));
        }
        let mut domain = Domain::new(name.clone(), self.dialect.canonical_type(&written));
        let mut checks: Vec<(Option<String>, String)> = Vec::new();
        let (mut saw_null, mut saw_not_null) = (false, false);
        let mut default_given = false;
        loop {
            if p.eat_word("default") {
                default_given = true;
                let e_at = p.here();
                let e = p.expr_until_constraint()?;
                if let Err(why) = crate::expr::validate_default(&e, self.kind) {
                    return Err(p.error_at(e_at, &format!("invalid DEFAULT `{e}`: {why}")));
                }
                domain.default = (!e.eq_ignore_ascii_case("null")).then(|| expr(&e, self.kind));
            } else if p.eat_word("collate") {
                domain.collation = Some(p.collation()?).filter(|c| c != "default");
            } else if p.at_element_end() {
                break;
            } else {
                let c_at = p.here();
                match domain_constraint(p)? {
                    DomainConstraint::NotNull(true) => {
                        saw_not_null = true;
                        domain.not_null = true;
                    }
                    DomainConstraint::NotNull(false) => saw_null = true,
                    DomainConstraint::Check(n, e) => checks.push((n, e)),
                }
                if saw_null && saw_not_null {
                    return Err(p.error_at(
                        c_at,
                        &format!("domain {name}: conflicting NULL/NOT NULL constraints"),
                    ));
                }
            }
        }
        p.expect_end()?;
        if self.schema.domains.contains_key(&name)
            || self.schema.enums.contains_key(&name)
            || (self.replay && self.relation_exists(&name.schema, &name.name))
        {
            if if_not_exists {
                return Ok(true);
            }
            return Err(p.error_at(at, &format!("type {name} already exists")));
        }
        for (cname, e) in checks {
            self.add_domain_check(&mut domain, cname, &e)
                .map_err(|m| p.error_at(at, &m))?;
        }
        if let Some(base) = self.domain_of_type(&domain.data_type) {
            // PostgreSQL copies the base domain's default when none is given (DEFAULT
            // NULL removes it). A repeated collation is dropped when loading is done.
            if !default_given {
                domain.default = base.default.clone();
            }
        }
        self.schema.domains.insert(name, domain);
        Ok(true)
    }

    /// The domain a (canonical) column or domain type names, if it is one (arrays too).
    fn domain_of_type(&self, data_type: &str) -> Option<&Domain> {
        let name = type_name_of(data_type);
        self.schema
            .domains
            .values()
            .find(|d| self.user_type_names(&d.name).0 == name)
    }

    /// The collation a value of `data_type` gets from its domain (and the domains below
    /// it); `None` for the type's default collation.
    fn effective_collation(&self, data_type: &str) -> Option<String> {
        let mut t = data_type.to_string();
        for _ in 0..64 {
            let d = self.domain_of_type(&t)?;
            if d.collation.is_some() {
                return d.collation.clone();
            }
            t = d.data_type.clone();
        }
        None
    }

    /// A domain based on a domain, or a column of a domain type, whose COLLATE repeats the
    /// collation it inherits has none of its own, as the server sees it.
    pub(super) fn normalise_domain_collations(&mut self) {
        if self.schema.domains.is_empty() {
            return;
        }
        let repeated: Vec<QualifiedName> = self
            .schema
            .domains
            .values()
            .filter(|d| {
                d.collation.is_some()
                    && self.domain_of_type(&d.data_type).is_some()
                    && d.collation == self.effective_collation(&d.data_type)
            })
            .map(|d| d.name.clone())
            .collect();
        for n in repeated {
            if let Some(d) = self.schema.domains.get_mut(&n) {
                d.collation = None;
            }
        }
        let mut same: Vec<(QualifiedName, String)> = Vec::new();
        for t in self.schema.tables.values() {
            for c in &t.columns {
                if c.collation.is_some()
                    && self.domain_of_type(&c.data_type).is_some()
                    && c.collation == self.effective_collation(&c.data_type)
                {
                    same.push((t.name.clone(), c.name.clone()));
                }
            }
        }
        for (t, c) in same {
            if let Some(col) = self
                .schema
                .tables
                .get_mut(&t)
                .and_then(|t| t.column_mut(&c))
            {
                col.collation = None;
            }
        }
    }

    /// Adds a check, named as PostgreSQL names it when unnamed (`<domain>_check`, then
    /// `<domain>_check1`, ...). Err: the name is taken.
    fn add_domain_check(
        &self,
        domain: &mut Domain,
        name: Option<String>,
        text: &str,
    ) -> Result<(), String> {
        let taken = |n: &str| domain.checks.iter().any(|c| c.name == n);
        let name = match name {
            Some(n) if taken(&n) => {
                return Err(format!(
                    "constraint \"{n}\" for domain {} already exists",
                    domain.name
                ))
            }
            Some(n) => n,
            None => {
                let mut candidate = pg_object_name(&domain.name.name, "", "check");
                let mut n = 1;
                while taken(&candidate) {
                    candidate = pg_object_name(&domain.name.name, "", &format!("check{n}"));
                    n += 1;
                }
                candidate
            }
        };
        domain.checks.push(CheckConstraint {
            name,
            expr: expr(text, self.kind),
            no_inherit: false,
            comment: None,
        });
        domain.checks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(())
    }

    /// `ALTER DOMAIN name action`, after `ALTER DOMAIN` (also `ALTER TYPE` on a domain):
    /// defaults, NOT NULL, constraints, RENAME, SET SCHEMA. Ownership carries no schema.
    pub(super) fn alter_domain(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let at = p.here();
        let name = self.qualified(p)?;
        if p.eat_words(&["owner", "to"]) {
            p.ident()?;
            p.expect_end()?;
            return Ok(true);
        }
        let Some(mut domain) = self.schema.domains.get(&name).cloned() else {
            if self.replay && self.opaque_objects.contains(&name) {
                return Ok(false);
            }
            let message = if self.replay {
                format!("domain {name} does not exist")
            } else {
                format!("ALTER DOMAIN on unknown domain {name}: create it first")
            };
            return Err(p.error_at(at, &message));
        };
        if let Some((new, new_at)) = p.renamed_or_moved(&name)? {
            if new == name {
                return Ok(true);
            }
            if self.schema.domains.contains_key(&new) || self.schema.enums.contains_key(&new) {
                return Err(p.error_at(new_at, &format!("type {new} already exists")));
            }
            self.move_domain(&name, new);
            return Ok(true);
        }
        if p.eat_words(&["set", "default"]) {
            let e = p.expr_until_constraint()?;
            domain.default = (!e.eq_ignore_ascii_case("null")).then(|| expr(&e, self.kind));
        } else if p.eat_words(&["drop", "default"]) {
            domain.default = None;
        } else if p.eat_words(&["set", "not", "null"]) {
            domain.not_null = true;
        } else if p.eat_words(&["drop", "not", "null"]) {
            domain.not_null = false;
        } else if p.eat_word("add") {
            let c_at = p.here();
            match domain_constraint(p)? {
                DomainConstraint::NotNull(not_null) => domain.not_null |= not_null,
                DomainConstraint::Check(cname, e) => {
                    self.add_domain_check(&mut domain, cname, &e)
                        .map_err(|m| p.error_at(c_at, &m))?;
                }
            }
            p.eat_words(&["not", "valid"]);
        } else if p.eat_words(&["drop", "constraint"]) {
            let if_exists = p.eat_words(&["if", "exists"]);
            let c_at = p.here();
            let cname = p.ident()?;
            let _ = p.eat_word("restrict") || p.eat_word("cascade");
            let before = domain.checks.len();
            domain.checks.retain(|c| c.name != cname);
            if domain.checks.len() == before && !if_exists {
                return Err(p.error_at(
                    c_at,
                    &format!("constraint \"{cname}\" of domain {name} does not exist"),
                ));
            }
        } else if p.eat_words(&["rename", "constraint"]) {
            let c_at = p.here();
            let old = p.ident()?;
            p.expect_word("to")?;
            let new_at = p.here();
            let new = p.ident()?;
            if domain.checks.iter().any(|c| c.name == new) {
                return Err(p.error_at(
                    new_at,
                    &format!("constraint \"{new}\" for domain {name} already exists"),
                ));
            }
            let Some(c) = domain.checks.iter_mut().find(|c| c.name == old) else {
                return Err(p.error_at(
                    c_at,
                    &format!("constraint \"{old}\" of domain {name} does not exist"),
                ));
            };
            c.name = new;
            domain.checks.sort_by(|a, b| a.name.cmp(&b.name));
        } else if p.eat_words(&["validate", "constraint"]) {
            p.ident()?;
        } else {
            return Ok(false);
        }
        p.expect_end()?;
        self.schema.domains.insert(name, domain);
        Ok(true)
    }

    /// `COMMENT ON DOMAIN name IS ...`, after `COMMENT ON`.
    pub(super) fn comment_on_domain(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("domain")?;
        let at = p.here();
        let name = self.qualified(p)?;
        let text = p.comment_text()?;
        match self.schema.domains.get_mut(&name) {
            Some(d) => {
                d.comment = text;
                Ok(true)
            }
            None if self.replay && self.opaque_objects.contains(&name) => Ok(false),
            None => Err(p.error_at(at, &format!("COMMENT ON unknown domain {name}"))),
        }
    }

    /// The canonical column types of a user type `name` and of an array of it.
    pub(super) fn user_type_names(&self, name: &QualifiedName) -> (String, String) {
        let written = format!(
            "\"{}\".\"{}\"",
            name.schema.replace('"', "\"\""),
            name.name.replace('"', "\"\"")
        );
        let plain = self.dialect.canonical_type(&written);
        let array = format!("{plain}[]");
        (plain, array)
    }

    /// Renames or moves a domain; columns and domains of the type follow it.
    pub(super) fn move_domain(&mut self, old: &QualifiedName, new: QualifiedName) {
        let Some(mut d) = self.schema.domains.remove(old) else {
            return;
        };
        let (old_plain, old_array) = self.user_type_names(old);
        let (new_plain, new_array) = self.user_type_names(&new);
        d.name = new.clone();
        self.schema.domains.insert(new, d);
        let retype = |t: &mut String| {
            if *t == old_plain {
                *t = new_plain.clone();
            } else if *t == old_array {
                *t = new_array.clone();
            }
        };
        for t in self.schema.tables.values_mut() {
            for c in &mut t.columns {
                retype(&mut c.data_type);
            }
        }
        for d in self.schema.domains.values_mut() {
            retype(&mut d.data_type);
        }
    }
}

/// `[CONSTRAINT name] {NOT NULL | NULL | CHECK (expr)}`.
fn domain_constraint(p: &mut StmtParser) -> PResult<DomainConstraint> {
    let name = if p.eat_word("constraint") {
        Some(p.ident()?)
    } else {
        None
    };
    if p.eat_words(&["not", "null"]) {
        return Ok(DomainConstraint::NotNull(true));
    }
    if p.eat_word("null") {
        return Ok(DomainConstraint::NotNull(false));
    }
    if p.eat_word("check") {
        let e = p.paren_expr()?;
        if p.peek_words(&["no", "inherit"]) {
            return Err(p.error("CHECK constraints for domains cannot be marked NO INHERIT"));
        }
        return Ok(DomainConstraint::Check(name, e));
    }
    Err(p.unexpected("(expected NOT NULL, NULL, CHECK, DEFAULT or COLLATE in a domain)"))
}
