//! Containers: isolated groups of processes.
//!
//! A container owns a copy-on-write view of its image, its own pid namespace (its
//! first process is pid 1), its log, a memory counter that enforces its limit, a
//! process limit and CPU accounting. Processes reach only their own container's
//! objects: every pid they name is looked up here, in their own namespace.

pub mod archive;
pub mod boot;
mod error;
pub mod files;
pub mod images;
pub mod layers;
mod log;
mod pids;
pub mod pull;
pub mod registry;
mod setup;

pub use berth_config::{ContainerConfig, Echo, parse_module_cmdline, parse_size};
pub use error::ContainerError;
pub use log::{LogBuffer, LogEntry, Stream};
pub use pids::PID_MAX;

use crate::mm::MemoryCounter;
use crate::proc::{self, Process};
use crate::sched::WaitQueue;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::signal::Signal;
use berth_vfs::{Filesystem, Image};
use core::sync::atomic::{AtomicU64, Ordering};
use pids::PidNamespace;
use spin::Mutex;

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, not started.
    Created,
    /// Its first process is running.
    Running,
    /// Its first process exited with this code (128 + signal if killed).
    Exited(i32),
}

struct State {
    status: Status,
    /// Wall-clock times, ns since the epoch.
    started_at: u64,
    finished_at: u64,
    init: Weak<Process>,
    oom_killed: bool,
    /// When the watchdog kills it (a timeout, or the grace period of a stop).
    kill_at: Option<u64>,
    /// Taken out of the registry (`docker rm`, or `--rm` after it exited).
    removed: bool,
}

/// A container.
pub struct Container {
    /// 64 hex digits.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// How it was configured.
    pub config: ContainerConfig,
    /// The image it was made from.
    pub image: Arc<Image>,
    /// Its file system.
    pub fs: Arc<Filesystem>,
    /// Memory charged to it (pages, file data, socket buffers), with its limit.
    pub memory: Arc<MemoryCounter>,
    /// Its port space.
    pub net: Arc<crate::net::Namespace>,
    /// Its output.
    pub log: LogBuffer,
    pids: Mutex<PidNamespace>,
    state: Mutex<State>,
    /// Woken when its status changes.
    pub state_changed: WaitQueue,
    /// The scheduling group its threads share the CPU as (its weight and bandwidth).
    pub sched_group: Arc<crate::sched::Group>,
    /// Monotonic time of its first process's first system call (0 before), which
    /// marks when its program started running.
    first_syscall_ns: AtomicU64,
    /// With `open_stdin`: the read end its first process gets as standard input (taken
    /// at start), and the write end the agent feeds (dropped to close it).
    stdin: Mutex<StdinPipe>,
    /// With `tty`: its terminal, which its first process's standard streams are.
    pub terminal: Option<Arc<files::Terminal>>,
    /// Wall-clock creation time, ns since the epoch.
    pub created_at: u64,
}

impl Container {
    /// Creates a container of `image`; it does not run yet.
    pub fn create(mut config: ContainerConfig, image: Arc<Image>) -> Result<Arc<Container>, ContainerError> {
        if config.limits.pids == 0 {
            config.limits.pids = proc::default_task_limit();
        }
        let memory = Arc::new(MemoryCounter::for_container(config.limits.memory));
        let fs = Filesystem::new(&image, Some(memory.clone()), crate::time::realtime_ns)
            .map_err(|e| ContainerError::FileSystem("/", e))?;
        let id = registry::new_id();
        let name = config.name.clone().unwrap_or_else(|| registry::generated_name(&id));
        let net = crate::net::Namespace::for_container(config.publish.clone(), memory.clone())?;
        let echo = (config.echo != Echo::None).then(|| name.clone());
        let stdin = if config.open_stdin && !config.tty { stdin_pipe(&memory) } else { (None, None) };
        let log_memory = memory.clone();
        let container = Arc::new_cyclic(|me| Container {
            terminal: config.tty.then(|| Arc::new(files::Terminal::new(me.clone()))),
            id,
            name,
            image,
            fs: Arc::new(fs),
            memory,
            net,
            log: LogBuffer::new(crate::param::LOG_CAPACITY, Some(log_memory), echo, config.echo == Echo::Stderr),
            pids: Mutex::new(PidNamespace::new(config.limits.pids)),
            state: Mutex::new(State {
                status: Status::Created,
                started_at: 0,
                finished_at: 0,
                init: Weak::new(),
                oom_killed: false,
                kill_at: None,
                removed: false,
            }),
            state_changed: WaitQueue::new(),
            sched_group: crate::sched::Group::new(config.limits.cpu_shares, config.limits.cpu_millis),
            first_syscall_ns: AtomicU64::new(0),
            stdin: Mutex::new(stdin),
            created_at: crate::time::realtime_ns(),
            config,
        });
        setup::prepare_fs(&container)?;
        registry::insert(&container)?;
        Ok(container)
    }

