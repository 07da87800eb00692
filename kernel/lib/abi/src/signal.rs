//! Signals: numbers, sets, default actions, `rt_sigaction` and `sigaltstack` structs, and
//! the x86_64 signal frame ([`SigInfo`], [`UContext`], [`SigContext`], [`FxSaveArea`]).
//!
//! These are the kernel's definitions, which differ from glibc's: a kernel sigset is 64
//! bits (glibc's `sigset_t` is 1024), and glibc reserves signals 32 and 33 for itself
//! (its `SIGRTMIN` macro evaluates to 34) while the kernel's real-time range is 32..=64.

mod frame;
mod siginfo;

pub use frame::*;
pub use siginfo::*;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    SIGNAL_CONSTS: Libc;
    /// Highest real-time signal, 64 (glibc's `__SIGRTMAX`).
    pub const SIGRTMAX: i32 = 64 => "__SIGRTMAX";
    /// Number of signals, 64: the kernel's `_NSIG`. glibc's `NSIG` is one more (65), and the
    /// x86 UAPI header still defines a legacy `NSIG` of 32.
    pub const NSIG: i32 = 64 => "(_NSIG - 1)";
    /// `sa_handler` value: take the default action.
    pub const SIG_DFL: u64 = 0;
    /// `sa_handler` value: ignore the signal.
    pub const SIG_IGN: u64 = 1;
}

abi_consts! {
    SIGNAL_KERNEL_CONSTS: Kernel;
    /// Hangup.
    pub const SIGHUP: i32 = 1;
    /// Interrupt from keyboard.
    pub const SIGINT: i32 = 2;
    /// Quit from keyboard.
    pub const SIGQUIT: i32 = 3;
    /// Illegal instruction.
    pub const SIGILL: i32 = 4;
    /// Trace or breakpoint trap.
    pub const SIGTRAP: i32 = 5;
    /// Abort.
    pub const SIGABRT: i32 = 6;
    /// Alias of [`SIGABRT`].
    pub const SIGIOT: i32 = 6;
    /// Bus error (bad memory access).
    pub const SIGBUS: i32 = 7;
    /// Arithmetic exception.
    pub const SIGFPE: i32 = 8;
    /// Kill; cannot be caught, blocked or ignored.
    pub const SIGKILL: i32 = 9;
    /// User-defined signal 1.
    pub const SIGUSR1: i32 = 10;
    /// Invalid memory reference.
    pub const SIGSEGV: i32 = 11;
    /// User-defined signal 2.
    pub const SIGUSR2: i32 = 12;
    /// Write to a pipe with no readers.
    pub const SIGPIPE: i32 = 13;
    /// Timer signal from `alarm`.
    pub const SIGALRM: i32 = 14;
    /// Termination request.
    pub const SIGTERM: i32 = 15;
    /// Stack fault on coprocessor (unused).
    pub const SIGSTKFLT: i32 = 16;
    /// Child stopped, continued or terminated.
    pub const SIGCHLD: i32 = 17;
    /// Continue if stopped.
    pub const SIGCONT: i32 = 18;
    /// Stop; cannot be caught, blocked or ignored.
    pub const SIGSTOP: i32 = 19;
    /// Stop typed at terminal.
    pub const SIGTSTP: i32 = 20;
    /// Terminal input for a background process.
    pub const SIGTTIN: i32 = 21;
    /// Terminal output for a background process.
    pub const SIGTTOU: i32 = 22;
    /// Urgent condition on a socket.
    pub const SIGURG: i32 = 23;
    /// CPU time limit exceeded.
    pub const SIGXCPU: i32 = 24;
    /// File size limit exceeded.
    pub const SIGXFSZ: i32 = 25;
    /// Virtual alarm clock.
    pub const SIGVTALRM: i32 = 26;
    /// Profiling timer expired.
    pub const SIGPROF: i32 = 27;
    /// Window resize.
    pub const SIGWINCH: i32 = 28;
    /// I/O now possible.
    pub const SIGIO: i32 = 29;
    /// Alias of [`SIGIO`].
    pub const SIGPOLL: i32 = 29;
    /// Power failure.
    pub const SIGPWR: i32 = 30;
    /// Bad system call.
    pub const SIGSYS: i32 = 31;
    /// Lowest real-time signal, 32 (glibc's `SIGRTMIN` is 34: it keeps 32 and 33).
    pub const SIGRTMIN: i32 = 32;

    /// `sa_flags`: no `SIGCHLD` when a child stops or continues.
    pub const SA_NOCLDSTOP: u64 = 1;
    /// `sa_flags`: children do not become zombies.
    pub const SA_NOCLDWAIT: u64 = 2;
    /// `sa_flags`: the handler takes `(sig, siginfo *, ucontext *)`.
    pub const SA_SIGINFO: u64 = 4;
    /// `sa_flags`: set by user space to probe which flags the kernel supports.
    pub const SA_UNSUPPORTED: u64 = 0x400;
    /// `sa_flags`: keep tag bits in `si_addr` (arm64 only).
    pub const SA_EXPOSE_TAGBITS: u64 = 0x800;
    /// `sa_flags`: `sa_restorer` is valid; x86_64 libcs always set it (their `rt_sigreturn` stub).
    pub const SA_RESTORER: u64 = 0x0400_0000;
    /// `sa_flags`: run the handler on the alternate signal stack.
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    /// `sa_flags`: restart interrupted syscalls.
    pub const SA_RESTART: u64 = 0x1000_0000;
    /// `sa_flags`: do not block the signal while its handler runs.
    pub const SA_NODEFER: u64 = 0x4000_0000;
    /// `sa_flags`: reset to `SIG_DFL` on delivery.
    pub const SA_RESETHAND: u64 = 0x8000_0000;

    /// `rt_sigprocmask` how: add to the mask.
    pub const SIG_BLOCK: i32 = 0;
    /// `rt_sigprocmask` how: remove from the mask.
    pub const SIG_UNBLOCK: i32 = 1;
    /// `rt_sigprocmask` how: replace the mask.
    pub const SIG_SETMASK: i32 = 2;

    /// `ss_flags` (read): currently running on the alternate stack.
    pub const SS_ONSTACK: i32 = 1;
    /// `ss_flags`: the alternate stack is disabled.
    pub const SS_DISABLE: i32 = 2;
    /// `ss_flags` modifier: disable the alternate stack while a handler runs on it.
    pub const SS_AUTODISARM: i32 = (1u32 << 31) as i32;
    /// Smallest alternate stack `sigaltstack` accepts (x86_64 kernel value).
    pub const MINSIGSTKSZ: usize = 2048;
    /// Suggested alternate stack size.
    pub const SIGSTKSZ: usize = 8192;
}

