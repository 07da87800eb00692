//! Waking threads that wait on a socket: smoltcp calls a `Waker` when a socket's state
//! may have changed; ours wakes the socket's wait queue.

use crate::sched::WaitQueue;
use alloc::sync::Arc;
use alloc::task::Wake;
use core::task::Waker;

/// The queue of threads waiting on one socket (or one listener).
#[derive(Default)]
pub struct SocketWaker {
    /// Threads waiting for the socket's readiness to change.
    pub queue: WaitQueue,
}

impl SocketWaker {
    /// A new waker with an empty queue.
    pub fn new() -> Arc<SocketWaker> {
        Arc::new(SocketWaker { queue: WaitQueue::new() })
    }

    /// The `Waker` to register with smoltcp.
    pub fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(self.clone())
    }
}

impl Wake for SocketWaker {
    fn wake(self: Arc<Self>) {
        self.queue.wake_all();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.wake_all();
    }
}
