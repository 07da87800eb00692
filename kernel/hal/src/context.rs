//! Threads' CPU context: kernel stacks, context switches, and the way into and out of
//! user mode (`syscall` entry, first entry through `iretq`).
//!
//! Each thread has a [`ThreadContext`]: its own kernel stack (with a guard page), the
//! stack pointer saved while it is switched out, its FPU state and its user FS/GS
//! bases. [`switch`] moves the CPU from the running thread to another. A thread that
//! runs user code enters the kernel on its own kernel stack, where the entry paths
//! build a [`TrapFrame`] the kernel's handlers read and modify.

use crate::fpu::FpuState;
use crate::mm::{KernelStack, MapError};
use crate::percpu::{self, MAX_CPUS};
use crate::trap::{SYSCALL_VECTOR, TrapFrame};
use alloc::sync::Arc;
use core::arch::{global_asm, naked_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use x86_64::VirtAddr;
use x86_64::registers::model_specific::{Efer, EferFlags, FsBase, KernelGsBase, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::registers::segmentation::SegmentSelector;

/// User code selector (GDT entry 5, RPL 3).
pub const USER_CS: u64 = 0x2b;
/// User data selector (GDT entry 4, RPL 3).
pub const USER_SS: u64 = 0x23;

/// The context of the thread running now on each CPU (by [`percpu::index`]).
static CURRENT: [AtomicPtr<ThreadContext>; MAX_CPUS] = [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_CPUS];

/// The slot of `CURRENT` for this CPU.
fn current_slot() -> &'static AtomicPtr<ThreadContext> {
    &CURRENT[percpu::index()]
}

/// The kernel's system call handler.
pub type SyscallHandler = fn(&mut TrapFrame);
static SYSCALL_HANDLER: spin::Once<SyscallHandler> = spin::Once::new();

/// Sets up `syscall`/`sysret` on the boot CPU and the FPU state of user threads. Call
/// once, after `trap::init`.
pub fn init(handler: SyscallHandler) {
    SYSCALL_HANDLER.call_once(|| handler);
    init_this_cpu();
    crate::fpu::init();
}

/// Sets up `syscall`/`sysret` on this CPU (each application processor as it starts).
pub(crate) fn init_this_cpu() {
    LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
    // Clear IF, DF, TF and AC on entry: the handler starts with interrupts disabled.
    SFMask::write(RFlags::INTERRUPT_FLAG | RFlags::DIRECTION_FLAG | RFlags::TRAP_FLAG | RFlags::ALIGNMENT_CHECK);
    // SAFETY: the selectors match the GDT layout in `gdt.rs` (kernel code 0x08, data
    // 0x10; user data 0x20, user code 0x28); enabling SCE makes `syscall` enter
    // `syscall_entry`, which is ready.
    unsafe {
        Star::write(SegmentSelector(0x2b), SegmentSelector(0x23), SegmentSelector(0x08), SegmentSelector(0x10))
            .expect("GDT selectors fit STAR");
        Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS));
    }
}

const STOPPED: u8 = 0;
const RUNNING: u8 = 1;

struct Inner {
    /// Saved stack pointer while switched out.
    rsp: u64,
    stack: Option<KernelStack>,
    fpu: FpuState,
    fs_base: u64,
    user_gs_base: u64,
}

/// A thread's CPU state while it is not running, and its kernel stack.
pub struct ThreadContext {
    inner: UnsafeCell<Inner>,
    state: AtomicU8,
}

// SAFETY: `inner` is only accessed by the thread itself while it runs (FS/GS setters
// check that) and by `switch`, which runs with interrupts disabled on the CPU that
// owns the thread: a CPU switching to a thread first waits until the CPU that ran it
// has saved it (the state goes to STOPPED only after the stack pointer is stored), and
// the scheduler hands a thread to one CPU at a time, so accesses never overlap.
unsafe impl Sync for ThreadContext {}
// SAFETY: as above; the context holds no thread-affine data.
unsafe impl Send for ThreadContext {}

