//! Container image formats, as plain logic tested on the host: the configuration file
//! of an image ([`ImageConfig`]: its default command, environment, user, ports, layers
//! and history) and `--change` instructions that edit it, sha256 [`Digest`]s, stacking
//! layers with their whiteouts into one tree ([`stack`]), and the archives `docker save`
//! writes and `docker load` reads.
//!
//! The formats are Docker's image specification v1.2 and the OCI image specification
//! v1.1, which agree on everything here.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod archive;
pub mod changes;
mod config;
mod digest;
pub mod gzip;
mod json;
mod layers;
pub mod reference;
pub mod registry;
mod split;
mod unpack;
pub mod user;

pub use config::{Empty, History, ImageConfig, MAX_CONFIG_BYTES, RootFs, RunConfig};
pub use digest::{BadDigest, Digest, Hasher};
pub use layers::stack;
pub use split::TarSplit;
pub use unpack::{UnpackError, Unpacked, Unpacker};

use alloc::string::String;
use core::fmt;

/// Why an image (or a part of one) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A file is not what its format says.
    Format(String),
    /// The image is for another operating system or architecture (`os/arch`).
    Platform(String),
    /// A blob's contents do not have the digest that names it.
    DigestMismatch {
        /// What the blob is (`layer 2 of busybox:latest`).
        what: String,
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// Something the image needs is missing from the archive or registry.
    Missing(String),
    /// The image would not fit in the memory left.
    NoSpace,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Format(why) => f.write_str(why),
            Error::Platform(p) => write!(f, "the image is for {p}; berth runs linux/amd64 images"),
            Error::DigestMismatch { what, expected, actual } => {
                write!(f, "{what}: content has digest {actual}, expected {expected}")
            }
            Error::Missing(what) => write!(f, "{what} is missing"),
            Error::NoSpace => f.write_str("not enough memory left on the machine for this image"),
        }
    }
}
