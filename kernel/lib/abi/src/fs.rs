//! Files: `open` flags, `*at` flags, `fcntl` commands, mode bits, and the structs of
//! `stat`, `statx`, `statfs`, `getdents64`, `readv`/`writev`, `uname` and file locks.

mod dirent;
mod stat;

pub use dirent::*;
pub use stat::*;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    FS_CONSTS: Libc;
    /// Mask of the access mode in open flags.
    pub const O_ACCMODE: u32 = 0o3;
    /// Open for reading.
    pub const O_RDONLY: u32 = 0;
    /// Open for writing.
    pub const O_WRONLY: u32 = 0o1;
    /// Open for reading and writing.
    pub const O_RDWR: u32 = 0o2;
    /// Create the file if it does not exist.
    pub const O_CREAT: u32 = 0o100;
    /// With `O_CREAT`: fail if the file exists.
    pub const O_EXCL: u32 = 0o200;
    /// Do not make a terminal the controlling terminal.
    pub const O_NOCTTY: u32 = 0o400;
    /// Truncate to length 0.
    pub const O_TRUNC: u32 = 0o1000;
    /// Every write appends.
    pub const O_APPEND: u32 = 0o2000;
    /// Non-blocking I/O.
    pub const O_NONBLOCK: u32 = 0o4000;
    /// Alias of [`O_NONBLOCK`].
    pub const O_NDELAY: u32 = 0o4000;
    /// Writes wait for the data (not all metadata) to reach storage.
    pub const O_DSYNC: u32 = 0o10000;
    /// Signal-driven I/O (`FASYNC`).
    pub const O_ASYNC: u32 = 0o20000;
    /// Bypass the page cache.
    pub const O_DIRECT: u32 = 0o40000;
    /// Fail unless the path is a directory.
    pub const O_DIRECTORY: u32 = 0o200000;
    /// Do not follow a symlink in the last component.
    pub const O_NOFOLLOW: u32 = 0o400000;
    /// Do not update the access time.
    pub const O_NOATIME: u32 = 0o1000000;
    /// Close on `execve`.
    pub const O_CLOEXEC: u32 = 0o2000000;
    /// Writes wait for data and metadata (`__O_SYNC | O_DSYNC`).
    pub const O_SYNC: u32 = 0o4010000;
    /// A location-only descriptor.
    pub const O_PATH: u32 = 0o10000000;
    /// An unnamed file in the given directory (`__O_TMPFILE | O_DIRECTORY`).
    pub const O_TMPFILE: u32 = 0o20200000;

    /// `dirfd`: the current directory.
    pub const AT_FDCWD: i32 = -100;
    /// Do not follow a trailing symlink.
    pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
    /// `faccessat`: check with the effective ids.
    pub const AT_EACCESS: u32 = 0x200;
    /// `unlinkat`: remove a directory.
    pub const AT_REMOVEDIR: u32 = 0x200;
    /// `linkat`: follow a trailing symlink.
    pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
    /// Do not trigger an automount on the last component.
    pub const AT_NO_AUTOMOUNT: u32 = 0x800;
    /// An empty path means `dirfd` itself.
    pub const AT_EMPTY_PATH: u32 = 0x1000;
    /// `statx`: sync mask.
    pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;
    /// `statx`: do what `stat` does.
    pub const AT_STATX_SYNC_AS_STAT: u32 = 0;
    /// `statx`: force a sync with the server.
    pub const AT_STATX_FORCE_SYNC: u32 = 0x2000;
    /// `statx`: do not sync.
    pub const AT_STATX_DONT_SYNC: u32 = 0x4000;
    /// Apply to the whole subtree (`open_tree`, `mount_setattr`).
    pub const AT_RECURSIVE: u32 = 0x8000;

    /// `renameat2`: fail if the target exists.
    pub const RENAME_NOREPLACE: u32 = 1;
    /// `renameat2`: swap source and target.
    pub const RENAME_EXCHANGE: u32 = 2;
    /// `renameat2`: leave a whiteout at the source (overlayfs).
    pub const RENAME_WHITEOUT: u32 = 4;

    /// `access` mode: the file exists.
    pub const F_OK: i32 = 0;
    /// `access` mode: executable.
    pub const X_OK: i32 = 1;
    /// `access` mode: writable.
    pub const W_OK: i32 = 2;
    /// `access` mode: readable.
    pub const R_OK: i32 = 4;

    /// `fcntl`: duplicate to the lowest free descriptor `>= arg`.
    pub const F_DUPFD: i32 = 0;
    /// `fcntl`: get descriptor flags (`FD_CLOEXEC`).
    pub const F_GETFD: i32 = 1;
    /// `fcntl`: set descriptor flags.
    pub const F_SETFD: i32 = 2;
    /// `fcntl`: get status flags and access mode.
    pub const F_GETFL: i32 = 3;
    /// `fcntl`: set status flags (`O_APPEND`, `O_NONBLOCK`, ...).
    pub const F_SETFL: i32 = 4;
    /// `fcntl`: test a record lock.
    pub const F_GETLK: i32 = 5;
    /// `fcntl`: take or release a record lock.
    pub const F_SETLK: i32 = 6;
    /// `fcntl`: take a record lock, waiting.
    pub const F_SETLKW: i32 = 7;
    /// `fcntl`: set the `SIGIO` owner.
    pub const F_SETOWN: i32 = 8;
    /// `fcntl`: get the `SIGIO` owner.
    pub const F_GETOWN: i32 = 9;
    /// `fcntl`: set the signal sent instead of `SIGIO`.
    pub const F_SETSIG: i32 = 10;
    /// `fcntl`: get that signal.
    pub const F_GETSIG: i32 = 11;
    /// `fcntl`: open file description lock, test.
    pub const F_OFD_GETLK: i32 = 36;
    /// `fcntl`: open file description lock, set.
    pub const F_OFD_SETLK: i32 = 37;
    /// `fcntl`: open file description lock, set and wait.
    pub const F_OFD_SETLKW: i32 = 38;
    /// `fcntl`: set a lease.
    pub const F_SETLEASE: i32 = 1024;
    /// `fcntl`: get the lease.
    pub const F_GETLEASE: i32 = 1025;
    /// `fcntl`: directory change notification (dnotify).
    pub const F_NOTIFY: i32 = 1026;
    /// `fcntl`: `F_DUPFD` and set `FD_CLOEXEC`.
    pub const F_DUPFD_CLOEXEC: i32 = 1030;
    /// `fcntl`: set a pipe's capacity.
    pub const F_SETPIPE_SZ: i32 = 1031;
    /// `fcntl`: get a pipe's capacity.
    pub const F_GETPIPE_SZ: i32 = 1032;
    /// `fcntl`: add memfd seals.
    pub const F_ADD_SEALS: i32 = 1033;
    /// `fcntl`: get memfd seals.
    pub const F_GET_SEALS: i32 = 1034;
    /// Seal: no more seals.
    pub const F_SEAL_SEAL: u32 = 1;
    /// Seal: no shrinking.
    pub const F_SEAL_SHRINK: u32 = 2;
    /// Seal: no growing.
    pub const F_SEAL_GROW: u32 = 4;
    /// Seal: no writing.
    pub const F_SEAL_WRITE: u32 = 8;
    /// Descriptor flag: close on `execve`.
    pub const FD_CLOEXEC: u32 = 1;
    /// Lock type: shared.
    pub const F_RDLCK: i16 = 0;
    /// Lock type: exclusive.
    pub const F_WRLCK: i16 = 1;
    /// Lock type: unlock.
    pub const F_UNLCK: i16 = 2;
    /// `flock`: shared.
    pub const LOCK_SH: i32 = 1;
    /// `flock`: exclusive.
    pub const LOCK_EX: i32 = 2;
    /// `flock`: do not block.
    pub const LOCK_NB: i32 = 4;
    /// `flock`: unlock.
    pub const LOCK_UN: i32 = 8;

    /// Mask of the file type in a mode.
    pub const S_IFMT: u32 = 0o170000;
    /// Socket.
    pub const S_IFSOCK: u32 = 0o140000;
    /// Symbolic link.
    pub const S_IFLNK: u32 = 0o120000;
    /// Regular file.
    pub const S_IFREG: u32 = 0o100000;
    /// Block device.
    pub const S_IFBLK: u32 = 0o060000;
    /// Directory.
    pub const S_IFDIR: u32 = 0o040000;
    /// Character device.
    pub const S_IFCHR: u32 = 0o020000;
    /// FIFO.
    pub const S_IFIFO: u32 = 0o010000;
    /// Set-user-id.
    pub const S_ISUID: u32 = 0o4000;
    /// Set-group-id.
    pub const S_ISGID: u32 = 0o2000;
    /// Sticky.
    pub const S_ISVTX: u32 = 0o1000;
    /// Owner: read, write, execute.
    pub const S_IRWXU: u32 = 0o700;
    /// Owner: read.
    pub const S_IRUSR: u32 = 0o400;
    /// Owner: write.
    pub const S_IWUSR: u32 = 0o200;
    /// Owner: execute.
    pub const S_IXUSR: u32 = 0o100;
    /// Group: read, write, execute.
    pub const S_IRWXG: u32 = 0o70;
    /// Group: read.
    pub const S_IRGRP: u32 = 0o40;
    /// Group: write.
    pub const S_IWGRP: u32 = 0o20;
    /// Group: execute.
    pub const S_IXGRP: u32 = 0o10;
    /// Others: read, write, execute.
    pub const S_IRWXO: u32 = 0o7;
    /// Others: read.
    pub const S_IROTH: u32 = 0o4;
    /// Others: write.
    pub const S_IWOTH: u32 = 0o2;
    /// Others: execute.
    pub const S_IXOTH: u32 = 0o1;

    /// `lseek`: from the start.
    pub const SEEK_SET: i32 = 0;
    /// `lseek`: from the current offset.
    pub const SEEK_CUR: i32 = 1;
    /// `lseek`: from the end.
    pub const SEEK_END: i32 = 2;
    /// `lseek`: the next data at or after the offset.
    pub const SEEK_DATA: i32 = 3;
    /// `lseek`: the next hole at or after the offset.
    pub const SEEK_HOLE: i32 = 4;

    /// `utimensat` `tv_nsec`: set to the current time.
    pub const UTIME_NOW: i64 = (1 << 30) - 1;
    /// `utimensat` `tv_nsec`: leave unchanged.
    pub const UTIME_OMIT: i64 = (1 << 30) - 2;

    /// Longest path, including the NUL.
    pub const PATH_MAX: usize = 4096;
    /// Longest file name component.
    pub const NAME_MAX: usize = 255;
}

