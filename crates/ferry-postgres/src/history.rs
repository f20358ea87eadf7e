//! The history table (`ferry.ferry_migrations`), the migration lock (a session-level
//! advisory lock, released by the server when the connection dies, even on `kill -9`) and
//! running migration scripts, one transaction each.

use std::time::{Duration, Instant};

use ferry_core::{AppliedMigration, DbError, DbErrorKind, HistoryChange, MigrationStore, Script};
use postgres::GenericClient;

use crate::database::{pg_message, PgDatabase};

/// The advisory lock key: "ferry" in ASCII. Advisory locks are per database.
const LOCK_KEY: i64 = 0x66_6572_7279;

const CREATE_HISTORY: &str = "CREATE SCHEMA IF NOT EXISTS ferry;\n\
CREATE TABLE IF NOT EXISTS ferry.ferry_migrations (\n\
  version text PRIMARY KEY,\n\
  name text NOT NULL,\n\
  checksum text NOT NULL,\n\
  applied_at timestamptz NOT NULL DEFAULT now(),\n\
  execution_ms bigint NOT NULL,\n\
  ferry_version text NOT NULL\n\
)";

fn db_error(kind: DbErrorKind, what: &str, e: &postgres::Error) -> DbError {
    DbError::new(kind, format!("{what}: {}", pg_message(e)))
}

