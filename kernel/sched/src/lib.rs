//! The scheduler: threads, fair shares between groups, blocking and waking, and time
//! accounting.
//!
//! Threads in user mode are preempted by the timer; in kernel mode a thread runs until
//! it blocks, yields or returns to user mode (where a pending reschedule is honoured).
//! So kernel code never loses its CPU while holding a lock, and spin locks are held
//! only for as long as the code between lock and unlock takes.
//!
//! Ready threads wait in their group's queue ([`Group`]: a container, or the kernel).
//! Each group is placed on one CPU (a new one on the CPU with the fewest, among those
//! its container may use); the next to run on a CPU is the first thread of the group
//! with the least virtual time among the groups placed on that CPU. A CPU with
//! nothing of its own to run takes a ready group with no thread on a CPU from a busy
//! CPU (work stealing), or else just a ready thread of a group whose CPU is busy: the
//! threads of one process then run on several CPUs at once, and changes to its
//! address space shoot down the other CPUs' TLBs (`berth_hal::tlb`). A thread runs
//! only on CPUs its affinity (`sched_setaffinity`) and its container's CPU set allow;
//! one that may not run on its group's CPU is run by an allowed CPU in the group's
//! turn there. The kernel's group stays on CPU 0, where device interrupts arrive.
//! Threads that service devices are woken "urgently" and run before any group.
//!
//! One lock (`SCHED`) guards the run queues of every CPU. A thread handed to a CPU
//! while the CPU that ran it is still switching away is waited for in the context
//! switch (`berth_hal::context`), which marks a thread stopped only once it is saved.
//!
//! A thread that exits gives its last reference to the scheduler and switches to its
//! CPU's idle thread, which frees it once nothing runs on its stack any more.

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
use berth_hal::percpu::{self, MAX_CPUS};
use berth_hal::sync::IrqLock;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What the scheduler keeps for each CPU.
#[derive(Default)]
struct Cpu {
    current: Option<Arc<Thread>>,
    idle: Option<Arc<Thread>>,
    /// Threads woken to service a device, run before any group.
    urgent: VecDeque<Arc<Thread>>,
    /// The virtual time of the group last picked here; never goes down. A group
    /// joining the run here starts no lower.
    min_vruntime: u64,
    /// Exited threads whose stacks this CPU's idle thread frees.
    dead: Vec<Arc<Thread>>,
    /// When the current thread started running (ns).
    since: u64,
    /// Tick count when the current thread started running.
    since_tick: u64,
    /// Time this CPU ran threads other than its idle thread (ns).
    busy_ns: u64,
}

struct Scheduler {
    /// By CPU index.
    cpus: Vec<Cpu>,
    /// Groups with threads in their ready queues, on any CPU.
    groups: Vec<Arc<Group>>,
    /// Threads sleeping until a deadline (ns), keyed by (deadline, tid); CPU 0's tick
    /// wakes them.
    sleepers: BTreeMap<(u64, Tid), Weak<Thread>>,
}

impl Cpu {
    /// Charges `thread` (running here) the time since `since`, and counts it as this
    /// CPU's busy time unless it is the idle thread.
    fn charge(&mut self, thread: &Thread, now: u64) {
        let ran = now.saturating_sub(self.since);
        thread.charge_cpu(ran, now);
        if !thread.is_idle() {
            self.busy_ns += ran;
        }
        self.since = now;
    }
}

static SCHED: IrqLock<Scheduler> =
    IrqLock::new(Scheduler { cpus: Vec::new(), groups: Vec::new(), sleepers: BTreeMap::new() });

/// The running thread of each CPU, mirrored from the scheduler so that finding it
/// takes a plain spin lock of its own CPU rather than the scheduler's lock. Written
/// only while switching threads (interrupts off); interrupt handlers never read it.
static CURRENT: [spin::Mutex<Option<Arc<Thread>>>; MAX_CPUS] = [const { spin::Mutex::new(None) }; MAX_CPUS];

