//! Privileges (PostgreSQL): `GRANT` and `REVOKE` on tables, views, sequences, their
//! columns, schemas, functions and procedures (`ON FUNCTION f(argtypes)`, `ON ALL
//! FUNCTIONS IN SCHEMA s`) and types (`ON TYPE`, `ON DOMAIN`).
//!
//! Schema files may grant on an object declared in a later file, so declarative loading
//! applies them once every file is read, in statement order; a replay applies each one
//! where it stands, like the server. Functions and types start with PUBLIC's default
//! EXECUTE or USAGE, which `REVOKE ... FROM PUBLIC` takes away. Grants on other objects
//! (databases, tablespaces, ...), role membership (`GRANT role TO role`), grantees known
//! only at run time (`CURRENT_USER`) and PUBLIC's privileges on the `public` schema stay
//! opaque.

use super::*;

/// What a GRANT or REVOKE does, resolved against no object yet.
#[derive(Clone, Debug)]
pub(super) struct PendingGrant {
    pub(super) revoke: bool,
    /// `REVOKE GRANT OPTION FOR`: only the grant option goes.
    pub(super) option_only: bool,
    pub(super) privileges: Privileges,
    /// Each with where it is named, for errors.
    pub(super) targets: Vec<(GrantTarget, (u64, u64))>,
    pub(super) grantees: Vec<String>,
    pub(super) grantable: bool,
    pub(super) file: String,
}

/// Privileges as written (upper case), each with its column list; `ALL` expands per
/// object kind.
pub(super) type Privileges = Vec<(String, Vec<String>)>;

#[derive(Clone, Debug)]
pub(super) enum GrantTarget {
    /// `ON [TABLE] name`: a table, view or sequence.
    Relation(QualifiedName),
    Sequence(QualifiedName),
    Schema(String),
    AllTablesIn(String),
    AllSequencesIn(String),
    /// `ON FUNCTION | PROCEDURE | ROUTINE f(...)`: `Some(true)` procedures only,
    /// `Some(false)` functions only, `None` either.
    Routine(function::RoutineRef, Option<bool>),
    /// `ON ALL FUNCTIONS | PROCEDURES | ROUTINES IN SCHEMA s`: the declared ones.
    AllRoutinesIn(String, Option<bool>),
    /// `ON TYPE t`: an enum, composite type or domain.
    Type(QualifiedName),
    /// `ON DOMAIN d`.
    Domain(QualifiedName),
}

pub(super) const TABLE_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
];
const COLUMN_PRIVILEGES: &[&str] = &["SELECT", "INSERT", "UPDATE", "REFERENCES"];
pub(super) const SEQUENCE_PRIVILEGES: &[&str] = &["USAGE", "SELECT", "UPDATE"];
pub(super) const SCHEMA_PRIVILEGES: &[&str] = &["USAGE", "CREATE"];
pub(super) const FUNCTION_PRIVILEGES: &[&str] = &["EXECUTE"];
pub(super) const TYPE_PRIVILEGES: &[&str] = &["USAGE"];
const KNOWN: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "USAGE",
    "CREATE",
    "MAINTAIN",
    "EXECUTE",
    "CONNECT",
    "TEMPORARY",
    "TEMP",
    "SET",
    "ALTER",
];