    /// Starts its first process. A program that cannot be started ends the container
    /// with status 127 (not found) or 126 (not runnable), as shells report.
    pub fn start(self: &Arc<Container>) -> Result<(), ContainerError> {
        {
            let mut s = self.state.lock();
            if s.status != Status::Created {
                return Err(ContainerError::AlreadyStarted(self.name.clone()));
            }
            s.status = Status::Running;
            s.started_at = crate::time::realtime_ns();
        }
        let argv = self.config.cmd.clone();
        let env = self.config.full_env(&self.hostname());
        match proc::spawn_init(self, argv, env, &self.config.workdir) {
            Ok(init) => {
                let mut s = self.state.lock();
                s.init = Arc::downgrade(&init);
                if let Some(secs) = self.config.timeout_secs {
                    s.kill_at = Some(crate::time::now_ns() + secs * 1_000_000_000);
                }
                drop(s);
                self.state_changed.wake_all();
                Ok(())
            }
            Err(e) => {
                let line = format!("berth: cannot run {}\n", e.message);
                self.log.append(Stream::Stderr, line.as_bytes());
                let code = if e.errno == Errno::ENOENT { 127 } else { 126 };
                self.finish(code);
                Err(ContainerError::CannotRun(e.errno, e.message))
            }
        }
    }

    /// The standard input its first process starts with, if it has one of its own
    /// (taken once, at start).
    pub fn take_stdin_reader(&self) -> Option<Arc<crate::fs::OpenFile>> {
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

    /// Its status.
    pub fn status(&self) -> Status {
        self.state.lock().status
    }

    /// Wall-clock start and finish times (0 if not yet).
    pub fn times(&self) -> (u64, u64) {
        let s = self.state.lock();
        (s.started_at, s.finished_at)
    }

    /// Whether the kernel killed a process of it for running out of memory.
    pub fn oom_killed(&self) -> bool {
        self.state.lock().oom_killed
    }

    pub(crate) fn note_oom_kill(&self) {
        self.state.lock().oom_killed = true;
    }

    /// Its first process, while it lives.
    pub fn init(&self) -> Option<Arc<Process>> {
        self.state.lock().init.upgrade()
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

    /// The process with `pid` in this container.
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

    /// Asks the watchdog to kill it at monotonic time `deadline` (ns).
    pub fn kill_at(&self, deadline: u64) {
        self.state.lock().kill_at = Some(deadline);
    }

    /// Sends `sig` from outside to its first process, as `docker kill` and `docker
    /// stop` do. Like a pid namespace's init, that process takes only the signals it
    /// handles, and `SIGKILL`; when it exits, the rest of the container is killed.
    pub fn signal_init(&self, sig: Signal) {
        if let Some(init) = self.process(1) {
            let info = berth_abi::signal::SigInfo::kernel(sig.number());
            proc::send_to_process(&init, sig, info, proc::Sender::Outside);
        }
    }

    fn finish(&self, code: i32) {
        {
            let mut s = self.state.lock();
            s.status = Status::Exited(code);
            s.finished_at = crate::time::realtime_ns();
        }
        self.log.close();
        self.net.release_published();
        self.close_stdin();
        self.state_changed.wake_all();
        registry::container_finished(self);
        if self.config.auto_remove {
            self.remove();
        }
    }

    /// Takes it out of the registry (it must have exited: kill it first). Its name is
    /// free again; whoever still holds it (a log reader) keeps what they have.
    pub fn remove(&self) {
        self.state.lock().removed = true;
        registry::remove(self);
        self.net.release_published();
        self.state_changed.wake_all();
    }

    /// Whether it has been removed.
    pub fn is_removed(&self) -> bool {
        self.state.lock().removed
    }
}

/// The two ends of a container's standard input pipe: (read end, write end).
type StdinPipe = (Option<Arc<crate::fs::OpenFile>>, Option<Arc<crate::fs::OpenFile>>);

/// A pipe for a container's standard input.
fn stdin_pipe(memory: &Arc<MemoryCounter>) -> StdinPipe {
    let (r, w) = crate::fs::pipe(Some(memory.clone()));
    (
        Some(crate::fs::OpenFile::new(r, berth_abi::fs::O_RDONLY, String::from("pipe:[stdin]"))),
        Some(crate::fs::OpenFile::new(w, berth_abi::fs::O_WRONLY, String::from("pipe:[stdin]"))),
    )
}

/// Called when a container's first process has exited with wait status `status`:
/// every other process is killed and the container is finished.
pub fn init_exited(container: &Arc<Container>, status: i32) {
    let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
    let others: Vec<Arc<Process>> = container.processes().into_iter().filter(|p| p.pid != 1).collect();
    proc::kill_all(others, berth_abi::signal::SIGKILL);
    let (started, _) = container.times();
    let ran = crate::time::realtime_ns().saturating_sub(started);
    ::log::info!(
        "container {} exited with status {code} after {}.{:03} s (CPU {}.{:03} s)",
        container.name,
        ran / 1_000_000_000,
        ran / 1_000_000 % 1000,
        container.cpu_ns() / 1_000_000_000,
        container.cpu_ns() / 1_000_000 % 1000
    );
    container.finish(code);
}

/// Kills containers whose time is up. Runs in its own kernel thread.
pub fn watchdog(_: usize) -> ! {
    loop {
        let _ = crate::sched::sleep(crate::time::now_ns() + 50_000_000, None);
        let now = crate::time::now_ns();
        for c in registry::list() {
            let due = {
                let mut s = c.state.lock();
                match s.kill_at {
                    Some(at) if at <= now && s.status == Status::Running => {
                        s.kill_at = None;
                        true
                    }
                    _ => false,
                }
            };
            if due {
                ::log::info!("container {}: time is up, killing it", c.name);
                c.signal_init(Signal::of(berth_abi::signal::SIGKILL));
            }
        }
    }
}