fn apply_history(
    client: &mut impl GenericClient,
    record_statement: &mut Option<postgres::Statement>,
    change: &HistoryChange,
    elapsed: Duration,
    create: bool,
) -> Result<(), postgres::Error> {
    if create {
        client.batch_execute(CREATE_HISTORY)?;
    }
    match change {
        HistoryChange::Record {
            version,
            name,
            checksum,
        } => {
            let insert = match record_statement {
                Some(statement) => statement.clone(),
                None => {
                    let statement = client.prepare(
                        "INSERT INTO ferry.ferry_migrations (version, name, checksum, execution_ms, ferry_version) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )?;
                    record_statement.insert(statement).clone()
                }
            };
            client.execute(
                &insert,
                &[
                    version,
                    name,
                    checksum,
                    &(elapsed.as_millis() as i64),
                    &env!("CARGO_PKG_VERSION"),
                ],
            )?;
        }
        HistoryChange::Forget { version } => {
            client.execute(
                "DELETE FROM ferry.ferry_migrations WHERE version = $1",
                &[version],
            )?;
        }
        HistoryChange::Rechecksum { version, checksum } => {
            client.execute(
                "UPDATE ferry.ferry_migrations SET checksum = $2 WHERE version = $1",
                &[version, checksum],
            )?;
        }
    }
    Ok(())
}

impl MigrationStore for PgDatabase {
    fn history(&mut self) -> Result<Vec<AppliedMigration>, DbError> {
        let client = self.client();
        let exists = client
            .query_one(
                "SELECT to_regclass('ferry.ferry_migrations') IS NOT NULL",
                &[],
            )
            .map_err(|e| {
                db_error(
                    DbErrorKind::Inspect,
                    "cannot read the migration history",
                    &e,
                )
            })?
            .get::<_, bool>(0);
        if !exists {
            return Ok(Vec::new());
        }
        self.history_ready = true;
        let rows = self
            .client()
            .query(
                "SELECT version, name, checksum, \
                   to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                   execution_ms, ferry_version \
                 FROM ferry.ferry_migrations ORDER BY applied_at, version",
                &[],
            )
            .map_err(|e| {
                db_error(
                    DbErrorKind::Inspect,
                    "cannot read the migration history",
                    &e,
                )
            })?;
        Ok(rows
            .iter()
            .map(|r| AppliedMigration {
                version: r.get(0),
                name: r.get(1),
                checksum: r.get(2),
                applied_at: r.get(3),
                execution_ms: r.get(4),
                ferry_version: r.get(5),
            })
            .collect())
    }

    fn lock(&mut self, wait: Duration) -> Result<(), DbError> {
        let started = Instant::now();
        let client = self.client();
        // Lets the server notice a client that died mid-statement (kill -9 during a long
        // migration) and roll back and release the lock within a second, rather than when
        // the statement ends. PostgreSQL 14 and later; older servers lack the setting.
        let _ = client.batch_execute("SET client_connection_check_interval = 1000");
        loop {
            let got: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .map_err(|e| db_error(DbErrorKind::Apply, "cannot take the migration lock", &e))?
                .get(0);
            if got {
                return Ok(());
            }
            if started.elapsed() >= wait {
                let holder = lock_holder(client).unwrap_or_else(|| "another session".into());
                return Err(DbError::new(
                    DbErrorKind::Locked,
                    format!(
                        "another migration holds the lock on this database ({holder}); waited {} s. Wait for it to finish, or raise --lock-timeout",
                        wait.as_secs()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        self.client()
            .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
            .map_err(|e| db_error(DbErrorKind::Apply, "cannot release the migration lock", &e))?;
        Ok(())
    }

    fn drop_history(&mut self) -> Result<(), DbError> {
        self.history_ready = false;
        self.record_statement = None;
        self.client()
            .batch_execute(
                "DROP TABLE IF EXISTS ferry.ferry_migrations; DROP SCHEMA IF EXISTS ferry",
            )
            .map_err(|e| db_error(DbErrorKind::Apply, "cannot drop the migration history", &e))
    }

    fn run_script(&mut self, script: &Script, change: &HistoryChange) -> Result<(), DbError> {
        let create = !self.history_ready;
        let result = run(
            &mut self.client,
            &mut self.record_statement,
            script,
            change,
            create,
        );
        match result {
            Ok(()) => self.history_ready = true,
            // It may name a table whose creation was just rolled back.
            Err(_) => self.record_statement = None,
        }
        result
    }
}

/// Runs a script and its history change; `create` makes the history table first.
fn run(
    client: &mut postgres::Client,
    record_statement: &mut Option<postgres::Statement>,
    script: &Script,
    change: &HistoryChange,
    create: bool,
) -> Result<(), DbError> {
    let started = Instant::now();
    if script.transactional {
        let first = script.committed_first.min(script.statements.len());
        for i in 0..first {
            client
                .batch_execute(&script.statements[i].sql)
                .map_err(|e| script.failure(i, pg_message(&e)))?;
        }
        // Dropping the transaction without commit rolls it back.
        let mut tx = client
            .transaction()
            .map_err(|e| db_error(DbErrorKind::Apply, "cannot begin a transaction", &e))?;
        for (i, stmt) in script.statements.iter().enumerate().skip(first) {
            tx.batch_execute(&stmt.sql)
                .map_err(|e| script.failure(i, pg_message(&e)))?;
        }
        apply_history(&mut tx, record_statement, change, started.elapsed(), create)
            .map_err(|e| db_error(DbErrorKind::Apply, "cannot record the migration", &e))?;
        tx.commit()
            .map_err(|e| db_error(DbErrorKind::Apply, "cannot commit", &e))?;
        return Ok(());
    }
    for (i, stmt) in script.statements.iter().enumerate() {
        client
            .batch_execute(&stmt.sql)
            .map_err(|e| script.failure(i, pg_message(&e)))?;
    }
    let mut tx = client
        .transaction()
        .map_err(|e| db_error(DbErrorKind::Apply, "cannot begin a transaction", &e))?;
    apply_history(&mut tx, record_statement, change, started.elapsed(), create)
        .and_then(|()| tx.commit())
        .map_err(|e| {
            let mut err = db_error(
                DbErrorKind::PartiallyApplied,
                "cannot record the migration",
                &e,
            );
            err.message.push_str(&format!(
                "\nevery statement of {} ran, but the history does not say so",
                script.origin
            ));
            err
        })
}

/// Who holds the advisory lock, for the message: pid, application, client, since when.
fn lock_holder(client: &mut postgres::Client) -> Option<String> {
    let row = client
        .query_opt(
            "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local socket'), \
               coalesce(a.usename::text, ''), \
               coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1",
            &[&LOCK_KEY],
        )
        .ok()??;
    let pid: i32 = row.get(0);
    let app: String = row.get(1);
    let addr: String = row.get(2);
    let user: String = row.get(3);
    let since: String = row.get(4);
    Some(format!(
        "held by pid {pid}, application \"{app}\", user {user}, from {addr}, connected since {since} UTC"
    ))
}
