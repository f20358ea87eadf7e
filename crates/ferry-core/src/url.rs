//! Database URLs: which dialect they name, and how to print them without their secrets.

use crate::dialect::DialectKind;

/// The dialect a URL names, from its scheme.
pub fn dialect_of(url: &str) -> Option<DialectKind> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
    match scheme.as_str() {
        "postgres" | "postgresql" => Some(DialectKind::Postgres),
        "sqlite" | "sqlite3" | "file" => Some(DialectKind::Sqlite),
        _ => None,
    }
}

/// `url` with any password replaced by `***`, for every message ferry prints.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_string();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    )
}

/// Removes every password found in `urls` from `text` (driver messages can echo them).
pub fn redact_in(text: &str, urls: &[&str]) -> String {
    let mut out = text.to_string();
    for url in urls {
        if let Some(password) = password_of(url) {
            if !password.is_empty() {
                out = out.replace(&password, "***");
            }
        }
    }
    out
}

fn password_of(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(userinfo.split_once(':')?.1.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact("postgres://bob:s3cr@t@db.example:5432/app?sslmode=require"),
            "postgres://bob:***@db.example:5432/app?sslmode=require"
        );
        assert_eq!(redact("postgres://bob@db/app"), "postgres://bob@db/app");
        assert_eq!(redact("sqlite://dev.db"), "sqlite://dev.db");
        assert_eq!(
            redact_in(
                "failed for postgres://u:hunter2@h/d",
                &["postgres://u:hunter2@h/d"]
            ),
            "failed for postgres://u:***@h/d"
        );
    }

    #[test]
    fn dialect_from_scheme() {
        assert_eq!(dialect_of("postgresql://x/y"), Some(DialectKind::Postgres));
        assert_eq!(dialect_of("sqlite://dev.db"), Some(DialectKind::Sqlite));
        assert_eq!(dialect_of("mysql://x"), None);
    }
}
