//! System calls: the Linux x86_64 ABI.
//!
//! [`entry`] decodes the registers into [`Args`], dispatches on the number through
//! one table (one file per family), stores the result, and on the way back to user
//! mode honours a pending reschedule and delivers signals. An unknown number returns
//! ENOSYS and is logged once per number.
//!
//! Handlers take their arguments typed: the table and the handlers decode each user
//! address once, as a `UserPtr<T>`, a `UserSlice` or a `UserCStr` (`crate::uaccess`),
//! which can only be copied through, never dereferenced; the raw copy functions are
//! private to `uaccess`.

mod constant;
mod creds;
mod durability;
mod epoll;
mod fs;
mod fs_path;
mod mm;
mod net;
mod poll;
mod process;
mod signal;
mod sync;
mod system;
mod time;
mod xattr;

use crate::fs::Fd;
use crate::proc;
use crate::proc::UserPart;
use crate::sched;
use crate::uaccess::{UserCStr, UserPtr, UserSlice};
use berth_abi::Errno;
use berth_abi::fs::{AtFlags, OpenFlags, RenameFlags};
use berth_abi::syscalls::nr;
use berth_hal::trap::TrapFrame;
use core::sync::atomic::{AtomicU64, Ordering};
use creds::Kind::{Group, User};

/// What a system call returns: a value, or an errno.
pub type SysResult = Result<isize, Errno>;

/// The six argument registers of a system call.
#[derive(Debug, Clone, Copy)]
pub struct Args([u64; 6]);

impl Args {
    /// Argument `i` as a 64-bit number (an offset, a length, a register value). An
    /// address the kernel reads or writes through is decoded with [`Args::ptr`],
    /// [`Args::slice`] or [`Args::cstr`] instead.
    pub fn u64(&self, i: usize) -> u64 {
        self.0[i]
    }

    /// Argument `i` as a C `int` (the low 32 bits, sign-extended).
    pub fn i32(&self, i: usize) -> i32 {
        self.0[i] as i32
    }

    /// Argument `i` as a C `unsigned int`.
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }

    /// Argument `i` as a size.
    pub fn usize(&self, i: usize) -> usize {
        self.0[i] as usize
    }

    /// Argument `i` as a file descriptor (a C `int`).
    pub fn fd(&self, i: usize) -> Fd {
        Fd::new(self.0[i] as i32)
    }

    /// Argument `i` as `AT_*` flags (unknown bits kept, for the call to refuse).
    pub fn at_flags(&self, i: usize) -> AtFlags {
        AtFlags::from_bits_retain(self.u32(i))
    }

    /// Argument `i` as the address of a `T` in user memory.
    pub fn ptr<T>(&self, i: usize) -> UserPtr<T> {
        UserPtr::new(self.0[i])
    }

    /// Argument `i` as a buffer in user memory whose length is argument `len`.
    pub fn slice(&self, i: usize, len: usize) -> UserSlice {
        UserSlice::new(self.0[i], self.0[len] as usize)
    }

    /// Argument `i` as a NUL-terminated string in user memory.
    pub fn cstr(&self, i: usize) -> UserCStr {
        UserCStr::new(self.0[i])
    }
}

/// The `syscall` instruction's handler (installed by `trap::init_syscalls`).
pub fn entry(frame: &mut TrapFrame) {
    // The kernel runs with interrupts on; it is still never preempted (see `sched`).
    berth_hal::cpu::enable_interrupts();
    handle(frame);
    return_to_user(frame);
}

fn handle(frame: &mut TrapFrame) {
    let number = frame.rax;
    let args = Args([frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9]);
    let thread = sched::current();
    let Some(user) = thread.user() else { return };
    user.syscall_nr.store(number, Ordering::Relaxed);
    berth_base::counter::SYSCALLS.increment();
    for (slot, value) in user.syscall_args.iter().zip(args.0) {
        slot.store(value, Ordering::Relaxed);
    }
    if user.process.pid == 1 {
        user.process.sandbox.note_init_syscall();
    }
    let result = dispatch(number, &args, frame);
    if log::log_enabled!(log::Level::Trace) {
        let name = berth_abi::syscalls::name(number as usize).unwrap_or("?");
        let pid = user.process.pid;
        log::trace!(
            "[{} {pid}/{}] {name}({:#x}, {:#x}, {:#x}) = {result:?}",
            user.process.sandbox.name,
            user.tid,
            args.0[0],
            args.0[1],
            args.0[2]
        );
    }
    frame.rax = match result {
        Ok(v) => v as u64,
        Err(e) => e.neg() as u64,
    };
    if result == Err(Errno::EINTR) && restartable(number) {
        user.restart_syscall.store(number, Ordering::Relaxed);
    }
    user.syscall_nr.store(u64::MAX, Ordering::Relaxed);
}

