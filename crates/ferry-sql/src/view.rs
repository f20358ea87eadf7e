//! Views: the normalised key of a view's query, its output columns and the relations it
//! reads.
//!
//! PostgreSQL stores a view's query as a parse tree and prints it back its own way
//! (`pg_get_viewdef`): every column qualified (`users.id`), `*` expanded, an `AS` alias on
//! every computed output (`count(*) AS count`), casts on literals, `LIKE` as `~~`, `INNER
//! JOIN` as `JOIN`, the explicit column list folded into the aliases. The key undoes those
//! differences on both sides, so that the text of a schema file and the text read from a
//! database compare equal:
//!
//! 1. expressions are canonicalised as for defaults and checks ([`crate::expr`]);
//! 2. in a SELECT that reads exactly one relation, column qualifiers naming it are removed;
//! 3. `*` and `t.*` are expanded when the relations' columns are known;
//! 4. every output gets an explicit alias (its derived name when none is written), and the
//!    view's explicit column list replaces the top-level aliases;
//! 5. `INNER JOIN` / `LEFT OUTER JOIN` become `JOIN` / `LEFT JOIN`, table names are folded and
//!    lose the default schema.
//!
//! What still differs is documented in docs/views.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;

use ferry_core::{QualifiedName, Schema, Table, View, ViewColumn};
use sqlparser::ast::{
    self, Expr as Ast, Ident, JoinOperator, ObjectName, ObjectNamePart, Query, SelectItem, SetExpr,
    TableFactor, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::expr::{fold, Canonicalize};

const DEFAULT_NS: &str = "public";

/// Fills in every view's `query.key`, `outputs`, `references` and `calls` from its query text, the
/// view's explicit column list and the columns of the schema's tables (and of the views it
/// reads, resolved first). Loading and inspection both call this, so both sides of a diff
/// are normalised the same way.
pub fn resolve_views(schema: &mut Schema) {
    // A partition's columns are its root parent's.
    fn root<'s>(tables: &'s BTreeMap<QualifiedName, Table>, mut t: &'s Table) -> &'s Table {
        for _ in 0..tables.len() {
            match t.partition_of.as_ref().and_then(|o| tables.get(&o.parent)) {
                Some(parent) => t = parent,
                None => break,
            }
        }
        t
    }
    let mut columns: HashMap<QualifiedName, Vec<String>> = schema
        .tables
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                root(&schema.tables, t)
                    .columns
                    .iter()
                    .map(|c| c.name.clone())
                    .collect(),
            )
        })
        .collect();
    let relations: BTreeSet<QualifiedName> = schema
        .tables
        .keys()
        .chain(schema.views.keys())
        .cloned()
        .collect();
    let functions: BTreeSet<QualifiedName> =
        schema.functions.keys().map(|f| f.name.clone()).collect();
    // Added to what inspection found in `pg_depend`, if anything.
    for view in schema.views.values_mut() {
        view.references
            .extend(references(&view.query.sql, &relations));
        view.references.remove(&view.name);
        view.calls.extend(
            function_calls(&view.query.sql)
                .into_iter()
                .filter(|f| functions.contains(f)),
        );
    }
    // Views over views: a view's `*` needs the outputs of the views it reads.
    for name in view_dependency_order(&schema.views) {
        let view = schema.views.get_mut(&name).expect("ordered names exist");
        let (key, outputs) = query_key(&view.query.sql, &view.columns, &columns);
        view.query.key = key;
        view.outputs = outputs;
        if !view.outputs.is_empty() {
            columns.insert(
                name.clone(),
                view.outputs.iter().map(|o| o.name.clone()).collect(),
            );
        }
    }
}

/// View names ordered so that every view comes after the views it references (by name
/// where there is no dependency; a cycle, impossible in a valid schema, keeps name order).
pub fn view_dependency_order(views: &BTreeMap<QualifiedName, View>) -> Vec<QualifiedName> {
    let mut out: Vec<QualifiedName> = Vec::new();
    let mut placed: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut visiting: BTreeSet<QualifiedName> = BTreeSet::new();
    fn visit(
        name: &QualifiedName,
        views: &BTreeMap<QualifiedName, View>,
        placed: &mut BTreeSet<QualifiedName>,
        visiting: &mut BTreeSet<QualifiedName>,
        out: &mut Vec<QualifiedName>,
    ) {
        if placed.contains(name) || !visiting.insert(name.clone()) {
            return;
        }
        if let Some(v) = views.get(name) {
            for r in &v.references {
                if views.contains_key(r) {
                    visit(r, views, placed, visiting, out);
                }
            }
        }
        visiting.remove(name);
        placed.insert(name.clone());
        out.push(name.clone());
    }
    for name in views.keys() {
        visit(name, views, &mut placed, &mut visiting, &mut out);
    }
    out
}

