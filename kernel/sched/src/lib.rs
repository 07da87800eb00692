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
//! one that may not run on its group's CPU is taken by a CPU that may. The kernel's
//! group stays on CPU 0, where device interrupts arrive. Threads that service devices
//! are woken "urgently" and run before any group.
//!
//! Each CPU's run queue has its own lock (`runqueue::lock`; the rules are in that
//! module). Waking a thread takes the lock of the CPU it last ran on (to tell whether
//! it is still there, on its way off), then, if it must be queued, the lock of its
//! group's CPU: one at a time. A thread handed to a CPU while the CPU that ran it is
//! still switching away is waited for in the context switch (`berth_hal::context`),
//! which marks a thread stopped only once it is saved.
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
mod runqueue;
mod sleep_mutex;
mod thread;
mod wait;

pub use group::{DEFAULT_WEIGHT, Group};
pub use sleep_mutex::{SleepMutex, SleepMutexGuard};
pub use thread::{Thread, ThreadExtension, ThreadState, Tid};
pub use wait::{WaitError, WaitQueue, WakeRelay, sleep, wait_any};

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_hal::context::{self, ThreadContext};
use berth_hal::percpu::{self, MAX_CPUS};
use berth_hal::sync::IrqLock;
use core::sync::atomic::{AtomicBool, Ordering};
use runqueue::{ACTIVE_CPUS, IDLE, RunQueue, lock_group_cpu};

/// Threads sleeping until a deadline (ns), keyed by (deadline, tid); CPU 0's tick
/// wakes them.
static SLEEPERS: IrqLock<BTreeMap<(u64, Tid), Weak<Thread>>> = IrqLock::new(BTreeMap::new());

/// The running thread of each CPU, mirrored from the scheduler so that finding it
/// takes a plain spin lock of its own CPU rather than the scheduler's lock. Written
/// only while switching threads (interrupts off); interrupt handlers never read it.
static CURRENT: [spin::Mutex<Option<Arc<Thread>>>; MAX_CPUS] = [const { spin::Mutex::new(None) }; MAX_CPUS];

