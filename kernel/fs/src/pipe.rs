//! Pipes.

use super::{FileOps, IoctlArg, OpenFile, Ready};
use crate::mm::{ChargedQueue, MemoryCounter};
use crate::sched::WaitQueue;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::fs::Stat;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

/// Writes up to this size are atomic (PIPE_BUF).
const ATOMIC_WRITE: usize = 4096;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct State {
    buf: ChargedQueue,
    readers: usize,
    writers: usize,
}

struct Pipe {
    id: u64,
    state: Mutex<State>,
    /// Woken when data arrives, when space appears that a blocked writer may need,
    /// and when an end closes (not on every read: edge-triggered epoll counts wakes).
    changed: WaitQueue,
}

/// One end of a pipe.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    writer: bool,
}

/// A new pipe: (read end, write end). What it holds is charged to `memory` (the
/// container that made it; none for the kernel's).
pub fn pipe(memory: Option<Arc<MemoryCounter>>) -> (Arc<PipeEnd>, Arc<PipeEnd>) {
    let pipe = Arc::new(Pipe {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        state: Mutex::new(State {
            buf: ChargedQueue::new(crate::param::PIPE_CAPACITY, memory),
            readers: 1,
            writers: 1,
        }),
        changed: WaitQueue::new(),
    });
    (Arc::new(PipeEnd { pipe: pipe.clone(), writer: false }), Arc::new(PipeEnd { pipe, writer: true }))
}

impl FileOps for PipeEnd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.writer {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let pipe = &self.pipe;
        let (n, space_before) = super::block_on(&pipe.changed, file.nonblocking(), None, || {
            let mut s = pipe.state.lock();
            if !s.buf.is_empty() {
                let space_before = crate::param::PIPE_CAPACITY - s.buf.len();
                let n = s.buf.take(buf, false);
                Ok((n, space_before))
            } else if s.writers == 0 {
                Ok((0, crate::param::PIPE_CAPACITY))
            } else {
                Err(Errno::EAGAIN)
            }
        })?;
        // A writer can only be waiting for less room than one atomic write (or for any
        // room at all), so with that much free before this read nobody needs waking.
        if space_before < ATOMIC_WRITE {
            pipe.changed.wake_all();
        }
        Ok(n)
    }

    fn write(&self, file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        if !self.writer {
            return Err(Errno::EBADF);
        }
        let pipe = &self.pipe;
        let mut written = 0;
        while written < data.len() || data.is_empty() {
            let step = super::block_on(&pipe.changed, file.nonblocking(), None, || {
                let mut s = pipe.state.lock();
                if s.readers == 0 {
                    return Err(Errno::EPIPE);
                }
                let space = crate::param::PIPE_CAPACITY - s.buf.len();
                let left = &data[written..];
                // Small writes go in whole or not at all.
                let fits = if left.len() <= ATOMIC_WRITE { space >= left.len() } else { space > 0 };
                if fits {
                    // Memory the container cannot pay for: ENOMEM, as on Linux.
                    s.buf.push(left).ok_or(Errno::ENOMEM)
                } else {
                    Err(Errno::EAGAIN)
                }
            });
            match step {
                Ok(n) => {
                    written += n;
                    pipe.changed.wake_all();
                    if data.is_empty() {
                        break;
                    }
                }
                Err(Errno::EPIPE) => {
                    super::raise_sigpipe();
                    return if written > 0 { Ok(written) } else { Err(Errno::EPIPE) };
                }
                // A partial write reports what was written; the error comes next time.
                Err(e) => return if written > 0 { Ok(written) } else { Err(e) },
            }
        }
        Ok(written)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_mode: berth_abi::fs::S_IFIFO | 0o600, st_ino: self.pipe.id, st_blksize: 4096, ..Stat::default() })
    }

    fn ioctl(&self, _file: &OpenFile, request: u32, arg: IoctlArg) -> Result<isize, Errno> {
        if request == berth_abi::ioctl::FIONREAD {
            let n = self.pipe.state.lock().buf.len() as i32;
            arg.ptr().write(&n)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn ready(&self) -> Ready {
        let s = self.pipe.state.lock();
        if self.writer {
            Ready {
                write: s.readers == 0 || s.buf.len() < crate::param::PIPE_CAPACITY,
                error: s.readers == 0,
                ..Ready::default()
            }
        } else {
            Ready { read: !s.buf.is_empty() || s.writers == 0, hangup: s.writers == 0, ..Ready::default() }
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.pipe.changed)
    }

    fn describe(&self) -> String {
        format!("pipe:[{}]", self.pipe.id)
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        {
            let mut s = self.pipe.state.lock();
            if self.writer {
                s.writers -= 1;
            } else {
                s.readers -= 1;
            }
        }
        self.pipe.changed.wake_all();
    }
}