abi_consts! {
    FS_KERNEL_CONSTS: Kernel;
    /// Large-file open flag. The kernel's value; glibc defines `O_LARGEFILE` as 0 on x86_64,
    /// and the kernel forces it on for 64-bit callers.
    pub const O_LARGEFILE: u32 = 0o100000;
    /// Most iovecs one call accepts.
    pub const IOV_MAX: usize = 1024 => "UIO_MAXIOV";
}

/// Most symlinks Linux follows in one lookup (kernel-internal `MAXSYMLINKS`; glibc's
/// `<sys/param.h>` says 20, which is not what the kernel does).
pub const MAXSYMLINKS: usize = 40;

/// Longest single `execve` argument or environment string, including the NUL
/// (kernel-internal `MAX_ARG_STRLEN`, `32 * PAGE_SIZE`).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;

bitflags::bitflags! {
    /// Open flags apart from the access mode (see [`access_mode`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct OpenFlags: u32 {
        /// [`O_WRONLY`].
        const WRONLY = O_WRONLY;
        /// [`O_RDWR`].
        const RDWR = O_RDWR;
        /// [`O_CREAT`].
        const CREAT = O_CREAT;
        /// [`O_EXCL`].
        const EXCL = O_EXCL;
        /// [`O_NOCTTY`].
        const NOCTTY = O_NOCTTY;
        /// [`O_TRUNC`].
        const TRUNC = O_TRUNC;
        /// [`O_APPEND`].
        const APPEND = O_APPEND;
        /// [`O_NONBLOCK`].
        const NONBLOCK = O_NONBLOCK;
        /// [`O_DSYNC`].
        const DSYNC = O_DSYNC;
        /// [`O_ASYNC`].
        const ASYNC = O_ASYNC;
        /// [`O_DIRECT`].
        const DIRECT = O_DIRECT;
        /// [`O_LARGEFILE`].
        const LARGEFILE = O_LARGEFILE;
        /// [`O_DIRECTORY`].
        const DIRECTORY = O_DIRECTORY;
        /// [`O_NOFOLLOW`].
        const NOFOLLOW = O_NOFOLLOW;
        /// [`O_NOATIME`].
        const NOATIME = O_NOATIME;
        /// [`O_CLOEXEC`].
        const CLOEXEC = O_CLOEXEC;
        /// [`O_SYNC`] (includes [`O_DSYNC`]).
        const SYNC = O_SYNC;
        /// [`O_PATH`].
        const PATH = O_PATH;
        /// [`O_TMPFILE`] (includes [`O_DIRECTORY`]).
        const TMPFILE = O_TMPFILE;
    }
}

