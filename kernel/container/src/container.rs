//! A container: a sandbox of processes made from an image, with a life cycle.
//!
//! A container owns a sandbox (a copy-on-write view of its image, its own pid
//! namespace, its log, a memory counter that enforces its limit, a process limit and
//! CPU accounting), its configuration and its status. Processes reach only their own
//! sandbox's objects: every pid they name is looked up in their own namespace.

use crate::mm::MemoryCounter;
use crate::proc;
use crate::registry;
use crate::sandbox::{LogBuffer, Parts, Sandbox, SandboxOwner, Stream};
use crate::sched::WaitQueue;
use crate::{ContainerConfig, ContainerError, Echo};
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use berth_abi::Errno;
use berth_abi::signal::Signal;
use berth_vfs::{Filesystem, Image};
use spin::Mutex;

/// What a new container's files start as.
pub enum Rootfs {
    /// Its image, in memory only (a container that is not stored).
    Fresh,
    /// Its image, its own files paged to the store under its id (a stored
    /// container's); with its stored writable layer stacked on the image if it has
    /// one (this tree, and the file id its new files start from).
    Stored(Option<(Image, u64)>),
    /// The files an earlier run of the same container left (its sandbox): `docker
    /// start` of an ended container, and restarts, keep the writable layer.
    Kept(Arc<Sandbox>),
}

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
    /// When the watchdog kills it (a timeout, or the grace period of a stop).
    kill_at: Option<u64>,
    /// Taken out of the registry (`docker rm`, or `--rm` after it exited).
    removed: bool,
    /// Someone stopped it (`docker stop`, `docker kill`): its restart policy waits
    /// for the next boot (or forgets it: `unless-stopped`).
    stopped_by_hand: bool,
    /// Times it was started again by its restart policy.
    restarts: u32,
    /// When the watchdog starts it again (monotonic ns), if its policy says so.
    restart_at: Option<u64>,
    /// Its restart policy: the configuration's until `docker update` changes it.
    restart: berth_config::RestartPolicy,
}

impl State {
    /// How the container ended (`None` while it has not).
    fn ending(&self) -> Option<berth_config::Ending> {
        match self.status {
            Status::Exited(code) => {
                Some(berth_config::Ending { code, stopped_by_hand: self.stopped_by_hand, restarts: self.restarts })
            }
            _ => None,
        }
    }
}

/// A container.
pub struct Container {
    /// 64 hex digits.
    pub id: String,
    /// Its unique name (`docker rename` changes it).
    name: Mutex<String>,
    /// How it was configured.
    pub config: ContainerConfig,
    /// The image it was made from.
    pub image: Arc<Image>,
    /// What its processes share: file system, memory, ports, pids, log, terminal.
    pub sandbox: Arc<Sandbox>,
    state: Mutex<State>,
    /// Woken when its status changes.
    pub state_changed: WaitQueue,
    /// Wall-clock creation time, ns since the epoch.
    pub created_at: u64,
}

impl Container {
    /// Creates a container of `image`; it does not run yet.
    pub fn create(config: ContainerConfig, image: Arc<Image>) -> Result<Arc<Container>, ContainerError> {
        Container::create_as(config, image, None, Rootfs::Fresh)
    }

