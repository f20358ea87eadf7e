//! Splitting SQL text into statements, with positions, over sqlparser's tokenizer (so
//! quoting, dollar-quoting, comments and `BEGIN … END` bodies never end a statement early).

use ferry_core::DialectKind;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::expr::sql_dialect;
use crate::load::LoadError;

/// A significant token with its position (1-based line and column).
#[derive(Clone, Debug)]
pub(crate) struct Tok {
    pub(crate) token: Token,
    pub(crate) line: u64,
    pub(crate) col: u64,
}

/// A comment, with where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Comment {
    pub(crate) text: String,
    pub(crate) line: u64,
    pub(crate) col: u64,
}

/// One statement of a SQL text.
#[derive(Clone, Debug)]
pub struct SqlStatement {
    /// The statement's text as written, without its terminating `;` and surrounding space.
    pub sql: String,
    /// Where its first token is (1-based).
    pub line: u64,
    pub column: u64,
    pub(crate) tokens: Vec<Tok>,
    /// Comments from the end of the previous statement up to this one's `;`.
    pub(crate) comments: Vec<Comment>,
}

impl SqlStatement {
    /// The first words of the statement, lower-cased (`["create", "index", "concurrently"]`).
    pub fn leading_words(&self, n: usize) -> Vec<String> {
        self.tokens
            .iter()
            .take(n)
            .map(|t| match &t.token {
                Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_lowercase(),
                other => other.to_string(),
            })
            .collect()
    }

    /// The text of every comment attached to the statement.
    pub fn comments(&self) -> impl Iterator<Item = &str> {
        self.comments.iter().map(|c| c.text.as_str())
    }

    /// The statement's significant tokens (no whitespace, no comments) with the 1-based line
    /// and column where each starts, for analyses that need more than the leading words.
    pub fn tokens(&self) -> impl Iterator<Item = (&Token, u64, u64)> {
        self.tokens.iter().map(|t| (&t.token, t.line, t.col))
    }
}

/// Splits `text` into statements. psql meta-commands (lines starting with `\` between
/// statements, such as pg_dump's `\restrict`) are not SQL and are skipped. `origin` names
/// the text in errors.
pub fn split_statements(
    text: &str,
    origin: &str,
    kind: DialectKind,
) -> Result<Vec<SqlStatement>, LoadError> {
    let tokens = Tokenizer::new(sql_dialect(kind), text)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| LoadError {
            file: origin.to_string(),
            line: e.location.line,
            column: e.location.column,
            message: e.message,
        })?;
    let lines = LineIndex::new(text);

    let mut out = Vec::new();
    let mut stmt: Vec<Tok> = Vec::new();
    let mut comments: Vec<Comment> = Vec::new();
    let mut depth = 0i32;
    let mut blocks = 0i32;
    let mut last_end = (1, 1);
    let mut finish = |toks: Vec<Tok>, comments: Vec<Comment>, end: (u64, u64)| {
        let Some(first) = toks.first() else { return };
        let (line, column) = (first.line, first.col);
        out.push(SqlStatement {
            sql: lines.slice(text, (line, column), end).trim().to_string(),
            line,
            column,
            tokens: toks,
            comments,
        });
    };
    // A psql meta-command (`\connect`, pg_dump's `\restrict`) is a line that starts with a
    // backslash where a statement could start; a backslash inside a string is data.
    let mut in_meta_command = false;
    for t in tokens {
        let (line, col) = (t.span.start.line, t.span.start.column);
        if in_meta_command {
            in_meta_command = !matches!(t.token, Token::Whitespace(Whitespace::Newline));
            continue;
        }
        if matches!(t.token, Token::Backslash) && stmt.is_empty() {
            in_meta_command = true;
            continue;
        }
        match &t.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                comments.push(Comment {
                    text: comment.clone(),
                    line,
                    col,
                });
                continue;
            }
            Token::Whitespace(Whitespace::MultiLineComment(c)) => {
                comments.push(Comment {
                    text: c.clone(),
                    line,
                    col,
                });
                continue;
            }
            Token::Whitespace(_) => continue,
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w) if w.quote_style.is_none() => {
                // Trigger and SQL-standard function bodies hold `;` inside BEGIN ... END.
                let first_is_create = matches!(stmt.first().map(|t| &t.token), Some(Token::Word(f)) if f.value.eq_ignore_ascii_case("create"));
                if first_is_create {
                    if w.value.eq_ignore_ascii_case("begin") || w.value.eq_ignore_ascii_case("case")
                    {
                        blocks += 1;
                    } else if w.value.eq_ignore_ascii_case("end") && blocks > 0 {
                        blocks -= 1;
                    }
                }
            }
            Token::SemiColon if depth <= 0 && blocks <= 0 => {
                finish(
                    std::mem::take(&mut stmt),
                    std::mem::take(&mut comments),
                    (line, col),
                );
                depth = 0;
                blocks = 0;
                continue;
            }
            _ => {}
        }
        last_end = (t.span.end.line, t.span.end.column);
        stmt.push(Tok {
            token: t.token,
            line,
            col,
        });
    }
    // A last statement without `;` ends where its last token ends.
    finish(stmt, comments, last_end);
    Ok(out)
}

