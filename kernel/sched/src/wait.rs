//! Wait queues: how threads block until something happens.
//!
//! A queue also counts its wakes (its generation, which edge-triggered epoll compares)
//! and can relay each wake to other queues (how an epoll instance hears of every file
//! it watches).

use super::{Thread, ThreadState, current, make_ready, schedule};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_hal::sync::IrqLock;
use core::sync::atomic::{AtomicU64, Ordering};

/// Why a wait ended without its condition becoming true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitError {
    /// The deadline passed.
    TimedOut,
    /// A signal arrived for the thread (only for interruptible waits).
    Interrupted,
}

/// Threads waiting for a condition; whoever changes the condition wakes them.
#[derive(Default)]
pub struct WaitQueue {
    waiters: IrqLock<Vec<Weak<Thread>>>,
    /// Queues woken along with this one, for as long as their [`WakeRelay`] lives.
    relays: IrqLock<Vec<Weak<RelayLink>>>,
    /// How many times [`WaitQueue::wake_all`] has run.
    wakes: AtomicU64,
}

/// Where a relay leads: the queue it wakes.
struct RelayLink {
    target: Weak<WaitQueue>,
}

/// Keeps a relay from one queue to another in place; dropping it ends the relay.
pub struct WakeRelay {
    _link: Arc<RelayLink>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> WaitQueue {
        WaitQueue { waiters: IrqLock::new(Vec::new()), relays: IrqLock::new(Vec::new()), wakes: AtomicU64::new(0) }
    }

    /// How many times the queue has been woken: a changed generation means something
    /// may have happened to whatever the queue guards.
    pub fn generation(&self) -> u64 {
        self.wakes.load(Ordering::Acquire)
    }

    /// Wakes `target` too whenever this queue is woken, until the returned relay is
    /// dropped. Relays must not form a cycle (epoll refuses loops with ELOOP).
    pub fn relay_to(&self, target: &Arc<WaitQueue>) -> WakeRelay {
        let link = Arc::new(RelayLink { target: Arc::downgrade(target) });
        let mut relays = self.relays.lock();
        relays.retain(|r| r.strong_count() > 0);
        relays.push(Arc::downgrade(&link));
        WakeRelay { _link: link }
    }

    /// Blocks until `ready` returns `Some`, the deadline (ns on the monotonic clock)
    /// passes, or — if `interrupted` is given — it returns true (a signal arrived).
    pub fn wait_until<T>(
        &self,
        ready: impl FnMut() -> Option<T>,
        deadline: Option<u64>,
        interrupted: Option<&dyn Fn() -> bool>,
    ) -> Result<T, WaitError> {
        wait_any(&[self], ready, deadline, interrupted)
    }

    /// Wakes every waiting thread (each rechecks its condition) and every queue this
    /// one relays to, and advances the generation.
    pub fn wake_all(&self) {
        self.wakes.fetch_add(1, Ordering::AcqRel);
        let waiters = core::mem::take(&mut *self.waiters.lock());
        for t in waiters.iter().filter_map(Weak::upgrade) {
            make_ready(t);
        }
        let targets: Vec<Arc<WaitQueue>> = {
            let mut relays = self.relays.lock();
            relays.retain(|r| r.strong_count() > 0);
            relays.iter().filter_map(|r| r.upgrade()?.target.upgrade()).collect()
        };
        for target in targets {
            target.wake_all();
        }
    }
    fn remove(&self, me: &Weak<Thread>) {
        self.waiters.lock().retain(|w| !w.ptr_eq(me));
    }
}

/// Blocks until `ready` returns `Some`, waking whenever any of `queues` is woken.
///
/// The thread marks itself blocked, then joins the queues, then checks `ready`: a
/// waker on another CPU that changes the condition after the check finds it queued
/// and blocked, and wakes it; one that changed it before is seen by the check. (A wake
/// that lands before the thread has switched away only marks it ready, and the
/// scheduler keeps it running.) `ready` and `interrupted` run with interrupts
/// disabled, so an interrupt handler on this CPU cannot slip in either.
pub fn wait_any<T>(
    queues: &[&WaitQueue],
    mut ready: impl FnMut() -> Option<T>,
    deadline: Option<u64>,
    interrupted: Option<&dyn Fn() -> bool>,
) -> Result<T, WaitError> {
    let me = current();
    let weak = Arc::downgrade(&me);
    loop {
        let outcome = berth_hal::cpu::without_interrupts(|| {
            // Blocked before joining the queues: a waker on another CPU that takes it
            // off a queue must find it blocked (and so mark it ready). Joined first, a
            // wake landing in between would take it off the queue while it still ran,
            // change nothing, and leave it asleep on no queue when the check below found
            // nothing to wake for (nginx lost a connection's end this way).
            me.block();
            for q in queues {
                q.waiters.lock().push(weak.clone());
            }
            if let Some(d) = deadline {
                super::sleep_until(&me, d);
            }
            let done = if let Some(v) = ready() {
                Some(Ok(v))
            } else if interrupted.is_some_and(|f| f()) {
                Some(Err(WaitError::Interrupted))
            } else if deadline.is_some_and(|d| crate::time::now_ns() >= d) {
                Some(Err(WaitError::TimedOut))
            } else {
                None
            };
            match done {
                // Still on this CPU, so no waker queued it: it just runs on.
                Some(_) => me.set_state(ThreadState::Running),
                None => schedule(),
            }
            if let Some(d) = deadline {
                super::cancel_sleep(&me, d);
            }
            for q in queues {
                q.remove(&weak);
            }
            done
        });
        if let Some(result) = outcome {
            return result;
        }
    }
}

/// Sleeps until the monotonic clock reaches `deadline` (ns); returns early with
/// `Interrupted` if `interrupted` says so.
pub fn sleep(deadline: u64, interrupted: Option<&dyn Fn() -> bool>) -> Result<(), WaitError> {
    match wait_any(&[], || None::<()>, Some(deadline), interrupted) {
        Err(WaitError::TimedOut) => Ok(()),
        other => other,
    }
}
