//! Large kernel allocations (more than a page): each gets a virtual range of its own
//! in the large-allocation window, mapped to frames taken from the pool one by one,
//! and unmapped and given back when it is freed. So what a large buffer held (a
//! socket's buffers, a copy of a file) is in the pool again at once, wherever the
//! kernel's other allocations sit; a heap can only give back memory at its top.
//!
//! Ranges come in power-of-two classes of pages, each class with a region of the
//! window to itself; freed ranges are reused, latest first. A few freed ranges of the
//! smaller classes stay mapped for the next allocation of their size (a bounded cache),
//! so a system call that takes a 64 KiB buffer each time does not map one each time.

use crate::layout::{LARGE_CLASS_REGION, LARGE_START, PAGE_SIZE};
use crate::sync::IrqLock;
use core::alloc::Layout;

/// Classes 1 (2 pages) to 20 (4 GiB); larger allocations go to the heap.
const CLASSES: usize = 21;
/// Freed ranges remembered per class for reuse; more are forgotten (address space
/// only: their frames are freed all the same).
const FREE_SLOTS: usize = 1024;
/// Classes up to this one keep freed ranges mapped for reuse...
const CACHED_CLASS_MAX: usize = 4; // 16 pages, 64 KiB
/// ...this many per class.
const CACHE_PER_CLASS: usize = 4;

struct Class {
    /// Ranges handed out so far (the next new one is this index).
    next: u64,
    /// Freed range indices, unmapped.
    free: [u32; FREE_SLOTS],
    free_len: usize,
    /// Freed range indices still mapped, with the pages mapped.
    cached: [(u32, u32); CACHE_PER_CLASS],
    cached_len: usize,
}

struct State {
    classes: [Class; CLASSES],
    /// Pages mapped for live allocations.
    live_pages: u64,
    /// Pages mapped in cached ranges.
    cached_pages: u64,
}

const EMPTY_CLASS: Class =
    Class { next: 0, free: [0; FREE_SLOTS], free_len: 0, cached: [(0, 0); CACHE_PER_CLASS], cached_len: 0 };

static LARGE: IrqLock<State> = IrqLock::new(State { classes: [EMPTY_CLASS; CLASSES], live_pages: 0, cached_pages: 0 });

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(&mut LARGE.lock())
}

/// The class of a `pages`-page allocation, if it has one.
fn class_of(pages: u64) -> Option<usize> {
    let class = pages.next_power_of_two().trailing_zeros() as usize;
    (1..CLASSES).contains(&class).then_some(class)
}

fn range_start(class: usize, index: u64) -> u64 {
    LARGE_START + class as u64 * LARGE_CLASS_REGION + index * (PAGE_SIZE << class)
}

/// Whether `layout` is for this path: more than a page, aligned to at most its class.
pub(crate) fn fits(layout: Layout) -> bool {
    let pages = (layout.size() as u64).div_ceil(PAGE_SIZE);
    layout.size() as u64 > PAGE_SIZE && class_of(pages).is_some_and(|c| layout.align() as u64 <= PAGE_SIZE << c)
}

/// Whether `ptr` came from this path.
pub(crate) fn owns(ptr: *mut u8) -> bool {
    let addr = ptr as u64;
    (LARGE_START..LARGE_START + CLASSES as u64 * LARGE_CLASS_REGION).contains(&addr)
}

/// Maps a range for `layout` (which [`fits`]); null if the pool has too few frames or
/// the class's region is used up.
pub(crate) fn alloc(layout: Layout) -> *mut u8 {
    let pages = (layout.size() as u64).div_ceil(PAGE_SIZE);
    let Some(class) = class_of(pages) else { return core::ptr::null_mut() };
    // A cached range first (it may have more or fewer pages mapped than needed).
    let taken = with_state(|s| {
        let c = &mut s.classes[class];
        if c.cached_len > 0 {
            c.cached_len -= 1;
            let (index, mapped) = c.cached[c.cached_len];
            s.cached_pages -= u64::from(mapped);
            s.live_pages += pages;
            return Some((u64::from(index), u64::from(mapped)));
        }
        let index = if c.free_len > 0 {
            c.free_len -= 1;
            u64::from(c.free[c.free_len])
        } else {
            if (c.next + 1) * (PAGE_SIZE << class) > LARGE_CLASS_REGION {
                return None;
            }
            c.next += 1;
            c.next - 1
        };
        s.live_pages += pages;
        Some((index, 0))
    });
    let Some((index, mapped)) = taken else { return core::ptr::null_mut() };
    let start = range_start(class, index);
    let (have, want) = (start + mapped * PAGE_SIZE, start + pages * PAGE_SIZE);
    if have > want {
        crate::mm::unmap_large(want, have);
    } else if have < want && crate::mm::map_large(have, want).is_err() {
        crate::mm::unmap_large(start, have);
        with_state(|s| {
            s.live_pages -= pages;
            release_index(&mut s.classes[class], index);
        });
        return core::ptr::null_mut();
    }
    start as *mut u8
}

/// Unmaps (or caches) the range `ptr` of `layout` and frees its frames.
pub(crate) fn dealloc(ptr: *mut u8, layout: Layout) {
    let pages = (layout.size() as u64).div_ceil(PAGE_SIZE);
    let Some(class) = class_of(pages) else { return };
    let start = ptr as u64;
    let index = (start - range_start(class, 0)) / (PAGE_SIZE << class);
    let cached = with_state(|s| {
        s.live_pages -= pages;
        let c = &mut s.classes[class];
        if class <= CACHED_CLASS_MAX && c.cached_len < CACHE_PER_CLASS {
            c.cached[c.cached_len] = (index as u32, pages as u32);
            c.cached_len += 1;
            s.cached_pages += pages;
            true
        } else {
            false
        }
    });
    if !cached {
        crate::mm::unmap_large(start, start + pages * PAGE_SIZE);
        with_state(|s| release_index(&mut s.classes[class], index));
    }
}

fn release_index(c: &mut Class, index: u64) {
    if c.free_len < FREE_SLOTS {
        c.free[c.free_len] = index as u32;
        c.free_len += 1;
    }
}

/// Pages mapped for live large allocations, and pages kept mapped in the cache.
pub fn pages() -> (u64, u64) {
    with_state(|s| (s.live_pages, s.cached_pages))
}
