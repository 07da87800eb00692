//! The user part of a thread.

use super::Process;
use super::signal::ThreadSignals;
use crate::mm::Charge;
use crate::sched::{Thread, ThreadExtension};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::Mutex;

/// What a thread running user code carries besides its CPU context.
pub struct UserThread {
    /// Its process.
    pub process: Arc<Process>,
    /// Its thread id in the container (the pid for a process's first thread).
    pub tid: u32,
    /// Signal mask, thread-directed pending signals, alternate stack.
    pub signals: Mutex<ThreadSignals>,
    /// Where to write 0 and wake a futex when the thread exits (set_tid_address).
    pub clear_child_tid: AtomicU64,
    /// The robust futex list head (set_robust_list).
    pub robust_list: AtomicU64,
    /// The system call number being handled, for restarting it after a signal.
    pub syscall_nr: AtomicU64,
    /// Its arguments, so a kernel panic can name the call that led to it.
    pub syscall_args: [AtomicU64; 6],
    /// Set when this thread alone must exit (another thread called `execve`).
    pub exit_requested: AtomicBool,
    /// A system call interrupted by a signal, to restart if the signal allows
    /// (`u64::MAX`: none).
    pub restart_syscall: AtomicU64,
    /// Set whenever there may be signal work before returning to user mode (a signal
    /// queued, a mask to restore, an exit requested), so the common case skips the
    /// signal locks.
    pub signal_work: AtomicBool,
    /// [`super::THREAD_COST`], charged to the container while the thread exists.
    _charge: Charge,
}

impl UserThread {
    /// The user part of a new thread `tid` of `process`, paid for by `charge`.
    pub fn new(process: Arc<Process>, tid: u32, signals: ThreadSignals, charge: Charge) -> UserThread {
        super::LIVE_THREADS.fetch_add(1, Ordering::Relaxed);
        UserThread {
            process,
            tid,
            signals: Mutex::new(signals),
            clear_child_tid: AtomicU64::new(0),
            robust_list: AtomicU64::new(0),
            syscall_nr: AtomicU64::new(u64::MAX),
            syscall_args: [const { AtomicU64::new(0) }; 6],
            exit_requested: AtomicBool::new(false),
            restart_syscall: AtomicU64::new(u64::MAX),
            signal_work: AtomicBool::new(false),
            _charge: charge,
        }
    }

    /// Notes that signal work may be waiting for this thread.
    pub fn note_signal_work(&self) {
        self.signal_work.store(true, Ordering::Release);
    }
}

impl Drop for UserThread {
    fn drop(&mut self) {
        super::LIVE_THREADS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ThreadExtension for UserThread {
    fn activate_address_space(&self) {
        // Another CPU may hold these locks for a moment (reading the process's memory
        // for `/proc` or the agent); nobody holds them across a switch.
        let vm = self.process.vm.lock().clone();
        match vm {
            Some(vm) => vm.space.lock().activate(),
            // An exiting thread whose process has let its memory go: it must not run
            // on whatever table the CPU had, which another CPU may free.
            None => berth_hal::mm::use_kernel_table(),
        }
    }
}

/// The user part of a scheduler thread, for the threads of processes.
pub trait UserPart {
    /// Its user part; `None` for kernel threads.
    fn user(&self) -> Option<&UserThread>;
}

impl UserPart for Thread {
    fn user(&self) -> Option<&UserThread> {
        self.extension()
    }
}
