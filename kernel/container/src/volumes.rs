//! Volumes: named trees of files that outlive containers (`docker volume`, `-v
//! NAME:/path`, `--mount`), mounted into any number of containers at once.
//!
//! A volume is a [`Filesystem`] of its own, mounted into each container that uses it
//! (`Filesystem::mount_tree`): what a container writes there is the volume's, numbered
//! and charged by it, and stays when the container goes. An empty volume mounted over
//! a directory of the image that holds files is first filled with them (unless the
//! mount says `nocopy`), as Docker fills it. `--opt size=...` limits the bytes its
//! files hold.
//!
//! On a machine with a store, a volume's description is written when it is created,
//! and its files are paged (`volume_store`): what changed is written out whenever a
//! program in a container asks for it to be durable (`fsync`, `fdatasync`, `sync`,
//! `syncfs` of a file in it), when a writer has changed more than the volume should
//! keep unwritten, and otherwise within [`WRITE_BACK_SECONDS`] of a change (as Linux
//! writes dirty pages back after a while); what is written may leave memory, so a
//! volume may hold more than memory. The memory a volume's files use in memory is
//! limited to a quarter of what containers may use. Without a store, its files live
//! in memory only, limited by the same quarter (or its `size`). Store keys:
//! - `volume/<name>`: `berth-volume 1`, then `created <ns since the epoch>`,
//!   `anonymous <0|1>`, and one `label K=V` and `opt K=V` line each;
//! - its tree and its files' data: see `volume_store`.

use crate::mm::MemoryCounter;
use crate::registry;
use crate::sandbox::Sandbox;
use crate::sched::SleepMutex;
use crate::volume_store;
use crate::{ContainerError, store};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use berth_config::VolumeMount;
use berth_store::{Change, StoreError};
use berth_vfs::{Budget, Filesystem, FsError, Image, Inode};
use core::fmt;
use spin::Mutex;

/// Longest time a change to a volume waits before it is written to the store.
pub const WRITE_BACK_SECONDS: u64 = 5;

/// A volume.
pub struct Volume {
    /// Its unique name.
    pub name: String,
    /// Creation time, ns since the epoch.
    pub created_at: u64,
    /// Labels (`--label`).
    pub labels: Vec<(String, String)>,
    /// Driver options (`--opt`): berth knows `size`.
    pub options: Vec<(String, String)>,
    /// Made for one container (`-v /path`), not named by anyone.
    pub anonymous: bool,
    /// Its files.
    pub fs: Arc<Filesystem>,
    /// What was last written to the store; held while writing (through disk I/O:
    /// waiters sleep).
    written: SleepMutex<Written>,
    /// Held while the volume is filled from an image.
    filling: Mutex<()>,
}

struct Written {
    /// The change count of the tree last written (`None`: never).
    changes: Option<u64>,
    /// Removed: nothing more is written.
    removed: bool,
}

/// Why a volume operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeError {
    /// Not a valid volume name.
    BadName(String),
    /// No volume has this name.
    NotFound(String),
    /// Containers (these ids) use it.
    InUse(String, Vec<String>),
    /// An option berth does not know, or a bad value.
    BadOption(String),
    /// The store could not take it.
    Store(StoreError),
    /// Its files could not be made or written out.
    FileSystem(FsError),
}

impl fmt::Display for VolumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VolumeError::BadName(name) => write!(
                f,
                "\"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" \
                 are allowed"
            ),
            VolumeError::NotFound(name) => write!(f, "get {name}: no such volume"),
            VolumeError::InUse(name, ids) => write!(f, "remove {name}: volume is in use - [{}]", ids.join(", ")),
            VolumeError::BadOption(why) => f.write_str(why),
            VolumeError::Store(e) => write!(f, "the store on disk: {e}"),
            VolumeError::FileSystem(e) => write!(f, "the volume's files: {e}"),
        }
    }
}

impl VolumeError {
    /// Whether it failed for want of room: in the store, or in memory to write the
    /// volume out.
    pub fn is_no_space(&self) -> bool {
        matches!(self, VolumeError::Store(StoreError::Full { .. }) | VolumeError::FileSystem(FsError::NoSpace))
    }
}

impl From<StoreError> for VolumeError {
    fn from(e: StoreError) -> VolumeError {
        VolumeError::Store(e)
    }
}

