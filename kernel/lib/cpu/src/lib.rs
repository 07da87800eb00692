//! How berth shares the CPU between containers, as plain logic tested on the host.
//!
//! Each container is a group with a weight ([`FairShare`]): its virtual time grows as
//! its threads run, by the time used scaled down by its weight, and the scheduler runs
//! the group whose virtual time is least (as Linux's CFS does for task groups). A group
//! that wakes after sleeping is moved up to the least virtual time of those running, so
//! sleeping earns no burst later. A group may also have a bandwidth limit
//! ([`Bandwidth`]): at most so much CPU time per [`PERIOD_NS`].
//!
//! The state is atomics, so the kernel's scheduler and its accounting can read it
//! without a lock of its own.

#![no_std]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The weight virtual time is measured against (Docker's default `--cpu-shares`).
pub const BASE_WEIGHT: u32 = 1024;
/// The lightest and heaviest weights (Linux's `cpu.shares` bounds).
pub const WEIGHTS: core::ops::RangeInclusive<u32> = 2..=262_144;
/// Length of a CPU bandwidth period.
pub const PERIOD_NS: u64 = 100_000_000;

/// A group's weight and virtual time.
#[derive(Debug)]
pub struct FairShare {
    weight: AtomicU32,
    /// CPU time used, scaled by [`BASE_WEIGHT`] / weight (ns).
    vruntime: AtomicU64,
}

impl FairShare {
    /// A group of `weight` (clamped to [`WEIGHTS`]).
    pub fn new(weight: u32) -> FairShare {
        FairShare {
            weight: AtomicU32::new(weight.clamp(*WEIGHTS.start(), *WEIGHTS.end())),
            vruntime: AtomicU64::new(0),
        }
    }

    /// Its weight.
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    /// Its virtual time (ns, scaled by weight).
    pub fn vruntime(&self) -> u64 {
        self.vruntime.load(Ordering::Relaxed)
    }

    /// Moves its virtual time up to at least `floor` (a group rejoining the run).
    pub fn catch_up(&self, floor: u64) {
        self.vruntime.fetch_max(floor, Ordering::Relaxed);
    }

    /// Adds `ns` of CPU time its threads used.
    pub fn charge(&self, ns: u64) {
        let scaled = ns.saturating_mul(u64::from(BASE_WEIGHT)) / u64::from(self.weight().max(1));
        self.vruntime.fetch_add(scaled, Ordering::Relaxed);
    }
}

/// CPU bandwidth control: at most a quota of CPU time per [`PERIOD_NS`] (like CFS
/// bandwidth control).
#[derive(Debug)]
pub struct Bandwidth {
    /// ns per period; 0 for no limit.
    quota: u64,
    period_start: AtomicU64,
    used: AtomicU64,
}

impl Bandwidth {
    /// A limit of `cpu_millis` thousandths of a CPU, summed over every CPU its threads
    /// run on (0: no limit).
    pub fn new(cpu_millis: u32) -> Bandwidth {
        let quota = PERIOD_NS * u64::from(cpu_millis) / 1000;
        Bandwidth { quota, period_start: AtomicU64::new(0), used: AtomicU64::new(0) }
    }

    /// Starts a new period if the current one is over at monotonic time `now`.
    fn roll(&self, now: u64) {
        let start = self.period_start.load(Ordering::Relaxed);
        if now.saturating_sub(start) >= PERIOD_NS {
            self.period_start.store(now - (now - start) % PERIOD_NS, Ordering::Relaxed);
            self.used.store(0, Ordering::Relaxed);
        }
    }

    /// Adds `ns` of CPU time used at `now`.
    pub fn charge(&self, ns: u64, now: u64) {
        if self.quota != 0 {
            self.roll(now);
            self.used.fetch_add(ns, Ordering::Relaxed);
        }
    }

    /// Whether the quota of the period `now` falls in is used up.
    pub fn throttled(&self, now: u64) -> bool {
        if self.quota == 0 {
            return false;
        }
        self.roll(now);
        self.used.load(Ordering::Relaxed) >= self.quota
    }
}
