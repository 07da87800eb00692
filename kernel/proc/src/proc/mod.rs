//! Processes: user programs running in containers.
//!
//! A [`Process`] belongs to one container for life and knows only its container's
//! processes: its pid, its parent's pid and every pid it can signal or wait for are
//! numbers in the container's own pid namespace. Its threads are scheduler threads
//! that carry a [`UserThread`].

pub mod exec;
mod exit;
mod fault;
mod fork;
pub mod itimer;
mod loader;
mod signal;
mod thread;

pub use exec::{exec, spawn_exec, spawn_exec_on_terminal, spawn_init};
pub use exit::{WaitFor, exit_group, exit_thread, kill_all, signal_each, wait_child};
pub use fault::{force_segv, page_fault_access, user_exception};
pub use fork::{CloneArgs, clone};
pub use signal::{
    Delivery, Sender, Signals, deliver_pending, raise_sigpipe, send_to_process, send_to_thread, signal_pending,
    sigreturn,
};
pub use thread::{UserPart, UserThread};

use crate::fs::FdTable;
use crate::mm::{AddressSpace, Charge};
use crate::sandbox::Sandbox;
use crate::sched::{self, Thread, WaitQueue};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_vfs::Inode;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use spin::Mutex;

/// Kernel memory each thread of a container costs it while the thread exists: its
/// kernel stack, FPU save area and structures, and the most signals that can queue for
/// it.
pub const THREAD_COST: u64 = berth_hal::mm::KernelStack::SIZE + 4096 + 2048 + signal::QUEUE_COST;
/// What each process costs besides its threads: its structures, signal dispositions
/// and process-wide signal queue. (Its descriptors are charged as they are opened, its
/// page tables as they are made, its memory page by page.)
pub const PROCESS_COST: u64 = 4096 + signal::QUEUE_COST;

/// Processes and user threads alive on the machine (zombies included): what leak
/// checks compare.
static LIVE_PROCESSES: AtomicU64 = AtomicU64::new(0);
static LIVE_THREADS: AtomicU64 = AtomicU64::new(0);

/// Processes and user threads that exist now (not yet freed).
pub fn live_counts() -> (u64, u64) {
    (LIVE_PROCESSES.load(Ordering::Relaxed), LIVE_THREADS.load(Ordering::Relaxed))
}

