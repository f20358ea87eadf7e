use std::path::PathBuf;
use ferry_core::{Dialect, Schema};

#[derive(Debug)]
pub struct LoadError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

pub fn load_str(sql: &str, origin: &str, dialect: &dyn Dialect) -> Result<Schema, LoadError> {
    let _ = (sql, origin, dialect);
    todo!()
}

pub fn load_paths(paths: &[PathBuf], dialect: &dyn Dialect) -> Result<Schema, LoadError> {
    let _ = (paths, dialect);
    todo!()
}
