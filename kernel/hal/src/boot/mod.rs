//! The two ways into the kernel, and the hand-over to `kmain`.
//!
//! Both entry points switch to the boot stack, bring up the console and the bootstrap
//! heap, gather what their loader provides into a [`BootInfo`] and call
//! `berth_kmain`, which the kernel binary defines.

mod limine;
mod pvh;

pub(crate) use limine::parked_cpu;

use crate::bootinfo::{BootInfo, PhysRange};
use crate::layout::KERNEL_VMA;
use core::sync::atomic::{AtomicU64, Ordering};

unsafe extern "Rust" {
    /// The kernel's main function, defined by the kernel binary.
    fn berth_kmain(boot: BootInfo) -> !;
}

/// TSC value when the kernel was entered, for boot-time measurements.
static ENTRY_TSC: AtomicU64 = AtomicU64::new(0);
/// Physical address the kernel image's first byte was loaded at.
static KERNEL_PHYS: AtomicU64 = AtomicU64::new(0);

/// TSC value at kernel entry.
pub fn entry_tsc() -> u64 {
    ENTRY_TSC.load(Ordering::Relaxed)
}

/// Work common to both entries before boot information exists.
fn early_init() {
    ENTRY_TSC.store(crate::cpu::read_tsc(), Ordering::Relaxed);
    crate::serial::init();
    // Before anything can ask which CPU it runs on (a panic handler might).
    crate::percpu::init_boot_cpu();
    crate::heap::init_bootstrap();
}

/// Records where the kernel lies and calls the kernel.
fn enter_kernel(info: BootInfo) -> ! {
    KERNEL_PHYS.store(info.kernel.start, Ordering::Relaxed);
    // SAFETY: `berth_kmain` is defined by the kernel binary with this exact signature.
    unsafe { berth_kmain(info) }
}

/// Reports a boot failure on the console and stops.
fn fail(what: &dyn core::fmt::Display) -> ! {
    use alloc::format;
    crate::serial::write_emergency(format!("berth: cannot boot: {what}\n").as_bytes());
    crate::cpu::exit_qemu(0x11)
}

/// Linker-script symbols bounding the kernel image and its sections.
pub(crate) mod symbols {
    unsafe extern "C" {
        pub static __kernel_start: u8;
        pub static __kernel_end: u8;
        pub static __text_start: u8;
        pub static __text_end: u8;
        pub static __rodata_start: u8;
        pub static __rodata_end: u8;
        pub static __data_start: u8;
        pub static __data_end: u8;
        pub static __boot_stack_guard: u8;
        pub static __boot_stack_bottom: u8;
        pub static __boot_stack_top: u8;
    }
}

/// The virtual address of a linker symbol.
macro_rules! symbol_addr {
    ($name:ident) => {
        // Taking the address of an extern static reads nothing.
        (&raw const crate::boot::symbols::$name) as u64
    };
}
pub(crate) use symbol_addr;

/// The kernel image's virtual extent.
pub(crate) fn kernel_virt_range() -> (u64, u64) {
    (symbol_addr!(__kernel_start), symbol_addr!(__kernel_end))
}

/// Physical address of a kernel-image virtual address.
pub(crate) fn kernel_virt_to_phys(virt: u64) -> u64 {
    virt - kernel_virt_range().0 + KERNEL_PHYS.load(Ordering::Relaxed)
}

/// Where the kernel image lies when loaded at its link address (the PVH case).
fn linked_kernel_range() -> PhysRange {
    let (start, end) = kernel_virt_range();
    PhysRange { start: start - KERNEL_VMA, end: end - KERNEL_VMA }
}
