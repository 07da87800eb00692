//! Scheduling groups: the CPU is shared between groups in proportion to their weights,
//! then between the threads of a group in turn.
//!
//! Every container is a group (weight 1024 unless `--cpu-shares` says otherwise), and
//! the kernel's own threads are one more. A group's virtual time grows as its threads
//! run, by the time used divided by its weight; the scheduler runs a thread of the
//! group whose virtual time is least (as Linux's CFS does for task groups), so a
//! container with thousands of runnable threads gets the same share as one with a
//! single thread. A group that wakes after sleeping starts at the least virtual time of
//! those running, not at its old one, so sleeping earns no burst later.
//!
//! A group may also have a bandwidth limit (`--cpus`): at most so much CPU time per
//! 100 ms period; when it is used up, the group's threads wait for the next period.
//! The arithmetic of both is `berth-cpu`'s, tested on the host.
//!
//! A group's bandwidth is summed over every CPU its threads run on (`--cpus 1.5` is a
//! CPU and a half's time per period).
//!
//! Each group is placed on one CPU at a time (see the crate's comment): a new one on
//! the CPU with the fewest groups among those it may use, the kernel's on CPU 0 for
//! good.

use super::Thread;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use berth_cpu::{Bandwidth, FairShare};
use berth_hal::percpu::MAX_CPUS;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Groups placed on each CPU.
static PLACED: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

/// The weight of a group with the default share (Docker's `--cpu-shares` default).
pub const DEFAULT_WEIGHT: u32 = berth_cpu::BASE_WEIGHT;
/// The kernel's own threads (the network, the control agent) weigh as four containers.
const KERNEL_WEIGHT: u32 = 4 * DEFAULT_WEIGHT;

/// A set of threads that shares the CPU with other groups as one (the rules are
/// `berth-cpu`'s).
pub struct Group {
    share: FairShare,
    /// CPU time used by its threads (ns).
    cpu_ns: AtomicU64,
    bandwidth: Bandwidth,
    /// Its threads that are ready to run, in turn. Touched only under the run queue
    /// lock of the CPU it is placed on.
    pub(super) ready: spin::Mutex<VecDeque<Arc<Thread>>>,
    /// Whether it is in its CPU's list of groups with ready threads.
    pub(super) listed: AtomicBool,
    /// The CPU its threads run on.
    cpu: AtomicUsize,
    /// Its threads on a CPU now (changed under the run queue lock of the CPU each runs
    /// on; a hint for whether the group is worth moving).
    running: AtomicUsize,
    /// Whether it may move to another CPU.
    movable: bool,
    /// The CPUs its threads may run on (bit `i`: CPU `i`; `--cpuset-cpus`).
    cpus: u64,
}

impl Group {
    /// A group of `weight` (relative to [`DEFAULT_WEIGHT`]; at least 2) that may use
    /// `cpu_millis` thousandths of a CPU in all (0: no limit), on the CPUs in `cpus`
    /// (bit `i`: CPU `i`; those that run threads, or all of them if none does).
    pub fn new(weight: u32, cpu_millis: u32, cpus: u64) -> Arc<Group> {
        let online = crate::online_mask();
        let cpus = if cpus & online == 0 { online } else { cpus & online };
        let cpu = (0..crate::cpu_count())
            .filter(|c| cpus & (1 << c) != 0)
            .min_by_key(|&c| PLACED[c].load(Ordering::Relaxed))
            .unwrap_or(0);
        Group::on_cpu(weight, cpu_millis, cpu, true, cpus)
    }

    fn on_cpu(weight: u32, cpu_millis: u32, cpu: usize, movable: bool, cpus: u64) -> Arc<Group> {
        PLACED[cpu].fetch_add(1, Ordering::Relaxed);
        Arc::new(Group {
            share: FairShare::new(weight),
            cpu_ns: AtomicU64::new(0),
            bandwidth: Bandwidth::new(cpu_millis),
            ready: spin::Mutex::new(VecDeque::new()),
            listed: AtomicBool::new(false),
            cpu: AtomicUsize::new(cpu),
            running: AtomicUsize::new(0),
            movable,
            cpus,
        })
    }

    /// The group of the kernel's own threads, on CPU 0.
    pub fn kernel() -> Arc<Group> {
        static KERNEL: spin::Once<Arc<Group>> = spin::Once::new();
        KERNEL.call_once(|| Group::on_cpu(KERNEL_WEIGHT, 0, 0, false, 1)).clone()
    }

    /// The CPU its threads run on now.
    pub fn cpu(&self) -> usize {
        self.cpu.load(Ordering::Relaxed)
    }

    /// Whether it may move to another CPU.
    pub(super) fn movable(&self) -> bool {
        self.movable
    }

    /// The CPUs its threads may run on (bit `i`: CPU `i`).
    pub fn cpus(&self) -> u64 {
        self.cpus
    }

    /// How many of its threads are on a CPU now.
    pub(super) fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Counts one of its threads going on (`true`) or off a CPU.
    pub(super) fn note_running(&self, on: bool) {
        if on {
            self.running.fetch_add(1, Ordering::Relaxed);
        } else {
            self.running.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Moves it to CPU `cpu`, holding the run queue locks of both CPUs.
    pub(super) fn move_to(&self, cpu: usize) {
        let old = self.cpu.swap(cpu, Ordering::Relaxed);
        PLACED[old].fetch_sub(1, Ordering::Relaxed);
        PLACED[cpu].fetch_add(1, Ordering::Relaxed);
    }

    /// CPU time its threads have used, ns.
    pub fn cpu_ns(&self) -> u64 {
        self.cpu_ns.load(Ordering::Relaxed)
    }

    /// Its virtual time (ns, scaled by weight).
    pub(super) fn vruntime(&self) -> u64 {
        self.share.vruntime()
    }

    /// Moves its virtual time up to at least `floor` (a group rejoining the run).
    pub(super) fn catch_up(&self, floor: u64) {
        self.share.catch_up(floor);
    }

    /// Charges `ns` of CPU time used by one of its threads, at monotonic time `now`.
    pub(super) fn charge(&self, ns: u64, now: u64) {
        self.cpu_ns.fetch_add(ns, Ordering::Relaxed);
        self.share.charge(ns);
        self.bandwidth.charge(ns, now);
    }

    /// Whether it has used up its bandwidth for the current period.
    pub fn throttled(&self, now: u64) -> bool {
        self.bandwidth.throttled(now)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        PLACED[self.cpu()].fetch_sub(1, Ordering::Relaxed);
    }
}
