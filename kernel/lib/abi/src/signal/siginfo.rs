//! `siginfo_t`: what a `SA_SIGINFO` handler, `waitid` and `rt_sigtimedwait` receive.

use super::SIGCHLD;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    SIGINFO_CONSTS: Kernel;
    /// `si_code`: sent by `kill` (or `raise`).
    pub const SI_USER: i32 = 0;
    /// `si_code`: sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// `si_code`: sent by `sigqueue` (`rt_sigqueueinfo`).
    pub const SI_QUEUE: i32 = -1;
    /// `si_code`: a POSIX timer expired.
    pub const SI_TIMER: i32 = -2;
    /// `si_code`: a POSIX message queue changed state.
    pub const SI_MESGQ: i32 = -3;
    /// `si_code`: an AIO request completed.
    pub const SI_ASYNCIO: i32 = -4;
    /// `si_code`: queued `SIGIO`.
    pub const SI_SIGIO: i32 = -5;
    /// `si_code`: sent by `tkill` or `tgkill`.
    pub const SI_TKILL: i32 = -6;

    /// `SIGILL`: illegal opcode.
    pub const ILL_ILLOPC: i32 = 1;
    /// `SIGILL`: illegal operand.
    pub const ILL_ILLOPN: i32 = 2;
    /// `SIGILL`: illegal addressing mode.
    pub const ILL_ILLADR: i32 = 3;
    /// `SIGILL`: illegal trap.
    pub const ILL_ILLTRP: i32 = 4;
    /// `SIGILL`: privileged opcode.
    pub const ILL_PRVOPC: i32 = 5;
    /// `SIGILL`: privileged register.
    pub const ILL_PRVREG: i32 = 6;
    /// `SIGILL`: coprocessor error.
    pub const ILL_COPROC: i32 = 7;
    /// `SIGILL`: internal stack error.
    pub const ILL_BADSTK: i32 = 8;

    /// `SIGFPE`: integer divide by zero (`#DE`).
    pub const FPE_INTDIV: i32 = 1;
    /// `SIGFPE`: integer overflow.
    pub const FPE_INTOVF: i32 = 2;
    /// `SIGFPE`: floating-point divide by zero.
    pub const FPE_FLTDIV: i32 = 3;
    /// `SIGFPE`: floating-point overflow.
    pub const FPE_FLTOVF: i32 = 4;
    /// `SIGFPE`: floating-point underflow.
    pub const FPE_FLTUND: i32 = 5;
    /// `SIGFPE`: floating-point inexact result.
    pub const FPE_FLTRES: i32 = 6;
    /// `SIGFPE`: invalid floating-point operation.
    pub const FPE_FLTINV: i32 = 7;
    /// `SIGFPE`: subscript out of range.
    pub const FPE_FLTSUB: i32 = 8;

    /// `SIGSEGV`: address not mapped.
    pub const SEGV_MAPERR: i32 = 1;
    /// `SIGSEGV`: mapped, but the access is not permitted.
    pub const SEGV_ACCERR: i32 = 2;
    /// `SIGSEGV`: bounds check failed.
    pub const SEGV_BNDERR: i32 = 3;
    /// `SIGSEGV`: protection key check failed.
    pub const SEGV_PKUERR: i32 = 4;

    /// `SIGBUS`: misaligned address.
    pub const BUS_ADRALN: i32 = 1;
    /// `SIGBUS`: nonexistent physical address (or access past the end of a mapped file).
    pub const BUS_ADRERR: i32 = 2;
    /// `SIGBUS`: object-specific hardware error.
    pub const BUS_OBJERR: i32 = 3;

    /// `SIGTRAP`: breakpoint (`int3`).
    pub const TRAP_BRKPT: i32 = 1;
    /// `SIGTRAP`: single step.
    pub const TRAP_TRACE: i32 = 2;

    /// `SIGCHLD`: the child exited.
    pub const CLD_EXITED: i32 = 1;
    /// `SIGCHLD`: the child was killed.
    pub const CLD_KILLED: i32 = 2;
    /// `SIGCHLD`: the child was killed and dumped core.
    pub const CLD_DUMPED: i32 = 3;
    /// `SIGCHLD`: a traced child trapped.
    pub const CLD_TRAPPED: i32 = 4;
    /// `SIGCHLD`: the child stopped.
    pub const CLD_STOPPED: i32 = 5;
    /// `SIGCHLD`: a stopped child continued.
    pub const CLD_CONTINUED: i32 = 6;
}

/// Byte offsets into [`SigInfo::fields`] (the C union `_sifields`, which starts at offset 16).
mod at {
    /// `si_pid` (kill, child, queue).
    pub const PID: usize = 0;
    /// `si_uid` (kill, child, queue).
    pub const UID: usize = 4;
    /// `si_status` (child).
    pub const STATUS: usize = 8;
    /// `si_value` (queue, timer).
    pub const VALUE: usize = 8;
    /// `si_utime` (child).
    pub const UTIME: usize = 16;
    /// `si_stime` (child).
    pub const STIME: usize = 24;
    /// `si_addr` (fault).
    pub const ADDR: usize = 0;
}

