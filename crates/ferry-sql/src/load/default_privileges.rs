//! `ALTER DEFAULT PRIVILEGES` (PostgreSQL): what objects created later are granted.
//!
//! Files and migrations are read in statement order, as the server runs them: an entry
//! changes when its statement is read, and an object a later `CREATE` makes gets the
//! connecting role's defaults in effect then (its own `GRANT`s come on top). Entries `FOR
//! ROLE` another role never apply to what the files create, which the connecting role owns.

use super::grant::{
    change, grantee_list, privilege_list, PendingGrant, FUNCTION_PRIVILEGES, SCHEMA_PRIVILEGES,
    SEQUENCE_PRIVILEGES, TABLE_PRIVILEGES, TYPE_PRIVILEGES,
};
use super::*;

impl Loader<'_> {
    /// `ALTER DEFAULT PRIVILEGES ...`, the first three words already read. `Ok(false)`: a
    /// form ferry does not model (kept opaque).
    pub(super) fn alter_default_privileges(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let at = p.here();
        let mut roles: Vec<Option<String>> = Vec::new();
        let mut schemas: Vec<Option<String>> = Vec::new();
        loop {
            if p.eat_word("for") {
                if !(p.eat_word("role") || p.eat_word("user")) {
                    return Err(p.unexpected("(expected ROLE or USER)"));
                }
                let Some(names) = grantee_list(p)? else {
                    return Ok(false);
                };
                if names.iter().any(|n| n == PUBLIC) {
                    return Err(p.error_at(at, "FOR ROLE cannot name PUBLIC"));
                }
                roles.extend(names.into_iter().map(Some));
            } else if p.eat_words(&["in", "schema"]) {
                loop {
                    schemas.push(Some(p.ident()?));
                    if !p.eat(&Token::Comma) {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        let revoke = if p.eat_word("revoke") {
            true
        } else {
            p.expect_word("grant")?;
            false
        };
        let option_only = revoke && p.eat_words(&["grant", "option", "for"]);
        let Some(privileges) = privilege_list(p)? else {
            return Ok(false);
        };
        p.expect_word("on")?;
        let (object_type, all, kind) = if p.eat_word("tables") {
            (DefaultObjectType::Tables, TABLE_PRIVILEGES, "table")
        } else if p.eat_word("sequences") {
            (
                DefaultObjectType::Sequences,
                SEQUENCE_PRIVILEGES,
                "sequence",
            )
        } else if p.eat_word("functions") || p.eat_word("routines") {
            (
                DefaultObjectType::Functions,
                FUNCTION_PRIVILEGES,
                "function",
            )
        } else if p.eat_word("types") {
            (DefaultObjectType::Types, TYPE_PRIVILEGES, "type")
        } else if p.eat_word("schemas") {
            (DefaultObjectType::Schemas, SCHEMA_PRIVILEGES, "schema")
        } else {
            // `ON LARGE OBJECTS` (PostgreSQL 18) and what may come.
            return Ok(false);
        };
        p.expect_word(if revoke { "from" } else { "to" })?;
        let Some(grantees) = grantee_list(p)? else {
            return Ok(false);
        };
        let grantable = !revoke && p.eat_words(&["with", "grant", "option"]);
        if revoke {
            let _ = p.eat_word("cascade") || p.eat_word("restrict");
        }
        p.expect_end()?;
        if privileges.iter().any(|(_, c)| !c.is_empty()) {
            return Err(p.error_at(at, "default privileges cannot name columns"));
        }
        if object_type == DefaultObjectType::Schemas && !schemas.is_empty() {
            return Err(p.error_at(
                at,
                "cannot use IN SCHEMA clause when using GRANT/REVOKE ON SCHEMAS",
            ));
        }
        let pending = PendingGrant {
            revoke,
            option_only,
            privileges,
            targets: Vec::new(),
            grantees,
            grantable,
            file: p.origin.to_string(),
        };
        if roles.is_empty() {
            roles.push(None);
        }
        if schemas.is_empty() {
            schemas.push(None);
        }
        for for_role in &roles {
            for schema in &schemas {
                let key = DefaultPrivilegeKey {
                    for_role: for_role.clone(),
                    schema: schema.clone(),
                    object_type,
                };
                let mut grants = self.schema.default_privileges_of(&key);
                change(&mut grants, &pending, all, kind).map_err(|m| p.error_at(at, &m))?;
                self.schema.set_default_privileges(key, grants);
            }
        }
        Ok(true)
    }

    /// What exists before a `CREATE` statement, when the connecting role has default
    /// privileges of its own (else objects keep the built-in default they are made with).
    pub(super) fn objects_before_create(&self, p: &StmtParser) -> Option<ObjectKeys> {
        if self.kind != DialectKind::Postgres
            || !p.peek_word("create")
            || !self.schema.has_own_default_privileges()
        {
            return None;
        }
        Some(ObjectKeys::of(&self.schema))
    }

    /// Gives the objects that did not exist `before` the connecting role's default
    /// privileges, as the server does when it creates them.
    pub(super) fn grant_defaults_to_created(&mut self, before: &ObjectKeys) {
        let s = &mut self.schema;
        let grants = |s: &Schema, kind, schema: &str| s.new_object_grants(kind, Some(schema));
        for name in s
            .tables
            .keys()
            .chain(s.views.keys())
            .cloned()
            .collect::<Vec<_>>()
        {
            if before.relations.contains(&name) {
                continue;
            }
            let g = grants(s, DefaultObjectType::Tables, &name.schema);
            if let Some(t) = s.tables.get_mut(&name) {
                t.grants = g;
            } else if let Some(v) = s.views.get_mut(&name) {
                v.grants = g;
            }
        }
        let new: Vec<QualifiedName> = s
            .sequences
            .keys()
            .filter(|n| !before.sequences.contains(*n))
            .cloned()
            .collect();
        for name in new {
            let g = grants(s, DefaultObjectType::Sequences, &name.schema);
            if let Some(q) = s.sequences.get_mut(&name) {
                q.grants = g;
            }
        }
        let new: Vec<FunctionId> = s
            .functions
            .keys()
            .filter(|id| !before.functions.contains(*id))
            .cloned()
            .collect();
        for id in new {
            let g = grants(s, DefaultObjectType::Functions, &id.name.schema);
            if let Some(f) = s.functions.get_mut(&id) {
                f.grants = g;
            }
        }
        let types: Vec<QualifiedName> = s
            .enums
            .keys()
            .chain(s.domains.keys())
            .chain(s.composite_types.keys())
            .filter(|n| !before.types.contains(*n))
            .cloned()
            .collect();
        for name in types {
            let g = grants(s, DefaultObjectType::Types, &name.schema);
            if let Some(e) = s.enums.get_mut(&name) {
                e.grants = g;
            } else if let Some(d) = s.domains.get_mut(&name) {
                d.grants = g;
            } else if let Some(c) = s.composite_types.get_mut(&name) {
                c.grants = g;
            }
        }
        let new: Vec<String> = s
            .namespaces
            .difference(&before.namespaces)
            .cloned()
            .collect();
        for ns in new {
            let g = s.new_object_grants(DefaultObjectType::Schemas, None);
            if g.is_empty() {
                s.namespace_grants.remove(&ns);
            } else {
                s.namespace_grants.insert(ns, g);
            }
        }
    }
}

/// The names of the objects default privileges apply to.
pub(super) struct ObjectKeys {
    relations: BTreeSet<QualifiedName>,
    sequences: BTreeSet<QualifiedName>,
    functions: BTreeSet<FunctionId>,
    types: BTreeSet<QualifiedName>,
    namespaces: BTreeSet<String>,
}

impl ObjectKeys {
    fn of(s: &Schema) -> Self {
        ObjectKeys {
            relations: s.tables.keys().chain(s.views.keys()).cloned().collect(),
            sequences: s.sequences.keys().cloned().collect(),
            functions: s.functions.keys().cloned().collect(),
            types: s
                .enums
                .keys()
                .chain(s.domains.keys())
                .chain(s.composite_types.keys())
                .cloned()
                .collect(),
            namespaces: s.namespaces.clone(),
        }
    }
}
