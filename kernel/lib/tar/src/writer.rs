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
pub enum MemberKind<'a> {
    /// A regular file of `size` bytes.
    File,
    /// A directory.
    Directory,
    /// A symbolic link to this target.
    Symlink(&'a str),
    /// Another name for the member at this path, written earlier.
    HardLink(&'a str),
    /// A character device with this major and minor number.
    CharDevice(u32, u32),
    /// A block device with this major and minor number.
    BlockDevice(u32, u32),
    /// A FIFO.
    Fifo,
}

/// One member to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    /// Its path in the archive (directories end in `/` by convention).
    pub name: &'a str,
    /// What it is.
    pub kind: MemberKind<'a>,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Data bytes that follow (0 for directories).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
}

/// The header blocks for `member`: a PAX extended header first when its name or link
/// target does not fit its ustar field, then the ustar header. Its data follows, then
/// [`padding`].
pub fn header(member: &Member<'_>) -> Vec<u8> {
    header_with(member, &[])
}

/// As [`header`], with PAX records in berth's own namespace (`BERTH.<key>=<value>`)
/// for the member.
pub fn header_with(member: &Member<'_>, berth: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let link = match member.kind {
        MemberKind::Symlink(target) | MemberKind::HardLink(target) => target,
        _ => "",
    };
    let mut records = String::new();
    if member.name.len() > NAME_FIELD {
        records.push_str(&pax_record("path", member.name));
    }
    if link.len() > NAME_FIELD {
        records.push_str(&pax_record("linkpath", link));
    }
    for (key, value) in berth {
        records.push_str(&pax_record(&format!("BERTH.{key}"), value));
    }
    if !records.is_empty() {
        let mut tail = member.name.len().saturating_sub(80);
        while !member.name.is_char_boundary(tail) {
            tail += 1;
        }
        let pax_name = format!("PaxHeaders/{}", &member.name[tail..]);
        let pax = Member {
            name: &pax_name,
            kind: MemberKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: records.len() as u64,
            mtime: 0,
        };
        out.extend_from_slice(&ustar(&pax, truncated(&pax_name), b'x', ""));
        out.extend_from_slice(records.as_bytes());
        out.extend_from_slice(&vec![0; padding(records.len() as u64)]);
    }
    let flag = match member.kind {
        MemberKind::File => b'0',
        MemberKind::HardLink(_) => b'1',
        MemberKind::Symlink(_) => b'2',
        MemberKind::CharDevice(..) => b'3',
        MemberKind::BlockDevice(..) => b'4',
        MemberKind::Directory => b'5',
        MemberKind::Fifo => b'6',
    };
    out.extend_from_slice(&ustar(member, truncated(member.name), flag, truncated(link)));
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

/// A ustar header block with `name` and `link` (at most 100 bytes each) and type `flag`.
fn ustar(member: &Member<'_>, name: &str, flag: u8, link: &str) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut block[100..108], u64::from(member.mode & 0o7777));
    octal(&mut block[108..116], u64::from(member.uid));
    octal(&mut block[116..124], u64::from(member.gid));
    octal(&mut block[124..136], member.size);
    octal(&mut block[136..148], member.mtime);
    block[156] = flag;
    block[157..157 + link.len()].copy_from_slice(link.as_bytes());
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    let (major, minor) = match member.kind {
        MemberKind::CharDevice(major, minor) | MemberKind::BlockDevice(major, minor) => (major, minor),
        _ => (0, 0),
    };
    octal(&mut block[329..337], u64::from(major));
    octal(&mut block[337..345], u64::from(minor));
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
