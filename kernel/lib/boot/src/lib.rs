//! The boot information both boot paths hand to the kernel, and the code that builds it.
//!
//! berth boots two ways: through the Limine protocol on real machines, and through
//! QEMU's PVH direct boot in development and tests. Each entry path gathers what its
//! loader provides and converts it here into one [`BootInfo`], so the kernel proper
//! never knows how it was started. The conversions are plain functions over plain data,
//! which is what lets the host test suite check that both paths agree.

#![no_std]

extern crate alloc;

mod bundle;
mod cmdline;
mod limine;
mod memory;
mod pvh;

pub use bundle::{BUNDLE_MANIFEST, unpack_bundle};
pub use cmdline::{KernelArgs, split_words};
pub use limine::{LimineInput, LimineMemoryEntry, LimineModule, from_limine};
pub use memory::{MemoryKind, MemoryRegion, normalize_memory_map};
pub use pvh::{PVH_MAGIC, PhysMemory, from_pvh};

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A half-open range of physical addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl PhysRange {
    /// The range `[start, start + len)`.
    pub fn new(start: u64, len: u64) -> PhysRange {
        PhysRange { start, end: start.saturating_add(len) }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Which loader started the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loader {
    /// QEMU (or another VMM) through the PVH ELF note.
    Pvh,
    /// A Limine-protocol boot loader, with its reported name and version.
    Limine {
        /// The loader's name, e.g. `Limine`.
        name: String,
        /// The loader's version string.
        version: String,
        /// The protocol's base revision the loader booted with, if it said: loaders
        /// from before revision 3 (Limine 8 and older) boot a kernel asking for 3
        /// with their own newest (2) and cannot say so.
        base_revision: Option<u64>,
    },
}

impl fmt::Display for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loader::Pvh => f.write_str("PVH direct boot"),
            Loader::Limine { name, version, base_revision: Some(r) } => {
                write!(f, "{name} {version} (Limine protocol, base revision {r})")
            }
            Loader::Limine { name, version, base_revision: None } => {
                write!(f, "{name} {version} (Limine protocol, base revision 2 or older)")
            }
        }
    }
}

/// A file the loader placed in memory for the kernel (an image archive, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Where its bytes are.
    pub phys: PhysRange,
    /// The command line given to it in `limine.cfg`.
    pub cmdline: String,
}

/// Everything the kernel needs to know about the machine and how it was booted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootInfo {
    /// Who booted us.
    pub loader: Loader,
    /// Physical memory: sorted, non-overlapping, usable regions page-aligned, with the
    /// kernel image and modules carved out as [`MemoryKind::KernelAndModules`].
    pub memory_map: Vec<MemoryRegion>,
    /// Virtual address at which all physical memory is mapped (`virt = phys + offset`).
    pub phys_offset: u64,
    /// Where the kernel image lies in physical memory.
    pub kernel: PhysRange,
    /// Boot-time modules, in `limine.cfg` order.
    pub modules: Vec<Module>,
    /// The kernel command line.
    pub cmdline: String,
    /// Physical address of the ACPI RSDP, when the loader knows it.
    pub rsdp: Option<u64>,
}

impl BootInfo {
    /// Total bytes of usable RAM.
    pub fn usable_bytes(&self) -> u64 {
        self.memory_map.iter().filter(|r| r.kind == MemoryKind::Usable).map(|r| r.end - r.start).sum()
    }
}

/// Why boot information could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootError {
    /// The PVH start info's magic number is wrong.
    BadMagic(u32),
    /// A structure the loader pointed at is not readable memory.
    Unreadable {
        /// What was being read.
        what: &'static str,
        /// Its physical address.
        addr: u64,
    },
    /// The loader gave no memory map.
    NoMemoryMap,
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::BadMagic(m) => write!(f, "PVH start info has bad magic {m:#x}"),
            BootError::Unreadable { what, addr } => write!(f, "cannot read {what} at {addr:#x}"),
            BootError::NoMemoryMap => f.write_str("the boot loader gave no memory map"),
        }
    }
}
