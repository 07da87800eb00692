//! One 512-byte tar header: field extraction and validation.

use crate::{BLOCK, Error};
use alloc::string::{String, ToString};

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (type `0`, NUL or `7`).
    File,
    /// A hard link to an earlier entry (type `1`); the target is in `link_name`.
    HardLink,
    /// A symbolic link (type `2`); the target is in `link_name`.
    Symlink,
    /// A character device node (type `3`).
    CharDevice,
    /// A block device node (type `4`).
    BlockDevice,
    /// A directory (type `5`).
    Directory,
    /// A FIFO (type `6`).
    Fifo,
    /// Any other type flag, kept so callers can report it.
    Other(u8),
}

impl EntryKind {
    fn from_flag(flag: u8) -> EntryKind {
        match flag {
            b'0' | 0 | b'7' => EntryKind::File,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' => EntryKind::Directory,
            b'6' => EntryKind::Fifo,
            other => EntryKind::Other(other),
        }
    }

    /// Whether `size` bytes of data follow the header. Like Python's `tarfile`, only
    /// regular files and unknown types carry data; links, directories and device nodes
    /// never do, whatever their size field says.
    pub fn has_data(self) -> bool {
        matches!(self, EntryKind::File | EntryKind::Other(_))
    }
}

/// A fully resolved entry header (long names and PAX overrides applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The entry's path as stored in the archive (e.g. `./bin/busybox` or `etc/`).
    pub name: String,
    /// The target of a link entry; empty for other kinds.
    pub link_name: String,
    /// What the entry is.
    pub kind: EntryKind,
    /// Permission bits (including setuid/setgid/sticky).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Size of the entry's data in bytes (0 for kinds without data).
    pub size: u64,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: u64,
    /// Offset of the entry's first data byte from the start of the archive.
    pub data_offset: u64,
    /// A device entry's major and minor numbers (0 for other kinds).
    pub device: (u32, u32),
    /// PAX records in berth's own namespace (`BERTH.<key>=<value>`), as (key, value).
    pub berth: alloc::vec::Vec<(String, String)>,
}

/// The raw fields of one header block, before long-name and PAX overrides.
pub(crate) struct RawHeader {
    pub flag: u8,
    pub name: String,
    pub link_name: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: u64,
    pub device: (u32, u32),
}

/// Whether a block is all zeros (the end-of-archive marker).
pub(crate) fn is_zero_block(block: &[u8; BLOCK]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// Decodes and checks one header block found at archive offset `offset`.
pub(crate) fn parse(block: &[u8; BLOCK], offset: u64) -> Result<RawHeader, Error> {
    verify_checksum(block, offset)?;
    let number = |field: &'static str, range: core::ops::Range<usize>| {
        parse_number(&block[range]).ok_or(Error::BadNumber { field, offset })
    };
    let mode = number("mode", 100..108)?;
    let uid = number("uid", 108..116)?;
    let gid = number("gid", 116..124)?;
    let size = number("size", 124..136)?;
    let mtime = number("mtime", 136..148)?;
    let flag = block[156];
    let is_ustar = &block[257..262] == b"ustar";
    let mut name = field_str(&block[0..100], offset)?;
    if is_ustar && block[263] == b'0' {
        // POSIX ustar (not the old GNU format, whose version field is " \0"): the
        // prefix field extends the name.
        let prefix = field_str(&block[345..500], offset)?;
        if !prefix.is_empty() {
            name = prefix + "/" + &name;
        }
    }
    let link_name = field_str(&block[157..257], offset)?;
    // Device numbers (ustar and GNU headers alike); absent or bad ones read as 0.
    let device_number =
        |range: core::ops::Range<usize>| parse_number(&block[range]).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    let device = if is_ustar { (device_number(329..337), device_number(337..345)) } else { (0, 0) };
    Ok(RawHeader {
        flag,
        name,
        link_name,
        mode: (mode & 0o7777) as u32,
        uid: u32::try_from(uid).map_err(|_| Error::BadNumber { field: "uid", offset })?,
        gid: u32::try_from(gid).map_err(|_| Error::BadNumber { field: "gid", offset })?,
        size,
        mtime,
        device,
    })
}

impl RawHeader {
    /// The entry kind this header's type flag names.
    pub fn kind(&self) -> EntryKind {
        EntryKind::from_flag(self.flag)
    }
}

fn verify_checksum(block: &[u8; BLOCK], offset: u64) -> Result<(), Error> {
    let stored = parse_number(&block[148..156]).ok_or(Error::BadChecksum { offset })?;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    // Some historic archivers summed signed bytes; accept either like GNU tar does.
    if stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed) {
        Ok(())
    } else {
        Err(Error::BadChecksum { offset })
    }
}

/// Parses an octal field (NUL/space padded) or a GNU base-256 field.
pub(crate) fn parse_number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        // Base-256: the remaining bits, big-endian. Negative values are refused.
        if field[0] & 0x40 != 0 {
            return None;
        }
        let mut value: u64 = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = field.split(|&b| b == 0).next().unwrap_or(&[]);
    let digits = trim_spaces(text);
    if digits.is_empty() {
        return Some(0);
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(value)
}

fn trim_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' '] = s {
        s = rest;
    }
    s
}

/// A NUL-terminated (or full-width) string field.
fn field_str(field: &[u8], offset: u64) -> Result<String, Error> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    core::str::from_utf8(&field[..end]).map(ToString::to_string).map_err(|_| Error::BadName { offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields() {
        assert_eq!(parse_number(b"0000644\0"), Some(0o644));
        assert_eq!(parse_number(b"  755 \0"), Some(0o755));
        assert_eq!(parse_number(b"\0\0\0\0"), Some(0));
        assert_eq!(parse_number(b"0000008\0"), None);
        assert_eq!(parse_number(b"12x4\0"), None);
    }

    #[test]
    fn base256_fields() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 0x10;
        f[10] = 0x01;
        assert_eq!(parse_number(&f), Some(0x110));
        f[0] = 0xff; // negative
        assert_eq!(parse_number(&f), None);
    }

    #[test]
    fn huge_octal_overflows_to_error() {
        assert_eq!(parse_number(b"7777777777777777777777777"), None);
    }
}
