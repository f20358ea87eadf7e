//! Domains (PostgreSQL): a base type with an optional collation, default, NOT NULL and
//! named CHECK constraints.

use super::{type_default_grants, CheckConstraint, Expr, Grants, QualifiedName};

/// `CREATE DOMAIN name AS data_type [COLLATE c] [DEFAULT e] [NOT NULL] [CHECK (e)]...`.
///
/// Stored canonically so that a file and the database built from it compare equal:
/// `data_type` through the dialect's `canonical_type` (another domain or an enum is spelt
/// `schema.name`, quoted where needed), `collation` only when it differs from the base
/// type's own, checks sorted by name with PostgreSQL's implicit names (`<domain>_check`,
/// `<domain>_check1`, ...) and compared by expression key. `CheckConstraint::no_inherit` is
/// always false for a domain.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub name: QualifiedName,
    pub data_type: String,
    pub collation: Option<String>,
    pub default: Option<Expr>,
    pub not_null: bool,
    pub checks: Vec<CheckConstraint>,
    pub comment: Option<String>,
    /// Privileges (`USAGE`), PUBLIC's default included; not part of the definition the
    /// differ compares.
    pub grants: Grants,
}

impl Domain {
    pub fn new(name: QualifiedName, data_type: impl Into<String>) -> Self {
        Domain {
            name,
            data_type: data_type.into(),
            collation: None,
            default: None,
            not_null: false,
            checks: Vec::new(),
            comment: None,
            grants: type_default_grants(),
        }
    }

    /// The user type this domain is based on, when its base is one (another domain, an
    /// enum): its canonical spelling without modifiers and `[]`, e.g. `public.base_text`.
    pub fn base_type_name(&self) -> &str {
        type_name_of(&self.data_type)
    }
}

/// A canonical type without its modifiers and array brackets: `public.d(3)[]` →
/// `public.d`, `numeric(10,2)` → `numeric`.
pub fn type_name_of(data_type: &str) -> &str {
    let t = data_type.trim_end_matches("[]");
    match t.rfind('(') {
        // A quoted name may contain `(`: only cut at a parenthesis after the last quote.
        Some(open) if !t[open..].contains('"') => t[..open].trim_end(),
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_drop_modifiers_and_brackets() {
        assert_eq!(type_name_of("public.d"), "public.d");
        assert_eq!(type_name_of("public.d[]"), "public.d");
        assert_eq!(type_name_of("numeric(10,2)"), "numeric");
        assert_eq!(type_name_of("public.\"a(b\""), "public.\"a(b\"");
        assert_eq!(type_name_of("s.\"D\"(3)[]"), "s.\"D\"");
        assert_eq!(type_name_of("public.\"a(b\"(3)"), "public.\"a(b\"");
    }
}
