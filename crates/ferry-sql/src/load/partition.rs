//! Partitioned tables and partitions (PostgreSQL): `PARTITION BY`, `PARTITION OF`,
//! `ALTER TABLE ... ATTACH | DETACH PARTITION`.
//!
//! A partition's columns, NOT NULLs, and the checks, keys, indexes and foreign keys it
//! inherits belong to its parent: the model keeps only what the partition declares itself
//! (see `docs/partitions.md`), which is also what inspection reports for it.

use super::*;
use crate::partition::partition_bound;

impl Loader<'_> {
    /// `PARTITION BY {RANGE | LIST | HASH} (key [COLLATE c] [opclass], ...)`, after
    /// `PARTITION BY`.
    pub(super) fn partition_by(&mut self, p: &mut StmtParser) -> PResult<PartitionBy> {
        let at = p.here();
        let strategy = p.ident()?.to_lowercase();
        if !["range", "list", "hash"].contains(&strategy.as_str()) {
            return Err(p.error_at(
                at,
                &format!("unknown partition strategy {strategy}: expected RANGE, LIST or HASH"),
            ));
        }
        let keys = p.paren_list(|p| {
            let at = p.here();
            let key = self.index_key(p)?;
            if key.descending || key.nulls_first.is_some() {
                return Err(p.error_at(at, "a partition key has no ASC/DESC or NULLS order"));
            }
            Ok(key)
        })?;
        Ok(PartitionBy { strategy, keys })
    }

    /// `FOR VALUES ... | DEFAULT` up to a trailing `PARTITION BY`, `USING`, `WITH` or
    /// `TABLESPACE`.
    pub(super) fn partition_bound(&mut self, p: &mut StmtParser) -> PResult<Expr> {
        if p.eat_word("default") {
            return Ok(partition_bound("DEFAULT"));
        }
        if !p.peek_words(&["for", "values"]) {
            return Err(p.unexpected("(expected FOR VALUES or DEFAULT)"));
        }
        let start = p.pos;
        let mut depth = 0usize;
        while let Some(t) = p.current() {
            // `FOR VALUES WITH (modulus ...)`: the `WITH` right after `VALUES` is the bound's.
            let stop = depth == 0
                && p.pos > start + 2
                && (p.peek_words(&["partition", "by"])
                    || p.peek_word("using")
                    || p.peek_word("tablespace")
                    || p.peek_word("with"));
            if stop {
                break;
            }
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                _ => {}
            }
            p.pos += 1;
        }
        let text = render(&p.toks[start..p.pos]);
        Ok(partition_bound(&text))
    }

    /// `CREATE TABLE name PARTITION OF parent [(constraints)] {FOR VALUES ... | DEFAULT}
    /// [PARTITION BY ...]`, after the name.
    pub(super) fn create_partition(
        &mut self,
        p: &mut StmtParser,
        name: QualifiedName,
        ann: &mut Vec<Annotatable>,
        name_tok: (u64, u64),
    ) -> PResult<bool> {
        p.expect_words(&["partition", "of"])?;
        let parent_at = p.here();
        let parent = self.qualified(p)?;
        if self.replay && !self.schema.tables.contains_key(&parent) {
            if self.opaque_objects.contains(&parent) {
                return Ok(false);
            }
            return Err(p.error_at(parent_at, &format!("relation {parent} does not exist")));
        }
        ann.push(Annotatable {
            line: name_tok.0,
            col: name_tok.1,
            target: RenameTarget::Table(name.clone()),
        });
        let mut table = Table::new(name.clone());
        let mut pending = PendingConstraints::default();
        if p.eat(&Token::LParen) && !p.eat(&Token::RParen) {
            loop {
                let constraint = p.peek_word("constraint")
                    || p.peek_words(&["primary", "key"])
                    || p.peek_word("unique")
                    || p.peek_word("check")
                    || p.peek_words(&["foreign", "key"]);
                if constraint {
                    let cname = if p.eat_word("constraint") {
                        Some(p.ident()?)
                    } else {
                        None
                    };
                    pending.items.push(self.table_constraint(p, cname)?);
                } else {
                    // `column [WITH OPTIONS] [NOT NULL | DEFAULT ...]`: per-partition
                    // column options are not modelled (see docs/partitions.md).
                    let mut depth = 0usize;
                    while let Some(t) = p.current() {
                        match t.token {
                            Token::LParen => depth += 1,
                            Token::RParen if depth == 0 => break,
                            Token::RParen => depth -= 1,
                            Token::Comma if depth == 0 => break,
                            _ => {}
                        }
                        p.pos += 1;
                    }
                }
                if p.eat(&Token::Comma) {
                    continue;
                }
                p.expect(&Token::RParen)?;
                break;
            }
        }
        let bound = self.partition_bound(p)?;
        table.partition_of = Some(PartitionOf { parent, bound });
        loop {
            if p.eat_words(&["partition", "by"]) {
                table.partition_by = Some(self.partition_by(p)?);
            } else if p.eat_word("with") || p.eat_word("tablespace") || p.eat_word("using") {
                p.skip_rest();
            } else {
                break;
            }
        }
        p.expect_end()?;
        if self.replay {
            self.check_key_names(p, name_tok, &name.schema, &pending)?;
        }
        self.relation_names
            .insert((name.schema.clone(), name.name.clone()));
        self.schema.tables.insert(name.clone(), table);
        self.apply_pending(&name, pending);
        Ok(true)
    }

    /// `ATTACH PARTITION child {FOR VALUES ... | DEFAULT}` on `parent`, after `ATTACH`.
    pub(super) fn attach_partition(
        &mut self,
        p: &mut StmtParser,
        parent: &QualifiedName,
    ) -> PResult<()> {
        p.expect_word("partition")?;
        let at = p.here();
        let child = self.resolve_table(self.qualified(p)?);
        let bound = self.partition_bound(p)?;
        let Some(parent_table) = self.schema.tables.get(parent).cloned() else {
            return Err(p.error_at(at, &format!("unknown table {parent}")));
        };
        if parent_table.partition_by.is_none() {
            return Err(p.error_at(
                at,
                &format!("table {parent} is not partitioned: it has no PARTITION BY"),
            ));
        }
        let Some(t) = self.schema.tables.get_mut(&child) else {
            return Err(p.error_at(
                at,
                &format!("ATTACH PARTITION of unknown table {child}: create the table first"),
            ));
        };
        if t.partition_of.is_some() {
            return Err(p.error_at(at, &format!("table {child} is already a partition")));
        }
        // The child's columns and the objects matching the parent's become the parent's.
        t.columns.clear();
        t.checks
            .retain(|c| !parent_table.checks.iter().any(|pc| pc.name == c.name));
        let same_keys = |a: &[String], b: &[String]| a == b;
        if let (Some(pk), Some(ppk)) = (&t.primary_key, &parent_table.primary_key) {
            if same_keys(&pk.columns, &ppk.columns) {
                t.primary_key = None;
            }
        }
        t.uniques.retain(|u| {
            !parent_table
                .uniques
                .iter()
                .any(|pu| pu.columns == u.columns && pu.nulls_not_distinct == u.nulls_not_distinct)
        });
        t.indexes.retain(|i| {
            !parent_table.indexes.iter().any(|pi| {
                let mut renamed = i.clone();
                renamed.name = pi.name.clone();
                &renamed == pi
            })
        });
        t.foreign_keys.retain(|f| {
            !parent_table.foreign_keys.iter().any(|pf| {
                let mut renamed = f.clone();
                renamed.name = pf.name.clone();
                &renamed == pf
            })
        });
        t.partition_of = Some(PartitionOf {
            parent: parent.clone(),
            bound,
        });
        Ok(())
    }

    /// `DETACH PARTITION child [CONCURRENTLY | FINALIZE]` on `parent`, after `DETACH`. The
    /// child keeps copies of the parent's columns, checks and foreign keys; keys and
    /// indexes get the names PostgreSQL would choose for a new table (the real names are
    /// the ones the partition's indexes had, which the model does not know).
    pub(super) fn detach_partition(
        &mut self,
        p: &mut StmtParser,
        parent: &QualifiedName,
    ) -> PResult<()> {
        p.expect_word("partition")?;
        let at = p.here();
        let child = self.resolve_table(self.qualified(p)?);
        if !p.eat_word("concurrently") {
            p.eat_word("finalize");
        }
        let parent_table = self.schema.tables.get(parent).cloned();
        let Some(t) = self.schema.tables.get_mut(&child) else {
            return Err(p.error_at(at, &format!("unknown partition {child}")));
        };
        if t.partition_of.as_ref().map(|o| &o.parent) != Some(parent) {
            return Err(p.error_at(at, &format!("table {child} is not a partition of {parent}")));
        }
        t.partition_of = None;
        let Some(parent_table) = parent_table else {
            return Ok(());
        };
        t.columns = parent_table
            .columns
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.comment = None;
                c
            })
            .collect();
        for ck in &parent_table.checks {
            if !ck.no_inherit && !t.checks.iter().any(|c| c.name == ck.name) {
                t.checks.push(ck.clone());
            }
        }
        for fk in &parent_table.foreign_keys {
            if !t.foreign_keys.iter().any(|f| f.name == fk.name) {
                t.foreign_keys.push(fk.clone());
            }
        }
        let schema = child.schema.clone();
        let tname = child.name.clone();
        if t.primary_key.is_none() {
            if let Some(pk) = &parent_table.primary_key {
                let mut pk = pk.clone();
                pk.name = String::new();
                let base = pg_object_name(&tname, "", "pkey");
                pk.name = self.choose_relation_name(&schema, &base, &tname, "", "pkey");
                if let Some(t) = self.schema.tables.get_mut(&child) {
                    t.primary_key = Some(pk);
                }
            }
        }
        for u in &parent_table.uniques {
            let mut u = u.clone();
            let cols = u.columns.join("_");
            let base = pg_object_name(&tname, &cols, "key");
            u.name = self.choose_relation_name(&schema, &base, &tname, &cols, "key");
            if let Some(t) = self.schema.tables.get_mut(&child) {
                t.uniques.push(u);
            }
        }
        for i in &parent_table.indexes {
            let mut i = i.clone();
            let cols: Vec<String> = i
                .keys
                .iter()
                .map(|k| match &k.target {
                    IndexTarget::Column(c) => c.clone(),
                    IndexTarget::Expr(_) => "expr".to_string(),
                })
                .collect();
            let cols = cols.join("_");
            let base = pg_object_name(&tname, &cols, "idx");
            i.name = self.choose_relation_name(&schema, &base, &tname, &cols, "idx");
            if let Some(t) = self.schema.tables.get_mut(&child) {
                t.indexes.push(i);
            }
        }
        Ok(())
    }
}

/// A partition key from the catalog (`pg_get_partkeydef`: `RANGE (created_at)`), parsed by
/// the loader's code so that files and databases agree.
pub fn partition_key(text: &str, dialect: &dyn Dialect) -> Result<PartitionBy, LoadError> {
    let sql = format!("CREATE TABLE ferry_partition_key () PARTITION BY {text}");
    let schema = load_str(&sql, "pg_get_partkeydef", dialect)?;
    schema
        .tables
        .into_values()
        .next()
        .and_then(|t| t.partition_by)
        .ok_or_else(|| LoadError {
            file: "pg_get_partkeydef".into(),
            line: 0,
            column: 0,
            message: format!("cannot read the partition key {text}"),
        })
}
