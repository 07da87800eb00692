//! A byte queue whose memory is charged as it grows: the buffer of a pipe or of a
//! local connection, paid for by the container that fills it.

use super::MemoryCounter;
use alloc::collections::VecDeque;
use alloc::sync::Arc;

/// Bytes in order, at most `limit` of them, whose allocated capacity is charged to a
/// memory counter (none for the kernel's own queues).
pub struct ChargedQueue {
    bytes: VecDeque<u8>,
    limit: usize,
    counter: Option<Arc<MemoryCounter>>,
    charged: usize,
}

impl ChargedQueue {
    /// An empty queue holding at most `limit` bytes, charging `counter`.
    pub fn new(limit: usize, counter: Option<Arc<MemoryCounter>>) -> ChargedQueue {
        ChargedQueue { bytes: VecDeque::new(), limit, counter, charged: 0 }
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Room left before the limit.
    pub fn room(&self) -> usize {
        self.limit - self.bytes.len()
    }

    /// Appends as much of `data` as fits; returns how much, or `None` (nothing
    /// appended) if the memory for it cannot be had or paid for.
    pub fn push(&mut self, data: &[u8]) -> Option<usize> {
        let n = data.len().min(self.room());
        if n == 0 {
            return Some(0);
        }
        self.bytes.try_reserve(n).ok()?;
        let capacity = self.bytes.capacity();
        if capacity > self.charged {
            let more = capacity - self.charged;
            if let Some(c) = &self.counter
                && !c.try_charge(more as u64)
            {
                self.bytes.shrink_to(self.charged.max(self.bytes.len()));
                return None;
            }
            self.charged = capacity;
        }
        self.bytes.extend(&data[..n]);
        Some(n)
    }

    /// Copies the first `buf.len()` bytes (or all there are) into `buf`, removing them
    /// unless `peek`; returns how many.
    pub fn take(&mut self, buf: &mut [u8], peek: bool) -> usize {
        let n = buf.len().min(self.bytes.len());
        let (front, back) = self.bytes.as_slices();
        let from_front = n.min(front.len());
        buf[..from_front].copy_from_slice(&front[..from_front]);
        buf[from_front..n].copy_from_slice(&back[..n - from_front]);
        if !peek {
            self.bytes.drain(..n);
            self.release_if_empty();
        }
        n
    }

    /// Drops everything queued.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.release_if_empty();
    }

    /// Gives memory back once the queue is empty, keeping a small buffer.
    fn release_if_empty(&mut self) {
        if self.bytes.is_empty() && self.bytes.capacity() > crate::param::QUEUE_KEEP {
            self.bytes.shrink_to(crate::param::QUEUE_KEEP);
            self.settle();
        }
    }

    /// Uncharges what the buffer no longer holds.
    fn settle(&mut self) {
        let capacity = self.bytes.capacity();
        if capacity < self.charged {
            if let Some(c) = &self.counter {
                c.uncharge((self.charged - capacity) as u64);
            }
            self.charged = capacity;
        }
    }
}

impl Drop for ChargedQueue {
    fn drop(&mut self) {
        if let Some(c) = &self.counter {
            c.uncharge(self.charged as u64);
        }
    }
}
