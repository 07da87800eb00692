//! Why an executable was refused: one variant per check, each naming the field and the reason.

use crate::PAGE_SIZE;
use alloc::string::String;
use core::fmt;

/// Why [`plan`](crate::plan) refused a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    /// The [`Limits`](crate::Limits) passed in are inconsistent (a kernel bug, not a bad file).
    InvalidLimits {
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The file is shorter than the 64-byte ELF64 header.
    TooShort {
        /// The file's length in bytes.
        len: usize,
    },
    /// The file does not start with `\x7fELF`.
    BadMagic {
        /// The first four bytes.
        found: [u8; 4],
    },
    /// An ELF header field holds a value berth does not run.
    BadField {
        /// The field, e.g. `e_machine` or `e_ident[EI_CLASS]`.
        field: &'static str,
        /// The value found.
        value: u64,
        /// Why it is refused, phrased to follow the value ("is not x86_64 (62)").
        reason: &'static str,
    },
    /// The program header table does not lie inside the file.
    PhdrTableOutsideFile {
        /// `e_phoff`.
        phoff: u64,
        /// `e_phnum * e_phentsize`.
        size: u64,
        /// The file's length in bytes.
        len: usize,
    },
    /// The header parser (goblin) refused a header the checks above let through.
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// goblin's message.
        message: String,
    },
    /// `PT_INTERP` (the dynamic loader's path) is malformed.
    BadInterpreter {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A program header is malformed.
    Segment {
        /// Its index in the program header table.
        index: usize,
        /// What is wrong with it.
        error: SegmentError,
    },
    /// A program header type that may appear at most once appears twice.
    Duplicate {
        /// The type, e.g. `PT_TLS`.
        kind: &'static str,
        /// Index of the first one.
        first: usize,
        /// Index of the second one.
        second: usize,
    },
    /// More `PT_LOAD` segments than [`Limits::max_segments`](crate::Limits::max_segments).
    TooManySegments {
        /// How many non-empty `PT_LOAD` segments the file has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The file has no non-empty `PT_LOAD` segment: nothing to run.
    NoLoadSegments,
    /// The segments together map more than the whole user address range.
    TooLarge {
        /// Bytes mapped, summed over the page-rounded segments.
        total: u64,
        /// Size of the user address range.
        max: u64,
    },
    /// Two `PT_LOAD` segments claim the same bytes.
    Overlap {
        /// Program header index of one segment.
        first: usize,
        /// Program header index of the other.
        second: usize,
    },
    /// Two `PT_LOAD` segments do not overlap but share a page, which the load plan cannot express.
    SharedPage {
        /// Program header index of the lower segment.
        first: usize,
        /// Program header index of the upper segment.
        second: usize,
        /// The shared page (absolute address).
        page: u64,
    },
    /// The entry point is not in the file-backed part of an executable segment.
    EntryNotExecutable {
        /// The entry point (absolute, bias applied when that did not overflow).
        entry: u64,
    },
}

/// What is wrong with one program header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentError {
    /// `p_filesz > p_memsz`.
    FileszAboveMemsz {
        /// `p_filesz`.
        filesz: u64,
        /// `p_memsz`.
        memsz: u64,
    },
    /// `p_offset + p_filesz` overflows.
    FileRangeOverflow {
        /// `p_offset`.
        offset: u64,
        /// `p_filesz`.
        filesz: u64,
    },
    /// `p_offset + p_filesz` is past the end of the file.
    PastEndOfFile {
        /// `p_offset + p_filesz`.
        end: u64,
        /// The file's length in bytes.
        len: usize,
    },
    /// `p_align` is neither 0, 1 nor a power of two.
    BadAlign {
        /// `p_align`.
        align: u64,
    },
    /// `p_vaddr` and `p_offset` differ modulo the page size, so file pages cannot be mapped.
    Incongruent {
        /// `p_vaddr`.
        vaddr: u64,
        /// `p_offset`.
        offset: u64,
    },
    /// `p_vaddr + p_memsz` (with the load bias, rounded up to a page) overflows.
    AddressOverflow {
        /// `p_vaddr`.
        vaddr: u64,
        /// `p_memsz`.
        memsz: u64,
    },
    /// The segment's pages are not inside the user address range.
    OutsideUserRange {
        /// First page-aligned address (bias applied).
        start: u64,
        /// Page-aligned end (bias applied).
        end: u64,
        /// Lowest user address.
        user_start: u64,
        /// One past the highest user address.
        user_end: u64,
    },
    /// The segment is both writable and executable.
    WriteExecute,
    /// A `PT_PHDR` whose address is not where the loaded image holds the program header table.
    PhdrNotLoaded {
        /// `p_vaddr` with the load bias applied.
        addr: u64,
    },
    /// A `PT_TLS` initialization image that is not inside the file-backed part of a `PT_LOAD`.
    TlsNotLoaded {
        /// `p_vaddr` with the load bias applied.
        addr: u64,
        /// `p_filesz`.
        filesz: u64,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::InvalidLimits { reason } => write!(f, "ELF loader limits are invalid: {reason}"),
            ElfError::TooShort { len } => {
                write!(f, "ELF file is {len} bytes long, too short for the 64-byte ELF64 header")
            }
            ElfError::BadMagic { found } => write!(f, "not an ELF file: magic is {found:02x?}, not 7f 45 4c 46"),
            ElfError::BadField { field, value, reason } => write!(f, "ELF field {field}: {value:#x} {reason}"),
            ElfError::PhdrTableOutsideFile { phoff, size, len } => write!(
                f,
                "ELF program header table (e_phoff {phoff:#x} + {size:#x} bytes) is past the end of the {len}-byte file"
            ),
            ElfError::Parse { what, message } => write!(f, "ELF {what} could not be parsed: {message}"),
            ElfError::BadInterpreter { reason } => write!(f, "ELF PT_INTERP (the program interpreter): {reason}"),
            ElfError::Segment { index, error } => write!(f, "ELF segment {index}: {error}"),
            ElfError::Duplicate { kind, first, second } => {
                write!(f, "ELF segments {first} and {second} are both {kind}; at most one is allowed")
            }
            ElfError::TooManySegments { count, max } => {
                write!(f, "ELF file has {count} PT_LOAD segments, more than the limit of {max}")
            }
            ElfError::NoLoadSegments => write!(f, "ELF file has no non-empty PT_LOAD segment"),
            ElfError::TooLarge { total, max } => {
                write!(f, "ELF segments map {total:#x} bytes, more than the {max:#x}-byte user address range")
            }
            ElfError::Overlap { first, second } => write!(f, "ELF segments {first} and {second} overlap"),
            ElfError::SharedPage { first, second, page } => write!(
                f,
                "ELF segments {first} and {second} share the page at {page:#x}; berth maps every page for one segment"
            ),
            ElfError::EntryNotExecutable { entry } => {
                write!(f, "ELF field e_entry: {entry:#x} is not in the file-backed part of an executable segment")
            }
        }
    }
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentError::FileszAboveMemsz { filesz, memsz } => {
                write!(f, "p_filesz ({filesz:#x}) is larger than p_memsz ({memsz:#x})")
            }
            SegmentError::FileRangeOverflow { offset, filesz } => {
                write!(f, "p_offset ({offset:#x}) + p_filesz ({filesz:#x}) overflows")
            }
            SegmentError::PastEndOfFile { end, len } => {
                write!(f, "p_offset + p_filesz ({end:#x}) is past the end of the {len}-byte file")
            }
            SegmentError::BadAlign { align } => write!(f, "p_align ({align:#x}) is not 0, 1 or a power of two"),
            SegmentError::Incongruent { vaddr, offset } => write!(
                f,
                "p_vaddr ({vaddr:#x}) and p_offset ({offset:#x}) differ modulo the {PAGE_SIZE}-byte page size"
            ),
            SegmentError::AddressOverflow { vaddr, memsz } => {
                write!(f, "p_vaddr ({vaddr:#x}) + p_memsz ({memsz:#x}) overflows the address space")
            }
            SegmentError::OutsideUserRange { start, end, user_start, user_end } => write!(
                f,
                "pages {start:#x}..{end:#x} are outside the user address range {user_start:#x}..{user_end:#x}"
            ),
            SegmentError::WriteExecute => write!(f, "W+X segment (p_flags writable and executable) refused"),
            SegmentError::PhdrNotLoaded { addr } => {
                write!(f, "PT_PHDR p_vaddr ({addr:#x}) is not where a PT_LOAD segment maps the program header table")
            }
            SegmentError::TlsNotLoaded { addr, filesz } => write!(
                f,
                "PT_TLS image ({addr:#x} + {filesz:#x} bytes) is not inside the file-backed part of a PT_LOAD segment"
            ),
        }
    }
}
