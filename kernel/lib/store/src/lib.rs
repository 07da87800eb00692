//! berth's persistent store: keyed records in an append-only log on a disk partition.
//!
//! # On-disk format (version 1; all integers little-endian, sectors of 512 bytes)
//!
//! ```text
//! sector 0, 1   superblock slots A and B
//! sector 2..    two halves of `log_sectors` each; the log (records, each starting on
//!               a sector boundary) fills the active one
//!
//! superblock    0 magic "BERTHSTO"   8 version u32   12 active half u32 (0 or 1)
//!               16 generation u64    24 log_end u64 (sectors of log in use)
//!               32 log_sectors u64   40 crc32 of bytes 0..40
//!
//! record        0 magic u32 "REC1"   4 kind u8 (1 put, 2 delete)   5 zero u8
//!               6 key_len u16        8 value_len u64   16 value crc32
//!               20 header crc32 (of bytes 0..32 with this field zero, then the key)
//!               24 zero u64          32 key (UTF-8), then the value; zero padding
//!                                       to the next sector
//! ```
//!
//! # Committing
//!
//! A commit appends its records after `log_end`, flushes the disk, then writes a
//! superblock with the next generation and the new `log_end` into the slot the current
//! one is not in, and flushes again. Opening takes the valid superblock (magic, version,
//! checksum, sizes) with the highest generation and reads the log up to its `log_end`.
//! So a power cut at any point leaves either the state before the commit (its records
//! lie past `log_end`, or its superblock is torn and fails its checksum) or the state
//! after it: never part of one. A record inside the committed log that fails its header
//! checksum means the medium lost data; the store then refuses to open rather than
//! guess ([`StoreError::Damaged`]). Values are checked against their checksum when
//! read.
//!
//! # Compacting
//!
//! When a commit does not fit in what is left of the active half, the live records
//! (the latest value of every key) are first copied to the start of the other half,
//! the disk flushed, and a superblock naming that half written: a power cut before it
//! leaves the old half active and untouched. Half the partition is the price of never
//! writing over live data. A commit that does not fit even then fails with
//! [`StoreError::Full`] and writes nothing.
//!
//! A partition with no superblock magic at all (a new, zeroed one) is formatted on
//! open.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Bytes per sector.
pub const SECTOR: usize = 512;
/// The longest key.
pub const MAX_KEY: usize = 1024;

const SUPER_MAGIC: &[u8; 8] = b"BERTHSTO";
const VERSION: u32 = 1;
const RECORD_MAGIC: u32 = u32::from_le_bytes(*b"REC1");
const HEADER: usize = 32;
/// Sectors before the log (the two superblock slots).
const LOG_START: u64 = 2;

/// A disk, or a partition of one, in sectors.
pub trait Disk {
    /// Its size in sectors.
    fn sectors(&self) -> u64;
    /// Reads whole sectors from `sector` on into `buf`.
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), DiskError>;
    /// Writes whole sectors from `buf` at `sector` on (perhaps only into a cache).
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError>;
    /// Makes every write so far durable.
    fn flush(&mut self) -> Result<(), DiskError>;
}

/// A disk request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskError;

/// Why the store could not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A disk request failed.
    Disk,
    /// The partition is too small for a store.
    TooSmall,
    /// What is on the disk is damaged (the message says what, and where).
    Damaged(&'static str, u64),
    /// The log has no room for the commit: `needed` sectors, `free` left.
    Full {
        /// Sectors the commit needs.
        needed: u64,
        /// Sectors free in the log.
        free: u64,
    },
    /// A key is empty or longer than [`MAX_KEY`].
    BadKey,
    /// An earlier commit failed part-way (a disk error); the store takes no more
    /// commits until it is opened again.
    Poisoned,
}

impl From<DiskError> for StoreError {
    fn from(_: DiskError) -> StoreError {
        StoreError::Disk
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Disk => f.write_str("a disk request failed"),
            StoreError::TooSmall => f.write_str("the partition is too small for a store"),
            StoreError::Damaged(what, at) => write!(f, "the store is damaged: {what} (sector {at})"),
            StoreError::Full { needed, free } => {
                write!(f, "the store is full: {needed} sectors needed, {free} free")
            }
            StoreError::BadKey => write!(f, "keys are 1 to {MAX_KEY} bytes"),
            StoreError::Poisoned => f.write_str("an earlier write to the store failed; it takes no more until reboot"),
        }
    }
}

