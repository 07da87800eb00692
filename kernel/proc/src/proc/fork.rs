//! Creating processes and threads: `clone`, `fork`, `vfork`, `clone3`.

use super::signal::{SigActions, Signals, ThreadSignals};
use super::{Process, ProgramInfo, UserThread, Vm, current_process};
use crate::mm::Charge;
use crate::proc::UserPart;
use crate::sched::{self, Thread};
use crate::uaccess::UserPtr;
use alloc::sync::Arc;
use alloc::vec;
use berth_abi::Errno;
use berth_abi::process::*;
use berth_hal::context::ThreadContext;
use berth_hal::fpu::FpuState;
use berth_hal::trap::TrapFrame;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use spin::Mutex;

/// The arguments of `clone`/`clone3`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloneArgs {
    /// CLONE_* flags.
    pub flags: CloneFlags,
    /// The child's stack pointer (0: the parent's).
    pub stack: u64,
    /// Where CLONE_PARENT_SETTID writes the child's tid (in the parent).
    pub parent_tid: UserPtr<u32>,
    /// Where CLONE_CHILD_SETTID writes and CLONE_CHILD_CLEARTID clears the tid.
    pub child_tid: UserPtr<u32>,
    /// The child's TLS pointer (CLONE_SETTLS).
    pub tls: u64,
    /// Signal for the parent when the child exits (`None`: no signal).
    pub exit_signal: Option<berth_abi::signal::Signal>,
}

/// Creates a thread or process as `args` say, starting from the caller's registers in
/// `frame`; returns the child's tid/pid.
pub fn clone(args: CloneArgs, frame: &TrapFrame) -> Result<u32, Errno> {
    let f = args.flags;
    // Combinations Linux refuses.
    let thread_without_handlers = f.contains(CloneFlags::THREAD) && !f.contains(CloneFlags::SIGHAND);
    if thread_without_handlers || f.contains(CloneFlags::SIGHAND) && !f.contains(CloneFlags::VM) {
        return Err(Errno::EINVAL);
    }
    if f.intersects(
        CloneFlags::NEWNS
            | CloneFlags::NEWPID
            | CloneFlags::NEWNET
            | CloneFlags::NEWUTS
            | CloneFlags::NEWIPC
            | CloneFlags::NEWUSER
            | CloneFlags::NEWCGROUP,
    ) {
        return Err(Errno::EPERM); // containers cannot nest namespaces
    }
    let parent_thread = sched::current();
    let parent = current_process();
    let mut child_frame = frame.clone();
    child_frame.rax = 0;
    if args.stack != 0 {
        child_frame.rsp = args.stack;
    }
    let fs_base = if f.contains(CloneFlags::SETTLS) { args.tls } else { parent_thread.context().fs_base() };
    let mask = parent_thread.user().map(|u| u.signals.lock().mask).unwrap_or_default();
    let sandbox = parent.sandbox.clone();
    let tid = sandbox.alloc_pid()?;
    // As on Linux, a tid that cannot be written is not an error.
    if f.contains(CloneFlags::PARENT_SETTID) {
        let _ = args.parent_tid.write(&tid);
    }
    if f.contains(CloneFlags::CHILD_SETTID) && f.contains(CloneFlags::VM) {
        let _ = args.child_tid.write(&tid);
    }
    // The kernel memory the child needs is paid for before anything is made.
    let thread_charge = Charge::new(&sandbox.memory, super::THREAD_COST);
    let process_charge =
        if f.contains(CloneFlags::THREAD) { None } else { Charge::new(&sandbox.memory, super::PROCESS_COST) };
    let ctx = ThreadContext::new_user(&child_frame, FpuState::current(), fs_base).ok();
    let (Some(thread_charge), Some(ctx)) = (thread_charge, ctx) else {
        sandbox.release_pid(tid);
        return Err(Errno::ENOMEM);
    };
    if !f.contains(CloneFlags::THREAD) && process_charge.is_none() {
        sandbox.release_pid(tid);
        return Err(Errno::ENOMEM);
    }

    let (process, is_new) = if f.contains(CloneFlags::THREAD) {
        (parent.clone(), false)
    } else {
        let vm = if f.contains(CloneFlags::VM) {
            let Some(vm) = parent.vm_arc() else {
                sandbox.release_pid(tid);
                return Err(Errno::ENOMEM);
            };
            vm
        } else {
            let Some(mut space) = parent.with_vm(|s| s.fork()) else {
                sandbox.release_pid(tid);
                return Err(Errno::ENOMEM);
            };
            if f.contains(CloneFlags::CHILD_SETTID) {
                let _ = space.poke(args.child_tid.addr(), &tid.to_ne_bytes());
            }
            Arc::new(Vm { space: Mutex::new(space) })
        };
        let files = if f.contains(CloneFlags::FILES) {
            parent.fd_table()
        } else {
            match parent.fd_table().lock().try_clone() {
                Ok(table) => Arc::new(Mutex::new(table)),
                Err(e) => {
                    sandbox.release_pid(tid);
                    return Err(e);
                }
            }
        };
        let actions = parent.signals.actions.lock().clone();
        let actions =
            if f.contains(CloneFlags::SIGHAND) { actions } else { Arc::new(Mutex::new(actions.lock().clone())) };
        super::LIVE_PROCESSES.fetch_add(1, Ordering::Relaxed);
        let child = Arc::new(Process {
            pid: tid,
            sandbox: sandbox.clone(),
            parent: Mutex::new(Arc::downgrade(&parent)),
            children: Mutex::new(vec![]),
            threads: Mutex::new(vec![]),
            vm: Mutex::new(Some(vm)),
            files: Mutex::new(files),
            cwd: Mutex::new(parent.cwd.lock().clone()),
            umask: AtomicU32::new(parent.umask.load(Ordering::Relaxed)),
            creds: Mutex::new(parent.creds.lock().clone()),
            signals: Signals::new(actions),
            exit_status: Mutex::new(None),
            group_exit: AtomicBool::new(false),
            group_exit_status: AtomicU32::new(0),
            child_event: crate::sched::WaitQueue::new(),
            info: Mutex::new(parent.info.lock().clone()),
            pgid: AtomicU32::new(parent.pgid.load(Ordering::Relaxed)),
            sid: AtomicU32::new(parent.sid.load(Ordering::Relaxed)),
            start_ns: crate::time::now_ns(),
            exited_cpu_ns: AtomicU64::new(0),
            vfork_done: crate::sched::WaitQueue::new(),
            vforking: AtomicBool::new(f.contains(CloneFlags::VFORK)),
            exit_signal: args.exit_signal,
            _charge: process_charge.expect("checked above for a new process"),
        });
        sandbox.register(&child);
        (child, true)
    };

    let user = UserThread::new(process.clone(), tid, ThreadSignals::inherit(mask), thread_charge);
    if f.contains(CloneFlags::CHILD_CLEARTID) {
        user.clear_child_tid.store(args.child_tid.addr(), Ordering::Relaxed);
    }
    let name = parent_thread.name.clone();
    let thread = Thread::new_extended(&name, ctx, sandbox.sched_group.clone(), user);
    // A new thread or process may run where its parent may (`sched_setaffinity`).
    thread.set_affinity(parent_thread.affinity());
    process.threads.lock().push(Arc::downgrade(&thread));
    if is_new {
        parent.children.lock().push(process.clone());
    }
    // A fatal signal that reached the parent while it forked reaches the child too
    // (Linux fails such a fork instead): whoever killed the parent read the list of
    // processes or threads before this one was on it (see `signal_each`).
    if parent.is_exiting() {
        if is_new {
            super::exit::begin_group_exit(&process, berth_abi::signal::SIGKILL);
        } else if let Some(u) = thread.user() {
            u.note_signal_work();
        }
    }
    sched::make_ready(thread);
    if is_new && f.contains(CloneFlags::VFORK) {
        // The parent sleeps until the child execs or exits (not interruptible by
        // signals other than fatal ones, as on Linux).
        let child = process.clone();
        let _ = child.vfork_done.wait_until(
            || (!child.vforking.load(Ordering::Acquire) || child.exit_status().is_some()).then_some(()),
            None,
            Some(&|| parent.is_exiting()),
        );
    }
    Ok(tid)
}

