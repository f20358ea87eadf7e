//! Partition bounds (PostgreSQL): the comparison key of `FOR VALUES ...` / `DEFAULT`.
//!
//! The server stores a bound as values of the partition key's types and prints them back
//! its own way (`pg_get_expr(relpartbound)`): `'2024-01-01'` on a `timestamp` key comes back
//! as `'2024-01-01 00:00:00'`, `1.5` on a `numeric(10,2)` key as `1.50`, `'10'` on an integer
//! key as `10`, `MODULUS 4` as `modulus 4`. The key folds those spellings without knowing
//! the key's types: keywords lower-cased, casts dropped, numbers (quoted or not) printed
//! without a leading `+` or trailing fractional zeros, date/time strings as
//! `YYYY-MM-DD HH:MM:SS[.fff]` without their time zone offset.

use ferry_core::Expr;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// A bound as written (`sql`, whitespace collapsed) and its normalised key.
pub fn partition_bound(sql: &str) -> Expr {
    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    Expr {
        key: bound_key(&sql),
        sql,
    }
}

fn bound_key(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return sql.to_lowercase();
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match t {
            Token::DoubleColon => {
                // A cast: skip the type name, up to the next `,` or `)` at this depth.
                let mut depth = 0usize;
                i += 1;
                while let Some(t) = tokens.get(i) {
                    match t {
                        Token::LParen => depth += 1,
                        Token::RParen if depth == 0 => break,
                        Token::RParen => depth -= 1,
                        Token::Comma if depth == 0 => break,
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            Token::Minus
                if matches!(tokens.get(i + 1), Some(Token::Number(..)))
                    && matches!(out.last().map(String::as_str), Some("(") | Some(",")) =>
            {
                if let Some(Token::Number(n, _)) = tokens.get(i + 1) {
                    out.push(number(&format!("-{n}")).unwrap_or_else(|| format!("-{n}")));
                }
                i += 2;
                continue;
            }
            Token::Number(n, _) => out.push(number(n).unwrap_or_else(|| n.clone())),
            Token::SingleQuotedString(s)
            | Token::EscapedStringLiteral(s)
            | Token::NationalStringLiteral(s) => out.push(literal(s)),
            Token::Word(w) if w.quote_style.is_none() => out.push(w.value.to_lowercase()),
            other => out.push(other.to_string()),
        }
        i += 1;
    }
    out.join(" ")
}

/// A string constant's canonical form: a number, a date/time, or the quoted text.
fn literal(s: &str) -> String {
    if let Some(n) = number(s.trim()) {
        return n;
    }
    if let Some(ts) = timestamp(s.trim()) {
        return format!("'{ts}'");
    }
    format!("'{}'", s.replace('\'', "''"))
}

/// `+1.50` → `1.5`, `2.00` → `2`, `007` → `7`; `None` when not a plain decimal number.
fn number(s: &str) -> Option<String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    let zero = int.is_empty() && frac.is_empty();
    if neg && !zero {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// `2024-01-01`, `2024-01-01T10:00`, `2024-01-01 10:00:00.500+02` → `2024-01-01 00:00:00`,
/// `2024-01-01 10:00:00`, `2024-01-01 10:00:00.5`.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    let dashes = b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-');
    if !(dashes && digits(0..4) && digits(5..7) && digits(8..10)) {
        return None;
    }
    let date = &s[..10];
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(format!("{date} 00:00:00"));
    }
    let rest = rest.strip_prefix([' ', 'T'])?;
    // Time: HH:MM[:SS[.fff]], then an optional offset or `Z`.
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(rest.len());
    let (time, zone) = rest.split_at(end);
    let zone = zone.trim();
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.starts_with(['+', '-'])
            && zone[1..].bytes().all(|c| c.is_ascii_digit() || c == b':'));
    if !zone_ok {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let parts: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let seconds = parts.get(2).copied().unwrap_or("00");
    let frac = frac.trim_end_matches('0');
    let mut out = format!("{date} {}:{}:{seconds}", parts[0], parts[1]);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(partition_bound(a).key, partition_bound(b).key, "{a} vs {b}");
    }

    #[test]
    fn server_spellings_fold() {
        same(
            "for values from ('2024-01-01') to ('2024-02-01')",
            "FOR VALUES FROM ('2024-01-01 00:00:00') TO ('2024-02-01 00:00:00')",
        );
        same(
            "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')",
            "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')",
        );
        same(
            "FOR VALUES FROM (1.5, '2024-01-01 00:00') TO (2, '2025-01-01')",
            "FOR VALUES FROM (1.50, '2024-01-01') TO (2.00, '2025-01-01')",
        );
        same(
            "FOR VALUES FROM (MINVALUE, minvalue) TO ('10', maxvalue)",
            "FOR VALUES FROM (MINVALUE, MINVALUE) TO (10, MAXVALUE)",
        );
        same(
            "FOR VALUES WITH (MODULUS 4, REMAINDER 0)",
            "FOR VALUES WITH (modulus 4, remainder 0)",
        );
        same(
            "for values in ('US','CA', 'MX')",
            "FOR VALUES IN ('US', 'CA', 'MX')",
        );
        same("FOR VALUES IN (-1, '-2')", "FOR VALUES IN (- 1, -2)");
        same("FOR VALUES IN ('1'::text)", "FOR VALUES IN ('1')");
        same("default", "DEFAULT");
    }

    #[test]
    fn real_changes_stay_visible() {
        let key = |s: &str| partition_bound(s).key;
        assert_ne!(
            key("FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')"),
            key("FOR VALUES FROM ('2024-01-01') TO ('2024-03-01')")
        );
        assert_ne!(key("FOR VALUES IN ('us')"), key("FOR VALUES IN ('US')"));
        assert_ne!(
            key("FOR VALUES IN ('a', 'b')"),
            key("FOR VALUES IN ('b', 'a')")
        );
        assert_ne!(key("FOR VALUES IN (1)"), key("FOR VALUES IN (10)"));
        assert_ne!(key("DEFAULT"), key("FOR VALUES IN (NULL)"));
    }
}
