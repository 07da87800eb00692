//! `/dev/console`: one of a container's output streams, as a character device.

use crate::fs::{FileOps, OpenFile, devices::numbers};
use crate::sandbox::{Sandbox, Stream};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use berth_abi::Errno;
use berth_abi::fs::{S_IFCHR, Stat};

/// A container's stdout or stderr: writes go to its log, reads find nothing.
pub struct Console {
    sandbox: Weak<Sandbox>,
    stream: Stream,
}

impl Console {
    /// The console writing to `stream` of `container`'s log.
    pub fn new(sandbox: &Arc<Sandbox>, stream: Stream) -> Console {
        Console { sandbox: Arc::downgrade(sandbox), stream }
    }

    fn append(&self, data: &[u8]) -> usize {
        if let Some(c) = self.sandbox.upgrade() {
            c.log.append(self.stream, data);
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
