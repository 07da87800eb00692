//! The periodic tick runs at the configured rate.

use super::ktest;
use crate::artifacts::Artifacts;
use crate::runner::seconds;

/// 100 Hz.
pub fn at_100hz(a: &Artifacts) -> Result<(), String> {
    ktest(a, "test=timer hz=100", seconds(60)).map(drop)
}

/// 1000 Hz.
pub fn at_1000hz(a: &Artifacts) -> Result<(), String> {
    ktest(a, "test=timer hz=1000", seconds(60)).map(drop)
}
