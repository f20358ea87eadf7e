//! Replay of DROP DOMAIN (and DROP TYPE on a domain), and of schema drops and renames for
//! the domains they hold.

use super::*;

impl Loader<'_> {
    /// `DROP DOMAIN [IF EXISTS] name [, ...] [CASCADE | RESTRICT]`, after `DROP DOMAIN`.
    pub(super) fn replay_drop_domain(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let if_exists = p.eat_words(&["if", "exists"]);
        let (names, behavior) = self.drop_list(p)?;
        let mut keep_opaque = false;
        for DropTarget { at, name, .. } in names {
            if self.schema.domains.contains_key(&name) {
                self.drop_domain(p, at, &name, behavior)?;
            } else if self.opaque_objects.remove(&name) {
                keep_opaque = true;
            } else if !if_exists {
                return Err(p.error_at(at, &format!("domain {name} does not exist")));
            }
        }
        Ok(!keep_opaque)
    }

    /// Drops a domain. Columns of the type (or of an array of it) and domains based on it
    /// depend on it: an error without CASCADE, dropped with it otherwise, as PostgreSQL does.
    pub(super) fn drop_domain(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        name: &QualifiedName,
        behavior: Behavior,
    ) -> PResult<()> {
        self.drop_type_columns(p, at, &format!("domain {name}"), "it", name, behavior)?;
        self.drop_domains_based_on(p, at, name, behavior)?;
        self.schema.domains.remove(name);
        Ok(())
    }

    /// The domains based on type `name` (an enum or a domain): an error without CASCADE,
    /// dropped with it otherwise.
    pub(super) fn drop_domains_based_on(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        name: &QualifiedName,
        behavior: Behavior,
    ) -> PResult<()> {
        let (plain, _) = self.user_type_names(name);
        let domains: Vec<QualifiedName> = self
            .schema
            .domains
            .values()
            .filter(|d| d.name != *name && type_name_of(&d.data_type) == plain)
            .map(|d| d.name.clone())
            .collect();
        if let (Some(d), Behavior::Restrict) = (domains.first(), behavior) {
            return Err(p.error_at(
                at,
                &format!(
                    "cannot drop type {name}: domain {d} is based on it (use CASCADE to drop it \
                     too)"
                ),
            ));
        }
        for d in domains {
            if self.schema.domains.contains_key(&d) {
                self.drop_domain(p, at, &d, Behavior::Cascade)?;
            }
        }
        Ok(())
    }

    /// DROP SCHEMA: the domains of `ns` stop a plain drop and go with CASCADE.
    pub(super) fn drop_namespace_domains(
        &mut self,
        p: &StmtParser,
        at: (u64, u64),
        ns: &str,
        behavior: Behavior,
    ) -> PResult<()> {
        let domains: Vec<QualifiedName> = self
            .schema
            .domains
            .keys()
            .filter(|n| n.schema == ns)
            .cloned()
            .collect();
        if let (Some(first), Behavior::Restrict) = (domains.first(), behavior) {
            return Err(p.error_at(
                at,
                &format!("cannot drop schema {ns}: it contains domain {first} (use CASCADE)"),
            ));
        }
        for d in domains {
            if self.schema.domains.contains_key(&d) {
                self.drop_domain(p, at, &d, Behavior::Cascade)?;
            }
        }
        Ok(())
    }

    /// ALTER SCHEMA ... RENAME TO: its domains move along.
    pub(super) fn move_namespace_domains(&mut self, old: &str, new: &str) {
        let domains: Vec<QualifiedName> = self
            .schema
            .domains
            .keys()
            .filter(|n| n.schema == old)
            .cloned()
            .collect();
        for d in domains {
            let moved = QualifiedName::new(new.to_string(), d.name.clone());
            self.move_domain(&d, moved);
        }
    }
}
