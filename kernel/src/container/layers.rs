//! Image layers, each stored once by the digest of its tar (its "diff id") and shared
//! by every image made of it; a layer lives while an image holds it.

use super::images::ImageCharge;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use berth_oci::Digest;
use berth_vfs::Image;
use spin::Mutex;

/// One layer: its file tree (whiteouts still in it) and the memory its files take.
pub struct Layer {
    /// The sha256 of its uncompressed tar.
    pub diff_id: Digest,
    /// Its files.
    pub tree: Arc<Image>,
    /// The memory its file data takes, charged to what containers and images share.
    _charge: ImageCharge,
}

/// Every layer some image holds, by diff id.
static LAYERS: Mutex<BTreeMap<Digest, Weak<Layer>>> = Mutex::new(BTreeMap::new());

/// Stores a layer just built, or gives the one already stored with its diff id (then
/// `tree` and its charge are dropped: the bytes are held once).
pub fn add(diff_id: Digest, tree: Image, charge: ImageCharge) -> Arc<Layer> {
    let mut all = LAYERS.lock();
    if let Some(layer) = all.get(&diff_id).and_then(Weak::upgrade) {
        return layer;
    }
    all.retain(|_, weak| weak.strong_count() > 0);
    let layer = Arc::new(Layer { diff_id, tree: Arc::new(tree), _charge: charge });
    all.insert(diff_id, Arc::downgrade(&layer));
    layer
}

/// Why a layer could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerError {
    /// Its file data is over the limit (bytes).
    TooLarge(u64),
    /// The machine has no memory left for it.
    NoSpace(alloc::string::String),
    /// It is not a valid tar archive.
    BadTar(alloc::string::String),
}

impl core::fmt::Display for LayerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LayerError::TooLarge(limit) => write!(f, "the layer holds more than {} MiB of files", limit >> 20),
            LayerError::NoSpace(why) => f.write_str(why),
            LayerError::BadTar(why) => write!(f, "the layer is not a valid tar archive: {why}"),
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
    parser: berth_tar::Parser,
    builder: berth_vfs::ImageBuilder,
    hasher: berth_oci::Hasher,
    charge: ImageCharge,
    limit: u64,
    declared: u64,
    ended: bool,
    /// Set when the machine ran out of room: from then on the tar is only hashed, in
    /// case it is a layer already stored (which costs nothing more to share).
    no_room: Option<LayerError>,
}

impl LayerBuilder {
    /// A builder refusing more than `limit` bytes of file data.
    pub fn new(limit: u64) -> LayerBuilder {
        let limits = berth_vfs::ImageLimits { max_bytes: limit, ..berth_vfs::ImageLimits::default() };
        LayerBuilder {
            parser: berth_tar::Parser::new(u64::MAX),
            builder: berth_vfs::ImageBuilder::new(limits),
            hasher: berth_oci::Hasher::new(),
            charge: ImageCharge::new(),
            limit,
            declared: 0,
            ended: false,
            no_room: None,
        }
    }

    /// Takes the next bytes of the tar.
    pub fn push(&mut self, piece: &[u8]) -> Result<(), LayerError> {
        self.hasher.update(piece);
        if self.no_room.is_some() {
            return Ok(());
        }
        match self.build(piece) {
            Err(e @ LayerError::NoSpace(_)) => {
                // Give back what was built so far and go on hashing.
                self.builder = berth_vfs::ImageBuilder::new(berth_vfs::ImageLimits::default());
                self.charge = ImageCharge::new();
                self.no_room = Some(e);
                Ok(())
            }
            other => other,
        }
    }

    fn build(&mut self, mut piece: &[u8]) -> Result<(), LayerError> {
        let bad = |e: &dyn core::fmt::Display| LayerError::BadTar(alloc::format!("{e}"));
        while !self.ended {
            let Some(event) = self.parser.next(&mut piece).map_err(|e| bad(&e))? else { break };
            // Layers live in kernel memory: refuse a file that would eat into the
            // kernel's reserve, or that the memory containers share has no room for.
            if let berth_tar::Event::Entry(h) = &event {
                self.declared = self.declared.saturating_add(h.size);
                if self.declared > self.limit {
                    return Err(LayerError::TooLarge(self.limit));
                }
                if h.size > memory_for_images() {
                    return Err(LayerError::NoSpace(alloc::string::String::from(
                        "not enough memory left on the machine for this image",
                    )));
                }
                self.charge.take(h.size).map_err(LayerError::NoSpace)?;
            }
            self.ended = self.builder.push(event).map_err(|e| match e {
                berth_vfs::FsError::NoSpace => LayerError::NoSpace(alloc::string::String::from(
                    "not enough memory left on the machine for this image",
                )),
                e => bad(&e),
            })?;
        }
        Ok(())
    }

    /// The layer, stored (or the same one already stored, which is all a tar that did
    /// not fit may be).
    pub fn finish(self) -> Result<Arc<Layer>, LayerError> {
        if let Some(no_room) = self.no_room {
            let diff_id = self.hasher.finish();
            return LAYERS.lock().get(&diff_id).and_then(Weak::upgrade).ok_or(no_room);
        }
        let bad = |e: &dyn core::fmt::Display| LayerError::BadTar(alloc::format!("{e}"));
        self.parser.finish().map_err(|e| bad(&e))?;
        let tree = self.builder.finish().map_err(|e| bad(&e))?;
        Ok(add(self.hasher.finish(), tree, self.charge))
    }
}
