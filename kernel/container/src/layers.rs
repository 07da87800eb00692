//! Image layers, each stored once by the digest of its tar (its "diff id") and shared
//! by every image made of it; a layer lives while an image holds it.

use crate::mm::MemoryCounter;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use berth_oci::gzip::GzipDecoder;
use berth_oci::{Digest, TarSplit, UnpackError, Unpacked};
use berth_vfs::Image;
use core::fmt;
use spin::Mutex;

/// One layer: its file tree (whiteouts still in it) and the memory its files take.
pub struct Layer {
    /// The sha256 of its uncompressed tar.
    pub diff_id: Digest,
    /// Its files.
    pub tree: Arc<Image>,
    /// Its tar as it arrived, to write again (`docker save`).
    pub tar: TarSplit,
    /// The memory its file data takes, charged to what containers and images share.
    _charge: ImageCharge,
}

/// Every layer some image holds, by diff id.
static LAYERS: Mutex<BTreeMap<Digest, Weak<Layer>>> = Mutex::new(BTreeMap::new());

/// The stored layer with `diff_id`, if an image holds it.
pub fn stored(diff_id: &Digest) -> Option<Arc<Layer>> {
    LAYERS.lock().get(diff_id).and_then(Weak::upgrade)
}

/// Stores a layer just read, or gives the one already stored with its diff id (then
/// the new one and its charge are dropped: the bytes are held once).
fn add(unpacked: Unpacked, charge: ImageCharge) -> Arc<Layer> {
    let diff_id = unpacked.diff_id;
    let mut all = LAYERS.lock();
    if let Some(layer) = all.get(&diff_id).and_then(Weak::upgrade) {
        return layer;
    }
    all.retain(|_, weak| weak.strong_count() > 0);
    let layer = Arc::new(Layer { diff_id, tree: Arc::new(unpacked.tree), tar: unpacked.split, _charge: charge });
    all.insert(diff_id, Arc::downgrade(&layer));
    layer
}

/// Why a layer could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerError {
    /// Its file data is over the limit (bytes).
    TooLarge(u64),
    /// The machine has no memory left for it.
    NoSpace(NoRoom),
    /// It is not a valid tar archive.
    BadTar(String),
    /// Its compression is broken (the reason says how).
    BadCompression(String),
}

impl core::fmt::Display for LayerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LayerError::TooLarge(limit) => write!(f, "the layer holds more than {} MiB of files", limit >> 20),
            LayerError::NoSpace(room) => write!(f, "{room}"),
            LayerError::BadTar(why) => write!(f, "the layer is not a valid tar archive: {why}"),
            LayerError::BadCompression(why) => f.write_str(why),
        }
    }
}

/// Bytes of kernel memory a layer may still take: what is free in the frame pool and
/// inside the heap, less a reserve for the kernel and the containers' own needs. (A
/// rough guide only: each file's buffer is also allocated fallibly.)
fn memory_for_images() -> u64 {
    const RESERVE: u64 = 64 << 20;
    let heap = berth_hal::heap_stats();
    let in_heap = heap.claimed.saturating_sub(heap.allocated) as u64;
    (berth_hal::mm::free_frames() as u64 * 4096 + in_heap).saturating_sub(RESERVE)
}

/// Builds a layer from its tar as the bytes arrive (an upload, a registry blob after
/// inflating), hashing them for its diff id and charging each file before it is held.
pub struct LayerBuilder {
    unpacker: berth_oci::Unpacker,
    charge: ImageCharge,
    limit: u64,
    /// File and header bytes counted against `limit` so far.
    declared: u64,
    /// Header bytes (the tar split's) charged so far.
    charged_meta: u64,
    /// Set when the machine ran out of room: from then on the tar is only hashed, in
    /// case it is a layer already stored (which costs nothing more to share).
    no_room: Option<(LayerError, berth_oci::Hasher)>,
}

fn no_space() -> LayerError {
    LayerError::NoSpace(NoRoom::now())
}

fn from_unpack(e: UnpackError<LayerError>) -> LayerError {
    match e {
        UnpackError::Refused(e) => e,
        UnpackError::BadTar(why) => LayerError::BadTar(why),
        UnpackError::NoSpace => no_space(),
    }
}

impl LayerBuilder {
    /// A builder refusing more than `limit` bytes of file data.
    pub fn new(limit: u64) -> LayerBuilder {
        let limits = berth_vfs::ImageLimits { max_bytes: limit, ..berth_vfs::ImageLimits::default() };
        LayerBuilder {
            unpacker: berth_oci::Unpacker::new(limits),
            charge: ImageCharge::new(),
            limit,
            declared: 0,
            charged_meta: 0,
            no_room: None,
        }
    }

