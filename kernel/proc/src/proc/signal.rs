//! Signals: dispositions, pending sets, delivery on the way back to user mode, and
//! the x86_64 signal frame (`rt_sigframe`).

use super::Process;
use crate::proc::UserPart;
use crate::sched::{self, Thread};
use crate::uaccess::UserPtr;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::signal::*;
use berth_hal::trap::TrapFrame;
use spin::Mutex;

/// Bytes below the interrupted stack pointer left alone (the System V red zone).
const RED_ZONE: u64 = 128;

/// The most memory one receiver's queued signals hold.
pub const QUEUE_COST: u64 = (crate::param::MAX_QUEUED_SIGNALS * core::mem::size_of::<SigInfo>()) as u64;

/// The 64 signal dispositions of a process (shared with CLONE_SIGHAND clones).
#[derive(Clone)]
pub struct SigActions {
    actions: [KernelSigaction; 64],
}

impl Default for SigActions {
    fn default() -> Self {
        SigActions { actions: [KernelSigaction::default(); 64] }
    }
}

impl SigActions {
    /// The disposition of `sig`.
    pub fn get(&self, sig: Signal) -> KernelSigaction {
        self.actions[sig.index()]
    }

    /// Sets the disposition of `sig`.
    pub fn set(&mut self, sig: Signal, action: KernelSigaction) {
        self.actions[sig.index()] = action;
    }

    /// Resets handled signals to their defaults (what `execve` does; ignored signals
    /// stay ignored).
    pub fn reset_handlers(&mut self) {
        for a in &mut self.actions {
            if a.handler != SIG_IGN {
                *a = KernelSigaction::default();
            }
        }
    }
}

/// Signals waiting to be delivered.
#[derive(Default, Clone)]
pub struct Pending {
    set: SigSet,
    infos: Vec<SigInfo>,
}

impl Pending {
    /// Queues a signal: a standard signal already pending is not queued twice.
    pub fn queue(&mut self, sig: Signal, mut info: SigInfo) {
        info.signo = sig.number();
        let sig = sig.number();
        if sig < SIGRTMIN && self.set.contains(sig) {
            return;
        }
        if self.infos.len() >= crate::param::MAX_QUEUED_SIGNALS {
            return;
        }
        self.set.add(sig);
        self.infos.push(info);
    }

    /// The set of pending signals.
    pub fn set(&self) -> SigSet {
        self.set
    }

    /// Takes the lowest pending signal not in `blocked`.
    pub fn take(&mut self, blocked: SigSet) -> Option<(Signal, SigInfo)> {
        let sig = self.set.difference(blocked.blockable()).lowest()?;
        let i = self.infos.iter().position(|i| i.signo == sig.number())?;
        let info = self.infos.remove(i);
        if !self.infos.iter().any(|i| i.signo == sig.number()) {
            self.set.remove(sig.number());
        }
        Some((sig, info))
    }

    /// Removes every instance of `sig`.
    pub fn discard(&mut self, sig: i32) {
        self.set.remove(sig);
        self.infos.retain(|i| i.signo != sig);
    }
}

/// A process's signal state.
pub struct Signals {
    /// Dispositions (shared by CLONE_SIGHAND clones and always by threads).
    pub actions: Mutex<Arc<Mutex<SigActions>>>,
    /// Signals sent to the process as a whole.
    pub pending: Mutex<Pending>,
}

impl Signals {
    /// Default dispositions, nothing pending.
    pub fn new(actions: Arc<Mutex<SigActions>>) -> Signals {
        Signals { actions: Mutex::new(actions), pending: Mutex::new(Pending::default()) }
    }

    /// The disposition of `sig`.
    pub fn action(&self, sig: Signal) -> KernelSigaction {
        let actions = self.actions.lock().clone();
        actions.lock().get(sig)
    }
}

/// A thread's signal state.
#[derive(Default, Clone)]
pub struct ThreadSignals {
    /// Blocked signals.
    pub mask: SigSet,
    /// Signals sent to this thread.
    pub pending: Pending,
    /// The alternate signal stack.
    pub altstack: StackT,
    /// A mask to restore after the next handler returns (sigsuspend, ppoll).
    pub saved_mask: Option<SigSet>,
}