    /// Creates a container of `image` with a given id and creation time (one brought
    /// back from the store, or the next run of one its restart policy starts again),
    /// or new ones if `None`, its files as `rootfs` says.
    pub fn create_as(
        mut config: ContainerConfig,
        image: Arc<Image>,
        identity: Option<(String, u64)>,
        rootfs: Rootfs,
    ) -> Result<Arc<Container>, ContainerError> {
        if config.limits.pids == 0 {
            config.limits.pids = proc::default_task_limit();
        }
        let (id, created_at) = identity.unwrap_or_else(|| (registry::new_id(), crate::time::realtime_ns()));
        let fresh = |tree: &Image, paging: Option<berth_vfs::Paging>| {
            let memory = Arc::new(MemoryCounter::for_container(config.limits.memory));
            let budget = Some(memory.clone() as Arc<dyn berth_vfs::Budget>);
            let fs = match paging {
                Some(paging) => Filesystem::paged(tree, budget, crate::time::realtime_ns, paging),
                None => Filesystem::new(tree, budget, crate::time::realtime_ns),
            };
            let fs = Arc::new(fs.map_err(|e| ContainerError::FileSystem("/", e))?);
            if fs.is_paged() {
                memory.pays_for(&fs);
            }
            Ok::<_, ContainerError>((fs, memory))
        };
        let (fs, memory) = match rootfs {
            Rootfs::Fresh => fresh(&image, None)?,
            Rootfs::Stored(layer) => {
                // Past half its memory (or an eighth of all containers') in changed
                // files, a writer writes its layer out.
                let all = crate::mm::container_memory().1;
                let dirty = if config.limits.memory < all { config.limits.memory / 2 } else { all / 8 };
                let next_file = layer.as_ref().map_or(1, |(_, next)| *next);
                let paging = crate::paged_store::TreeKeys::container(&id).paging(next_file, dirty, None);
                fresh(layer.as_ref().map_or(&*image, |(tree, _)| tree), Some(paging))?
            }
            // What its files hold stays charged to the counter that paid for them.
            Rootfs::Kept(sandbox) => (sandbox.fs.clone(), sandbox.memory.clone()),
        };
        let name = config.name.clone().unwrap_or_else(|| registry::generated_name(&id));
        let hostname = if config.hostname.is_empty() { String::from(&id[..12]) } else { config.hostname.clone() };
        // Its own port space, or (`container:NAME`) that of a running container, whose
        // sockets' buffers stay charged to that container.
        let net = match &config.shares_network_of {
            Some(owner) => match registry::find(owner) {
                Ok(c) if c.status() == Status::Running => c.sandbox.net.clone(),
                _ => return Err(ContainerError::NetworkOwnerNotRunning(owner.clone())),
            },
            None => crate::net::Namespace::for_container(config.publish.clone(), memory.clone())?,
        };
        let echo = (config.echo != Echo::None).then(|| name.clone());
        let log = LogBuffer::new(crate::param::LOG_CAPACITY, Some(memory.clone()), echo, config.echo == Echo::Stderr);
        let parts = Parts {
            name: name.clone(),
            hostname,
            fs,
            memory,
            net,
            log,
            pid_limit: config.limits.pids,
            tty: config.tty,
            stdin_pipe: config.open_stdin,
            sched_group: crate::sched::Group::new(
                config.limits.cpu_shares,
                config.limits.cpu_millis,
                config.limits.cpuset,
            ),
        };
        let container = Arc::new_cyclic(|me: &Weak<Container>| Container {
            sandbox: Sandbox::new(parts, me.clone()),
            id,
            name: Mutex::new(name),
            image,
            state: Mutex::new(State {
                status: Status::Created,
                started_at: 0,
                finished_at: 0,
                kill_at: None,
                removed: false,
                stopped_by_hand: false,
                restarts: 0,
                restart_at: None,
                restart: config.restart,
            }),
            state_changed: WaitQueue::new(),
            created_at,
            config,
        });
        let placed = crate::networks::attach_on_create(&container.id, &container.config.networks)?;
        let ready = (|| {
            // A container sharing another's port space has its addresses and resolver.
            let net_owner = container.config.shares_network_of.as_deref().unwrap_or(&container.id);
            crate::setup::prepare_fs(&container.sandbox, net_owner)?;
            crate::volumes::mount_into(&container.sandbox, &container.config.volumes)?;
            crate::tmpfs::mount_into(&container.sandbox, &container.config.tmpfs)?;
            registry::insert(&container)
        })();
        if let Err(e) = ready {
            if placed {
                crate::networks::forget(&container.id);
            }
            return Err(e);
        }
        Ok(container)
    }

    /// Starts its first process. A program that cannot be started ends the container
    /// with status 127 (not found) or 126 (not runnable), as shells report.
    pub fn start(self: &Arc<Container>) -> Result<(), ContainerError> {
        {
            let mut s = self.state.lock();
            if s.status != Status::Created {
                return Err(ContainerError::AlreadyStarted(self.name()));
            }
            s.status = Status::Running;
            s.started_at = crate::time::realtime_ns();
        }
        let argv = self.config.cmd.clone();
        let env = self.config.full_env(&self.sandbox.hostname);
        let (workdir, user, groups) = (&self.config.workdir, &self.config.user, &self.config.group_add);
        // On its networks before its first instruction: it may look a name up at once.
        crate::networks::join(self);
        match proc::spawn_init(&self.sandbox, argv, env, workdir, user, groups) {
            Ok(_) => {
                crate::events::container(self, "start", &[]);
                if let Some(secs) = self.config.timeout_secs {
                    self.kill_at(crate::time::now_ns() + secs * 1_000_000_000);
                }
                self.state_changed.wake_all();
                Ok(())
            }
            Err(e) => {
                let line = format!("berth: cannot run {}\n", e.message);
                self.sandbox.log.append(Stream::Stderr, line.as_bytes());
                let code = if e.errno == Errno::ENOENT { 127 } else { 126 };
                self.finish(code);
                Err(ContainerError::CannotRun(e.errno, e.message))
            }
        }
    }