impl Process {
    /// Marks a vfork child as having exec'd and wakes its parent.
    pub(super) fn vfork_release(&self) {
        if self.vforking.swap(false, Ordering::AcqRel) {
            self.vfork_done.wake_all();
        }
    }

    /// A container's first process (pid 1), with no threads yet.
    pub(super) fn new_init(
        sandbox: Arc<crate::sandbox::Sandbox>,
        pid: u32,
        vm: Arc<Vm>,
        files: crate::fs::FdTable,
        cwd: Arc<berth_vfs::Inode>,
        creds: berth_abi::process::creds::Credentials,
        charge: Charge,
    ) -> Arc<Process> {
        super::LIVE_PROCESSES.fetch_add(1, Ordering::Relaxed);
        Arc::new(Process {
            pid,
            sandbox,
            parent: Mutex::new(alloc::sync::Weak::new()),
            children: Mutex::new(vec![]),
            threads: Mutex::new(vec![]),
            vm: Mutex::new(Some(vm)),
            files: Mutex::new(Arc::new(Mutex::new(files))),
            cwd: Mutex::new(cwd),
            umask: AtomicU32::new(0o022),
            creds: Mutex::new(creds),
            signals: Signals::new(Arc::new(Mutex::new(SigActions::default()))),
            exit_status: Mutex::new(None),
            group_exit: AtomicBool::new(false),
            group_exit_status: AtomicU32::new(0),
            child_event: crate::sched::WaitQueue::new(),
            info: Mutex::new(ProgramInfo::default()),
            pgid: AtomicU32::new(pid),
            sid: AtomicU32::new(pid),
            start_ns: crate::time::now_ns(),
            exited_cpu_ns: AtomicU64::new(0),
            vfork_done: crate::sched::WaitQueue::new(),
            vforking: AtomicBool::new(false),
            exit_signal: None,
            _charge: charge,
        })
    }
}
