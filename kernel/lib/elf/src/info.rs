//! The program headers besides `PT_LOAD` that the loader reads (`PT_INTERP`, `PT_PHDR`,
//! `PT_TLS`, `PT_GNU_STACK`), and the entry point.
//!
//! Other types (`PT_DYNAMIC`, `PT_NOTE`, `PT_GNU_EH_FRAME`, `PT_GNU_PROPERTY`,
//! `PT_GNU_RELRO`, ...) are for libc or debuggers and are ignored.

use crate::header::{Headers, PHDR_SIZE};
use crate::segments::{self, Load};
use crate::{ElfError, SegmentError};
use alloc::string::String;
use goblin::elf::program_header::{PF_X, PT_GNU_STACK, PT_INTERP, PT_PHDR, PT_TLS, ProgramHeader};

/// Longest interpreter path, with its NUL (Linux's `PATH_MAX`).
const MAX_INTERP: u64 = 4096;

/// A program header and its index in the table.
type Indexed<'a> = Option<(usize, &'a ProgramHeader)>;

/// The program headers that may appear at most once.
#[derive(Default)]
pub(crate) struct Singles<'a> {
    /// `PT_PHDR`.
    pub phdr: Indexed<'a>,
    /// `PT_TLS`.
    pub tls: Indexed<'a>,
    /// `PT_GNU_STACK`.
    pub stack: Indexed<'a>,
    /// `PT_INTERP`.
    pub interp: Indexed<'a>,
}

/// Finds `PT_PHDR`, `PT_TLS`, `PT_GNU_STACK` and `PT_INTERP`, refusing duplicates.
pub(crate) fn find<'a>(headers: &'a Headers) -> Result<Singles<'a>, ElfError> {
    let mut singles = Singles::default();
    for (index, ph) in headers.phdrs.iter().enumerate() {
        let (slot, kind) = match ph.p_type {
            PT_INTERP => (&mut singles.interp, "PT_INTERP"),
            PT_PHDR => (&mut singles.phdr, "PT_PHDR"),
            PT_TLS => (&mut singles.tls, "PT_TLS"),
            PT_GNU_STACK => (&mut singles.stack, "PT_GNU_STACK"),
            _ => continue,
        };
        if let Some((first, _)) = *slot {
            return Err(ElfError::Duplicate { kind, first, second: index });
        }
        *slot = Some((index, ph));
    }
    Ok(singles)
}

/// The program interpreter `PT_INTERP` names (the dynamic loader), if any: a path of
/// 2 to 4096 bytes in the file, UTF-8, ending with its only NUL (as Linux requires).
pub(crate) fn interpreter(file: &[u8], singles: &Singles) -> Result<Option<String>, ElfError> {
    let Some((_, ph)) = singles.interp else { return Ok(None) };
    let bad = |reason| ElfError::BadInterpreter { reason };
    if !(2..=MAX_INTERP).contains(&ph.p_filesz) {
        return Err(bad("its path must be 2 to 4096 bytes long"));
    }
    let start = usize::try_from(ph.p_offset).map_err(|_| bad("its path is outside the file"))?;
    let bytes = start
        .checked_add(ph.p_filesz as usize)
        .and_then(|end| file.get(start..end))
        .ok_or(bad("its path is outside the file"))?;
    let (last, path) = bytes.split_last().ok_or(bad("its path is empty"))?;
    if *last != 0 || path.contains(&0) {
        return Err(bad("its path does not end with its only NUL"));
    }
    let path = core::str::from_utf8(path).map_err(|_| bad("its path is not UTF-8"))?;
    Ok(Some(String::from(path)))
}

/// Checks that the entry point lies in the file-backed part of an executable segment and
/// returns it with the bias applied.
pub(crate) fn entry(headers: &Headers, bias: u64, loads: &[Load]) -> Result<u64, ElfError> {
    let entry = headers.entry.checked_add(bias).ok_or(ElfError::EntryNotExecutable { entry: headers.entry })?;
    if loads.iter().any(|l| l.segment.perms.execute && l.holds_file_bytes(entry, 1)) {
        Ok(entry)
    } else {
        Err(ElfError::EntryNotExecutable { entry })
    }
}

/// Where the loaded image holds the program header table (for `AT_PHDR`).
///
/// With a `PT_PHDR`, its address must be where some `PT_LOAD` maps the bytes at
/// `e_phoff`, or libc would read something else as its program headers. Without one, the
/// first segment that loads the table gives the address, and a table no segment loads
/// gives `None` (Linux then passes a wrong `AT_PHDR`; berth passes none).
pub(crate) fn phdr(headers: &Headers, singles: &Singles, bias: u64, loads: &[Load]) -> Result<Option<u64>, ElfError> {
    let size = u64::from(headers.phnum) * u64::from(PHDR_SIZE);
    let mut candidates = loads.iter().filter_map(|l| l.address_of(headers.phoff, size));
    let Some((index, ph)) = singles.phdr else { return Ok(candidates.next()) };
    let addr = ph.p_vaddr.checked_add(bias).ok_or(ElfError::Segment {
        index,
        error: SegmentError::AddressOverflow { vaddr: ph.p_vaddr, memsz: ph.p_memsz },
    })?;
    if candidates.any(|c| c == addr) {
        Ok(Some(addr))
    } else {
        Err(ElfError::Segment { index, error: SegmentError::PhdrNotLoaded { addr } })
    }
}

/// The `PT_TLS` segment's absolute address and size, after checking that its
/// initialization image is loaded from the file.
pub(crate) fn tls(file: &[u8], singles: &Singles, bias: u64, loads: &[Load]) -> Result<Option<(u64, u64)>, ElfError> {
    let Some((index, ph)) = singles.tls else { return Ok(None) };
    let check = || {
        segments::check_file_range(ph, file.len())?;
        segments::check_align(ph)?;
        let overflow = SegmentError::AddressOverflow { vaddr: ph.p_vaddr, memsz: ph.p_memsz };
        let addr = ph.p_vaddr.checked_add(bias).ok_or(overflow.clone())?;
        addr.checked_add(ph.p_memsz).ok_or(overflow)?;
        if ph.p_filesz > 0 && !loads.iter().any(|l| l.holds_file_bytes(addr, ph.p_filesz)) {
            return Err(SegmentError::TlsNotLoaded { addr, filesz: ph.p_filesz });
        }
        Ok((addr, ph.p_memsz))
    };
    check().map(Some).map_err(|error| ElfError::Segment { index, error })
}

/// Whether `PT_GNU_STACK` asks for an executable stack. Without one, Linux on x86_64
/// makes the stack executable for legacy binaries; this reports `true` only for an
/// explicit `PF_X`, leaving the legacy case to the kernel's policy.
pub(crate) fn executable_stack(singles: &Singles) -> bool {
    singles.stack.is_some_and(|(_, ph)| ph.p_flags & PF_X != 0)
}
