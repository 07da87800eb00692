//! A container's output: a bounded ring of timestamped chunks of stdout and stderr.
//!
//! What the log holds (each write's bytes and its entry's own cost) counts against its
//! cap and is charged to the container; when the container cannot pay for a write, the
//! oldest writes make room, as they do at the cap. Readers take it in bounded batches.

use crate::mm::MemoryCounter;
use crate::sched::WaitQueue;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// Which output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What an entry costs beyond its bytes (the entry, its place in the ring, the
/// allocation's rounding), so that many tiny writes cannot make a small log large.
const ENTRY_OVERHEAD: usize = 64;

/// Most bytes one batch read returns (at least one whole entry).
pub const READ_BATCH: usize = 64 * 1024;

/// One write to the log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Sequence number, increasing from 0.
    pub seq: u64,
    /// Wall-clock time of the write, ns since the epoch.
    pub time_ns: u64,
    /// Which stream.
    pub stream: Stream,
    /// The bytes.
    pub data: Vec<u8>,
}

struct Inner {
    entries: VecDeque<LogEntry>,
    /// What the entries cost (their bytes plus [`ENTRY_OVERHEAD`] each), all charged.
    bytes: usize,
    next_seq: u64,
    /// Bytes dropped from the front to stay within the cap.
    dropped: u64,
    closed: bool,
    /// Partial lines held back from the console echo, per stream.
    echo_line: [Vec<u8>; 2],
}

/// The log of one container.
pub struct LogBuffer {
    inner: Mutex<Inner>,
    cap: usize,
    /// What the log is charged to (its container's memory).
    memory: Option<Arc<MemoryCounter>>,
    /// Echo lines to the kernel console, prefixed with this.
    echo: Option<String>,
    /// Echo standard error only.
    echo_stderr_only: bool,
    /// Woken on every append and on close.
    pub changed: WaitQueue,
}

impl LogBuffer {
    /// A log costing at most `cap` bytes, charged to `memory`, echoing to the console
    /// with `echo` as prefix (standard error only if `echo_stderr_only`).
    pub fn new(
        cap: usize,
        memory: Option<Arc<MemoryCounter>>,
        echo: Option<String>,
        echo_stderr_only: bool,
    ) -> LogBuffer {
        LogBuffer {
            inner: Mutex::new(Inner {
                entries: VecDeque::new(),
                bytes: 0,
                next_seq: 0,
                dropped: 0,
                closed: false,
                echo_line: [Vec::new(), Vec::new()],
            }),
            cap,
            memory,
            echo,
            echo_stderr_only,
            changed: WaitQueue::new(),
        }
    }

    /// Appends a write.
    pub fn append(&self, stream: Stream, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let room = self.cap - ENTRY_OVERHEAD;
        let data = if data.len() > room { &data[data.len() - room..] } else { data };
        let cost = data.len() + ENTRY_OVERHEAD;
        let mut lines = Vec::new();
        {
            let mut inner = self.inner.lock();
            // Make room within the cap, then within what the container can pay for.
            while inner.bytes + cost > self.cap && self.drop_oldest(&mut inner) {}
            let paid = loop {
                if self.memory.as_ref().is_none_or(|m| m.try_charge(cost as u64)) {
                    break true;
                }
                if !self.drop_oldest(&mut inner) {
                    break false;
                }
            };
            let mut copy = Vec::new();
            if paid && copy.try_reserve_exact(data.len()).is_ok() {
                copy.extend_from_slice(data);
                let seq = inner.next_seq;
                inner.next_seq += 1;
                inner.bytes += cost;
                inner.entries.push_back(LogEntry { seq, time_ns: crate::time::realtime_ns(), stream, data: copy });
            } else {
                if paid && let Some(m) = &self.memory {
                    m.uncharge(cost as u64);
                }
                inner.dropped += data.len() as u64;
            }
            if self.echo.is_some() && (stream == Stream::Stderr || !self.echo_stderr_only) {
                let held = &mut inner.echo_line[stream as usize];
                held.extend_from_slice(data);
                while let Some(nl) = held.iter().position(|&b| b == b'\n') {
                    lines.push(held.drain(..=nl).collect::<Vec<u8>>());
                }
                if held.len() > 4096 {
                    lines.push(core::mem::take(held));
                }
            }
        }
        if let Some(prefix) = &self.echo {
            for line in lines {
                let text = String::from_utf8_lossy(&line);
                log::info!(target: "container", "[{prefix}] {}", text.trim_end_matches('\n'));
            }
        }
        self.changed.wake_all();
    }