/// On the way back to user mode (from a system call, exception or interrupt): yield
/// if the time slice is over, deliver signals, and end the thread if it must exit.
pub fn return_to_user(frame: &mut TrapFrame) {
    if sched::need_resched() {
        sched::schedule();
    }
    if let proc::Delivery::Exit = proc::deliver_pending(frame) {
        proc::exit_thread();
    }
}

/// System calls that resume after a signal handler installed with SA_RESTART (or
/// transparently when no handler runs), as Linux restarts them.
fn restartable(number: u64) -> bool {
    matches!(
        number as usize,
        nr::READ
            | nr::WRITE
            | nr::READV
            | nr::WRITEV
            | nr::PREAD64
            | nr::PWRITE64
            | nr::OPEN
            | nr::OPENAT
            | nr::WAIT4
            | nr::WAITID
            | nr::FUTEX
            | nr::FLOCK
            | nr::FCNTL
            | nr::ACCEPT
            | nr::ACCEPT4
            | nr::CONNECT
            | nr::RECVFROM
            | nr::SENDTO
            | nr::RECVMSG
            | nr::SENDMSG
            | nr::SENDFILE
    )
}

/// Logs an unknown system call once per number below 512 (Linux's numbers end near
/// 460), and numbers beyond that once in all, so no program can flood the console.
fn unknown(number: u64) -> SysResult {
    static SEEN: [AtomicU64; 9] = [const { AtomicU64::new(0) }; 9];
    let (word, bit) = ((number / 64).min(8) as usize, if number < 512 { number % 64 } else { 0 });
    if SEEN[word].fetch_or(1 << bit, Ordering::Relaxed) & (1 << bit) == 0 {
        let name = berth_abi::syscalls::name(number as usize).unwrap_or("?");
        let container = proc::current_process().sandbox.name.clone();
        if number < 512 {
            log::warn!("container {container}: unsupported system call {number} ({name}): ENOSYS");
        } else {
            log::warn!(
                "container {container}: system call number {number} is none (ENOSYS; numbers past 511 are not logged again)"
            );
        }
    }
    Err(Errno::ENOSYS)
}
fn dispatch(number: u64, a: &Args, frame: &mut TrapFrame) -> SysResult {
    let Ok(n) = usize::try_from(number) else { return unknown(number) };
    match n {
        // Files and descriptors (fs.rs).
        nr::READ => fs::read(a),
        nr::WRITE => fs::write(a),
        nr::READV => fs::readv(a),
        nr::WRITEV => fs::writev(a),
        nr::PREAD64 => fs::pread64(a),
        nr::PWRITE64 => fs::pwrite64(a),
        nr::PREADV => fs::preadv(a),
        nr::PWRITEV => fs::pwritev(a),
        nr::LSEEK => fs::lseek(a),
        nr::CLOSE => fs::close(a),
        nr::DUP => fs::dup(a),
        nr::DUP2 => fs::dup2(a),
        nr::DUP3 => fs::dup3(a),
        nr::FCNTL => fs::fcntl(a),
        nr::IOCTL => fs::ioctl(a),
        nr::PIPE => fs::pipe2(a.ptr(0), OpenFlags::empty()),
        nr::PIPE2 => fs::pipe2(a.ptr(0), OpenFlags::from_bits_retain(a.u32(1))),
        nr::EVENTFD => fs::eventfd2(a.u32(0), 0),
        nr::EVENTFD2 => fs::eventfd2(a.u32(0), a.u32(1)),
        nr::FSTAT => fs::fstat(a),
        nr::FTRUNCATE => fs::ftruncate(a),
        nr::FSYNC | nr::FDATASYNC | nr::SYNCFS => durability::sync_file(a),
        nr::SYNC => durability::sync_all(),
        nr::GETDENTS64 => fs::getdents64(a),
        nr::SENDFILE => fs::sendfile(a),
        nr::FLOCK => fs::flock(a),
        nr::FADVISE64 => constant::file_advice(),
        nr::FALLOCATE => fs::fallocate(a),
        // Paths (fs_path.rs).
        nr::OPEN => fs_path::open(Fd::AT_FDCWD, a.cstr(0), OpenFlags::from_bits_retain(a.u32(1)), a.u32(2)),
        nr::OPENAT => fs_path::open(a.fd(0), a.cstr(1), OpenFlags::from_bits_retain(a.u32(2)), a.u32(3)),
        nr::CREAT => {
            fs_path::open(Fd::AT_FDCWD, a.cstr(0), OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::TRUNC, a.u32(1))
        }
        nr::STAT => fs_path::stat(Fd::AT_FDCWD, a.cstr(0), a.ptr(1), AtFlags::empty()),
        nr::LSTAT => fs_path::stat(Fd::AT_FDCWD, a.cstr(0), a.ptr(1), AtFlags::SYMLINK_NOFOLLOW),
        nr::NEWFSTATAT => fs_path::stat(a.fd(0), a.cstr(1), a.ptr(2), a.at_flags(3)),
        nr::STATX => fs_path::statx(a),
        nr::STATFS => fs_path::statfs(a.ptr(1)),
        nr::FSTATFS => fs_path::statfs(a.ptr(1)),
        nr::READLINK => fs_path::readlink(Fd::AT_FDCWD, a.cstr(0), a.slice(1, 2)),
        nr::READLINKAT => fs_path::readlink(a.fd(0), a.cstr(1), a.slice(2, 3)),
        nr::GETCWD => fs_path::getcwd(a),
        nr::CHDIR => fs_path::chdir(a),
        nr::FCHDIR => fs_path::fchdir(a),
        nr::CHROOT => constant::change_root(),
        nr::MKDIR => fs_path::mkdir(Fd::AT_FDCWD, a.cstr(0), a.u32(1)),
        nr::MKDIRAT => fs_path::mkdir(a.fd(0), a.cstr(1), a.u32(2)),
        nr::MKNOD => fs_path::mknod(Fd::AT_FDCWD, a.cstr(0), a.u32(1), a.u64(2)),
        nr::MKNODAT => fs_path::mknod(a.fd(0), a.cstr(1), a.u32(2), a.u64(3)),
        nr::UNLINK => fs_path::unlink(Fd::AT_FDCWD, a.cstr(0), AtFlags::empty()),
        nr::UNLINKAT => fs_path::unlink(a.fd(0), a.cstr(1), a.at_flags(2)),
        nr::RMDIR => fs_path::unlink(Fd::AT_FDCWD, a.cstr(0), AtFlags::REMOVEDIR),
        nr::RENAME => fs_path::rename(Fd::AT_FDCWD, a.cstr(0), Fd::AT_FDCWD, a.cstr(1), RenameFlags::empty()),
        nr::RENAMEAT => fs_path::rename(a.fd(0), a.cstr(1), a.fd(2), a.cstr(3), RenameFlags::empty()),
        nr::RENAMEAT2 => {
            fs_path::rename(a.fd(0), a.cstr(1), a.fd(2), a.cstr(3), RenameFlags::from_bits_retain(a.u32(4)))
        }
        nr::LINK => fs_path::link(Fd::AT_FDCWD, a.cstr(0), Fd::AT_FDCWD, a.cstr(1), AtFlags::empty()),
        nr::LINKAT => fs_path::link(a.fd(0), a.cstr(1), a.fd(2), a.cstr(3), a.at_flags(4)),
        nr::SYMLINK => fs_path::symlink(a.cstr(0), Fd::AT_FDCWD, a.cstr(1)),
        nr::SYMLINKAT => fs_path::symlink(a.cstr(0), a.fd(1), a.cstr(2)),
        nr::ACCESS => fs_path::access(Fd::AT_FDCWD, a.cstr(0), a.i32(1), AtFlags::empty()),
        nr::FACCESSAT => fs_path::access(a.fd(0), a.cstr(1), a.i32(2), AtFlags::empty()),
        nr::FACCESSAT2 => fs_path::access(a.fd(0), a.cstr(1), a.i32(2), a.at_flags(3)),
        nr::CHMOD => fs_path::chmod(Fd::AT_FDCWD, a.cstr(0), a.u32(1), AtFlags::empty()),
        nr::FCHMODAT => fs_path::chmod(a.fd(0), a.cstr(1), a.u32(2), AtFlags::empty()),
        nr::FCHMOD => fs_path::fchmod(a),
        nr::CHOWN | nr::LCHOWN => fs_path::chown(Fd::AT_FDCWD, a.cstr(0), a.u32(1), a.u32(2), AtFlags::empty()),
        nr::FCHOWNAT => fs_path::chown(a.fd(0), a.cstr(1), a.u32(2), a.u32(3), a.at_flags(4)),
        nr::FCHOWN => fs_path::fchown(a),
        nr::TRUNCATE => fs_path::truncate(a),
        nr::UTIMENSAT => fs_path::utimensat(a),
        nr::UMASK => fs_path::umask(a),
        // Extended attributes (xattr.rs): there are none.
        nr::GETXATTR => xattr::by_path(a, xattr::Op::Get, true),
        nr::LGETXATTR => xattr::by_path(a, xattr::Op::Get, false),
        nr::FGETXATTR => xattr::by_fd(a, xattr::Op::Get),
        nr::LISTXATTR => xattr::by_path(a, xattr::Op::List, true),
        nr::LLISTXATTR => xattr::by_path(a, xattr::Op::List, false),
        nr::FLISTXATTR => xattr::by_fd(a, xattr::Op::List),
        nr::SETXATTR => xattr::by_path(a, xattr::Op::Set, true),
        nr::LSETXATTR => xattr::by_path(a, xattr::Op::Set, false),
        nr::FSETXATTR => xattr::by_fd(a, xattr::Op::Set),
        nr::REMOVEXATTR => xattr::by_path(a, xattr::Op::Remove, true),
        nr::LREMOVEXATTR => xattr::by_path(a, xattr::Op::Remove, false),
        nr::FREMOVEXATTR => xattr::by_fd(a, xattr::Op::Remove),
        // Memory (mm.rs).
        nr::BRK => mm::brk(a),
        nr::MMAP => mm::mmap(a),
        nr::MUNMAP => mm::munmap(a),
        nr::MPROTECT => mm::mprotect(a),
        nr::MADVISE => mm::madvise(a),
        nr::MINCORE => mm::mincore(a),
        nr::MREMAP => mm::mremap(a),
        nr::MSYNC | nr::MLOCK | nr::MUNLOCK | nr::MLOCKALL | nr::MUNLOCKALL => constant::memory_residency(),
        // Processes (process.rs).
        nr::EXIT => process::exit(a),
        nr::EXIT_GROUP => process::exit_group(a),
        nr::GETPID => process::getpid(),
        nr::GETPPID => process::getppid(),
        nr::GETTID => process::gettid(),
        nr::SET_TID_ADDRESS => process::set_tid_address(a),
        nr::FORK => process::fork(frame),
        nr::VFORK => process::vfork(frame),
        nr::CLONE => process::clone(a, frame),
        nr::CLONE3 => process::clone3(a, frame),
        nr::EXECVE => process::execve(a, frame),
        nr::WAIT4 => process::wait4(a),
        nr::WAITID => process::waitid(a),
        nr::KILL => process::kill(a),
        nr::TKILL => process::tkill(a.i32(0), a.i32(1)),
        nr::TGKILL => process::tgkill(a),
        nr::GETUID => creds::get_real(User),
        nr::GETGID => creds::get_real(Group),
        nr::GETEUID => creds::get_effective(User),
        nr::GETEGID => creds::get_effective(Group),
        nr::GETRESUID => creds::get_res(a, User),
        nr::GETRESGID => creds::get_res(a, Group),
        nr::SETUID => creds::set(a, User),
        nr::SETGID => creds::set(a, Group),
        nr::SETREUID => creds::set_re(a, User),
        nr::SETREGID => creds::set_re(a, Group),
        nr::SETRESUID => creds::set_res(a, User),
        nr::SETRESGID => creds::set_res(a, Group),
        nr::SETFSUID => creds::set_fs(a, User),
        nr::SETFSGID => creds::set_fs(a, Group),
        nr::GETGROUPS => creds::getgroups(a),
        nr::SETGROUPS => creds::setgroups(a),
        nr::GETPGID => process::getpgid(a),
        nr::GETPGRP => process::getpgid(&Args([0; 6])),
        nr::SETPGID => process::setpgid(a),
        nr::GETSID => process::getsid(a),
        nr::SETSID => process::setsid(),
        nr::PRLIMIT64 => process::prlimit64(a),
        nr::GETRLIMIT => process::getrlimit(a),
        nr::SETRLIMIT => constant::set_resource_limit(),
        nr::GETRUSAGE => process::getrusage(a),
        nr::TIMES => process::times(a),
        nr::ARCH_PRCTL => process::arch_prctl(a),
        nr::SET_ROBUST_LIST => process::set_robust_list(a),
        nr::GET_ROBUST_LIST => constant::get_robust_list(),
        nr::PRCTL => process::prctl(a),
        nr::PERSONALITY => constant::personality(),
        // Signals (signal.rs).
        nr::RT_SIGACTION => signal::rt_sigaction(a),
        nr::RT_SIGPROCMASK => signal::rt_sigprocmask(a),
        nr::RT_SIGRETURN => signal::rt_sigreturn(frame),
        nr::SIGALTSTACK => signal::sigaltstack(a, frame),
        nr::RT_SIGPENDING => signal::rt_sigpending(a),
        nr::RT_SIGSUSPEND => signal::rt_sigsuspend(a),
        nr::PAUSE => signal::pause(),
        // Time (time.rs).
        nr::CLOCK_GETTIME => time::clock_gettime(a),
        nr::CLOCK_GETRES => time::clock_getres(a),
        nr::CLOCK_SETTIME | nr::SETTIMEOFDAY => constant::set_clock(),
        nr::GETTIMEOFDAY => time::gettimeofday(a),
        nr::TIME => time::time(a),
        nr::NANOSLEEP => time::nanosleep(a),
        nr::CLOCK_NANOSLEEP => time::clock_nanosleep(a),
        nr::ALARM => time::alarm(a),
        nr::SETITIMER => time::setitimer(a),
        nr::GETITIMER => time::getitimer(a),
        // Synchronization (sync.rs).
        nr::FUTEX => sync::futex(a),
        nr::SCHED_YIELD => sync::sched_yield(),
        nr::SCHED_GETAFFINITY => sync::sched_getaffinity(a),
        nr::SCHED_SETAFFINITY => sync::sched_setaffinity(a),
        nr::SCHED_GETSCHEDULER | nr::SCHED_SETPARAM | nr::SCHED_SETSCHEDULER => constant::scheduler_policy(),
        nr::SCHED_GETPARAM => constant::scheduler_param(a),
        nr::GETPRIORITY => constant::get_priority(),
        nr::SETPRIORITY => constant::set_priority(),
        nr::GETCPU => sync::getcpu(a),
        // Readiness (poll.rs).
        nr::POLL => poll::poll(a),
        nr::PPOLL => poll::ppoll(a),
        nr::SELECT => poll::select(a),
        nr::PSELECT6 => poll::pselect6(a),
        // epoll (epoll.rs).
        nr::EPOLL_CREATE => epoll::epoll_create(a),
        nr::EPOLL_CREATE1 => epoll::epoll_create1(a),
        nr::EPOLL_CTL => epoll::epoll_ctl(a),
        nr::EPOLL_WAIT => epoll::epoll_wait(a),
        nr::EPOLL_PWAIT => epoll::epoll_pwait(a),
        nr::EPOLL_PWAIT2 => epoll::epoll_pwait2(a),
        // Sockets (net.rs).
        nr::SOCKET => net::socket(a),
        nr::SOCKETPAIR => net::socketpair(a),
        nr::BIND => net::bind(a),
        nr::LISTEN => net::listen(a),
        nr::ACCEPT => net::accept4(a, 0),
        nr::ACCEPT4 => net::accept4(a, a.i32(3)),
        nr::CONNECT => net::connect(a),
        nr::GETSOCKNAME => net::getsockname(a),
        nr::GETPEERNAME => net::getpeername(a),
        nr::SHUTDOWN => net::shutdown(a),
        nr::SENDTO => net::sendto(a),
        nr::RECVFROM => net::recvfrom(a),
        nr::SENDMSG => net::sendmsg(a),
        nr::RECVMSG => net::recvmsg(a),
        nr::SENDMMSG => net::sendmmsg(a),
        nr::RECVMMSG => net::recvmmsg(a),
        nr::SETSOCKOPT => net::setsockopt(a),
        nr::GETSOCKOPT => net::getsockopt(a),
        // The system (system.rs).
        nr::UNAME => system::uname(a),
        nr::SYSINFO => system::sysinfo(a),
        nr::GETRANDOM => system::getrandom(a),
        nr::SETHOSTNAME | nr::SETDOMAINNAME => constant::set_names(),
        nr::RSEQ => constant::restartable_sequences(),
        _ => unknown(number),
    }
}