bitflags::bitflags! {
    /// The flags of `renameat2` as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RenameFlags: u32 {
        /// [`RENAME_NOREPLACE`].
        const NOREPLACE = RENAME_NOREPLACE;
        /// [`RENAME_EXCHANGE`].
        const EXCHANGE = RENAME_EXCHANGE;
        /// [`RENAME_WHITEOUT`].
        const WHITEOUT = RENAME_WHITEOUT;
    }
}

bitflags::bitflags! {
    /// `AT_*` flags of the `*at` calls as a flag set. [`AT_EACCESS`] (`faccessat`) and
    /// [`AT_REMOVEDIR`] (`unlinkat`) share a bit; each call reads the one it knows.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AtFlags: u32 {
        /// [`AT_SYMLINK_NOFOLLOW`].
        const SYMLINK_NOFOLLOW = AT_SYMLINK_NOFOLLOW;
        /// [`AT_EACCESS`].
        const EACCESS = AT_EACCESS;
        /// [`AT_REMOVEDIR`].
        const REMOVEDIR = AT_REMOVEDIR;
        /// [`AT_SYMLINK_FOLLOW`].
        const SYMLINK_FOLLOW = AT_SYMLINK_FOLLOW;
        /// [`AT_NO_AUTOMOUNT`].
        const NO_AUTOMOUNT = AT_NO_AUTOMOUNT;
        /// [`AT_EMPTY_PATH`].
        const EMPTY_PATH = AT_EMPTY_PATH;
        /// [`AT_STATX_FORCE_SYNC`].
        const STATX_FORCE_SYNC = AT_STATX_FORCE_SYNC;
        /// [`AT_STATX_DONT_SYNC`].
        const STATX_DONT_SYNC = AT_STATX_DONT_SYNC;
        /// [`AT_RECURSIVE`].
        const RECURSIVE = AT_RECURSIVE;
    }
}

