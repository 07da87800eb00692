//! Reading a layer's tar as it arrives: its file tree, its digest (the layer's diff
//! id), and a [`TarSplit`] to write the same bytes again.

use crate::{Digest, Hasher, TarSplit};
use alloc::format;
use alloc::string::String;
use berth_tar::{Event, Header, Parser};
use berth_vfs::{FsError, Image, ImageBuilder, ImageLimits};

/// Why a layer's tar was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpackError<E> {
    /// The caller's check of an entry refused it.
    Refused(E),
    /// The archive is malformed or breaks the limits.
    BadTar(String),
    /// A file's data could not be allocated.
    NoSpace,
}

impl<E: core::fmt::Display> core::fmt::Display for UnpackError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UnpackError::Refused(e) => write!(f, "{e}"),
            UnpackError::BadTar(why) => write!(f, "the layer is not a valid tar archive: {why}"),
            UnpackError::NoSpace => f.write_str("not enough memory left on the machine for this image"),
        }
    }
}

/// Bytes a layer may carry after its end-of-archive marker (tar pads to a block of
/// 10 KiB; anything much beyond is not a layer).
pub const MAX_AFTER_END: u64 = 1 << 20;

/// A layer being read.
pub struct Unpacker {
    parser: Parser,
    builder: ImageBuilder,
    hasher: Hasher,
    split: TarSplit,
    /// Whether the end-of-archive marker was seen, and the bytes since.
    ended: bool,
    after_end: u64,
}

/// A layer read whole.
pub struct Unpacked {
    /// The sha256 of the tar.
    pub diff_id: Digest,
    /// Its files (whiteouts still in it).
    pub tree: Image,
    /// The tar, to write again.
    pub split: TarSplit,
}

fn bad_tar<E>(e: &dyn core::fmt::Display) -> UnpackError<E> {
    UnpackError::BadTar(format!("{e}"))
}

fn from_fs<E>(e: FsError) -> UnpackError<E> {
    match e {
        FsError::NoSpace => UnpackError::NoSpace,
        e => bad_tar(&e),
    }
}

impl Unpacker {
    /// A reader whose tree keeps within `limits`.
    pub fn new(limits: ImageLimits) -> Unpacker {
        Unpacker {
            parser: Parser::new(u64::MAX),
            builder: ImageBuilder::new(limits),
            hasher: Hasher::new(),
            split: TarSplit::new(),
            ended: false,
            after_end: 0,
        }
    }

    /// Takes the next bytes of the tar; `check` sees each entry's header before its
    /// data is held, and may refuse it.
    pub fn push<E>(
        &mut self,
        mut piece: &[u8],
        mut check: impl FnMut(&Header) -> Result<(), E>,
    ) -> Result<(), UnpackError<E>> {
        self.hasher.update(piece);
        loop {
            let before = piece;
            let event = self.parser.next(&mut piece).map_err(|e| bad_tar(&e))?;
            let consumed = &before[..before.len() - piece.len()];
            let Some(event) = event else {
                // Part of a header, or bytes after the end marker.
                if self.ended {
                    self.after_end += consumed.len() as u64;
                    if self.after_end > MAX_AFTER_END {
                        return Err(UnpackError::BadTar(format!(
                            "more than {} KiB after the end of the archive",
                            MAX_AFTER_END >> 10
                        )));
                    }
                }
                self.split.meta(consumed);
                return Ok(());
            };
            // Data the tree keeps is the split's too; everything else is its meta.
            if !(matches!(event, Event::Data(_)) && self.builder.in_file()) {
                self.split.meta(consumed);
            }
            if let Event::Entry(header) = &event {
                check(header).map_err(UnpackError::Refused)?;
            }
            self.ended |= self.builder.push(event).map_err(from_fs)?;
            if let Some(data) = self.builder.take_completed() {
                self.split.file(data);
            }
        }
    }

    /// Bytes of tar taken so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    /// Whether no bytes were taken.
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// Memory held beyond the files' data (headers kept to write the tar again); it
    /// grows with every push, so a caller limiting memory charges it as it grows.
    pub fn held_bytes(&self) -> u64 {
        self.split.held_bytes()
    }

    /// The hash of the bytes taken so far, to go on hashing alone when reading stops
    /// early (a layer that did not fit may still be one already stored).
    pub fn into_hasher(self) -> Hasher {
        self.hasher
    }

    /// The layer, if the tar ended properly.
    pub fn finish<E>(mut self) -> Result<Unpacked, UnpackError<E>> {
        self.parser.finish().map_err(|e| bad_tar(&e))?;
        let tree = self.builder.finish().map_err(from_fs)?;
        self.split.finish();
        Ok(Unpacked { diff_id: self.hasher.finish(), tree, split: self.split })
    }
}