impl ThreadContext {
    /// The context of the thread running this CPU's boot code (the boot stack, or an
    /// application processor's first stack), which becomes its idle thread. Call once
    /// on each CPU.
    pub fn boot_thread() -> &'static ThreadContext {
        let ctx: &'static ThreadContext = alloc::boxed::Box::leak(alloc::boxed::Box::new(ThreadContext {
            inner: UnsafeCell::new(Inner {
                rsp: 0,
                stack: None,
                fpu: FpuState::initial(),
                fs_base: 0,
                user_gs_base: 0,
            }),
            state: AtomicU8::new(RUNNING),
        }));
        let previous = current_slot().swap(ctx as *const _ as *mut _, Ordering::SeqCst);
        assert!(previous.is_null(), "boot_thread called twice on one CPU");
        ctx
    }

    /// A kernel thread that will run `entry(arg)` with interrupts enabled. `entry`
    /// must not return.
    pub fn new_kernel(entry: fn(usize) -> !, arg: usize) -> Result<ThreadContext, MapError> {
        let stack = KernelStack::new()?;
        // What `switch` pops, from the stack pointer up: r15 (= arg), r14 (= entry),
        // r13, r12, rbx, rbp and the return address; placed so the stack is 16-byte
        // aligned when `kernel_thread_start` calls `entry`.
        let words = [arg as u64, entry as *const () as u64, 0, 0, 0, 0, kernel_thread_start as *const () as u64];
        let rsp = stack.top() - 16 - 8 * words.len() as u64;
        write_words(&stack, rsp, &words);
        Ok(ThreadContext::with(stack, rsp, FpuState::initial(), 0))
    }

    /// A thread that starts in user mode with the registers in `frame` (whose CS/SS
    /// are forced to the user selectors and RFLAGS to a safe value), FPU state `fpu`
    /// and FS base `fs_base`.
    pub fn new_user(frame: &TrapFrame, fpu: FpuState, fs_base: u64) -> Result<ThreadContext, MapError> {
        let stack = KernelStack::new()?;
        let frame_addr = stack.top() - core::mem::size_of::<TrapFrame>() as u64;
        let mut user = frame.clone();
        // A clone's registers are its creator's, which returned from a system call.
        let _ = sanitize_user_frame(&mut user);
        write_frame(&stack, frame_addr, &user);
        // What `switch` pops: r15, r14, r13, r12, rbx, rbp, return address.
        let words = [0, 0, 0, 0, 0, 0, user_thread_start as *const () as u64];
        let rsp = frame_addr - 8 * words.len() as u64;
        write_words(&stack, rsp, &words);
        Ok(ThreadContext::with(stack, rsp, fpu, fs_base))
    }

    fn with(stack: KernelStack, rsp: u64, fpu: FpuState, fs_base: u64) -> ThreadContext {
        ThreadContext {
            inner: UnsafeCell::new(Inner { rsp, stack: Some(stack), fpu, fs_base, user_gs_base: 0 }),
            state: AtomicU8::new(STOPPED),
        }
    }

    fn is_current(&self) -> bool {
        core::ptr::eq(current_slot().load(Ordering::Relaxed), self)
    }

    /// Sets the user FS base (TLS pointer) of the running thread.
    pub fn set_fs_base(&self, base: u64) {
        assert!(self.is_current(), "set_fs_base on a thread that is not running");
        // SAFETY: only the running thread's own context is touched (checked above),
        // with interrupts off so no switch intervenes.
        crate::cpu::without_interrupts(|| unsafe { (*self.inner.get()).fs_base = base });
        FsBase::write(VirtAddr::new_truncate(base));
    }

    /// The user FS base.
    pub fn fs_base(&self) -> u64 {
        // SAFETY: a plain read of a word the running thread (or a stopped one) owns.
        crate::cpu::without_interrupts(|| unsafe { (*self.inner.get()).fs_base })
    }

    /// Sets the user GS base of the running thread.
    pub fn set_user_gs_base(&self, base: u64) {
        assert!(self.is_current(), "set_user_gs_base on a thread that is not running");
        // SAFETY: as in `set_fs_base`. In kernel mode the user's GS base lives in
        // KERNEL_GS_BASE until `swapgs` on the way out.
        crate::cpu::without_interrupts(|| unsafe { (*self.inner.get()).user_gs_base = base });
        KernelGsBase::write(VirtAddr::new_truncate(base));
    }

    /// The user GS base.
    pub fn user_gs_base(&self) -> u64 {
        // SAFETY: as in `fs_base`.
        crate::cpu::without_interrupts(|| unsafe { (*self.inner.get()).user_gs_base })
    }

    /// Resets the running thread's FPU registers to the initial state (for `execve`).
    pub fn reset_fpu(&self) {
        assert!(self.is_current(), "reset_fpu on a thread that is not running");
        FpuState::initial().restore();
    }

    /// Runs `f` on the running thread's FPU state as it will appear in a signal frame
    /// (saved first, restored after), e.g. to copy or replace it.
    pub fn with_fpu<R>(&self, f: impl FnOnce(&mut FpuState) -> R) -> R {
        assert!(self.is_current(), "with_fpu on a thread that is not running");
        crate::cpu::without_interrupts(|| {
            // SAFETY: only the running thread's own context, interrupts off.
            let inner = unsafe { &mut *self.inner.get() };
            inner.fpu.save();
            let r = f(&mut inner.fpu);
            inner.fpu.restore();
            r
        })
    }
}