/// One change of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Sets `key` to a value.
    Put(String, Vec<u8>),
    /// Removes `key`.
    Delete(String),
}

/// Where a key's value lies.
#[derive(Debug, Clone, Copy)]
struct Location {
    /// The record's first sector (log-relative).
    record: u64,
    key_len: usize,
    value_len: u64,
    value_crc: u32,
}

/// An open store.
pub struct Store<D: Disk> {
    disk: D,
    generation: u64,
    /// The active half (0 or 1).
    half: u64,
    log_end: u64,
    /// Sectors of each half.
    log_sectors: u64,
    index: BTreeMap<String, Location>,
    /// A commit failed part-way: what the disk holds past the point known is not
    /// known, so no more commits until the store is opened again.
    poisoned: bool,
}

/// What [`Store::open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// A blank partition, now formatted.
    Formatted,
    /// An existing store, at this generation.
    Existing(u64),
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Sectors a record of these lengths takes.
fn record_sectors(key_len: usize, value_len: u64) -> u64 {
    (HEADER as u64 + key_len as u64).saturating_add(value_len).div_ceil(SECTOR as u64)
}

/// A superblock's bytes.
fn superblock(generation: u64, half: u64, log_end: u64, log_sectors: u64) -> [u8; SECTOR] {
    let mut s = [0u8; SECTOR];
    s[0..8].copy_from_slice(SUPER_MAGIC);
    s[8..12].copy_from_slice(&VERSION.to_le_bytes());
    s[12..16].copy_from_slice(&(half as u32).to_le_bytes());
    s[16..24].copy_from_slice(&generation.to_le_bytes());
    s[24..32].copy_from_slice(&log_end.to_le_bytes());
    s[32..40].copy_from_slice(&log_sectors.to_le_bytes());
    let crc = crc32fast::hash(&s[0..40]);
    s[40..44].copy_from_slice(&crc.to_le_bytes());
    s
}

/// A superblock slot as read, (generation, half, log_end): `None` if it is not valid
/// for halves of `log_sectors`.
fn parse_superblock(s: &[u8], log_sectors: u64) -> Option<(u64, u64, u64)> {
    let valid = &s[0..8] == SUPER_MAGIC
        && u32_at(s, 8) == VERSION
        && u32_at(s, 12) <= 1
        && crc32fast::hash(&s[0..40]) == u32_at(s, 40)
        && u64_at(s, 32) == log_sectors
        && u64_at(s, 24) <= log_sectors;
    valid.then(|| (u64_at(s, 16), u64::from(u32_at(s, 12)), u64_at(s, 24)))
}

/// A record's header and key (the bytes before its value), and its value.
fn record_parts(change: &Change) -> (Vec<u8>, &[u8]) {
    let (kind, key, value): (u8, &str, &[u8]) = match change {
        Change::Put(k, v) => (1, k, v),
        Change::Delete(k) => (2, k, &[]),
    };
    let mut head = vec![0u8; HEADER + key.len()];
    head[0..4].copy_from_slice(&RECORD_MAGIC.to_le_bytes());
    head[4] = kind;
    head[6..8].copy_from_slice(&(key.len() as u16).to_le_bytes());
    head[8..16].copy_from_slice(&(value.len() as u64).to_le_bytes());
    head[16..20].copy_from_slice(&crc32fast::hash(value).to_le_bytes());
    head[HEADER..].copy_from_slice(key.as_bytes());
    let crc = header_crc(&head[..HEADER], key.as_bytes());
    head[20..24].copy_from_slice(&crc.to_le_bytes());
    (head, value)
}

/// Bytes a record is written in at a time: a large value is never copied whole.
const WRITE_CHUNK: usize = 1 << 20;

/// Writes the record of `change` at `sector` on `disk`, a chunk at a time; returns the
/// sectors it took and its value's checksum.
fn write_record<D: Disk>(disk: &mut D, sector: u64, change: &Change) -> Result<(u64, u32), StoreError> {
    let (head, value) = record_parts(change);
    let value_crc = u32_at(&head, 16);
    let total = head.len() + value.len();
    let sectors = total.div_ceil(SECTOR);
    let padded = sectors * SECTOR;
    let mut chunk = Vec::with_capacity(padded.min(WRITE_CHUNK));
    let mut at = 0;
    while at < padded {
        let end = (at + WRITE_CHUNK).min(padded);
        chunk.clear();
        // This chunk's part of the header, then of the value; zero padding after.
        if at < head.len() {
            chunk.extend_from_slice(&head[at..end.min(head.len())]);
        }
        let value_from = at.max(head.len()) - head.len();
        let value_to = end.min(total).saturating_sub(head.len());
        if value_from < value_to {
            chunk.extend_from_slice(&value[value_from..value_to]);
        }
        chunk.resize(end - at, 0);
        disk.write(sector + (at / SECTOR) as u64, &chunk)?;
        at = end;
    }
    Ok((sectors as u64, value_crc))
}