impl ThreadSignals {
    /// A new thread's state: the creator's mask, nothing pending, no alternate stack.
    pub fn inherit(mask: SigSet) -> ThreadSignals {
        ThreadSignals { mask, altstack: StackT { ss_flags: SS_DISABLE, ..StackT::default() }, ..Default::default() }
    }
}

/// Whether a signal that would interrupt a blocking wait is pending for the running
/// thread (or its process is exiting).
pub fn signal_pending() -> bool {
    let t = sched::current();
    let Some(user) = t.user() else { return false };
    let process = &user.process;
    if process.is_exiting() || user.exit_requested.load(core::sync::atomic::Ordering::Acquire) {
        return true;
    }
    let s = user.signals.lock();
    let pending = s.pending.set().union(process.signals.pending.lock().set());
    // Signals that are ignored do not interrupt.
    pending.difference(s.mask.blockable()).iter().any(|sig| !is_ignored(process, sig))
}

fn is_ignored(process: &Process, sig: Signal) -> bool {
    let action = process.signals.action(sig);
    action.handler == SIG_IGN
        || (action.handler == SIG_DFL
            && matches!(
                default_action(sig.number()),
                DefaultAction::Ignore | DefaultAction::Stop | DefaultAction::Continue
            ))
}

/// Who sends a signal, which decides whether a container's init takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A process of the container, or the kernel on its behalf (a child's exit signal,
    /// `SIGPIPE`, `SIGALRM`, a terminal's `^C`).
    Inside,
    /// The operator, through the agent: as from a parent pid namespace on Linux.
    Outside,
    /// The kernel itself, which is obeyed (a fault, running out of memory).
    Kernel,
}

/// Whether `process` drops `sig` from `from` because it is its container's init,
/// which, as a pid namespace's init on Linux, takes only the signals it has a handler
/// for, except `SIGKILL` and `SIGSTOP` from outside and what the kernel forces
/// (pid_namespaces(7)).
fn init_ignores(process: &Process, sig: Signal, from: Sender) -> bool {
    process.pid == 1
        && from != Sender::Kernel
        && !(from == Sender::Outside && matches!(sig.number(), SIGKILL | SIGSTOP))
        && process.signals.action(sig).handler == SIG_DFL
}

/// Sends `sig` with `info` to `thread` (tgkill).
pub fn send_to_thread(thread: &Arc<Thread>, sig: Signal, info: SigInfo, from: Sender) {
    let Some(user) = thread.user() else { return };
    if init_ignores(&user.process, sig, from) {
        return;
    }
    if sig.number() == SIGKILL {
        super::exit::begin_group_exit(&user.process, SIGKILL);
        return;
    }
    user.signals.lock().pending.queue(sig, info);
    user.note_signal_work();
    sched::make_ready(thread.clone());
}

/// Sends `sig` with `info` to `process` (kill): queued process-wide and one thread that
/// does not block it is woken to take it.
pub fn send_to_process(process: &Arc<Process>, sig: Signal, info: SigInfo, from: Sender) {
    if init_ignores(process, sig, from) {
        return;
    }
    if sig.number() == SIGKILL {
        super::exit::begin_group_exit(process, SIGKILL);
        return;
    }
    if is_ignored(process, sig) {
        return; // Discarded at once, as on Linux.
    }
    process.signals.pending.lock().queue(sig, info);
    let threads = process.threads();
    for t in &threads {
        if let Some(u) = t.user() {
            u.note_signal_work();
        }
    }
    let target = threads
        .iter()
        .find(|t| t.user().is_some_and(|u| !u.signals.lock().mask.contains(sig.number())))
        .or(threads.first());
    if let Some(t) = target {
        sched::make_ready(t.clone());
    }
}

/// `SIGPIPE` for the running thread (a write to a pipe or socket without readers).
pub fn raise_sigpipe() {
    let t = sched::current();
    if t.user().is_some() {
        send_to_thread(&t, Signal::of(SIGPIPE), SigInfo::kernel(SIGPIPE), Sender::Inside);
    }
}

/// What delivery decided.
pub enum Delivery {
    /// Return to user mode (maybe into a handler).
    Continue,
    /// The thread must exit (its process is exiting).
    Exit,
}

