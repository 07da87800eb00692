//! `struct stat`, `struct statx` and `struct statfs`, with the `STATX_*` mask bits.

use crate::time::Timespec;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    STATX_CONSTS: Kernel;
    /// `statx` mask: `stx_mode & S_IFMT`.
    pub const STATX_TYPE: u32 = 0x1;
    /// `statx` mask: `stx_mode & !S_IFMT`.
    pub const STATX_MODE: u32 = 0x2;
    /// `statx` mask: `stx_nlink`.
    pub const STATX_NLINK: u32 = 0x4;
    /// `statx` mask: `stx_uid`.
    pub const STATX_UID: u32 = 0x8;
    /// `statx` mask: `stx_gid`.
    pub const STATX_GID: u32 = 0x10;
    /// `statx` mask: `stx_atime`.
    pub const STATX_ATIME: u32 = 0x20;
    /// `statx` mask: `stx_mtime`.
    pub const STATX_MTIME: u32 = 0x40;
    /// `statx` mask: `stx_ctime`.
    pub const STATX_CTIME: u32 = 0x80;
    /// `statx` mask: `stx_ino`.
    pub const STATX_INO: u32 = 0x100;
    /// `statx` mask: `stx_size`.
    pub const STATX_SIZE: u32 = 0x200;
    /// `statx` mask: `stx_blocks`.
    pub const STATX_BLOCKS: u32 = 0x400;
    /// `statx` mask: everything `stat` reports.
    pub const STATX_BASIC_STATS: u32 = 0x7ff;
    /// `statx` mask: `stx_btime`.
    pub const STATX_BTIME: u32 = 0x800;
    /// `statx` mask: `stx_mnt_id`.
    pub const STATX_MNT_ID: u32 = 0x1000;
    /// `statx` mask: `stx_dio_mem_align` and `stx_dio_offset_align`.
    pub const STATX_DIOALIGN: u32 = 0x2000;
    /// `stx_attributes`: immutable file.
    pub const STATX_ATTR_IMMUTABLE: u64 = 0x10;
    /// `stx_attributes`: append-only file.
    pub const STATX_ATTR_APPEND: u64 = 0x20;
    /// `stx_attributes`: an automount trigger.
    pub const STATX_ATTR_AUTOMOUNT: u64 = 0x1000;
    /// `stx_attributes`: the root of a mount.
    pub const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;

    /// `f_type` of tmpfs.
    pub const TMPFS_MAGIC: i64 = 0x0102_1994;
    /// `f_type` of ramfs.
    pub const RAMFS_MAGIC: i64 = 0x8584_58f6;
    /// `f_type` of procfs.
    pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
    /// `f_type` of sysfs.
    pub const SYSFS_MAGIC: i64 = 0x6265_6572;
    /// `f_type` of devpts.
    pub const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
    /// `f_type` of cgroup2.
    pub const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
    /// `f_type` of overlayfs.
    pub const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;
    /// `f_type` of ext2/3/4.
    pub const EXT4_SUPER_MAGIC: i64 = 0xef53;
}

abi_consts! {
    STATFS_CONSTS: Libc;
    /// `f_flags`: mounted read-only.
    pub const ST_RDONLY: i64 = 1;
    /// `f_flags`: set-id bits ignored.
    pub const ST_NOSUID: i64 = 2;
    /// `f_flags`: device files refused.
    pub const ST_NODEV: i64 = 4;
    /// `f_flags`: execution refused.
    pub const ST_NOEXEC: i64 = 8;
    /// `f_flags`: access times not updated.
    pub const ST_NOATIME: i64 = 1024;
    /// `f_flags`: relative access times.
    pub const ST_RELATIME: i64 = 4096;
}

/// The kernel's x86_64 `struct stat` (`<asm/stat.h>`), filled by `stat`, `fstat`, `lstat`
/// and `newfstatat`: 144 bytes. glibc's x86_64 `struct stat` has the same layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Stat {
    /// Device of the file system.
    pub st_dev: u64,
    /// Inode number.
    pub st_ino: u64,
    /// Hard links.
    pub st_nlink: u64,
    /// Type and permission bits.
    pub st_mode: u32,
    /// Owner.
    pub st_uid: u32,
    /// Group.
    pub st_gid: u32,
    /// Padding; zero.
    pub __pad0: u32,
    /// Device number, for device files.
    pub st_rdev: u64,
    /// Size in bytes.
    pub st_size: i64,
    /// Preferred I/O size.
    pub st_blksize: i64,
    /// 512-byte blocks allocated.
    pub st_blocks: i64,
    /// Access time, seconds.
    pub st_atime: i64,
    /// Access time, nanoseconds.
    pub st_atime_nsec: i64,
    /// Modification time, seconds.
    pub st_mtime: i64,
    /// Modification time, nanoseconds.
    pub st_mtime_nsec: i64,
    /// Status change time, seconds.
    pub st_ctime: i64,
    /// Status change time, nanoseconds.
    pub st_ctime_nsec: i64,
    /// Reserved; zero.
    pub __unused: [i64; 3],
}