/// Set when a CPU's running user thread should give up the CPU (its time slice is
/// over, or the reschedule IPI came).
static NEED_RESCHED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// Each CPU's boot context, which is its idle thread.
static IDLE_CONTEXT: [spin::Once<&'static ThreadContext>; MAX_CPUS] = [const { spin::Once::new() }; MAX_CPUS];
/// How many CPUs run the scheduler (CPU indices below this).
static ACTIVE_CPUS: AtomicUsize = AtomicUsize::new(0);

/// Makes the running boot thread CPU 0's idle thread.
pub fn init() {
    {
        let mut s = SCHED.lock();
        s.cpus.resize_with(MAX_CPUS, Cpu::default);
    }
    become_idle_thread(0);
    ACTIVE_CPUS.store(1, Ordering::Release);
}

/// Makes the code running on CPU `cpu` (an application processor, from its first
/// stack) its idle thread, then runs the idle loop there for ever.
pub fn run_this_cpu(cpu: usize) -> ! {
    become_idle_thread(cpu);
    ACTIVE_CPUS.fetch_max(cpu + 1, Ordering::AcqRel);
    idle_loop()
}

fn become_idle_thread(cpu: usize) {
    let ctx = ThreadContext::boot_thread();
    IDLE_CONTEXT[cpu].call_once(|| ctx);
    let idle = Thread::idle(ctx);
    idle.set_on_cpu(true);
    let mut s = SCHED.lock();
    let here = &mut s.cpus[cpu];
    here.current = Some(idle.clone());
    here.idle = Some(idle.clone());
    here.since = crate::time::now_ns();
    *CURRENT[cpu].lock() = Some(idle);
}

/// Time each CPU that runs threads has spent running them (not idle), ns.
pub fn busy_ns() -> Vec<u64> {
    let s = SCHED.lock();
    (0..cpu_count()).map(|c| s.cpus[c].busy_ns).collect()
}

/// How many CPUs run threads.
pub fn cpu_count() -> usize {
    ACTIVE_CPUS.load(Ordering::Acquire).max(1)
}

/// The CPUs that run threads, as a mask (bit `i`: CPU `i`).
pub fn online_mask() -> u64 {
    match cpu_count() {
        64.. => u64::MAX,
        n => (1 << n) - 1,
    }
}

/// The index of the CPU running this code.
pub fn this_cpu() -> usize {
    percpu::index()
}

/// The running thread.
pub fn current() -> Arc<Thread> {
    CURRENT[percpu::index()].lock().clone().expect("the scheduler is initialized")
}

/// The running thread, if finding it needs no lock that is held: for the panic
/// handler, which may run while the scheduler's own locks are taken.
pub fn try_current() -> Option<Arc<Thread>> {
    CURRENT[percpu::index()].try_lock()?.clone()
}

/// Starts a kernel thread running `entry(arg)`.
pub fn spawn_kernel(name: &str, entry: fn(usize) -> !, arg: usize) -> Result<Arc<Thread>, &'static str> {
    let ctx = ThreadContext::new_kernel(entry, arg).map_err(|_| "no memory for a kernel stack")?;
    let thread = Thread::new_kernel(name, ctx);
    make_ready(thread.clone());
    Ok(thread)
}

/// Puts a new or woken thread in its group's ready queue. A thread woken while still
/// on its CPU (on its way to sleep) is only marked ready: that CPU queues it, or keeps
/// running it, when it switches.
pub fn make_ready(thread: Arc<Thread>) {
    let kick = {
        let mut s = SCHED.lock();
        if !mark_ready(&thread) {
            return;
        }
        let cpu = enqueue(&mut s, thread);
        cpu_to_kick(&s, cpu)
    };
    if let Some(cpu) = kick {
        berth_hal::smp::send_reschedule(cpu);
    }
}

/// Marks a blocked or new thread ready (under the scheduler's lock); true if it is to
/// be queued now, false if it was neither, or is still on its CPU (which queues it, or
/// keeps running it, when it switches).
fn mark_ready(thread: &Thread) -> bool {
    (thread.set_state_if(ThreadState::Blocked, ThreadState::Ready)
        || thread.set_state_if(ThreadState::New, ThreadState::Ready))
        && !thread.on_cpu()
}

/// Queues a ready thread in its group; a group that had none ready joins the run at
/// no less than the least virtual time of its CPU (sleeping earns no credit). Returns
/// the group's CPU.
fn enqueue(s: &mut Scheduler, thread: Arc<Thread>) -> usize {
    let group = thread.group().clone();
    group.ready.lock().push_back(thread);
    let cpu = group.cpu();
    if !group.listed.swap(true, Ordering::Relaxed) {
        group.catch_up(s.cpus[cpu].min_vruntime);
        s.groups.push(group);
    }
    cpu
}

