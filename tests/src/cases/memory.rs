//! The frame pool and the heap under stress.

use super::ktest;
use crate::artifacts::Artifacts;
use crate::runner::seconds;

/// Every frame taken and returned, twice, with no leak.
pub fn frame_pool(a: &Artifacts) -> Result<(), String> {
    ktest(a, "test=frames", seconds(120)).map(drop)
}

/// The heap grown until allocation fails, then shrunk back, twice.
pub fn heap(a: &Artifacts) -> Result<(), String> {
    ktest(a, "test=heap", seconds(120)).map(drop)
}

/// Kernel threads are spawned, sleep, wake, exit and are freed.
pub fn kernel_threads(a: &Artifacts) -> Result<(), String> {
    ktest(a, "test=threads", seconds(60)).map(drop)
}
