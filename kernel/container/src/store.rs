//! The machine's persistent store: the first berth data partition (GPT type
//! `berth_gpt::BERTH_DATA`) on a virtio block device, holding what the control agent
//! was given, so it survives a reboot or a power cut.
//!
//! Keys (`berth-store` keeps them; its format is documented there):
//! - `image/<id>`: an image's configuration file, as it arrived;
//! - `tags/<id>`: its `repository:tag` names, one per line;
//! - `layer/<diff id hex>`: a layer's uncompressed tar, stored once for every image.
//!
//! - `container/<id>`: a container the agent created: its name, image reference,
//!   creation time and volumes (`volume <flags> <name> <target>` lines; flags: 1
//!   anonymous, 2 nocopy, 4 read-only), then
//!   the create request as the client sent it (the agent makes the
//!   configuration from it again at boot) — see [`ContainerRecord`];
//! - `state/<id>`: how it stands: `created`, `running <restarts>` or
//!   `exited <status> <stopped by hand: 0|1> <restarts> <finished, ns since the
//!   epoch>`, then its restart policy as
//!   `<name>:<most retries>` (which `docker update` may have changed);
//! - `rwtree/<id>`, `rwextent/<id>/...`: its writable layer, a paged tree (see
//!   `paged_store`: its changes to its image as a manifest, and its files' data),
//!   written when it ends, when a program in it syncs one of its files, and when a
//!   writer has changed more than it should keep unwritten; absent while it has
//!   changed nothing. (`rwlayer/<id>`, one archive of its changes, is what stores
//!   before paging hold: read at boot, replaced by the first write-out.)
//! - `volume/<name>`, `volume-tree/<name>`, `volume-extent/<name>/...`: volumes (see
//!   `volumes`).
//!
//! Images loaded from boot modules are not stored (the modules bring them back), nor
//! containers started from modules or with `--rm`. After each agent operation that
//! changes images, [`sync_images`] writes the difference between the images in memory
//! and those stored in one commit; at boot [`restore_images`] brings the stored ones
//! back. Container states are written by [`sync_containers`] after agent operations
//! and every 50 ms from the watchdog (which sees containers end).

use super::images::{self, StoredImage};
use super::layers::{Layer, LayerBuilder};
use crate::sched::SleepMutex;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_hal::blk::{BlockDevice, find_block_devices};
use berth_oci::{Digest, ImageConfig};
use berth_store::{Change, Disk, DiskError, Opened, Store, StoreError};
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;

/// Bytes a disk request moves before the thread lets others run (a whole number of
/// sectors).
const PIECE: usize = 1 << 20;

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
        for (i, piece) in buf.chunks_mut(PIECE).enumerate() {
            let sector = at + (i * PIECE / berth_store::SECTOR) as u64;
            self.device.read(sector, piece).map_err(|_| DiskError)?;
            crate::sched::preempt_point();
        }
        Ok(())
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError> {
        let at = self.range(sector, buf.len())?;
        // Requests are polled: between pieces, let other threads have the CPU.
        for (i, piece) in buf.chunks(PIECE).enumerate() {
            let sector = at + (i * PIECE / berth_store::SECTOR) as u64;
            self.device.write(sector, piece).map_err(|_| DiskError)?;
            crate::sched::preempt_point();
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), DiskError> {
        self.device.flush().map_err(|_| DiskError)
    }
}

/// The open store, if the machine has one. Its lock is held through disk I/O, so its
/// waiters sleep, and a long commit lets other threads run between requests.
static STORE: SleepMutex<Option<Store<DataPartition>>> = SleepMutex::new(None);
/// Whether the machine has a store (known without waiting for the lock).
static PRESENT: AtomicBool = AtomicBool::new(false);
/// The tags line last written for each stored image (by id), so a sync compares in
/// memory rather than reading each image's tags back from the disk.
static TAGS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
/// The state last written for each stored container.
static WRITTEN: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
/// The change count of each stored container's files when its writable layer was
/// last written (or when it was made, for one that has written nothing since).
static LAYERS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
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
                PRESENT.store(true, Ordering::Release);
                return;
            }
            Err(e) => log::error!("disk at {location}, partition {}: {e}; not used", data.index + 1),
        }
    }
    log::info!("none (no disk with a berth data partition): images live in memory only");
}

