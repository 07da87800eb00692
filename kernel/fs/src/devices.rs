//! The memory devices: `/dev/null`, `/dev/zero`, `/dev/full`, `/dev/random` and
//! `/dev/urandom`. (A container's console and terminal are the container's own.)

use super::{FileOps, OpenFile};
use alloc::string::String;
use berth_abi::Errno;
use berth_abi::fs::{S_IFCHR, Stat};

/// `makedev(major, minor)` as Linux encodes it for small numbers.
pub const fn dev(major: u64, minor: u64) -> u64 {
    (major << 8) | minor
}

/// The device numbers berth implements.
pub mod numbers {
    use super::dev;
    /// /dev/null
    pub const NULL: u64 = dev(1, 3);
    /// /dev/zero
    pub const ZERO: u64 = dev(1, 5);
    /// /dev/full
    pub const FULL: u64 = dev(1, 7);
    /// /dev/random
    pub const RANDOM: u64 = dev(1, 8);
    /// /dev/urandom
    pub const URANDOM: u64 = dev(1, 9);
    /// /dev/tty
    pub const TTY: u64 = dev(5, 0);
    /// /dev/console
    pub const CONSOLE: u64 = dev(5, 1);
}

/// A device file.
pub enum Device {
    /// Reads give end-of-file, writes vanish.
    Null,
    /// Reads give zeros, writes vanish.
    Zero,
    /// Reads give zeros, writes fail with ENOSPC.
    Full,
    /// Reads give random bytes.
    Random,
}

impl Device {
    /// The memory device numbered `rdev`, if it is one.
    pub fn from_rdev(rdev: u64) -> Option<Device> {
        use numbers::*;
        match rdev {
            NULL => Some(Device::Null),
            ZERO => Some(Device::Zero),
            FULL => Some(Device::Full),
            RANDOM | URANDOM => Some(Device::Random),
            _ => None,
        }
    }

    fn rdev(&self) -> u64 {
        use numbers::*;
        match self {
            Device::Null => NULL,
            Device::Zero => ZERO,
            Device::Full => FULL,
            Device::Random => URANDOM,
        }
    }
}

impl Device {
    fn read_bytes(&self, buf: &mut [u8]) -> usize {
        match self {
            Device::Null => 0,
            Device::Zero | Device::Full => {
                buf.fill(0);
                buf.len()
            }
            Device::Random => {
                crate::random::fill(buf);
                buf.len()
            }
        }
    }

    fn write_bytes(&self, data: &[u8]) -> Result<usize, Errno> {
        match self {
            Device::Full => Err(Errno::ENOSPC),
            _ => Ok(data.len()),
        }
    }
}

impl FileOps for Device {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.read_bytes(buf))
    }

    fn write(&self, _file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        self.write_bytes(data)
    }

    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.read_bytes(buf))
    }

    fn write_at(&self, _offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.write_bytes(data)
    }

    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: i32) -> Result<u64, Errno> {
        // Seeking a character device is allowed and meaningless.
        Ok(0)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_mode: S_IFCHR | 0o666, st_rdev: self.rdev(), st_blksize: 4096, st_nlink: 1, ..Stat::default() })
    }

    fn fills_reads(&self) -> bool {
        // As in Linux: zero, full and urandom fill any buffer (null reads nothing).
        matches!(self, Device::Zero | Device::Full | Device::Random)
    }

    fn supports_poll(&self) -> bool {
        // As in Linux: null, zero, full and urandom have no poll operation.
        false
    }

    fn describe(&self) -> String {
        String::from(match self {
            Device::Null => "/dev/null",
            Device::Zero => "/dev/zero",
            Device::Full => "/dev/full",
            Device::Random => "/dev/urandom",
        })
    }
}
