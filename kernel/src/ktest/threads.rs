//! Kernel threads: spawning, sleeping, waking through wait queues, exiting and
//! being freed.

use super::Outcome;
use crate::mm as memory;
use crate::sched::{self, WaitQueue};
use alloc::format;
use core::sync::atomic::{AtomicUsize, Ordering};

static DONE: AtomicUsize = AtomicUsize::new(0);
static FINISHED: WaitQueue = WaitQueue::new();
static ORDER: AtomicUsize = AtomicUsize::new(0);
static BAD_ORDER: AtomicUsize = AtomicUsize::new(0);

fn sleeper(n: usize) -> ! {
    // Thread n sleeps (n % 10) * 5 ms; wake order must follow the deadlines.
    let start = crate::time::now_ns();
    let _ = sched::sleep(start + (n % 10) as u64 * 5_000_000, None);
    let slept = crate::time::now_ns() - start;
    if slept < (n % 10) as u64 * 5_000_000 {
        BAD_ORDER.fetch_add(1, Ordering::Relaxed);
    }
    ORDER.fetch_add(1, Ordering::Relaxed);
    DONE.fetch_add(1, Ordering::Relaxed);
    FINISHED.wake_all();
    sched::exit_current()
}

/// Spawns 200 threads in rounds; each sleeps a while, counts itself and exits. After
/// the first round (which also fills the cache of kernel stacks) memory in use must
/// not grow.
pub fn kernel_threads() -> Outcome {
    const ROUNDS: usize = 4;
    const PER_ROUND: usize = 50;
    let mut before = memory::usage();
    for round in 0..ROUNDS {
        if round == 1 {
            sched::sleep(crate::time::now_ns() + 20_000_000, None).ok();
            before = memory::usage();
        }
        for n in 0..PER_ROUND {
            sched::spawn_kernel("sleeper", sleeper, n).map_err(|e| format!("spawn: {e}"))?;
        }
        let want = (round + 1) * PER_ROUND;
        FINISHED
            .wait_until(
                || (DONE.load(Ordering::Relaxed) >= want).then_some(()),
                Some(crate::time::now_ns() + 5_000_000_000),
                None,
            )
            .map_err(|e| format!("round {round}: {e:?} with {} of {want} done", DONE.load(Ordering::Relaxed)))?;
    }
    if BAD_ORDER.load(Ordering::Relaxed) != 0 {
        return Err(format!("{} threads woke before their deadline", BAD_ORDER.load(Ordering::Relaxed)));
    }
    // Let the idle thread free the last exited threads.
    sched::sleep(crate::time::now_ns() + 20_000_000, None).ok();
    let after = memory::usage();
    log::info!("threads: {} ran; memory before {before:?}, after {after:?}", ROUNDS * PER_ROUND);
    if after.frames_used > before.frames_used + 8 || after.heap_bytes > before.heap_bytes + 4096 {
        return Err(format!("memory not returned: before {before:?}, after {after:?}"));
    }
    Ok(())
}
