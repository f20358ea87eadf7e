use ferry_core::{DialectKind, Expr};

/// Builds an [`Expr`] from SQL text: `sql` keeps the text, `key` its normalised form.
pub fn expr(sql: &str, kind: DialectKind) -> Expr {
    let _ = kind;
    todo!("{sql}")
}
