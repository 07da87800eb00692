//! Open files: the objects behind file descriptors.
//!
//! Every kind of file — a file or directory of a container's file system, a pipe, a
//! device such as `/dev/null`, a container's stdout, an epoll instance, an eventfd —
//! implements [`FileOps`]. An [`OpenFile`] adds what `open` creates: the offset and the
//! status flags. Descriptors refer to open files through a process's [`FdTable`].

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

// The layers below, under the names this crate's modules use.
use berth_base::{param, random};
use berth_mm as mm;
use berth_mm::uaccess;
use berth_sched as sched;

pub mod devices;
mod epoll;
mod eventfd;
mod fdtable;
mod inode_file;
mod pipe;

pub use devices::Device;
pub use epoll::Epoll;
pub use eventfd::EventFd;
pub use fdtable::{Fd, FdTable, MAX_FDS};
pub use inode_file::{InodeFile, stat_of};
pub use pipe::pipe;

use crate::sched::{WaitError, WaitQueue};
use alloc::string::String;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::fs::Stat;
use berth_vfs::FsError;
use berth_vfs::Inode;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

/// Readiness for `poll`: readable, writable, hung up, error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// Data (or end of file) can be read without blocking.
    pub read: bool,
    /// Data can be written without blocking.
    pub write: bool,
    /// The other end is gone.
    pub hangup: bool,
    /// An error is pending.
    pub error: bool,
    /// The peer will send nothing more (a stream socket's POLLRDHUP).
    pub read_hangup: bool,
}

/// The third argument of `ioctl`: a number, or the address of the request's data, as
/// the request says.
#[derive(Clone, Copy, Debug)]
pub struct IoctlArg(u64);

impl IoctlArg {
    /// The argument as the program passed it.
    pub const fn new(raw: u64) -> IoctlArg {
        IoctlArg(raw)
    }

    /// The argument as the address of a `T`.
    pub fn ptr<T>(self) -> crate::uaccess::UserPtr<T> {
        crate::uaccess::UserPtr::new(self.0)
    }

    /// The argument as a number.
    pub fn value(self) -> u64 {
        self.0
    }
}

/// What every kind of open file can do. Defaults are the answers of a file that does
/// not support the operation.
pub trait FileOps: Any + Send + Sync {
    /// Reads into `buf` at the file's offset (regular files) or from its stream.
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let _ = (file, buf);
        Err(Errno::EINVAL)
    }

    /// Writes `data`.
    fn write(&self, file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        let _ = (file, data);
        Err(Errno::EINVAL)
    }

    /// Reads at `offset` without moving the file offset (pread).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let _ = (offset, buf);
        Err(Errno::ESPIPE)
    }

    /// Writes at `offset` without moving the file offset (pwrite).
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let _ = (offset, data);
        Err(Errno::ESPIPE)
    }

    /// The new offset for `lseek` (files know their size).
    fn seek(&self, file: &OpenFile, offset: i64, whence: i32) -> Result<u64, Errno> {
        let _ = (file, offset, whence);
        Err(Errno::ESPIPE)
    }

    /// `fstat`.
    fn stat(&self) -> Result<Stat, Errno>;

    /// An `ioctl` request.
    fn ioctl(&self, file: &OpenFile, request: u32, arg: IoctlArg) -> Result<isize, Errno> {
        let _ = (file, request, arg);
        Err(Errno::ENOTTY)
    }

    /// Readiness now.
    fn ready(&self) -> Ready {
        Ready { read: true, write: true, ..Ready::default() }
    }

    /// The queue woken when readiness may have changed (none for files that are
    /// always ready). Edge-triggered epoll reports a file again only after this queue
    /// was woken, so a file should wake it when something a waiter may be waiting for
    /// happened, and need not otherwise.
    fn wait_queue(&self) -> Option<&WaitQueue> {
        None
    }

    /// Whether the file has a poll operation in Linux's sense: epoll refuses files
    /// without one (EPERM), such as regular files, directories and `/dev/null`; poll and
    /// select treat them as always ready.
    fn supports_poll(&self) -> bool {
        true
    }

    /// The epoll instance this file is, if it is one.
    fn as_epoll(&self) -> Option<&Epoll> {
        None
    }

    /// The inode behind the file, for files of the file system.
    fn inode(&self) -> Option<&Arc<Inode>> {
        None
    }

    /// Whether a read is filled to the size asked (regular files, `/dev/zero`), rather
    /// than returning what a stream has now.
    fn fills_reads(&self) -> bool {
        self.inode().is_some()
    }

    /// Sets the file's length (ftruncate).
    fn truncate(&self, len: u64) -> Result<(), Errno> {
        let _ = len;
        Err(Errno::EINVAL)
    }

    /// Directory entries from position `pos`, for getdents64: fills `buf`, returns
    /// (bytes written, new position).
    fn read_dir(&self, pos: u64, buf: &mut [u8]) -> Result<(usize, u64), Errno> {
        let _ = (pos, buf);
        Err(Errno::ENOTDIR)
    }

    /// The file's name for `/proc/self/fd` (e.g. `pipe:[3]`).
    fn describe(&self) -> String {
        String::from("anon_inode:[file]")
    }
}

