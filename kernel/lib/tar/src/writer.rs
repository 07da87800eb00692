//! Writing archives: the header blocks for one member at a time, so that a caller can
//! stream members whose data it already holds (`docker save`) without copying it.

use crate::BLOCK;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The longest name a ustar header's `name` field holds; longer names get a PAX header.
const NAME_FIELD: usize = 100;

/// What a written member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular file of `size` bytes.
    File,
    /// A directory.
    Directory,
}

/// One member to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    /// Its path in the archive (directories end in `/` by convention).
    pub name: &'a str,
    /// What it is.
    pub kind: MemberKind,
    /// Permission bits.
    pub mode: u32,
    /// Data bytes that follow (0 for directories).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
}

/// The header blocks for `member`: a PAX extended header first when its name does not
/// fit the ustar field, then the ustar header. Its data follows, then [`padding`].
pub fn header(member: &Member<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let name = if member.name.len() > NAME_FIELD {
        let record = pax_record("path", member.name);
        let mut tail = member.name.len().saturating_sub(80);
        while !member.name.is_char_boundary(tail) {
            tail += 1;
        }
        let pax_name = format!("PaxHeaders/{}", &member.name[tail..]);
        let pax = Member { name: &pax_name, kind: MemberKind::File, mode: 0o644, size: record.len() as u64, mtime: 0 };
        out.extend_from_slice(&ustar(&pax, truncated(&pax_name), b'x'));
        out.extend_from_slice(record.as_bytes());
        out.extend_from_slice(&vec![0; padding(record.len() as u64)]);
        truncated(member.name)
    } else {
        member.name
    };
    let flag = match member.kind {
        MemberKind::File => b'0',
        MemberKind::Directory => b'5',
    };
    out.extend_from_slice(&ustar(member, name, flag));
    out
}

/// Zero bytes that pad `size` bytes of data to a whole block.
pub fn padding(size: u64) -> usize {
    ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize
}

/// The end-of-archive marker: two zero blocks.
pub fn end() -> [u8; 2 * BLOCK] {
    [0; 2 * BLOCK]
}

/// The longest prefix of `name` that fits the ustar name field, on a character boundary.
fn truncated(name: &str) -> &str {
    let mut end = name.len().min(NAME_FIELD);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// One PAX record, `"<length> <key>=<value>\n"`, whose length counts itself.
fn pax_record(key: &str, value: &str) -> String {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while len != body + decimal_digits(len) {
        len = body + decimal_digits(len);
    }
    format!("{len} {key}={value}\n")
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// A ustar header block with `name` (at most 100 bytes) and type `flag`.
fn ustar(member: &Member<'_>, name: &str, flag: u8) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut block[100..108], u64::from(member.mode & 0o7777));
    octal(&mut block[108..116], 0);
    octal(&mut block[116..124], 0);
    octal(&mut block[124..136], member.size);
    octal(&mut block[136..148], member.mtime);
    block[156] = flag;
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    octal(&mut block[329..337], 0);
    octal(&mut block[337..345], 0);
    block[148..156].fill(b' ');
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    octal(&mut block[148..155], u64::from(sum));
    block
}

/// Writes `value` as zero-padded octal digits and a NUL into `field`; a size too large
/// for the field's digits gets the base-256 form GNU tar and Go read.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    if digits < 22 && value >> (3 * digits) != 0 {
        field.fill(0);
        field[0] = 0x80;
        let bytes = value.to_be_bytes();
        let len = field.len();
        let n = bytes.len().min(len - 1);
        field[len - n..].copy_from_slice(&bytes[bytes.len() - n..]);
        return;
    }
    for (i, byte) in field[..digits].iter_mut().enumerate() {
        let shift = 3 * (digits - 1 - i);
        *byte = b'0' + ((value >> shift) & 7) as u8;
    }
    field[digits] = 0;
}
