//! The scheduler: threads, fair shares between groups, blocking and waking, and time
//! accounting.
//!
//! berth runs on one CPU. Threads in user mode are preempted by the timer; in kernel
//! mode a thread runs until it blocks, yields or returns to user mode (where a pending
//! reschedule is honoured). So kernel code never loses the CPU while holding a lock,
//! and the spin locks of the pure libraries never contend.
//!
//! Ready threads wait in their group's queue ([`Group`]: a container, or the kernel);
//! the next to run is the first of the group with the least virtual time. Threads
//! that service devices are woken "urgently" and run before any group.
//!
//! A thread that exits gives its last reference to the scheduler and switches to the
//! idle thread, which frees it once nothing runs on its stack any more.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

// The layer below, under the names this crate's modules use.
use berth_base::{param, time};

pub mod profile;

mod group;
mod thread;
mod wait;

pub use group::{DEFAULT_WEIGHT, Group};
pub use thread::{Thread, ThreadExtension, ThreadState, Tid};
pub use wait::{WaitError, WaitQueue, WakeRelay, sleep, wait_any};

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_hal::context::{self, ThreadContext};
use berth_hal::sync::IrqLock;
use core::sync::atomic::{AtomicBool, Ordering};

struct Scheduler {
    current: Option<Arc<Thread>>,
    idle: Option<Arc<Thread>>,
    /// Groups with threads in their ready queues.
    groups: Vec<Arc<Group>>,
    /// Threads woken to service a device, run before any group.
    urgent: VecDeque<Arc<Thread>>,
    /// The virtual time of the group last picked; never goes down. A group joining
    /// the run starts no lower.
    min_vruntime: u64,
    /// Threads sleeping until a deadline (ns), keyed by (deadline, tid).
    sleepers: BTreeMap<(u64, Tid), Weak<Thread>>,
    /// Exited threads whose stacks the idle thread frees.
    dead: Vec<Arc<Thread>>,
    /// When the current thread started running (ns).
    since: u64,
    /// Tick count when the current thread started running.
    since_tick: u64,
}

static SCHED: IrqLock<Scheduler> = IrqLock::new(Scheduler {
    current: None,
    idle: None,
    groups: Vec::new(),
    urgent: VecDeque::new(),
    min_vruntime: 0,
    sleepers: BTreeMap::new(),
    dead: Vec::new(),
    since: 0,
    since_tick: 0,
});

/// The running thread, mirrored from `SCHED.current` so that finding it takes a plain
/// spin lock rather than disabling interrupts. Written only while switching threads
/// (interrupts off); interrupt handlers never read it.
static CURRENT: spin::Mutex<Option<Arc<Thread>>> = spin::Mutex::new(None);

/// Set by the timer when the running user thread should give up the CPU.
static NEED_RESCHED: AtomicBool = AtomicBool::new(false);
/// The boot thread's context, which becomes the idle thread.
static IDLE_CONTEXT: spin::Once<&'static ThreadContext> = spin::Once::new();

/// Makes the running boot thread the scheduler's idle thread.
pub fn init() {
    let ctx = ThreadContext::boot_thread();
    IDLE_CONTEXT.call_once(|| ctx);
    let idle = Thread::idle(ctx);
    let mut s = SCHED.lock();
    s.current = Some(idle.clone());
    *CURRENT.lock() = Some(idle.clone());
    s.idle = Some(idle);
    s.since = crate::time::now_ns();
}

/// The running thread.
pub fn current() -> Arc<Thread> {
    CURRENT.lock().clone().expect("the scheduler is initialized")
}

/// The running thread, if finding it needs no lock that is held: for the panic
/// handler, which may run while the scheduler's own locks are taken.
pub fn try_current() -> Option<Arc<Thread>> {
    CURRENT.try_lock()?.clone()
}

/// Starts a kernel thread running `entry(arg)`.
pub fn spawn_kernel(name: &str, entry: fn(usize) -> !, arg: usize) -> Result<Arc<Thread>, &'static str> {
    let ctx = ThreadContext::new_kernel(entry, arg).map_err(|_| "no memory for a kernel stack")?;
    let thread = Thread::new_kernel(name, ctx);
    make_ready(thread.clone());
    Ok(thread)
}

