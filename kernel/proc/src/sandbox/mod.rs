//! Sandboxes: what a container's processes share.
//!
//! A process lives in one [`Sandbox`] for life: its root file system, the memory
//! counter that enforces the limit, the port space, the pid namespace (the first
//! process is pid 1), the log its output goes to, its terminal or standard input pipe
//! and the scheduling group its threads share the CPU as. Every pid a process names is
//! looked up in its own sandbox, so it reaches no other.
//!
//! A sandbox knows nothing of containers: the container that owns one (its life cycle,
//! its configuration, its image) sits in the layer above and hears of the first
//! process's exit through [`SandboxOwner`].

pub mod files;
mod log;
mod pids;

pub use log::{LogBuffer, LogEntry, Stream};
pub use pids::PID_MAX;

use crate::fs::OpenFile;
use crate::mm::MemoryCounter;
use crate::proc::{self, Process};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::signal::{SIGKILL, SigInfo, Signal};
use berth_vfs::Filesystem;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use pids::PidNamespace;
use spin::Mutex;

/// Whoever owns a sandbox, told when its first process has exited.
pub trait SandboxOwner: Send + Sync {
    /// The first process exited with wait status `status`; every other process of the
    /// sandbox has been sent SIGKILL.
    fn init_exited(&self, status: i32);
}

/// What a sandbox is made of (see [`Sandbox::new`]).
pub struct Parts {
    /// Its name, for messages.
    pub name: String,
    /// The host name its processes see.
    pub hostname: String,
    /// Its file system (a new one, or the one an earlier run of its container left).
    pub fs: Arc<Filesystem>,
    /// Memory charged to it, with its limit.
    pub memory: Arc<MemoryCounter>,
    /// Its port space.
    pub net: Arc<crate::net::Namespace>,
    /// Its output.
    pub log: LogBuffer,
    /// The most processes and threads it may have at once.
    pub pid_limit: u32,
    /// It gets a terminal (`docker run -t`).
    pub tty: bool,
    /// Without a terminal: its first process reads a pipe the owner writes
    /// (`docker run -i`), instead of `/dev/null`.
    pub stdin_pipe: bool,
    /// The scheduling group its threads run in.
    pub sched_group: Arc<crate::sched::Group>,
}

/// What a container's processes share.
pub struct Sandbox {
    /// Its name, for messages.
    pub name: String,
    /// The host name its processes see.
    pub hostname: String,
    /// Its file system.
    pub fs: Arc<Filesystem>,
    /// Memory charged to it (pages, file data, socket buffers), with its limit.
    pub memory: Arc<MemoryCounter>,
    /// Its port space.
    pub net: Arc<crate::net::Namespace>,
    /// Its output.
    pub log: LogBuffer,
    /// With a terminal: it, which its first process's standard streams are.
    pub terminal: Option<Arc<files::Terminal>>,
    /// The scheduling group its threads share the CPU as (its weight and bandwidth).
    pub sched_group: Arc<crate::sched::Group>,
    pids: Mutex<PidNamespace>,
    pid_limit: u32,
    /// With a stdin pipe: the read end its first process gets as standard input (taken
    /// at start), and the write end the owner feeds (dropped to close it).
    stdin: Mutex<StdinPipe>,
    init: Mutex<Weak<Process>>,
    /// Monotonic time of its first process's first system call (0 before), which
    /// marks when its program started running.
    first_syscall_ns: AtomicU64,
    oom_killed: AtomicBool,
    /// Paused (`docker pause`): its threads wait on their way back to user mode.
    frozen: AtomicBool,
    /// Woken when it is thawed.
    thawed: crate::sched::WaitQueue,
    owner: Weak<dyn SandboxOwner>,
}

impl Sandbox {
    /// A sandbox of `parts`, owned by `owner`; no process runs in it yet.
    pub fn new(parts: Parts, owner: Weak<dyn SandboxOwner>) -> Arc<Sandbox> {
        let stdin = if parts.stdin_pipe && !parts.tty { stdin_pipe(&parts.memory) } else { (None, None) };
        Arc::new_cyclic(|me| Sandbox {
            terminal: parts.tty.then(|| Arc::new(files::Terminal::new(me.clone()))),
            name: parts.name,
            hostname: parts.hostname,
            fs: parts.fs,
            memory: parts.memory,
            net: parts.net,
            log: parts.log,
            sched_group: parts.sched_group,
            pids: Mutex::new(PidNamespace::new(parts.pid_limit)),
            pid_limit: parts.pid_limit,
            stdin: Mutex::new(stdin),
            init: Mutex::new(Weak::new()),
            first_syscall_ns: AtomicU64::new(0),
            oom_killed: AtomicBool::new(false),
            frozen: AtomicBool::new(false),
            thawed: crate::sched::WaitQueue::new(),
            owner,
        })
    }

    /// The standard input its first process starts with, if it has a pipe of its own
    /// (taken once, at start).
    pub fn take_stdin_reader(&self) -> Option<Arc<OpenFile>> {
        self.stdin.lock().0.take()
    }