impl From<FsError> for VolumeError {
    fn from(e: FsError) -> VolumeError {
        VolumeError::FileSystem(e)
    }
}

/// Every volume by name (held only briefly: never through disk I/O).
static VOLUMES: Mutex<BTreeMap<String, Arc<Volume>>> = Mutex::new(BTreeMap::new());
/// Held while a volume is made.
static CREATING: SleepMutex<()> = SleepMutex::new(());

/// Whether `name` is a valid volume name (Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() >= 2
        && name.len() <= 255
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn meta_key(name: &str) -> String {
    format!("volume/{name}")
}

/// The most bytes `options` let the volume's files hold (`size`), if limited.
fn quota(options: &[(String, String)]) -> Result<Option<u64>, VolumeError> {
    let mut limit = None;
    for (key, value) in options {
        match key.as_str() {
            "size" => {
                limit = Some(
                    berth_config::parse_size(value)
                        .filter(|&n| n > 0)
                        .ok_or_else(|| VolumeError::BadOption(format!("invalid size for volume: {value}")))?,
                );
            }
            // What `docker volume create` of a tmpfs volume passes: a volume here is in
            // memory anyway.
            "type" | "device" | "o" => {}
            other => return Err(VolumeError::BadOption(format!("invalid option for the local driver: {other}"))),
        }
    }
    Ok(limit)
}

/// The memory a volume's files may use in memory: a quarter of what containers may.
fn memory_budget() -> Arc<MemoryCounter> {
    let quarter = match crate::mm::container_memory().1 / 4 {
        0 => u64::MAX,
        quarter => quarter,
    };
    Arc::new(MemoryCounter::for_container(quarter))
}

/// A paged tree made with `budget`, which its clean data leaves when full.
fn paid_for(
    budget: Arc<MemoryCounter>,
    make: impl FnOnce(Arc<dyn Budget>) -> Result<Filesystem, VolumeError>,
) -> Result<Arc<Filesystem>, VolumeError> {
    let fs = Arc::new(make(budget.clone())?);
    budget.pays_for(&fs);
    Ok(fs)
}

/// A new, empty tree for volume `name`: paged on a machine with a store, else in
/// memory (where its quota is also a memory limit).
fn new_tree(name: &str, quota: Option<u64>) -> Result<Arc<Filesystem>, VolumeError> {
    if store::present() {
        return paid_for(memory_budget(), |budget| Ok(volume_store::empty(name, budget, quota)?));
    }
    let budget = match quota {
        Some(limit) => Arc::new(MemoryCounter::for_container(limit)),
        None => memory_budget(),
    };
    Ok(Arc::new(Filesystem::new(&Image::empty(), Some(budget), crate::time::realtime_ns)?))
}

fn make(
    name: String,
    created_at: u64,
    labels: Vec<(String, String)>,
    options: Vec<(String, String)>,
    anonymous: bool,
    fs: Arc<Filesystem>,
) -> Volume {
    let written = SleepMutex::new(Written { changes: None, removed: false });
    Volume { name, created_at, labels, options, anonymous, fs, written, filling: Mutex::new(()) }
}

/// The description written as `volume/<name>`.
fn describe(v: &Volume) -> Vec<u8> {
    let mut text = format!("berth-volume 1\ncreated {}\nanonymous {}\n", v.created_at, u8::from(v.anonymous));
    for (k, val) in &v.labels {
        text.push_str(&format!("label {k}={val}\n"));
    }
    for (k, val) in &v.options {
        text.push_str(&format!("opt {k}={val}\n"));
    }
    text.into_bytes()
}

/// Creates a volume (named, or anonymous with a fresh name if `name` is `None`), or
/// returns the one of that name; `true` when it is new. A new one is in the store
/// before this returns.
pub fn create(
    name: Option<&str>,
    labels: Vec<(String, String)>,
    options: Vec<(String, String)>,
) -> Result<(Arc<Volume>, bool), VolumeError> {
    let anonymous = name.is_none();
    let name = match name {
        Some(n) if !valid_name(n) => return Err(VolumeError::BadName(String::from(n))),
        Some(n) => String::from(n),
        None => registry::new_id(),
    };
    // One creation at a time (it may wait for the disk, so not under `VOLUMES`).
    let _creating = CREATING.lock();
    if let Some(existing) = get(&name) {
        return Ok((existing, false));
    }
    let fs = new_tree(&name, quota(&options)?)?;
    let volume = Arc::new(make(name.clone(), crate::time::realtime_ns(), labels, options, anonymous, fs));
    store::commit(&[Change::Put(meta_key(&name), describe(&volume))])?;
    VOLUMES.lock().insert(name.clone(), volume.clone());
    crate::events::publish(
        "volume",
        String::from("create"),
        name,
        vec![(String::from("driver"), String::from("local"))],
    );
    Ok((volume, true))
}

