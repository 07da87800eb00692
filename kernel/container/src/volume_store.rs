//! How a volume is kept in the store, on a machine with one: paged, each file's data
//! an extent at a time, so that a volume may hold more than memory and a write-out
//! writes only what changed.
//!
//! Keys:
//! - `volume-tree/<name>`: the next file id (u64, little-endian), then the manifest:
//!   the tree as a tar archive whose files are references to their data (see
//!   `berth_vfs::WriteOut`);
//! - `volume-extent/<name>/<file>/<extent>`: extent `extent` ([`EXTENT`] bytes) of
//!   file `file`, up to the file's end; an extent with no key is a hole.
//!
//! A write-out commits the changed extents, the removal of extents no file holds any
//! more, and the new manifest, in one commit: after a power cut the volume is as one
//! write-out left it, whole. Between write-outs, clean extents leave memory when the
//! volume's memory is short and are read back when needed (`berth_vfs::Pager`).
//!
//! Stores written before paging kept a volume as one tar (`volume-data/<name>`): it is
//! read once, copied into the paged tree, and removed by the first write-out.

use crate::store;
use crate::volumes::VolumeError;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_store::Change;
use berth_vfs::{Budget, EXTENT, Filesystem, FsError, Image, ImageLimits, Pager, Paging};

/// Reads a volume's extents back from the store.
struct VolumePager {
    name: String,
}

impl Pager for VolumePager {
    fn read(&self, file: u64, extent: u64) -> Result<Option<Vec<u8>>, FsError> {
        store::get(&extent_key(&self.name, file, extent)).map_err(|e| {
            log::error!("volume {}: file {file} extent {extent}: {e}", self.name);
            FsError::Io
        })
    }
}

fn tree_key(name: &str) -> String {
    format!("volume-tree/{name}")
}

fn extent_prefix(name: &str) -> String {
    format!("volume-extent/{name}/")
}

fn extent_key(name: &str, file: u64, extent: u64) -> String {
    format!("volume-extent/{name}/{file}/{extent}")
}

fn legacy_key(name: &str) -> String {
    format!("volume-data/{name}")
}

/// The store keys of volume `name`'s contents (for its removal).
pub(crate) fn keys(name: &str) -> Vec<String> {
    let mut keys = store::keys(&extent_prefix(name));
    keys.extend([tree_key(name), legacy_key(name)].into_iter().filter(|k| store::contains(k)));
    keys
}

/// A new, empty paged tree for volume `name`.
pub(crate) fn empty(name: &str, budget: Arc<dyn Budget>, quota: Option<u64>) -> Result<Filesystem, FsError> {
    Filesystem::paged(&Image::empty(), Some(budget.clone()), crate::time::realtime_ns, paging(name, 1, quota))
}

fn paging(name: &str, next_file: u64, quota: Option<u64>) -> Paging {
    // Past half the memory a volume may use in changed data, the writer writes it out
    // (as Linux's `dirty_ratio`); the rest stays for clean data to come and go.
    let cache = crate::mm::container_memory().1 / 4;
    let dirty_limit = (cache / 2 / EXTENT as u64).max(16);
    Paging { pager: Arc::new(VolumePager { name: String::from(name) }), next_file, dirty_limit, quota }
}

/// Volume `name`'s tree as the store has it (empty if it has none).
pub(crate) fn restore(name: &str, budget: Arc<dyn Budget>, quota: Option<u64>) -> Result<Filesystem, String> {
    let limits = ImageLimits { max_bytes: u64::MAX, max_entries: usize::MAX };
    let clock = crate::time::realtime_ns;
    if let Some(tree) = store::get(&tree_key(name)).map_err(|e| format!("its tree: {e}"))? {
        let (next, manifest) = tree.split_at_checked(8).ok_or("its tree is cut short")?;
        let next_file = u64::from_le_bytes(next.try_into().expect("8 bytes"));
        let image = Image::from_tar(manifest, limits).map_err(|e| format!("its tree: {e}"))?;
        let paging = paging(name, next_file, quota);
        return Filesystem::paged(&image, Some(budget), clock, paging).map_err(|e| format!("its tree: {e}"));
    }
    let fs = empty(name, budget, quota).map_err(|e| format!("{e}"))?;
    if let Some(tar) = store::read(&legacy_key(name)) {
        // The whole volume as one tar, as stores before paging kept it.
        let image = Image::from_tar(&tar, limits).map_err(|e| format!("its contents: {e}"))?;
        let old = Filesystem::new(&image, None, clock).map_err(|e| format!("its contents: {e}"))?;
        old.copy_tree(&old.root(), &fs, &fs.root()).map_err(|e| format!("copying its contents: {e}"))?;
    }
    Ok(fs)
}

/// Writes out volume `name`'s tree `fs`: its changed extents, the removal of those no
/// longer any file's, and its manifest, in one commit.
pub(crate) fn write_out(name: &str, fs: &Filesystem) -> Result<(), VolumeError> {
    // The copies wait for the disk in memory, charged to the machine's containers.
    let _held = store::transient_charge(fs.dirty_bytes()).ok_or(FsError::NoSpace)?;
    let mut out = fs.write_out()?;
    let keep: BTreeMap<u64, u64> = out.files.iter().map(|f| (f.file, f.extents)).collect();
    let prefix = extent_prefix(name);
    let stored = store::keys(&prefix);
    // Removals first: an extent cut off and written again is removed, then put.
    let held = |key: &str| {
        let (file, extent) = key[prefix.len()..].split_once('/')?;
        let (file, extent): (u64, u64) = (file.parse().ok()?, extent.parse().ok()?);
        Some(extent < *keep.get(&file)?)
    };
    let mut changes: Vec<Change> =
        stored.iter().filter(|key| held(key) != Some(true)).map(|key| Change::Delete(key.clone())).collect();
    for file in &mut out.files {
        for dirty in &mut file.dirty {
            let key = extent_key(name, file.file, dirty.extent);
            match dirty.bytes.take() {
                Some(bytes) => changes.push(Change::Put(key, bytes)),
                None if stored.binary_search(&key).is_ok() => changes.push(Change::Delete(key)),
                None => {}
            }
        }
    }
    let mut tree = Vec::with_capacity(8 + out.manifest.len());
    tree.extend_from_slice(&out.next_file.to_le_bytes());
    tree.extend_from_slice(&out.manifest);
    changes.push(Change::Put(tree_key(name), tree));
    if store::contains(&legacy_key(name)) {
        changes.push(Change::Delete(legacy_key(name)));
    }
    store::commit(&changes)?;
    fs.written(&out);
    Ok(())
}
