//! Threads: what the scheduler runs.

use super::Group;
use alloc::string::String;
use alloc::sync::Arc;
use berth_hal::context::{HasContext, ThreadContext};
use berth_hal::typed::TypedBox;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// A thread id, unique across the machine (containers see their own numbering).
pub type Tid = u32;

static NEXT_TID: AtomicU32 = AtomicU32::new(1);

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadState {
    /// Created, not yet started.
    New = 0,
    /// On the run queue.
    Ready = 1,
    /// On the CPU.
    Running = 2,
    /// Waiting to be woken.
    Blocked = 3,
    /// Finished; its stack is freed soon.
    Exited = 4,
}

/// A kernel or user thread.
pub struct Thread {
    /// Machine-wide id.
    pub tid: Tid,
    /// A name for logs.
    pub name: String,
    ctx: ContextRef,
    state: AtomicU8,
    /// Whether a CPU runs it (or is switching away from it): set and cleared under
    /// the run queue lock of the CPU it runs on.
    on_cpu: AtomicBool,
    /// The CPU it runs on, or last ran on (set under that CPU's run queue lock when it
    /// starts running there): whoever wakes it takes that lock.
    cpu: AtomicUsize,
    cpu_ns: AtomicU64,
    /// The CPUs it asked to run on (`sched_setaffinity`; bit `i`: CPU `i`).
    affinity: AtomicU64,
    /// The group it shares the CPU with.
    group: Arc<Group>,
    /// What the layers above keep per thread (a process's thread state), opaque here.
    extension: Option<Extension>,
}

/// A thread's extension, and how to switch to its address space (a function made for
/// its type, so neither reading nor switching needs a virtual call).
struct Extension {
    value: TypedBox,
    activate: fn(&TypedBox),
}

/// What a layer above the scheduler keeps with each of its threads. The scheduler
/// knows only how to make the CPU use the thread's address space when it switches.
pub trait ThreadExtension: Any + Send + Sync {
    /// Makes the CPU use this thread's address space. Called with interrupts disabled
    /// while switching threads: it may take no lock that is ever held across a switch.
    fn activate_address_space(&self);
}

enum ContextRef {
    Owned(ThreadContext),
    Static(&'static ThreadContext),
}

impl Thread {
    pub(super) fn idle(ctx: &'static ThreadContext) -> Arc<Thread> {
        Arc::new(Thread {
            tid: 0,
            name: String::from("idle"),
            ctx: ContextRef::Static(ctx),
            state: AtomicU8::new(ThreadState::Running as u8),
            on_cpu: AtomicBool::new(false),
            cpu: AtomicUsize::new(0),
            cpu_ns: AtomicU64::new(0),
            affinity: AtomicU64::new(u64::MAX),
            group: Group::kernel(),
            extension: None,
        })
    }

    /// A kernel thread that has not started yet.
    pub fn new_kernel(name: &str, ctx: ThreadContext) -> Arc<Thread> {
        Thread::not_started(name, ctx, Group::kernel(), None)
    }

    /// A thread of a layer above (a process's) that has not started yet, in `group`
    /// (its container's), carrying `extension`.
    pub fn new_extended(
        name: &str,
        ctx: ThreadContext,
        group: Arc<Group>,
        extension: impl ThreadExtension,
    ) -> Arc<Thread> {
        Thread::not_started(name, ctx, group, Some(Extension::new(extension)))
    }

    fn not_started(name: &str, ctx: ThreadContext, group: Arc<Group>, extension: Option<Extension>) -> Arc<Thread> {
        Arc::new(Thread {
            tid: NEXT_TID.fetch_add(1, Ordering::Relaxed),
            name: String::from(name),
            ctx: ContextRef::Owned(ctx),
            state: AtomicU8::new(ThreadState::New as u8),
            on_cpu: AtomicBool::new(false),
            cpu: AtomicUsize::new(0),
            cpu_ns: AtomicU64::new(0),
            affinity: AtomicU64::new(u64::MAX),
            group,
            extension,
        })
    }

    /// What the layer above keeps with this thread, if it is of type `T`.
    #[inline]
    pub fn extension<T: ThreadExtension>(&self) -> Option<&T> {
        self.extension.as_ref()?.value.get()
    }

    /// The group it shares the CPU with.
    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }

