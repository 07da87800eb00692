//! The kernel heap: talc on a static bootstrap arena, then growing page by page into
//! the heap window as the kernel needs more.

use crate::layout::{HEAP_MAX, HEAP_START, PAGE_SIZE};
use crate::sync::RawIrqLock;
use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;

/// Size of the static arena that serves allocations until paging is set up.
const BOOTSTRAP_SIZE: usize = 1 << 20;
/// Least the heap grows by at a time.
const GROW_MIN: u64 = 1 << 20;
/// Free space kept mapped at the end of the heap when it shrinks.
const SHRINK_SLACK: u64 = 1 << 20;

#[repr(C, align(4096))]
struct Arena(UnsafeCell<[u8; BOOTSTRAP_SIZE]>);
// SAFETY: the arena is handed to the allocator once and touched only through it.
unsafe impl Sync for Arena {}
static ARENA: Arena = Arena(UnsafeCell::new([0; BOOTSTRAP_SIZE]));

/// Grows the heap by mapping fresh frames at the end of the heap window.
#[derive(Debug, Default)]
pub struct WindowSource {
    /// End of the mapped part of the window (0 before the first growth).
    mapped_end: u64,
    /// The heap end talc reported for the window heap.
    heap_end: Option<NonNull<u8>>,
}

// SAFETY: `acquire` only maps memory and hands it to the `talc` it is given; it never
// touches the global allocator (the page-table code it calls allocates frames, not heap).
unsafe impl Source for WindowSource {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let need = (layout.size() + layout.align()) as u64 + PAGE_SIZE;
        let grow = need.max(GROW_MIN).next_multiple_of(PAGE_SIZE);
        let start = if talc.source.mapped_end == 0 { HEAP_START } else { talc.source.mapped_end };
        let end = start.checked_add(grow).filter(|&e| e <= HEAP_START + HEAP_MAX).ok_or(())?;
        crate::mm::map_heap(start, end).map_err(|_| ())?;
        talc.source.mapped_end = end;
        let new_end = match talc.source.heap_end {
            // SAFETY: [HEAP_START, end) was just mapped read-write for the kernel and is
            // used by nothing else.
            None => unsafe { talc.claim(HEAP_START as *mut u8, (end - HEAP_START) as usize) }.ok_or(())?,
            // SAFETY: `heap_end` is the end talc returned for this heap, and the memory
            // up to `end` is now mapped and unused.
            Some(heap_end) => unsafe { talc.extend(heap_end, end as *mut u8) },
        };
        talc.source.heap_end = Some(new_end);
        Ok(())
    }

    const TRACK_HEAP_END: bool = true;

    unsafe fn resize(&mut self, chunk_base: *mut u8, heap_end: *mut u8, _is_heap_base: bool) -> *mut u8 {
        let (base, end) = (chunk_base as u64, heap_end as u64);
        // Only the window heap shrinks (not the bootstrap arena), and only when a good
        // amount is free, keeping some slack so alternating use does not thrash.
        if base < HEAP_START || end - base < 2 * SHRINK_SLACK {
            return heap_end;
        }
        let new_end = (base + SHRINK_SLACK).next_multiple_of(PAGE_SIZE);
        crate::mm::unmap_heap(new_end, self.mapped_end);
        self.mapped_end = new_end;
        self.heap_end = NonNull::new(new_end as *mut u8);
        new_end as *mut u8
    }
}

// SAFETY: the raw pointer in `heap_end` refers to the heap window, which is global
// kernel memory valid on every thread.
unsafe impl Send for WindowSource {}

#[global_allocator]
static HEAP: talc::TalcLock<RawIrqLock, WindowSource> =
    talc::TalcLock::new(WindowSource { mapped_end: 0, heap_end: None });

/// Hands the static arena to the allocator. Called once, first thing at boot.
pub(crate) fn init_bootstrap() {
    // SAFETY: the arena is a static used by nothing else, claimed exactly once.
    unsafe {
        HEAP.lock().claim(ARENA.0.get().cast(), BOOTSTRAP_SIZE);
    }
}

/// Heap usage figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes in live allocations.
    pub allocated: usize,
    /// Number of live allocations.
    pub allocations: usize,
    /// Bytes the heap holds in all (bootstrap arena plus mapped window).
    pub claimed: usize,
}

/// Current heap usage.
pub fn stats() -> HeapStats {
    let heap = HEAP.lock();
    let c = heap.counters();
    HeapStats { allocated: c.allocated_bytes, allocations: c.allocation_count, claimed: c.claimed_bytes }
}
