//! The dev database (`--dev-url`, `dev_url` in ferry.toml): a server on which schemas read
//! from files are created in a throwaway database and inspected back, so that they come out
//! in the server's canonical form (see `ferry_core::canonicalize`), and on which migrations
//! are replayed for real instead of offline.

use ferry_core::url::{dialect_of, redact};
use ferry_core::{Database, DbErrorKind, DialectKind, Schema};

use crate::config::{expand_vars, Config};
use crate::error::{CliError, Exit, Result};
use crate::source::connect;
use crate::DevArgs;

/// `--dev-url target`: a throwaway database on the target's own server.
pub const SAME_AS_TARGET: &str = "target";

/// A server that lends empty throwaway databases.
pub struct DevServer {
    url: String,
}

impl DevServer {
    /// The dev server named by `--dev-url`, else by ferry.toml's `dev_url`; none when
    /// neither is set. `target`: the URL of the command's target, for `--dev-url target`.
    pub fn resolve(
        args: &DevArgs,
        config: Option<&Config>,
        target: Option<&str>,
        kind: DialectKind,
    ) -> Result<Option<DevServer>> {
        let url = match (
            args.dev_url.as_deref(),
            config.and_then(|c| c.dev_url.as_deref()),
        ) {
            (Some(url), _) => url.to_string(),
            (None, Some(raw)) => expand_vars(raw, "dev_url")?,
            (None, None) => return Ok(None),
        };
        let url = if url == SAME_AS_TARGET {
            target
                .ok_or_else(|| {
                    CliError::usage(
                        "--dev-url target: this command has no target database; give the dev server's URL",
                    )
                })?
                .to_string()
        } else {
            url
        };
        match dialect_of(&url) {
            Some(k) if k == kind => Ok(Some(DevServer { url })),
            Some(k) => Err(CliError::usage(format!(
                "the dev database {} is {}, but the schema is {}",
                redact(&url),
                k.name(),
                kind.name()
            ))),
            None => Err(CliError::usage(format!(
                "{}: the dev database must be a database URL",
                redact(&url)
            ))),
        }
    }

    /// A new empty database on the dev server, removed when dropped.
    pub fn scratch(&self) -> Result<Box<dyn Database>> {
        Ok(connect(&self.url)?.scratch()?)
    }

    /// `schema` in the dev server's canonical form. A schema the server refuses (a view on
    /// a missing column, a type it does not know) is an invalid schema.
    pub fn canonical(&self, schema: &Schema) -> Result<Schema> {
        let mut scratch = self.scratch()?;
        ferry_core::canonicalize(scratch.as_mut(), schema).map_err(|e| match e.kind {
            DbErrorKind::Apply | DbErrorKind::Check => CliError::new(
                Exit::InvalidSchema,
                format!("the dev database rejected the schema: {e}"),
            ),
            _ => e.into(),
        })
    }
}