/// Which CPU to send the reschedule IPI after work was queued for `cpu`: `cpu` itself
/// if it is idle, else an idle CPU that may take the work (none if every CPU is busy:
/// the timer shares them out).
fn cpu_to_kick(s: &Scheduler, cpu: usize) -> Option<usize> {
    let me = percpu::index();
    let idle = |c: usize| s.cpus[c].current.as_ref().is_some_and(|t| t.is_idle());
    if idle(cpu) {
        return (cpu != me).then_some(cpu);
    }
    (0..cpu_count()).find(|&c| c != me && c != cpu && idle(c))
}

/// Runs a woken thread before any group's and asks the running thread to yield at its
/// next chance: for threads that service devices, whose latency matters more than
/// fairness (an interrupt handler's bottom half).
pub fn make_ready_urgent(thread: Arc<Thread>) {
    let cpu = {
        let mut s = SCHED.lock();
        if !mark_ready(&thread) {
            return;
        }
        let cpu = thread.group().cpu();
        s.cpus[cpu].urgent.push_back(thread);
        NEED_RESCHED[cpu].store(true, Ordering::Relaxed);
        cpu
    };
    berth_hal::smp::send_reschedule(cpu);
}

/// Gives up the CPU to the next ready thread, if any; returns when this thread is
/// scheduled again. The caller's state decides whether it is queued again: a running
/// (or meanwhile woken) thread stays ready, a blocked one waits to be woken.
pub fn schedule() {
    berth_hal::cpu::without_interrupts(|| {
        let me = percpu::index();
        let (prev, next) = {
            let mut s = SCHED.lock();
            let prev = s.cpus[me].current.clone().expect("the scheduler is initialized");
            let runnable = !prev.is_idle()
                && (prev.set_state_if(ThreadState::Running, ThreadState::Ready) || prev.state() == ThreadState::Ready);
            if runnable {
                enqueue(&mut s, prev.clone());
            }
            let next = match pick_next(&mut s, me) {
                Some(next) => next,
                None if prev.is_idle() => return,
                None => s.cpus[me].idle.clone().expect("an idle thread"),
            };
            if Arc::ptr_eq(&prev, &next) {
                next.set_state(ThreadState::Running);
                return;
            }
            switch_accounting(&mut s, me, &prev, &next);
            (prev, next)
        };
        NEED_RESCHED[me].store(false, Ordering::Relaxed);
        enter_address_space(&next);
        // `next` goes with the switch rather than staying on this stack, which may
        // sleep for long: an exited thread must not be kept alive by it.
        context::switch_to(prev.context(), next);
    });
}

/// Makes the CPU use `next`'s address space. A kernel thread keeps whatever is loaded
/// on a machine with one CPU (cheaper); with more, it gets the kernel's own table, so
/// that no CPU keeps a user table loaded that another CPU might free.
fn enter_address_space(next: &Thread) {
    if next.has_address_space() {
        next.activate_address_space();
    } else if cpu_count() > 1 {
        berth_hal::mm::use_kernel_table();
    }
}

/// The next thread to run on CPU `me`, taken off its queue: an urgent one, else a
/// thread of the group with the least virtual time among those with a thread for
/// this CPU (see [`wants_here`]) and not throttled, else one taken from a busy CPU.
fn pick_next(s: &mut Scheduler, me: usize) -> Option<Arc<Thread>> {
    while let Some(t) = s.cpus[me].urgent.pop_front() {
        if t.state() == ThreadState::Ready {
            return Some(t);
        }
    }
    let now = crate::time::now_ns();
    loop {
        let found = s
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.throttled(now) && has_ready(g, |t| wants_here(g, t, me)))
            .min_by_key(|(_, g)| g.vruntime())
            .map(|(at, g)| (at, g.clone()));
        if let Some((at, group)) = found {
            let thread = take_ready(s, at, |t| wants_here(&group, t, me));
            let here = &mut s.cpus[me];
            here.min_vruntime = here.min_vruntime.max(group.vruntime());
            if thread.is_some() {
                return thread;
            }
            continue;
        }
        if steal_group(s, me, now).is_none() {
            return steal_thread(s, me, now);
        }
    }
}