/// Whether the machine has a store.
pub fn present() -> bool {
    PRESENT.load(Ordering::Acquire)
}

/// Commits `changes` (nothing to do without a store).
pub(crate) fn commit(changes: &[Change]) -> Result<(), StoreError> {
    match STORE.lock().as_mut() {
        Some(store) => store.commit(changes),
        None => Ok(()),
    }
}

/// The stored value of `key` (`None` if absent or unreadable: a read error is logged).
pub(crate) fn read(key: &str) -> Option<Vec<u8>> {
    let mut guard = STORE.lock();
    match guard.as_mut()?.get(key) {
        Ok(value) => value,
        Err(e) => {
            log::error!("store: {key}: {e}");
            None
        }
    }
}

/// The stored value of `key`, or why it could not be read (`Ok(None)`: absent, or
/// no store).
pub(crate) fn get(key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    match STORE.lock().as_mut() {
        Some(store) => store.get(key),
        None => Ok(None),
    }
}

/// Whether `key` has a value in the store.
pub(crate) fn contains(key: &str) -> bool {
    STORE.lock().as_ref().is_some_and(|s| s.contains(key))
}

/// The stored keys that start with `prefix`.
pub(crate) fn keys(prefix: &str) -> Vec<String> {
    STORE.lock().as_ref().map(|s| s.keys(prefix)).unwrap_or_default()
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
    let mut written_tags = TAGS.lock();
    let mut new_tags = Vec::new();
    for image in &wanted {
        for layer in &image.layers {
            let key = layer_key(&layer.diff_id);
            if layers_wanted.insert(key.clone()) && !store.contains(&key) {
                changes.push(Change::Put(key, layer_tar(layer)));
            }
        }
        if !store.contains(&image_key(&image.id)) {
            changes.push(Change::Put(image_key(&image.id), image.config_bytes.clone()));
        }
        let tags = image.tags.lock().join("\n");
        if written_tags.get(&image.id) != Some(&tags) {
            changes.push(Change::Put(tags_key(&image.id), tags.clone().into_bytes()));
            new_tags.push((image.id.clone(), tags));
        }
    }
    let wanted_ids: BTreeSet<&str> = wanted.iter().map(|i| i.id.as_str()).collect();
    let mut gone = Vec::new();
    for key in store.keys("image/") {
        let id = &key["image/".len()..];
        if !wanted_ids.contains(id) {
            changes.push(Change::Delete(tags_key(id)));
            changes.push(Change::Delete(key.clone()));
            gone.push(String::from(id));
        }
    }
    for key in store.keys("layer/") {
        if !layers_wanted.contains(&key) {
            changes.push(Change::Delete(key));
        }
    }
    store.commit(&changes)?;
    written_tags.extend(new_tags);
    for id in gone {
        written_tags.remove(&id);
    }
    Ok(())
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
    let tags = String::from_utf8_lossy(&tags).into_owned();
    for tag in tags.lines().filter(|t| !t.is_empty()) {
        images::tag(&image, String::from(tag));
    }
    TAGS.lock().insert(String::from(id), tags);
    Ok(image)
}

/// A stored container: what the agent needs to make it again.
pub struct ContainerRecord {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The image reference it was created from.
    pub image: String,
    /// When it was created, ns since the epoch.
    pub created_at: u64,
    /// The volumes it mounts (anonymous ones are named only here).
    pub volumes: Vec<berth_config::VolumeMount>,
    /// The create request's body, as the client sent it.
    pub request: Vec<u8>,
    /// Its state as last written (see the module comment).
    pub state: String,
}

fn container_key(id: &str) -> String {
    alloc::format!("container/{id}")
}

fn state_key(id: &str) -> String {
    alloc::format!("state/{id}")
}

fn rwlayer_key(id: &str) -> String {
    alloc::format!("rwlayer/{id}")
}

/// Why a writable layer was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerError {
    /// The store could not take it.
    Store(StoreError),
    /// The files could not be written out (`NoSpace`: not enough memory to).
    FileSystem(berth_vfs::FsError),
}

impl LayerError {
    /// Whether it failed for want of room (in the store, or in memory).
    pub fn is_no_space(&self) -> bool {
        matches!(self, LayerError::Store(StoreError::Full { .. }) | LayerError::FileSystem(berth_vfs::FsError::NoSpace))
    }
}

