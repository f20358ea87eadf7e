//! PostgreSQL default privileges (`ALTER DEFAULT PRIVILEGES`): what objects a role creates
//! later are granted, globally or per schema.
//!
//! The server stores one ACL per (role, schema or none, object type) in `pg_default_acl`.
//! A global entry *replaces* the built-in default (PUBLIC may execute functions and use
//! types; nothing else); a per-schema entry *adds* to the global one. An entry equal to
//! its starting point does not exist. The model keeps the same shape, the creating role's
//! own privileges left out (they are implicit, as on objects).

use super::{Grant, Grants, Schema};

/// What kind of object a default privilege applies to (`ON TABLES`, ...). The order is
/// the order plans and files list them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefaultObjectType {
    /// Tables, views, materialized views (and foreign tables).
    Tables,
    Sequences,
    /// Functions and procedures (`ON FUNCTIONS` = `ON ROUTINES`).
    Functions,
    /// Enums, composite types, domains.
    Types,
    Schemas,
}

impl DefaultObjectType {
    /// The keyword after `ON`.
    pub fn sql(self) -> &'static str {
        match self {
            DefaultObjectType::Tables => "TABLES",
            DefaultObjectType::Sequences => "SEQUENCES",
            DefaultObjectType::Functions => "FUNCTIONS",
            DefaultObjectType::Types => "TYPES",
            DefaultObjectType::Schemas => "SCHEMAS",
        }
    }

    /// `pg_default_acl.defaclobjtype`'s letter.
    pub fn from_catalog(letter: &str) -> Option<Self> {
        Some(match letter {
            "r" => DefaultObjectType::Tables,
            "S" => DefaultObjectType::Sequences,
            "f" => DefaultObjectType::Functions,
            "T" => DefaultObjectType::Types,
            "n" => DefaultObjectType::Schemas,
            _ => return None,
        })
    }
}

/// One entry of default privileges.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DefaultPrivilegeKey {
    /// `FOR ROLE r`: the role whose new objects get the privileges. `None`: the role that
    /// runs the statements (ferry's connection), which is what a statement without
    /// `FOR ROLE` means; inspection reports the connecting role's entries as `None`, so a
    /// file need not know which role applies it.
    pub for_role: Option<String>,
    /// `IN SCHEMA s`; `None`: every schema.
    pub schema: Option<String>,
    pub object_type: DefaultObjectType,
}

impl DefaultPrivilegeKey {
    /// What an entry starts from when none exists: PostgreSQL's built-in default for a
    /// global entry (PUBLIC's EXECUTE on functions, USAGE on types), nothing per schema.
    pub fn baseline(&self) -> Grants {
        if self.schema.is_some() {
            return Grants::new();
        }
        builtin_default(self.object_type)
    }
}

/// What PostgreSQL gives every role but the owner on a new object of `kind` when no
/// default privileges say otherwise.
pub fn builtin_default(kind: DefaultObjectType) -> Grants {
    match kind {
        DefaultObjectType::Functions => super::function_default_grants(),
        DefaultObjectType::Types => super::type_default_grants(),
        _ => Grants::new(),
    }
}

/// Default privileges by entry; an entry equal to its [`DefaultPrivilegeKey::baseline`] is
/// never stored (use [`Schema::set_default_privileges`]).
pub type DefaultPrivileges = std::collections::BTreeMap<DefaultPrivilegeKey, Grants>;

impl Schema {
    /// The privileges of entry `key`: what is stored, else its baseline.
    pub fn default_privileges_of(&self, key: &DefaultPrivilegeKey) -> Grants {
        self.default_privileges
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.baseline())
    }

    /// Sets entry `key`, removing it when it equals its baseline (as the server does).
    pub fn set_default_privileges(&mut self, key: DefaultPrivilegeKey, grants: Grants) {
        if grants == key.baseline() {
            self.default_privileges.remove(&key);
        } else {
            self.default_privileges.insert(key, grants);
        }
    }

    /// What a new object of `kind` in `schema` (`None` for a schema itself) gets when the
    /// connecting role creates it: the global entry (or the built-in default) plus the
    /// schema's entry.
    pub fn new_object_grants(&self, kind: DefaultObjectType, schema: Option<&str>) -> Grants {
        let key = |schema: Option<&str>| DefaultPrivilegeKey {
            for_role: None,
            schema: schema.map(str::to_string),
            object_type: kind,
        };
        let mut grants = self.default_privileges_of(&key(None));
        if let Some(s) = schema {
            if let Some(extra) = self.default_privileges.get(&key(Some(s))) {
                grants.extend(extra.iter().cloned());
                // Held both with and without grant option: with it.
                let with_option: Vec<Grant> =
                    grants.iter().filter(|g| g.grantable).cloned().collect();
                for g in with_option {
                    grants.remove(&Grant {
                        grantable: false,
                        ..g
                    });
                }
            }
        }
        grants
    }

    /// Writes the entries `FOR ROLE role`, where `role` is the one statements run as, like
    /// those without `FOR ROLE` (how inspection reports them): both name the same entry on
    /// the server. An entry written both ways holds what either gives.
    pub fn resolve_session_role(&mut self, role: &str) {
        let own: Vec<DefaultPrivilegeKey> = self
            .default_privileges
            .keys()
            .filter(|k| k.for_role.as_deref() == Some(role))
            .cloned()
            .collect();
        for key in own {
            let grants = self.default_privileges.remove(&key).unwrap_or_default();
            let key = DefaultPrivilegeKey {
                for_role: None,
                ..key
            };
            let mut merged = self
                .default_privileges
                .get(&key)
                .cloned()
                .unwrap_or_default();
            merged.extend(grants);
            self.set_default_privileges(key, merged);
        }
    }

    /// Whether some entry for the connecting role differs from its baseline, so that new
    /// objects may not get the built-in default.
    pub fn has_own_default_privileges(&self) -> bool {
        self.default_privileges.keys().any(|k| k.for_role.is_none())
    }
}