    /// Removes the oldest entry; false if there is none.
    fn drop_oldest(&self, inner: &mut Inner) -> bool {
        let Some(e) = inner.entries.pop_front() else { return false };
        let cost = e.data.len() + ENTRY_OVERHEAD;
        inner.bytes -= cost;
        inner.dropped += e.data.len() as u64;
        if let Some(m) = &self.memory {
            m.uncharge(cost as u64);
        }
        true
    }

    /// The entries with `seq >= from`, up to about [`READ_BATCH`] bytes of them (at
    /// least one), and the sequence number to ask for next.
    pub fn read_from(&self, from: u64) -> (Vec<LogEntry>, u64) {
        let inner = self.inner.lock();
        let first = inner.entries.partition_point(|e| e.seq < from);
        let mut bytes = 0;
        let mut entries = Vec::new();
        for e in inner.entries.range(first..) {
            if bytes > 0 && bytes + e.data.len() > READ_BATCH {
                break;
            }
            bytes += e.data.len();
            entries.push(e.clone());
        }
        let next = entries.last().map_or(inner.next_seq.max(from), |e| e.seq + 1);
        (entries, next)
    }

    /// Where the last `n` lines of the streams `wanted` says begin: the sequence
    /// number of the entry holding the first of them, and how many lines of that
    /// entry's come before it (to skip).
    pub fn tail_start(&self, n: usize, wanted: impl Fn(Stream) -> bool) -> (u64, usize) {
        let inner = self.inner.lock();
        let mut lines = 0;
        for e in inner.entries.iter().rev().filter(|e| wanted(e.stream)) {
            let here = e.data.split_inclusive(|&b| b == b'\n').count();
            if lines + here >= n {
                return (e.seq, here - (n - lines));
            }
            lines += here;
        }
        (inner.entries.front().map_or(inner.next_seq, |e| e.seq), 0)
    }

    /// Everything has been read up to `next` (nothing newer is there).
    pub fn caught_up(&self, next: u64) -> bool {
        self.inner.lock().next_seq <= next
    }

    /// The sequence number the next write will get.
    pub fn next_seq(&self) -> u64 {
        self.inner.lock().next_seq
    }

    /// Marks the log finished (the container exited): followers stop.
    pub fn close(&self) {
        let rest: Vec<Vec<u8>> = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            inner.echo_line.iter_mut().map(core::mem::take).filter(|l| !l.is_empty()).collect()
        };
        if let Some(prefix) = &self.echo {
            for line in rest {
                log::info!(target: "container", "[{prefix}] {}", String::from_utf8_lossy(&line));
            }
        }
        self.changed.wake_all();
    }

    /// Passes the log's last `max` bytes or so (whole writes) to `f`, oldest first,
    /// without allocating; nothing if the log is locked. For the panic report.
    pub fn try_tail(&self, max: usize, mut f: impl FnMut(&[u8])) {
        let Some(inner) = self.inner.try_lock() else { return };
        let mut bytes = 0;
        let skip = inner
            .entries
            .iter()
            .rev()
            .position(|e| {
                bytes += e.data.len();
                bytes > max
            })
            .map_or(0, |from_end| inner.entries.len() - from_end);
        for e in inner.entries.iter().skip(skip) {
            f(&e.data);
        }
    }

    /// Whether the log is finished.
    pub fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }
}

impl Drop for LogBuffer {
    fn drop(&mut self) {
        if let Some(m) = &self.memory {
            m.uncharge(self.inner.lock().bytes as u64);
        }
    }
}