impl core::fmt::Display for LayerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LayerError::Store(e) => write!(f, "the store on disk: {e}"),
            LayerError::FileSystem(e) => write!(f, "writing out its files: {e}"),
        }
    }
}

/// An archive `make` writes (a volume's, a writable layer's, one `docker cp` or
/// `docker commit` sends), its size charged to the memory all containers share for
/// as long as the returned charge is held, so that a large one cannot take frames
/// the containers were promised. `make` gets the question "room for this many
/// bytes?"; `NoSpace` if there is not.
pub fn charged_archive(
    make: impl FnOnce(&mut dyn FnMut(u64) -> bool) -> Result<Vec<u8>, berth_vfs::FsError>,
) -> Result<(Vec<u8>, Option<crate::mm::Charge>), berth_vfs::FsError> {
    let mut held = None;
    let bytes = make(&mut |bytes| {
        held = transient_charge(bytes);
        held.is_some()
    })?;
    Ok((bytes, held))
}

/// A charge of `bytes` to the machine's container memory, for data on its way to the
/// disk; `None` if that memory is used up.
pub fn transient_charge(bytes: u64) -> Option<crate::mm::Charge> {
    let shared = Arc::new(crate::mm::MemoryCounter::for_container(u64::MAX));
    crate::mm::Charge::new(&shared, bytes)
}

/// A stored container's writable layer on its way to the store.
struct LayerWrite {
    /// The store changes that write it.
    changes: Vec<Change>,
    /// The change count of the files it holds.
    count: u64,
    /// The write-out of a paged tree, to note once committed.
    out: Option<berth_vfs::WriteOut>,
    /// The memory its copies take until written.
    _held: Option<crate::mm::Charge>,
}

/// The writable layer of `c`, if it is a stored container whose files changed since
/// the layer was last written: for a paged tree (every stored container's since
/// paging), its changed extents and manifest (`paged_store`); otherwise its changes
/// as one layer archive.
fn layer_change(c: &super::Container) -> Result<Option<LayerWrite>, berth_vfs::FsError> {
    let count = c.sandbox.fs.changes();
    match LAYERS.lock().get(&c.id) {
        Some(&written) if written != count => {}
        _ => return Ok(None),
    }
    let fs = &c.sandbox.fs;
    if !fs.is_paged() {
        let (layer, held) = charged_archive(|room| fs.changes_archive(&c.image, room))?;
        let changes = alloc::vec![Change::Put(rwlayer_key(&c.id), layer)];
        return Ok(Some(LayerWrite { changes, count, out: None, _held: held }));
    }
    let held = transient_charge(fs.dirty_bytes()).ok_or(berth_vfs::FsError::NoSpace)?;
    let mut out = fs.write_out_changes(&c.image)?;
    let mut changes = super::paged_store::TreeKeys::container(&c.id).changes(&mut out);
    if contains(&rwlayer_key(&c.id)) {
        // A layer from before paging: now in the paged one.
        changes.push(Change::Delete(rwlayer_key(&c.id)));
    }
    Ok(Some(LayerWrite { changes, count, out: Some(out), _held: Some(held) }))
}

/// Writes the writable layer of `c` if it changed (`fsync` of one of its files, or a
/// writer past its dirty limit).
pub fn save_layer(c: &super::Container) -> Result<(), LayerError> {
    let Some(write) = layer_change(c).map_err(LayerError::FileSystem)? else { return Ok(()) };
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return Ok(()) };
    store.commit(&write.changes).map_err(LayerError::Store)?;
    drop(guard);
    if let Some(out) = &write.out {
        c.sandbox.fs.written(out);
    }
    LAYERS.lock().insert(c.id.clone(), write.count);
    Ok(())
}

/// Notes the files of a stored container as they are now as what its stored
/// writable layer holds (a container just made, or brought back with its layer).
pub fn note_layer_written(c: &super::Container) {
    LAYERS.lock().insert(c.id.clone(), c.sandbox.fs.changes());
}

/// Container `id`'s stored writable layer, if it has one: its changes to its image
/// (to stack on it) and the file id its new files start from.
pub fn stored_layer(id: &str) -> Result<Option<(berth_vfs::Image, u64)>, String> {
    if let Some(layer) = super::paged_store::TreeKeys::container(id).read()? {
        return Ok(Some(layer));
    }
    // A layer from before paging: one archive of its changes.
    let Some(tar) = read(&rwlayer_key(id)) else { return Ok(None) };
    let layer =
        berth_vfs::Image::from_tar(&tar, berth_vfs::ImageLimits::default()).map_err(|e| alloc::format!("{e}"))?;
    Ok(Some((layer, 1)))
}

