//! Validation of x86_64 ELF executables and the load plan the kernel maps them by.
//!
//! berth runs unmodified Linux binaries: `ET_EXEC` files and `ET_DYN` files (PIEs,
//! static-PIEs, and dynamic loaders themselves). [`plan`] reads one and returns a
//! [`LoadPlan`]: the page ranges to map, which part of each comes from the file, their
//! permissions, the entry point, the values for the auxiliary vector, and for a
//! dynamically linked program the interpreter (`PT_INTERP`) that the kernel loads beside
//! it and starts instead. The kernel
//! demand-pages each [`Segment`], filling a faulting page from the file bytes and zeroing
//! the rest, so everything it will ever read from the file is bounded here.
//!
//! The file comes from a container image, so nothing in it is trusted. Before any value
//! is used it is checked, with checked arithmetic, and a malformed file yields an
//! [`ElfError`] naming the field and the reason, never a panic:
//!
//! - the ELF header: length, magic, ELFCLASS64, little-endian, `e_version` 1, `e_machine`
//!   x86_64, `e_type` `ET_EXEC` or `ET_DYN`, `e_phentsize` 56, `e_phnum` 1 to 512, and the
//!   program header table inside the file;
//! - `PT_INTERP`: a path of 2 to 4096 bytes in the file, UTF-8, ending with its only NUL;
//! - each non-empty `PT_LOAD`: `p_filesz <= p_memsz`, file bytes inside the file,
//!   `p_align` a power of two, `p_vaddr ≡ p_offset` modulo the page size (or file pages
//!   could not be mapped), no address overflow, all pages inside the user range, not W+X;
//! - the segments together: at least one, at most [`Limits::max_segments`], no more bytes
//!   than the user range, and no page shared by two of them (the kernel maps each page
//!   once, with one segment's permissions);
//! - the entry point inside the file-backed part of an executable segment;
//! - `PT_PHDR` where a segment maps the program header table, `PT_TLS` with its image
//!   loaded, and at most one of each (and of `PT_GNU_STACK`).
//!
//! Only the ELF header and program headers are parsed (with goblin; its results are
//! bounds-checked here, not trusted). Section headers are never read, so a stripped or
//! corrupt section table does not matter, as on Linux. `PT_GNU_RELRO` is ignored: the
//! segments are mapped with their `p_flags` permissions and libc makes the RELRO range
//! read-only itself with `mprotect` after relocating.

#![no_std]

extern crate alloc;

mod error;
mod header;
mod info;
mod segments;

pub use error::{ElfError, SegmentError};
pub use header::MAX_PROGRAM_HEADERS;

use alloc::vec::Vec;
use goblin::elf::header::ET_DYN;
use goblin::elf::program_header::PT_LOAD;

/// The page size segments are mapped with.
pub const PAGE_SIZE: u64 = 4096;

/// Where user space is and where a static-PIE is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Lowest address a segment may occupy (page aligned).
    pub user_start: u64,
    /// One past the highest address a segment may occupy (page aligned).
    pub user_end: u64,
    /// Load bias for `ET_DYN` files (page aligned).
    pub pie_base: u64,
    /// Most non-empty `PT_LOAD` segments accepted.
    pub max_segments: usize,
}

impl Limits {
    /// berth's: user space from 64 KiB to the top of the lower canonical half less one
    /// page, static-PIEs where Linux puts PIEs when ASLR is off, at most 64 segments.
    pub const BERTH: Limits =
        Limits { user_start: 0x1_0000, user_end: 0x0000_7fff_ffff_f000, pie_base: 0x5555_5555_4000, max_segments: 64 };

    fn check(&self) -> Result<(), ElfError> {
        let aligned = |a: u64| a.is_multiple_of(PAGE_SIZE);
        let reason = if !aligned(self.user_start) || !aligned(self.user_end) || !aligned(self.pie_base) {
            "user_start, user_end and pie_base must be page aligned"
        } else if self.user_start >= self.user_end {
            "user_start must be below user_end"
        } else {
            return Ok(());
        };
        Err(ElfError::InvalidLimits { reason })
    }
}

