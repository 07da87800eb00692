//! GUID partition tables (UEFI specification, chapter 5): enough to find a partition
//! by its type on a disk the kernel reads sector by sector.
//!
//! Only the primary table is read (LBA 1 and the entries it points at); a header or an
//! entry array whose CRC32 does not match is an error, as is any field that points
//! outside the disk. [`BERTH_DATA`] is the type of the partition that holds berth's
//! persistent store; the disk image the build writes has one, and so must a disk
//! prepared by hand.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Bytes per sector (logical block) this reader supports.
pub const SECTOR: usize = 512;

/// A GUID in its written form's order (`a1b2c3d4-...` reads as bytes a1, b2, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(pub [u8; 16]);

/// The partition type of berth's data partition (its store).
pub const BERTH_DATA: Guid = Guid::from_u128(0x4711ee13_ab83_4107_8d54_308a1335eae9);
/// The EFI system partition's type (where the disk image keeps Limine and the kernel).
pub const EFI_SYSTEM: Guid = Guid::from_u128(0xc12a7328_f81f_11d2_ba4b_00a0c93ec93b);

impl Guid {
    /// The GUID written as the 128-bit number `value` (`0x4711ee13_ab83_...`).
    pub const fn from_u128(value: u128) -> Guid {
        Guid(value.to_be_bytes())
    }

    /// Reads the on-disk form, whose first three fields are little-endian.
    fn from_disk(b: &[u8]) -> Guid {
        let mut g = [0u8; 16];
        g[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
        g[4..6].copy_from_slice(&[b[5], b[4]]);
        g[6..8].copy_from_slice(&[b[7], b[6]]);
        g[8..16].copy_from_slice(&b[8..16]);
        Guid(g)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// One partition of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Its index in the entry array (0 is the first).
    pub index: u32,
    /// Its type.
    pub kind: Guid,
    /// Its own GUID.
    pub guid: Guid,
    /// First sector.
    pub first: u64,
    /// Last sector (inclusive).
    pub last: u64,
    /// Its name (UTF-16 in the table).
    pub name: alloc::string::String,
}

impl Partition {
    /// Its size in sectors.
    pub fn sectors(&self) -> u64 {
        self.last - self.first + 1
    }
}

/// Why a disk's partition table could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GptError {
    /// Reading a sector failed (the device said why).
    Read(u64),
    /// Sector 1 does not start with `EFI PART`: not a GPT disk.
    NotGpt,
    /// The header's CRC32 does not match.
    BadHeaderCrc,
    /// The entry array's CRC32 does not match.
    BadEntriesCrc,
    /// A field is out of range (the name says which).
    Bad(&'static str),
}

impl fmt::Display for GptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GptError::Read(lba) => write!(f, "cannot read sector {lba}"),
            GptError::NotGpt => f.write_str("no GUID partition table"),
            GptError::BadHeaderCrc => f.write_str("the partition table header's checksum is wrong"),
            GptError::BadEntriesCrc => f.write_str("the partition entries' checksum is wrong"),
            GptError::Bad(what) => write!(f, "the partition table's {what} is out of range"),
        }
    }
}

/// Most entries read (the usual table has 128).
const MAX_ENTRIES: u32 = 1024;

/// Reads the partition table of a disk of `sectors` sectors through `read`, which fills
/// a buffer with the sector at the given LBA (false if it cannot). Returns the
/// partitions in use, in table order.
pub fn read(sectors: u64, mut read: impl FnMut(u64, &mut [u8; SECTOR]) -> bool) -> Result<Vec<Partition>, GptError> {
    let mut header = [0u8; SECTOR];
    if sectors < 3 || !read(1, &mut header) {
        return Err(GptError::Read(1));
    }
    if &header[0..8] != b"EFI PART" {
        return Err(GptError::NotGpt);
    }
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
    let header_size = u32_at(&header, 12) as usize;
    if !(92..=SECTOR).contains(&header_size) {
        return Err(GptError::Bad("header size"));
    }
    let stored_crc = u32_at(&header, 16);
    let mut copy = header;
    copy[16..20].fill(0);
    if crc32fast::hash(&copy[..header_size]) != stored_crc {
        return Err(GptError::BadHeaderCrc);
    }
    let (first_usable, last_usable) = (u64_at(&header, 40), u64_at(&header, 48));
    let entries_lba = u64_at(&header, 72);
    let count = u32_at(&header, 80);
    let entry_size = u32_at(&header, 84) as usize;
    if last_usable >= sectors || first_usable > last_usable {
        return Err(GptError::Bad("usable range"));
    }
    if count > MAX_ENTRIES {
        return Err(GptError::Bad("entry count"));
    }
    if entry_size < 128 || !entry_size.is_multiple_of(8) || entry_size > SECTOR {
        return Err(GptError::Bad("entry size"));
    }
    let bytes = count as usize * entry_size;
    let array_sectors = bytes.div_ceil(SECTOR) as u64;
    if entries_lba < 2 || entries_lba.checked_add(array_sectors).is_none_or(|end| end > sectors) {
        return Err(GptError::Bad("entry array location"));
    }
    let mut array = vec![0u8; array_sectors as usize * SECTOR];
    for (i, chunk) in array.chunks_exact_mut(SECTOR).enumerate() {
        let lba = entries_lba + i as u64;
        let sector: &mut [u8; SECTOR] = chunk.try_into().map_err(|_| GptError::Read(lba))?;
        if !read(lba, sector) {
            return Err(GptError::Read(lba));
        }
    }
    if crc32fast::hash(&array[..bytes]) != u32_at(&header, 88) {
        return Err(GptError::BadEntriesCrc);
    }
    let mut partitions = Vec::new();
    for (index, entry) in array[..bytes].chunks_exact(entry_size).enumerate() {
        let kind = Guid::from_disk(&entry[0..16]);
        if kind.0 == [0; 16] {
            continue;
        }
        let (first, last) = (u64_at(entry, 32), u64_at(entry, 40));
        if first < first_usable || last > last_usable || first > last {
            return Err(GptError::Bad("partition extent"));
        }
        let name: Vec<u16> =
            entry[56..128].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&c| c != 0).collect();
        partitions.push(Partition {
            index: index as u32,
            kind,
            guid: Guid::from_disk(&entry[16..32]),
            first,
            last,
            name: char::decode_utf16(name).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect(),
        });
    }
    Ok(partitions)
}
