//! Scratch databases: an empty throwaway database on the same server as a connection, made
//! from `template0` and dropped when the connection to it is dropped
//! ([`ferry_core::Database::scratch`], used by `ferry migrate --rehearse`).

use std::time::{SystemTime, UNIX_EPOCH};

use ferry_core::{DbError, DbErrorKind};
use postgres::error::SqlState;
use postgres::Client;

use crate::database::{pg_message, PgDatabase};
use crate::quote_ident;
use crate::tls::ConnectConfig;

/// Every scratch database's name starts with this, so that one left behind (ferry killed
/// before it could drop it) is easy to recognise and drop by hand.
pub const SCRATCH_PREFIX: &str = "ferry_scratch_";

/// Owns a scratch database and drops it when dropped.
pub(crate) struct ScratchOwner {
    /// A connection to the database the scratch database was made from. DROP DATABASE must
    /// run from a connection to another database than the one it drops; opening it before
    /// the CREATE means dropping does not depend on being able to connect later.
    origin: Client,
    /// To connect again if `origin` died meanwhile (server restart, idle timeout).
    origin_config: ConnectConfig,
    name: String,
    /// `DROP DATABASE … WITH (FORCE)` exists from PostgreSQL 13; 12 gets a plain DROP.
    force: bool,
}

impl ScratchOwner {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchOwner {
    fn drop(&mut self) {
        let sql = if self.force {
            // FORCE ends any session still connected to it, so that a connection we failed
            // to close cannot keep the database alive.
            format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            )
        } else {
            format!("DROP DATABASE IF EXISTS {}", quote_ident(&self.name))
        };
        let mut result = self.origin.batch_execute(&sql);
        if result.is_err() && self.origin.is_closed() {
            result = match self.origin_config.connect() {
                Ok(mut client) => client.batch_execute(&sql),
                Err(failure) => {
                    warn_left_behind(&self.name, &failure.message(""));
                    return;
                }
            };
        }
        if let Err(e) = result {
            warn_left_behind(&self.name, &pg_message(&e));
        }
    }
}

/// Drop cannot return an error, and a database left on the server must not go unnoticed:
/// says which one and how to remove it.
fn warn_left_behind(name: &str, why: &str) {
    eprintln!(
        "warning: could not drop the scratch database {name}: {why}; drop it with DROP DATABASE {} WITH (FORCE)",
        quote_ident(name)
    );
}

/// Creates an empty database next to the one `config` points at, with the same encoding
/// and locale, and connects to it. The returned connection drops the database when dropped.
pub(crate) fn create(config: &ConnectConfig) -> Result<PgDatabase, DbError> {
    let failed_with = |what: &str, message: String| {
        DbError::new(
            DbErrorKind::Connect,
            format!("cannot create a scratch database: {what}: {message}"),
        )
    };
    let failed = |what: &str, e: &postgres::Error| failed_with(what, pg_message(e));
    let mut origin = config
        .connect()
        .map_err(|e| failed_with("cannot connect to the server", e.message("")))?;
    let row = origin
        .query_one(
            "SELECT current_setting('server_version_num')::int4, current_user::text, \
               pg_encoding_to_char(encoding), datcollate::text, datctype::text \
             FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .map_err(|e| failed("cannot read the database's settings", &e))?;
    let version: i32 = row.get(0);
    let role: String = row.get(1);
    let encoding: String = row.get(2);
    let collate: String = row.get(3);
    let ctype: String = row.get(4);

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("{SCRATCH_PREFIX}{}_{nanos}", std::process::id());
    // template0 rather than the default template1: template1 may hold objects someone
    // added to it, and a scratch database must start empty. The same encoding and locale
    // as the original, so that text behaves as it does there.
    let create = format!(
        "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        quote_ident(&name),
        quote_literal(&encoding),
        quote_literal(&collate),
        quote_literal(&ctype)
    );
    if let Err(e) = origin.batch_execute(&create) {
        if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
            return Err(DbError::new(
                DbErrorKind::Connect,
                format!(
                    "cannot create a scratch database: role \"{role}\" lacks the CREATEDB privilege ({}). Grant it with ALTER ROLE {} CREATEDB, or connect as a role that has it",
                    pg_message(&e),
                    quote_ident(&role)
                ),
            ));
        }
        return Err(failed(&format!("CREATE DATABASE {name}"), &e));
    }
    // From here on the database exists: the owner drops it on every path, including a
    // failed connection just below.
    let owner = ScratchOwner {
        origin,
        origin_config: config.clone(),
        name,
        force: version >= 130000,
    };
    let mut scratch_config = config.clone();
    scratch_config.pg.dbname(owner.name());
    PgDatabase::connect_scratch(scratch_config, owner)
}

/// A string literal, for the few values that cannot be bind parameters (utility statements).
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