/// The access mode of open flags: [`O_RDONLY`], [`O_WRONLY`], [`O_RDWR`] or the invalid 3.
pub const fn access_mode(flags: u32) -> u32 {
    flags & O_ACCMODE
}

/// The file type bits of a mode (`mode & S_IFMT`).
pub const fn file_type(mode: u32) -> u32 {
    mode & S_IFMT
}

/// `struct iovec` (`readv`, `writev`, `sendmsg`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct IoVec {
    /// User address of the buffer.
    pub base: u64,
    /// Its length.
    pub len: u64,
}

/// `struct flock` (x86_64): a record lock for `F_GETLK`/`F_SETLK`/`F_SETLKW`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Flock {
    /// [`F_RDLCK`], [`F_WRLCK`] or [`F_UNLCK`].
    pub l_type: i16,
    /// `SEEK_SET`, `SEEK_CUR` or `SEEK_END`.
    pub l_whence: i16,
    /// Padding; zero.
    pub _pad0: u32,
    /// Start of the range.
    pub l_start: i64,
    /// Length of the range; 0 means to the end of the file.
    pub l_len: i64,
    /// `F_GETLK`: pid of the holder.
    pub l_pid: i32,
    /// Padding; zero.
    pub _pad1: u32,
}

/// `struct new_utsname`, what `uname` fills: six NUL-terminated 65-byte fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Utsname {
    /// `"Linux"`: the system name programs test for.
    pub sysname: [u8; 65],
    /// Host name.
    pub nodename: [u8; 65],
    /// Kernel release, e.g. `"6.1.0"`; glibc and others parse it for feature checks.
    pub release: [u8; 65],
    /// Kernel version string.
    pub version: [u8; 65],
    /// `"x86_64"`.
    pub machine: [u8; 65],
    /// NIS domain name, usually `"(none)"`.
    pub domainname: [u8; 65],
}

zeroed_default!(Utsname);

impl Utsname {
    /// Length of each field, including the NUL.
    pub const FIELD_LEN: usize = 65;

    /// A utsname from its six fields, each cut to 64 bytes so a NUL always ends it.
    pub fn new(sysname: &str, nodename: &str, release: &str, version: &str, machine: &str, domainname: &str) -> Self {
        fn field(s: &str) -> [u8; 65] {
            let mut out = [0; 65];
            let n = s.len().min(64);
            out[..n].copy_from_slice(&s.as_bytes()[..n]);
            out
        }
        Utsname {
            sysname: field(sysname),
            nodename: field(nodename),
            release: field(release),
            version: field(version),
            machine: field(machine),
            domainname: field(domainname),
        }
    }
}
