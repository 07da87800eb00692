//! The ELF header and the program header table: checked by hand, then parsed by goblin.
//!
//! Only these two structures are read. Section headers are never parsed: the loader does
//! not need them, and a stripped or corrupt section header table must not stop a binary
//! from running (Linux ignores it too).

use crate::ElfError;
use alloc::format;
use alloc::vec::Vec;
use goblin::container::{Container, Ctx, Endian};
use goblin::elf::Elf;
use goblin::elf::header::{EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::ProgramHeader;

/// Size of the ELF64 header.
const EHDR_SIZE: usize = 64;
/// Size of one ELF64 program header.
pub(crate) const PHDR_SIZE: u16 = 56;
/// Most program headers accepted. Real executables have about a dozen; the cap bounds
/// the table goblin allocates before any segment is looked at.
pub const MAX_PROGRAM_HEADERS: u16 = 512;

/// The header fields the loader uses, and the parsed program headers.
pub(crate) struct Headers {
    /// `e_type`: `ET_EXEC` or `ET_DYN`.
    pub e_type: u16,
    /// `e_entry`, unbiased.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phnum`.
    pub phnum: u16,
    /// The program header table, `phnum` entries.
    pub phdrs: Vec<ProgramHeader>,
}

/// Checks the ELF header and reads the program header table.
pub(crate) fn read(file: &[u8]) -> Result<Headers, ElfError> {
    let ident: &[u8; EHDR_SIZE] =
        file.get(..EHDR_SIZE).and_then(|h| h.try_into().ok()).ok_or(ElfError::TooShort { len: file.len() })?;
    let magic = [ident[0], ident[1], ident[2], ident[3]];
    if &magic != ELFMAG {
        return Err(ElfError::BadMagic { found: magic });
    }
    let class = ident[EI_CLASS];
    if class != ELFCLASS64 {
        return Err(bad("e_ident[EI_CLASS]", class.into(), "is not ELFCLASS64 (2): berth runs 64-bit executables"));
    }
    let data = ident[EI_DATA];
    if data != ELFDATA2LSB {
        return Err(bad("e_ident[EI_DATA]", data.into(), "is not ELFDATA2LSB (1): x86_64 is little-endian"));
    }
    let header = Elf::parse_header(file).map_err(|e| ElfError::Parse { what: "header", message: format!("{e}") })?;
    if header.e_version != 1 {
        return Err(bad("e_version", header.e_version.into(), "is not EV_CURRENT (1)"));
    }
    if header.e_machine != EM_X86_64 {
        return Err(bad("e_machine", header.e_machine.into(), "is not x86_64 (62)"));
    }
    if header.e_type != ET_EXEC && header.e_type != ET_DYN {
        return Err(bad("e_type", header.e_type.into(), "is neither ET_EXEC (2) nor ET_DYN (3)"));
    }
    if header.e_phentsize != PHDR_SIZE {
        return Err(bad("e_phentsize", header.e_phentsize.into(), "is not 56, the size of an ELF64 program header"));
    }
    if header.e_phnum == 0 {
        return Err(bad("e_phnum", 0, "is zero: the file has no program headers"));
    }
    if header.e_phnum > MAX_PROGRAM_HEADERS {
        return Err(bad("e_phnum", header.e_phnum.into(), "is more than 512 program headers"));
    }
    let size = u64::from(header.e_phnum) * u64::from(PHDR_SIZE);
    let outside = ElfError::PhdrTableOutsideFile { phoff: header.e_phoff, size, len: file.len() };
    let end = header.e_phoff.checked_add(size).ok_or(outside.clone())?;
    if end > file.len() as u64 {
        return Err(outside);
    }
    // In bounds of a slice, so both fit in usize.
    let phoff = usize::try_from(header.e_phoff).map_err(|_| outside)?;
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = ProgramHeader::parse(file, phoff, usize::from(header.e_phnum), ctx)
        .map_err(|e| ElfError::Parse { what: "program header table", message: format!("{e}") })?;
    Ok(Headers { e_type: header.e_type, entry: header.e_entry, phoff: header.e_phoff, phnum: header.e_phnum, phdrs })
}

fn bad(field: &'static str, value: u64, reason: &'static str) -> ElfError {
    ElfError::BadField { field, value, reason }
}