    /// Writes to its standard input (blocking while the pipe is full; typed at its
    /// terminal if it has one); EPIPE once closed.
    pub fn write_stdin(&self, data: &[u8]) -> Result<usize, Errno> {
        if let Some(terminal) = &self.terminal {
            terminal.type_input(data);
            return Ok(data.len());
        }
        let writer = self.stdin.lock().1.clone().ok_or(Errno::EPIPE)?;
        writer.ops.write(&writer, data)
    }

    /// Closes its standard input: its program reads end of file.
    pub fn close_stdin(&self) {
        if let Some(terminal) = &self.terminal {
            terminal.hang_up();
        }
        self.stdin.lock().1 = None;
    }

    /// Its first process, while it lives.
    pub fn init(&self) -> Option<Arc<Process>> {
        self.init.lock().upgrade()
    }

    pub(crate) fn set_init(&self, init: &Arc<Process>) {
        *self.init.lock() = Arc::downgrade(init);
    }

    /// Pauses it, as the cgroup freezer does for `docker pause`: each of its threads
    /// stops on its way back to user mode (within a tick for one running), unseen by
    /// its programs (no signal), until [`Sandbox::thaw`]. A thread blocked in the
    /// kernel stays there until its call completes. SIGKILL still ends it.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::Release);
    }

    /// Lets its threads run again.
    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::Release);
        self.thawed.wake_all();
    }

    /// Whether it is paused.
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Acquire)
    }

    /// Blocks the calling thread while the sandbox is paused, or until `stop` says so.
    pub fn wait_thawed(&self, stop: impl Fn() -> bool) {
        let _ = self.thawed.wait_until(|| (!self.is_frozen() || stop()).then_some(()), None, None);
    }

    /// Whether the kernel killed one of its processes for running out of memory.
    pub fn oom_killed(&self) -> bool {
        self.oom_killed.load(Ordering::Relaxed)
    }

    pub(crate) fn note_oom_kill(&self) {
        self.oom_killed.store(true, Ordering::Relaxed);
    }

    /// The most processes and threads it may have at once.
    pub fn pid_limit(&self) -> u32 {
        self.pid_limit
    }

    /// Allocates a pid (or thread id); EAGAIN at the process limit.
    pub fn alloc_pid(&self) -> Result<u32, Errno> {
        self.pids.lock().alloc().ok_or(Errno::EAGAIN)
    }

    /// Returns a pid to the namespace.
    pub fn release_pid(&self, pid: u32) {
        self.pids.lock().release(pid);
    }

    /// Records a process under its pid.
    pub fn register(&self, process: &Arc<Process>) {
        self.pids.lock().register(process.pid, process);
    }

    /// The process with `pid` in this sandbox.
    pub fn process(&self, pid: u32) -> Option<Arc<Process>> {
        self.pids.lock().get(pid)
    }

    /// All its processes.
    pub fn processes(&self) -> Vec<Arc<Process>> {
        self.pids.lock().all()
    }

    /// Tasks (processes and threads) counted against the limit.
    pub fn task_count(&self) -> usize {
        self.pids.lock().in_use()
    }

    /// CPU time used by its processes, ns.
    pub fn cpu_ns(&self) -> u64 {
        self.sched_group.cpu_ns()
    }

    /// Notes a system call by its first process (the first one marks its start).
    pub fn note_init_syscall(&self) {
        if self.first_syscall_ns.load(Ordering::Relaxed) == 0 {
            self.first_syscall_ns.store(crate::time::now_ns(), Ordering::Relaxed);
        }
    }

    /// Monotonic time its program made its first system call (0 if not yet).
    pub fn first_syscall_ns(&self) -> u64 {
        self.first_syscall_ns.load(Ordering::Relaxed)
    }

    /// Sends `sig` from outside to its first process, as `docker kill` and `docker
    /// stop` do. Like a pid namespace's init, that process takes only the signals it
    /// handles, and `SIGKILL`; when it exits, the rest of the sandbox is killed.
    pub fn signal_init(&self, sig: Signal) {
        if let Some(init) = self.process(1) {
            proc::send_to_process(&init, sig, SigInfo::kernel(sig.number()), proc::Sender::Outside);
        }
    }

    /// Its first process exited with wait status `status`: kills every other process
    /// and tells the owner.
    pub(crate) fn init_exited(&self, status: i32) {
        proc::kill_all(self, |p| p.pid != 1, SIGKILL);
        if let Some(owner) = self.owner.upgrade() {
            owner.init_exited(status);
        }
    }
}

/// The two ends of a standard input pipe: (read end, write end).
type StdinPipe = (Option<Arc<OpenFile>>, Option<Arc<OpenFile>>);

/// A pipe for a sandbox's standard input.
fn stdin_pipe(memory: &Arc<MemoryCounter>) -> StdinPipe {
    let (r, w) = crate::fs::pipe(Some(memory.clone()));
    (
        Some(OpenFile::new(r, berth_abi::fs::O_RDONLY, String::from("pipe:[stdin]"))),
        Some(OpenFile::new(w, berth_abi::fs::O_WRONLY, String::from("pipe:[stdin]"))),
    )
}
