//! Locks that are safe to take from interrupt handlers.
//!
//! Taking an [`IrqLock`] disables interrupts on this CPU until the guard is dropped, so
//! an interrupt handler can never find the lock held by the code it interrupted, and
//! the holder is never preempted; other CPUs spin until it is free. Locks that
//! interrupt handlers take are these; the rest are plain spin locks (`spin::Mutex`),
//! which no interrupt handler touches.

use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::instructions::interrupts;

/// A spin lock that keeps interrupts disabled while held.
pub type IrqLock<T> = lock_api::Mutex<RawIrqLock, T>;
/// The guard of an [`IrqLock`].
pub type IrqLockGuard<'a, T> = lock_api::MutexGuard<'a, RawIrqLock, T>;

/// The raw lock behind [`IrqLock`].
pub struct RawIrqLock {
    locked: AtomicBool,
    /// Whether interrupts were enabled when the current holder locked.
    restore: AtomicBool,
}

// SAFETY: `lock` returns only once this CPU owns `locked` (compare-exchange with
// acquire ordering) and `unlock` releases it with release ordering, so at most one
// holder exists at a time.
unsafe impl lock_api::RawMutex for RawIrqLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawIrqLock = RawIrqLock { locked: AtomicBool::new(false), restore: AtomicBool::new(false) };
    type GuardMarker = lock_api::GuardNoSend;

    fn lock(&self) {
        loop {
            if self.try_lock() {
                return;
            }
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
    }

    fn try_lock(&self) -> bool {
        let enabled = interrupts::are_enabled();
        interrupts::disable();
        if self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            self.restore.store(enabled, Ordering::Relaxed);
            true
        } else {
            if enabled {
                interrupts::enable();
            }
            false
        }
    }

    unsafe fn unlock(&self) {
        let restore = self.restore.load(Ordering::Relaxed);
        self.locked.store(false, Ordering::Release);
        if restore {
            interrupts::enable();
        }
    }
}