/// The kernel's `siginfo_t`: 128 bytes, three `int`s and a union selected by signal and code.
///
/// Build one with a constructor; the union members are reached through accessors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SigInfo {
    /// `si_signo`.
    pub signo: i32,
    /// `si_errno`; Linux leaves it zero almost everywhere.
    pub errno: i32,
    /// `si_code`: `SI_*` or a per-signal code such as [`SEGV_MAPERR`].
    pub code: i32,
    /// Padding before the 8-aligned union; zero.
    pub _pad: i32,
    /// The union `_sifields`, as raw words.
    pub fields: [u64; 14],
}

zeroed_default!(SigInfo);

impl SigInfo {
    /// A siginfo with just the three header fields set.
    pub fn new(signo: i32, code: i32) -> SigInfo {
        SigInfo { signo, code, ..SigInfo::default() }
    }

    /// From `kill`: `SI_USER`, the sender's pid and real uid.
    pub fn kill(sig: i32, pid: i32, uid: u32) -> SigInfo {
        SigInfo::new(sig, SI_USER).with_sender(pid, uid)
    }

    /// From `tkill`/`tgkill`: `SI_TKILL`, the sender's pid and real uid.
    pub fn tkill(sig: i32, pid: i32, uid: u32) -> SigInfo {
        SigInfo::new(sig, SI_TKILL).with_sender(pid, uid)
    }

    /// From `sigqueue`: `SI_QUEUE`, the sender and the `sigval` it passed.
    pub fn queue(sig: i32, pid: i32, uid: u32, value: u64) -> SigInfo {
        let mut info = SigInfo::new(sig, SI_QUEUE).with_sender(pid, uid);
        info.put(at::VALUE, &value.to_ne_bytes());
        info
    }

    /// Sent by the kernel for its own reasons (`SI_KERNEL`, no other fields).
    pub fn kernel(sig: i32) -> SigInfo {
        SigInfo::new(sig, SI_KERNEL)
    }

    /// A synchronous fault (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGTRAP`) with its
    /// per-signal code and faulting address (`si_addr`: the data address for `SIGSEGV`
    /// and `SIGBUS`, the instruction for the others).
    pub fn fault(sig: i32, code: i32, addr: u64) -> SigInfo {
        let mut info = SigInfo::new(sig, code);
        info.put(at::ADDR, &addr.to_ne_bytes());
        info
    }

    /// A child changed state: `code` is `CLD_*`, `status` the exit code for `CLD_EXITED`
    /// and the signal number otherwise. `sig` is the child's exit signal, usually
    /// [`SIGCHLD`]. The CPU times are zero; see [`SigInfo::set_child_times`].
    pub fn child(sig: i32, code: i32, pid: i32, uid: u32, status: i32) -> SigInfo {
        let mut info = SigInfo::new(sig, code).with_sender(pid, uid);
        info.put(at::STATUS, &status.to_ne_bytes());
        info
    }

    /// [`SigInfo::child`] with [`SIGCHLD`].
    pub fn sigchld(code: i32, pid: i32, uid: u32, status: i32) -> SigInfo {
        SigInfo::child(SIGCHLD, code, pid, uid, status)
    }

    /// Sets `si_utime` and `si_stime` of a child siginfo, in clock ticks.
    pub fn set_child_times(&mut self, utime: i64, stime: i64) {
        self.put(at::UTIME, &utime.to_ne_bytes());
        self.put(at::STIME, &stime.to_ne_bytes());
    }

    fn with_sender(mut self, pid: i32, uid: u32) -> SigInfo {
        self.put(at::PID, &pid.to_ne_bytes());
        self.put(at::UID, &uid.to_ne_bytes());
        self
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.fields.as_mut_bytes()[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn get<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0; N];
        out.copy_from_slice(&self.fields.as_bytes()[at..at + N]);
        out
    }

    /// `si_pid` (kill, queue and child siginfos).
    pub fn pid(&self) -> i32 {
        i32::from_ne_bytes(self.get(at::PID))
    }

    /// `si_uid` (kill, queue and child siginfos).
    pub fn uid(&self) -> u32 {
        u32::from_ne_bytes(self.get(at::UID))
    }

    /// `si_status` (child siginfos).
    pub fn status(&self) -> i32 {
        i32::from_ne_bytes(self.get(at::STATUS))
    }

    /// `si_value` (queue and timer siginfos).
    pub fn value(&self) -> u64 {
        u64::from_ne_bytes(self.get(at::VALUE))
    }

    /// `si_addr` (fault siginfos).
    pub fn addr(&self) -> u64 {
        u64::from_ne_bytes(self.get(at::ADDR))
    }
}