impl Stat {
    /// Sets the three timestamps.
    pub fn set_times(&mut self, atime: Timespec, mtime: Timespec, ctime: Timespec) {
        (self.st_atime, self.st_atime_nsec) = (atime.sec, atime.nsec);
        (self.st_mtime, self.st_mtime_nsec) = (mtime.sec, mtime.nsec);
        (self.st_ctime, self.st_ctime_nsec) = (ctime.sec, ctime.nsec);
    }
}

/// `struct statx_timestamp`: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct StatxTimestamp {
    /// Seconds since the epoch.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: u32,
    /// Reserved; zero.
    pub __reserved: i32,
}

impl From<Timespec> for StatxTimestamp {
    fn from(t: Timespec) -> Self {
        StatxTimestamp { tv_sec: t.sec, tv_nsec: t.nsec as u32, __reserved: 0 }
    }
}

/// `struct statx` (`<linux/stat.h>`): 256 bytes. `stx_mask` says which fields are valid.
///
/// Fields are those of Linux 6.1. Later kernels carve more out of [`Statx::__spare3`]
/// (`stx_subvol`, atomic-write limits), each behind its own mask bit, so zero is correct
/// for a kernel that does not report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Statx {
    /// `STATX_*` bits of the valid fields.
    pub stx_mask: u32,
    /// Preferred I/O size.
    pub stx_blksize: u32,
    /// `STATX_ATTR_*` bits.
    pub stx_attributes: u64,
    /// Hard links.
    pub stx_nlink: u32,
    /// Owner.
    pub stx_uid: u32,
    /// Group.
    pub stx_gid: u32,
    /// Type and permission bits.
    pub stx_mode: u16,
    /// Reserved; zero.
    pub __spare0: [u16; 1],
    /// Inode number.
    pub stx_ino: u64,
    /// Size in bytes.
    pub stx_size: u64,
    /// 512-byte blocks allocated.
    pub stx_blocks: u64,
    /// `STATX_ATTR_*` bits this file system supports.
    pub stx_attributes_mask: u64,
    /// Access time.
    pub stx_atime: StatxTimestamp,
    /// Creation time.
    pub stx_btime: StatxTimestamp,
    /// Status change time.
    pub stx_ctime: StatxTimestamp,
    /// Modification time.
    pub stx_mtime: StatxTimestamp,
    /// Device number (major), for device files.
    pub stx_rdev_major: u32,
    /// Device number (minor), for device files.
    pub stx_rdev_minor: u32,
    /// Device of the file system (major).
    pub stx_dev_major: u32,
    /// Device of the file system (minor).
    pub stx_dev_minor: u32,
    /// Mount id.
    pub stx_mnt_id: u64,
    /// Memory alignment for direct I/O.
    pub stx_dio_mem_align: u32,
    /// File offset alignment for direct I/O.
    pub stx_dio_offset_align: u32,
    /// Reserved; zero.
    pub __spare3: [u64; 12],
}

/// The kernel's x86_64 `struct statfs` (`statfs`, `fstatfs`): 120 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Statfs {
    /// File system magic, e.g. [`TMPFS_MAGIC`].
    pub f_type: i64,
    /// Block size.
    pub f_bsize: i64,
    /// Total blocks.
    pub f_blocks: u64,
    /// Free blocks.
    pub f_bfree: u64,
    /// Free blocks available to unprivileged users.
    pub f_bavail: u64,
    /// Total inodes.
    pub f_files: u64,
    /// Free inodes.
    pub f_ffree: u64,
    /// File system id.
    pub f_fsid: [i32; 2],
    /// Longest file name.
    pub f_namelen: i64,
    /// Fragment size.
    pub f_frsize: i64,
    /// `ST_*` mount flags.
    pub f_flags: i64,
    /// Reserved; zero.
    pub f_spare: [i64; 4],
}
