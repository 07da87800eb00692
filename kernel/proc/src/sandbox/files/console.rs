//! `/dev/console`: one of a container's output streams, as a character device.

use crate::fs::{FileOps, OpenFile, devices::numbers};
use crate::sandbox::{LogBuffer, Sandbox, Stream};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use berth_abi::Errno;
use berth_abi::fs::{S_IFCHR, Stat};

/// A container's stdout or stderr: writes go to its log, reads find nothing.
pub struct Console {
    target: Target,
    stream: Stream,
}

/// The log a console writes to.
enum Target {
    /// Its sandbox's (the container's output).
    Sandbox(Weak<Sandbox>),
    /// One of its own (a `docker exec` process's output).
    Log(Weak<LogBuffer>),
}

impl Console {
    /// The console writing to `stream` of `container`'s log.
    pub fn new(sandbox: &Arc<Sandbox>, stream: Stream) -> Console {
        Console { target: Target::Sandbox(Arc::downgrade(sandbox)), stream }
    }

    /// The console writing to `stream` of `log` (while it lasts).
    pub fn to_log(log: &Arc<LogBuffer>, stream: Stream) -> Console {
        Console { target: Target::Log(Arc::downgrade(log)), stream }
    }

    fn append(&self, data: &[u8]) -> usize {
        match &self.target {
            Target::Sandbox(sandbox) => {
                if let Some(c) = sandbox.upgrade() {
                    c.log.append(self.stream, data);
                }
            }
            Target::Log(log) => {
                if let Some(log) = log.upgrade() {
                    log.append(self.stream, data);
                }
            }
        }
        data.len()
    }
}

impl FileOps for Console {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }

    fn write(&self, _file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        Ok(self.append(data))
    }

    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }

    fn write_at(&self, _offset: u64, data: &[u8]) -> Result<usize, Errno> {
        Ok(self.append(data))
    }

    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: i32) -> Result<u64, Errno> {
        // Seeking a character device is allowed and meaningless.
        Ok(0)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            st_mode: S_IFCHR | 0o666,
            st_rdev: numbers::CONSOLE,
            st_blksize: 4096,
            st_nlink: 1,
            ..Stat::default()
        })
    }

    fn describe(&self) -> String {
        String::from("/dev/console")
    }
}