impl Loader<'_> {
    /// `GRANT ...` / `REVOKE ...`, the first word already read. `Ok(false)`: a form ferry
    /// does not model (kept opaque).
    pub(super) fn grant(&mut self, p: &mut StmtParser, revoke: bool) -> PResult<bool> {
        if self.kind != DialectKind::Postgres {
            return Ok(false);
        }
        let option_only = revoke && p.eat_words(&["grant", "option", "for"]);
        let Some(privileges) = privilege_list(p)? else {
            // `GRANT role TO role` (membership), or a word we do not know.
            return Ok(false);
        };
        if !p.eat_word("on") {
            return Ok(false);
        }
        let mut targets = Vec::new();
        let routine_kind = |p: &mut StmtParser, plural: bool| {
            let s = if plural { "s" } else { "" };
            if p.eat_word(&format!("function{s}")) {
                Some(Some(false))
            } else if p.eat_word(&format!("procedure{s}")) {
                Some(Some(true))
            } else if p.eat_word(&format!("routine{s}")) {
                Some(None)
            } else {
                None
            }
        };
        if p.eat_word("all") {
            let routines = routine_kind(p, true);
            let sequences = routines.is_none() && p.eat_word("sequences");
            if routines.is_none() && !sequences && !p.eat_word("tables") {
                return Ok(false);
            }
            p.expect_words(&["in", "schema"])?;
            loop {
                let at = p.here();
                let s = p.ident()?;
                let target = if let Some(kind) = routines {
                    GrantTarget::AllRoutinesIn(s, kind)
                } else if sequences {
                    GrantTarget::AllSequencesIn(s)
                } else {
                    GrantTarget::AllTablesIn(s)
                };
                targets.push((target, at));
                if !p.eat(&Token::Comma) {
                    break;
                }
            }
        } else if let Some(kind) = routine_kind(p, false) {
            loop {
                let r = self.routine_ref(p)?;
                if r.unmodelled {
                    return Ok(false);
                }
                let at = r.at;
                targets.push((GrantTarget::Routine(r, kind), at));
                if !p.eat(&Token::Comma) {
                    break;
                }
            }
        } else if p.peek_word("type") || p.peek_word("domain") {
            let domain = p.eat_word("domain");
            if !domain {
                p.eat_word("type");
            }
            loop {
                let at = p.here();
                let name = self.qualified(p)?;
                let target = if domain {
                    GrantTarget::Domain(name)
                } else {
                    GrantTarget::Type(name)
                };
                targets.push((target, at));
                if !p.eat(&Token::Comma) {
                    break;
                }
            }
        } else if p.eat_word("schema") {
            loop {
                let at = p.here();
                targets.push((GrantTarget::Schema(p.ident()?), at));
                if !p.eat(&Token::Comma) {
                    break;
                }
            }
        } else {
            let sequence = p.eat_word("sequence");
            if !sequence {
                p.eat_word("table");
            }
            if p.peek_ident() && !p.peek_word("to") && !p.peek_word("from") {
                loop {
                    let at = p.here();
                    let name = self.qualified(p)?;
                    let target = if sequence {
                        GrantTarget::Sequence(name)
                    } else {
                        GrantTarget::Relation(name)
                    };
                    targets.push((target, at));
                    if !p.eat(&Token::Comma) {
                        break;
                    }
                }
            }
            // `ON FUNCTION f(...)`, `ON TYPE t`, `ON DATABASE d` ... leave words behind.
            if targets.is_empty() || !(p.peek_word("to") || p.peek_word("from")) {
                return Ok(false);
            }
        }
        p.expect_word(if revoke { "from" } else { "to" })?;
        let Some(grantees) = grantee_list(p)? else {
            return Ok(false);
        };
        let grantable = !revoke && p.eat_words(&["with", "grant", "option"]);
        if p.eat_words(&["granted", "by"]) {
            p.ident()?;
        }
        if revoke {
            let _ = p.eat_word("cascade") || p.eat_word("restrict");
        }
        p.expect_end()?;
        let public_schema = targets.iter().any(
            |(t, _)| matches!(t, GrantTarget::Schema(s) if s == self.dialect.default_namespace()),
        );
        if public_schema && grantees.iter().any(|g| g == PUBLIC) {
            // What PUBLIC holds on `public` differs between server versions: not modelled.
            return Ok(false);
        }
        if self.replay && !self.grant_targets_known(&targets) {
            // Functions and types may come from extensions or opaque statements.
            return Ok(false);
        }
        let grant = PendingGrant {
            revoke,
            option_only,
            privileges,
            targets,
            grantees,
            grantable,
            file: p.origin.to_string(),
        };
        if self.replay {
            self.apply_grant(&grant)?;
        } else {
            self.pending_grants.push(grant);
        }
        Ok(true)
    }

    /// Whether every function and type `targets` names is modelled (replay: the others are
    /// kept opaque).
    fn grant_targets_known(&self, targets: &[(GrantTarget, (u64, u64))]) -> bool {
        targets.iter().all(|(t, _)| match t {
            GrantTarget::Routine(r, kind) => matches!(self.resolve_routine(r, *kind), Ok(Some(_))),
            GrantTarget::Type(n) => {
                self.schema.enums.contains_key(n)
                    || self.schema.domains.contains_key(n)
                    || self.schema.composite_types.contains_key(n)
            }
            GrantTarget::Domain(n) => self.schema.domains.contains_key(n),
            _ => true,
        })
    }

    /// Applies a GRANT or REVOKE to the objects it names.
    pub(super) fn apply_grant(&mut self, g: &PendingGrant) -> PResult<()> {
        for (target, at) in &g.targets {
            let error = |message: String| LoadError {
                file: g.file.clone(),
                line: at.0,
                column: at.1,
                message,
            };
            let column_list = || g.privileges.iter().any(|(_, c)| !c.is_empty());
            let routines: Vec<FunctionId> = match target {
                GrantTarget::Routine(r, kind) => match self.resolve_routine(r, *kind) {
                    Ok(Some(id)) => vec![id],
                    Ok(None) => {
                        return Err(error(format!(
                            "GRANT on unknown {} {}",
                            match kind {
                                Some(true) => "procedure",
                                _ => "function",
                            },
                            r.name
                        )))
                    }
                    Err(e) => return Err(error(e)),
                },
                GrantTarget::AllRoutinesIn(s, kind) => self
                    .schema
                    .functions
                    .iter()
                    .filter(|(id, f)| &id.name.schema == s && kind.is_none_or(|k| k == f.procedure))
                    .map(|(id, _)| id.clone())
                    .collect(),
                _ => Vec::new(),
            };
            if matches!(
                target,
                GrantTarget::Routine(..) | GrantTarget::AllRoutinesIn(..)
            ) {
                if column_list() {
                    return Err(error("column privileges are only valid for tables".into()));
                }
                for id in routines {
                    let f = self.schema.functions.get_mut(&id).expect("resolved above");
                    let kind = if f.procedure { "procedure" } else { "function" };
                    change(&mut f.grants, g, FUNCTION_PRIVILEGES, kind).map_err(error)?;
                }
                continue;
            }
            if let GrantTarget::Type(n) | GrantTarget::Domain(n) = target {
                if column_list() {
                    return Err(error("column privileges are only valid for tables".into()));
                }
                let domain = matches!(target, GrantTarget::Domain(_));
                let grants = if let Some(d) = self.schema.domains.get_mut(n) {
                    &mut d.grants
                } else if domain {
                    return Err(error(format!("GRANT on unknown domain {n}")));
                } else if let Some(e) = self.schema.enums.get_mut(n) {
                    &mut e.grants
                } else if let Some(c) = self.schema.composite_types.get_mut(n) {
                    &mut c.grants
                } else {
                    return Err(error(format!("GRANT on unknown type {n}")));
                };
                let kind = if domain { "domain" } else { "type" };
                change(grants, g, TYPE_PRIVILEGES, kind).map_err(error)?;
                continue;
            }
            let relations: Vec<QualifiedName> = match target {
                GrantTarget::AllTablesIn(s) => self
                    .schema
                    .tables
                    .keys()
                    .chain(self.schema.views.keys())
                    .filter(|n| &n.schema == s)
                    .cloned()
                    .collect(),
                GrantTarget::AllSequencesIn(s) => self
                    .schema
                    .sequences
                    .keys()
                    .filter(|n| &n.schema == s)
                    .cloned()
                    .collect(),
                GrantTarget::Relation(n) | GrantTarget::Sequence(n) => vec![n.clone()],
                GrantTarget::Routine(..)
                | GrantTarget::AllRoutinesIn(..)
                | GrantTarget::Type(_)
                | GrantTarget::Domain(_) => unreachable!("handled above"),
                GrantTarget::Schema(s) => {
                    if s != self.dialect.default_namespace() && !self.schema.namespaces.contains(s)
                    {
                        return Err(error(format!("GRANT on unknown schema {s}")));
                    }
                    let grants = self.schema.namespace_grants.entry(s.clone()).or_default();
                    change(grants, g, SCHEMA_PRIVILEGES, "schema").map_err(error)?;
                    continue;
                }
            };
            for name in relations {
                let (grants, all, kind) = if let Some(t) = self.schema.tables.get_mut(&name) {
                    if let Some((_, cols)) = g.privileges.iter().find(|(_, c)| !c.is_empty()) {
                        // Column privileges: each listed column gets them.
                        for c in cols {
                            let Some(col) = t.column_mut(c) else {
                                return Err(error(format!("GRANT on unknown column {name}.{c}")));
                            };
                            change(&mut col.grants, g, COLUMN_PRIVILEGES, "column")
                                .map_err(error)?;
                        }
                        continue;
                    }
                    if g.revoke {
                        // Revoking a table privilege revokes it on every column too.
                        for col in &mut t.columns {
                            change(&mut col.grants, g, COLUMN_PRIVILEGES, "column")
                                .map_err(error)?;
                        }
                    }
                    (&mut t.grants, TABLE_PRIVILEGES, "table")
                } else if let Some(v) = self.schema.views.get_mut(&name) {
                    (&mut v.grants, TABLE_PRIVILEGES, "view")
                } else if let Some(s) = self.schema.sequences.get_mut(&name) {
                    (&mut s.grants, SEQUENCE_PRIVILEGES, "sequence")
                } else if self.replay
                    && (self.opaque_objects.contains(&name)
                        || self.temp_relations.contains(&name.name))
                {
                    continue;
                } else {
                    return Err(error(format!(
                        "GRANT on unknown table, view or sequence {name}"
                    )));
                };
                if matches!(target, GrantTarget::Sequence(_)) && kind != "sequence" {
                    return Err(error(format!("{name} is not a sequence")));
                }
                change(grants, g, all, kind).map_err(error)?;
            }
        }
        Ok(())
    }
}

