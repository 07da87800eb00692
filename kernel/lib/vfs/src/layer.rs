//! A tree's changes to the image it started from, as a layer archive (what overlay
//! file systems keep as the upper layer): what was added or changed, and a whiteout
//! `.wh.NAME` for each name removed. Stacked on that image (as image layers are), it
//! gives the tree back, so a container's writable layer can be kept on disk.
//!
//! What is compared is a [`Node`]: a live inode, or a part of the tree still the
//! image's nodes (perhaps of another image stacked on the base).
//!
//! Unchanged is decided without reading file data: a file whose bytes are still the
//! image's own (the same shared buffer) with the same owner, mode and modification
//! time, and a directory never looked into, are left out.

use crate::Result;
use crate::archive::{Node, Out, children_of, write_image_node};
use crate::fs::Filesystem;
use crate::image::{Image, ImageBody, ImageNode};
use crate::inode::{Body, Content, Metadata};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_tar::writer::{self, Member, MemberKind};

/// Whether `m` shows the same owner, mode and modification time as `node`.
fn same_meta(m: &Metadata, node: &ImageNode) -> bool {
    m.mode == node.mode && m.uid == node.uid && m.gid == node.gid && m.mtime / 1_000_000_000 == node.mtime
}

fn same_image_meta(a: &ImageNode, b: &ImageNode) -> bool {
    a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.mtime == b.mtime
}

/// Whether two leaves (not directories) of images are the same.
fn same_image_leaf(a: &ImageNode, b: &ImageNode) -> bool {
    same_image_meta(a, b)
        && match (&a.body, &b.body) {
            (ImageBody::File(x), ImageBody::File(y)) => Arc::ptr_eq(x, y),
            (ImageBody::Paged(x), ImageBody::Paged(y)) => x == y,
            (ImageBody::Symlink(x), ImageBody::Symlink(y)) => x == y,
            (ImageBody::Device(x), ImageBody::Device(y)) => x == y,
            (ImageBody::Fifo, ImageBody::Fifo) => true,
            _ => false,
        }
}

/// How a path changed, as `docker diff` reports it (its `Kind`: 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathChange {
    /// Changed (its data, or its metadata).
    Modified,
    /// Not in the image.
    Added,
    /// Removed from the image's.
    Deleted,
}

/// A layer member's name as a change to `base` (`None` for the root and opaque
/// markers).
fn path_change(name: &str, base: &Image) -> Option<(String, PathChange)> {
    let name = name.trim_start_matches("./").trim_end_matches('/');
    if name.is_empty() {
        return None;
    }
    let (dir, leaf) = match name.rsplit_once('/') {
        Some((dir, leaf)) => (format!("/{dir}"), leaf),
        None => (String::new(), name),
    };
    if leaf == ".wh..wh..opq" {
        return None;
    }
    if let Some(gone) = leaf.strip_prefix(".wh.") {
        return Some((format!("{dir}/{gone}"), PathChange::Deleted));
    }
    let mut node = base.root();
    let in_base = name.split('/').all(|part| match &node.body {
        ImageBody::Dir(children) => children.get(part).map(|child| node = child).is_some(),
        _ => false,
    });
    Some((format!("/{name}"), if in_base { PathChange::Modified } else { PathChange::Added }))
}

fn dir_member<'a>(path: &'a str, mode: u32, uid: u32, gid: u32, mtime: u64) -> Member<'a> {
    Member { name: path, kind: MemberKind::Directory, mode, uid, gid, size: 0, mtime }
}

impl Filesystem {
    /// The tree's changes to `base` as a layer archive (see the module comment). Its
    /// size is first asked of `room`; `NoSpace` if it refuses, or if the heap cannot
    /// hold the archive.
    pub fn changes_archive(&self, base: &Image, room: impl FnOnce(u64) -> bool) -> Result<Vec<u8>> {
        let mut count = Out::counting();
        self.diff(&mut count, Node::Live(self.root()), base.root(), String::from("./"))?;
        let mut out = Out::with_room(count.len() + writer::end().len(), room)?.reading(self.pager());
        self.diff(&mut out, Node::Live(self.root()), base.root(), String::from("./"))?;
        out.push(&writer::end())?;
        Ok(out.bytes)
    }

    /// The bytes [`Self::changes_archive`] would take (its writable layer's size).
    pub fn changes_len(&self, base: &Image) -> Result<u64> {
        let mut count = Out::counting();
        self.diff(&mut count, Node::Live(self.root()), base.root(), String::from("./"))?;
        Ok((count.len() + writer::end().len()) as u64)
    }

