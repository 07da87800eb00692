//! A tiny ELF64 writer for tests, and the invariants every accepted plan must satisfy.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use berth_elf::{Limits, LoadPlan, PAGE_SIZE};

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PT_GNU_RELRO: u32 = 0x6474_e552;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

/// One program header.
#[derive(Debug, Clone, Copy)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

impl Phdr {
    /// A `PT_LOAD` with `p_align` 4096.
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Phdr {
        Phdr {
            p_type: PT_LOAD,
            p_flags: flags,
            p_offset: offset,
            p_vaddr: vaddr,
            p_filesz: filesz,
            p_memsz: memsz,
            p_align: 0x1000,
        }
    }

    /// Any other program header.
    pub fn other(p_type: u32, flags: u32, offset: u64, vaddr: u64, size: u64) -> Phdr {
        Phdr { p_type, p_flags: flags, p_offset: offset, p_vaddr: vaddr, p_filesz: size, p_memsz: size, p_align: 8 }
    }
}

/// An ELF image to write: header fields, program headers, file length and extra bytes.
#[derive(Debug, Clone)]
pub struct Image {
    pub class: u8,
    pub data: u8,
    pub e_type: u16,
    pub e_machine: u16,
    pub e_version: u32,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub e_phentsize: u16,
    /// `None`: the number of `phdrs`.
    pub e_phnum: Option<u16>,
    pub e_shoff: u64,
    pub e_shnum: u16,
    pub phdrs: Vec<Phdr>,
    /// File length; the writer never truncates the headers it writes.
    pub len: usize,
    /// Bytes to place at offsets (e.g. the interpreter path).
    pub blobs: Vec<(usize, Vec<u8>)>,
}

/// A valid non-PIE executable laid out like GNU ld's output: R headers, R+X text, RW data
/// with bss, and a `PT_GNU_STACK`.
pub fn exec() -> Image {
    Image {
        class: 2,
        data: 1,
        e_type: 2,
        e_machine: 62,
        e_version: 1,
        e_entry: 0x40_1000,
        e_phoff: 64,
        e_phentsize: 56,
        e_phnum: None,
        e_shoff: 0,
        e_shnum: 0,
        phdrs: vec![
            Phdr::load(PF_R, 0, 0x40_0000, 0x200, 0x200),
            Phdr::load(PF_R | PF_X, 0x1000, 0x40_1000, 0x100, 0x100),
            Phdr::load(PF_R | PF_W, 0x2010, 0x40_3010, 0x20, 0x1000),
            Phdr::other(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0),
        ],
        len: 0x2030,
        blobs: vec![(0x1000, vec![0xc3; 0x100])],
    }
}

/// A valid static-PIE laid out like lld's output: `PT_PHDR`, R, R+X, RW with `PT_TLS`
/// and `PT_GNU_RELRO`.
pub fn pie() -> Image {
    let mut image = exec();
    image.e_type = 3;
    image.e_entry = 0x1000;
    image.phdrs = vec![
        Phdr::other(PT_PHDR, PF_R, 64, 64, 7 * 56),
        Phdr::load(PF_R, 0, 0, 0x200, 0x200),
        Phdr::load(PF_R | PF_X, 0x1000, 0x1000, 0x100, 0x100),
        Phdr::load(PF_R | PF_W, 0x2010, 0x3010, 0x20, 0x1000),
        Phdr::other(PT_TLS, PF_R, 0x2010, 0x3010, 0x10),
        Phdr::other(PT_GNU_RELRO, PF_R, 0x2010, 0x3010, 0x10),
        Phdr::other(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0),
    ];
    image
}

impl Image {
    /// The file bytes.
    pub fn build(&self) -> Vec<u8> {
        let phnum = self.e_phnum.unwrap_or(self.phdrs.len() as u16);
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = self.class;
        f[5] = self.data;
        f[6] = 1;
        let mut put = |at: usize, bytes: &[u8]| f[at..at + bytes.len()].copy_from_slice(bytes);
        put(16, &self.e_type.to_le_bytes());
        put(18, &self.e_machine.to_le_bytes());
        put(20, &self.e_version.to_le_bytes());
        put(24, &self.e_entry.to_le_bytes());
        put(32, &self.e_phoff.to_le_bytes());
        put(40, &self.e_shoff.to_le_bytes());
        put(52, &64u16.to_le_bytes());
        put(54, &self.e_phentsize.to_le_bytes());
        put(56, &phnum.to_le_bytes());
        put(58, &64u16.to_le_bytes());
        put(60, &self.e_shnum.to_le_bytes());
        let mut table = Vec::new();
        for p in &self.phdrs {
            table.extend_from_slice(&p.p_type.to_le_bytes());
            table.extend_from_slice(&p.p_flags.to_le_bytes());
            table.extend_from_slice(&p.p_offset.to_le_bytes());
            table.extend_from_slice(&p.p_vaddr.to_le_bytes());
            table.extend_from_slice(&p.p_vaddr.to_le_bytes()); // p_paddr
            table.extend_from_slice(&p.p_filesz.to_le_bytes());
            table.extend_from_slice(&p.p_memsz.to_le_bytes());
            table.extend_from_slice(&p.p_align.to_le_bytes());
        }
        let mut pieces = self.blobs.clone();
        if let Ok(phoff) = usize::try_from(self.e_phoff)
            && phoff < 1 << 20
        {
            pieces.push((phoff, table));
        }
        let end = pieces.iter().map(|(at, b)| at + b.len()).max().unwrap_or(0);
        f.resize(self.len.max(end).max(64), 0);
        for (at, bytes) in pieces {
            f[at..at + bytes.len()].copy_from_slice(&bytes);
        }
        f.truncate(self.len.max(64));
        f
    }
}

/// Checks what the kernel relies on in an accepted plan: page-aligned, sorted, disjoint
/// segments inside the user range whose file bytes lie inside the file, and an entry
/// point in an executable segment.
pub fn check_invariants(plan: &LoadPlan, file_len: usize, limits: &Limits) {
    assert!(!plan.segments.is_empty());
    for s in &plan.segments {
        assert_eq!(s.start % PAGE_SIZE, 0, "{s:x?}");
        assert_eq!(s.end % PAGE_SIZE, 0, "{s:x?}");
        assert_eq!(s.file_offset % PAGE_SIZE, 0, "{s:x?}");
        assert!(s.start < s.end, "{s:x?}");
        assert!(limits.user_start <= s.start && s.end <= limits.user_end, "{s:x?}");
        assert_eq!(s.file_start, s.start, "{s:x?}");
        assert!(s.file_start <= s.file_end && s.file_end <= s.end, "{s:x?}");
        let file_bytes = s.file_end - s.file_start;
        assert!(s.file_offset + file_bytes <= file_len as u64, "{s:x?} reads past the {file_len}-byte file");
        assert!(!(s.perms.write && s.perms.execute), "{s:x?}");
    }
    for pair in plan.segments.windows(2) {
        assert!(pair[0].end <= pair[1].start, "unsorted or overlapping: {pair:x?}");
    }
    assert_eq!(plan.highest, plan.segments.last().unwrap().end);
    assert!(
        plan.segments.iter().any(|s| s.perms.execute && s.start <= plan.entry && plan.entry < s.file_end),
        "entry {:#x} not in an executable segment",
        plan.entry
    );
    if let Some(phdr) = plan.phdr {
        let table_end = phdr + u64::from(plan.phnum) * u64::from(plan.phent);
        assert!(plan.segments.iter().any(|s| s.start <= phdr && table_end <= s.file_end), "phdr {phdr:#x}");
    }
    assert_eq!(plan.phent, 56);
}
