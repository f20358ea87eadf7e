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

/// Query parameters that carry secrets (`postgres://h/db?password=…`).
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// `url` with any password replaced by `***`, for every message ferry prints: the one in
/// the user-info part and those in query parameters.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if is_secret(key) => format!("{key}=***"),
                _ => param.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn is_secret(key: &str) -> bool {
    SECRET_PARAMS.iter().any(|s| key.eq_ignore_ascii_case(s))
}

fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '#']).unwrap_or(rest.len());
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
        for password in passwords_of(url) {
            if !password.is_empty() {
                out = out.replace(&password, "***");
            }
        }
    }
    out
}

fn passwords_of(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    if let Some(scheme_end) = base.find("://") {
        let rest = &base[scheme_end + 3..];
        let authority = &rest[..rest.find(['/', '#']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            if let Some((_, password)) = authority[..at].split_once(':') {
                out.push(password.to_string());
            }
        }
    }
    for param in query.split('&') {
        if let Some((key, value)) = param.split_once('=') {
            if is_secret(key) {
                out.push(value.to_string());
            }
        }
    }
    out
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
            redact("postgres://bob@db/app?sslmode=require&password=hunter2&PASSWORD=x"),
            "postgres://bob@db/app?sslmode=require&password=***&PASSWORD=***"
        );
        assert_eq!(
            redact_in(
                "auth failed: hunter2",
                &["postgres://u@h/d?password=hunter2"]
            ),
            "auth failed: ***"
        );
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