    /// The tree's changes to `base` path by path (`/etc`, `/etc/new`...), in order of
    /// path: what `docker diff` lists. No file data is read.
    pub fn changed_paths(&self, base: &Image) -> Result<Vec<(String, PathChange)>> {
        let mut out = Out::listing();
        self.diff_into(&mut out, base)?;
        let names = out.names.take().unwrap_or_default();
        let mut changes: Vec<(String, PathChange)> = names.iter().filter_map(|n| path_change(n, base)).collect();
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        changes.dedup_by(|a, b| a.0 == b.0);
        Ok(changes)
    }

    /// Writes the tree's changes to `base` into `out` (a layer without its end).
    pub(crate) fn diff_into(&self, out: &mut Out, base: &Image) -> Result<()> {
        self.diff(out, Node::Live(self.root()), base.root(), String::from("./"))
    }

    /// Writes what of `cur` (at `path`) differs from `base`, which is there in the image.
    fn diff(&self, out: &mut Out, cur: Node, base: &Arc<ImageNode>, path: String) -> Result<()> {
        let base_dir = match &base.body {
            ImageBody::Dir(children) => Some(children),
            _ => None,
        };
        match cur {
            Node::Image(node) => {
                if Arc::ptr_eq(&node, base) {
                    return Ok(());
                }
                match (&node.body, base_dir) {
                    (ImageBody::Dir(children), Some(base_children)) => {
                        if !same_image_meta(&node, base) {
                            out.header(&dir_member(&path, node.mode, node.uid, node.gid, node.mtime))?;
                        }
                        let children = children.iter().map(|(n, c)| (n.clone(), Node::Image(c.clone())));
                        self.diff_children(out, children.collect(), base_children, &path)
                    }
                    _ if same_image_leaf(&node, base) => Ok(()),
                    _ => write_image_node(out, &node, path),
                }
            }
            Node::Live(inode) => {
                if self.is_mounted_root(&inode) || matches!(inode.body, Body::Special(_)) {
                    return Ok(());
                }
                let m = inode.metadata();
                match (&inode.body, base_dir) {
                    (Body::Dir(state), Some(base_children)) => {
                        if !same_meta(&m, base) {
                            out.header(&dir_member(&path, m.mode, m.uid, m.gid, m.mtime / 1_000_000_000))?;
                        }
                        let children = children_of(&state.lock());
                        self.diff_children(out, children, base_children, &path)
                    }
                    (Body::File(content), None) if same_meta(&m, base) => {
                        let unchanged = match (&*content.read(), &base.body) {
                            (Content::Shared(bytes), ImageBody::File(image)) => Arc::ptr_eq(bytes, image),
                            _ => false,
                        };
                        if unchanged { Ok(()) } else { self.write_node(out, Node::Live(inode), path) }
                    }
                    (Body::Symlink(target), None)
                        if same_meta(&m, base) && matches!(&base.body, ImageBody::Symlink(t) if t == target) =>
                    {
                        Ok(())
                    }
                    (Body::Device, None)
                        if same_meta(&m, base) && matches!(base.body, ImageBody::Device(r) if r == m.rdev) =>
                    {
                        Ok(())
                    }
                    (Body::Fifo, None) if same_meta(&m, base) && matches!(base.body, ImageBody::Fifo) => Ok(()),
                    _ => self.write_node(out, Node::Live(inode), path),
                }
            }
        }
    }

    /// The children of a directory at `path` against the image's: each compared (or
    /// written whole where the image has no such name), and a whiteout for each name
    /// the image has and the directory no longer does.
    fn diff_children(
        &self,
        out: &mut Out,
        children: Vec<(String, Node)>,
        base: &alloc::collections::BTreeMap<String, Arc<ImageNode>>,
        path: &str,
    ) -> Result<()> {
        let prefix = path.trim_start_matches("./");
        for (name, _) in base.iter().filter(|(name, _)| !children.iter().any(|(n, _)| n == *name)) {
            let whiteout = format!("{prefix}.wh.{name}");
            out.header(&Member {
                name: &whiteout,
                kind: MemberKind::File,
                mode: 0,
                uid: 0,
                gid: 0,
                size: 0,
                mtime: 0,
            })?;
        }
        for (name, child) in children {
            let child_path = format!("{prefix}{name}{}", if child.is_dir() { "/" } else { "" });
            match (base.get(&name), child) {
                (Some(b), child) => self.diff(out, child, b, child_path)?,
                (None, Node::Live(c)) => {
                    if !self.is_mounted_root(&c) && !matches!(c.body, Body::Special(_)) {
                        self.write_node(out, Node::Live(c), child_path)?;
                    }
                }
                (None, Node::Image(n)) => write_image_node(out, &n, child_path)?,
            }
        }
        Ok(())
    }
}
