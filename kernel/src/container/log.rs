//! A container's output: a bounded ring of timestamped chunks of stdout and stderr.

use crate::sched::WaitQueue;
use alloc::collections::VecDeque;
use alloc::string::String;
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
    /// Echo lines to the kernel console, prefixed with this.
    echo: Option<String>,
    /// Echo standard error only.
    echo_stderr_only: bool,
    /// Woken on every append and on close.
    pub changed: WaitQueue,
}

impl LogBuffer {
    /// A log keeping at most `cap` bytes, echoing to the console with `echo` as prefix
    /// (standard error only if `echo_stderr_only`).
    pub fn new(cap: usize, echo: Option<String>, echo_stderr_only: bool) -> LogBuffer {
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
        let data = if data.len() > self.cap { &data[data.len() - self.cap..] } else { data };
        let mut lines = Vec::new();
        {
            let mut inner = self.inner.lock();
            let seq = inner.next_seq;
            inner.next_seq += 1;
            inner.bytes += data.len();
            inner.entries.push_back(LogEntry { seq, time_ns: crate::time::realtime_ns(), stream, data: data.to_vec() });
            while inner.bytes > self.cap {
                match inner.entries.pop_front() {
                    Some(e) => {
                        inner.bytes -= e.data.len();
                        inner.dropped += e.data.len() as u64;
                    }
                    None => break,
                }
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

    /// The entries with `seq >= from`, and the sequence number to ask for next.
    pub fn read_from(&self, from: u64) -> (Vec<LogEntry>, u64) {
        let inner = self.inner.lock();
        let entries = inner.entries.iter().filter(|e| e.seq >= from).cloned().collect();
        (entries, inner.next_seq)
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
