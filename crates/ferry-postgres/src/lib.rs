//! ferry's PostgreSQL driver: the [`Postgres`] dialect (type spelling, implicit names,
//! planning and rendering) and [`PgDatabase`] (a live connection that inspects and applies).

mod backup;
mod database;
mod dialect;
mod history;
mod inspect;
mod partition;
mod plan;
mod scratch;
mod tls;

pub use backup::{BackupMethod, BACKUP_METHOD_ENV};
pub use database::PgDatabase;
pub use dialect::{canonical_type, implicit_name, quote_ident, quote_qualified, Postgres};
pub use scratch::SCRATCH_PREFIX;
pub use tls::{ConnectConfig, RootCert, SslMode, TlsSettings};

/// The PostgreSQL dialect, for code that needs a `&'static dyn Dialect`.
pub static POSTGRES: Postgres = Postgres;
