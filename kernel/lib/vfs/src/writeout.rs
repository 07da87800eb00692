//! Writing a paged tree out (a volume, or a stored container's tree, on a machine
//! with a disk): a manifest of the tree and the changed extents of its files, for the
//! kernel to commit to its store all together.
//!
//! The manifest is a tar archive: a volume's whole tree, or a container's changes to
//! its image as a layer (with whiteouts). A file whose data is paged is an empty
//! member with a PAX record `BERTH.paged=<id> <length>` naming its data in the pager;
//! hard links stay hard links; anything else (an image's file moved or re-permitted,
//! say) is written whole. Read back with [`Image::manifest_from_tar`] and given to
//! [`Filesystem::paged`], it is the tree again, with no paged data in memory until
//! read.

use crate::archive::{Node, Out};
use crate::blocks::FileSnapshot;
use crate::fs::Filesystem;
use crate::image::{Image, ImageBody, ImageNode};
use crate::inode::Inode;
use crate::space::Space;
use crate::{FsError, Result};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

/// One write-out of a paged tree: commit all of it, then hand it back to
/// [`Filesystem::written`].
pub struct WriteOut {
    /// The tree, as described in the module comment.
    pub manifest: Vec<u8>,
    /// The file id to start from when the manifest is read back.
    pub next_file: u64,
    /// Each live file's changed extents to write.
    pub files: Vec<FileSnapshot>,
    /// How many extents each file the tree still has keeps (by file id): the pager's
    /// other extents are no longer anyone's.
    pub keep: BTreeMap<u64, u64>,
    inodes: Vec<Weak<Inode>>,
}

impl Filesystem {
    /// Whether the tree is paged.
    pub fn is_paged(&self) -> bool {
        self.space().paged().is_some()
    }

    /// Drops clean paged data from memory (data another thread is using is passed
    /// over) until `want` bytes are freed or none is left; returns the bytes freed,
    /// given back to the tree's budget.
    pub fn evict_clean(&self, want: u64) -> u64 {
        self.space().paged().map_or(0, |p| p.evict(self.space(), want, None))
    }

    /// Bytes of changed file data a write-out would copy.
    pub fn dirty_bytes(&self) -> u64 {
        self.space().paged().map_or(0, |p| p.dirty() * crate::blocks::EXTENT as u64)
    }

    /// Takes a write-out of the whole tree (a volume's): copies of every paged file's
    /// changed extents, then the manifest (naming each file at the length its copy was
    /// taken at; a file made since is left to the next write-out). `Invalid` for a tree
    /// that is not paged; `NoSpace` if the heap cannot hold the copies.
    pub fn write_out(&self) -> Result<WriteOut> {
        self.write_out_with(|fs, out| fs.write_node(out, Node::Live(fs.root()), String::from("./")))
    }

    /// Takes a write-out of the tree's changes to `base` (a container's writable
    /// layer), as [`Self::write_out`] does the whole tree.
    pub fn write_out_changes(&self, base: &Image) -> Result<WriteOut> {
        self.write_out_with(|fs, out| fs.diff_into(out, base))
    }

    /// Takes a write-out whose manifest `write` makes.
    fn write_out_with(&self, write: impl FnOnce(&Filesystem, &mut Out) -> Result<()>) -> Result<WriteOut> {
        let paged = self.space().paged().ok_or(FsError::Invalid)?;
        let next_file = paged.peek_next_file();
        let (mut files, mut inodes, mut lengths) = (Vec::new(), Vec::new(), BTreeMap::new());
        for inode in paged.live_files() {
            if let Some(snapshot) = inode.snapshot()? {
                lengths.insert(snapshot.file, snapshot.file_len());
                files.push(snapshot);
                inodes.push(Arc::downgrade(&inode));
            }
        }
        let mut out = Out::manifest(lengths);
        write(self, &mut out)?;
        out.push(&berth_tar::writer::end())?;
        let extents = |len: u64| len.div_ceil(crate::blocks::EXTENT as u64);
        let mut keep: BTreeMap<u64, u64> = out.referenced.iter().map(|(&id, &len)| (id, extents(len))).collect();
        keep.extend(files.iter().map(|f| (f.file, f.extents)));
        Ok(WriteOut { manifest: out.bytes, next_file, files, keep, inodes })
    }

    /// Notes that `out` is committed: what it copied is clean (unless changed since),
    /// and may leave memory.
    pub fn written(&self, out: &WriteOut) {
        for (inode, snapshot) in out.inodes.iter().zip(&out.files) {
            if let Some(inode) = inode.upgrade() {
                inode.written(snapshot);
            }
        }
    }
}

/// For a manifest's reference to paged data that a live inode of `space` was already
/// made from (under another name): that inode.
pub(crate) fn restored_file(space: &Space, node: &ImageNode) -> Option<Arc<Inode>> {
    let ImageBody::Paged(file) = &node.body else { return None };
    space.paged()?.restored(file.id)
}
