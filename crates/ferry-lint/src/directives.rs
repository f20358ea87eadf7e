//! `ferry:allow` comments: silencing a rule on purpose, for one statement or a whole file.
//!
//! The file is tokenized once more on its own (rather than reading the comments the splitter
//! attached to statements) because the splitter drops comments after the last statement,
//! and `-- ferry:allow-file` may sit anywhere, including at the very end.

use ferry_core::DialectKind;
use ferry_sql::LoadError;
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::rules::{rule, rules};

const ALLOW: &str = "ferry:allow";
const ALLOW_FILE: &str = "ferry:allow-file";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// `ferry:allow`: the statement the comment sits before (or ends the line of).
    Statement,
    /// `ferry:allow-file`: every statement of the file.
    File,
}

/// One `ferry:allow` comment, with the known rule names it lists.
#[derive(Clone, Debug)]
pub(crate) struct Directive {
    pub(crate) scope: Scope,
    pub(crate) rules: Vec<&'static str>,
    pub(crate) line: u64,
    pub(crate) column: u64,
}

/// A directive that names no rule or an unknown one: reported as `unknown-rule`.
#[derive(Clone, Debug)]
pub(crate) struct BadName {
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
    pub(crate) hint: String,
}

/// Every directive of `text`, and the problems with their names.
pub(crate) fn scan(
    text: &str,
    origin: &str,
    kind: DialectKind,
) -> Result<(Vec<Directive>, Vec<BadName>), LoadError> {
    let mut directives = Vec::new();
    let mut bad = Vec::new();
    // Cheap exit for the common case; also keeps the second tokenization off most files.
    if !text.contains(ALLOW) {
        return Ok((directives, bad));
    }
    // Same clean-up as the splitter: psql meta-command lines are not SQL.
    let cleaned: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with('\\') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dialect: &dyn Dialect = match kind {
        DialectKind::Postgres => &PostgreSqlDialect {},
        DialectKind::Sqlite => &SQLiteDialect {},
    };
    let tokens = Tokenizer::new(dialect, &cleaned)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| LoadError {
            file: origin.to_string(),
            line: e.location.line,
            column: e.location.column,
            message: e.message,
        })?;
    for t in tokens {
        let comment = match &t.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => comment,
            Token::Whitespace(Whitespace::MultiLineComment(comment)) => comment,
            _ => continue,
        };
        let (line, column) = (t.span.start.line, t.span.start.column);
        let Some((scope, names)) = parse(comment) else {
            continue;
        };
        let directive_name = match scope {
            Scope::Statement => ALLOW,
            Scope::File => ALLOW_FILE,
        };
        if names.is_empty() {
            bad.push(BadName {
                line,
                column,
                message: format!("`{directive_name}` names no rule, so it silences nothing"),
                hint: format!("write `-- {directive_name} <rule>[, <rule>...]`"),
            });
        }
        let mut known = Vec::new();
        for name in names {
            match rule(&name) {
                Some(r) => known.push(r.name),
                None => bad.push(BadName {
                    line,
                    column,
                    message: format!("`{directive_name}` names unknown rule `{name}`"),
                    hint: match closest(&name) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => "see docs/lint.md for the rule names".to_string(),
                    },
                }),
            }
        }
        directives.push(Directive {
            scope,
            rules: known,
            line,
            column,
        });
    }
    Ok((directives, bad))
}

/// `ferry:allow a, b -- reason` → (Statement, ["a", "b"]). `None` when the comment is not a
/// directive at all.
fn parse(comment: &str) -> Option<(Scope, Vec<String>)> {
    let text = comment.trim_start();
    let (scope, rest) = if let Some(rest) = text.strip_prefix(ALLOW_FILE) {
        (Scope::File, rest)
    } else if let Some(rest) = text.strip_prefix(ALLOW) {
        (Scope::Statement, rest)
    } else {
        return None;
    };
    // `ferry:allowed` or `ferry:allow-files` are not this directive; the second is close
    // enough to be a typo worth reporting, so only a letter right after `allow` opts out.
    if scope == Scope::Statement && rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    // The names end at a ` -- reason` or at the end of the comment's first line.
    let rest = rest.lines().next().unwrap_or("");
    let names = match rest.find("--") {
        Some(i) => &rest[..i],
        None => rest,
    };
    let names = names
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    Some((scope, names))
}

/// The known rule nearest to a misspelt name, when it is near enough to be a typo.
fn closest(name: &str) -> Option<&'static str> {
    rules()
        .iter()
        .map(|r| (edit_distance(name, r.name), r.name))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_reasons() {
        assert_eq!(
            parse(" ferry:allow drop-table, drop-column -- agreed with ops\n"),
            Some((
                Scope::Statement,
                vec!["drop-table".to_string(), "drop-column".to_string()]
            ))
        );
        assert_eq!(
            parse(" ferry:allow-file missing-lock-timeout"),
            Some((Scope::File, vec!["missing-lock-timeout".to_string()]))
        );
        assert_eq!(parse(" ferry:allowed to fail"), None);
        assert_eq!(parse(" just a comment"), None);
        assert_eq!(parse(" ferry:allow"), Some((Scope::Statement, vec![])));
    }

    #[test]
    fn suggests_the_nearest_rule() {
        assert_eq!(closest("drop-tabel"), Some("drop-table"));
        assert_eq!(closest("something-else-entirely"), None);
    }
}
