//! How a volume is kept in the store, on a machine with one: a paged tree
//! (`paged_store`) under `volume-tree/<name>` and `volume-extent/<name>/...`.
//!
//! Stores written before paging kept a volume as one tar (`volume-data/<name>`): it is
//! read once, copied into the paged tree, and removed by the first write-out.

use crate::paged_store::TreeKeys;
use crate::store;
use crate::volumes::VolumeError;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_store::Change;
use berth_vfs::{Budget, Filesystem, FsError, Image, ImageLimits, Paging};

fn legacy_key(name: &str) -> String {
    format!("volume-data/{name}")
}

/// The store keys of volume `name`'s contents (for its removal).
pub(crate) fn keys(name: &str) -> Vec<String> {
    let mut keys = TreeKeys::volume(name).all();
    keys.extend(Some(legacy_key(name)).filter(|k| store::contains(k)));
    keys
}

fn paging(name: &str, next_file: u64, quota: Option<u64>) -> Paging {
    // Past half the memory a volume may use in changed data, the writer writes it out;
    // the rest stays for clean data to come and go.
    let dirty = crate::mm::container_memory().1 / 8;
    TreeKeys::volume(name).paging(next_file, dirty, quota)
}

/// A new, empty paged tree for volume `name`.
pub(crate) fn empty(name: &str, budget: Arc<dyn Budget>, quota: Option<u64>) -> Result<Filesystem, FsError> {
    Filesystem::paged(&Image::empty(), Some(budget), crate::time::realtime_ns, paging(name, 1, quota))
}

/// Volume `name`'s tree as the store has it (empty if it has none).
pub(crate) fn restore(name: &str, budget: Arc<dyn Budget>, quota: Option<u64>) -> Result<Filesystem, String> {
    let clock = crate::time::realtime_ns;
    if let Some((image, next_file)) = TreeKeys::volume(name).read()? {
        let paging = paging(name, next_file, quota);
        return Filesystem::paged(&image, Some(budget), clock, paging).map_err(|e| format!("its tree: {e}"));
    }
    let fs = empty(name, budget, quota).map_err(|e| format!("{e}"))?;
    if let Some(tar) = store::read(&legacy_key(name)) {
        // The whole volume as one tar, as stores before paging kept it.
        let limits = ImageLimits { max_bytes: u64::MAX, max_entries: usize::MAX };
        let image = Image::from_tar(&tar, limits).map_err(|e| format!("its contents: {e}"))?;
        let old = Filesystem::new(&image, None, clock).map_err(|e| format!("its contents: {e}"))?;
        old.copy_tree(&old.root(), &fs, &fs.root()).map_err(|e| format!("copying its contents: {e}"))?;
    }
    Ok(fs)
}

/// Writes out volume `name`'s tree `fs` in one commit.
pub(crate) fn write_out(name: &str, fs: &Filesystem) -> Result<(), VolumeError> {
    // The copies wait for the disk in memory, charged to the machine's containers.
    let _held = store::transient_charge(fs.dirty_bytes()).ok_or(FsError::NoSpace)?;
    let mut out = fs.write_out()?;
    let mut changes = TreeKeys::volume(name).changes(&mut out);
    if store::contains(&legacy_key(name)) {
        changes.push(Change::Delete(legacy_key(name)));
    }
    store::commit(&changes)?;
    fs.written(&out);
    Ok(())
}
