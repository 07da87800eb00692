//! The kernel's virtual address space, in one place.
//!
//! ```text
//! 0x0000_0000_0000_0000 .. 0x0000_8000_0000_0000   user space (per address space)
//! 0xffff_8000_0000_0000 ..                          direct map of physical memory
//!                                                   (the boot loader's offset; this is
//!                                                   QEMU PVH's and Limine's usual one)
//! 0xffff_c000_0000_0000 .. +HEAP_MAX                kernel heap, mapped as it grows
//! 0xffff_c800_0000_0000 .. +STACKS_MAX              kernel stacks, each under a guard page
//! 0xffff_d000_0000_0000 .. +21 * 64 GiB             large allocations, a region per size class
//! 0xffff_ffff_8000_0000 ..                          the kernel image (-2 GiB)
//! ```

/// Where the kernel image is linked (its physical load address is added to this).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
/// Direct-map offset set up by the PVH entry code.
pub const PVH_PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// Start of the kernel heap window.
pub const HEAP_START: u64 = 0xffff_c000_0000_0000;
/// Largest the kernel heap may grow.
pub const HEAP_MAX: u64 = 64 << 30;
/// Start of the kernel stack window.
pub const STACKS_START: u64 = 0xffff_c800_0000_0000;
/// Size of the kernel stack window.
pub const STACKS_MAX: u64 = 64 << 30;
/// Start of the large-allocation window (see `large.rs`).
pub const LARGE_START: u64 = 0xffff_d000_0000_0000;
/// The window's region for each size class.
pub const LARGE_CLASS_REGION: u64 = 64 << 30;
/// One past the highest user address (the last page below the canonical hole is kept
/// unmapped, as on Linux, so `sysret` never returns to a non-canonical address).
pub const USER_END: u64 = 0x0000_7fff_ffff_f000;
/// Physical memory below this is left alone (BIOS data, option ROMs, AP trampolines).
pub const LOW_MEMORY_END: u64 = 0x10_0000;
/// Page size.
pub const PAGE_SIZE: u64 = 4096;