/// Whether `sig` is a signal number, `1..=64`.
pub const fn is_valid(sig: i32) -> bool {
    sig >= 1 && sig <= NSIG
}

/// A signal number known to lie in `1..=64`: the form in which the kernel keeps and
/// indexes by signals. A number from user space becomes one through [`Signal::new`],
/// where it enters, so nothing past that point can hold an out-of-range signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

impl Signal {
    /// `sig` as a signal, or `None` outside `1..=64` (0 included: "no signal").
    pub const fn new(sig: i32) -> Option<Signal> {
        if is_valid(sig) { Some(Signal(sig as u8)) } else { None }
    }

    /// A signal constant, checked when the program is compiled (`Signal::of(SIGCHLD)`
    /// in a `const`); panics for a number outside `1..=64`.
    pub const fn of(sig: i32) -> Signal {
        match Signal::new(sig) {
            Some(s) => s,
            None => panic!("not a signal number"),
        }
    }

    /// The signal's number.
    pub const fn number(self) -> i32 {
        self.0 as i32
    }

    /// Its index in a table of the 64 signals (`number - 1`).
    pub const fn index(self) -> usize {
        self.0 as usize - 1
    }
}

/// A kernel signal set: bit `sig - 1` stands for signal `sig`.
///
/// Operations ignore numbers outside `1..=64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(transparent)]
pub struct SigSet(pub u64);

impl SigSet {
    /// No signals.
    pub const EMPTY: SigSet = SigSet(0);
    /// All 64 signals.
    pub const FULL: SigSet = SigSet(u64::MAX);
    /// `SIGKILL` and `SIGSTOP`, which can be neither blocked nor caught.
    pub const UNBLOCKABLE: SigSet = SigSet::of(SIGKILL).with(SIGSTOP);

    const fn bit(sig: i32) -> u64 {
        if is_valid(sig) { 1 << (sig - 1) } else { 0 }
    }

    /// The set holding just `sig`.
    pub const fn of(sig: i32) -> SigSet {
        SigSet(SigSet::bit(sig))
    }

    /// This set plus `sig`.
    pub const fn with(self, sig: i32) -> SigSet {
        SigSet(self.0 | SigSet::bit(sig))
    }

