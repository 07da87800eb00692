//! The kernel heap: talc on a static bootstrap arena, then growing page by page into
//! the heap window as the kernel needs more. Allocations of exactly one page bypass it
//! and take a frame from the pool, and larger ones get mapped ranges of their own
//! (`large.rs`); see [`KernelAllocator`].

use crate::layout::{HEAP_MAX, HEAP_START, KERNEL_VMA, PAGE_SIZE};
use crate::sync::RawIrqLock;
use core::alloc::{GlobalAlloc, Layout};
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

static HEAP: talc::TalcLock<RawIrqLock, WindowSource> =
    talc::TalcLock::new(WindowSource { mapped_end: 0, heap_end: None });

/// The kernel's allocator. A one-page allocation (a file block, a page-sized buffer)
/// takes a frame straight from the pool, through the direct map, and a larger one a
/// range of freshly mapped frames (`large.rs`); either gives its frames back to the
/// pool when freed, so memory that such data held returns for user pages rather than
/// staying in the heap wherever the heap's top is pinned. What is smaller than a page,
/// and pages wanted before the pool exists or after it ran dry, are talc's.
struct KernelAllocator;

#[global_allocator]
static ALLOCATOR: KernelAllocator = KernelAllocator;

/// Whether `layout` is one page, which the page path serves.
fn is_page(layout: Layout) -> bool {
    layout.size() == PAGE_SIZE as usize && layout.align() <= PAGE_SIZE as usize
}

/// Whether `ptr` is talc's: in the heap window or the bootstrap arena (in the kernel
/// image); anything else a page allocation returned is in the direct map.
fn is_talcs(ptr: *mut u8) -> bool {
    let addr = ptr as u64;
    (HEAP_START..HEAP_START + HEAP_MAX).contains(&addr) || addr >= KERNEL_VMA
}

// SAFETY: pages come from the frame pool, which hands each frame out once, and are
// page-aligned and page-sized as `is_page` layouts need; they go back to the pool only
// from `dealloc`/`realloc`, whose pointer the caller guarantees came from here with the
// same layout. Everything else is forwarded to talc with the caller's guarantees.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_page(layout)
            && let Some(virt) = crate::mm::alloc_heap_page()
        {
            return virt as *mut u8;
        }
        if crate::large::fits(layout) {
            let ptr = crate::large::alloc(layout);
            if !ptr.is_null() {
                return ptr;
            }
        }
        // SAFETY: forwarded with the caller's guarantees (a non-zero-sized layout).
        unsafe { HEAP.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if crate::large::owns(ptr) {
            crate::large::dealloc(ptr, layout);
        } else if is_page(layout) && !is_talcs(ptr) {
            crate::mm::free_heap_page(ptr as u64);
        } else {
            // SAFETY: `ptr` came from talc with this layout (the caller's guarantee,
            // and not from the page path, by its address).
            unsafe { HEAP.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` rounded to `layout.align()` does not
        // overflow, so this layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let talcs = |l: Layout| !is_page(l) && !crate::large::fits(l);
        if talcs(layout) && talcs(new_layout) && is_talcs(ptr) {
            // SAFETY: forwarded with the caller's guarantees; `ptr` is talc's, since only
            // page layouts take the page path.
            return unsafe { HEAP.realloc(ptr, layout, new_size) };
        }
        // SAFETY: a valid non-zero-sized layout, as above.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least this long.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` came from this allocator with `layout` (the caller's guarantee).
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

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

/// Current heap usage (large allocations included: their mapped pages as allocated,
/// and the pages cached for reuse as claimed but free).
pub fn stats() -> HeapStats {
    let (live, cached) = crate::large::pages();
    let heap = HEAP.lock();
    let c = heap.counters();
    HeapStats {
        allocated: c.allocated_bytes + (live * PAGE_SIZE) as usize,
        allocations: c.allocation_count,
        claimed: c.claimed_bytes + ((live + cached) * PAGE_SIZE) as usize,
    }
}