/// Set when a CPU's running user thread should give up the CPU (its time slice is
/// over, or the reschedule IPI came).
static NEED_RESCHED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// Each CPU's boot context, which is its idle thread.
static IDLE_CONTEXT: [spin::Once<&'static ThreadContext>; MAX_CPUS] = [const { spin::Once::new() }; MAX_CPUS];

/// Makes the running boot thread CPU 0's idle thread.
pub fn init() {
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
    idle.set_cpu(cpu);
    let mut rq = runqueue::lock(cpu);
    rq.current = Some(idle.clone());
    rq.idle = Some(idle.clone());
    rq.since = crate::time::now_ns();
    IDLE[cpu].store(true, Ordering::Relaxed);
    *CURRENT[cpu].lock() = Some(idle);
}

/// Time each CPU that runs threads has spent running them (not idle), ns.
pub fn busy_ns() -> Vec<u64> {
    (0..cpu_count()).map(|c| runqueue::lock(c).busy_ns).collect()
}

/// How many CPUs run threads.
pub fn cpu_count() -> usize {
    runqueue::cpu_count()
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
    if mark_ready(&thread) {
        queue_ready(thread);
    }
}

/// Marks a blocked or new thread ready, under the lock of the CPU it last ran on (the
/// one a CPU switching away from it holds); true if it is to be queued now, false if
/// it was neither, or is still on its CPU (which queues it, or keeps running it, when
/// it switches).
fn mark_ready(thread: &Thread) -> bool {
    loop {
        let cpu = thread.cpu();
        let _rq = runqueue::lock(cpu);
        // A blocked thread does not move; one that ran elsewhere meanwhile is not
        // blocked any more, but look again under the right lock.
        if thread.cpu() != cpu {
            continue;
        }
        return (thread.set_state_if(ThreadState::Blocked, ThreadState::Ready)
            || thread.set_state_if(ThreadState::New, ThreadState::Ready))
            && !thread.on_cpu();
    }
}

/// Queues a ready thread that is on no CPU in its group's queue, and kicks a CPU to
/// run it.
fn queue_ready(thread: Arc<Thread>) {
    let kick = {
        let (cpu, mut rq) = lock_group_cpu(thread.group());
        rq.enqueue(thread);
        cpu_to_kick(cpu)
    };
    if let Some(cpu) = kick {
        berth_hal::smp::send_reschedule(cpu);
    }
}

/// Which CPU to send the reschedule IPI after work was queued for `cpu` (whose lock
/// the caller holds, so its idle flag is exact): `cpu` itself if it is idle, else an
/// idle CPU that may take the work (none if every CPU is busy: the timer shares them
/// out).
fn cpu_to_kick(cpu: usize) -> Option<usize> {
    let me = percpu::index();
    let idle = |c: usize| IDLE[c].load(Ordering::Relaxed);
    if idle(cpu) {
        return (cpu != me).then_some(cpu);
    }
    (0..cpu_count()).find(|&c| c != me && c != cpu && idle(c))
}

/// Runs a woken thread before any group's and asks the running thread to yield at its
/// next chance: for threads that service devices, whose latency matters more than
/// fairness (an interrupt handler's bottom half).
pub fn make_ready_urgent(thread: Arc<Thread>) {
    if !mark_ready(&thread) {
        return;
    }
    let cpu = {
        let (cpu, mut rq) = lock_group_cpu(thread.group());
        rq.urgent.push_back(thread);
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
        let (prev, next, elsewhere) = {
            let mut rq = runqueue::lock(me);
            let prev = rq.current.clone().expect("the scheduler is initialized");
            let runnable = !prev.is_idle()
                && (prev.set_state_if(ThreadState::Running, ThreadState::Ready) || prev.state() == ThreadState::Ready);
            // A runnable thread of a group placed elsewhere (one this CPU took) goes back
            // to its group's queue once this lock is dropped (one lock at a time).
            let mut elsewhere = None;
            if runnable {
                if prev.group().cpu() == me {
                    rq.enqueue(prev.clone());
                } else {
                    elsewhere = Some(prev.clone());
                }
            }
            let next = match runqueue::pick_next(&mut rq, me, crate::time::now_ns()) {
                Some(next) => next,
                // Nothing else to run here: a taken thread that may stay just runs on.
                None if elsewhere.as_ref().is_some_and(|t| t.may_run_on(me)) => {
                    prev.set_state(ThreadState::Running);
                    NEED_RESCHED[me].store(false, Ordering::Relaxed);
                    return;
                }
                None if prev.is_idle() => return,
                None => rq.idle.clone().expect("an idle thread"),
            };
            if Arc::ptr_eq(&prev, &next) {
                next.set_state(ThreadState::Running);
                NEED_RESCHED[me].store(false, Ordering::Relaxed);
                return;
            }
            switch_accounting(&mut rq, me, &prev, &next);
            (prev, next, elsewhere)
        };
        if let Some(thread) = elsewhere {
            queue_ready(thread);
        }
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

/// Charges `prev` and makes `next` CPU `me`'s running thread (under its queue's lock).
fn switch_accounting(rq: &mut RunQueue, me: usize, prev: &Arc<Thread>, next: &Arc<Thread>) {
    let now = crate::time::now_ns();
    rq.charge(prev, now);
    prev.set_on_cpu(false);
    rq.since_tick = crate::time::ticks();
    next.set_state(ThreadState::Running);
    next.set_cpu(me);
    next.set_on_cpu(true);
    IDLE[me].store(next.is_idle(), Ordering::Relaxed);
    rq.current = Some(next.clone());
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
    let mut woken = Vec::new();
    if me == 0 {
        let mut sleepers = SLEEPERS.lock();
        while let Some(entry) = sleepers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            woken.extend(entry.remove().upgrade());
        }
    }
    {
        let mut rq = runqueue::lock(me);
        // Charge the running thread as it goes, so a CPU limit bites within a tick.
        if let Some(current) = rq.current.clone() {
            rq.charge(&current, now);
            if current.throttled(now) {
                NEED_RESCHED[me].store(true, Ordering::Relaxed);
            }
        }
        let slice_over = crate::time::ticks().saturating_sub(rq.since_tick) >= crate::param::TIMESLICE_TICKS;
        let idle = IDLE[me].load(Ordering::Relaxed);
        // Looking for work scans the ready queues: only when the answer matters.
        if (idle && !woken.is_empty()) || ((slice_over || idle) && runqueue::has_work_locked(&rq, me, now)) {
            NEED_RESCHED[me].store(true, Ordering::Relaxed);
        }
    }
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
    (0..cpu_count())
        .map(|c| {
            let rq = runqueue::lock(c);
            let running = rq.current.as_ref().map_or(alloc::string::String::from("-"), |t| {
                alloc::format!("{} (tid {}, {:?})", t.name, t.tid, t.state())
            });
            let ready: usize = rq.groups.iter().map(|g| g.ready.lock().len()).sum();
            alloc::format!(
                "cpu {c}: running {running}; urgent {}; {ready} ready in {} group(s); resched {}",
                rq.urgent.len(),
                rq.groups.len(),
                NEED_RESCHED[c].load(Ordering::Relaxed)
            )
        })
        .collect()
}

/// Whether this CPU is running its idle thread (safe in interrupt handlers).
pub fn current_is_idle() -> bool {
    IDLE[percpu::index()].load(Ordering::Relaxed)
}

/// Whether the running thread should call [`schedule`] at its next chance.
pub fn need_resched() -> bool {
    NEED_RESCHED[percpu::index()].load(Ordering::Relaxed)
}

/// Registers the current thread to be woken at `deadline` (ns on the monotonic clock).
pub(crate) fn sleep_until(thread: &Arc<Thread>, deadline: u64) {
    SLEEPERS.lock().insert((deadline, thread.tid), Arc::downgrade(thread));
}

/// Cancels a wake-up registered by [`sleep_until`].
pub(crate) fn cancel_sleep(thread: &Arc<Thread>, deadline: u64) {
    SLEEPERS.lock().remove(&(deadline, thread.tid));
}

/// Ends the running thread. It must hold no references to itself on its stack (the
/// caller returns up to the trap boundary first), because its stack is abandoned.
pub fn exit_current() -> ! {
    berth_hal::cpu::disable_interrupts();
    let me = percpu::index();
    {
        let mut rq = runqueue::lock(me);
        let thread = rq.current.take().expect("a running thread");
        thread.set_state(ThreadState::Exited);
        rq.charge(&thread, crate::time::now_ns());
        thread.set_on_cpu(false);
        rq.dead.push(thread);
        let idle = rq.idle.clone().expect("an idle thread");
        idle.set_state(ThreadState::Running);
        idle.set_on_cpu(true);
        IDLE[me].store(true, Ordering::Relaxed);
        *CURRENT[me].lock() = Some(idle.clone());
        rq.current = Some(idle);
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
        let dead = core::mem::take(&mut runqueue::lock(me).dead);
        drop(dead);
        berth_hal::cpu::disable_interrupts();
        let busy = runqueue::has_work(me, crate::time::now_ns());
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