/// The relations of `known` named right after FROM, JOIN or a comma in the query's tokens.
/// A select-list item after a comma that happens to name a relation is a harmless false
/// positive: references only decide which views are re-created around a change.
pub fn references(sql: &str, known: &BTreeSet<QualifiedName>) -> BTreeSet<QualifiedName> {
    let mut out = BTreeSet::new();
    let tokens = significant_tokens(sql);
    for i in 0..tokens.len() {
        let starts_name = match &tokens[i] {
            Token::Comma => true,
            Token::Word(w) if w.quote_style.is_none() => {
                w.value.eq_ignore_ascii_case("from") || w.value.eq_ignore_ascii_case("join")
            }
            _ => false,
        };
        if !starts_name {
            continue;
        }
        // `FROM ONLY t`: the relation comes one word later.
        let at = match tokens.get(i + 1) {
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("only") =>
            {
                i + 2
            }
            _ => i + 1,
        };
        let Some(first) = tokens.get(at).and_then(name_of) else {
            continue;
        };
        let name = match (tokens.get(at + 1), tokens.get(at + 2).and_then(name_of)) {
            (Some(Token::Period), Some(second)) => QualifiedName::new(first, second),
            _ => QualifiedName::new(DEFAULT_NS, first),
        };
        if known.contains(&name) {
            out.insert(name);
        }
    }
    out
}

/// Every name called like a function in `sql` (`name(` or `schema.name(`); an unqualified
/// name is taken to be in `public`. Keywords followed by a parenthesis (`IN (`, `ANY (`) come
/// out too: callers match the result against the functions they know.
pub fn function_calls(sql: &str) -> BTreeSet<QualifiedName> {
    let mut out = BTreeSet::new();
    let tokens = significant_tokens(sql);
    for (i, t) in tokens.iter().enumerate() {
        if !matches!(tokens.get(i + 1), Some(Token::LParen)) {
            continue;
        }
        let Some(name) = name_of(t) else { continue };
        let schema = match (i.checked_sub(1).map(|j| &tokens[j]), i.checked_sub(2)) {
            (Some(Token::Period), Some(j)) => name_of(&tokens[j]),
            _ => None,
        };
        out.insert(QualifiedName::new(
            schema.unwrap_or_else(|| DEFAULT_NS.to_string()),
            name,
        ));
    }
    out
}

/// The tokens of `sql` without whitespace; none when it does not tokenize.
fn significant_tokens(sql: &str) -> Vec<Token> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .unwrap_or_default();
    tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect()
}

/// A word as a name: unquoted words fold to lower case, as the server folds them.
fn name_of(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    }
}

/// An expression that may hold subqueries (a policy's USING or WITH CHECK): keyed as
/// other expressions are ([`crate::expr`]), and every query inside it normalised as a view's
/// query is (qualifiers of a SELECT's one relation removed, default schema dropped).
pub fn expr_with_queries(sql: &str) -> ferry_core::Expr {
    let sql = sql.trim();
    let parsed = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| {
            let e = p.parse_expr()?;
            p.expect_token(&Token::EOF)?;
            Ok(e)
        });
    let key = match parsed {
        Ok(mut e) => {
            let _ = e.visit(&mut Canonicalize);
            let columns = HashMap::new();
            let _ = e.visit(&mut Normalize { columns: &columns });
            e.to_string()
        }
        Err(_) => sql.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    ferry_core::Expr {
        sql: sql.to_string(),
        key,
    }
}

