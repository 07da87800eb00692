//! Memory bring-up and accounting.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

// The layer below, under the name this crate's modules use.
use berth_base::param;

pub mod uaccess;

use berth_hal::bootinfo::BootInfo;

/// What the memory subsystem found at boot.
pub struct MemoryInfo {
    /// Frames the pool manages.
    pub total_frames: usize,
    /// Frames free once the kernel's page tables were built.
    pub free_frames: usize,
}

/// Memory kept back from containers for the kernel's own use: 1/8 of RAM, at least
/// 32 MiB.
fn kernel_reserve(total: u64) -> u64 {
    (total / 8).max(32 << 20)
}

/// Builds the frame pool, switches to the kernel's own page tables and sets how much
/// memory containers may use between them.
pub fn init(boot: &BootInfo) -> MemoryInfo {
    match berth_hal::mm::init(boot) {
        Ok(r) => {
            let total = r.free_frames as u64 * 4096;
            init_container_memory(total.saturating_sub(kernel_reserve(total)));
            MemoryInfo { total_frames: r.total_frames, free_frames: r.free_frames }
        }
        Err(e) => panic!("memory: {e}"),
    }
}

/// Memory in use, for leak checks: frames taken from the pool and live heap bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Frames not in the pool (page tables, heap pages, stacks, user memory).
    pub frames_used: usize,
    /// Of those, frames held by caches that give them back under no pressure: kernel
    /// stacks kept for reuse, and heap pages with nothing allocated in them.
    pub frames_cached: usize,
    /// Bytes in live heap allocations.
    pub heap_bytes: usize,
}

/// Current memory use.
pub fn usage() -> Usage {
    let heap = berth_hal::heap_stats();
    let heap_free_frames = heap.claimed.saturating_sub(heap.allocated) / 4096;
    Usage {
        frames_used: berth_hal::mm::total_frames() - berth_hal::mm::free_frames(),
        frames_cached: berth_hal::mm::cached_stack_frames() + heap_free_frames,
        heap_bytes: heap.allocated,
    }
}

/// A file's bytes for mapping them (`mmap`, `execve`).
pub struct FileBytes {
    /// The bytes.
    pub data: alloc::sync::Arc<[u8]>,
    /// They are the image's own: shared by every container of the image, charged to
    /// none, and their pages can come from the page cache.
    pub cached: bool,
    /// For a copy of a file the container wrote: its charge, held by every mapping of
    /// the copy.
    pub charge: Option<alloc::sync::Arc<Charge>>,
}

impl FileBytes {
    /// The bytes of `inode`: the image's where the file is unmodified, else a copy
    /// charged to `counter` (ENOMEM if over its limit, or the heap has no room).
    pub fn of(
        inode: &berth_vfs::Inode,
        counter: &alloc::sync::Arc<MemoryCounter>,
    ) -> Result<FileBytes, berth_abi::Errno> {
        if let Some(data) = inode.image_contents() {
            return Ok(FileBytes { data, cached: true, charge: None });
        }
        let charge = Charge::new(counter, inode.metadata().size).ok_or(berth_abi::Errno::ENOMEM)?;
        let data = inode.contents().map_err(|_| berth_abi::Errno::ENOMEM)?;
        Ok(FileBytes { data, cached: false, charge: Some(alloc::sync::Arc::new(charge)) })
    }
}

mod charge;
pub mod page_cache;
mod queue;
mod space;

pub use charge::{Charge, MemoryCounter, UserPage, container_memory, init_container_memory};
pub use queue::ChargedQueue;
pub use space::{Access, AddressSpace, Fault, MAX_REGIONS, MMAP_TOP, MapError, MapRequest, Prot, SharedPages, VmaKind};
