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
mod ktest;
mod monitor;
mod panic;
mod syscall;
mod trap;

// The layers below, each its own crate (so none of them can use this one), under the
// names this crate's modules use. From the bottom: base, mm and sched, fs, netstack,
// proc (processes and containers), agent.
use berth_agent as agent;
use berth_base::{irq, param, platform, power, random, time};
use berth_container as container;
use berth_fs as fs;
use berth_mm as mm;
use berth_mm::uaccess;
use berth_netstack as net;
use berth_proc::{futex, proc, sandbox};
use berth_sched as sched;
use berth_sched::profile;

use berth_boot::KernelArgs;
pub use berth_hal::bootinfo::BootInfo;

pub use berth_base::{LINUX_RELEASE, VERSION};

/// The kernel's main function, entered once from the boot code.
pub fn kmain(boot: BootInfo) -> ! {
    let args = KernelArgs::parse(&boot.cmdline);
    console::init(&args); // the log on COM1, its level from `log=`
    let memory = mm::init(&boot); // frame pool, own page tables, growing heap
    trap::init(); // GDT, TSS, IDT and the trap dispatcher
    let platform = platform::init(&boot); // ACPI tables, local APIC, reference clock
    if let Err(e) = irq::init() {
        log::warn!("no device interrupts: {e}"); // I/O APICs from the MADT, all masked
    }
    time::init(&platform, &args); // calibrated TSC clock and the periodic tick
    platform::start_cpus(&platform); // the other CPUs come up and wait, parked
    time::init_wall_clock(); // the wall clock from the RTC
    random::init(); // the kernel's random numbers
    sched::init(); // this boot thread becomes the idle thread
    trap::init_syscalls(); // `syscall` entry, FPU state for user threads
    fs::set_running_process(&proc::RUNNING); // what files and sockets ask of processes
    console::banner(&boot, &memory, &platform);
    // On the boot stack: virtio-drivers builds its queues on the stack (~45 KiB),
    // more than a kernel thread's 60 KiB leaves room for.
    net::init(&args); // virtio-net, smoltcp, the `net` thread
    BOOT.call_once(|| boot);
    // Every CPU runs the scheduler unless `nosmp` keeps the others parked.
    if !args.has("nosmp") {
        berth_hal::smp::release(cpu_main);
        log::info!("scheduler: {} CPU(s)", berth_hal::smp::online());
    } else if berth_hal::smp::online() > 1 {
        log::info!("scheduler: 1 CPU (the others stay parked: `nosmp`)");
    }
    if let Err(e) = sched::spawn_kernel("init", init, 0) {
        panic!("cannot start the init thread: {e}");
    }
    berth_hal::cpu::enable_interrupts();
    sched::idle_loop()
}

/// What every other CPU runs once released: its tick, then the scheduler's idle loop.
fn cpu_main(cpu: usize) -> ! {
    time::start_this_cpu();
    sched::run_this_cpu(cpu)
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
    net::wait_configured(crate::param::NET_CONFIG_WAIT_NS); // containers start with an address if DHCP answers
    monitor::init(); // commands on the serial console
    container::store::init(); // the berth data partition, if a disk has one
    container::boot::load_boot_images(boot); // `image NAME` modules, for the agent
    container::store::restore_images(); // images the agent was given before
    agent::start(&args); // the Docker Engine API on port 2375
    let started = container::boot::start_boot_containers(boot); // modules listed in limine.cfg
    log::info!("ready");
    if args.has("halt-when-done") {
        container::boot::wait_for_all(&started);
        for (cpu, busy) in sched::busy_ns().into_iter().enumerate() {
            log::info!("summary: cpu {cpu} busy {} ms", busy / 1_000_000);
        }
        power::shutdown();
    }
    loop {
        sched::sleep(u64::MAX, None).ok();
    }
}
