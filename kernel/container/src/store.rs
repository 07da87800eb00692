//! The machine's persistent store: the first berth data partition (GPT type
//! `berth_gpt::BERTH_DATA`) on a virtio block device, holding what the control agent
//! was given, so it survives a reboot or a power cut.
//!
//! Keys (`berth-store` keeps them; its format is documented there):
//! - `image/<id>`: an image's configuration file, as it arrived;
//! - `tags/<id>`: its `repository:tag` names, one per line;
//! - `layer/<diff id hex>`: a layer's uncompressed tar, stored once for every image.
//!
//! Images loaded from boot modules are not stored (the modules bring them back). After
//! each agent operation that changes images, [`sync_images`] writes the difference
//! between the images in memory and those stored in one commit; at boot
//! [`restore_images`] brings the stored ones back.

use super::images::{self, StoredImage};
use super::layers::{Layer, LayerBuilder};
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_hal::blk::{BlockDevice, find_block_devices};
use berth_oci::{Digest, ImageConfig};
use berth_store::{Change, Disk, DiskError, Opened, Store, StoreError};
use spin::Mutex;

/// The berth data partition of a block device, as a disk of its own.
pub struct DataPartition {
    device: BlockDevice,
    first: u64,
    sectors: u64,
}

impl DataPartition {
    fn range(&self, sector: u64, len: usize) -> Result<u64, DiskError> {
        let count = (len / berth_store::SECTOR) as u64;
        match sector.checked_add(count) {
            Some(end) if end <= self.sectors => Ok(self.first + sector),
            _ => Err(DiskError),
        }
    }
}

impl Disk for DataPartition {
    fn sectors(&self) -> u64 {
        self.sectors
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let at = self.range(sector, buf.len())?;
        self.device.read(at, buf).map_err(|_| DiskError)
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError> {
        let at = self.range(sector, buf.len())?;
        self.device.write(at, buf).map_err(|_| DiskError)
    }
    fn flush(&mut self) -> Result<(), DiskError> {
        self.device.flush().map_err(|_| DiskError)
    }
}

/// The open store, if the machine has one.
static STORE: Mutex<Option<Store<DataPartition>>> = Mutex::new(None);
/// Ids of the images boot modules brought this boot (not stored).
static FROM_MODULES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Finds the berth data partition and opens the store on it (formatting a blank one);
/// logs what it found. Without one, images and containers live in memory only.
pub fn init() {
    for mut device in find_block_devices() {
        let sectors = device.sectors();
        let location = device.location;
        let table = berth_gpt::read(sectors, |lba, buf| device.read(lba, buf).is_ok());
        let partitions = match table {
            Ok(p) => p,
            Err(e) => {
                log::info!("disk at {location} ({} MiB): {e}; not used", sectors >> 11);
                continue;
            }
        };
        let Some(data) = partitions.iter().find(|p| p.kind == berth_gpt::BERTH_DATA) else {
            log::info!("disk at {location} ({} MiB): no berth data partition; not used", sectors >> 11);
            continue;
        };
        let partition = DataPartition { device, first: data.first, sectors: data.sectors() };
        match Store::open(partition) {
            Ok((store, opened)) => {
                let (used, all) = store.usage();
                let how = match opened {
                    Opened::Formatted => String::from("formatted"),
                    Opened::Existing(generation) => alloc::format!("generation {generation}"),
                };
                log::info!(
                    "disk at {location}, partition {} ({} MiB): {how}, {} of {} KiB used",
                    data.index + 1,
                    data.sectors() >> 11,
                    used / 2,
                    all / 2
                );
                *STORE.lock() = Some(store);
                return;
            }
            Err(e) => log::error!("disk at {location}, partition {}: {e}; not used", data.index + 1),
        }
    }
    log::info!("none (no disk with a berth data partition): images live in memory only");
}

/// Whether the machine has a store.
pub fn present() -> bool {
    STORE.lock().is_some()
}

/// Notes that `id` came from a boot module (and so is not stored).
pub fn note_module_image(id: &str) {
    FROM_MODULES.lock().insert(String::from(id));
}

fn image_key(id: &str) -> String {
    alloc::format!("image/{id}")
}

fn tags_key(id: &str) -> String {
    alloc::format!("tags/{id}")
}

fn layer_key(diff_id: &Digest) -> String {
    alloc::format!("layer/{}", diff_id.hex())
}

/// A layer's tar, as it arrived.
fn layer_tar(layer: &Layer) -> Vec<u8> {
    let mut tar = Vec::with_capacity(layer.tar.len() as usize);
    let _ = layer.tar.write(|piece| {
        tar.extend_from_slice(piece);
        Ok::<(), ()>(())
    });
    tar
}

/// Writes the images in memory (but those from boot modules) to the store, and forgets
/// stored ones that are gone, in one commit. Does nothing without a store.
pub fn sync_images() -> Result<(), StoreError> {
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return Ok(()) };
    let modules = FROM_MODULES.lock().clone();
    let wanted: Vec<Arc<StoredImage>> = images::list().into_iter().filter(|i| !modules.contains(&i.id)).collect();
    let mut changes = Vec::new();
    let mut layers_wanted = BTreeSet::new();
    for image in &wanted {
        for layer in &image.layers {
            let key = layer_key(&layer.diff_id);
            if !store.contains(&key) && layers_wanted.insert(key.clone()) {
                changes.push(Change::Put(key, layer_tar(layer)));
            }
            layers_wanted.insert(layer_key(&layer.diff_id));
        }
        if !store.contains(&image_key(&image.id)) {
            changes.push(Change::Put(image_key(&image.id), image.config_bytes.clone()));
        }
        let tags = image.tags.lock().join("\n").into_bytes();
        if store.get(&tags_key(&image.id))?.as_deref() != Some(&tags[..]) {
            changes.push(Change::Put(tags_key(&image.id), tags));
        }
    }
    let wanted_ids: BTreeSet<&str> = wanted.iter().map(|i| i.id.as_str()).collect();
    for key in store.keys("image/") {
        let id = &key["image/".len()..];
        if !wanted_ids.contains(id) {
            changes.push(Change::Delete(tags_key(id)));
            changes.push(Change::Delete(key.clone()));
        }
    }
    for key in store.keys("layer/") {
        if !layers_wanted.contains(&key) {
            changes.push(Change::Delete(key));
        }
    }
    store.commit(&changes)
}

