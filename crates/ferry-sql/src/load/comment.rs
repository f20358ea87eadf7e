//! Comments on indexes and constraints (PostgreSQL): `COMMENT ON INDEX`, `COMMENT ON
//! CONSTRAINT c ON [DOMAIN] x`. The comment lives on the model's index or constraint, so it
//! follows renames and goes with a drop.

use super::*;

impl Loader<'_> {
    /// `COMMENT ON INDEX name IS ...`, after `COMMENT ON`. An index lives in its table's
    /// schema. The index of a primary key or unique constraint is not modelled apart from
    /// its constraint: such a comment stays opaque.
    pub(super) fn comment_on_index(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("index")?;
        let at = p.here();
        let name = self.qualified(p)?;
        let text = p.comment_text()?;
        if let Some(index) = self.index_mut(&name) {
            index.comment = text;
            return Ok(true);
        }
        let is_key = self.schema.tables.values().any(|t| {
            t.name.schema == name.schema
                && (t.primary_key.iter().any(|k| k.name == name.name)
                    || t.uniques.iter().any(|u| u.name == name.name))
        });
        if is_key || self.replay && !self.temp_relations.contains(&name.name) {
            // In replay, an index of an object kept opaque is unknown too.
            return Ok(false);
        }
        if self.replay {
            return Ok(true);
        }
        Err(p.error_at(at, &format!("COMMENT ON unknown index {name}")))
    }

    /// The index `name` of a table or materialized view (in the index's schema).
    pub(super) fn index_mut(&mut self, name: &QualifiedName) -> Option<&mut Index> {
        let in_schema = |owner: &QualifiedName| owner.schema == name.schema;
        let tables = self
            .schema
            .tables
            .values_mut()
            .filter(|t| in_schema(&t.name))
            .flat_map(|t| t.indexes.iter_mut());
        let views = self
            .schema
            .views
            .values_mut()
            .filter(|v| in_schema(&v.name))
            .flat_map(|v| v.indexes.iter_mut());
        tables.chain(views).find(|i| i.name == name.name)
    }

    /// `COMMENT ON CONSTRAINT c ON table IS ...` or `... ON DOMAIN d IS ...`, after
    /// `COMMENT ON`.
    pub(super) fn comment_on_constraint(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("constraint")?;
        let at = p.here();
        let constraint = p.ident()?;
        p.expect_word("on")?;
        let on_domain = p.eat_word("domain");
        let (owner, explicit) = self.qualified_explicit(p)?;
        let text = p.comment_text()?;
        if on_domain {
            let Some(d) = self.schema.domains.get_mut(&owner) else {
                if self.replay && self.opaque_objects.contains(&owner) {
                    return Ok(false);
                }
                return Err(p.error_at(at, &format!("COMMENT ON unknown domain {owner}")));
            };
            return match d.checks.iter_mut().find(|c| c.name == constraint) {
                Some(ck) => {
                    ck.comment = text;
                    Ok(true)
                }
                // Possibly its NOT NULL constraint (named on PostgreSQL 17), not modelled.
                None if d.not_null => Ok(false),
                None => Err(p.error_at(
                    at,
                    &format!("COMMENT ON unknown constraint {constraint} of domain {owner}"),
                )),
            };
        }
        if self.replay && !self.schema.tables.contains_key(&owner) {
            if self.is_temp_relation(&owner, explicit) {
                return Ok(true);
            }
            if self.opaque_objects.contains(&owner) {
                return Ok(false);
            }
        }
        let Some(table) = self.schema.tables.get_mut(&owner) else {
            return Err(p.error_at(at, &format!("COMMENT ON unknown table {owner}")));
        };
        let slot = match table.primary_key.as_mut() {
            Some(pk) if pk.name == constraint => Some(&mut pk.comment),
            _ => None,
        };
        let slot = slot
            .or_else(|| {
                let u = table.uniques.iter_mut().find(|u| u.name == constraint);
                u.map(|u| &mut u.comment)
            })
            .or_else(|| {
                let c = table.checks.iter_mut().find(|c| c.name == constraint);
                c.map(|c| &mut c.comment)
            })
            .or_else(|| {
                let x = table.exclusions.iter_mut().find(|x| x.name == constraint);
                x.map(|x| &mut x.comment)
            })
            .or_else(|| {
                let f = table.foreign_keys.iter_mut().find(|f| f.name == constraint);
                f.map(|f| &mut f.comment)
            });
        match slot {
            Some(slot) => {
                *slot = text;
                Ok(true)
            }
            None => Err(p.error_at(
                at,
                &format!("COMMENT ON unknown constraint {constraint} of table {owner}"),
            )),
        }
    }
}
