//! A bounds-checked reader for tar archives (ustar, with GNU and PAX long names).
//!
//! berth meets tar twice: the direct-boot initrd is a tar bundle of boot modules, and
//! container images are the rootfs tars `docker import` and `docker export` use. Both
//! come from outside the kernel, so every header field is checked before use and a
//! malformed archive yields an [`Error`] naming the field, never a panic.
//!
//! [`Parser`] is a push parser: feed it bytes in chunks of any size (a network upload)
//! and it reports [`Event`]s. [`entries`] wraps it for an archive already in memory.
//! [`writer`] makes the headers of an archive berth writes (`docker save`).

#![no_std]

extern crate alloc;

mod header;
mod parser;
mod slice;
pub mod writer;

pub use header::{EntryKind, Header};
pub use parser::{Event, Parser};
pub use slice::{Entry, entries};

use alloc::string::String;
use core::fmt;

/// Why an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A header's checksum does not match its contents.
    BadChecksum {
        /// Offset of the header in the archive.
        offset: u64,
    },
    /// A numeric header field is not valid octal or base-256.
    BadNumber {
        /// Which field.
        field: &'static str,
        /// Offset of the header in the archive.
        offset: u64,
    },
    /// A name is not valid UTF-8, is empty, or contains a NUL byte.
    BadName {
        /// Offset of the header in the archive.
        offset: u64,
    },
    /// A PAX extended header record is malformed.
    BadPax {
        /// Offset of the header in the archive.
        offset: u64,
    },
    /// An entry is larger than the configured limit.
    TooLarge {
        /// The entry's name.
        name: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The archive ends inside a header or an entry's data.
    Truncated {
        /// How many bytes were read in all.
        at: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadChecksum { offset } => write!(f, "tar header at byte {offset}: bad checksum"),
            Error::BadNumber { field, offset } => {
                write!(f, "tar header at byte {offset}: field `{field}` is not a number")
            }
            Error::BadName { offset } => write!(f, "tar header at byte {offset}: invalid name"),
            Error::BadPax { offset } => {
                write!(f, "tar header at byte {offset}: malformed PAX extended header")
            }
            Error::TooLarge { name, size } => {
                write!(f, "tar entry `{name}` is too large ({size} bytes)")
            }
            Error::Truncated { at } => write!(f, "tar archive truncated after {at} bytes"),
        }
    }
}

/// Size of a tar block; headers and data are padded to it.
pub const BLOCK: usize = 512;
