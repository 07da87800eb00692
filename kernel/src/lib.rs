//! The berth kernel: everything above the unsafe layer.
//!
//! `kmain` is the table of contents: each line brings up one subsystem, in order. This
//! crate contains no unsafe code; what needs it (CPU tables, page tables, device
//! registers) is reached through `berth_hal`'s safe interfaces.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

mod console;
mod container;
mod fs;
mod futex;
mod ktest;
mod mm;
mod panic;
mod platform;
mod power;
mod proc;
mod random;
mod sched;
mod syscall;
mod time;
mod trap;
mod uaccess;

use berth_boot::KernelArgs;
pub use berth_hal::bootinfo::BootInfo;

/// The kernel version, as printed in the boot banner.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The kernel's main function, entered once from the boot code.
pub fn kmain(boot: BootInfo) -> ! {
    let args = KernelArgs::parse(&boot.cmdline);
    console::init(&args); // the log on COM1, its level from `log=`
    let memory = mm::init(&boot); // frame pool, own page tables, growing heap
    trap::init(); // GDT, TSS, IDT and the trap dispatcher
    let platform = platform::init(&boot); // ACPI tables, local APIC, reference clock
    time::init(&platform, &args); // calibrated TSC clock and the periodic tick
    time::init_wall_clock(); // the wall clock from the RTC
    random::init(); // the kernel's random numbers
    sched::init(); // this boot thread becomes the idle thread
    trap::init_syscalls(); // `syscall` entry, FPU state for user threads
    console::banner(&boot, &memory, &platform);
    BOOT.call_once(|| boot);
    if let Err(e) = sched::spawn_kernel("init", init, 0) {
        panic!("cannot start the init thread: {e}");
    }
    berth_hal::cpu::enable_interrupts();
    sched::idle_loop()
}

static BOOT: spin::Once<BootInfo> = spin::Once::new();

/// The first kernel thread: runs a requested in-kernel test, or starts the machine's
/// services.
fn init(_: usize) -> ! {
    let boot = BOOT.get().expect("set before init starts");
    let args = KernelArgs::parse(&boot.cmdline);
    if let Some(test) = args.get("test") {
        ktest::run(test, boot); // in-kernel tests for the QEMU harness; exits QEMU
    }
    if let Err(e) = sched::spawn_kernel("watchdog", container::watchdog, 0) {
        log::error!("cannot start the container watchdog: {e}");
    }
    let started = container::boot::start_boot_containers(boot); // modules listed in limine.cfg
    log::info!("ready");
    if args.has("halt-when-done") {
        container::boot::wait_for_all(&started);
        power::shutdown();
    }
    loop {
        sched::sleep(u64::MAX, None).ok();
    }
}