/// Splits `a."B c".d` into its raw parts; unquoted parts are folded to lower case.
pub fn split_identifier(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            part = part.trim().to_string();
            if part.is_empty() || part.contains(char::is_whitespace) {
                return None;
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// Byte offsets of line starts, to cut statements out of the text in one pass.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The byte offset of a 1-based (line, column in characters) position.
    fn offset(&self, text: &str, (line, col): (u64, u64)) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1) as usize) else {
            return text.len();
        };
        let rest = &text[start..];
        rest.char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map(|(b, _)| start + b)
            .unwrap_or(text.len())
    }

    fn slice(&self, text: &str, start: (u64, u64), end: (u64, u64)) -> String {
        let (a, b) = (self.offset(text, start), self.offset(text, end));
        text.get(a..b.max(a)).unwrap_or("").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_positions_and_keeps_bodies_whole() {
        let sql = "-- first\nCREATE TABLE a (id int);\n\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nINSERT INTO a VALUES (1)";
        let stmts = split_statements(sql, "t.sql", DialectKind::Postgres).unwrap();
        let found: Vec<(&str, u64)> = stmts.iter().map(|s| (s.sql.as_str(), s.line)).collect();
        assert_eq!(
            found,
            vec![
                ("CREATE TABLE a (id int)", 2),
                (
                    "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                    4
                ),
                ("INSERT INTO a VALUES (1)", 5),
            ]
        );
        assert_eq!(stmts[0].comments().collect::<Vec<_>>(), vec![" first\n"]);
        assert_eq!(stmts[1].leading_words(2), vec!["create", "function"]);
    }

    #[test]
    fn meta_commands_are_skipped_but_backslashes_in_strings_are_data() {
        let sql = "\\restrict abc123\nCREATE TABLE a (id int);\nCOMMENT ON TABLE a IS 'x\n\\. y';\n\\unrestrict abc123\n";
        let stmts = split_statements(sql, "t.sql", DialectKind::Postgres).unwrap();
        let found: Vec<&str> = stmts.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            found,
            vec![
                "CREATE TABLE a (id int)",
                "COMMENT ON TABLE a IS 'x\n\\. y'"
            ]
        );
        assert_eq!(stmts[1].line, 3);
    }

    #[test]
    fn sqlite_trigger_bodies_stay_whole() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; END;\nSELECT 1;";
        let stmts = split_statements(sql, "t.sql", DialectKind::Sqlite).unwrap();
        assert_eq!(stmts.len(), 2);
        assert!(stmts[0].sql.ends_with("END"));
    }
}