/// The state line of `c` (see the module comment).
fn state_of(c: &super::Container) -> String {
    let policy = c.restart_policy();
    let status = match (c.status(), c.ending()) {
        (super::Status::Created, _) => String::from("created"),
        (super::Status::Running, _) => alloc::format!("running {}", c.restarts()),
        (super::Status::Exited(_), Some(e)) => {
            alloc::format!("exited {} {} {} {}", e.code, u8::from(e.stopped_by_hand), e.restarts, c.times().1)
        }
        (super::Status::Exited(code), None) => alloc::format!("exited {code} 0 0 {}", c.times().1),
    };
    alloc::format!("{status} {}:{}", policy.name(), policy.max_retries())
}

/// Stores a container the agent just created (nothing without a store, or for a
/// `--rm` container): it comes back at boot.
pub fn save_container(c: &super::Container, image: &str, request: &[u8]) -> Result<(), StoreError> {
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return Ok(()) };
    if c.config.auto_remove {
        return Ok(());
    }
    let record = encode_record(&c.name(), image, c.created_at, &c.config.volumes, request);
    let state = state_of(c);
    store.commit(&[
        Change::Put(container_key(&c.id), record),
        Change::Put(state_key(&c.id), state.clone().into_bytes()),
    ])?;
    WRITTEN.lock().insert(c.id.clone(), state);
    note_layer_written(c);
    Ok(())
}

/// Writes a container's new name (`docker rename`); nothing for one not stored.
pub fn rename_container(id: &str, name: &str) -> Result<(), StoreError> {
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return Ok(()) };
    if !store.contains(&container_key(id)) {
        return Ok(());
    }
    let r = read_record(store, id).ok_or(StoreError::Damaged("a container record", 0))?;
    let record = encode_record(name, &r.image, r.created_at, &r.volumes, &r.request);
    store.commit(&[Change::Put(container_key(id), record)])
}

/// Forgets a removed container.
pub fn forget_container(id: &str) -> Result<(), StoreError> {
    let layer = super::paged_store::TreeKeys::container(id).all();
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return Ok(()) };
    LAYERS.lock().remove(id);
    if WRITTEN.lock().remove(id).is_none() && !store.contains(&container_key(id)) {
        return Ok(());
    }
    let mut changes =
        alloc::vec![Change::Delete(container_key(id)), Change::Delete(state_key(id)), Change::Delete(rwlayer_key(id))];
    changes.extend(layer.into_iter().map(Change::Delete));
    store.commit(&changes)
}

/// Writes the state of every stored container whose state changed since last written,
/// in one commit, with the writable layers of those that have ended (a failure is
/// logged; the next call tries again).
pub fn sync_containers() {
    let changed: Vec<(Arc<super::Container>, String)> = {
        let written = WRITTEN.lock();
        if written.is_empty() {
            return;
        }
        super::registry::list()
            .into_iter()
            .filter_map(|c| {
                let old = written.get(&c.id)?;
                let now = state_of(&c);
                (*old != now).then_some((c, now))
            })
            .collect()
    };
    if changed.is_empty() {
        return;
    }
    let mut changes: Vec<Change> =
        changed.iter().map(|(c, state)| Change::Put(state_key(&c.id), state.clone().into_bytes())).collect();
    let mut layers = Vec::new();
    for (c, _) in changed.iter().filter(|(c, _)| matches!(c.status(), super::Status::Exited(_))) {
        match layer_change(c) {
            Ok(Some(mut write)) => {
                changes.append(&mut write.changes);
                layers.push((c.clone(), write));
            }
            Ok(None) => {}
            Err(e) => log::warn!("container {}: writable layer not written: {e}", c.name()),
        }
    }
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return };
    match store.commit(&changes) {
        Ok(()) => {
            drop(guard);
            WRITTEN.lock().extend(changed.into_iter().map(|(c, state)| (c.id.clone(), state)));
            for (c, write) in layers {
                if let Some(out) = &write.out {
                    c.sandbox.fs.written(out);
                }
                LAYERS.lock().insert(c.id.clone(), write.count);
            }
        }
        Err(e) => log::warn!("container states not written: {e}"),
    }
}

