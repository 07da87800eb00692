//! What happens when the kernel panics: report and stop, never hang silently.
//!
//! The report is written straight to the serial port without allocating (the heap may
//! be what failed), and names the system call the running thread was in, if any, so a
//! crash a program caused says which call and arguments caused it.

use crate::proc::UserPart;
use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::Ordering;

/// Formats straight onto the serial port.
struct Emergency;

impl Write for Emergency {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        berth_hal::serial::write_emergency(s.as_bytes());
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    berth_hal::cpu::disable_interrupts();
    let _ = write!(Emergency, "\nKERNEL PANIC: {info}\n");
    report_current_syscall();
    crate::power::fail()
}

/// Names the running thread's system call, its container and process.
fn report_current_syscall() {
    let Some(thread) = crate::sched::try_current() else { return };
    let Some(user) = thread.user() else {
        let _ = writeln!(Emergency, "in kernel thread {} ({})", thread.tid, thread.name);
        return;
    };
    let nr = user.syscall_nr.load(Ordering::Relaxed);
    let name = berth_abi::syscalls::name(nr as usize).unwrap_or("?");
    let a: [u64; 6] = core::array::from_fn(|i| user.syscall_args[i].load(Ordering::Relaxed));
    let (container, pid) = (&user.process.sandbox.name, user.process.pid);
    let _ = writeln!(Emergency, "the end of container {container}'s log:");
    user.process.sandbox.log.try_tail(2048, berth_hal::serial::write_emergency);
    if nr == u64::MAX {
        let _ = writeln!(Emergency, "in container {container}, pid {pid} tid {}, outside a system call", user.tid);
    } else {
        let _ = writeln!(
            Emergency,
            "in system call {nr} ({name}) of container {container}, pid {pid} tid {}: \
             args {:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}",
            user.tid, a[0], a[1], a[2], a[3], a[4], a[5]
        );
    }
}
