//! Per-CPU caches of free frames in front of the frame pool.
//!
//! Every frame allocated or freed would otherwise take the pool's one lock, and CPUs
//! faulting pages in at once would queue on it. Once several CPUs run, each keeps up
//! to [`CAPACITY`] free frames of its own: it allocates from them and frees into them,
//! and goes to the pool only to take or give back [`BATCH`] at a time, with its own
//! cache unlocked then, so no CPU holds both locks. A cached frame counts as free, and
//! when the pool runs dry a CPU takes frames from the others' caches.

use crate::percpu::MAX_CPUS;
use crate::sync::IrqLock;
use core::sync::atomic::{AtomicBool, Ordering};

/// Frames a CPU keeps at most.
pub(crate) const CAPACITY: usize = 64;
/// Frames moved between a cache and the pool at a time.
const BATCH: usize = 32;

struct Cache {
    frames: [u64; CAPACITY],
    len: usize,
}

static CACHES: [IrqLock<Cache>; MAX_CPUS] = [const { IrqLock::new(Cache { frames: [0; CAPACITY], len: 0 }) }; MAX_CPUS];
/// Whether the caches are in use (from the release of the other CPUs on).
static ON: AtomicBool = AtomicBool::new(false);

/// Puts the caches in front of the pool from now on.
pub(crate) fn enable() {
    ON.store(true, Ordering::Release);
}

/// A free frame's physical address (not zeroed): this CPU's cache's, refilled from the
/// pool when empty; `None` when the pool is empty too.
pub(crate) fn alloc() -> Option<u64> {
    if !ON.load(Ordering::Acquire) {
        return crate::mm::pool_alloc();
    }
    let me = crate::percpu::index();
    {
        let mut cache = CACHES[me].lock();
        if cache.len > 0 {
            cache.len -= 1;
            return Some(cache.frames[cache.len]);
        }
    }
    let mut batch = [0u64; BATCH];
    let taken = crate::mm::pool_alloc_batch(&mut batch);
    let Some((&first, rest)) = batch[..taken].split_first() else {
        // The pool is empty: the last free frames may sit in other CPUs' caches.
        return take_from_other_caches(me);
    };
    let mut spill = [0u64; BATCH];
    let mut spilled = 0;
    {
        // An interrupt handler may have filled the cache meanwhile: what does not fit
        // goes back.
        let mut cache = CACHES[me].lock();
        for &frame in rest {
            if cache.len < CAPACITY {
                let at = cache.len;
                cache.frames[at] = frame;
                cache.len += 1;
            } else {
                spill[spilled] = frame;
                spilled += 1;
            }
        }
    }
    spill[..spilled].iter().for_each(|&f| crate::mm::pool_free(f));
    Some(first)
}

/// A frame from another CPU's cache (one lock at a time), for when the pool is empty.
fn take_from_other_caches(me: usize) -> Option<u64> {
    CACHES.iter().enumerate().filter(|&(c, _)| c != me).find_map(|(_, cache)| {
        let mut cache = cache.lock();
        cache.len = cache.len.checked_sub(1)?;
        Some(cache.frames[cache.len])
    })
}

/// Takes back a frame [`alloc`] gave out. Panics if it is already in this CPU's cache
/// (a double free, which the pool would also refuse).
pub(crate) fn free(frame: u64) {
    if !ON.load(Ordering::Acquire) {
        crate::mm::pool_free(frame);
        return;
    }
    let me = crate::percpu::index();
    let mut spill = [0u64; BATCH];
    let spilled = {
        let mut cache = CACHES[me].lock();
        let len = cache.len;
        assert!(!cache.frames[..len].contains(&frame), "frame pool: frame {frame:#x} freed twice");
        let spilled = if len == CAPACITY {
            spill.copy_from_slice(&cache.frames[len - BATCH..len]);
            cache.len -= BATCH;
            BATCH
        } else {
            0
        };
        let at = cache.len;
        cache.frames[at] = frame;
        cache.len += 1;
        spilled
    };
    spill[..spilled].iter().for_each(|&f| crate::mm::pool_free(f));
}

/// Frames held in the caches of all CPUs.
pub(crate) fn cached() -> usize {
    CACHES.iter().map(|c| c.lock().len).sum()
}
