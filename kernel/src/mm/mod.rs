//! Memory bring-up and accounting.

use berth_hal::bootinfo::BootInfo;

/// What the memory subsystem found at boot.
pub struct MemoryInfo {
    /// Frames the pool manages.
    pub total_frames: usize,
    /// Frames free once the kernel's page tables were built.
    pub free_frames: usize,
}

/// Builds the frame pool and switches to the kernel's own page tables.
pub fn init(boot: &BootInfo) -> MemoryInfo {
    match berth_hal::mm::init(boot) {
        Ok(r) => MemoryInfo { total_frames: r.total_frames, free_frames: r.free_frames },
        Err(e) => panic!("memory: {e}"),
    }
}

/// Memory in use, for leak checks: frames taken from the pool and live heap bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Frames not in the pool (page tables, heap pages, stacks, user memory).
    pub frames_used: usize,
    /// Bytes in live heap allocations.
    pub heap_bytes: usize,
}

/// Current memory use.
pub fn usage() -> Usage {
    Usage {
        frames_used: berth_hal::mm::total_frames() - berth_hal::mm::free_frames(),
        heap_bytes: berth_hal::heap_stats().allocated,
    }
}

mod charge;
mod space;

pub use charge::{MemoryCounter, UserPage};
pub use space::{Access, AddressSpace, Fault, MapRequest, Prot, Vma, VmaKind};
