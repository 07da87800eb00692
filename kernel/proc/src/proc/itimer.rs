//! The real-time interval timer of each process (`alarm`, `setitimer(ITIMER_REAL)`):
//! SIGALRM when it expires, then again every interval if it has one. A `timers`
//! kernel thread sleeps until the earliest expiry.

use super::Process;
use crate::sched::{self, WaitQueue};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use berth_abi::signal::{SIGALRM, SigInfo, Signal};
use spin::Mutex;

/// One armed timer.
struct Armed {
    process: Weak<Process>,
    /// Monotonic expiry, ns.
    deadline: u64,
    /// Reload interval, ns (0: one-shot).
    interval: u64,
}

/// Armed timers by process (its address, kept valid by the `Weak`).
static ARMED: Mutex<BTreeMap<usize, Armed>> = Mutex::new(BTreeMap::new());
/// Woken when a timer is armed, so the thread recomputes its deadline.
static CHANGED: WaitQueue = WaitQueue::new();
static THREAD: spin::Once<()> = spin::Once::new();

fn key(process: &Arc<Process>) -> usize {
    Arc::as_ptr(process) as usize
}

/// The timer of `process`: (time left, interval) in ns, zeros when disarmed.
pub fn get(process: &Arc<Process>) -> (u64, u64) {
    let now = crate::time::now_ns();
    ARMED.lock().get(&key(process)).map_or((0, 0), |a| (a.deadline.saturating_sub(now).max(1), a.interval))
}

/// Arms the timer of `process` to expire in `value` ns (0 disarms), then every
/// `interval` ns; returns what it was set to before, as [`get`] does.
pub fn set(process: &Arc<Process>, value: u64, interval: u64) -> (u64, u64) {
    THREAD.call_once(|| {
        if let Err(e) = sched::spawn_kernel("timers", timer_thread, 0) {
            log::error!("cannot start the interval timer thread: {e}");
        }
    });
    let old = get(process);
    let mut armed = ARMED.lock();
    if value == 0 {
        armed.remove(&key(process));
    } else {
        let deadline = crate::time::now_ns().saturating_add(value);
        armed.insert(key(process), Armed { process: Arc::downgrade(process), deadline, interval });
    }
    drop(armed);
    CHANGED.wake_all();
    old
}

/// Disarms the timer of a process that has exited.
pub fn forget(process: &Arc<Process>) {
    ARMED.lock().remove(&key(process));
}

/// Sends SIGALRM for every expired timer and re-arms the periodic ones; returns the
/// next expiry.
fn fire_due() -> Option<u64> {
    let now = crate::time::now_ns();
    let mut due = alloc::vec::Vec::new();
    let mut armed = ARMED.lock();
    armed.retain(|_, a| {
        if a.deadline > now {
            return true;
        }
        due.push(a.process.clone());
        if a.interval == 0 {
            return false;
        }
        // Expiries missed while the machine was busy are not made up for.
        let missed = (now - a.deadline) / a.interval + 1;
        a.deadline += missed * a.interval;
        true
    });
    let next = armed.values().map(|a| a.deadline).min();
    drop(armed);
    for p in due.iter().filter_map(Weak::upgrade) {
        super::send_to_process(&p, Signal::of(SIGALRM), SigInfo::kernel(SIGALRM), super::Sender::Inside);
    }
    next
}

/// The `timers` thread: fires what is due, then sleeps until the next expiry but at
/// least a tick, so timers with tiny intervals cost one pass per tick however many
/// there are (their missed expiries are not made up for).
fn timer_thread(_: usize) -> ! {
    let tick_ns = 1_000_000_000 / u64::from(crate::time::hz().max(1));
    loop {
        let seen = CHANGED.generation();
        let next = fire_due().map(|n| n.max(crate::time::now_ns() + tick_ns));
        let _ = CHANGED.wait_until(|| (CHANGED.generation() != seen).then_some(()), next, None);
    }
}
