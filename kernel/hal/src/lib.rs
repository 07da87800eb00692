//! berth's unsafe layer.
//!
//! Everything in berth that needs `unsafe` lives in this crate, and nothing else does:
//! the kernel crate and every library are `#![forbid(unsafe_code)]`. This crate holds
//! the boot entry points, CPU tables (GDT, TSS, IDT) and trap stubs, port and MMIO
//! access, page tables and the physical frame pool, the kernel heap, the ACPI table
//! mapper, the local APIC and reference clocks. Each piece offers a safe interface
//! whose invariants it checks or documents; each `unsafe` block says why it is sound.
//!
//! The crate compiles to nothing except for the bare-metal target.

#![no_std]
#![cfg(target_os = "none")]

extern crate alloc;

pub mod acpi;
pub mod apic;
pub mod blk;
pub mod boot;
pub mod context;
pub mod cpu;
pub mod fpu;
mod frame_cache;
mod gdt;
mod heap;
mod large;
pub mod layout;
pub mod mm;
pub mod mmio;
pub mod pci;
pub mod percpu;
pub mod port;
pub mod rtc;
pub mod serial;
pub mod smp;
pub mod sync;
pub mod time;
pub mod tlb;
pub mod trap;
pub mod typed;
pub mod uaccess;
pub mod user_pt;
pub mod virtio;

pub use berth_boot as bootinfo;
pub use heap::HeapStats;
pub use heap::stats as heap_stats;
