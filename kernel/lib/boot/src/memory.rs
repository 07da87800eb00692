//! The physical memory map: one normalized form for both boot paths.

use crate::PhysRange;
use alloc::vec::Vec;

const PAGE: u64 = 4096;

/// What a region of physical memory holds. Later variants take precedence where the
/// loader's regions overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemoryKind {
    /// Free RAM.
    Usable,
    /// Memory the boot loader used (its page tables, responses); kept reserved.
    Bootloader,
    /// ACPI tables, reclaimable once parsed.
    AcpiReclaimable,
    /// ACPI non-volatile storage.
    AcpiNvs,
    /// Reserved by firmware or hardware.
    Reserved,
    /// Memory reported as faulty.
    Bad,
    /// The kernel image and boot modules.
    KernelAndModules,
}

/// A region of physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// What it holds.
    pub kind: MemoryKind,
}

/// Turns a loader's memory map into berth's form: the pages `carve` ranges (kernel,
/// modules) touch become [`MemoryKind::KernelAndModules`]; where regions overlap the more restrictive
/// kind wins; usable regions shrink to whole pages; adjacent regions of one kind merge;
/// the result is sorted.
pub fn normalize_memory_map(regions: &[MemoryRegion], carve: &[PhysRange]) -> Vec<MemoryRegion> {
    let carved = carve.iter().filter(|r| !r.is_empty()).map(|r| MemoryRegion {
        start: r.start / PAGE * PAGE,
        end: r.end.next_multiple_of(PAGE),
        kind: MemoryKind::KernelAndModules,
    });
    let all: Vec<MemoryRegion> = regions.iter().copied().filter(|r| r.end > r.start).chain(carved).collect();

    // Sweep over every boundary; each elementary interval takes the strongest kind
    // among the regions covering it.
    let mut bounds: Vec<u64> = all.iter().flat_map(|r| [r.start, r.end]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut out: Vec<MemoryRegion> = Vec::new();
    for pair in bounds.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        let Some(kind) = all.iter().filter(|r| r.start <= start && r.end >= end).map(|r| r.kind).max() else {
            continue; // a hole
        };
        match out.last_mut() {
            Some(last) if last.end == start && last.kind == kind => last.end = end,
            _ => out.push(MemoryRegion { start, end, kind }),
        }
    }

    // Usable memory is handed out in whole pages; the slivers become reserved.
    let mut aligned: Vec<MemoryRegion> = Vec::new();
    for r in out {
        if r.kind != MemoryKind::Usable {
            push_merged(&mut aligned, r);
            continue;
        }
        let (start, end) = (r.start.next_multiple_of(PAGE), r.end / PAGE * PAGE);
        if start >= end {
            push_merged(&mut aligned, MemoryRegion { kind: MemoryKind::Reserved, ..r });
            continue;
        }
        if start > r.start {
            push_merged(&mut aligned, MemoryRegion { start: r.start, end: start, kind: MemoryKind::Reserved });
        }
        push_merged(&mut aligned, MemoryRegion { start, end, kind: MemoryKind::Usable });
        if end < r.end {
            push_merged(&mut aligned, MemoryRegion { start: end, end: r.end, kind: MemoryKind::Reserved });
        }
    }
    aligned
}

fn push_merged(out: &mut Vec<MemoryRegion>, r: MemoryRegion) {
    match out.last_mut() {
        Some(last) if last.end == r.start && last.kind == r.kind => last.end = r.end,
        _ => out.push(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemoryKind::*;

    fn r(start: u64, end: u64, kind: MemoryKind) -> MemoryRegion {
        MemoryRegion { start, end, kind }
    }

    #[test]
    fn carves_kernel_out_of_usable_memory() {
        let map = [r(0x10_0000, 0x800_0000, Usable)];
        let out = normalize_memory_map(&map, &[PhysRange::new(0x20_0000, 0x10_0000)]);
        assert_eq!(
            out,
            [
                r(0x10_0000, 0x20_0000, Usable),
                r(0x20_0000, 0x30_0000, KernelAndModules),
                r(0x30_0000, 0x800_0000, Usable)
            ]
        );
    }

    #[test]
    fn overlaps_resolve_to_the_stricter_kind_and_sort() {
        let map = [r(0x5000, 0x9000, Reserved), r(0x0, 0x10000, Usable)];
        let out = normalize_memory_map(&map, &[]);
        assert_eq!(out, [r(0, 0x5000, Usable), r(0x5000, 0x9000, Reserved), r(0x9000, 0x10000, Usable)]);
    }

    #[test]
    fn unaligned_usable_edges_become_reserved() {
        let map = [r(0x1234, 0x5678, Usable), r(0x5678, 0x6000, Reserved)];
        let out = normalize_memory_map(&map, &[]);
        assert_eq!(out, [r(0x1234, 0x2000, Reserved), r(0x2000, 0x5000, Usable), r(0x5000, 0x6000, Reserved)]);
    }

    #[test]
    fn holes_stay_holes_and_empty_regions_vanish() {
        let map = [r(0, 0x1000, Usable), r(0x3000, 0x3000, Usable), r(0x4000, 0x5000, Usable)];
        let out = normalize_memory_map(&map, &[]);
        assert_eq!(out, [r(0, 0x1000, Usable), r(0x4000, 0x5000, Usable)]);
    }
}