/// Delivers pending signals to the running thread before it returns to user mode
/// with `frame`: runs default actions, or sets up one handler's frame.
pub fn deliver_pending(frame: &mut TrapFrame) -> Delivery {
    let thread = sched::current();
    let Some(user) = thread.user() else { return Delivery::Continue };
    if !user.signal_work.swap(false, core::sync::atomic::Ordering::AcqRel)
        && user.restart_syscall.load(core::sync::atomic::Ordering::Relaxed) == u64::MAX
        && !user.process.sandbox.is_frozen()
    {
        return Delivery::Continue; // the common case: nothing to do
    }
    let process = user.process.clone();
    loop {
        let exiting = || process.is_exiting() || user.exit_requested.load(core::sync::atomic::Ordering::Acquire);
        if exiting() {
            return Delivery::Exit;
        }
        if process.sandbox.is_frozen() {
            // Paused: wait, unseen by the program, until thawed (or killed).
            process.sandbox.wait_thawed(exiting);
            continue;
        }
        let info = {
            let mut s = user.signals.lock();
            let mask = s.mask;
            s.pending.take(mask).or_else(|| process.signals.pending.lock().take(mask))
        };
        let Some((sig, info)) = info else {
            // No handler runs: an interrupted system call resumes transparently, and a
            // mask saved by sigsuspend goes back.
            restart(frame, user, true);
            let mut s = user.signals.lock();
            if let Some(saved) = s.saved_mask.take() {
                s.mask = saved;
            }
            return Delivery::Continue;
        };
        let action = process.signals.action(sig);
        if action.handler == SIG_IGN {
            continue;
        }
        if action.handler == SIG_DFL {
            match default_action(sig.number()) {
                DefaultAction::Ignore | DefaultAction::Stop | DefaultAction::Continue => continue,
                DefaultAction::Terminate | DefaultAction::CoreDump => {
                    super::exit::begin_group_exit(&process, sig.number());
                    return Delivery::Exit;
                }
            }
        }
        restart(frame, user, action.sa_flags().contains(SaFlags::RESTART));
        if setup_frame(frame, &info, &action, user).is_err() {
            // The stack is unusable: the process dies of SIGSEGV, as on Linux.
            super::exit::begin_group_exit(&process, SIGSEGV);
            return Delivery::Exit;
        }
        if action.sa_flags().contains(SaFlags::RESETHAND) {
            process.signals.actions.lock().lock().set(sig, KernelSigaction::default());
        }
        return Delivery::Continue;
    }
}

/// Rewinds an interrupted system call so it runs again (`allowed`), or leaves its
/// EINTR result in place.
fn restart(frame: &mut TrapFrame, user: &super::UserThread, allowed: bool) {
    let nr = user.restart_syscall.swap(u64::MAX, core::sync::atomic::Ordering::Relaxed);
    if nr != u64::MAX && allowed {
        frame.rax = nr;
        frame.rip -= 2; // back onto the `syscall` instruction
    }
}