/// Puts a new or woken thread in its group's ready queue.
pub fn make_ready(thread: Arc<Thread>) {
    let mut s = SCHED.lock();
    if thread.set_state_if(ThreadState::Blocked, ThreadState::Ready)
        || thread.set_state_if(ThreadState::New, ThreadState::Ready)
    {
        enqueue(&mut s, thread);
    }
}

/// Queues a ready thread in its group; a group that had none ready joins the run at
/// no less than the least virtual time (sleeping earns no credit).
fn enqueue(s: &mut Scheduler, thread: Arc<Thread>) {
    let group = thread.group().clone();
    group.ready.lock().push_back(thread);
    if !group.listed.swap(true, Ordering::Relaxed) {
        group.catch_up(s.min_vruntime);
        s.groups.push(group);
    }
}

/// Runs a woken thread before any group's and asks the running thread to yield at its
/// next chance: for threads that service devices, whose latency matters more than
/// fairness (an interrupt handler's bottom half).
pub fn make_ready_urgent(thread: Arc<Thread>) {
    let mut s = SCHED.lock();
    if thread.set_state_if(ThreadState::Blocked, ThreadState::Ready)
        || thread.set_state_if(ThreadState::New, ThreadState::Ready)
    {
        s.urgent.push_back(thread);
        NEED_RESCHED.store(true, Ordering::Relaxed);
    }
}

/// Gives up the CPU to the next ready thread, if any; returns when this thread is
/// scheduled again. The caller's state decides whether it is queued again: a running
/// thread stays ready, a blocked one waits to be woken.
pub fn schedule() {
    berth_hal::cpu::without_interrupts(|| {
        let (prev, next) = {
            let mut s = SCHED.lock();
            let prev = s.current.clone().expect("the scheduler is initialized");
            if !prev.is_idle() && prev.set_state_if(ThreadState::Running, ThreadState::Ready) {
                enqueue(&mut s, prev.clone());
            }
            let next = match pick_next(&mut s) {
                Some(next) => next,
                None if prev.state() == ThreadState::Running => return, // the idle thread
                None => s.idle.clone().expect("an idle thread"),
            };
            if Arc::ptr_eq(&prev, &next) {
                next.set_state(ThreadState::Running);
                return;
            }
            switch_accounting(&mut s, &prev, &next);
            (prev, next)
        };
        NEED_RESCHED.store(false, Ordering::Relaxed);
        next.activate_address_space();
        // `next` goes with the switch rather than staying on this stack, which may
        // sleep for long: an exited thread must not be kept alive by it.
        context::switch_to(prev.context(), next);
    });
}

/// The next thread to run, taken off its queue: an urgent one, else the first of the
/// group with the least virtual time among those not throttled.
fn pick_next(s: &mut Scheduler) -> Option<Arc<Thread>> {
    while let Some(t) = s.urgent.pop_front() {
        if t.state() == ThreadState::Ready {
            return Some(t);
        }
    }
    let now = crate::time::now_ns();
    loop {
        let (at, group) = s
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.throttled(now))
            .min_by_key(|(_, g)| g.vruntime())
            .map(|(at, g)| (at, g.clone()))?;
        let (thread, now_empty) = {
            let mut ready = group.ready.lock();
            let thread = ready.pop_front();
            (thread, ready.is_empty())
        };
        if now_empty {
            s.groups.swap_remove(at);
            group.listed.store(false, Ordering::Relaxed);
        }
        s.min_vruntime = s.min_vruntime.max(group.vruntime());
        // A queued thread may have exited, or blocked again, since.
        if let Some(t) = thread.filter(|t| t.state() == ThreadState::Ready) {
            return Some(t);
        }
    }
}

/// Whether some thread is ready to run now (urgent, or in a group not throttled).
fn has_work(s: &Scheduler, now: u64) -> bool {
    !s.urgent.is_empty() || s.groups.iter().any(|g| !g.throttled(now))
}