    /// Takes the next bytes of the tar.
    pub fn push(&mut self, piece: &[u8]) -> Result<(), LayerError> {
        if let Some((_, hasher)) = &mut self.no_room {
            hasher.update(piece);
            return Ok(());
        }
        let (charge, limit, declared) = (&self.charge, self.limit, &mut self.declared);
        let result = self.unpacker.push(piece, |h| {
            // Layers live in kernel memory: refuse a file that would eat into the
            // kernel's reserve, or that the memory containers share has no room for.
            *declared = declared.saturating_add(h.size);
            if *declared > limit {
                return Err(LayerError::TooLarge(limit));
            }
            if h.size > memory_for_images() {
                return Err(no_space());
            }
            charge.take(h.size).map_err(LayerError::NoSpace)
        });
        match result.map_err(from_unpack).and_then(|()| self.charge_meta()) {
            Err(e @ LayerError::NoSpace(_)) => {
                // Give back what was built so far and go on hashing.
                let unpacker = core::mem::replace(&mut self.unpacker, berth_oci::Unpacker::new(Default::default()));
                self.charge = ImageCharge::new();
                self.no_room = Some((e, unpacker.into_hasher()));
                Ok(())
            }
            other => other,
        }
    }

    /// Charges (and counts against the limit) what the tar split holds beyond what was
    /// charged: headers, long names, bytes after the end marker.
    fn charge_meta(&mut self) -> Result<(), LayerError> {
        let held = self.unpacker.held_bytes();
        let more = held.saturating_sub(self.charged_meta);
        if more == 0 {
            return Ok(());
        }
        self.declared = self.declared.saturating_add(more);
        if self.declared > self.limit {
            return Err(LayerError::TooLarge(self.limit));
        }
        self.charge.take(more).map_err(LayerError::NoSpace)?;
        self.charged_meta = held;
        Ok(())
    }

    /// The layer, stored (or the same one already stored, which is all a tar that did
    /// not fit may be).
    pub fn finish(self) -> Result<Arc<Layer>, LayerError> {
        if let Some((no_room, hasher)) = self.no_room {
            return stored(&hasher.finish()).ok_or(no_room);
        }
        let unpacked = self.unpacker.finish().map_err(from_unpack)?;
        // The headers kept to write the tar again are the layer's too (charged as they
        // came; finishing may have moved the last few).
        let more = unpacked.split.held_bytes().saturating_sub(self.charged_meta);
        self.charge.take(more).map_err(LayerError::NoSpace)?;
        Ok(add(unpacked, self.charge))
    }
}

/// A layer blob as it arrives: a tar, or a tar compressed with gzip.
pub enum LayerBlob {
    /// An uncompressed tar.
    Tar(LayerBuilder),
    /// A gzip-compressed tar.
    Gzip(GzipDecoder, LayerBuilder),
}

impl LayerBlob {
    /// A blob holding up to `limit` bytes of files, compressed or not.
    pub fn new(gzip: bool, limit: u64) -> LayerBlob {
        match gzip {
            true => LayerBlob::Gzip(GzipDecoder::new(), LayerBuilder::new(limit)),
            false => LayerBlob::Tar(LayerBuilder::new(limit)),
        }
    }

    /// Takes the next bytes of the blob.
    pub fn push(&mut self, data: &[u8]) -> Result<(), LayerError> {
        match self {
            LayerBlob::Tar(layer) => layer.push(data),
            LayerBlob::Gzip(decoder, layer) => decoder.push(data, |out| layer.push(out)),
        }
    }

    /// The layer, once the blob has ended whole.
    pub fn finish(self) -> Result<Arc<Layer>, LayerError> {
        match self {
            LayerBlob::Tar(layer) => layer.finish(),
            LayerBlob::Gzip(decoder, layer) => {
                decoder.finish()?;
                layer.finish()
            }
        }
    }
}

impl From<berth_oci::Error> for LayerError {
    fn from(e: berth_oci::Error) -> LayerError {
        LayerError::BadCompression(alloc::format!("{e}"))
    }
}

/// Image bytes charged to the memory all containers share (images are their data), so
/// that imports cannot eat the kernel's reserve; given back when dropped. An import
/// charges each file as it arrives, before it is stored.
pub struct ImageCharge(MemoryCounter);

impl ImageCharge {
    /// Nothing charged yet.
    pub fn new() -> ImageCharge {
        ImageCharge(MemoryCounter::for_container(u64::MAX))
    }

    /// Charges `bytes` more, or says the machine has no room for them.
    pub fn take(&self, bytes: u64) -> Result<(), NoRoom> {
        if self.0.try_charge(bytes) { Ok(()) } else { Err(NoRoom::now()) }
    }
}

/// The machine has no memory left for an image's bytes: how much of the memory for
/// containers and images was in use, of how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom {
    used: u64,
    limit: u64,
}

impl NoRoom {
    fn now() -> NoRoom {
        let (used, limit) = crate::mm::container_memory();
        NoRoom { used, limit }
    }
}

impl fmt::Display for NoRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not enough memory left on the machine for this image ({} MiB of {} MiB for containers and images in use)",
            self.used >> 20,
            self.limit >> 20
        )
    }
}

impl Default for ImageCharge {
    fn default() -> ImageCharge {
        ImageCharge::new()
    }
}

impl Drop for ImageCharge {
    fn drop(&mut self) {
        self.0.uncharge(self.0.used());
    }
}
