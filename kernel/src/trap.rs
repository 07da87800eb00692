//! Trap dispatch: exceptions, device interrupts and the timer.

use crate::proc::UserPart;
use berth_hal::apic;
use berth_hal::trap::TrapFrame;

/// Installs the CPU tables and the dispatcher.
pub fn init() {
    berth_hal::trap::init();
    berth_hal::trap::set_handler(dispatch);
}

/// Enables the `syscall` instruction and user FPU state.
pub fn init_syscalls() {
    berth_hal::context::init(crate::syscall::entry);
}

fn dispatch(frame: &mut TrapFrame) {
    if frame.vector == 2 {
        // Another CPU's TLB shootdown (the only NMIs berth sends). Nothing else runs in
        // an NMI: no rescheduling, no signals.
        berth_hal::tlb::on_nmi();
        return;
    }
    match frame.vector {
        0..=31 if frame.from_user() => crate::proc::user_exception(frame),
        14 if berth_hal::uaccess::in_user_copy(frame) => user_copy_fault(frame),
        0..=31 => kernel_fault(frame),
        v if v == u64::from(crate::time::TIMER_VECTOR) => {
            crate::profile::sample(frame);
            if berth_hal::percpu::index() == 0 {
                crate::time::tick();
            }
            crate::sched::on_tick();
            apic::eoi();
        }
        v if v == u64::from(berth_hal::smp::RESCHEDULE_VECTOR) => {
            crate::sched::on_reschedule_ipi();
            apic::eoi();
        }
        v if v == u64::from(apic::SPURIOUS_VECTOR) => {}
        v if crate::irq::handle(v as u8) => {}
        v => {
            log::warn!("unexpected interrupt on vector {v:#x}");
            apic::eoi();
        }
    }
    if frame.from_user() {
        // Yield if the time slice is over, take signals, or end the thread.
        crate::syscall::return_to_user(frame);
    }
}

/// A page fault while the kernel copies to or from user memory: demand paging fixes
/// it, or the copy fails with EFAULT.
fn user_copy_fault(frame: &mut TrapFrame) {
    let addr = berth_hal::cpu::fault_address();
    let access = crate::proc::page_fault_access(frame.error_code);
    let thread = crate::sched::current();
    let resolved = match thread.user() {
        Some(user) => user.process.with_vm(|space| space.handle_fault(addr, access)).is_ok(),
        None => false,
    };
    if !resolved {
        berth_hal::uaccess::fail_user_copy(frame);
    }
}

/// Exception names, by vector.
fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        _ => "reserved exception",
    }
}

/// Reports an exception in kernel mode and stops the machine with a failure status.
fn kernel_fault(frame: &TrapFrame) -> ! {
    use alloc::format;
    let name = exception_name(frame.vector);
    let mut report = format!(
        "\nKERNEL FAULT: {name} (vector {}) error code {:#x} at RIP {:#x}",
        frame.vector, frame.error_code, frame.rip
    );
    if frame.vector == 14 {
        let e = frame.error_code;
        report += &format!(
            "\n  CR2 {:#x} ({} {} in {} mode)",
            berth_hal::cpu::fault_address(),
            if e & 1 != 0 { "protection violation on" } else { "not-present page on" },
            if e & 0x10 != 0 {
                "instruction fetch"
            } else if e & 2 != 0 {
                "write"
            } else {
                "read"
            },
            if e & 4 != 0 { "user" } else { "kernel" },
        );
    }
    report += &format!("\n{frame:?}\n");
    berth_hal::serial::write_emergency(report.as_bytes());
    crate::power::fail()
}
