//! A statement as a flat list of tokens with positions and parenthesis depth, and the few
//! matching helpers the rules need. Deliberately no grammar: a statement the helpers do
//! not recognise is simply not checked, so PostgreSQL syntax sqlparser cannot parse never
//! makes the linter fail.

use ferry_core::DialectKind;
use ferry_sql::SqlStatement;
use sqlparser::tokenizer::Token;

/// A table or index name, normalised the way the database resolves it: unquoted names
/// fold to lower case on PostgreSQL, and SQLite compares every name case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub(crate) schema: String,
    pub(crate) name: String,
}

/// One significant token.
pub(crate) struct Tk<'t> {
    pub(crate) token: &'t Token,
    /// The word in lower case when it is an unquoted word (a possible keyword).
    pub(crate) kw: Option<String>,
    /// The identifier this token names, normalised (see [`Key`]), when it can be one.
    pub(crate) ident: Option<String>,
    pub(crate) line: u64,
    pub(crate) column: u64,
    /// Parentheses open around the token; `(` and `)` count as outside their own pair.
    pub(crate) depth: u32,
}

pub(crate) struct Stmt<'t> {
    pub(crate) toks: Vec<Tk<'t>>,
    pub(crate) kind: DialectKind,
    pub(crate) default_schema: &'static str,
}

/// A half-open range of token indexes.
pub(crate) type Span = (usize, usize);

/// Normalises a written identifier for comparison.
pub(crate) fn normalise(kind: DialectKind, value: &str, quoted: bool) -> String {
    match (kind, quoted) {
        (DialectKind::Sqlite, _) => value.to_ascii_lowercase(),
        (DialectKind::Postgres, true) => value.replace("\"\"", "\""),
        (DialectKind::Postgres, false) => value.to_lowercase(),
    }
}

impl<'t> Stmt<'t> {
    pub(crate) fn new(stmt: &'t SqlStatement, kind: DialectKind) -> Self {
        let mut depth = 0u32;
        let mut toks = Vec::new();
        for (token, line, column) in stmt.tokens() {
            if matches!(token, Token::RParen) {
                depth = depth.saturating_sub(1);
            }
            let (kw, ident) = match token {
                Token::Word(w) => (
                    w.quote_style
                        .is_none()
                        .then(|| w.value.to_ascii_lowercase()),
                    Some(normalise(kind, &w.value, w.quote_style.is_some())),
                ),
                // SQLite accepts "name" and even 'name' where a name is expected.
                Token::DoubleQuotedString(s) | Token::SingleQuotedString(s)
                    if kind == DialectKind::Sqlite =>
                {
                    (None, Some(normalise(kind, s, true)))
                }
                _ => (None, None),
            };
            toks.push(Tk {
                token,
                kw,
                ident,
                line,
                column,
                depth,
            });
            if matches!(token, Token::LParen) {
                depth += 1;
            }
        }
        Stmt {
            toks,
            kind,
            default_schema: match kind {
                DialectKind::Postgres => "public",
                DialectKind::Sqlite => "main",
            },
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.toks.len()
    }

    pub(crate) fn kw(&self, i: usize) -> Option<&str> {
        self.toks.get(i).and_then(|t| t.kw.as_deref())
    }

    pub(crate) fn is(&self, i: usize, word: &str) -> bool {
        self.kw(i) == Some(word)
    }

    /// Whether the unquoted words at `i..` are `words`.
    pub(crate) fn is_seq(&self, i: usize, words: &[&str]) -> bool {
        words.iter().enumerate().all(|(k, w)| self.is(i + k, w))
    }

    /// Steps over `words` when they come next.
    pub(crate) fn eat(&self, i: &mut usize, words: &[&str]) -> bool {
        if self.is_seq(*i, words) {
            *i += words.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn token(&self, i: usize) -> Option<&Token> {
        self.toks.get(i).map(|t| t.token)
    }

    /// (line, column) of token `i`, or of the statement's start when out of range.
    pub(crate) fn pos(&self, i: usize) -> (u64, u64) {
        let t = self.toks.get(i).or(self.toks.first());
        t.map(|t| (t.line, t.column)).unwrap_or((1, 1))
    }

    pub(crate) fn ident(&self, i: usize) -> Option<&str> {
        self.toks.get(i).and_then(|t| t.ident.as_deref())
    }

    /// A possibly qualified name at `i` (`t`, `s.t`, `db.s.t`), stepping over it.
    pub(crate) fn name(&self, i: &mut usize) -> Option<Key> {
        let mut parts = vec![self.ident(*i)?.to_string()];
        let mut j = *i + 1;
        while matches!(self.token(j), Some(Token::Period)) {
            let Some(part) = self.ident(j + 1) else { break };
            parts.push(part.to_string());
            j += 2;
        }
        *i = j;
        let name = parts.pop()?;
        let schema = parts
            .pop()
            .unwrap_or_else(|| normalise(self.kind, self.default_schema, true));
        Some(Key { schema, name })
    }

    /// The first unquoted `word` in `span` at parenthesis depth `depth`.
    pub(crate) fn find(&self, span: Span, depth: u32, word: &str) -> Option<usize> {
        (span.0..span.1.min(self.len())).find(|&i| self.toks[i].depth == depth && self.is(i, word))
    }

    /// The first occurrence of the word sequence `words` in `span` at depth `depth`.
    pub(crate) fn find_seq(&self, span: Span, depth: u32, words: &[&str]) -> Option<usize> {
        (span.0..span.1.min(self.len()))
            .find(|&i| self.toks[i].depth == depth && self.is_seq(i, words))
    }

    /// `span` cut at its commas of depth `depth`.
    pub(crate) fn split_commas(&self, span: Span, depth: u32) -> Vec<Span> {
        let mut out = Vec::new();
        let mut start = span.0;
        for i in span.0..span.1.min(self.len()) {
            if self.toks[i].depth == depth && matches!(self.toks[i].token, Token::Comma) {
                out.push((start, i));
                start = i + 1;
            }
        }
        if start < span.1 {
            out.push((start, span.1));
        }
        out
    }

    /// Whether `word(` — a call of the function `word` — occurs in `span`.
    pub(crate) fn calls(&self, span: Span, word: &str) -> bool {
        (span.0..span.1.min(self.len()))
            .any(|i| self.is(i, word) && matches!(self.token(i + 1), Some(Token::LParen)))
    }
}
