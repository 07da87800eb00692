//! Reading the program headers of ELF files (which programs are static, how big
//! their segments are).

/// An ELF program header's type and sizes.
pub struct Segment {
    /// `p_type` (1 = PT_LOAD, 3 = PT_INTERP).
    pub kind: u32,
    /// `p_filesz`.
    pub file_size: u64,
    /// `p_memsz`.
    pub mem_size: u64,
}

/// The program headers of a 64-bit little-endian ELF file, or `None` if it is not one.
pub fn segments(bytes: &[u8]) -> Option<Vec<Segment>> {
    if bytes.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    let (phoff, phentsize, phnum) = (u64_at(0x20)? as usize, u16_at(0x36)? as usize, u16_at(0x38)? as usize);
    (0..phnum)
        .map(|i| {
            let p = phoff.checked_add(i.checked_mul(phentsize)?)?;
            Some(Segment { kind: u32_at(p)?, file_size: u64_at(p + 32)?, mem_size: u64_at(p + 40)? })
        })
        .collect()
}
