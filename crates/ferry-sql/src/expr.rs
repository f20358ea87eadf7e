//! Expressions: their canonical comparison key.
//!
//! PostgreSQL rewrites what it stores (`price > 0` comes back as `(price > (0)::numeric)`,
//! `s IN ('a','b')` as `((s)::text = ANY ((ARRAY['a'::character varying, ...])::text[]))`),
//! so expressions are compared through a key: the expression parsed by sqlparser, with
//! redundant parentheses, casts of literals and column references, and equivalent forms
//! folded, then re-printed fully parenthesised. The text itself (`Expr::sql`) is kept as
//! written for rendering.

use std::ops::ControlFlow;

use ferry_core::{DialectKind, Expr};
use sqlparser::ast::{
    self, BinaryOperator, Expr as Ast, UnaryOperator, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::{Dialect as SqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// Builds an [`Expr`] from SQL text: `sql` keeps the text, `key` its normalised form.
pub fn expr(sql: &str, kind: DialectKind) -> Expr {
    let sql = sql.trim();
    Expr {
        sql: sql.to_string(),
        key: key(sql, kind),
    }
}

/// A column default, or `None` for one that is only NULL (`DEFAULT NULL::varchar`): a
/// default of NULL is no default, and PostgreSQL keeps what it was given.
pub fn column_default(sql: &str, kind: DialectKind) -> Option<Expr> {
    let e = expr(sql, kind);
    (e.key != key("NULL", kind)).then_some(e)
}

pub(crate) fn sql_dialect(kind: DialectKind) -> &'static dyn SqlDialect {
    match kind {
        DialectKind::Postgres => &PostgreSqlDialect {},
        DialectKind::Sqlite => &SQLiteDialect {},
    }
}

fn parse(sql: &str, kind: DialectKind) -> Result<Ast, sqlparser::parser::ParserError> {
    Parser::new(sql_dialect(kind))
        .try_with_sql(sql)
        .and_then(|mut p| {
            let e = p.parse_expr()?;
            // Trailing tokens mean the parser understood only a prefix.
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(e)
        })
}

/// Catches a DEFAULT that swallowed a misspelt keyword (`DEFAULT 'x' FROBNICATE`): the
/// loader finds a default's end by looking for the next constraint keyword. Only an
/// expression that sqlparser rejects *and* that parses without its trailing word is
/// refused, so valid PostgreSQL that sqlparser does not know (`money '1.00'`) still loads.
pub(crate) fn validate_default(sql: &str, kind: DialectKind) -> Result<(), String> {
    let Err(e) = parse(sql, kind) else {
        return Ok(());
    };
    let trimmed = sql.trim_end();
    let last_word_start = trimmed
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let word = &trimmed[last_word_start..];
    let before = trimmed[..last_word_start].trim_end();
    let is_bare_word = !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit());
    if is_bare_word && !before.is_empty() && !before.ends_with("::") && parse(before, kind).is_ok()
    {
        return Err(e.to_string());
    }
    Ok(())
}

