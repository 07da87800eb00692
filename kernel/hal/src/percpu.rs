//! Per-CPU data: a small block each CPU reaches through its GS base.
//!
//! The `syscall` entry code uses the first two words (the running thread's kernel
//! stack top, and a slot for the user stack pointer); the third is the CPU's index
//! (0 for the boot CPU, then in the order the CPUs started), which everything else
//! that keeps per-CPU state uses to pick its slot of an array of [`MAX_CPUS`].
//!
//! In kernel mode GS always holds this block: the entry paths `swapgs` when they come
//! from user mode, and the user's GS base waits in `KERNEL_GS_BASE` meanwhile.

use alloc::boxed::Box;
use core::arch::asm;
use core::cell::UnsafeCell;
use x86_64::VirtAddr;
use x86_64::registers::model_specific::{GsBase, KernelGsBase};

/// The most CPUs berth uses (more are left waiting).
pub const MAX_CPUS: usize = 64;

/// The block; its layout is read by the entry code (offsets 0, 8) and [`index`] (16).
#[repr(C)]
struct PerCpu {
    kernel_stack_top: u64,
    user_rsp: u64,
    index: u64,
}

struct BootBlock(UnsafeCell<PerCpu>);
// SAFETY: the block is only reached through GS by the one CPU whose GS base it is.
unsafe impl Sync for BootBlock {}
static BOOT_CPU: BootBlock = BootBlock(UnsafeCell::new(PerCpu { kernel_stack_top: 0, user_rsp: 0, index: 0 }));

/// Points the boot CPU's GS base at its block. Called first thing at boot, before
/// anything asks for [`index`] (loading the GDT later leaves the GS base alone).
pub(crate) fn init_boot_cpu() {
    GsBase::write(VirtAddr::from_ptr(BOOT_CPU.0.get()));
    KernelGsBase::write(VirtAddr::zero());
}

/// Gives an application processor a block of its own (kept for ever) with `index`.
pub(crate) fn init_ap(index: usize) {
    let block = Box::leak(Box::new(PerCpu { kernel_stack_top: 0, user_rsp: 0, index: index as u64 }));
    GsBase::write(VirtAddr::from_ptr(block as *mut PerCpu));
    KernelGsBase::write(VirtAddr::zero());
}

/// The index of the CPU this runs on: below [`MAX_CPUS`], 0 for the boot CPU. Kernel
/// code runs until it blocks or yields, so the answer holds until then.
#[inline]
pub fn index() -> usize {
    let index: u64;
    // SAFETY: in kernel mode GS is this CPU's block (see the module comment), whose
    // third word is the index; reading it has no side effects.
    unsafe { asm!("mov {}, gs:[16]", out(reg) index, options(nostack, preserves_flags, readonly)) };
    index as usize
}

/// Records the stack the `syscall` entry switches to on this CPU.
pub(crate) fn set_kernel_stack_top(top: u64) {
    // SAFETY: GS is this CPU's block; its first word is read by the entry code only on
    // entry from user mode, which cannot happen while the kernel runs on this CPU.
    unsafe { asm!("mov gs:[0], {}", in(reg) top, options(nostack, preserves_flags)) };
}