/// The privileges of a GRANT or REVOKE as written (upper case), each with its column list:
/// `ALL [PRIVILEGES]` or a list. `None`: a word that is no privilege (`GRANT role TO
/// role`, membership), not modelled.
pub(super) fn privilege_list(p: &mut StmtParser) -> PResult<Option<Privileges>> {
    let mut privileges = Vec::new();
    if p.eat_word("all") {
        p.eat_word("privileges");
        privileges.push(("ALL".to_string(), column_list(p)?));
        return Ok(Some(privileges));
    }
    loop {
        let word = p.ident()?.to_ascii_uppercase();
        if !KNOWN.contains(&word.as_str()) {
            return Ok(None);
        }
        let word = if word == "TEMP" {
            "TEMPORARY".into()
        } else {
            word
        };
        privileges.push((word, column_list(p)?));
        if !p.eat(&Token::Comma) {
            break;
        }
    }
    Ok(Some(privileges))
}

/// The roles after `TO` or `FROM` (`PUBLIC` for the keyword). `None`: one is known only
/// at run time (`CURRENT_USER`, ...), not modelled.
pub(super) fn grantee_list(p: &mut StmtParser) -> PResult<Option<Vec<String>>> {
    let mut grantees = Vec::new();
    loop {
        p.eat_word("group");
        if p.peek_word("current_user") || p.peek_word("current_role") || p.peek_word("session_user")
        {
            return Ok(None);
        }
        if p.peek_word("public") {
            // Unquoted PUBLIC is the keyword; a role cannot be named public.
            p.ident()?;
            grantees.push(PUBLIC.to_string());
        } else {
            grantees.push(p.ident()?);
        }
        if !p.eat(&Token::Comma) {
            break;
        }
    }
    Ok(Some(grantees))
}

