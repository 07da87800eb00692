//! Connections that never leave the machine: TCP over 127.0.0.1 inside a container,
//! and Unix stream sockets. A connection is two bounded byte queues, one each way;
//! each end wakes the other's waiters when it adds data, takes data, or goes away.
//! What a direction holds is charged to the container of the end that writes it.

use super::waker::SocketWaker;
use crate::fs::Ready;
use crate::mm::{ChargedQueue, MemoryCounter};
use alloc::sync::Arc;
use berth_abi::Errno;
use spin::Mutex;

/// One direction of a connection.
struct Queue {
    bytes: ChargedQueue,
    /// The writer will send no more (shutdown or close): the reader sees end of file
    /// once the queue is empty.
    writer_done: bool,
    /// The reader is gone (closed, or shut down for reading): writes fail with EPIPE.
    reader_gone: bool,
}

struct Direction {
    queue: Mutex<Queue>,
}

impl Direction {
    /// A direction whose bytes are charged to `writer` (the writing end's container).
    fn new(writer: Option<Arc<MemoryCounter>>) -> Arc<Direction> {
        Arc::new(Direction {
            queue: Mutex::new(Queue {
                bytes: ChargedQueue::new(crate::param::LOCAL_SOCKET_CAPACITY, writer),
                writer_done: false,
                reader_gone: false,
            }),
        })
    }
}

/// One end of a local connection.
pub struct LocalEnd {
    rx: Arc<Direction>,
    tx: Arc<Direction>,
    /// Woken when this end can read or write more.
    pub waker: Arc<SocketWaker>,
    peer_waker: Arc<SocketWaker>,
}

/// One side of a connection to make: its waker, and what its writes are charged to.
pub struct Side {
    /// Woken when the side can read or write more.
    pub waker: Arc<SocketWaker>,
    /// Its container's memory (none for the kernel's own sockets).
    pub memory: Option<Arc<MemoryCounter>>,
}

/// A new connection between sides `a` and `b`: their ends.
pub fn pair(a: Side, b: Side) -> (LocalEnd, LocalEnd) {
    let (a_waker, b_waker) = (a.waker, b.waker);
    let (ab, ba) = (Direction::new(a.memory), Direction::new(b.memory));
    let a = LocalEnd { rx: ba.clone(), tx: ab.clone(), waker: a_waker.clone(), peer_waker: b_waker.clone() };
    let b = LocalEnd { rx: ab, tx: ba, waker: b_waker, peer_waker: a_waker };
    (a, b)
}

impl LocalEnd {
    /// Reads up to `buf.len()` bytes (or copies without taking them when `peek`).
    /// Ok(0) is end of file; EAGAIN when nothing is there yet.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> Result<usize, Errno> {
        let mut q = self.rx.queue.lock();
        if q.bytes.is_empty() {
            return if q.writer_done || q.reader_gone { Ok(0) } else { Err(Errno::EAGAIN) };
        }
        let n = q.bytes.take(buf, peek);
        drop(q);
        if !peek {
            self.peer_waker.queue.wake_all();
        }
        Ok(n)
    }

    /// Queues up to `data.len()` bytes; EAGAIN when full, EPIPE when the peer is gone,
    /// ENOBUFS when the writer's container cannot pay for the memory.
    pub fn send(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut q = self.tx.queue.lock();
        if q.reader_gone || q.writer_done {
            return Err(Errno::EPIPE);
        }
        if q.bytes.room() == 0 {
            return Err(Errno::EAGAIN);
        }
        let n = q.bytes.push(data).ok_or(Errno::ENOBUFS)?;
        drop(q);
        self.peer_waker.queue.wake_all();
        Ok(n)
    }

    /// Bytes waiting to be read.
    pub fn available(&self) -> usize {
        self.rx.queue.lock().bytes.len()
    }

    /// Stops sending (the peer reads end of file once it has read what was sent).
    pub fn shutdown_write(&self) {
        self.tx.queue.lock().writer_done = true;
        self.peer_waker.queue.wake_all();
    }

    /// Stops receiving: what is queued is dropped, and the peer's writes fail.
    pub fn shutdown_read(&self) {
        let mut q = self.rx.queue.lock();
        q.reader_gone = true;
        q.bytes.clear();
        drop(q);
        self.peer_waker.queue.wake_all();
    }

    /// Readiness now of the stream socket this end belongs to; `shut_rd` when its
    /// reading side was shut down (reads then return end of file at once).
    pub fn ready(&self, shut_rd: bool) -> Ready {
        let rx = self.rx.queue.lock();
        let tx = self.tx.queue.lock();
        Ready {
            read: !rx.bytes.is_empty() || rx.writer_done || rx.reader_gone || shut_rd,
            write: tx.bytes.len() < crate::param::LOCAL_SOCKET_CAPACITY || tx.reader_gone || tx.writer_done,
            hangup: (rx.writer_done || rx.reader_gone) && (tx.reader_gone || tx.writer_done),
            error: false,
            read_hangup: rx.writer_done,
        }
    }
}

impl Drop for LocalEnd {
    fn drop(&mut self) {
        self.shutdown_write();
        self.shutdown_read();
    }
}
