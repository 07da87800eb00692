//! Exceptions in user mode: page faults are resolved by demand paging where possible;
//! everything else becomes the signal Linux would send.

use super::signal::{Sender, send_to_thread};
use crate::mm::{Access, Fault};
use crate::proc::UserPart;
use crate::sched;
use berth_abi::signal::*;
use berth_hal::trap::TrapFrame;

/// Handles exception `frame.vector` raised by user code.
pub fn user_exception(frame: &mut TrapFrame) {
    let thread = sched::current();
    let Some(user) = thread.user() else { return };
    let process = &user.process;
    let (sig, code, addr) = match frame.vector {
        14 => {
            let addr = berth_hal::cpu::fault_address();
            let access = page_fault_access(frame.error_code);
            let result = process.with_vm(|space| space.handle_fault(addr, access));
            log::trace!(
                "[{} {}] page fault at {addr:#x} ({access:?}, rip {:#x}): {result:?}",
                process.sandbox.name,
                user.tid,
                frame.rip
            );
            match result {
                Ok(()) => return,
                Err(Fault::Unmapped) => (SIGSEGV, SEGV_MAPERR, addr),
                Err(Fault::Protection) => (SIGSEGV, SEGV_ACCERR, addr),
                Err(Fault::OutOfMemory) => {
                    log::warn!(
                        "container {}: pid {} out of memory at {addr:#x} (limit {} bytes): killed",
                        process.sandbox.name,
                        process.pid,
                        process.sandbox.memory.limit()
                    );
                    process.sandbox.note_oom_kill();
                    send_to_thread(&thread, Signal::of(SIGKILL), SigInfo::kernel(SIGKILL), Sender::Kernel);
                    return;
                }
            }
        }
        0 => (SIGFPE, FPE_INTDIV, frame.rip),
        1 | 3 => (SIGTRAP, TRAP_BRKPT, frame.rip),
        4 | 5 => (SIGSEGV, SI_KERNEL, 0),
        6 => (SIGILL, ILL_ILLOPN, frame.rip),
        16 | 19 => (SIGFPE, FPE_FLTINV, frame.rip),
        17 => (SIGBUS, BUS_ADRALN, 0),
        11 | 12 => (SIGBUS, BUS_ADRERR, 0),
        _ => (SIGSEGV, SI_KERNEL, 0), // #GP and anything else
    };
    log::debug!(
        "container {}: pid {} vector {} at {:#x}: signal {sig}",
        process.sandbox.name,
        process.pid,
        frame.vector,
        frame.rip
    );
    force_signal(&thread, Signal::of(sig), SigInfo::fault(sig, code, addr));
}

/// Forces `SIGSEGV` (`SI_KERNEL`) on the running thread: what Linux does when a
/// signal frame cannot be built or returned from.
pub fn force_segv() {
    let thread = sched::current();
    force_signal(&thread, Signal::of(SIGSEGV), SigInfo::fault(SIGSEGV, SI_KERNEL, 0));
}

/// What a page fault's error code says the access was.
pub fn page_fault_access(error: u64) -> Access {
    if error & 0x10 != 0 {
        Access::Execute
    } else if error & 0x2 != 0 {
        Access::Write
    } else {
        Access::Read
    }
}

/// Delivers a signal caused by the thread's own instruction: if it is blocked or
/// ignored, the default action is restored so the fault cannot loop forever.
fn force_signal(thread: &alloc::sync::Arc<sched::Thread>, sig: Signal, info: SigInfo) {
    let Some(user) = thread.user() else { return };
    let blocked = user.signals.lock().mask.contains(sig.number());
    let action = user.process.signals.action(sig);
    if blocked || action.handler == SIG_IGN {
        user.signals.lock().mask.remove(sig.number());
        if action.handler == SIG_IGN || blocked {
            user.process.signals.actions.lock().lock().set(sig, KernelSigaction::default());
        }
    }
    send_to_thread(thread, sig, info, Sender::Kernel);
}