/// The normalised key of a view query and its output columns. A query sqlparser cannot
/// parse keys as its whitespace-collapsed text (identical spellings still compare equal)
/// and has no known outputs.
pub fn query_key(
    sql: &str,
    explicit_columns: &[String],
    columns: &HashMap<QualifiedName, Vec<String>>,
) -> (String, Vec<ViewColumn>) {
    let text = sql.trim().trim_end_matches(';').trim();
    let parsed = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut p| {
            let q = p.parse_query()?;
            p.expect_token(&Token::EOF)?;
            Ok(q)
        });
    let mut query = match parsed {
        Ok(q) => q,
        Err(_) => {
            let mut key = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !explicit_columns.is_empty() {
                key = format!("({}) {key}", explicit_columns.join(", "));
            }
            return (key, Vec::new());
        }
    };
    let _ = query.visit(&mut Canonicalize);
    let _ = query.visit(&mut Normalize { columns });
    let mut outputs = Vec::new();
    if let Some(projection) = first_projection(&mut query) {
        let all_named = projection
            .iter()
            .all(|i| matches!(i, SelectItem::ExprWithAlias { .. }));
        if all_named {
            // The explicit column list renames the first outputs, as PostgreSQL does.
            for (item, name) in projection.iter_mut().zip(explicit_columns) {
                if let SelectItem::ExprWithAlias { alias, .. } = item {
                    *alias = Ident::new(name.clone());
                    fold(alias);
                }
            }
            for item in projection.iter() {
                if let SelectItem::ExprWithAlias { expr, alias } = item {
                    outputs.push(ViewColumn {
                        name: alias.value.clone(),
                        key: expr.to_string(),
                    });
                }
            }
        }
    }
    let mut key = query.to_string();
    if outputs.is_empty() && !explicit_columns.is_empty() {
        key = format!("({}) {key}", explicit_columns.join(", "));
    }
    (key, outputs)
}

/// The outputs of a query's first SELECT (the one that names the columns of a UNION).
fn first_projection(query: &mut Query) -> Option<&mut Vec<SelectItem>> {
    let mut body = &mut *query.body;
    loop {
        match body {
            SetExpr::Select(s) => return Some(&mut s.projection),
            SetExpr::Query(q) => body = &mut *q.body,
            SetExpr::SetOperation { left, .. } => body = &mut **left,
            _ => return None,
        }
    }
}

/// The structural normalisation of every query level, innermost first.
struct Normalize<'c> {
    columns: &'c HashMap<QualifiedName, Vec<String>>,
}

