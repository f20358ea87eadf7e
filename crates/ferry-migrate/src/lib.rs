//! Versioned migrations on disk, and what follows from them without a database: the
//! directory layout, `ferry.sum`, and each migration's state against a history.

pub mod dir;
pub mod status;
pub mod sum;

pub use dir::{compare_versions, slug, LayoutProblem, Migration, MigrationDir};
pub use status::{status, Entry, State, Status};
pub use sum::SumProblem;
