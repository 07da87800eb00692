//! Limine protocol: the loader's responses into [`BootInfo`].
//!
//! The unsafe layer reads the responses out of the `limine` crate's request statics
//! into a [`LimineInput`]; everything from there on is plain data.

use crate::{BootError, BootInfo, Loader, MemoryKind, MemoryRegion, Module, PhysRange, normalize_memory_map};
use alloc::string::String;
use alloc::vec::Vec;

/// A memory map entry as Limine reports it (`type` uses Limine's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimineMemoryEntry {
    /// Physical base.
    pub base: u64,
    /// Length in bytes.
    pub length: u64,
    /// Limine's entry type (0 usable, 1 reserved, 2 ACPI reclaimable, 3 ACPI NVS,
    /// 4 bad, 5 bootloader reclaimable, 6 executable and modules, 7 framebuffer).
    pub kind: u64,
}

/// A module as Limine reports it: `addr` is a direct-map (HHDM) virtual address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimineModule {
    /// Virtual address of the module's bytes in the HHDM.
    pub addr: u64,
    /// Size in bytes.
    pub size: u64,
    /// The module's command line from `limine.cfg`.
    pub cmdline: String,
}

/// Everything read from Limine's responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimineInput {
    /// `(name, version)` from the bootloader info response.
    pub loader: (String, String),
    /// The memory map response.
    pub memory_map: Vec<LimineMemoryEntry>,
    /// The HHDM offset.
    pub hhdm: u64,
    /// Where the kernel image lies physically (executable address response and size).
    pub kernel: PhysRange,
    /// The module response.
    pub modules: Vec<LimineModule>,
    /// The executable command line.
    pub cmdline: String,
    /// The RSDP address (virtual before base revision 3, physical from 3 on).
    pub rsdp: Option<u64>,
    /// The base revision the loader booted with, if it said (see [`Loader::Limine`]).
    pub base_revision: Option<u64>,
}

/// Builds [`BootInfo`] from Limine's responses.
pub fn from_limine(input: LimineInput) -> Result<BootInfo, BootError> {
    if input.memory_map.is_empty() {
        return Err(BootError::NoMemoryMap);
    }
    let to_phys = |addr: u64| {
        if addr >= input.hhdm { addr - input.hhdm } else { addr }
    };
    let memory: Vec<MemoryRegion> = input
        .memory_map
        .iter()
        .map(|e| MemoryRegion { start: e.base, end: e.base.saturating_add(e.length), kind: limine_kind(e.kind) })
        .collect();
    let modules: Vec<Module> = input
        .modules
        .iter()
        .map(|m| Module { phys: PhysRange::new(to_phys(m.addr), m.size), cmdline: m.cmdline.clone() })
        .collect();
    let mut carve: Vec<PhysRange> = modules.iter().map(|m| m.phys).collect();
    carve.push(input.kernel);
    Ok(BootInfo {
        loader: Loader::Limine { name: input.loader.0, version: input.loader.1, base_revision: input.base_revision },
        memory_map: normalize_memory_map(&memory, &carve),
        phys_offset: input.hhdm,
        kernel: input.kernel,
        modules,
        cmdline: input.cmdline,
        rsdp: input.rsdp.map(to_phys),
    })
}

fn limine_kind(kind: u64) -> MemoryKind {
    match kind {
        0 => MemoryKind::Usable,
        2 => MemoryKind::AcpiReclaimable,
        3 => MemoryKind::AcpiNvs,
        4 => MemoryKind::Bad,
        5 => MemoryKind::Bootloader,
        6 => MemoryKind::KernelAndModules,
        _ => MemoryKind::Reserved,
    }
}