/// Whether CPU `me` runs `thread` of `group` in its turn: the group is placed here, or
/// the thread may not run on the group's CPU (its affinity says so) but may here.
fn wants_here(group: &Group, thread: &Thread, me: usize) -> bool {
    thread.may_run_on(me) && (group.cpu() == me || !thread.may_run_on(group.cpu()))
}

/// Whether `group` has a ready thread that `wanted` accepts.
fn has_ready(group: &Group, wanted: impl Fn(&Thread) -> bool) -> bool {
    group.ready.lock().iter().any(|t| t.state() == ThreadState::Ready && wanted(t))
}

/// Takes the first ready thread that `wanted` accepts off the queue of group `at` in
/// the list, dropping entries that went stale on the way (threads that exited, or
/// blocked again, since they were queued); a group left with none leaves the list.
fn take_ready(s: &mut Scheduler, at: usize, wanted: impl Fn(&Thread) -> bool) -> Option<Arc<Thread>> {
    let group = s.groups[at].clone();
    let (thread, now_empty) = {
        let mut ready = group.ready.lock();
        ready.retain(|t| t.state() == ThreadState::Ready);
        let thread = ready.iter().position(|t| wanted(t)).and_then(|i| ready.remove(i));
        (thread, ready.is_empty())
    };
    if now_empty {
        s.groups.swap_remove(at);
        group.listed.store(false, Ordering::Relaxed);
    }
    thread
}

/// A group that CPU `me` may take whole: ready and not throttled, movable and allowed
/// here, with none of its threads on a CPU, on a CPU that is busy running something
/// else.
fn stealable(s: &Scheduler, me: usize, now: u64) -> Option<usize> {
    s.groups.iter().position(|g| {
        let owner = g.cpu();
        owner != me
            && g.movable()
            && g.cpus() & (1 << me) != 0
            && g.running() == 0
            && !g.throttled(now)
            && s.cpus[owner].current.as_ref().is_some_and(|t| !t.is_idle())
    })
}

/// Moves a stealable group to CPU `me`; `None` if there is none.
fn steal_group(s: &mut Scheduler, me: usize, now: u64) -> Option<()> {
    let at = stealable(s, me, now)?;
    let group = s.groups[at].clone();
    group.move_to(me);
    group.catch_up(s.cpus[me].min_vruntime);
    Some(())
}

/// A group with a ready thread that CPU `me` may run while the group's own CPU is busy
/// (another thread of a process with several, say): movable, not throttled.
fn thread_stealable(s: &Scheduler, me: usize, now: u64) -> Option<usize> {
    s.groups.iter().position(|g| {
        let owner = g.cpu();
        owner != me
            && g.movable()
            && !g.throttled(now)
            && s.cpus[owner].current.as_ref().is_some_and(|t| !t.is_idle())
            && has_ready(g, |t| t.may_run_on(me))
    })
}

/// Takes a ready thread that CPU `me` may run from a group placed on a busy CPU, which
/// stays placed there.
fn steal_thread(s: &mut Scheduler, me: usize, now: u64) -> Option<Arc<Thread>> {
    let at = thread_stealable(s, me, now)?;
    take_ready(s, at, |t| t.may_run_on(me))
}

/// Whether CPU `me` has a thread to run now (urgent, one it runs in its group's turn,
/// or one it could take from a busy CPU).
fn has_work(s: &Scheduler, me: usize, now: u64) -> bool {
    !s.cpus[me].urgent.is_empty()
        || s.groups.iter().any(|g| !g.throttled(now) && has_ready(g, |t| wants_here(g, t, me)))
        || stealable(s, me, now).is_some()
        || thread_stealable(s, me, now).is_some()
}