    /// Its unique name.
    pub fn name(&self) -> String {
        self.name.lock().clone()
    }

    /// Gives it a new name (the registry checks that no other container has it).
    pub(crate) fn set_name(&self, name: String) {
        *self.name.lock() = name;
    }

    /// Its host name: configured, or the first 12 digits of its id.
    pub fn hostname(&self) -> &str {
        &self.sandbox.hostname
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

    /// Notes that someone is stopping it (`docker stop`, `docker kill`), before the
    /// signal goes: its restart policy then leaves it stopped.
    pub fn note_stopped_by_hand(&self) {
        let mut s = self.state.lock();
        s.stopped_by_hand = true;
        s.restart_at = None;
    }

    /// Whether its restart policy will start it again (it ended, and waits out the
    /// back-off): Docker's `restarting`.
    pub fn restart_planned(&self) -> bool {
        self.state.lock().restart_at.is_some()
    }

    /// Cancels a restart its policy has planned (`docker stop` of a container waiting
    /// to be started again), as a stop by hand; false if none was planned.
    pub fn cancel_restart(&self) -> bool {
        let mut s = self.state.lock();
        let planned = s.restart_at.take().is_some();
        s.stopped_by_hand |= planned;
        planned
    }

    /// How it ended, for its restart policy (`None` while it has not).
    pub fn ending(&self) -> Option<berth_config::Ending> {
        self.state.lock().ending()
    }

    /// Its restart policy.
    pub fn restart_policy(&self) -> berth_config::RestartPolicy {
        self.state.lock().restart
    }

    /// Changes its restart policy (`docker update --restart`).
    pub fn set_restart_policy(&self, policy: berth_config::RestartPolicy) {
        self.state.lock().restart = policy;
    }

    /// Times its restart policy started it again.
    pub fn restarts(&self) -> u32 {
        self.state.lock().restarts
    }

    /// Sets how many times its policy has restarted it (a container brought back from
    /// the store, before it starts).
    pub fn set_restarts(&self, restarts: u32) {
        self.state.lock().restarts = restarts;
    }

    /// Makes a container brought back from the store show how it had ended (it is
    /// not started): exit status, whether stopped by hand, restarts so far.
    pub fn mark_ended(&self, ending: berth_config::Ending, finished_at: u64) {
        let mut s = self.state.lock();
        s.status = Status::Exited(ending.code);
        s.stopped_by_hand = ending.stopped_by_hand;
        s.restarts = ending.restarts;
        s.finished_at = finished_at;
    }

    /// Asks the watchdog to kill it at monotonic time `deadline` (ns).
    pub fn kill_at(&self, deadline: u64) {
        self.state.lock().kill_at = Some(deadline);
    }

    fn finish(&self, code: i32) {
        crate::events::container(self, "die", &[("exitCode", format!("{code}"))]);
        {
            let mut s = self.state.lock();
            s.status = Status::Exited(code);
            s.finished_at = crate::time::realtime_ns();
            if !self.config.auto_remove && s.ending().is_some_and(|e| s.restart.restarts_now(e)) {
                // The back-off starts again after a run of 10 s or more, as moby's.
                let ran_long = s.finished_at.saturating_sub(s.started_at) >= 10_000_000_000;
                let step = if ran_long { 0 } else { s.restarts };
                let delay = berth_config::RestartPolicy::delay_ms(step) * 1_000_000;
                s.restart_at = Some(crate::time::now_ns() + delay);
            }
        }
        self.sandbox.log.close();
        self.leave_network();
        self.sandbox.close_stdin();
        self.state_changed.wake_all();
        registry::container_finished(self);
        if self.config.auto_remove {
            self.remove();
            crate::volumes::remove_anonymous(&self.config.volumes);
        }
    }

    /// Takes it out of the registry (it must have exited: kill it first). Its name is
    /// free again; whoever still holds it (a log reader) keeps what they have.
    pub fn remove(&self) {
        crate::events::container(self, "destroy", &[]);
        self.state.lock().removed = true;
        registry::remove(self);
        self.leave_network();
        crate::networks::forget(&self.id);
        self.state_changed.wake_all();
    }

    /// Gives its published ports back and takes its addresses out of the stack's
    /// table (not those of the container whose port space it shares). Idempotent.
    fn leave_network(&self) {
        if self.config.shares_network_of.is_none() {
            self.sandbox.net.release_published();
            crate::net::network::detach(&self.sandbox.net, None);
        }
    }

    /// Whether it has been removed.
    pub fn is_removed(&self) -> bool {
        self.state.lock().removed
    }

    /// Starts it again as its restart policy asks: the same id, name, configuration and
    /// files (its writable layer) in a fresh sandbox, which takes its place in the
    /// registry.
    /// `counted`: the policy restarted it (`docker start` of an ended one is not
    /// counted).
    pub fn run_again(self: &Arc<Container>, counted: bool) -> Result<Arc<Container>, ContainerError> {
        // Moby starts counting again when someone starts it by hand.
        let restarts = if counted { self.restarts() + 1 } else { 0 };
        registry::remove(self);
        self.leave_network();
        let identity = Some((self.id.clone(), self.created_at));
        let kept = Rootfs::Kept(self.sandbox.clone());
        let next = match Container::create_as(self.config.clone(), self.image.clone(), identity, kept) {
            Ok(next) => next,
            Err(e) => {
                // It stays, ended, where it was (its name is still free: nothing
                // else could take it on this thread).
                if let Err(lost) = registry::insert(self) {
                    ::log::error!("container {}: lost from the registry: {lost}", self.name());
                }
                return Err(e);
            }
        };
        {
            let mut s = next.state.lock();
            s.restarts = restarts;
            s.restart = self.restart_policy();
        }
        // Whoever waits on the old one (`docker wait`, attach) sees it ended.
        self.state.lock().removed = true;
        self.state_changed.wake_all();
        next.start()?;
        Ok(next)
    }
}

impl SandboxOwner for Container {
    /// Its first process exited (the sandbox has killed the others): the container
    /// is finished.
    fn init_exited(&self, status: i32) {
        let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
        let (started, _) = self.times();
        let ran = crate::time::realtime_ns().saturating_sub(started);
        let cpu = self.sandbox.cpu_ns();
        ::log::info!(
            "container {} exited with status {code} after {}.{:03} s (CPU {}.{:03} s)",
            self.name(),
            ran / 1_000_000_000,
            ran / 1_000_000 % 1000,
            cpu / 1_000_000_000,
            cpu / 1_000_000 % 1000
        );
        self.finish(code);
    }
}

/// Kills containers whose time is up, starts again those their policy restarts, and
/// writes states and changed volumes to the store. Runs in its own kernel thread.
pub fn watchdog(_: usize) -> ! {
    let mut written_back = crate::time::now_ns();
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
                ::log::info!("container {}: time is up, killing it", c.name());
                c.sandbox.signal_init(Signal::of(berth_abi::signal::SIGKILL));
            }
            let restart = {
                let mut s = c.state.lock();
                match s.restart_at {
                    Some(at) if at <= now && !s.removed => s.restart_at.take().is_some(),
                    _ => false,
                }
            };
            if restart {
                match c.run_again(true) {
                    Ok(next) => ::log::info!("container {}: restarted (restart {})", next.name(), next.restarts()),
                    Err(e) => {
                        ::log::warn!("container {}: cannot restart: {e}; trying again later", c.name());
                        let mut s = c.state.lock();
                        let delay = berth_config::RestartPolicy::delay_ms(s.restarts) * 1_000_000;
                        s.restart_at = Some(now + delay);
                    }
                }
            }
        }
        crate::store::sync_containers();
        if now.saturating_sub(written_back) >= crate::volumes::WRITE_BACK_SECONDS * 1_000_000_000 {
            crate::volumes::write_back();
            written_back = now;
        }
    }
}
