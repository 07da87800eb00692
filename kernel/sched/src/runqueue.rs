//! Per-CPU run queues: what each CPU runs, the groups placed on it with ready threads,
//! and how a CPU with nothing of its own takes work from a busy one.
//!
//! Each CPU's queue has its own lock ([`lock`]). A group's ready queue is touched only
//! under the lock of the CPU the group is placed on, and a group moves only while both
//! CPUs' locks are held, so holding a CPU's lock pins the groups placed there. A CPU
//! holds its own lock and at most one other, and takes that one only with [`try_lock`]:
//! two CPUs stealing from each other can never wait on each other. Wake-ups take one
//! lock at a time (see `make_ready`). The rule is checked as locks are taken (a
//! counter per CPU): breaking it stops the kernel with a message rather than risking
//! a deadlock that would show only under load.

use super::{Group, Thread, ThreadState};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_hal::percpu::MAX_CPUS;
use berth_hal::sync::{IrqLock, IrqLockGuard};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What the scheduler keeps for each CPU.
pub(crate) struct RunQueue {
    pub(crate) current: Option<Arc<Thread>>,
    pub(crate) idle: Option<Arc<Thread>>,
    /// Threads woken to service a device, run before any group.
    pub(crate) urgent: VecDeque<Arc<Thread>>,
    /// The virtual time of the group last picked here; never goes down. A group
    /// joining the run here starts no lower.
    pub(crate) min_vruntime: u64,
    /// Exited threads whose stacks this CPU's idle thread frees.
    pub(crate) dead: Vec<Arc<Thread>>,
    /// When the current thread started running (ns).
    pub(crate) since: u64,
    /// Tick count when the current thread started running.
    pub(crate) since_tick: u64,
    /// Time this CPU ran threads other than its idle thread (ns).
    pub(crate) busy_ns: u64,
    /// Groups placed on this CPU with threads in their ready queues.
    pub(crate) groups: Vec<Arc<Group>>,
}

/// Each CPU's run queue, by CPU index.
static RQ: [IrqLock<RunQueue>; MAX_CPUS] = [const { IrqLock::new(RunQueue::new()) }; MAX_CPUS];

/// How many run queue locks each CPU holds.
static HELD: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

/// A held run queue lock; counted in [`HELD`] until dropped.
pub(crate) struct RqGuard {
    guard: IrqLockGuard<'static, RunQueue>,
    /// The CPU holding it (which cannot change while it is held: interrupts are off
    /// and nothing switches threads holding a run queue lock).
    holder: usize,
}

impl core::ops::Deref for RqGuard {
    type Target = RunQueue;
    fn deref(&self) -> &RunQueue {
        &self.guard
    }
}

impl core::ops::DerefMut for RqGuard {
    fn deref_mut(&mut self) -> &mut RunQueue {
        &mut self.guard
    }
}