fn key(sql: &str, kind: DialectKind) -> String {
    match parse(sql, kind) {
        Ok(mut e) => {
            let _ = e.visit(&mut Canonicalize);
            e.to_string()
        }
        // Not understood: fall back to the text with whitespace collapsed, which still
        // makes two identical spellings equal.
        Err(_) => sql.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

pub(crate) struct Canonicalize;

impl VisitorMut for Canonicalize {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Ast) -> ControlFlow<()> {
        // Children are already canonical (post-order), so each rule looks one level down.
        loop {
            let replacement = match e {
                Ast::Nested(inner) => Some((**inner).clone()),
                Ast::Cast {
                    kind: ast::CastKind::DoubleColon,
                    expr,
                    ..
                } if is_castable_away(expr) => Some((**expr).clone()),
                // `CAST(x AS t)` is printed `x::t`.
                Ast::Cast {
                    kind: kind @ ast::CastKind::Cast,
                    ..
                } => {
                    *kind = ast::CastKind::DoubleColon;
                    continue;
                }
                // The server coerces `character varying` to text where text is wanted:
                // `(x::character varying)::text`.
                Ast::Cast {
                    kind: ast::CastKind::DoubleColon,
                    expr,
                    data_type,
                    ..
                } if data_type.to_string().eq_ignore_ascii_case("text")
                    && matches!(&**expr, Ast::Cast { data_type: inner, .. }
                        if inner.to_string().starts_with("character varying")) =>
                {
                    Some((**expr).clone())
                }
                // `current_setting('x')::text`: the server drops a cast to text of a
                // function that returns text.
                Ast::Cast {
                    kind: ast::CastKind::DoubleColon,
                    expr,
                    data_type,
                    ..
                } if data_type.to_string().eq_ignore_ascii_case("text") && returns_text(expr) => {
                    Some((**expr).clone())
                }
                // Type names in casts as the server prints them (`::character varying`,
                // `::integer`).
                Ast::Cast { data_type, .. } => {
                    if let Some(t) = canonical_cast_type(data_type) {
                        *data_type = t;
                    }
                    None
                }
                Ast::TypedString(ts) => Some(Ast::Value(ts.value.clone())),
                // The server prints `LIKE` as `~~` and `ILIKE` as `~~*`.
                Ast::Like {
                    negated,
                    any: false,
                    expr,
                    pattern,
                    escape_char: None,
                } => Some(Ast::BinaryOp {
                    left: expr.clone(),
                    op: if *negated {
                        BinaryOperator::PGNotLikeMatch
                    } else {
                        BinaryOperator::PGLikeMatch
                    },
                    right: pattern.clone(),
                }),
                Ast::ILike {
                    negated,
                    any: false,
                    expr,
                    pattern,
                    escape_char: None,
                } => Some(Ast::BinaryOp {
                    left: expr.clone(),
                    op: if *negated {
                        BinaryOperator::PGNotILikeMatch
                    } else {
                        BinaryOperator::PGILikeMatch
                    },
                    right: pattern.clone(),
                }),
                // `interval '1 day'` is stored as `'1 day'::interval`, whose cast goes too.
                Ast::Interval(i)
                    if i.leading_field.is_none()
                        && i.last_field.is_none()
                        && i.leading_precision.is_none()
                        && i.fractional_seconds_precision.is_none() =>
                {
                    Some((*i.value).clone())
                }
                Ast::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr,
                } => match &**expr {
                    Ast::Value(v) => number_of(&v.value)
                        .map(|n| Ast::value(Value::Number(format!("-{n}"), false))),
                    _ => None,
                },
                Ast::Value(v) => match &v.value {
                    // PostgreSQL prints negative numeric defaults as '-1'::integer.
                    Value::SingleQuotedString(s) if looks_numeric(s) => {
                        Some(Ast::value(Value::Number(s.clone(), false)))
                    }
                    _ => None,
                },
                Ast::AnyOp {
                    left,
                    compare_op: BinaryOperator::Eq,
                    right,
                    ..
                } => array_items(right).map(|list| Ast::InList {
                    expr: left.clone(),
                    list,
                    negated: false,
                }),
                Ast::AllOp {
                    left,
                    compare_op: BinaryOperator::NotEq,
                    right,
                } => array_items(right).map(|list| Ast::InList {
                    expr: left.clone(),
                    list,
                    negated: true,
                }),
                Ast::Between {
                    expr,
                    negated: false,
                    low,
                    high,
                } => Some(Ast::BinaryOp {
                    left: Box::new(Ast::BinaryOp {
                        left: expr.clone(),
                        op: BinaryOperator::GtEq,
                        right: low.clone(),
                    }),
                    op: BinaryOperator::And,
                    right: Box::new(Ast::BinaryOp {
                        left: expr.clone(),
                        op: BinaryOperator::LtEq,
                        right: high.clone(),
                    }),
                }),
                Ast::Identifier(id) => {
                    fold(id);
                    None
                }
                Ast::CompoundIdentifier(ids) => {
                    ids.iter_mut().for_each(fold);
                    None
                }
                Ast::Function(f) => {
                    f.name.0.iter_mut().for_each(|part| {
                        if let ast::ObjectNamePart::Identifier(id) = part {
                            fold(id)
                        }
                    });
                    // pg_catalog.now() and now() are the same function.
                    if f.name.0.len() == 2 && f.name.0[0].to_string() == "pg_catalog" {
                        f.name.0.remove(0);
                    }
                    None
                }
                _ => None,
            };
            match replacement {
                Some(r) => *e = r,
                None => break,
            }
        }
        // Fully parenthesise operands so that removing the written parentheses above never
        // merges two different groupings into one key.
        match e {
            Ast::BinaryOp { left, right, .. } => {
                wrap_compound(left);
                wrap_compound(right);
            }
            Ast::UnaryOp { expr, .. } | Ast::IsNull(expr) | Ast::IsNotNull(expr) => {
                wrap_compound(expr)
            }
            Ast::InList { expr, .. } => wrap_compound(expr),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

pub(crate) fn fold(id: &mut ast::Ident) {
    if id.quote_style.is_none() {
        id.value = id.value.to_lowercase();
    } else if id.quote_style == Some('"') {
        // "price" and price name the same column when the quoted name is already folded.
        if id
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            id.quote_style = None;
        }
    }
}

/// A cast's type under the name PostgreSQL prints (`varchar(20)` → `character varying(20)`,
/// `int4` → `integer`, `timestamptz` → `timestamp with time zone`); `None` when it already
/// is, or is not one of these.
fn canonical_cast_type(t: &ast::DataType) -> Option<ast::DataType> {
    let written = t.to_string().to_lowercase();
    let (body, array) = match written.strip_suffix("[]") {
        Some(b) => (b, "[]"),
        None => (written.as_str(), ""),
    };
    let (base, modifier) = match body.find('(') {
        Some(i) if !body.contains(" with") => (body[..i].trim(), &body[i..]),
        _ => (body, ""),
    };
    let canonical = match base {
        "varchar" | "character varying" => "character varying",
        "int" | "int4" | "integer" => "integer",
        "int8" | "bigint" => "bigint",
        "int2" | "smallint" => "smallint",
        "bool" | "boolean" => "boolean",
        "float8" | "double precision" => "double precision",
        "float4" | "real" => "real",
        "decimal" | "numeric" => "numeric",
        "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
        "timestamp" | "timestamp without time zone" => "timestamp without time zone",
        "text" | "date" => base,
        _ => return None,
    };
    let name = format!("{canonical}{modifier}{array}");
    if name == t.to_string() {
        return None;
    }
    Some(ast::DataType::Custom(
        ast::ObjectName::from(vec![ast::Ident::new(name)]),
        Vec::new(),
    ))
}

fn is_castable_away(e: &Ast) -> bool {
    matches!(
        e,
        Ast::Value(_)
            | Ast::Identifier(_)
            | Ast::CompoundIdentifier(_)
            | Ast::Array(_)
            | Ast::InList { .. }
    ) || matches!(e, Ast::UnaryOp { op: UnaryOperator::Minus, expr } if matches!(**expr, Ast::Value(_)))
}

/// A call of a built-in function that returns `text`.
fn returns_text(e: &Ast) -> bool {
    const TEXT_FUNCTIONS: &[&str] = &[
        "current_setting",
        "lower",
        "upper",
        "md5",
        "concat",
        "concat_ws",
        "format",
        "btrim",
        "ltrim",
        "rtrim",
        "replace",
        "substr",
        "to_char",
        "initcap",
        "repeat",
        "reverse",
        "translate",
    ];
    match e {
        Ast::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
            TEXT_FUNCTIONS.contains(&name)
        }
        _ => false,
    }
}

fn array_items(e: &Ast) -> Option<Vec<Ast>> {
    match e {
        Ast::Array(a) => Some(a.elem.clone()),
        Ast::Nested(inner) => array_items(inner),
        _ => None,
    }
}

fn number_of(v: &Value) -> Option<&str> {
    match v {
        Value::Number(n, _) => Some(n),
        _ => None,
    }
}

fn looks_numeric(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && !digits.starts_with('.')
}

fn wrap_compound(e: &mut Box<Ast>) {
    let compound = matches!(
        **e,
        Ast::BinaryOp { .. }
            | Ast::UnaryOp { .. }
            | Ast::InList { .. }
            | Ast::IsNull(_)
            | Ast::IsNotNull(_)
            | Ast::Like { .. }
            | Ast::ILike { .. }
            | Ast::Between { .. }
    );
    if compound {
        let inner = std::mem::replace(&mut **e, Ast::value(Value::Null));
        **e = Ast::Nested(Box::new(inner));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_default_is_no_default() {
        for null in ["NULL", "null", "NULL::character varying", "(NULL)::text"] {
            assert_eq!(column_default(null, DialectKind::Postgres), None, "{null}");
        }
        assert!(column_default("'NULL'", DialectKind::Postgres).is_some());
        assert!(column_default("0", DialectKind::Postgres).is_some());
    }

    fn same(a: &str, b: &str) {
        let (x, y) = (
            expr(a, DialectKind::Postgres),
            expr(b, DialectKind::Postgres),
        );
        assert_eq!(x.key, y.key, "{a}  vs  {b}");
    }

    fn differ(a: &str, b: &str) {
        let (x, y) = (
            expr(a, DialectKind::Postgres),
            expr(b, DialectKind::Postgres),
        );
        assert_ne!(x.key, y.key, "{a}  vs  {b}");
    }

    #[test]
    fn cast_spellings_compare_equal() {
        same(
            "(a + b)::varchar <> 'x'",
            "((((a + b))::character varying)::text <> 'x'::text)",
        );
        same("CAST(a + 1 AS int8) > 0", "(((a + 1))::bigint > 0)");
        same("(a / 2)::decimal(10,2)", "((a / 2))::numeric(10,2)");
        same(
            "(t + 1)::timestamptz[]",
            "((t + 1))::timestamp with time zone[]",
        );
        differ("(a + b)::varchar", "(a + b)::text");
        differ("(a + b)::int4", "(a + b)::int8");
    }

    #[test]
    fn server_rewrites_compare_equal() {
        same("price > 0", "(price > (0)::numeric)");
        same("'active'", "'active'::character varying");
        same("-1", "'-1'::integer");
        same(
            "status IN ('a', 'b')",
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        );
        same(
            "nextval('users_id_seq')",
            "nextval('users_id_seq'::regclass)",
        );
        same("x BETWEEN 1 AND 10", "((x >= 1) AND (x <= 10))");
        same("NOW()", "now()");
        same("f(x)::int > 0", "(f(x))::integer > 0");
        same("f(x)::int8", "f(x)::bigint");
        same("Price > 0", "\"price\" > 0");
        same("'{}'", "'{}'::jsonb");
        same("name LIKE 'a%'", "(name ~~ 'a%'::text)");
        same("name NOT ILIKE 'a%'", "(name !~~* 'a%'::text)");
        same(
            "tenant_id::text = current_setting('app.tenant_id', true)::text",
            "((tenant_id)::text = current_setting('app.tenant_id'::text, true))",
        );
    }

    #[test]
    fn real_differences_stay_different() {
        differ("a AND (b OR c)", "(a AND b) OR c");
        differ("'Active'", "'active'");
        differ("price > 0", "price >= 0");
        differ("\"Price\" > 0", "price > 0");
    }
}
