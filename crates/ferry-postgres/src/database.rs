//! A live PostgreSQL database: connect, inspect, apply.

use ferry_core::url::redact;
use ferry_core::{Database, DbError, DbErrorKind, Dialect, Plan, Schema};
use postgres::Client;

use crate::scratch::ScratchOwner;
use crate::tls::ConnectConfig;
use crate::POSTGRES;

/// A connection to one PostgreSQL database.
pub struct PgDatabase {
    pub(crate) client: Client,
    /// The parsed connection settings (TLS included), for opening another connection
    /// (scratch databases) and for tools that open their own (`pg_dump`, `pg_restore`).
    /// Holds the password: never print it.
    config: ConnectConfig,
    /// The history table is known to exist: `run_script` stops creating it (once per run,
    /// not once per migration).
    pub(crate) history_ready: bool,
    /// The history INSERT, prepared once per connection rather than once per migration.
    pub(crate) record_statement: Option<postgres::Statement>,
    /// Set when this is a scratch database (`Database::scratch`): dropping it drops the
    /// database. Declared after `client` because fields drop in order: our own session is
    /// closed before the database goes.
    scratch: Option<ScratchOwner>,
}

impl std::fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDatabase").finish_non_exhaustive()
    }
}

impl PgDatabase {
    /// Connects to `url` (`postgres://user:password@host:port/database`, with libpq's
    /// `sslmode`, `sslrootcert`, `sslcert` and `sslkey` parameters: see `docs/tls.md`).
    /// Errors never contain the password.
    pub fn connect(url: &str) -> Result<PgDatabase, DbError> {
        let mut config = ConnectConfig::parse(url)?;
        // Names ferry in pg_stat_activity, so that a held migration lock names its holder.
        if config.pg.get_application_name().is_none() {
            config.pg.application_name("ferry");
        }
        let client = config.connect().map_err(|e| {
            DbError::new(
                DbErrorKind::Connect,
                format!("cannot connect to {}: {}", redact(url), e.message(url)),
            )
        })?;
        Ok(PgDatabase {
            client,
            config,
            history_ready: false,
            record_statement: None,
            scratch: None,
        })
    }

    /// Connects to the scratch database `owner` just created; it is dropped with the
    /// returned value (or at once, with `owner`, when the connection fails).
    pub(crate) fn connect_scratch(
        config: ConnectConfig,
        owner: ScratchOwner,
    ) -> Result<PgDatabase, DbError> {
        let client = config.connect().map_err(|e| {
            DbError::new(
                DbErrorKind::Connect,
                format!(
                    "cannot connect to the scratch database {}: {}",
                    owner.name(),
                    e.message("")
                ),
            )
        })?;
        Ok(PgDatabase {
            client,
            config,
            history_ready: false,
            record_statement: None,
            scratch: Some(owner),
        })
    }

    /// [`Database::scratch`] as a `PgDatabase`: an empty database on the same server, with
    /// the same encoding and locale, dropped (`WITH (FORCE)` from PostgreSQL 13) when the
    /// returned value is dropped. Needs the CREATEDB privilege.
    pub fn scratch_database(&mut self) -> Result<PgDatabase, DbError> {
        crate::scratch::create(&self.config)
    }

    /// The name of the scratch database this is connected to; `None` for a database that
    /// is not a scratch one.
    pub fn scratch_name(&self) -> Option<&str> {
        self.scratch.as_ref().map(ScratchOwner::name)
    }

    /// The underlying client, for callers that need more than inspect and apply.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    pub(crate) fn config(&self) -> &ConnectConfig {
        &self.config
    }
}

/// The search path every inspection and plan runs with: unqualified names in expressions
/// (`nextval('users_id_seq')`, `'ok'::mood`) mean `public`, as in schema files.
const SEARCH_PATH: &str = "SET LOCAL search_path TO public";

impl Database for PgDatabase {
    fn dialect(&self) -> &'static dyn Dialect {
        &POSTGRES
    }

    fn session_role(&mut self) -> Result<Option<String>, DbError> {
        let row = self
            .client
            .query_one("SELECT current_user::text", &[])
            .map_err(|e| DbError::new(DbErrorKind::Inspect, pg_message(&e)))?;
        Ok(Some(row.get(0)))
    }

    fn inspect(&mut self) -> Result<Schema, DbError> {
        let in_tx = |e: postgres::Error| {
            DbError::new(
                DbErrorKind::Inspect,
                format!("cannot read the schema: {}", pg_message(&e)),
            )
        };
        // One read-only snapshot, so that all catalog queries agree with each other.
        let mut tx = self
            .client
            .build_transaction()
            .read_only(true)
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(in_tx)?;
        tx.batch_execute(SEARCH_PATH).map_err(in_tx)?;
        let schema = crate::inspect::inspect(&mut tx)?;
        tx.commit().map_err(in_tx)?;
        Ok(schema)
    }

    fn apply(&mut self, plan: &Plan) -> Result<(), DbError> {
        let failed = |stmt: &str, e: postgres::Error| {
            DbError::new(DbErrorKind::Apply, pg_message(&e)).in_statement(stmt)
        };
        for stmt in &plan.before {
            self.client
                .batch_execute(stmt)
                .map_err(|e| failed(stmt, e))?;
        }
        {
            // Dropping the transaction without commit rolls it back.
            let mut tx = self.client.transaction().map_err(|e| failed("BEGIN", e))?;
            tx.batch_execute(SEARCH_PATH)
                .map_err(|e| failed(SEARCH_PATH, e))?;
            for step in &plan.steps {
                for stmt in &step.statements {
                    if let Err(e) = tx.batch_execute(stmt) {
                        let err = failed(stmt, e);
                        let _ = tx.rollback();
                        return Err(err);
                    }
                }
            }
            for check in &plan.checks {
                match tx.simple_query(check) {
                    Ok(messages) => {
                        let rows = messages
                            .iter()
                            .filter(|m| matches!(m, postgres::SimpleQueryMessage::Row(_)))
                            .count();
                        if rows > 0 {
                            let _ = tx.rollback();
                            return Err(DbError::new(
                                DbErrorKind::Check,
                                format!("check failed: {rows} row(s) violate it"),
                            )
                            .in_statement(check.as_str()));
                        }
                    }
                    Err(e) => {
                        let err = failed(check, e);
                        let _ = tx.rollback();
                        return Err(err);
                    }
                }
            }
            tx.commit().map_err(|e| failed("COMMIT", e))?;
        }
        for stmt in &plan.after {
            self.client
                .batch_execute(stmt)
                .map_err(|e| failed(stmt, e))?;
        }
        Ok(())
    }

    fn scratch(&mut self) -> Result<Box<dyn Database>, DbError> {
        Ok(Box::new(self.scratch_database()?))
    }
}

/// A driver error as one readable line: the server's message with its detail and hint
/// when there is one, the client's description otherwise.
pub(crate) fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut msg = db.message().to_string();
            if let Some(detail) = db.detail() {
                msg.push_str(&format!(" (detail: {detail})"));
            }
            if let Some(hint) = db.hint() {
                msg.push_str(&format!(" (hint: {hint})"));
            }
            msg
        }
        None => {
            // The client's own errors often only say "error connecting to server"; the
            // source carries the reason.
            let mut msg = e.to_string();
            if let Some(source) = std::error::Error::source(e) {
                let s = source.to_string();
                if !msg.contains(&s) {
                    msg.push_str(&format!(": {s}"));
                }
            }
            msg
        }
    }
}