impl Drop for Process {
    fn drop(&mut self) {
        LIVE_PROCESSES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The process and thread limit of a container that sets none: a quarter of the
/// threads the machine's memory for containers could hold, between 64 and 4096. One
/// container can then not take every thread the machine has room for, and the
/// default stays what a server can bear.
pub fn default_task_limit() -> u32 {
    let threads = crate::mm::container_memory().1 / THREAD_COST;
    (threads / 4).clamp(64, 4096) as u32
}

/// An address space, shared by a process's threads (and by a `vfork` child until it
/// calls `execve`).
pub struct Vm {
    /// The address space.
    pub space: Mutex<AddressSpace>,
}

/// What `execve` records about the program.
#[derive(Debug, Clone, Default)]
pub struct ProgramInfo {
    /// Path of the executable.
    pub exe: String,
    /// Its arguments (any bytes, as Linux takes them).
    pub argv: Vec<Vec<u8>>,
    /// The command name (`comm`, 15 bytes at most).
    pub name: String,
}

/// A process in a container.
pub struct Process {
    /// Its pid in its container.
    pub pid: u32,
    /// What it shares with the rest of its container.
    pub sandbox: Arc<Sandbox>,
    parent: Mutex<Weak<Process>>,
    children: Mutex<Vec<Arc<Process>>>,
    threads: Mutex<Vec<Weak<Thread>>>,
    /// Its address space (`None` once the process has exited).
    pub vm: Mutex<Option<Arc<Vm>>>,
    /// Its descriptor table (shared with CLONE_FILES children).
    pub files: Mutex<Arc<Mutex<FdTable>>>,
    /// Its working directory.
    pub cwd: Mutex<Arc<Inode>>,
    /// Its file creation mask.
    pub umask: AtomicU32,
    /// Its user and group ids (shared by its threads).
    pub creds: Mutex<berth_abi::process::creds::Credentials>,
    /// Signal dispositions and process-wide pending signals.
    pub signals: Signals,
    /// The wait status once every thread has exited (a zombie until reaped).
    exit_status: Mutex<Option<i32>>,
    /// Set when the whole process is to exit (`exit_group`, a fatal signal).
    group_exit: AtomicBool,
    group_exit_status: AtomicU32,
    /// Woken when a child changes state.
    pub child_event: WaitQueue,
    /// Program details for `/proc`.
    pub info: Mutex<ProgramInfo>,
    /// Process group and session.
    pub pgid: AtomicU32,
    /// Session id.
    pub sid: AtomicU32,
    /// Monotonic time it was created, ns.
    pub start_ns: u64,
    /// CPU time of its exited threads, ns.
    pub exited_cpu_ns: AtomicU64,
    /// Parent waiting for this vfork child to exec or exit.
    pub vfork_done: WaitQueue,
    vforking: AtomicBool,
    /// The signal sent to the parent when it exits (usually SIGCHLD).
    pub exit_signal: Option<berth_abi::signal::Signal>,
    /// [`PROCESS_COST`], charged to its container while it exists.
    _charge: Charge,
}

impl Process {
    /// Its parent, if it is still alive.
    pub fn parent(&self) -> Option<Arc<Process>> {
        self.parent.lock().upgrade()
    }

    /// Its parent's pid (0 for a container's first process).
    pub fn ppid(&self) -> u32 {
        self.parent().map_or(0, |p| p.pid)
    }

    /// Its live threads.
    pub fn threads(&self) -> Vec<Arc<Thread>> {
        self.threads.lock().iter().filter_map(Weak::upgrade).collect()
    }
    /// The zombie's wait status, once it has exited.
    pub fn exit_status(&self) -> Option<i32> {
        *self.exit_status.lock()
    }

    /// Whether the process is exiting (all its threads must stop).
    pub fn is_exiting(&self) -> bool {
        self.group_exit.load(Ordering::Acquire)
    }

    /// CPU time used by its threads, live and exited, in ns.
    pub fn cpu_ns(&self) -> u64 {
        self.exited_cpu_ns.load(Ordering::Relaxed) + self.threads().iter().map(|t| t.cpu_ns()).sum::<u64>()
    }

    /// Runs `f` on its address space. Never call this while copying user memory: a
    /// page fault inside would need the same lock.
    pub fn with_vm<R>(&self, f: impl FnOnce(&mut AddressSpace) -> R) -> R {
        let vm = self.vm.lock().clone().expect("a live process has an address space");
        let mut space = vm.space.lock();
        let result = f(&mut space);
        // Other CPUs running this process's threads drop what the change took away.
        space.finish_changes();
        result
    }

    /// Its address space object.
    pub fn vm_arc(&self) -> Option<Arc<Vm>> {
        self.vm.lock().clone()
    }

    /// Its descriptor table.
    pub fn fd_table(&self) -> Arc<Mutex<FdTable>> {
        self.files.lock().clone()
    }
}

/// The running thread's user part; panics in kernel threads.
pub fn current_user() -> Arc<Thread> {
    let t = sched::current();
    assert!(t.user().is_some(), "a system call from a kernel thread");
    t
}

/// The running thread's process.
pub fn current_process() -> Arc<Process> {
    sched::current().user().expect("a user thread").process.clone()
}

pub use crate::fs::fs_errno;

/// The process layer's answers to the file and socket layers below it (registered at
/// boot with [`crate::fs::set_running_process`]).
pub static RUNNING: Running = Running;

/// See [`RUNNING`].
pub struct Running;

impl crate::fs::RunningProcess for Running {
    fn signal_pending(&self) -> bool {
        signal_pending()
    }

    fn raise_sigpipe(&self) {
        raise_sigpipe()
    }

    fn names(&self) -> Option<crate::fs::PathNames> {
        let process = sched::current().user()?.process.clone();
        let cwd = process.cwd.lock().clone();
        let umask = process.umask.load(core::sync::atomic::Ordering::Relaxed);
        Some(crate::fs::PathNames { fs: process.sandbox.fs.clone(), cwd, umask })
    }
}