    /// Adds `sig`.
    pub fn add(&mut self, sig: i32) {
        self.0 |= SigSet::bit(sig);
    }

    /// Removes `sig`.
    pub fn remove(&mut self, sig: i32) {
        self.0 &= !SigSet::bit(sig);
    }

    /// Whether `sig` is in the set.
    pub const fn contains(self, sig: i32) -> bool {
        self.0 & SigSet::bit(sig) != 0
    }

    /// Signals in either set.
    pub const fn union(self, other: SigSet) -> SigSet {
        SigSet(self.0 | other.0)
    }

    /// Signals in both sets.
    pub const fn intersection(self, other: SigSet) -> SigSet {
        SigSet(self.0 & other.0)
    }

    /// Signals in `self` but not in `other`.
    pub const fn difference(self, other: SigSet) -> SigSet {
        SigSet(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set without `SIGKILL` and `SIGSTOP`: what a new signal mask may hold.
    pub const fn blockable(self) -> SigSet {
        self.difference(SigSet::UNBLOCKABLE)
    }

    /// The lowest-numbered signal in the set.
    pub const fn lowest(self) -> Option<Signal> {
        if self.0 == 0 { None } else { Signal::new(self.0.trailing_zeros() as i32 + 1) }
    }

    /// The signals in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        (1..=NSIG).filter(move |&sig| self.contains(sig)).filter_map(Signal::new)
    }
}

/// What a signal does when its disposition is `SIG_DFL` (signal(7)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefaultAction {
    /// Terminate the process.
    Terminate,
    /// Terminate the process and dump core.
    CoreDump,
    /// Nothing.
    Ignore,
    /// Stop the process.
    Stop,
    /// Continue the process if it is stopped.
    Continue,
}

/// The default action of `sig`, per signal(7). Real-time signals terminate; so, for want of
/// anything better, does a number outside `1..=64`.
pub const fn default_action(sig: i32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ | SIGSYS => {
            DefaultAction::CoreDump
        }
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// The `struct sigaction` `rt_sigaction` reads and writes on x86_64 (with `sigsetsize` 8).
///
/// This is the kernel's layout (`<asm/signal.h>`), not glibc's: glibc's `struct sigaction`
/// puts a 128-byte mask before the flags and converts in its wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct KernelSigaction {
    /// Handler address, or [`SIG_DFL`] / [`SIG_IGN`].
    pub handler: u64,
    /// `SA_*` flags.
    pub flags: u64,
    /// Address of the `rt_sigreturn` trampoline (with [`SA_RESTORER`]).
    pub restorer: u64,
    /// Signals blocked while the handler runs (bit `sig - 1`).
    pub mask: u64,
}

impl KernelSigaction {
    /// Its `SA_*` flags as a flag set (unknown bits kept).
    pub fn sa_flags(&self) -> SaFlags {
        SaFlags::from_bits_retain(self.flags)
    }
}

bitflags::bitflags! {
    /// `SA_*` flags of a signal action as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SaFlags: u64 {
        /// [`SA_NOCLDSTOP`].
        const NOCLDSTOP = SA_NOCLDSTOP;
        /// [`SA_NOCLDWAIT`].
        const NOCLDWAIT = SA_NOCLDWAIT;
        /// [`SA_SIGINFO`].
        const SIGINFO = SA_SIGINFO;
        /// [`SA_UNSUPPORTED`].
        const UNSUPPORTED = SA_UNSUPPORTED;
        /// [`SA_EXPOSE_TAGBITS`].
        const EXPOSE_TAGBITS = SA_EXPOSE_TAGBITS;
        /// [`SA_RESTORER`].
        const RESTORER = SA_RESTORER;
        /// [`SA_ONSTACK`].
        const ONSTACK = SA_ONSTACK;
        /// [`SA_RESTART`].
        const RESTART = SA_RESTART;
        /// [`SA_NODEFER`].
        const NODEFER = SA_NODEFER;
        /// [`SA_RESETHAND`].
        const RESETHAND = SA_RESETHAND;
    }
}

/// `stack_t`, the alternate signal stack (`sigaltstack`, and `uc_stack` in a frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct StackT {
    /// Base address.
    pub ss_sp: u64,
    /// `SS_*` flags.
    pub ss_flags: i32,
    /// Padding; zero.
    pub _pad: i32,
    /// Size in bytes.
    pub ss_size: u64,
}