impl VisitorMut for Normalize<'_> {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        // Common table expressions act as relations of this query level.
        let mut ctes: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(with) = &mut query.with {
            for cte in &mut with.cte_tables {
                fold(&mut cte.alias.name);
                let names = output_names(&cte.query);
                if let Some(names) = names {
                    ctes.insert(cte.alias.name.value.clone(), names);
                }
            }
        }
        let scope = match &mut *query.body {
            SetExpr::Select(select) => normalize_select(select, self.columns, &ctes),
            body => {
                normalize_set_expr(body, self.columns, &ctes);
                Scope::Other
            }
        };
        // ORDER BY belongs to the query, not the SELECT, but reads the same relations (or
        // the outputs, whose names are left alone).
        let outputs = output_names(query).unwrap_or_default();
        match (scope, &mut query.order_by) {
            (Scope::Single(qualifier), Some(order_by)) => {
                let _ = order_by.visit(&mut StripQualifier {
                    qualifier: &qualifier,
                });
            }
            (Scope::Several(relations), Some(order_by)) => {
                let relations: Vec<(&str, &Vec<String>)> =
                    relations.iter().map(|(q, c)| (q.as_str(), c)).collect();
                let _ = order_by.visit(&mut QualifyColumns {
                    relations: &relations,
                    depth: 0,
                    except: &outputs,
                });
            }
            _ => {}
        }
        // The server prints what an ORDER BY item sorts by: an output name or position is
        // printed as that output's expression.
        if let (SetExpr::Select(select), Some(order_by)) = (&*query.body, &mut query.order_by) {
            if let ast::OrderByKind::Expressions(items) = &mut order_by.kind {
                for item in items {
                    if let Some(e) = sorted_output(select, &item.expr) {
                        item.expr = e;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The expression of the output an ORDER BY item names (`ORDER BY amount`, `ORDER BY 2`),
/// if it names one. A constant output sorted by position stays a position, as printed.
fn sorted_output(select: &ast::Select, item: &Ast) -> Option<Ast> {
    let outputs: Vec<(&Ast, Option<&Ident>)> = select
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { expr, alias } => Some((expr, Some(alias))),
            SelectItem::UnnamedExpr(expr) => Some((expr, None)),
            _ => None,
        })
        .collect();
    if outputs.len() != select.projection.len() {
        return None;
    }
    match item {
        Ast::Identifier(id) => {
            let mut named = outputs
                .iter()
                .filter(|(_, alias)| alias.is_some_and(|a| a.value == id.value));
            match (named.next(), named.next()) {
                (Some((e, _)), None) => Some((*e).clone()),
                _ => None,
            }
        }
        Ast::Value(v) => match &v.value {
            ast::Value::Number(n, _) => {
                let at: usize = n.parse().ok()?;
                let (e, _) = outputs.get(at.checked_sub(1)?)?;
                (!matches!(e, Ast::Value(_))).then(|| (**e).clone())
            }
            _ => None,
        },
        _ => None,
    }
}

fn normalize_set_expr(
    body: &mut SetExpr,
    columns: &HashMap<QualifiedName, Vec<String>>,
    ctes: &HashMap<String, Vec<String>>,
) {
    match body {
        SetExpr::Select(select) => {
            normalize_select(select, columns, ctes);
        }
        SetExpr::SetOperation { left, right, .. } => {
            normalize_set_expr(left, columns, ctes);
            normalize_set_expr(right, columns, ctes);
        }
        // A parenthesised query was normalised as its own level.
        _ => {}
    }
}

/// What a SELECT reads, for its query's ORDER BY.
enum Scope {
    /// One relation, by its qualifier.
    Single(String),
    /// Several, each with its qualifier and columns (all known).
    Several(Vec<(String, Vec<String>)>),
    Other,
}

/// A relation of a FROM clause: what qualifies its columns, and its columns if known.
struct Relation {
    qualifier: String,
    columns: Option<Vec<String>>,
}

fn normalize_select(
    select: &mut ast::Select,
    columns: &HashMap<QualifiedName, Vec<String>>,
    ctes: &HashMap<String, Vec<String>>,
) -> Scope {
    let mut relations: Vec<Relation> = Vec::new();
    // `JOIN ... USING` and NATURAL merge columns: `*` over them is not expanded.
    let mut merged_columns = false;
    let relation_of = |factor: &mut TableFactor| match factor {
        TableFactor::Table { name, alias, .. } => {
            fold_object_name(name);
            if let Some(a) = alias {
                fold(&mut a.name);
            }
            let parts: Vec<String> = name
                .0
                .iter()
                .map(|p| match p {
                    ObjectNamePart::Identifier(i) => i.value.clone(),
                    other => other.to_string(),
                })
                .collect();
            let table_columns = match parts.as_slice() {
                [one] => ctes.get(one).cloned().or_else(|| {
                    columns
                        .get(&QualifiedName::new(DEFAULT_NS, one.clone()))
                        .cloned()
                }),
                [schema, one] => columns
                    .get(&QualifiedName::new(schema.clone(), one.clone()))
                    .cloned(),
                _ => None,
            };
            let qualifier = match alias {
                Some(a) if a.columns.is_empty() => a.name.value.clone(),
                // Aliased columns rename the relation's columns: not tracked.
                Some(a) => {
                    return Some(Relation {
                        qualifier: a.name.value.clone(),
                        columns: None,
                    })
                }
                None => parts.last().cloned().unwrap_or_default(),
            };
            Some(Relation {
                qualifier,
                columns: table_columns,
            })
        }
        TableFactor::Derived {
            subquery, alias, ..
        } => {
            let alias = alias.as_mut()?;
            fold(&mut alias.name);
            Some(Relation {
                qualifier: alias.name.value.clone(),
                columns: output_names(subquery).filter(|_| alias.columns.is_empty()),
            })
        }
        _ => None,
    };
    let mut complete = true;
    for twj in &mut select.from {
        match relation_of(&mut twj.relation) {
            Some(r) => relations.push(r),
            None => complete = false,
        }
        for join in &mut twj.joins {
            match relation_of(&mut join.relation) {
                Some(r) => relations.push(r),
                None => complete = false,
            }
            let op = std::mem::replace(&mut join.join_operator, JoinOperator::CrossApply);
            join.join_operator = match op {
                JoinOperator::Inner(c) => JoinOperator::Join(c),
                JoinOperator::LeftOuter(c) => JoinOperator::Left(c),
                JoinOperator::RightOuter(c) => JoinOperator::Right(c),
                other => other,
            };
            if let JoinOperator::Join(c)
            | JoinOperator::Left(c)
            | JoinOperator::Right(c)
            | JoinOperator::FullOuter(c) = &join.join_operator
            {
                if matches!(
                    c,
                    ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural
                ) {
                    merged_columns = true;
                }
            }
        }
        for factor in
            std::iter::once(&mut twj.relation).chain(twj.joins.iter_mut().map(|j| &mut j.relation))
        {
            if let TableFactor::Table { name, .. } = factor {
                strip_default_schema(name);
            }
        }
    }
    let single = (complete && relations.len() == 1).then(|| relations[0].qualifier.clone());

    // `*` and `t.*`, expanded when every relation involved has known columns.
    let mut projection = Vec::new();
    for item in std::mem::take(&mut select.projection) {
        let expanded: Option<Vec<SelectItem>> = match &item {
            SelectItem::Wildcard(opts) if is_plain(opts) && complete && !merged_columns => {
                let mut all = Vec::new();
                let mut known = true;
                for r in &relations {
                    match &r.columns {
                        Some(cols) => {
                            all.extend(cols.iter().map(|c| qualified_item(&r.qualifier, c)))
                        }
                        None => known = false,
                    }
                }
                known.then_some(all)
            }
            SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                opts,
            ) if is_plain(opts) => {
                let mut n = n.clone();
                fold_object_name(&mut n);
                let q = n.0.last().map(|p| match p {
                    ObjectNamePart::Identifier(i) => i.value.clone(),
                    other => other.to_string(),
                });
                relations
                    .iter()
                    .find(|r| Some(&r.qualifier) == q.as_ref())
                    .and_then(|r| r.columns.as_ref().map(|cols| (r, cols)))
                    .map(|(r, cols)| {
                        cols.iter()
                            .map(|c| qualified_item(&r.qualifier, c))
                            .collect()
                    })
            }
            _ => None,
        };
        match expanded {
            Some(items) => projection.extend(items),
            None => projection.push(item),
        }
    }
    select.projection = projection;

    let mut scope = Scope::Other;
    if let Some(qualifier) = &single {
        let _ = select.visit(&mut StripQualifier { qualifier });
        scope = Scope::Single(qualifier.clone());
    } else if complete && !merged_columns && relations.len() > 1 {
        // The server qualifies every column of a multi-relation SELECT: so does the key,
        // for a name that exactly one relation has (when every relation's columns are known).
        let known: Option<Vec<(&str, &Vec<String>)>> = relations
            .iter()
            .map(|r| r.columns.as_ref().map(|c| (r.qualifier.as_str(), c)))
            .collect();
        if let Some(known) = known {
            let _ = select.visit(&mut QualifyColumns {
                relations: &known,
                depth: 0,
                except: &[],
            });
            scope = Scope::Several(
                known
                    .iter()
                    .map(|(q, c)| (q.to_string(), (*c).clone()))
                    .collect(),
            );
        }
    }

    // Every output named: PostgreSQL prints `AS name` wherever the name is not the column's.
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(e) = item {
            let alias = Ident::new(derived_name(e));
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias,
            };
        } else if let SelectItem::ExprWithAlias { alias, .. } = item {
            fold(alias);
        }
    }
    scope
}

