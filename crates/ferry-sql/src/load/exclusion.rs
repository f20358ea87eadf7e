//! Exclusion constraints (PostgreSQL): `EXCLUDE [USING method] (element WITH operator, ...)
//! [INCLUDE (...)] [WITH (...)] [USING INDEX TABLESPACE t] [WHERE (predicate)]
//! [DEFERRABLE ...]`, in CREATE TABLE and ALTER TABLE ADD, and the same text read back from
//! `pg_get_constraintdef` by the inspector ([`exclusion_constraint`]).
//!
//! Naming (`<table>_<columns>_excl`) is done with the other constraints in `add_constraint`.

use super::*;

impl Loader<'_> {
    /// After `EXCLUDE`: the constraint without its name.
    pub(super) fn exclusion(&mut self, p: &mut StmtParser) -> PResult<ExclusionConstraint> {
        if self.kind != DialectKind::Postgres {
            return Err(p.error("EXCLUDE constraints are PostgreSQL only"));
        }
        let method = if p.eat_word("using") {
            p.ident()?.to_lowercase()
        } else {
            "btree".to_string()
        };
        let elements = p.paren_list(|p| {
            let key = self.index_key(p)?;
            p.expect_word("with")?;
            let operator = operator(p)?;
            Ok(ExclusionElement { key, operator })
        })?;
        let include = if p.eat_word("include") {
            p.paren_list(|p| p.ident())?
        } else {
            Vec::new()
        };
        // Storage parameters and the index's tablespace are not part of the model.
        p.skip_index_params();
        let predicate = if p.eat_word("where") {
            Some(expr(&p.paren_expr()?, self.kind))
        } else {
            None
        };
        let deferrable = p.deferrable();
        Ok(ExclusionConstraint {
            name: String::new(),
            method,
            elements,
            include,
            predicate,
            deferrable,
            comment: None,
        })
    }
}

/// The columns an implicit name is made of: each element's column (an expression's
/// function name, else `expr`) and the INCLUDE columns, as PostgreSQL's
/// `ChooseIndexColumnNames` does for an index.
pub(super) fn name_columns<'k>(
    keys: impl Iterator<Item = &'k IndexKey>,
    include: &[String],
) -> Vec<String> {
    keys.map(|k| match &k.target {
        IndexTarget::Column(c) => c.clone(),
        IndexTarget::Expr(e) => function_name(&e.sql).unwrap_or_else(|| "expr".to_string()),
    })
    .chain(include.iter().cloned())
    .collect()
}

/// The operator after `WITH`: the tokens up to the element's end, as one word.
fn operator(p: &mut StmtParser) -> PResult<String> {
    let start = p.pos;
    let mut depth = 0;
    while let Some(t) = p.current() {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen | Token::Comma if depth == 0 => break,
            Token::RParen => depth -= 1,
            _ => {}
        }
        p.pos += 1;
    }
    if p.pos == start {
        return Err(p.unexpected("(expected an operator after WITH)"));
    }
    let text: String = p.toks[start..p.pos]
        .iter()
        .map(|t| t.token.to_string())
        .collect();
    Ok(canonical_operator(&text))
}

/// `OPERATOR(pg_catalog.=)` is `=`, as PostgreSQL prints an operator its search path finds
/// (ferry inspects with `public` on it); other schemas keep the `OPERATOR(s.op)` form.
fn canonical_operator(text: &str) -> String {
    let inner = text
        .get(..9)
        .filter(|head| head.eq_ignore_ascii_case("operator("))
        .and_then(|_| text[9..].strip_suffix(')'));
    let Some(inner) = inner else {
        return text.to_string();
    };
    match inner.rsplit_once('.') {
        Some((schema, op)) => {
            let schema = if schema.starts_with('"') {
                schema.to_string()
            } else {
                schema.to_lowercase()
            };
            if schema == "pg_catalog" || schema == "public" {
                op.to_string()
            } else {
                format!("OPERATOR({schema}.{op})")
            }
        }
        None => inner.to_string(),
    }
}

/// An exclusion constraint from the catalog (`pg_get_constraintdef`: `EXCLUDE USING gist
/// (during WITH &&)`), parsed by the loader's code so that files and databases agree.
pub fn exclusion_constraint(
    definition: &str,
    dialect: &dyn Dialect,
) -> Result<ExclusionConstraint, LoadError> {
    let sql = format!("CREATE TABLE ferry_exclusion (CONSTRAINT ferry_exclusion {definition})");
    let schema = load_str(&sql, "pg_get_constraintdef", dialect)?;
    schema
        .tables
        .into_values()
        .next()
        .and_then(|mut t| t.exclusions.pop())
        .ok_or_else(|| LoadError {
            file: "pg_get_constraintdef".into(),
            line: 0,
            column: 0,
            message: format!("cannot read the exclusion constraint {definition}"),
        })
}

#[cfg(test)]
mod tests {
    use super::canonical_operator;

    #[test]
    fn operators_are_printed_as_postgresql_does() {
        assert_eq!(canonical_operator("&&"), "&&");
        assert_eq!(canonical_operator("OPERATOR(pg_catalog.=)"), "=");
        assert_eq!(canonical_operator("operator(PUBLIC.&&)"), "&&");
        assert_eq!(canonical_operator("OPERATOR(geo.~=)"), "OPERATOR(geo.~=)");
        assert_eq!(canonical_operator("OPERATOR(=)"), "=");
    }
}