impl Drop for RqGuard {
    fn drop(&mut self) {
        HELD[self.holder].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Locks CPU `cpu`'s run queue, waiting for it: only while holding no other.
pub(crate) fn lock(cpu: usize) -> RqGuard {
    // Checked before waiting, which is where breaking the rule could deadlock. (Kernel
    // code does not change CPUs between here and the lock; an interrupt handler that
    // takes a run queue lock in between gives it back before it returns.)
    let holder = berth_hal::percpu::index();
    assert!(
        HELD[holder].load(Ordering::Relaxed) == 0,
        "CPU {holder} would wait for run queue {cpu} holding another (see runqueue.rs)"
    );
    let guard = RQ[cpu].lock();
    HELD[holder].fetch_add(1, Ordering::Relaxed);
    RqGuard { guard, holder }
}

/// Locks CPU `cpu`'s run queue if it is free (holding at most one other).
pub(crate) fn try_lock(cpu: usize) -> Option<RqGuard> {
    let guard = RQ[cpu].try_lock()?;
    let holder = berth_hal::percpu::index();
    let held = HELD[holder].fetch_add(1, Ordering::Relaxed);
    assert!(held <= 1, "CPU {holder} took a third run queue lock (see runqueue.rs)");
    Some(RqGuard { guard, holder })
}

/// Whether each CPU runs its idle thread: written under its run queue's lock, read
/// without it by wakers choosing a CPU to kick (a hint, but exact for the CPU itself).
pub(crate) static IDLE: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// How many CPUs run the scheduler (CPU indices below this).
pub(crate) static ACTIVE_CPUS: AtomicUsize = AtomicUsize::new(0);

impl RunQueue {
    const fn new() -> RunQueue {
        RunQueue {
            current: None,
            idle: None,
            urgent: VecDeque::new(),
            min_vruntime: 0,
            dead: Vec::new(),
            since: 0,
            since_tick: 0,
            busy_ns: 0,
            groups: Vec::new(),
        }
    }

    /// Charges `thread` (running here) the time since `since`, and counts it as this
    /// CPU's busy time unless it is the idle thread.
    pub(crate) fn charge(&mut self, thread: &Thread, now: u64) {
        let ran = now.saturating_sub(self.since);
        thread.charge_cpu(ran, now);
        if !thread.is_idle() {
            self.busy_ns += ran;
        }
        self.since = now;
    }

    /// Whether it runs something other than its idle thread.
    fn busy(&self) -> bool {
        self.current.as_ref().is_some_and(|t| !t.is_idle())
    }

    /// Queues a ready thread of a group placed here; a group that had none ready
    /// joins the run at no less than this CPU's least virtual time (sleeping earns no
    /// credit).
    pub(crate) fn enqueue(&mut self, thread: Arc<Thread>) {
        let group = thread.group().clone();
        group.ready.lock().push_back(thread);
        if !group.listed.swap(true, Ordering::Relaxed) {
            group.catch_up(self.min_vruntime);
            self.groups.push(group);
        }
    }

    /// Takes the first ready thread that `wanted` accepts off the queue of group `at`
    /// in the list, dropping entries that went stale on the way (threads that exited,
    /// or blocked again, since they were queued); a group left with none leaves the
    /// list.
    fn take_ready(&mut self, at: usize, wanted: impl Fn(&Thread) -> bool) -> Option<Arc<Thread>> {
        let group = self.groups[at].clone();
        let (thread, now_empty) = {
            let mut ready = group.ready.lock();
            ready.retain(|t| t.state() == ThreadState::Ready);
            let thread = ready.iter().position(|t| wanted(t)).and_then(|i| ready.remove(i));
            (thread, ready.is_empty())
        };
        if now_empty {
            self.groups.swap_remove(at);
            group.listed.store(false, Ordering::Relaxed);
        }
        thread
    }

    /// Whether CPU `me` (this queue's) has a thread of its own to run: urgent, or of a
    /// group placed here that is not throttled.
    fn has_own_work(&self, me: usize, now: u64) -> bool {
        !self.urgent.is_empty() || self.groups.iter().any(|g| !g.throttled(now) && has_ready(g, |t| t.may_run_on(me)))
    }

    /// A group of this queue (CPU `owner`'s) that CPU `me` may take whole: ready and
    /// not throttled, movable and allowed there, with none of its threads on a CPU,
    /// while this CPU is busy running something else.
    fn stealable_group(&self, owner: usize, me: usize, now: u64) -> Option<usize> {
        if owner == me || !self.busy() {
            return None;
        }
        self.groups
            .iter()
            .position(|g| g.movable() && g.cpus() & (1 << me) != 0 && g.running() == 0 && !g.throttled(now))
    }

    /// A group of this queue (CPU `owner`'s) with a ready thread CPU `me` may take
    /// (movable, not throttled): any it may run while this CPU is busy, or one that may
    /// not run here at all (its affinity says so).
    fn stealable_thread(&self, owner: usize, me: usize, now: u64) -> Option<usize> {
        if owner == me {
            return None;
        }
        let busy = self.busy();
        self.groups.iter().position(|g| {
            g.movable() && !g.throttled(now) && has_ready(g, |t| t.may_run_on(me) && (busy || !t.may_run_on(owner)))
        })
    }

    /// Whether CPU `me` could take work from this queue (CPU `owner`'s).
    fn has_work_for(&self, owner: usize, me: usize, now: u64) -> bool {
        self.stealable_group(owner, me, now).is_some() || self.stealable_thread(owner, me, now).is_some()
    }
}

/// Whether `group` has a ready thread that `wanted` accepts.
fn has_ready(group: &Group, wanted: impl Fn(&Thread) -> bool) -> bool {
    group.ready.lock().iter().any(|t| t.state() == ThreadState::Ready && wanted(t))
}

/// How many CPUs run threads.
pub(crate) fn cpu_count() -> usize {
    ACTIVE_CPUS.load(Ordering::Acquire).max(1)
}

/// Locks the run queue of the CPU `group` is placed on, which cannot change while the
/// lock is held; returns the CPU too.
pub(crate) fn lock_group_cpu(group: &Group) -> (usize, RqGuard) {
    loop {
        let cpu = group.cpu();
        let rq = lock(cpu);
        if group.cpu() == cpu {
            return (cpu, rq);
        }
    }
}

/// The next thread to run on CPU `me` (whose queue `rq` is), taken off its queue: an
/// urgent one, else a thread of the group with the least virtual time among those
/// placed here with a thread that may run here and not throttled, else one taken
/// from a busy CPU.
pub(crate) fn pick_next(rq: &mut RunQueue, me: usize, now: u64) -> Option<Arc<Thread>> {
    while let Some(t) = rq.urgent.pop_front() {
        if t.state() == ThreadState::Ready {
            return Some(t);
        }
    }
    loop {
        let found = rq
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.throttled(now) && has_ready(g, |t| t.may_run_on(me)))
            .min_by_key(|(_, g)| g.vruntime())
            .map(|(at, g)| (at, g.vruntime()));
        let Some((at, vruntime)) = found else { break };
        let thread = rq.take_ready(at, |t| t.may_run_on(me));
        rq.min_vruntime = rq.min_vruntime.max(vruntime);
        if thread.is_some() {
            return thread;
        }
    }
    steal(rq, me, now)
}

/// Takes work from another CPU for CPU `me`: a whole group from a busy CPU (which then
/// runs here), else a single ready thread (its group stays placed where it is). Other
/// CPUs' locks are only tried: one held now is passed over until the next look.
fn steal(rq: &mut RunQueue, me: usize, now: u64) -> Option<Arc<Thread>> {
    let n = cpu_count();
    for owner in (1..n).map(|i| (me + i) % n) {
        let Some(mut victim) = try_lock(owner) else { continue };
        if let Some(at) = victim.stealable_group(owner, me, now) {
            let group = victim.groups.swap_remove(at);
            group.move_to(me);
            group.catch_up(rq.min_vruntime);
            rq.groups.push(group);
            drop(victim);
            let at = rq.groups.len() - 1;
            if let Some(thread) = rq.take_ready(at, |t| t.may_run_on(me)) {
                return Some(thread);
            }
            continue;
        }
        if let Some(at) = victim.stealable_thread(owner, me, now) {
            let busy = victim.busy();
            return victim.take_ready(at, |t| t.may_run_on(me) && (busy || !t.may_run_on(owner)));
        }
    }
    None
}

/// Whether CPU `me` has a thread to run now (urgent, of its own, or one it could take
/// from another CPU), holding its own queue's lock: other CPUs' locks are only tried.
pub(crate) fn has_work_locked(rq: &RunQueue, me: usize, now: u64) -> bool {
    rq.has_own_work(me, now)
        || (0..cpu_count()).any(|o| o != me && try_lock(o).is_some_and(|v| v.has_work_for(o, me, now)))
}

/// Whether CPU `me` has a thread to run now, holding no run queue lock: each queue is
/// locked in turn, so work is never missed for a lock that happened to be held.
pub(crate) fn has_work(me: usize, now: u64) -> bool {
    let own = lock(me).has_own_work(me, now);
    own || (0..cpu_count()).any(|o| o != me && lock(o).has_work_for(o, me, now))
}