/// Brings back the stored images (after the boot modules' images are in): each with
/// its layers and tags. One that cannot be read is logged and left in the store.
pub fn restore_images() {
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return };
    let mut restored = 0;
    for key in store.keys("image/") {
        let id = String::from(&key["image/".len()..]);
        match restore_image(store, &id) {
            Ok(image) => {
                restored += 1;
                log::info!("image {} ({}) restored", &image.id[..12], image.tags.lock().join(", "));
            }
            Err(e) => log::error!("image {}: {e}", &id[..12.min(id.len())]),
        }
    }
    if restored > 0 {
        log::info!("{restored} image(s) restored");
    }
}

fn restore_image(store: &mut Store<DataPartition>, id: &str) -> Result<Arc<StoredImage>, String> {
    let text = |e: &dyn core::fmt::Display| alloc::format!("{e}");
    let config_bytes = store.get(&image_key(id)).map_err(|e| text(&e))?.ok_or("its configuration is gone")?;
    let config = ImageConfig::parse(&config_bytes).map_err(|e| text(&e))?;
    let mut layers = Vec::new();
    for diff_id in config.diff_ids().map_err(|e| text(&e))? {
        if let Some(layer) = super::layers::stored(&diff_id) {
            layers.push(layer);
            continue;
        }
        let tar = store.get(&layer_key(&diff_id)).map_err(|e| text(&e))?.ok_or("a layer is missing")?;
        let mut builder = LayerBuilder::new(berth_vfs::ImageLimits::default().max_bytes);
        builder.push(&tar).map_err(|e| text(&e))?;
        layers.push(builder.finish().map_err(|e| text(&e))?);
    }
    let image = images::add(config_bytes, layers, None).map_err(|e| text(&e))?;
    let tags = store.get(&tags_key(id)).map_err(|e| text(&e))?.unwrap_or_default();
    for tag in String::from_utf8_lossy(&tags).lines().filter(|t| !t.is_empty()) {
        images::tag(&image, String::from(tag));
    }
    Ok(image)
}
