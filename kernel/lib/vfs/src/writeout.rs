//! Writing a paged tree out (a volume, on a machine with a disk): a manifest of the
//! tree and the changed extents of its files, for the kernel to commit to its store
//! all together.
//!
//! The manifest is a tar archive of the tree in which each regular file's bytes are a
//! 16-byte reference, its id in the pager and its length; hard links stay hard links.
//! Read back with [`Image::from_tar`](crate::Image::from_tar) and given to
//! [`Filesystem::paged`], it is the tree again, with no file data in memory until read.

use crate::archive::{Node, Out};
use crate::blocks::FileSnapshot;
use crate::fs::Filesystem;
use crate::image::{ImageBody, ImageNode};
use crate::inode::{FileRef, Inode};
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
    /// Each live file's changed extents to write, and how many extents it keeps:
    /// the pager's extents of other files, and of these files from there on, are no
    /// longer anyone's.
    pub files: Vec<FileSnapshot>,
    inodes: Vec<Weak<Inode>>,
}

impl Filesystem {
    /// Whether the tree is paged.
    pub fn is_paged(&self) -> bool {
        self.space().paged().is_some()
    }

    /// Bytes of changed file data a write-out would copy.
    pub fn dirty_bytes(&self) -> u64 {
        self.space().paged().map_or(0, |p| p.dirty() * crate::blocks::EXTENT as u64)
    }

    /// Takes a write-out of a paged tree: copies of every file's changed extents,
    /// then the manifest (naming each file at the length its copy was taken at; a
    /// file made since is left to the next write-out). `Invalid` for a tree that is
    /// not paged; `NoSpace` if the heap cannot hold the copies.
    pub fn write_out(&self) -> Result<WriteOut> {
        let paged = self.space().paged().ok_or(FsError::Invalid)?;
        let next_file = paged.peek_next_file();
        let (mut files, mut inodes, mut lengths) = (Vec::new(), Vec::new(), BTreeMap::new());
        for inode in paged.live_files() {
            let snapshot = inode.snapshot().ok_or(FsError::NoSpace)?;
            lengths.insert(snapshot.file, snapshot.file_len());
            files.push(snapshot);
            inodes.push(Arc::downgrade(&inode));
        }
        let mut out = Out::manifest(lengths);
        self.write_node(&mut out, Node::Live(self.root()), String::from("./"))?;
        out.push(&berth_tar::writer::end())?;
        Ok(WriteOut { manifest: out.bytes, next_file, files, inodes })
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

/// Whether every file under `node` is a reference to paged data.
pub(crate) fn is_manifest(node: &ImageNode) -> bool {
    match &node.body {
        ImageBody::Dir(children) => children.values().all(|c| is_manifest(c)),
        ImageBody::File(bytes) => FileRef::decode(bytes).is_some(),
        _ => true,
    }
}

/// For a manifest's file whose data another live inode of `space` already has (its
/// other name): that inode.
pub(crate) fn linked_file(space: &Space, node: &ImageNode) -> Option<Arc<Inode>> {
    let paged = space.paged()?;
    let ImageBody::File(bytes) = &node.body else { return None };
    paged.file(FileRef::decode(bytes)?.id)
}