/// The volume called `name`.
pub fn get(name: &str) -> Option<Arc<Volume>> {
    VOLUMES.lock().get(name).cloned()
}

/// Every volume, by name.
pub fn list() -> Vec<Arc<Volume>> {
    VOLUMES.lock().values().cloned().collect()
}

/// The ids of the containers that mount `name`.
pub fn users(name: &str) -> Vec<String> {
    registry::list()
        .iter()
        .filter(|c| !c.is_removed() && c.config.volumes.iter().any(|m| m.volume == name))
        .map(|c| c.id.clone())
        .collect()
}

/// Removes the volume `name` and its stored contents; refused while a container
/// uses it, even with `force` (as dockerd refuses: its users' files would go), which
/// only makes a missing volume no error.
pub fn remove(name: &str, force: bool) -> Result<(), VolumeError> {
    let Some(volume) = get(name) else {
        return if force { Ok(()) } else { Err(VolumeError::NotFound(String::from(name))) };
    };
    let users = users(name);
    if !users.is_empty() {
        return Err(VolumeError::InUse(String::from(name), users));
    }
    let mut written = volume.written.lock();
    let mut changes = vec![Change::Delete(meta_key(name))];
    changes.extend(volume_store::keys(name).into_iter().map(Change::Delete));
    store::commit(&changes)?;
    written.removed = true;
    VOLUMES.lock().remove(name);
    crate::events::publish("volume", String::from("destroy"), String::from(name), Vec::new());
    Ok(())
}

/// Removes the anonymous volumes of a container that is being removed, unless
/// another container uses one (failures are logged).
pub fn remove_anonymous(mounts: &[VolumeMount]) {
    for m in mounts.iter().filter(|m| m.anonymous) {
        match remove(&m.volume, false) {
            Ok(()) | Err(VolumeError::NotFound(_) | VolumeError::InUse(..)) => {}
            Err(e) => log::warn!("volume {}: not removed: {e}", m.volume),
        }
    }
}

/// Writes `volume`'s contents to the store if they changed since last written.
pub fn sync(volume: &Volume) -> Result<(), VolumeError> {
    if !store::present() {
        return Ok(());
    }
    let mut written = volume.written.lock();
    let changes = volume.fs.changes();
    if written.removed || written.changes == Some(changes) {
        return Ok(());
    }
    // A change made during the write-out may or may not be in it; the count taken
    // before says it is not, so the next sync writes again.
    volume_store::write_out(&volume.name, &volume.fs)?;
    written.changes = Some(changes);
    Ok(())
}

