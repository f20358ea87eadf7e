//! Questions asked only when a person is there: stdin and stderr are terminals.

use std::io::{BufRead, IsTerminal, Write};

pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks `question` with choices numbered from 1; returns the chosen index.
pub fn choose(question: &str, choices: &[String]) -> Option<usize> {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{question}");
    for (i, c) in choices.iter().enumerate() {
        let _ = writeln!(err, "  {}) {c}", i + 1);
    }
    loop {
        let _ = write!(err, "choose 1-{}: ", choices.len());
        let _ = err.flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Ok(n) = line.trim().parse::<usize>() {
            if (1..=choices.len()).contains(&n) {
                return Some(n - 1);
            }
        }
    }
}

pub fn confirm(question: &str) -> bool {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}
