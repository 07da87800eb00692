//! Named checks, the one-line-per-check output protocol, and helpers for writing checks.

use std::any::Any;
use std::io;
use std::panic::{self, AssertUnwindSafe};

/// What a check found: `Ok` or a description of what went wrong.
pub type Outcome = Result<(), String>;

/// A named, self-verifying check.
pub struct Check {
    /// The name printed in the `PASS`/`FAIL` line and accepted by `--only`.
    pub name: &'static str,
    /// Runs the check.
    pub run: fn() -> Outcome,
}

/// Runs each check in turn, printing `PASS <name>` or `FAIL <name>: <detail>`.
///
/// A check that panics fails (when built with `panic=unwind`). Returns how many passed
/// and how many failed.
pub fn run(checks: &[&Check]) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for check in checks {
        let outcome = panic::catch_unwind(AssertUnwindSafe(check.run))
            .unwrap_or_else(|payload| Err(format!("panicked: {}", panic_message(payload.as_ref()))));
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", check.name);
            }
            Err(detail) => {
                failed += 1;
                println!("FAIL {}: {}", check.name, one_line(&detail));
            }
        }
    }
    (passed, failed)
}

/// The message a panic was raised with, if it was a string.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(message), _) => message,
        (_, Some(message)) => message,
        _ => "(not a string)",
    }
}

/// Keeps a detail on one output line.
fn one_line(detail: &str) -> String {
    detail.replace(['\n', '\r'], " ")
}

/// Turns an [`io::Result`] into a check result that says which step failed.
pub trait Context<T> {
    /// Prefixes the error with `what`, e.g. `"open data.txt: No such file or directory"`.
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T> Context<T> for io::Result<T> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|error| format!("{what}: {error}"))
    }
}

/// Fails the current check with a formatted detail unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($detail:tt)+) => {
        if !$cond {
            return Err(format!($($detail)+));
        }
    };
}

pub(crate) use ensure;