/// `(col, ...)` after a privilege, or nothing.
fn column_list(p: &mut StmtParser) -> PResult<Vec<String>> {
    if p.peek(&Token::LParen) {
        p.paren_list(|p| p.ident())
    } else {
        Ok(Vec::new())
    }
}

/// Applies `g`'s privileges to one object's grants. `all`: what `ALL` means here, and
/// every privilege the object kind accepts.
pub(super) fn change(
    grants: &mut Grants,
    g: &PendingGrant,
    all: &[&str],
    kind: &str,
) -> Result<(), String> {
    let mut privileges = Vec::new();
    for (p, _) in &g.privileges {
        if p == "ALL" {
            privileges.extend(all.iter().map(|s| s.to_string()));
        } else if all.contains(&p.as_str()) {
            privileges.push(p.clone());
        } else {
            return Err(format!("invalid privilege type {p} for {kind}"));
        }
    }
    for grantee in &g.grantees {
        for privilege in &privileges {
            let with = |grantable| Grant {
                grantee: grantee.clone(),
                privilege: privilege.clone(),
                grantable,
            };
            let held_with_option = grants.contains(&with(true));
            if g.revoke {
                grants.remove(&with(true));
                if g.option_only {
                    if held_with_option {
                        grants.insert(with(false));
                    }
                } else {
                    grants.remove(&with(false));
                }
            } else if !held_with_option {
                grants.remove(&with(false));
                grants.insert(with(g.grantable));
            }
        }
    }
    Ok(())
}
