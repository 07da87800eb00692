//! Counters each CPU adds to on its own cache line (nothing is shared while counting),
//! summed when read: for events too frequent for one shared atomic, such as system
//! calls.

use berth_hal::percpu::{MAX_CPUS, index};
use core::sync::atomic::{AtomicU64, Ordering};

/// One CPU's part, alone on its cache line.
#[repr(align(64))]
struct Slot(AtomicU64);

/// A count kept per CPU.
pub struct CpuCounter([Slot; MAX_CPUS]);

impl CpuCounter {
    /// A counter at zero.
    pub const fn new() -> CpuCounter {
        CpuCounter([const { Slot(AtomicU64::new(0)) }; MAX_CPUS])
    }

    /// Adds one on this CPU.
    #[inline]
    pub fn increment(&self) {
        self.0[index()].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count over all CPUs.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl Default for CpuCounter {
    fn default() -> CpuCounter {
        CpuCounter::new()
    }
}

/// System calls made by every program since boot.
pub static SYSCALLS: CpuCounter = CpuCounter::new();
