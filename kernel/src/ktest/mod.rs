//! In-kernel tests, selected with `test=<name>` on the command line.
//!
//! The QEMU harness (`tests/`) boots the kernel with a test name, reads the serial log
//! and checks the outcome line and QEMU's exit status. Each test prints
//! `TEST <name>: ok` or `TEST <name>: FAILED: <why>` and stops the machine.

mod churn;
mod faults;
mod memory;
mod microbench;
mod threads;
mod timer;

use berth_hal::bootinfo::BootInfo;

/// A test's verdict.
pub type Outcome = Result<(), alloc::string::String>;

/// Runs the named test and stops the machine.
pub fn run(name: &str, boot: &BootInfo) -> ! {
    let outcome = match name {
        "memory-map" => memory::memory_map(boot),
        "frames" => memory::frame_pool_stress(),
        "heap" => memory::heap_stress(),
        "page-fault" => faults::page_fault(),
        "divide-error" => faults::divide_error(),
        "timer" => timer::tick_rate(),
        "threads" => threads::kernel_threads(),
        "microbench" => microbench::primitives(),
        "churn" => churn::faulting_containers(boot, 1000),
        "image-sharing" => churn::image_sharing(boot, 100),
        "start-latency" => churn::start_latency(boot, 30),
        "shutdown" => crate::power::shutdown(),
        other => Err(alloc::format!("no such test `{other}`")),
    };
    match outcome {
        Ok(()) => {
            log::info!("TEST {name}: ok");
            crate::power::exit_success()
        }
        Err(why) => {
            log::error!("TEST {name}: FAILED: {why}");
            crate::power::fail()
        }
    }
}