/// Makes a frame safe to return to user mode with: user selectors, interrupts on,
/// IOPL 0, only the flags user code may set, and an instruction pointer in user space
/// (`iretq` to a non-canonical one would fault in the kernel). Returns false if the
/// instruction pointer was not a user address; it is then 0, where the program
/// faults, and the caller should deliver SIGSEGV.
pub fn sanitize_user_frame(frame: &mut TrapFrame) -> bool {
    const USER_FLAGS: u64 = 0x0000_0000_0004_0dd5; // CF PF AF ZF SF TF DF OF AC
    frame.cs = USER_CS;
    frame.ss = USER_SS;
    frame.rflags = (frame.rflags & USER_FLAGS) | 0x202;
    let user_rip = frame.rip < crate::layout::USER_END;
    if !user_rip {
        frame.rip = 0;
    }
    user_rip
}

fn write_words(stack: &KernelStack, at: u64, words: &[u64]) {
    assert!(at >= stack.bottom() && at + 8 * words.len() as u64 <= stack.top());
    // SAFETY: [at, at + len) lies inside the freshly mapped stack (checked), which no
    // thread runs on yet.
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), at as *mut u64, words.len()) };
}

fn write_frame(stack: &KernelStack, at: u64, frame: &TrapFrame) {
    assert!(at >= stack.bottom() && at + core::mem::size_of::<TrapFrame>() as u64 <= stack.top());
    // SAFETY: as in `write_words`.
    unsafe { core::ptr::write(at as *mut TrapFrame, frame.clone()) };
}

/// Something that owns a thread context (the kernel's thread).
pub trait HasContext: Send + Sync {
    /// The context.
    fn context(&self) -> &ThreadContext;
}

/// The thread last switched to on each CPU, kept here until that CPU's next switch
/// rather than on the stack of the thread that switched to it, which may then sleep
/// for a long time: a reference there would keep the incoming thread alive after it
/// exits.
#[allow(clippy::type_complexity)]
static INCOMING: [spin::Mutex<Option<Arc<dyn HasContext>>>; MAX_CPUS] = [const { spin::Mutex::new(None) }; MAX_CPUS];

/// Lets go of the thread this CPU switched to last, if it is not the one running (an
/// exited thread that left by [`exit_to`]): for the idle thread, which would otherwise
/// keep it, and all it holds, alive until this CPU next switches.
pub fn release_incoming() {
    let slot = &INCOMING[percpu::index()];
    let earlier = crate::cpu::without_interrupts(|| {
        let mut incoming = slot.lock();
        let running = incoming.as_ref().is_some_and(|t| t.context().is_current());
        if running { None } else { incoming.take() }
    });
    drop(earlier);
}

/// Switches the CPU from `from` (the running thread) to `to`, which is kept alive for
/// the switch without this stack holding it. Returns when some other thread switches
/// back to `from`. Panics if `from` is not running or `to` is.
pub fn switch_to(from: &ThreadContext, to: Arc<dyn HasContext>) {
    let to_context: *const ThreadContext = to.context();
    // The thread switched to before (which has run since, or is gone) is let go.
    let earlier = crate::cpu::without_interrupts(|| INCOMING[percpu::index()].lock().replace(to));
    drop(earlier);
    // SAFETY: `INCOMING` keeps `to`, and so its context, alive until the next switch,
    // which can only happen after this one has moved to `to`'s stack; `switch` does
    // not touch `to` after that.
    switch(from, unsafe { &*to_context });
}

/// Switches the CPU from `from` (the running thread) to `to`, first waiting until the
/// CPU that ran `to` last has saved it. Returns when some CPU switches back to `from`.
/// Panics if `from` is not running here or is `to`.
fn switch(from: &ThreadContext, to: &ThreadContext) {
    crate::cpu::without_interrupts(|| {
        assert!(from.is_current(), "switch from a thread that is not running");
        assert!(!core::ptr::eq(from, to), "switch to the running thread");
        // The scheduler may hand over a thread whose old CPU is still on its way out of
        // it: that CPU marks it stopped only after saving its stack pointer.
        while to.state.load(Ordering::Acquire) != STOPPED {
            core::hint::spin_loop();
        }
        // SAFETY: `from` is the running thread and `to` is stopped (checked above), so
        // this is the only code touching either context; interrupts are off. The
        // references end before the stacks are switched.
        let (from_rsp, to_rsp) = unsafe {
            let (f, t) = (&mut *from.inner.get(), &mut *to.inner.get());
            f.fpu.save();
            t.fpu.restore();
            FsBase::write(VirtAddr::new_truncate(t.fs_base));
            KernelGsBase::write(VirtAddr::new_truncate(t.user_gs_base));
            if let Some(stack) = &t.stack {
                // The entry code reads this only on entry from user mode, which cannot
                // happen until `to` returns to user mode.
                percpu::set_kernel_stack_top(stack.top());
                crate::gdt::set_kernel_stack(stack.top());
            }
            (&raw mut f.rsp, t.rsp)
        };
        to.state.store(RUNNING, Ordering::Relaxed);
        current_slot().store(to as *const _ as *mut _, Ordering::Relaxed);
        // SAFETY: `to_rsp` was saved by `context_switch` or prepared by
        // `new_kernel`/`new_user` on `to`'s own stack; `from_rsp` and the state byte
        // point into `from`'s context, which outlives the switch (the caller holds it).
        // `context_switch` marks `from` stopped once its stack pointer is stored.
        unsafe { context_switch(from_rsp, to_rsp, from.state.as_ptr()) };
    });
}