    /// The CPUs it may run on (bit `i`: CPU `i`): those it asked for that its group
    /// (container) may use.
    pub fn affinity(&self) -> u64 {
        self.affinity.load(Ordering::Relaxed) & self.group.cpus()
    }

    /// Restricts it to the CPUs in `mask`; false (and no change) if none of them
    /// runs threads for its group. It moves off a CPU it may no longer use the next
    /// time it gives that CPU up.
    pub fn set_affinity(&self, mask: u64) -> bool {
        if mask & self.group.cpus() == 0 {
            return false;
        }
        self.affinity.store(mask, Ordering::Relaxed);
        true
    }

    /// Whether it may run on CPU `cpu`.
    pub(crate) fn may_run_on(&self, cpu: usize) -> bool {
        self.affinity() & (1 << cpu) != 0
    }

    /// Whether it may run on the CPU running this code.
    pub fn may_run_here(&self) -> bool {
        self.may_run_on(berth_hal::percpu::index())
    }

    /// Its CPU context.
    pub fn context(&self) -> &ThreadContext {
        match &self.ctx {
            ContextRef::Owned(c) => c,
            ContextRef::Static(c) => c,
        }
    }
}

impl Extension {
    fn new<T: ThreadExtension>(value: T) -> Extension {
        let activate = |value: &TypedBox| {
            if let Some(value) = value.get::<T>() {
                value.activate_address_space();
            }
        };
        Extension { value: TypedBox::new(value), activate }
    }
}

impl HasContext for Thread {
    fn context(&self) -> &ThreadContext {
        Thread::context(self)
    }
}

impl Thread {
    /// Its state.
    pub fn state(&self) -> ThreadState {
        match self.state.load(Ordering::Acquire) {
            0 => ThreadState::New,
            1 => ThreadState::Ready,
            2 => ThreadState::Running,
            3 => ThreadState::Blocked,
            _ => ThreadState::Exited,
        }
    }

    pub(crate) fn set_state(&self, state: ThreadState) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// Marks it blocked, as a full barrier: whatever the caller reads next (the
    /// condition it waits for) is read after a waker on another CPU can see it blocked.
    pub(crate) fn block(&self) {
        self.state.swap(ThreadState::Blocked as u8, Ordering::SeqCst);
    }

    /// Whether a CPU runs it now (or is switching away from it).
    pub fn on_cpu(&self) -> bool {
        self.on_cpu.load(Ordering::Relaxed)
    }

    /// The CPU it runs on, or last ran on.
    pub(crate) fn cpu(&self) -> usize {
        self.cpu.load(Ordering::Acquire)
    }

    /// Notes that it runs on CPU `cpu` now (under that CPU's run queue lock).
    pub(crate) fn set_cpu(&self, cpu: usize) {
        self.cpu.store(cpu, Ordering::Release);
    }

    /// Notes it going on (`true`) or off a CPU; its group counts it. Under the run
    /// queue lock of the CPU it runs on.
    pub(crate) fn set_on_cpu(&self, on: bool) {
        if self.on_cpu.swap(on, Ordering::Relaxed) != on && !self.is_idle() {
            self.group.note_running(on);
        }
    }

    /// Moves from `from` to `to`; false if the thread was not in `from`.
    pub(crate) fn set_state_if(&self, from: ThreadState, to: ThreadState) -> bool {
        self.state.compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    pub(super) fn is_idle(&self) -> bool {
        self.tid == 0
    }

    pub(super) fn charge_cpu(&self, ns: u64, now: u64) {
        if self.is_idle() {
            return;
        }
        self.cpu_ns.fetch_add(ns, Ordering::Relaxed);
        self.group.charge(ns, now);
    }

    /// Whether its group has used up its CPU bandwidth for now.
    pub(super) fn throttled(&self, now: u64) -> bool {
        self.group.throttled(now)
    }

    /// CPU time used, in ns.
    pub fn cpu_ns(&self) -> u64 {
        self.cpu_ns.load(Ordering::Relaxed)
    }

    /// Whether it has an address space of its own (a user thread).
    pub(super) fn has_address_space(&self) -> bool {
        self.extension.is_some()
    }

    /// Makes the CPU use this thread's address space (user threads). Called with
    /// interrupts disabled while switching: nobody may hold these locks then.
    pub(super) fn activate_address_space(&self) {
        if let Some(extension) = &self.extension {
            (extension.activate)(&extension.value);
        }
    }
}
