//! The checks `rust-probe` runs, in the order they run.

mod files;
mod memory;
mod process;
mod random;
mod threads;
mod time;

use std::fs;
use std::path::PathBuf;

use crate::report::{Check, Context};

/// Every check, in the order a plain `rust-probe` runs them.
pub static ALL: &[Check] = &[
    Check { name: "args", run: process::args },
    Check { name: "env", run: process::env },
    Check { name: "files-rw", run: files::read_write },
    Check { name: "files-meta", run: files::metadata },
    Check { name: "files-dir", run: files::directories },
    Check { name: "files-links", run: files::links },
    Check { name: "files-big", run: files::big_file },
    Check { name: "memory-big", run: memory::big },
    Check { name: "memory-small", run: memory::small },
    Check { name: "memory-sort", run: memory::sort },
    Check { name: "time-monotonic", run: time::monotonic },
    Check { name: "time-realtime", run: time::realtime },
    Check { name: "random-urandom", run: random::urandom },
    Check { name: "random-hashmap", run: random::hashmap },
    Check { name: "threads-sum", run: threads::sum },
    Check { name: "threads-mutex", run: threads::mutex },
    Check { name: "threads-barrier", run: threads::barrier },
    Check { name: "threads-mpsc", run: threads::mpsc },
    Check { name: "threads-parallelism", run: threads::parallelism },
    Check { name: "process-id", run: process::id },
    Check { name: "process-exe", run: process::exe },
    Check { name: "stderr", run: process::stderr },
    Check { name: "panic", run: process::panic },
];

/// The scratch directory the file checks work in: `/tmp/probe-<pid>`.
fn scratch_root() -> PathBuf {
    PathBuf::from(format!("/tmp/probe-{}", std::process::id()))
}

/// A fresh, empty directory `/tmp/probe-<pid>/<name>` for one check.
fn scratch(name: &str) -> Result<PathBuf, String> {
    fs::create_dir_all("/tmp").ctx("create /tmp")?;
    let dir = scratch_root().join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).ctx("clear old scratch dir")?;
    }
    fs::create_dir_all(&dir).ctx("create scratch dir")?;
    Ok(dir)
}

/// Removes whatever the checks left in the scratch directory.
pub fn cleanup() {
    let _ = fs::remove_dir_all(scratch_root());
}

/// A small deterministic pseudo-random sequence (xorshift64) for test data.
struct XorShift(u64);

impl XorShift {
    /// The next value; never zero when seeded with a non-zero value.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// FNV-1a over `bytes`, continuing from `hash` (start with [`FNV_START`]).
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The FNV-1a offset basis.
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
