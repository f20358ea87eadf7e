//! Loading: SQL schema files in, the schema model out, with errors that point into the file.
//!
//! Statements are split and lexed with sqlparser's tokenizer (so every dialect's quoting,
//! dollar-quoting and comments are handled) and the DDL ferry models is parsed here by a
//! small recursive-descent parser. Statements ferry does not model are kept as opaque.

mod expr;
mod load;
mod partition;
mod split;
mod view;

pub use expr::{column_default, expr};
pub use load::{
    exclusion_constraint, load_paths, load_str, partition_key, replay, LoadError, Replayer,
};
pub use partition::partition_bound;
pub use split::{split_identifier, split_statements, SqlStatement};
pub use view::{expr_with_queries, function_calls, resolve_views, view_dependency_order};