/// Leaves the running thread for good and runs `to` (the idle thread). The caller's
/// context must stay alive until `to` has started running (the kernel keeps exited
/// threads on a list the idle thread empties).
pub fn exit_to(to: &'static ThreadContext) -> ! {
    crate::cpu::disable_interrupts();
    let from = current_slot().load(Ordering::Relaxed);
    assert!(!core::ptr::eq(from, to), "exit_to from the idle thread");
    assert!(to.state.load(Ordering::Relaxed) == STOPPED, "exit_to a running thread");
    // SAFETY: `to` is stopped, so nothing else touches it; interrupts are off.
    let to_rsp = unsafe {
        let t = &mut *to.inner.get();
        t.fpu.restore();
        t.rsp
    };
    to.state.store(RUNNING, Ordering::Relaxed);
    current_slot().store(to as *const _ as *mut _, Ordering::Relaxed);
    let (mut discard, mut discard_state) = (0u64, RUNNING);
    // SAFETY: `to_rsp` was saved by `context_switch` on the idle thread's stack; the
    // exiting thread's registers and state are written to `discard*` and never used.
    unsafe { context_switch(&mut discard, to_rsp, &mut discard_state) };
    unreachable!("an exited thread was resumed")
}

/// Saves callee-saved registers on the current stack, stores the stack pointer in
/// `*from_rsp`, then marks the old thread stopped (`*from_state = STOPPED`: from here on
/// another CPU may resume it), loads `to_rsp` and restores that stack's registers.
#[unsafe(naked)]
unsafe extern "C" fn context_switch(from_rsp: *mut u64, to_rsp: u64, from_state: *mut u8) {
    naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rdi], rsp",
        "mov byte ptr [rdx], {stopped}",
        "mov rsp, rsi",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        stopped = const STOPPED,
    )
}

/// Runs the kernel's handler; returns whether the fast `sysretq` path may return to
/// user mode with this frame. `sysretq` loads RIP from RCX and RFLAGS from R11, so it
/// is used only when they already hold those values (as after an ordinary system call,
/// but not after a signal frame, `execve` or `rt_sigreturn` changed the registers) and
/// RIP is a canonical user address (`sysretq` to a non-canonical address faults in
/// kernel mode on Intel CPUs).
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) -> bool {
    match SYSCALL_HANDLER.get() {
        Some(handler) => handler(frame),
        None => frame.rax = (-38i64) as u64, // ENOSYS
    }
    frame.rcx == frame.rip
        && frame.r11 == frame.rflags
        && frame.rip < crate::layout::USER_END
        && frame.cs == USER_CS
        && frame.ss == USER_SS
        && frame.rflags & 0x100 == 0 // TF: single-stepping wants iretq
}

unsafe extern "C" {
    fn syscall_entry();
    fn kernel_thread_start();
    fn user_thread_start();
}

global_asm!(
    r#"
    .section .text
    .balign 16
    .global syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:8
    mov %gs:0, %rsp
    pushq ${user_ss}
    pushq %gs:8
    push %r11
    pushq ${user_cs}
    push %rcx
    pushq $0
    pushq ${vector}
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call {dispatch}
    test %al, %al
    jz trap_return
    /* Fast return: the frame is an ordinary syscall return (see syscall_dispatch). */
    cli
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    /* Skip vector, error code, RIP, CS and RFLAGS; load the user stack pointer. */
    mov 40(%rsp), %rsp
    swapgs
    sysretq

    /* First run of a kernel thread: r14 = entry, r15 = argument. */
    .global kernel_thread_start
kernel_thread_start:
    sti
    mov %r15, %rdi
    call *%r14
    ud2

    /* First run of a user thread: the stack holds its TrapFrame. */
    .global user_thread_start
user_thread_start:
    jmp trap_return
"#,
    user_ss = const USER_SS,
    user_cs = const USER_CS,
    vector = const SYSCALL_VECTOR,
    dispatch = sym syscall_dispatch,
    options(att_syntax)
);
