//! eventfd: a 64-bit counter behind a descriptor, for waking another thread or process.
//!
//! A write adds its 8-byte value to the counter; a read returns the counter and resets
//! it to 0, or in semaphore mode returns 1 and takes 1. Reads block while the counter
//! is 0, writes while the sum would pass [`MAX_COUNT`]. Readable when the counter is
//! above 0, writable while it is below [`MAX_COUNT`].

use super::{FileOps, OpenFile, Ready};
use crate::sched::WaitQueue;
use alloc::string::String;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::fs::Stat;
use spin::Mutex;

/// The largest value the counter holds (`ULLONG_MAX - 1`); `u64::MAX` itself is not a
/// valid write.
pub const MAX_COUNT: u64 = u64::MAX - 1;

/// Bytes every read and write moves.
const VALUE_SIZE: usize = 8;

struct State {
    count: u64,
    /// A writer found too little room (it blocked, or got EAGAIN and may wait in poll
    /// or epoll), so the next read must wake the queue.
    room_wanted: bool,
}

/// An eventfd counter.
pub struct EventFd {
    state: Mutex<State>,
    /// Reads take 1 at a time (EFD_SEMAPHORE).
    semaphore: bool,
    /// Woken by every write (as Linux does), and by a read only when it makes room a
    /// writer or poller waits for (edge-triggered epoll counts wakes).
    changed: WaitQueue,
}

impl EventFd {
    /// A counter starting at `initial`; `semaphore` for EFD_SEMAPHORE reads.
    pub fn new(initial: u64, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd {
            state: Mutex::new(State { count: initial, room_wanted: false }),
            semaphore,
            changed: WaitQueue::new(),
        })
    }
}

impl FileOps for EventFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < VALUE_SIZE {
            return Err(Errno::EINVAL);
        }
        let (value, made_room) = super::block_on(&self.changed, file.nonblocking(), None, || {
            let mut s = self.state.lock();
            if s.count == 0 {
                return Err(Errno::EAGAIN);
            }
            let was_full = s.count == MAX_COUNT;
            let value = if self.semaphore { 1 } else { s.count };
            s.count -= value;
            Ok((value, was_full || core::mem::take(&mut s.room_wanted)))
        })?;
        buf[..VALUE_SIZE].copy_from_slice(&value.to_ne_bytes());
        if made_room {
            self.changed.wake_all();
        }
        Ok(VALUE_SIZE)
    }

    fn write(&self, file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        let value = data.get(..VALUE_SIZE).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes);
        let value = value.filter(|&v| v != u64::MAX).ok_or(Errno::EINVAL)?;
        super::block_on(&self.changed, file.nonblocking(), None, || {
            let mut s = self.state.lock();
            if value <= MAX_COUNT - s.count {
                s.count += value;
                Ok(())
            } else {
                s.room_wanted = true;
                Err(Errno::EAGAIN)
            }
        })?;
        self.changed.wake_all();
        Ok(VALUE_SIZE)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        // An anonymous inode, as Linux gives every eventfd: mode 0600, no type.
        Ok(Stat { st_mode: 0o600, st_nlink: 1, st_blksize: 4096, ..Stat::default() })
    }

    fn ready(&self) -> Ready {
        let count = self.state.lock().count;
        Ready { read: count > 0, write: count < MAX_COUNT, ..Ready::default() }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.changed)
    }

    fn describe(&self) -> String {
        String::from("anon_inode:[eventfd]")
    }
}