/// Writes every changed volume (`sync(2)`); the first failure is returned after all
/// have been tried.
pub fn sync_all() -> Result<(), VolumeError> {
    let mut first = Ok(());
    for volume in list() {
        if let Err(e) = sync(&volume) {
            log::warn!("volume {}: not written: {e}", volume.name);
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}

/// Writes the volume `inode` belongs to, if it belongs to one (`fsync(2)`).
pub fn sync_holding(inode: &Inode) -> Result<(), VolumeError> {
    match list().into_iter().find(|v| v.fs.holds(inode)) {
        Some(volume) => sync(&volume),
        None => Ok(()),
    }
}

/// Mounts a new container's volumes, making each target directory (and those above
/// it) where the image has none.
pub(crate) fn mount_into(sandbox: &Sandbox, mounts: &[VolumeMount]) -> Result<(), ContainerError> {
    let fs = &sandbox.fs;
    for m in mounts {
        let volume = get(&m.volume).ok_or_else(|| ContainerError::NoVolume(m.volume.clone()))?;
        if fs.has_mounted(&volume.fs) {
            continue; // the files of an earlier run, kept
        }
        let err = |e| ContainerError::FileSystem("a volume's mount point", e);
        let (dir, last) = mount_point(sandbox, &m.target).map_err(err)?;
        if !m.no_copy {
            fill_from_image(fs, &dir, &last, &volume).map_err(err)?;
        }
        fs.mount_tree(&dir, &last, &volume.fs, m.read_only).map_err(err)?;
    }
    Ok(())
}

/// The directory a tree is mounted in for `target` (made, with those above it, where
/// the image has none) and the name it takes there.
pub(crate) fn mount_point(sandbox: &Sandbox, target: &str) -> Result<(Arc<Inode>, String), FsError> {
    let fs = &sandbox.fs;
    let mut parts: Vec<&str> = target.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let last = parts.pop().ok_or(FsError::Invalid)?;
    let mut dir = fs.root();
    for part in parts {
        dir = match fs.child(&dir, part) {
            Ok(child) if child.is_dir() => child,
            Ok(_) => return Err(FsError::NotDirectory),
            Err(FsError::NotFound) => fs.mkdir(&dir, part, 0o755)?,
            Err(e) => return Err(e),
        };
    }
    Ok((dir, String::from(last)))
}

/// Fills an empty volume with what the container's tree has at `dir/name` (a
/// directory of its image), as Docker does at a volume's first mount.
fn fill_from_image(fs: &Filesystem, dir: &Arc<Inode>, name: &str, volume: &Volume) -> Result<(), FsError> {
    let Ok(source) = fs.child(dir, name) else { return Ok(()) };
    if !source.is_dir() || fs.entries(&source)?.is_empty() {
        return Ok(());
    }
    // One container at a time fills it: the second finds it no longer empty.
    let _filling = volume.filling.lock();
    if !volume.fs.entries(&volume.fs.root())?.is_empty() {
        return Ok(());
    }
    fs.copy_tree(&source, &volume.fs, &volume.fs.root())
}

/// Brings back the stored volumes (at boot, before the containers that mount them).
pub fn restore() {
    let started = crate::time::now_ns();
    let mut restored = 0;
    for key in store::keys("volume/") {
        let name = &key["volume/".len()..];
        match restore_one(name) {
            Ok(volume) => {
                VOLUMES.lock().insert(volume.name.clone(), Arc::new(volume));
                restored += 1;
            }
            Err(why) => log::error!("volume {name}: not restored: {why}"),
        }
    }
    if restored > 0 {
        let ms = (crate::time::now_ns() - started) / 1_000_000;
        log::info!("{restored} volume(s) restored in {ms} ms");
    }
}

fn restore_one(name: &str) -> Result<Volume, String> {
    let meta = store::read(&meta_key(name)).ok_or("its description cannot be read")?;
    let meta = core::str::from_utf8(&meta).map_err(|_| "its description is not text")?;
    let mut lines = meta.lines();
    if lines.next() != Some("berth-volume 1") {
        return Err(String::from("its description has an unknown format"));
    }
    let (mut created_at, mut anonymous) = (0, false);
    let (mut labels, mut options) = (Vec::new(), Vec::new());
    for line in lines {
        let (key, value) = line.split_once(' ').ok_or("a line of its description has no value")?;
        let pair = || value.split_once('=').map(|(k, v)| (String::from(k), String::from(v)));
        match key {
            "created" => created_at = value.parse().map_err(|_| "a bad creation time")?,
            "anonymous" => anonymous = value == "1",
            "label" => labels.extend(pair()),
            "opt" => options.extend(pair()),
            _ => {}
        }
    }
    let quota = quota(&options).map_err(|e| format!("{e}"))?;
    let budget = memory_budget();
    let fs = Arc::new(volume_store::restore(name, budget.clone(), quota)?);
    budget.pays_for(&fs);
    // A tree copied in from the older format has changes to write out.
    let copied = fs.dirty_bytes() > 0;
    let volume = make(String::from(name), created_at, labels, options, anonymous, fs);
    if !copied {
        volume.written.lock().changes = Some(volume.fs.changes());
    }
    Ok(volume)
}

/// Writes the volumes changed since they were last written (the watchdog, every
/// [`WRITE_BACK_SECONDS`]).
pub fn write_back() {
    let _ = sync_all();
}
