//! Processes: `clone` flags and `clone3` arguments, `wait` options and status words,
//! resource limits and usage, `sysinfo`, `times`, `prctl`/`arch_prctl` options and the
//! ELF auxiliary vector.

mod auxv;
pub mod creds;
mod prctl;

pub use auxv::*;
pub use prctl::*;

use crate::time::Timeval;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    PROCESS_KERNEL_CONSTS: Kernel;
    /// Mask of the exit signal in `clone`'s flags.
    pub const CSIGNAL: u64 = 0xff;
    /// New time namespace (`clone3`/`unshare` only: the bit doubles as part of `CSIGNAL`).
    pub const CLONE_NEWTIME: u64 = 0x80;
    /// Share the address space.
    pub const CLONE_VM: u64 = 0x100;
    /// Share root, cwd and umask.
    pub const CLONE_FS: u64 = 0x200;
    /// Share the descriptor table.
    pub const CLONE_FILES: u64 = 0x400;
    /// Share signal handlers.
    pub const CLONE_SIGHAND: u64 = 0x800;
    /// Return a pidfd for the child.
    pub const CLONE_PIDFD: u64 = 0x1000;
    /// Trace the child too.
    pub const CLONE_PTRACE: u64 = 0x2000;
    /// Suspend the parent until the child execs or exits.
    pub const CLONE_VFORK: u64 = 0x4000;
    /// The child's parent is the caller's parent.
    pub const CLONE_PARENT: u64 = 0x8000;
    /// Same thread group (a thread).
    pub const CLONE_THREAD: u64 = 0x10000;
    /// New mount namespace.
    pub const CLONE_NEWNS: u64 = 0x20000;
    /// Share System V semaphore undo lists.
    pub const CLONE_SYSVSEM: u64 = 0x40000;
    /// Set the child's FS base to `tls`.
    pub const CLONE_SETTLS: u64 = 0x80000;
    /// Store the child's tid at `parent_tid` (in the parent).
    pub const CLONE_PARENT_SETTID: u64 = 0x100000;
    /// Clear `child_tid` and futex-wake it when the child exits.
    pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
    /// Ignored.
    pub const CLONE_DETACHED: u64 = 0x400000;
    /// Do not let a tracer force `CLONE_PTRACE`.
    pub const CLONE_UNTRACED: u64 = 0x800000;
    /// Store the child's tid at `child_tid` (in the child).
    pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
    /// New cgroup namespace.
    pub const CLONE_NEWCGROUP: u64 = 0x2000000;
    /// New UTS namespace.
    pub const CLONE_NEWUTS: u64 = 0x4000000;
    /// New IPC namespace.
    pub const CLONE_NEWIPC: u64 = 0x8000000;
    /// New user namespace.
    pub const CLONE_NEWUSER: u64 = 0x10000000;
    /// New pid namespace.
    pub const CLONE_NEWPID: u64 = 0x20000000;
    /// New network namespace.
    pub const CLONE_NEWNET: u64 = 0x40000000;
    /// Share the I/O context.
    pub const CLONE_IO: u64 = 0x80000000;
    /// `clone3`: reset all handlers to `SIG_DFL` in the child.
    pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
    /// `clone3`: start in the cgroup `cgroup` refers to.
    pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    /// Size of the first `struct clone_args`.
    pub const CLONE_ARGS_SIZE_VER0: usize = 64;
    /// Size with `set_tid` and `set_tid_size`.
    pub const CLONE_ARGS_SIZE_VER1: usize = 80;
    /// Size with `cgroup`.
    pub const CLONE_ARGS_SIZE_VER2: usize = 88;

    /// Wait only for children of this thread.
    pub const __WNOTHREAD: i32 = 0x20000000;
    /// Wait for all children, whatever their exit signal.
    pub const __WALL: i32 = 0x40000000;
    /// Wait only for children whose exit signal is not `SIGCHLD`.
    pub const __WCLONE: i32 = 0x80000000_u32 as i32;
    /// `waitid`: any child.
    pub const P_ALL: i32 = 0;
    /// `waitid`: the child with this pid.
    pub const P_PID: i32 = 1;
    /// `waitid`: any child in this process group.
    pub const P_PGID: i32 = 2;
    /// `waitid`: the child this pidfd refers to.
    pub const P_PIDFD: i32 = 3;
}

