//! The periodic tick runs at the configured rate (measured on a one-CPU VM, whatever
//! the run's CPU count).

use super::ktest_on;
use crate::artifacts::Artifacts;
use crate::runner::seconds;

/// 100 Hz.
pub fn at_100hz(a: &Artifacts) -> Result<(), String> {
    ktest_on(a, "test=timer hz=100", 1, seconds(60)).map(drop)
}

/// The default rate, 250 Hz. (Much faster rates are not tested: under TCG on a busy
/// host QEMU coalesces ticks the vCPU was too slow to take, so a 1000 Hz tick measures
/// low when tests run in parallel. berth's clock is the TSC, not a tick count, so lost
/// ticks do not skew time.)
pub fn at_250hz(a: &Artifacts) -> Result<(), String> {
    ktest_on(a, "test=timer", 1, seconds(60)).map(drop)
}