fn switch_accounting(s: &mut Scheduler, me: usize, prev: &Arc<Thread>, next: &Arc<Thread>) {
    let now = crate::time::now_ns();
    let here = &mut s.cpus[me];
    here.charge(prev, now);
    prev.set_on_cpu(false);
    here.since_tick = crate::time::ticks();
    next.set_state(ThreadState::Running);
    next.set_on_cpu(true);
    here.current = Some(next.clone());
    *CURRENT[me].lock() = Some(next.clone());
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

/// Called on every timer tick of every CPU (interrupts disabled): CPU 0 wakes sleepers
/// whose deadline has passed; each CPU charges its running thread and asks it to yield
/// when its time slice is over.
pub fn on_tick() {
    let me = percpu::index();
    let now = crate::time::now_ns();
    let woken = {
        let mut s = SCHED.lock();
        let mut woken = Vec::new();
        while me == 0
            && let Some(entry) = s.sleepers.first_entry()
        {
            if entry.key().0 > now {
                break;
            }
            woken.extend(entry.remove().upgrade());
        }
        let here = &mut s.cpus[me];
        // Charge the running thread as it goes, so a CPU limit bites within a tick.
        if let Some(current) = here.current.clone() {
            here.charge(&current, now);
            if current.throttled(now) {
                NEED_RESCHED[me].store(true, Ordering::Relaxed);
            }
        }
        let slice_over = crate::time::ticks().saturating_sub(here.since_tick) >= crate::param::TIMESLICE_TICKS;
        let idle = here.current.as_ref().is_some_and(|c| c.is_idle());
        // Looking for work scans the ready queues: only when the answer matters.
        if (idle && !woken.is_empty()) || ((slice_over || idle) && has_work(&s, me, now)) {
            NEED_RESCHED[me].store(true, Ordering::Relaxed);
        }
        woken
    };
    for t in woken {
        make_ready(t);
    }
}

/// Called when the reschedule IPI arrives (interrupts disabled): the running thread
/// yields at its next chance, and an idle CPU looks for work.
pub fn on_reschedule_ipi() {
    NEED_RESCHED[percpu::index()].store(true, Ordering::Relaxed);
}

/// One line per CPU that runs threads: what it runs, its urgent queue and the groups
/// placed there with ready threads (for the console's `sched` command).
pub fn describe() -> Vec<alloc::string::String> {
    let s = SCHED.lock();
    (0..cpu_count())
        .map(|c| {
            let cpu = &s.cpus[c];
            let running = cpu.current.as_ref().map_or(alloc::string::String::from("-"), |t| {
                alloc::format!("{} (tid {}, {:?})", t.name, t.tid, t.state())
            });
            let ready: usize = s.groups.iter().filter(|g| g.cpu() == c).map(|g| g.ready.lock().len()).sum();
            let groups = s.groups.iter().filter(|g| g.cpu() == c).count();
            alloc::format!(
                "cpu {c}: running {running}; urgent {}; {ready} ready in {groups} group(s); resched {}",
                cpu.urgent.len(),
                NEED_RESCHED[c].load(Ordering::Relaxed)
            )
        })
        .collect()
}

/// Whether this CPU is running its idle thread (safe in interrupt handlers).
pub fn current_is_idle() -> bool {
    SCHED.lock().cpus.get(percpu::index()).and_then(|c| c.current.as_ref()).is_some_and(|c| c.is_idle())
}

/// Whether the running thread should call [`schedule`] at its next chance.
pub fn need_resched() -> bool {
    NEED_RESCHED[percpu::index()].load(Ordering::Relaxed)
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
    let me = percpu::index();
    {
        let mut s = SCHED.lock();
        let here = &mut s.cpus[me];
        let thread = here.current.take().expect("a running thread");
        thread.set_state(ThreadState::Exited);
        here.charge(&thread, crate::time::now_ns());
        thread.set_on_cpu(false);
        here.dead.push(thread);
        let idle = here.idle.clone().expect("an idle thread");
        idle.set_state(ThreadState::Running);
        idle.set_on_cpu(true);
        *CURRENT[me].lock() = Some(idle.clone());
        here.current = Some(idle);
    }
    if cpu_count() > 1 {
        berth_hal::mm::use_kernel_table();
    }
    context::exit_to(IDLE_CONTEXT[me].get().expect("the scheduler is initialized"))
}

/// The idle loop of a CPU: frees exited threads, runs ready ones, halts when there are
/// none (until an interrupt: the tick, a device, or another CPU's reschedule IPI).
pub fn idle_loop() -> ! {
    let me = percpu::index();
    loop {
        context::release_incoming();
        let dead = core::mem::take(&mut SCHED.lock().cpus[me].dead);
        drop(dead);
        berth_hal::cpu::disable_interrupts();
        let busy = has_work(&SCHED.lock(), me, crate::time::now_ns());
        if busy {
            berth_hal::cpu::enable_interrupts();
            schedule();
        } else {
            // Enables interrupts and halts in one step: a wake-up that arrived since
            // the check is taken at once.
            berth_hal::cpu::wait_for_interrupt();
        }
    }
}
