//! PVH direct boot: QEMU's `hvm_start_info` into [`BootInfo`].
//!
//! Layout (Xen `arch/x86/hvm/start_info.h`, version 1): magic, version, flags,
//! nr_modules (u32 each), modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr (u64
//! each), memmap_entries, reserved (u32). Module entries are 32 bytes (paddr, size,
//! cmdline_paddr, reserved); memory map entries are 24 bytes (addr, size, E820 type,
//! reserved).

use crate::{BootError, BootInfo, Loader, MemoryKind, MemoryRegion, Module, PhysRange, bundle, normalize_memory_map};
use alloc::string::String;
use alloc::vec::Vec;

/// `hvm_start_info.magic`.
pub const PVH_MAGIC: u32 = 0x336e_c578;

/// Longest command line read from the loader.
const MAX_CMDLINE: u64 = 4096;
/// Most modules or memory map entries accepted.
const MAX_ENTRIES: u32 = 1024;

/// Read access to physical memory, as the boot code has it.
pub trait PhysMemory {
    /// The `len` bytes at physical address `addr`, or `None` if not accessible.
    fn bytes(&self, addr: u64, len: u64) -> Option<&[u8]>;
}

/// Builds [`BootInfo`] from a PVH start info at physical `start_info`. `kernel` is where
/// the kernel image was loaded and `phys_offset` the direct-map offset in effect.
pub fn from_pvh(
    mem: &dyn PhysMemory,
    start_info: u64,
    kernel: PhysRange,
    phys_offset: u64,
) -> Result<BootInfo, BootError> {
    let info = read(mem, start_info, 56, "hvm_start_info")?;
    let magic = u32_at(info, 0);
    if magic != PVH_MAGIC {
        return Err(BootError::BadMagic(magic));
    }
    let version = u32_at(info, 4);
    let nr_modules = u32_at(info, 12).min(MAX_ENTRIES);
    let (modlist, cmdline_addr, rsdp) = (u64_at(info, 16), u64_at(info, 24), u64_at(info, 32));
    if version < 1 {
        return Err(BootError::NoMemoryMap);
    }
    let (memmap, memmap_entries) = (u64_at(info, 40), u32_at(info, 48).min(MAX_ENTRIES));

    let cmdline = read_cstr(mem, cmdline_addr);
    let mut memory = Vec::new();
    let raw = read(mem, memmap, u64::from(memmap_entries) * 24, "PVH memory map")?;
    for e in raw.chunks_exact(24) {
        let (start, size, kind) = (u64_at(e, 0), u64_at(e, 8), u32_at(e, 16));
        memory.push(MemoryRegion { start, end: start.saturating_add(size), kind: e820_kind(kind) });
    }
    if memory.is_empty() {
        return Err(BootError::NoMemoryMap);
    }

    let mut modules = Vec::new();
    let mut carve = alloc::vec![kernel];
    let list = read(mem, modlist, u64::from(nr_modules) * 32, "PVH module list")?;
    for e in list.chunks_exact(32) {
        let phys = PhysRange::new(u64_at(e, 0), u64_at(e, 8));
        carve.push(phys);
        let data = read(mem, phys.start, phys.len(), "boot module")?;
        match bundle::unpack_bundle(data, phys.start) {
            Ok(Some(inner)) => modules.extend(inner),
            // A malformed bundle is passed on whole; the kernel reports it when it
            // tries to use the module.
            Ok(None) | Err(_) => modules.push(Module { phys, cmdline: read_cstr(mem, u64_at(e, 16)) }),
        }
    }

    Ok(BootInfo {
        loader: Loader::Pvh,
        memory_map: normalize_memory_map(&memory, &carve),
        phys_offset,
        kernel,
        modules,
        cmdline,
        rsdp: (rsdp != 0).then_some(rsdp),
    })
}

/// E820 memory types, as PVH reports them.
fn e820_kind(kind: u32) -> MemoryKind {
    match kind {
        1 => MemoryKind::Usable,
        3 => MemoryKind::AcpiReclaimable,
        4 => MemoryKind::AcpiNvs,
        5 => MemoryKind::Bad,
        _ => MemoryKind::Reserved,
    }
}

fn read<'m>(mem: &'m dyn PhysMemory, addr: u64, len: u64, what: &'static str) -> Result<&'m [u8], BootError> {
    if len == 0 {
        return Ok(&[]);
    }
    mem.bytes(addr, len).ok_or(BootError::Unreadable { what, addr })
}

/// Reads a NUL-terminated string of at most [`MAX_CMDLINE`] bytes; empty if absent.
fn read_cstr(mem: &dyn PhysMemory, addr: u64) -> String {
    if addr == 0 {
        return String::new();
    }
    // The string may end close to the end of memory: shrink the window until readable.
    let mut len = MAX_CMDLINE;
    let bytes = loop {
        if let Some(b) = mem.bytes(addr, len) {
            break b;
        }
        if len == 1 {
            return String::new();
        }
        len /= 2;
    };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}