/// The checksum of a record's header (with its own field zero) and key.
fn header_crc(header: &[u8], key: &[u8]) -> u32 {
    let mut h = [0u8; HEADER];
    h.copy_from_slice(&header[..HEADER]);
    h[20..24].fill(0);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&h);
    hasher.update(key);
    hasher.finalize()
}

impl<D: Disk> Store<D> {
    /// Opens the store on `disk`, formatting it if it holds no store at all.
    pub fn open(mut disk: D) -> Result<(Store<D>, Opened), StoreError> {
        let sectors = disk.sectors();
        if sectors < LOG_START + 16 {
            return Err(StoreError::TooSmall);
        }
        let log_sectors = (sectors - LOG_START) / 2;
        let mut slots = [0u8; 2 * SECTOR];
        disk.read(0, &mut slots)?;
        let (a, b) = slots.split_at(SECTOR);
        let best = [parse_superblock(a, log_sectors), parse_superblock(b, log_sectors)]
            .into_iter()
            .flatten()
            .max_by_key(|&(generation, _, _)| generation);
        let Some((generation, half, log_end)) = best else {
            if &a[0..8] == SUPER_MAGIC || &b[0..8] == SUPER_MAGIC {
                return Err(StoreError::Damaged("no valid superblock", 0));
            }
            // Generation g lives in slot g % 2.
            disk.write(1, &superblock(1, 0, 0, log_sectors))?;
            disk.flush()?;
            let store = Store {
                disk,
                generation: 1,
                half: 0,
                log_end: 0,
                log_sectors,
                index: BTreeMap::new(),
                poisoned: false,
            };
            return Ok((store, Opened::Formatted));
        };
        let mut store = Store { disk, generation, half, log_end, log_sectors, index: BTreeMap::new(), poisoned: false };
        store.scan()?;
        Ok((store, Opened::Existing(generation)))
    }

    /// The first sector of the active half.
    fn base(&self) -> u64 {
        LOG_START + self.half * self.log_sectors
    }

    /// Reads the committed log into the index.
    fn scan(&mut self) -> Result<(), StoreError> {
        let base = self.base();
        let mut at = 0;
        let mut first = [0u8; SECTOR];
        while at < self.log_end {
            self.disk.read(base + at, &mut first)?;
            let damaged = |what| StoreError::Damaged(what, base + at);
            if u32_at(&first, 0) != RECORD_MAGIC {
                return Err(damaged("a record's magic number is wrong"));
            }
            let (kind, key_len, value_len) =
                (first[4], u16::from_le_bytes([first[6], first[7]]) as usize, u64_at(&first, 8));
            let too_long = value_len > self.log_sectors * SECTOR as u64;
            let sectors = record_sectors(key_len, value_len);
            if too_long || key_len == 0 || key_len > MAX_KEY || at + sectors > self.log_end || !matches!(kind, 1 | 2) {
                return Err(damaged("a record's header is out of range"));
            }
            // The key may run into the next sectors.
            let mut head = vec![0u8; (HEADER + key_len).div_ceil(SECTOR) * SECTOR];
            head[..SECTOR].copy_from_slice(&first);
            if head.len() > SECTOR {
                self.disk.read(base + at + 1, &mut head[SECTOR..])?;
            }
            let key = &head[HEADER..HEADER + key_len];
            if header_crc(&head[..HEADER], key) != u32_at(&head, 20) {
                return Err(damaged("a record's header checksum is wrong"));
            }
            let key = String::from_utf8(key.to_vec()).map_err(|_| damaged("a key is not UTF-8"))?;
            if kind == 1 {
                let location = Location { record: at, key_len, value_len, value_crc: u32_at(&head, 16) };
                self.index.insert(key, location);
            } else {
                self.index.remove(&key);
            }
            at += sectors;
        }
        Ok(())
    }