/// Segment permissions, from `p_flags`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Perms {
    /// `PF_R`.
    pub read: bool,
    /// `PF_W`.
    pub write: bool,
    /// `PF_X`.
    pub execute: bool,
}

/// One region to map. All addresses are absolute (load bias applied).
///
/// A page at `addr` in `start..end` holds, for each byte `x`, the file byte at
/// `file_offset + (x - start)` when `file_start <= x < file_end`, and zero otherwise.
/// Those file bytes always lie inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Page-aligned first address (`p_vaddr` rounded down).
    pub start: u64,
    /// Page-aligned end (`p_vaddr + p_memsz` rounded up).
    pub end: u64,
    /// File offset of the byte at `start` (`p_offset` rounded down by the same amount).
    pub file_offset: u64,
    /// First address backed by file bytes: always `start`, since `p_offset ≡ p_vaddr`.
    pub file_start: u64,
    /// One past the last file-backed address, `p_vaddr + p_filesz` (not rounded); bytes
    /// from here to `end` are zero. Equal to `start` when `p_filesz` is 0: like Linux,
    /// a segment without file bytes maps none, not even the head of its first page.
    pub file_end: u64,
    /// Permissions to map the pages with.
    pub perms: Perms,
}

/// What the kernel needs to map and start an executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// Absolute entry point.
    pub entry: u64,
    /// 0 for `ET_EXEC`, [`Limits::pie_base`] for `ET_DYN`.
    pub load_bias: u64,
    /// The regions to map, sorted by `start`, no page in two of them.
    pub segments: Vec<Segment>,
    /// Absolute address of the program header table in the loaded image (`AT_PHDR`), if
    /// a segment loads it.
    pub phdr: Option<u64>,
    /// `e_phentsize` (`AT_PHENT`), always 56.
    pub phent: u16,
    /// `e_phnum` (`AT_PHNUM`).
    pub phnum: u16,
    /// Page-aligned end of the highest segment, where the kernel starts the `brk` heap.
    pub highest: u64,
    /// `PT_TLS` as (absolute address, `p_memsz`), for information: libc sets TLS up itself.
    pub tls: Option<(u64, u64)>,
    /// Whether `PT_GNU_STACK` has `PF_X`; `false` when it does not or is absent.
    pub executable_stack: bool,
    /// The program interpreter (`PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`) for a
    /// dynamically linked program: the kernel maps it too and starts there.
    pub interpreter: Option<alloc::string::String>,
}

/// Validates an x86_64 executable and computes how to load it. See the crate
/// documentation for what is checked.
pub fn plan(file: &[u8], limits: &Limits) -> Result<LoadPlan, ElfError> {
    limits.check()?;
    let headers = header::read(file)?;
    let singles = info::find(&headers)?;
    let interpreter = info::interpreter(file, &singles)?;
    let load_bias = if headers.e_type == ET_DYN { limits.pie_base } else { 0 };
    let count = headers.phdrs.iter().filter(|ph| ph.p_type == PT_LOAD && ph.p_memsz != 0).count();
    if count == 0 {
        return Err(ElfError::NoLoadSegments);
    }
    if count > limits.max_segments {
        return Err(ElfError::TooManySegments { count, max: limits.max_segments });
    }
    let mut loads = Vec::with_capacity(count);
    for (index, ph) in headers.phdrs.iter().enumerate().filter(|(_, ph)| ph.p_type == PT_LOAD) {
        if let Some(load) = segments::check(index, ph, file.len(), load_bias, limits)? {
            loads.push(load);
        }
    }
    let loads = segments::arrange(loads, limits)?;
    let entry = info::entry(&headers, load_bias, &loads)?;
    let phdr = info::phdr(&headers, &singles, load_bias, &loads)?;
    let tls = info::tls(file, &singles, load_bias, &loads)?;
    let segments: Vec<Segment> = loads.iter().map(|l| l.segment).collect();
    let highest = segments.last().map_or(0, |s| s.end);
    Ok(LoadPlan {
        entry,
        load_bias,
        segments,
        phdr,
        phent: header::PHDR_SIZE,
        phnum: headers.phnum,
        highest,
        tls,
        executable_stack: info::executable_stack(&singles),
        interpreter,
    })
}
