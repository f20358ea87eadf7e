//! SQLite support for ferry: the [`Sqlite`] dialect (type spelling, planning with table
//! rebuilds, rendering) and [`SqliteDatabase`], a live database that inspects and applies.

mod backup;
mod database;
mod dialect;
mod history;
mod plan;

pub use database::SqliteDatabase;
pub use dialect::Sqlite;

/// The SQLite dialect, for `&'static dyn Dialect` users.
pub static SQLITE: Sqlite = Sqlite;