abi_consts! {
    PROCESS_CONSTS: Libc;
    /// Return at once if no child has changed state.
    pub const WNOHANG: i32 = 1;
    /// Also report stopped children.
    pub const WUNTRACED: i32 = 2;
    /// `waitid`: report stopped children.
    pub const WSTOPPED: i32 = 2;
    /// `waitid`: report exited children.
    pub const WEXITED: i32 = 4;
    /// Report continued children.
    pub const WCONTINUED: i32 = 8;
    /// `waitid`: leave the child waitable.
    pub const WNOWAIT: i32 = 0x01000000;

    /// CPU time, seconds.
    pub const RLIMIT_CPU: i32 = 0;
    /// Largest file.
    pub const RLIMIT_FSIZE: i32 = 1;
    /// Data segment size.
    pub const RLIMIT_DATA: i32 = 2;
    /// Stack size.
    pub const RLIMIT_STACK: i32 = 3;
    /// Core file size.
    pub const RLIMIT_CORE: i32 = 4;
    /// Resident set size (no effect).
    pub const RLIMIT_RSS: i32 = 5;
    /// Processes per real uid.
    pub const RLIMIT_NPROC: i32 = 6;
    /// Open descriptors (one more than the highest).
    pub const RLIMIT_NOFILE: i32 = 7;
    /// Locked memory.
    pub const RLIMIT_MEMLOCK: i32 = 8;
    /// Address space size.
    pub const RLIMIT_AS: i32 = 9;
    /// File locks.
    pub const RLIMIT_LOCKS: i32 = 10;
    /// Queued signals per real uid.
    pub const RLIMIT_SIGPENDING: i32 = 11;
    /// POSIX message queue bytes.
    pub const RLIMIT_MSGQUEUE: i32 = 12;
    /// Ceiling of the nice value (`20 - limit`).
    pub const RLIMIT_NICE: i32 = 13;
    /// Real-time priority ceiling.
    pub const RLIMIT_RTPRIO: i32 = 14;
    /// Real-time CPU time without blocking, microseconds.
    pub const RLIMIT_RTTIME: i32 = 15;
    /// Number of limits.
    pub const RLIM_NLIMITS: i32 = 16;
    /// No limit.
    pub const RLIM_INFINITY: u64 = u64::MAX;

    /// `getrusage`: the calling process.
    pub const RUSAGE_SELF: i32 = 0;
    /// `getrusage`: its waited-for children.
    pub const RUSAGE_CHILDREN: i32 = -1;
    /// `getrusage`: the calling thread.
    pub const RUSAGE_THREAD: i32 = 1;
}