/// Notes that the stored container `id` stands as `state` (one brought back at boot).
pub fn note_container_state(id: &str, state: String) {
    WRITTEN.lock().insert(String::from(id), state);
}

/// The stored containers, oldest first (a record that cannot be read is logged and
/// skipped).
pub fn stored_containers() -> Vec<ContainerRecord> {
    let mut guard = STORE.lock();
    let Some(store) = guard.as_mut() else { return Vec::new() };
    let mut records = Vec::new();
    for key in store.keys("container/") {
        let id = String::from(&key["container/".len()..]);
        match read_record(store, &id) {
            Some(record) => records.push(record),
            None => log::error!("container {}: its stored record cannot be read", &id[..12.min(id.len())]),
        }
    }
    records.sort_by_key(|r| r.created_at);
    records
}

/// The `container/<id>` record (see the module comment; [`read_record`] reads it).
fn encode_record(
    name: &str,
    image: &str,
    created_at: u64,
    volumes: &[berth_config::VolumeMount],
    request: &[u8],
) -> Vec<u8> {
    let mut head = alloc::format!("berth-container 1\nname {name}\nimage {image}\ncreated {created_at}\n");
    for m in volumes {
        let flags = u8::from(m.anonymous) | u8::from(m.no_copy) << 1 | u8::from(m.read_only) << 2;
        head.push_str(&alloc::format!("volume {flags} {} {}\n", m.volume, m.target));
    }
    head.push('\n');
    let mut record = head.into_bytes();
    record.extend_from_slice(request);
    record
}

fn read_record(store: &mut Store<DataPartition>, id: &str) -> Option<ContainerRecord> {
    let bytes = store.get(&container_key(id)).ok()??;
    let state = String::from_utf8(store.get(&state_key(id)).ok()??).ok()?;
    let split = bytes.windows(2).position(|w| w == b"\n\n")?;
    let head = core::str::from_utf8(&bytes[..split]).ok()?;
    let mut lines = head.lines();
    if lines.next()? != "berth-container 1" {
        return None;
    }
    let mut field = |name: &str| lines.next()?.strip_prefix(name)?.strip_prefix(' ').map(String::from);
    let name = field("name")?;
    let image = field("image")?;
    let created_at = field("created")?.parse().ok()?;
    let mut volumes = Vec::new();
    for line in lines {
        let mut words = line.strip_prefix("volume ")?.splitn(3, ' ');
        let flags: u8 = words.next()?.parse().ok()?;
        let (anonymous, no_copy, read_only) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
        let (volume, target) = (String::from(words.next()?), String::from(words.next()?));
        volumes.push(berth_config::VolumeMount { volume, target, anonymous, no_copy, read_only });
    }
    let request = bytes[split + 2..].to_vec();
    Some(ContainerRecord { id: String::from(id), name, image, created_at, volumes, request, state })
}

/// How a stored container stood when last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredState {
    /// Created, never started.
    Created,
    /// Running (with this many restarts) when the machine went down.
    Running(u32),
    /// Ended so, at this time (ns since the epoch; 0 if not known).
    Exited(berth_config::Ending, u64),
}

/// Reads a state line (see the module comment): the state and the restart policy;
/// `None` if it is not one.
pub fn parse_state(state: &str) -> Option<(StoredState, berth_config::RestartPolicy)> {
    let mut words: Vec<&str> = state.split_whitespace().collect();
    let (name, max) = words.pop()?.split_once(':')?;
    let policy = berth_config::RestartPolicy::parse(name, max.parse().ok()?).ok()?;
    let state = parse_status(&words)?;
    Some((state, policy))
}

fn parse_status(words: &[&str]) -> Option<StoredState> {
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<i64>().ok());
    match *words.first()? {
        "created" => Some(StoredState::Created),
        "running" => Some(StoredState::Running(number(1)? as u32)),
        "exited" => Some(StoredState::Exited(
            berth_config::Ending {
                code: number(1)? as i32,
                stopped_by_hand: number(2)? != 0,
                restarts: number(3)? as u32,
            },
            number(4).unwrap_or(0) as u64,
        )),
        _ => None,
    }
}