/// Builds the `rt_sigframe` on the user stack and points `frame` at the handler.
fn setup_frame(
    frame: &mut TrapFrame,
    info: &SigInfo,
    action: &KernelSigaction,
    user: &super::UserThread,
) -> Result<(), Errno> {
    let (mask, altstack) = {
        let s = user.signals.lock();
        (s.saved_mask.unwrap_or(s.mask), s.altstack)
    };
    let on_altstack = altstack.ss_flags & SS_DISABLE == 0 && frame.rsp.wrapping_sub(altstack.ss_sp) < altstack.ss_size;
    let mut sp = if action.sa_flags().contains(SaFlags::ONSTACK) && altstack.ss_flags & SS_DISABLE == 0 && !on_altstack
    {
        altstack.ss_sp + altstack.ss_size
    } else {
        frame.rsp - RED_ZONE
    };
    let fpu = sched::current().context().with_fpu(|f| *f.legacy_area());
    sp = (sp - fpu.len() as u64) & !63;
    let fpstate = sp;
    sp -= core::mem::size_of::<RtSigframe>() as u64;
    sp = (sp & !15) - 8; // as if a call had pushed the return address
    let stack = StackT {
        ss_sp: altstack.ss_sp,
        ss_flags: if on_altstack { SS_ONSTACK } else { altstack.ss_flags },
        _pad: 0,
        ss_size: altstack.ss_size,
    };
    let context = SigContext {
        r8: frame.r8,
        r9: frame.r9,
        r10: frame.r10,
        r11: frame.r11,
        r12: frame.r12,
        r13: frame.r13,
        r14: frame.r14,
        r15: frame.r15,
        rdi: frame.rdi,
        rsi: frame.rsi,
        rbp: frame.rbp,
        rbx: frame.rbx,
        rdx: frame.rdx,
        rax: frame.rax,
        rcx: frame.rcx,
        rsp: frame.rsp,
        rip: frame.rip,
        eflags: frame.rflags,
        cs: frame.cs as u16,
        ss: frame.ss as u16,
        err: frame.error_code,
        trapno: if frame.vector < 32 { frame.vector } else { 0 },
        oldmask: mask.0,
        cr2: if frame.vector == 14 { berth_hal::cpu::fault_address() } else { 0 },
        fpstate,
        ..SigContext::default()
    };
    let sigframe = RtSigframe {
        pretcode: action.restorer,
        uc: UContext {
            uc_flags: UC_SIGCONTEXT_SS,
            uc_link: 0,
            uc_stack: stack,
            uc_mcontext: context,
            uc_sigmask: mask.0,
        },
        info: *info,
    };
    // A handler outside user space would fault on the way back: SIGSEGV, as on Linux.
    if action.handler >= berth_hal::layout::USER_END {
        return Err(Errno::EFAULT);
    }
    UserPtr::<[u8; 512]>::new(fpstate).write(&fpu)?;
    UserPtr::new(sp).write(&sigframe)?;
    // The handler's view: rdi = signal, rsi = &info, rdx = &uc.
    frame.rip = action.handler;
    frame.rsp = sp;
    frame.rdi = info.signo as u64;
    frame.rsi = sp + core::mem::offset_of!(RtSigframe, info) as u64;
    frame.rdx = sp + core::mem::offset_of!(RtSigframe, uc) as u64;
    frame.rax = 0;
    frame.rflags &= !(0x100 | 0x400); // TF, DF
    let mut s = user.signals.lock();
    s.saved_mask = None;
    s.mask = mask.union(SigSet(action.mask));
    if !action.sa_flags().contains(SaFlags::NODEFER) {
        s.mask.add(info.signo);
    }
    Ok(())
}

/// `rt_sigreturn`: restores the registers, mask and FPU state saved in the frame at
/// the user stack pointer. Returns the restored `rax`.
pub fn sigreturn(frame: &mut TrapFrame) -> Result<u64, Errno> {
    let uc_addr = frame.rsp; // the handler's `ret` popped pretcode
    let uc: UContext = UserPtr::new(uc_addr).read()?;
    let c = uc.uc_mcontext;
    let fpu = UserPtr::<[u8; 512]>::new(c.fpstate).read_unless_null()?.unwrap_or([0; 512]);
    frame.r8 = c.r8;
    frame.r9 = c.r9;
    frame.r10 = c.r10;
    frame.r11 = c.r11;
    frame.r12 = c.r12;
    frame.r13 = c.r13;
    frame.r14 = c.r14;
    frame.r15 = c.r15;
    frame.rdi = c.rdi;
    frame.rsi = c.rsi;
    frame.rbp = c.rbp;
    frame.rbx = c.rbx;
    frame.rdx = c.rdx;
    frame.rax = c.rax;
    frame.rcx = c.rcx;
    frame.rsp = c.rsp;
    frame.rip = c.rip;
    frame.rflags = c.eflags;
    if !berth_hal::context::sanitize_user_frame(frame) {
        return Err(Errno::EFAULT);
    }
    let thread = sched::current();
    if c.fpstate != 0 && !thread.context().with_fpu(|f| f.set_legacy_area(&fpu)) {
        return Err(Errno::EFAULT);
    }
    let user = thread.user().expect("a user thread");
    user.note_signal_work(); // signals the restored mask unblocks may be pending
    let mut s = user.signals.lock();
    s.mask = SigSet(uc.uc_sigmask).blockable();
    if uc.uc_stack.ss_flags & SS_DISABLE == 0 && uc.uc_stack.ss_size >= MINSIGSTKSZ as u64 {
        s.altstack.ss_sp = uc.uc_stack.ss_sp;
        s.altstack.ss_size = uc.uc_stack.ss_size;
    }
    Ok(frame.rax)
}