bitflags::bitflags! {
    /// `CLONE_*` as a flag set (without the exit signal in [`CSIGNAL`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct CloneFlags: u64 {
        /// [`CLONE_VM`].
        const VM = CLONE_VM;
        /// [`CLONE_FS`].
        const FS = CLONE_FS;
        /// [`CLONE_FILES`].
        const FILES = CLONE_FILES;
        /// [`CLONE_SIGHAND`].
        const SIGHAND = CLONE_SIGHAND;
        /// [`CLONE_PIDFD`].
        const PIDFD = CLONE_PIDFD;
        /// [`CLONE_PTRACE`].
        const PTRACE = CLONE_PTRACE;
        /// [`CLONE_VFORK`].
        const VFORK = CLONE_VFORK;
        /// [`CLONE_PARENT`].
        const PARENT = CLONE_PARENT;
        /// [`CLONE_THREAD`].
        const THREAD = CLONE_THREAD;
        /// [`CLONE_NEWNS`].
        const NEWNS = CLONE_NEWNS;
        /// [`CLONE_SYSVSEM`].
        const SYSVSEM = CLONE_SYSVSEM;
        /// [`CLONE_SETTLS`].
        const SETTLS = CLONE_SETTLS;
        /// [`CLONE_PARENT_SETTID`].
        const PARENT_SETTID = CLONE_PARENT_SETTID;
        /// [`CLONE_CHILD_CLEARTID`].
        const CHILD_CLEARTID = CLONE_CHILD_CLEARTID;
        /// [`CLONE_DETACHED`].
        const DETACHED = CLONE_DETACHED;
        /// [`CLONE_UNTRACED`].
        const UNTRACED = CLONE_UNTRACED;
        /// [`CLONE_CHILD_SETTID`].
        const CHILD_SETTID = CLONE_CHILD_SETTID;
        /// [`CLONE_NEWCGROUP`].
        const NEWCGROUP = CLONE_NEWCGROUP;
        /// [`CLONE_NEWUTS`].
        const NEWUTS = CLONE_NEWUTS;
        /// [`CLONE_NEWIPC`].
        const NEWIPC = CLONE_NEWIPC;
        /// [`CLONE_NEWUSER`].
        const NEWUSER = CLONE_NEWUSER;
        /// [`CLONE_NEWPID`].
        const NEWPID = CLONE_NEWPID;
        /// [`CLONE_NEWNET`].
        const NEWNET = CLONE_NEWNET;
        /// [`CLONE_IO`].
        const IO = CLONE_IO;
        /// [`CLONE_CLEAR_SIGHAND`].
        const CLEAR_SIGHAND = CLONE_CLEAR_SIGHAND;
        /// [`CLONE_INTO_CGROUP`].
        const INTO_CGROUP = CLONE_INTO_CGROUP;
        /// [`CLONE_NEWTIME`] (only valid from `clone3`, where there is no `CSIGNAL`).
        const NEWTIME = CLONE_NEWTIME;
    }
}

/// `struct clone_args`, `clone3`'s argument (version 2, 88 bytes). The caller passes its
/// size; shorter versions ([`CLONE_ARGS_SIZE_VER0`]) leave the later fields zero, and a
/// longer one is accepted if the extra bytes are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct CloneArgs {
    /// `CLONE_*` flags (no exit signal here).
    pub flags: u64,
    /// With `CLONE_PIDFD`: where to store the pidfd.
    pub pidfd: u64,
    /// With `CLONE_CHILD_SETTID`/`CLONE_CHILD_CLEARTID`: the child's tid word.
    pub child_tid: u64,
    /// With `CLONE_PARENT_SETTID`: where to store the child's tid.
    pub parent_tid: u64,
    /// Signal sent to the parent when the child exits.
    pub exit_signal: u64,
    /// Lowest address of the child's stack (not its top, unlike `clone`).
    pub stack: u64,
    /// Size of the child's stack.
    pub stack_size: u64,
    /// With `CLONE_SETTLS`: the new FS base.
    pub tls: u64,
    /// Array of tids to use in each pid namespace.
    pub set_tid: u64,
    /// Length of `set_tid`.
    pub set_tid_size: u64,
    /// With `CLONE_INTO_CGROUP`: a cgroup directory descriptor.
    pub cgroup: u64,
}

/// Status word of a child that exited with `code` (`WIFEXITED`): `(code & 0xff) << 8`.
pub const fn wait_status_exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Status word of a child killed by `sig` (`WIFSIGNALED`), with `core` if it dumped core.
pub const fn wait_status_signaled(sig: i32, core: bool) -> i32 {
    (sig & 0x7f) | if core { 0x80 } else { 0 }
}

/// Status word of a child stopped by `sig` (`WIFSTOPPED`): `(sig << 8) | 0x7f`.
pub const fn wait_status_stopped(sig: i32) -> i32 {
    ((sig & 0xff) << 8) | 0x7f
}