fn is_plain(opts: &ast::WildcardAdditionalOptions) -> bool {
    opts.opt_ilike.is_none()
        && opts.opt_exclude.is_none()
        && opts.opt_except.is_none()
        && opts.opt_replace.is_none()
        && opts.opt_rename.is_none()
}

fn qualified_item(qualifier: &str, column: &str) -> SelectItem {
    SelectItem::UnnamedExpr(Ast::CompoundIdentifier(vec![
        Ident::new(qualifier),
        Ident::new(column),
    ]))
}

/// The output names of a query's first SELECT, once normalised (all aliased); `None` when
/// some output is still a wildcard.
fn output_names(query: &Query) -> Option<Vec<String>> {
    let mut body = &*query.body;
    loop {
        match body {
            SetExpr::Select(s) => {
                return s
                    .projection
                    .iter()
                    .map(|i| match i {
                        SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                        SelectItem::UnnamedExpr(e) => Some(derived_name(e)),
                        _ => None,
                    })
                    .collect()
            }
            SetExpr::Query(q) => body = &*q.body,
            SetExpr::SetOperation { left, .. } => body = &**left,
            _ => return None,
        }
    }
}

/// The name PostgreSQL gives an unaliased output column (`FigureColname`).
fn derived_name(e: &Ast) -> String {
    match e {
        Ast::Identifier(i) => i.value.clone(),
        Ast::CompoundIdentifier(ids) => ids.last().map(|i| i.value.clone()).unwrap_or_default(),
        Ast::Function(f) => match f.name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
            _ => "?column?".to_string(),
        },
        Ast::Cast { expr, .. } => match &**expr {
            Ast::Identifier(_) | Ast::CompoundIdentifier(_) | Ast::Function(_) => {
                derived_name(expr)
            }
            _ => "?column?".to_string(),
        },
        Ast::Nested(inner) => derived_name(inner),
        Ast::Case { .. } => "case".to_string(),
        _ => "?column?".to_string(),
    }
}

