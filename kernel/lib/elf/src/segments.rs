//! `PT_LOAD` segments: each checked against the file and the user range, then arranged
//! into non-overlapping page ranges.

use crate::{ElfError, Limits, PAGE_SIZE, Perms, Segment, SegmentError};
use alloc::vec::Vec;
use goblin::elf::program_header::{PF_R, PF_W, PF_X, ProgramHeader};

/// A checked `PT_LOAD` segment: the planned [`Segment`] plus the exact byte ranges it came from.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    /// Index in the program header table.
    pub index: usize,
    /// `p_vaddr` with the load bias applied.
    pub vaddr: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_offset`.
    pub offset: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// What the kernel maps.
    pub segment: Segment,
}

impl Load {
    /// Whether `[addr, addr + len)` lies inside the segment's file-backed bytes.
    pub fn holds_file_bytes(&self, addr: u64, len: u64) -> bool {
        // `vaddr + filesz` cannot overflow: it is at most `vaddr + memsz`, which was checked.
        within(addr, len, self.vaddr, self.filesz)
    }

    /// The address at which the file bytes `[offset, offset + len)` appear, if this
    /// segment loads all of them.
    pub fn address_of(&self, offset: u64, len: u64) -> Option<u64> {
        within(offset, len, self.offset, self.filesz).then(|| self.vaddr + (offset - self.offset))
    }
}

/// Whether `[start, start + len)` lies inside `[outer, outer + outer_len)`, without overflow.
pub(crate) fn within(start: u64, len: u64, outer: u64, outer_len: u64) -> bool {
    match (start.checked_sub(outer), outer_len.checked_sub(len)) {
        (Some(skip), Some(room)) => skip <= room,
        _ => false,
    }
}

/// Rounds down to a page boundary.
pub(crate) fn page_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary; `None` on overflow.
pub(crate) fn page_up(addr: u64) -> Option<u64> {
    addr.checked_add(PAGE_SIZE - 1).map(page_down)
}

/// Checks that `p_filesz <= p_memsz` and that `[p_offset, p_offset + p_filesz)` is inside the file.
pub(crate) fn check_file_range(ph: &ProgramHeader, file_len: usize) -> Result<(), SegmentError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(SegmentError::FileszAboveMemsz { filesz: ph.p_filesz, memsz: ph.p_memsz });
    }
    let end = ph
        .p_offset
        .checked_add(ph.p_filesz)
        .ok_or(SegmentError::FileRangeOverflow { offset: ph.p_offset, filesz: ph.p_filesz })?;
    if end > file_len as u64 {
        return Err(SegmentError::PastEndOfFile { end, len: file_len });
    }
    Ok(())
}

/// Checks that `p_align` is 0, 1 or a power of two.
pub(crate) fn check_align(ph: &ProgramHeader) -> Result<(), SegmentError> {
    if ph.p_align > 1 && !ph.p_align.is_power_of_two() {
        return Err(SegmentError::BadAlign { align: ph.p_align });
    }
    Ok(())
}

/// Checks one `PT_LOAD` program header; `Ok(None)` for an empty one (`p_memsz == 0`),
/// which is skipped like Linux skips it.
pub(crate) fn check(
    index: usize,
    ph: &ProgramHeader,
    file_len: usize,
    bias: u64,
    limits: &Limits,
) -> Result<Option<Load>, ElfError> {
    if ph.p_memsz == 0 {
        return Ok(None);
    }
    check_one(ph, file_len, bias, limits)
        .map(|load| Some(Load { index, ..load }))
        .map_err(|error| ElfError::Segment { index, error })
}

fn check_one(ph: &ProgramHeader, file_len: usize, bias: u64, limits: &Limits) -> Result<Load, SegmentError> {
    check_file_range(ph, file_len)?;
    check_align(ph)?;
    if ph.p_vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE {
        return Err(SegmentError::Incongruent { vaddr: ph.p_vaddr, offset: ph.p_offset });
    }
    let overflow = SegmentError::AddressOverflow { vaddr: ph.p_vaddr, memsz: ph.p_memsz };
    let vaddr = ph.p_vaddr.checked_add(bias).ok_or(overflow.clone())?;
    let mem_end = vaddr.checked_add(ph.p_memsz).ok_or(overflow.clone())?;
    let end = page_up(mem_end).ok_or(overflow)?;
    let start = page_down(vaddr);
    if start < limits.user_start || end > limits.user_end {
        return Err(SegmentError::OutsideUserRange {
            start,
            end,
            user_start: limits.user_start,
            user_end: limits.user_end,
        });
    }
    let perms = Perms { read: ph.p_flags & PF_R != 0, write: ph.p_flags & PF_W != 0, execute: ph.p_flags & PF_X != 0 };
    if perms.write && perms.execute {
        return Err(SegmentError::WriteExecute);
    }
    // p_offset and p_vaddr (hence vaddr, the bias being page aligned) share their offset
    // into the page, so the mapping's first page starts that many bytes earlier in the file.
    let file_offset = page_down(ph.p_offset);
    // Like Linux, a segment without file bytes maps none, not even the head of its first page.
    let file_end = if ph.p_filesz == 0 { start } else { vaddr + ph.p_filesz };
    Ok(Load {
        index: 0,
        vaddr,
        memsz: ph.p_memsz,
        offset: ph.p_offset,
        filesz: ph.p_filesz,
        segment: Segment { start, end, file_offset, file_start: start, file_end, perms },
    })
}

/// Sorts the segments by address and checks that no page belongs to two of them.
///
/// Two segments whose bytes overlap are refused as [`ElfError::Overlap`]. Two that merely
/// share a page (one ends and the next begins inside it) are refused as
/// [`ElfError::SharedPage`]: a [`Segment`] covers whole pages with one set of permissions
/// and one file window, so it cannot describe such a page, and the kernel must never map
/// a page twice. Real x86_64 linkers never produce this layout: GNU ld, gold and lld may
/// start a segment mid-page in the *file*, but then move its address to the next page
/// (keeping `p_vaddr ≡ p_offset` modulo the page size), so no virtual page is shared.
/// Only a `max-page-size` below 4096 makes them share one, and such binaries do not run
/// on Linux either. `tests/real.rs` lists the binaries and the survey this rests on.
pub(crate) fn arrange(mut loads: Vec<Load>, limits: &Limits) -> Result<Vec<Load>, ElfError> {
    let max = limits.user_end - limits.user_start;
    let total =
        loads.iter().try_fold(0u64, |sum, l| sum.checked_add(l.segment.end - l.segment.start)).unwrap_or(u64::MAX);
    if total > max {
        return Err(ElfError::TooLarge { total, max });
    }
    loads.sort_unstable_by_key(|l| (l.segment.start, l.vaddr, l.index));
    for pair in loads.windows(2) {
        let [a, b] = pair else { continue };
        if a.segment.end <= b.segment.start {
            continue;
        }
        let (first, second) = (a.index.min(b.index), a.index.max(b.index));
        // Both ends were checked not to overflow.
        let bytes_overlap = a.vaddr < b.vaddr + b.memsz && b.vaddr < a.vaddr + a.memsz;
        if bytes_overlap {
            return Err(ElfError::Overlap { first, second });
        }
        return Err(ElfError::SharedPage { first, second, page: b.segment.start });
    }
    Ok(loads)
}