/// Status word of a child that continued (`WIFCONTINUED`): `0xffff`.
pub const fn wait_status_continued() -> i32 {
    0xffff
}

/// `struct rlimit` (`getrlimit`, `setrlimit`, `prlimit64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Rlimit {
    /// Soft limit.
    pub cur: u64,
    /// Hard limit.
    pub max: u64,
}

impl Rlimit {
    /// No limit.
    pub const INFINITY: Rlimit = Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY };
}

/// `struct rusage` (`getrusage`, `wait4`): 144 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Rusage {
    /// User CPU time.
    pub ru_utime: Timeval,
    /// System CPU time.
    pub ru_stime: Timeval,
    /// Peak resident set, KiB.
    pub ru_maxrss: i64,
    /// Unused; zero.
    pub ru_ixrss: i64,
    /// Unused; zero.
    pub ru_idrss: i64,
    /// Unused; zero.
    pub ru_isrss: i64,
    /// Page faults without I/O.
    pub ru_minflt: i64,
    /// Page faults with I/O.
    pub ru_majflt: i64,
    /// Unused; zero.
    pub ru_nswap: i64,
    /// Blocks read.
    pub ru_inblock: i64,
    /// Blocks written.
    pub ru_oublock: i64,
    /// Unused; zero.
    pub ru_msgsnd: i64,
    /// Unused; zero.
    pub ru_msgrcv: i64,
    /// Unused; zero.
    pub ru_nsignals: i64,
    /// Voluntary context switches.
    pub ru_nvcsw: i64,
    /// Involuntary context switches.
    pub ru_nivcsw: i64,
}

/// `struct sysinfo` (x86_64): 112 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Sysinfo {
    /// Seconds since boot.
    pub uptime: i64,
    /// 1, 5 and 15 minute load averages, scaled by `1 << 16`.
    pub loads: [u64; 3],
    /// Total RAM, in `mem_unit`s.
    pub totalram: u64,
    /// Free RAM.
    pub freeram: u64,
    /// Shared memory.
    pub sharedram: u64,
    /// Buffer memory.
    pub bufferram: u64,
    /// Total swap.
    pub totalswap: u64,
    /// Free swap.
    pub freeswap: u64,
    /// Number of processes (threads, in fact).
    pub procs: u16,
    /// Padding; zero.
    pub pad: u16,
    /// Padding the C struct leaves implicit; zero.
    pub _pad1: u32,
    /// Total high memory (0 on x86_64).
    pub totalhigh: u64,
    /// Free high memory.
    pub freehigh: u64,
    /// Size of the memory unit in bytes.
    pub mem_unit: u32,
    /// Tail padding (the C `_f`, empty on 64-bit, plus alignment); zero.
    pub _f: u32,
}

/// `struct tms` (`times`), in clock ticks (`AT_CLKTCK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Tms {
    /// User CPU time.
    pub tms_utime: i64,
    /// System CPU time.
    pub tms_stime: i64,
    /// User CPU time of waited-for children.
    pub tms_cutime: i64,
    /// System CPU time of waited-for children.
    pub tms_cstime: i64,
}

bitflags::bitflags! {
    /// The options of `wait4` and `waitid` as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct WaitOptions: i32 {
        /// [`WNOHANG`].
        const NOHANG = WNOHANG;
        /// [`WUNTRACED`] (`WSTOPPED` for `waitid`).
        const UNTRACED = WUNTRACED;
        /// [`WEXITED`].
        const EXITED = WEXITED;
        /// [`WCONTINUED`].
        const CONTINUED = WCONTINUED;
        /// [`WNOWAIT`].
        const NOWAIT = WNOWAIT;
        /// [`__WNOTHREAD`].
        const NOTHREAD = __WNOTHREAD;
        /// [`__WALL`].
        const ALL = __WALL;
        /// [`__WCLONE`].
        const CLONE = __WCLONE;
    }
}