fn fold_object_name(name: &mut ObjectName) {
    for part in &mut name.0 {
        if let ObjectNamePart::Identifier(i) = part {
            fold(i);
        }
    }
}

/// The server prints names in the default schema without it (it is on the search path).
fn strip_default_schema(name: &mut ObjectName) {
    if name.0.len() == 2 {
        if let ObjectNamePart::Identifier(i) = &name.0[0] {
            if i.value == DEFAULT_NS {
                name.0.remove(0);
            }
        }
    }
}

/// Turns `col` into `q.col` when exactly one of a SELECT's relations has a column `col`;
/// subqueries (their own level, normalised already) are left alone.
struct QualifyColumns<'r> {
    relations: &'r [(&'r str, &'r Vec<String>)],
    depth: usize,
    /// Names left alone: a query's output names, which ORDER BY reads first.
    except: &'r [String],
}

impl VisitorMut for QualifyColumns<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Ast) -> ControlFlow<()> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        if let Ast::Identifier(id) = e {
            if self.except.contains(&id.value) {
                return ControlFlow::Continue(());
            }
            let mut owners = self
                .relations
                .iter()
                .filter(|(_, cols)| cols.contains(&id.value));
            if let (Some((q, _)), None) = (owners.next(), owners.next()) {
                *e = Ast::CompoundIdentifier(vec![Ident::new(*q), id.clone()]);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Turns `q.col` into `col` for the one relation of a SELECT.
struct StripQualifier<'q> {
    qualifier: &'q str,
}

impl VisitorMut for StripQualifier<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Ast) -> ControlFlow<()> {
        if let Ast::CompoundIdentifier(ids) = e {
            if ids.len() == 2 && ids[0].value == self.qualifier {
                *e = Ast::Identifier(ids[1].clone());
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sql: &str, cols: &[&str]) -> String {
        let mut columns = HashMap::new();
        columns.insert(
            QualifiedName::new("public", "users"),
            vec!["id".to_string(), "name".to_string(), "status".to_string()],
        );
        columns.insert(
            QualifiedName::new("public", "orders"),
            vec!["id".to_string(), "user_id".to_string(), "total".to_string()],
        );
        let cols: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
        query_key(sql, &cols, &columns).0
    }

    fn same(a: &str, b: &str) {
        assert_eq!(key(a, &[]), key(b, &[]), "{a}\n  vs\n{b}");
    }

    #[test]
    fn server_rewrites_of_views_compare_equal() {
        same(
            "SELECT id, name FROM users",
            " SELECT users.id,\n    users.name\n   FROM users;",
        );
        same(
            "SELECT * FROM users WHERE status = 'active' ORDER BY name",
            " SELECT users.id, users.name, users.status FROM users \
             WHERE users.status::text = 'active'::text ORDER BY users.name;",
        );
        same(
            "SELECT u.id, count(o.id) AS n FROM users u LEFT OUTER JOIN orders o ON o.user_id = u.id GROUP BY u.id",
            " SELECT u.id, count(o.id) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id;",
        );
        same(
            "SELECT user_id, sum(total), max(id) FROM public.orders GROUP BY user_id",
            "SELECT orders.user_id, sum(orders.total) AS sum, max(orders.id) AS max FROM orders GROUP BY orders.user_id",
        );
        same(
            "SELECT name FROM users WHERE name LIKE 'a%' OR status IN ('x', 'y')",
            "SELECT users.name FROM users WHERE users.name ~~ 'a%'::text OR (users.status::text = ANY (ARRAY['x'::character varying, 'y'::character varying]::text[]))",
        );
        same(
            "SELECT u.*, o.total FROM users u INNER JOIN orders o ON o.user_id = u.id",
            "SELECT u.id, u.name, u.status, o.total FROM users u JOIN orders o ON o.user_id = u.id",
        );
        same(
            "SELECT id FROM users WHERE id > now() - interval '1 day'",
            "SELECT users.id FROM users WHERE users.id > (now() - '1 day'::interval)",
        );
        same(
            "WITH t AS (SELECT id FROM users) SELECT id FROM t",
            "WITH t AS ( SELECT users.id FROM users ) SELECT t.id FROM t;",
        );
    }

    #[test]
    fn unqualified_columns_of_a_join_are_qualified_like_the_server() {
        same(
            "SELECT name, total FROM users u JOIN orders o ON user_id = u.id WHERE status = 'a'",
            " SELECT u.name,\n    o.total\n   FROM users u\n     JOIN orders o ON o.user_id = u.id\n  WHERE u.status = 'a'::text;",
        );
        same(
            "SELECT name, count(total) FROM users, orders WHERE user_id = users.id GROUP BY name",
            "SELECT users.name, count(orders.total) AS count FROM users, orders \
             WHERE orders.user_id = users.id GROUP BY users.name",
        );
        // A name both relations have stays as written (the server would refuse it), and a
        // subquery keeps its own level.
        same(
            "SELECT u.id, name FROM users u JOIN orders o ON o.user_id = u.id \
             WHERE EXISTS (SELECT 1 FROM orders WHERE total > 0)",
            "SELECT u.id, u.name FROM users u JOIN orders o ON o.user_id = u.id \
             WHERE (EXISTS ( SELECT 1 FROM orders WHERE orders.total > 0))",
        );
        same(
            "SELECT name, total AS amount FROM users u JOIN orders o ON user_id = u.id ORDER BY status, amount DESC, 1",
            "SELECT u.name, o.total AS amount FROM users u JOIN orders o ON o.user_id = u.id ORDER BY u.status, o.total DESC, u.name",
        );
        same(
            "SELECT CAST(id + 1 AS varchar(10)) AS a, (id * 2)::int8 AS b, CAST(name AS text) FROM users",
            "SELECT ((users.id + 1))::character varying(10) AS a, ((users.id * 2))::bigint AS b, users.name FROM users",
        );
        same(
            "SELECT upper(name) AS n FROM users ORDER BY n",
            "SELECT upper(users.name) AS n FROM users ORDER BY (upper(users.name))",
        );
        assert_ne!(
            key(
                "SELECT name FROM users u JOIN orders o ON o.user_id = u.id",
                &[]
            ),
            key(
                "SELECT o.total AS name FROM users u JOIN orders o ON o.user_id = u.id",
                &[]
            )
        );
    }

    #[test]
    fn the_column_list_becomes_the_aliases() {
        assert_eq!(
            key("SELECT id, name FROM users", &["a", "b"]),
            key("SELECT users.id AS a, users.name AS b FROM users", &[])
        );
    }

    #[test]
    fn real_differences_stay_different() {
        assert_ne!(
            key("SELECT id FROM users", &[]),
            key("SELECT name FROM users", &[])
        );
        assert_ne!(
            key(
                "SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id",
                &[]
            ),
            key(
                "SELECT o.id FROM users u JOIN orders o ON o.user_id = u.id",
                &[]
            )
        );
        assert_ne!(
            key("SELECT id AS a FROM users", &[]),
            key("SELECT id AS b FROM users", &[])
        );
    }

    #[test]
    fn function_calls_are_names_before_a_parenthesis() {
        let calls = function_calls(
            r#"SELECT app.slug(title), "Up"(x), lower(y) FROM t WHERE price(t.*) > 0"#,
        );
        let names: Vec<String> = calls.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            names,
            ["app.slug", "public.Up", "public.lower", "public.price"]
        );
        assert!(function_calls("a + b").is_empty());
    }

    #[test]
    fn references_are_found_after_from_and_join() {
        let known: BTreeSet<QualifiedName> = ["users", "orders", "other"]
            .iter()
            .map(|n| QualifiedName::new("public", *n))
            .collect();
        let refs = references(
            "SELECT u.id FROM public.users u JOIN orders o ON o.user_id = u.id",
            &known,
        );
        let names: Vec<&str> = refs.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["orders", "users"]);
        let refs = references("SELECT id FROM ONLY other", &known);
        let names: Vec<&str> = refs.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["other"]);
    }
}