    /// The value of `key`, checked against its checksum.
    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(l) = self.index.get(key).copied() else { return Ok(None) };
        let mut record = vec![0u8; record_sectors(l.key_len, l.value_len) as usize * SECTOR];
        self.disk.read(self.base() + l.record, &mut record)?;
        // The value moves down in place: a layer's tar is not held twice.
        let start = HEADER + l.key_len;
        record.truncate(start + l.value_len as usize);
        record.drain(..start);
        let value = record;
        if crc32fast::hash(&value) != l.value_crc {
            return Err(StoreError::Damaged("a value's checksum is wrong", self.base() + l.record));
        }
        Ok(Some(value))
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// The keys that start with `prefix`, in order.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        use core::ops::Bound;
        self.index
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Applies `changes` all together: after a power cut the store holds either all of
    /// them or none.
    pub fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut needed = 0;
        for change in changes {
            let key = match change {
                Change::Put(k, _) | Change::Delete(k) => k,
            };
            if key.is_empty() || key.len() > MAX_KEY {
                return Err(StoreError::BadKey);
            }
            needed += match change {
                Change::Put(k, v) => record_sectors(k.len(), v.len() as u64),
                Change::Delete(k) => record_sectors(k.len(), 0),
            };
        }
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let live = self.live_sectors();
        if needed > self.log_sectors - self.log_end && live + needed <= self.log_sectors {
            // Live data that does not fit a half is reported as the commit's `Full`.
            match self.compact() {
                Ok(()) | Err(StoreError::Full { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let free = self.log_sectors - self.log_end;
        if needed > free {
            return Err(StoreError::Full { needed, free });
        }
        let generation = self.generation + 1;
        let log_end = self.log_end + needed;
        let (start, half, log_sectors) = (self.base() + self.log_end, self.half, self.log_sectors);
        let mut crcs = Vec::with_capacity(changes.len());
        let written = (|| {
            let mut at = start;
            for change in changes {
                let (sectors, crc) = write_record(&mut self.disk, at, change)?;
                at += sectors;
                crcs.push(crc);
            }
            self.disk.flush()?;
            self.disk.write(generation % 2, &superblock(generation, half, log_end, log_sectors))?;
            self.disk.flush()?;
            Ok::<(), StoreError>(())
        })();
        if let Err(e) = written {
            self.poisoned = true;
            return Err(e);
        }
        // Committed: the index follows.
        let mut at = self.log_end;
        for (change, value_crc) in changes.iter().zip(crcs) {
            match change {
                Change::Put(key, value) => {
                    let location =
                        Location { record: at, key_len: key.len(), value_len: value.len() as u64, value_crc };
                    self.index.insert(key.clone(), location);
                    at += record_sectors(key.len(), value.len() as u64);
                }
                Change::Delete(key) => {
                    self.index.remove(key);
                    at += record_sectors(key.len(), 0);
                }
            }
        }
        self.generation = generation;
        self.log_end = log_end;
        Ok(())
    }

    /// Sectors the live records take (what compaction would copy).
    fn live_sectors(&self) -> u64 {
        self.index.values().map(|l| record_sectors(l.key_len, l.value_len)).sum()
    }

    /// Copies the live records to the other half and makes it the active one (see
    /// the crate's comment). Fails with `Full` if they do not fit, leaving everything
    /// as it was.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let other = 1 - self.half;
        let base = LOG_START + other * self.log_sectors;
        let keys: Vec<String> = self.index.keys().cloned().collect();
        let mut index = BTreeMap::new();
        let mut at = 0;
        for key in keys {
            let value = self.get(&key)?.unwrap_or_default();
            let sectors = record_sectors(key.len(), value.len() as u64);
            if at + sectors > self.log_sectors {
                return Err(StoreError::Full { needed: sectors, free: self.log_sectors - at });
            }
            write_record(&mut self.disk, base + at, &Change::Put(key.clone(), value))?;
            let old = self.index[&key];
            index.insert(key, Location { record: at, ..old });
            at += sectors;
        }
        let generation = self.generation + 1;
        let log_sectors = self.log_sectors;
        let switched = (|| {
            self.disk.flush()?;
            self.disk.write(generation % 2, &superblock(generation, other, at, log_sectors))?;
            self.disk.flush()
        })();
        if let Err(e) = switched {
            self.poisoned = true;
            return Err(e.into());
        }
        self.generation = generation;
        self.half = other;
        self.log_end = at;
        self.index = index;
        Ok(())
    }

    /// The generation of the last commit.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Sectors of log in use, and in the active half.
    pub fn usage(&self) -> (u64, u64) {
        (self.log_end, self.log_sectors)
    }

    /// The disk, given back.
    pub fn into_disk(self) -> D {
        self.disk
    }
}