/// The errno for a file system error.
pub fn fs_errno(e: FsError) -> Errno {
    match e {
        FsError::NotFound => Errno::ENOENT,
        FsError::NotDirectory => Errno::ENOTDIR,
        FsError::IsDirectory => Errno::EISDIR,
        FsError::Exists => Errno::EEXIST,
        FsError::NotEmpty => Errno::ENOTEMPTY,
        FsError::TooManyLinks => Errno::ELOOP,
        FsError::NameTooLong => Errno::ENAMETOOLONG,
        FsError::NoSpace => Errno::ENOSPC,
        FsError::Invalid => Errno::EINVAL,
        FsError::NotPermitted => Errno::EPERM,
        FsError::AccessDenied => Errno::EACCES,
        FsError::CrossDevice => Errno::EXDEV,
        FsError::Busy => Errno::EBUSY,
        FsError::ReadOnly => Errno::EROFS,
        FsError::BadImage(_) => Errno::EINVAL,
        FsError::Io => Errno::EIO,
    }
}

/// The errno for a blocking read or write whose wait ended early: EINTR for a signal,
/// EAGAIN for a timeout.
fn wait_errno(e: WaitError) -> Errno {
    match e {
        WaitError::Interrupted => Errno::EINTR,
        WaitError::TimedOut => Errno::EAGAIN,
    }
}

/// What the file and socket layers ask of the running process, which lives in the
/// process layer above them: that layer registers it once at boot
/// ([`set_running_process`]). Kernel threads have no process: the answers are then
/// "no signal", nothing, and no names.
pub trait RunningProcess: Sync {
    /// Whether a signal that interrupts blocking waits is pending (they end with EINTR).
    fn signal_pending(&self) -> bool;
    /// Sends SIGPIPE to the running thread (it wrote to a pipe or socket nobody reads).
    fn raise_sigpipe(&self);
    /// Where the running process resolves path names, for sockets named by a path.
    fn names(&self) -> Option<PathNames>;
}

/// A process's view of path names: its file system, working directory and umask.
pub struct PathNames {
    /// Its container's file system.
    pub fs: Arc<berth_vfs::Filesystem>,
    /// Where relative names start.
    pub cwd: Arc<Inode>,
    /// The mode bits that new files lose.
    pub umask: u32,
}

static RUNNING_PROCESS: spin::Once<&'static dyn RunningProcess> = spin::Once::new();

/// Registers the process layer's answers (once, at boot).
pub fn set_running_process(process: &'static dyn RunningProcess) {
    RUNNING_PROCESS.call_once(|| process);
}

/// Whether the running thread's wait should end for a signal.
pub fn signal_pending() -> bool {
    RUNNING_PROCESS.get().is_some_and(|p| p.signal_pending())
}

/// SIGPIPE for the running thread, if it runs a process.
pub fn raise_sigpipe() {
    if let Some(p) = RUNNING_PROCESS.get() {
        p.raise_sigpipe();
    }
}

/// The running process's view of path names; `None` on kernel threads.
pub fn path_names() -> Option<PathNames> {
    RUNNING_PROCESS.get().and_then(|p| p.names())
}

/// The one way files block: retries `attempt` until it stops answering EAGAIN,
/// sleeping on `queue` between tries; EAGAIN at once when `nonblocking`, after
/// `deadline` otherwise; EINTR when a signal arrives. `attempt` runs with interrupts
/// off and must not block.
pub fn block_on<T>(
    queue: &WaitQueue,
    nonblocking: bool,
    deadline: Option<u64>,
    mut attempt: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    if nonblocking {
        return attempt();
    }
    let result = queue.wait_until(
        || match attempt() {
            Err(Errno::EAGAIN) => None,
            other => Some(other),
        },
        deadline,
        Some(&signal_pending),
    );
    result.map_err(wait_errno)?
}

/// An open file: the file plus the state `open` creates.
pub struct OpenFile {
    /// What the file is.
    pub ops: Arc<dyn FileOps>,
    /// O_ flags (access mode, O_APPEND, O_NONBLOCK, ...).
    flags: AtomicU32,
    /// Current offset.
    pub offset: Mutex<u64>,
    /// The path it was opened by, if any.
    pub path: String,
}

/// Flags `fcntl(F_SETFL)` may change (as on Linux; berth keeps O_ASYNC, O_DIRECT and
/// O_NOATIME but acts on none of them).
const SETTABLE_FLAGS: u32 = berth_abi::fs::O_APPEND
    | berth_abi::fs::O_NONBLOCK
    | berth_abi::fs::O_ASYNC
    | berth_abi::fs::O_DIRECT
    | berth_abi::fs::O_NOATIME;

impl OpenFile {
    /// An open file over `ops` with `flags`.
    pub fn new(ops: Arc<dyn FileOps>, flags: u32, path: String) -> Arc<OpenFile> {
        Arc::new(OpenFile { ops, flags: AtomicU32::new(flags), offset: Mutex::new(0), path })
    }

    /// The status flags.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Replaces the changeable status flags (fcntl F_SETFL).
    pub fn set_flags(&self, flags: u32) {
        let keep = self.flags() & !SETTABLE_FLAGS;
        self.flags.store(keep | (flags & SETTABLE_FLAGS), Ordering::Relaxed);
    }

    /// Whether reads and writes may block.
    pub fn nonblocking(&self) -> bool {
        self.flags() & berth_abi::fs::O_NONBLOCK != 0
    }

    /// Whether the file was opened for reading.
    pub fn readable(&self) -> bool {
        self.flags() & berth_abi::fs::O_ACCMODE != berth_abi::fs::O_WRONLY
    }

    /// Whether the file was opened for writing.
    pub fn writable(&self) -> bool {
        let mode = self.flags() & berth_abi::fs::O_ACCMODE;
        mode == berth_abi::fs::O_WRONLY || mode == berth_abi::fs::O_RDWR
    }
}
