//! A mutex whose waiters sleep: for work that holds a lock for long (disk I/O), so
//! that other threads run meanwhile instead of spinning, and the holder may give up
//! the CPU ([`crate::preempt_point`]) while it holds it.
//!
//! Not for interrupt handlers, nor with interrupts disabled (a waiter blocks).

use crate::WaitQueue;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// A value behind a lock whose waiters sleep.
pub struct SleepMutex<T> {
    locked: AtomicBool,
    released: WaitQueue,
    value: spin::Mutex<T>,
}

/// Holds a [`SleepMutex`]; dropping it releases the lock and wakes the waiters.
pub struct SleepMutexGuard<'a, T> {
    inner: Option<spin::MutexGuard<'a, T>>,
    lock: &'a SleepMutex<T>,
}

impl<T> SleepMutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> SleepMutex<T> {
        SleepMutex { locked: AtomicBool::new(false), released: WaitQueue::new(), value: spin::Mutex::new(value) }
    }

    /// Takes the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> SleepMutexGuard<'_, T> {
        let take = || self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok();
        if take().is_none() {
            // Without a deadline or interruption, the wait ends only with the lock.
            let _ = self.released.wait_until(take, None, None);
        }
        // Only the holder of `locked` reaches here: the spin lock is free.
        SleepMutexGuard { inner: Some(self.value.lock()), lock: self }
    }
}

impl<T> Deref for SleepMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("held until dropped")
    }
}

impl<T> DerefMut for SleepMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("held until dropped")
    }
}

impl<T> Drop for SleepMutexGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.inner.take());
        self.lock.locked.store(false, Ordering::Release);
        self.lock.released.wake_all();
    }
}