fn switch_accounting(s: &mut Scheduler, prev: &Arc<Thread>, next: &Arc<Thread>) {
    let now = crate::time::now_ns();
    prev.charge_cpu(now.saturating_sub(s.since), now);
    s.since = now;
    s.since_tick = crate::time::ticks();
    next.set_state(ThreadState::Running);
    s.current = Some(next.clone());
    *CURRENT.lock() = Some(next.clone());
}

/// Lets other ready threads run.
pub fn yield_now() {
    schedule();
}

/// Gives up the CPU if the running thread's time slice is over: for long loops in the
/// kernel, which is otherwise never preempted. Call it holding no lock.
pub fn preempt_point() {
    if need_resched() {
        schedule();
    }
}

/// Called on every timer tick (interrupts disabled): wakes sleepers whose deadline
/// has passed and asks the running thread to yield when its time slice is over.
pub fn on_tick() {
    let now = crate::time::now_ns();
    let woken = {
        let mut s = SCHED.lock();
        let mut woken = Vec::new();
        while let Some(entry) = s.sleepers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            woken.extend(entry.remove().upgrade());
        }
        // Charge the running thread as it goes, so a CPU limit bites within a tick.
        if let Some(current) = s.current.clone() {
            current.charge_cpu(now.saturating_sub(s.since), now);
            s.since = now;
            if current.throttled(now) {
                NEED_RESCHED.store(true, Ordering::Relaxed);
            }
        }
        let ran = crate::time::ticks().saturating_sub(s.since_tick);
        let work = has_work(&s, now);
        if ran >= crate::param::TIMESLICE_TICKS && work {
            NEED_RESCHED.store(true, Ordering::Relaxed);
        }
        if s.current.as_ref().is_some_and(|c| c.is_idle()) && (!woken.is_empty() || work) {
            NEED_RESCHED.store(true, Ordering::Relaxed);
        }
        woken
    };
    for t in woken {
        make_ready(t);
    }
}

/// Whether the CPU is running the idle thread (safe in interrupt handlers).
pub fn current_is_idle() -> bool {
    SCHED.lock().current.as_ref().is_some_and(|c| c.is_idle())
}

/// Whether the running thread should call [`schedule`] at its next chance.
pub fn need_resched() -> bool {
    NEED_RESCHED.load(Ordering::Relaxed)
}

/// Registers the current thread to be woken at `deadline` (ns on the monotonic clock).
pub(crate) fn sleep_until(thread: &Arc<Thread>, deadline: u64) {
    SCHED.lock().sleepers.insert((deadline, thread.tid), Arc::downgrade(thread));
}

/// Cancels a wake-up registered by [`sleep_until`].
pub(crate) fn cancel_sleep(thread: &Arc<Thread>, deadline: u64) {
    SCHED.lock().sleepers.remove(&(deadline, thread.tid));
}

/// Ends the running thread. It must hold no references to itself on its stack (the
/// caller returns up to the trap boundary first), because its stack is abandoned.
pub fn exit_current() -> ! {
    berth_hal::cpu::disable_interrupts();
    {
        let mut s = SCHED.lock();
        let me = s.current.take().expect("a running thread");
        me.set_state(ThreadState::Exited);
        let now = crate::time::now_ns();
        me.charge_cpu(now.saturating_sub(s.since), now);
        s.since = now;
        s.dead.push(me);
        let idle = s.idle.clone().expect("an idle thread");
        idle.set_state(ThreadState::Running);
        *CURRENT.lock() = Some(idle.clone());
        s.current = Some(idle);
    }
    context::exit_to(IDLE_CONTEXT.get().expect("the scheduler is initialized"))
}

/// The idle loop: frees exited threads, runs ready ones, halts when there are none.
pub fn idle_loop() -> ! {
    loop {
        let dead = core::mem::take(&mut SCHED.lock().dead);
        drop(dead);
        let now = crate::time::now_ns();
        let busy = has_work(&SCHED.lock(), now);
        if busy {
            schedule();
        } else {
            berth_hal::cpu::wait_for_interrupt();
        }
    }
}
