//! Paged trees in the store: a volume's files, or a stored container's writable
//! layer, kept an extent at a time, so that they may hold more than memory and a
//! write-out writes only what changed.
//!
//! Each tree has two kinds of keys ([`TreeKeys`]):
//! - its tree key: the next file id (u64, little-endian), then the manifest (a tar:
//!   see `berth_vfs::WriteOut`; a volume's whole tree, or a container's changes to
//!   its image as a layer with whiteouts);
//! - `<extents prefix><file>/<extent>`: extent `extent` ([`EXTENT`] bytes) of file
//!   `file`, up to the file's end; an extent with no key is a hole.
//!
//! A write-out commits the changed extents, the removal of extents no file holds any
//! more, and the new manifest, in one commit: after a power cut the tree is as one
//! write-out left it, whole. Between write-outs, clean extents leave memory when the
//! tree's memory is short and are read back when needed (`berth_vfs::Pager`).

use crate::store;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_store::Change;
use berth_vfs::{EXTENT, FsError, Image, ImageLimits, Pager, Paging, WriteOut};

/// Where one paged tree lives in the store.
pub(crate) struct TreeKeys {
    tree: String,
    extents: String,
}

/// Reads a tree's extents back from the store.
struct StorePager {
    extents: String,
}

impl Pager for StorePager {
    fn read(&self, file: u64, extent: u64) -> Result<Option<Vec<u8>>, FsError> {
        let key = format!("{}{file}/{extent}", self.extents);
        store::get(&key).map_err(|e| {
            log::error!("store: {key}: {e}");
            FsError::Io
        })
    }
}

impl TreeKeys {
    /// Volume `name`'s (`volume-tree/<name>`, `volume-extent/<name>/...`).
    pub fn volume(name: &str) -> TreeKeys {
        TreeKeys { tree: format!("volume-tree/{name}"), extents: format!("volume-extent/{name}/") }
    }

    /// Container `id`'s writable layer (`rwtree/<id>`, `rwextent/<id>/...`).
    pub fn container(id: &str) -> TreeKeys {
        TreeKeys { tree: format!("rwtree/{id}"), extents: format!("rwextent/{id}/") }
    }

    /// The paging of the tree, its new files numbered from `next_file`: changed data
    /// past `dirty_bytes` makes a writer write the tree out (as Linux's `dirty_ratio`).
    pub fn paging(&self, next_file: u64, dirty_bytes: u64, quota: Option<u64>) -> Paging {
        let dirty_limit = (dirty_bytes / EXTENT as u64).max(16);
        Paging { pager: Arc::new(StorePager { extents: self.extents.clone() }), next_file, dirty_limit, quota }
    }

    /// Every key the tree has in the store (to remove it).
    pub fn all(&self) -> Vec<String> {
        let mut keys = store::keys(&self.extents);
        if store::contains(&self.tree) {
            keys.push(self.tree.clone());
        }
        keys
    }

    /// The stored manifest and the next file id, if the tree has been written out.
    pub fn read(&self) -> Result<Option<(Image, u64)>, String> {
        let Some(tree) = store::get(&self.tree).map_err(|e| format!("{}: {e}", self.tree))? else { return Ok(None) };
        let (next, manifest) = tree.split_at_checked(8).ok_or_else(|| format!("{}: cut short", self.tree))?;
        let next_file = u64::from_le_bytes(next.try_into().expect("8 bytes"));
        let limits = ImageLimits { max_bytes: u64::MAX, max_entries: usize::MAX };
        let image = Image::manifest_from_tar(manifest, limits).map_err(|e| format!("{}: {e}", self.tree))?;
        Ok(Some((image, next_file)))
    }

    /// The store changes that write `out` out: removals of extents no file keeps
    /// (first: an extent cut off and written again is removed, then put), the changed
    /// extents (their copies moved out of `out`), then the manifest.
    pub fn changes(&self, out: &mut WriteOut) -> Vec<Change> {
        let stored = store::keys(&self.extents);
        let held = |key: &str| {
            let (file, extent) = key[self.extents.len()..].split_once('/')?;
            let (file, extent): (u64, u64) = (file.parse().ok()?, extent.parse().ok()?);
            Some(extent < *out.keep.get(&file)?)
        };
        let mut changes: Vec<Change> =
            stored.iter().filter(|key| held(key) != Some(true)).map(|key| Change::Delete(key.clone())).collect();
        for file in &mut out.files {
            for dirty in &mut file.dirty {
                let key = format!("{}{}/{}", self.extents, file.file, dirty.extent);
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
        changes.push(Change::Put(self.tree.clone(), tree));
        changes
    }
}
