//! Exiting and waiting: thread exit, process exit (zombies, reparenting, SIGCHLD) and
//! `wait4`.

use super::signal::{send_to_process, signal_pending};
use super::{Process, current_process};
use crate::proc::UserPart;
use crate::sandbox::Sandbox;
use crate::sched::{self, WaitError};
use crate::uaccess::UserPtr;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::signal::{SIG_IGN, SIGCHLD, SaFlags, SigInfo, Signal};
use core::sync::atomic::Ordering;

/// The wait status of a process killed by `sig`.
pub fn killed_status(sig: i32) -> i32 {
    let core = matches!(berth_abi::signal::default_action(sig), berth_abi::signal::DefaultAction::CoreDump);
    sig | if core { 0x80 } else { 0 }
}

/// The wait status of a process that exited with `code`.
pub fn exited_status(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Starts the exit of every thread of `process`, with a status (the first exit wins).
fn set_group_exit(process: &Arc<Process>, status: i32) {
    if !process.group_exit.swap(true, Ordering::AcqRel) {
        process.group_exit_status.store(status as u32, Ordering::Release);
    }
    for t in process.threads() {
        if let Some(u) = t.user() {
            u.note_signal_work();
        }
        sched::make_ready(t);
    }
}

/// The process dies of signal `sig` (a fatal signal, or SIGKILL).
pub(super) fn begin_group_exit(process: &Arc<Process>, sig: i32) {
    set_group_exit(process, killed_status(sig));
}

/// `exit_group(code)`: the running process exits; the caller returns to the trap
/// boundary, where the thread ends.
pub fn exit_group(code: i32) {
    set_group_exit(&current_process(), exited_status(code));
}

/// Kills every process of `sandbox` that `pick` selects (its init exited: all but
/// init), as [`signal_each`] reaches them.
pub fn kill_all(sandbox: &Sandbox, pick: impl Fn(&Process) -> bool, sig: i32) {
    signal_each(sandbox, pick, |p| begin_group_exit(p, sig));
}

/// Calls `send` once for every live process of `sandbox` that `pick` selects,
/// including those created while it runs: the list is read again after each round,
/// until a round finds no new process, since one forking while its parent was
/// signalled may add a child after a reading (a fatal signal then reaches the child
/// too, see `fork`). Returns how many processes `send` was called for. At most
/// [`SIGNAL_ROUNDS`] rounds: a signal that kills converges in a few, since a fatal
/// signal's children die with their parents, but programs that keep forking while a
/// signal they survive goes round must not keep the caller in the kernel for ever.
pub fn signal_each(sandbox: &Sandbox, pick: impl Fn(&Process) -> bool, mut send: impl FnMut(&Arc<Process>)) -> usize {
    let mut done: Vec<Arc<Process>> = Vec::new();
    for _ in 0..SIGNAL_ROUNDS {
        let fresh: Vec<Arc<Process>> = sandbox
            .processes()
            .into_iter()
            .filter(|p| pick(p) && p.exit_status().is_none() && !done.iter().any(|d| Arc::ptr_eq(d, p)))
            .collect();
        if fresh.is_empty() {
            return done.len();
        }
        for p in fresh {
            send(&p);
            done.push(p);
        }
    }
    done.len()
}

/// Most rounds of [`signal_each`].
const SIGNAL_ROUNDS: usize = 64;

/// Ends the running user thread; the last thread out ends the process. Must be called
/// at the trap boundary, holding no references on the stack.
pub fn exit_thread() -> ! {
    {
        let thread = sched::current();
        let user = thread.user().expect("a user thread");
        let process = user.process.clone();
        let clear: UserPtr<u32> = UserPtr::new(user.clear_child_tid.load(Ordering::Relaxed));
        if !clear.is_null() && !process.is_exiting() {
            let _ = clear.write(&0u32);
            crate::futex::wake(&process, clear, 1);
        }
        process.exited_cpu_ns.fetch_add(thread.cpu_ns(), Ordering::Relaxed);
        let last = {
            let mut threads = process.threads.lock();
            threads.retain(|w| w.upgrade().is_some_and(|t| !Arc::ptr_eq(&t, &thread)));
            threads.is_empty()
        };
        if user.tid != process.pid {
            process.sandbox.release_pid(user.tid);
        }
        if last {
            // The last thread out without exit_group: its exit code is the process's.
            if !process.group_exit.load(Ordering::Acquire) {
                set_group_exit(&process, exited_status(0));
            }
            process_exited(&process);
        }
    }
    sched::exit_current()
}

/// Called when the last thread of `process` has exited.
fn process_exited(process: &Arc<Process>) {
    let status = process.group_exit_status.load(Ordering::Acquire) as i32;
    // Close files and free memory now; a zombie keeps only its status.
    super::itimer::forget(process);
    let files = process.fd_table().lock().close_all();
    drop(files);
    let vm = process.vm.lock().take();
    drop(vm);
    // Children go to the container's init, or are left to the kernel if it is gone.
    let children = core::mem::take(&mut *process.children.lock());
    let init = process.sandbox.init().filter(|i| !Arc::ptr_eq(i, process));
    for child in children {
        match &init {
            Some(init) => {
                *child.parent.lock() = Arc::downgrade(init);
                let zombie = child.exit_status().is_some();
                init.children.lock().push(child);
                if zombie {
                    init.child_event.wake_all();
                }
            }
            None => {
                *child.parent.lock() = alloc::sync::Weak::new();
                if child.exit_status().is_some() {
                    process.sandbox.release_pid(child.pid);
                }
            }
        }
    }
    *process.exit_status.lock() = Some(status);
    process.vfork_done.wake_all();
    match process.parent() {
        Some(parent) => {
            let action = parent.signals.action(Signal::of(SIGCHLD));
            if action.handler == SIG_IGN || action.sa_flags().contains(SaFlags::NOCLDWAIT) {
                // The parent does not want zombies: reap at once.
                parent.children.lock().retain(|c| !Arc::ptr_eq(c, process));
                process.sandbox.release_pid(process.pid);
            } else if let Some(exit_signal) = process.exit_signal {
                let (code, sig) = (status >> 8, status & 0x7f);
                let info = if sig == 0 {
                    SigInfo::sigchld(berth_abi::signal::CLD_EXITED, process.pid as i32, 0, code)
                } else {
                    SigInfo::sigchld(berth_abi::signal::CLD_KILLED, process.pid as i32, 0, sig)
                };
                send_to_process(&parent, exit_signal, info, super::Sender::Inside);
            }
            parent.child_event.wake_all();
        }
        None => process.sandbox.release_pid(process.pid),
    }
    if process.pid == 1 {
        process.sandbox.init_exited(status);
    }
}

/// Which children `wait4` accepts.
#[derive(Debug, Clone, Copy)]
pub enum WaitFor {
    /// Any child.
    Any,
    /// The child with this pid.
    Pid(u32),
}

/// `wait4`: reaps a zombie child matching `which`; `Ok(None)` with `nohang` when none
/// has exited yet.
pub fn wait_child(which: WaitFor, nohang: bool, reap: bool) -> Result<Option<(u32, i32)>, Errno> {
    let process = current_process();
    let result = process.child_event.wait_until(
        || {
            let mut children = process.children.lock();
            let matches = |c: &Arc<Process>| match which {
                WaitFor::Any => true,
                WaitFor::Pid(pid) => c.pid == pid,
            };
            if !children.iter().any(matches) {
                return Some(Err(Errno::ECHILD));
            }
            if let Some(i) = children.iter().position(|c| matches(c) && c.exit_status().is_some()) {
                let child = if reap { children.remove(i) } else { children[i].clone() };
                let status = child.exit_status().unwrap_or(0);
                if reap {
                    process.sandbox.release_pid(child.pid);
                }
                return Some(Ok(Some((child.pid, status))));
            }
            if nohang { Some(Ok(None)) } else { None }
        },
        None,
        Some(&signal_pending),
    );
    match result {
        Ok(r) => r,
        Err(WaitError::Interrupted) => Err(Errno::EINTR),
        Err(WaitError::TimedOut) => Err(Errno::EAGAIN),
    }
}
