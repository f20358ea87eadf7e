//! What goes to stderr besides errors and warnings: progress and notes, silenced by
//! `--quiet`; with `--verbose`, also each statement as it runs. Results (SQL, JSON,
//! tables) go to stdout whatever the level.

use std::sync::atomic::{AtomicU8, Ordering};

const QUIET: u8 = 0;
const NORMAL: u8 = 1;
const VERBOSE: u8 = 2;

static LEVEL: AtomicU8 = AtomicU8::new(NORMAL);

pub fn init(quiet: bool, verbose: bool) {
    let level = match (quiet, verbose) {
        (true, _) => QUIET,
        (false, true) => VERBOSE,
        (false, false) => NORMAL,
    };
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn shows_progress() -> bool {
    LEVEL.load(Ordering::Relaxed) >= NORMAL
}

pub fn verbose() -> bool {
    LEVEL.load(Ordering::Relaxed) >= VERBOSE
}

/// Progress and notes: like `eprintln!`, unless `--quiet`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        if $crate::ui::shows_progress() {
            eprintln!($($arg)*);
        }
    };
}
