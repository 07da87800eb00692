//! Writing a tree out as a tar archive (what a volume's contents are on disk, and
//! what [`Image::from_tar`](crate::Image::from_tar) reads back).

use crate::fs::Filesystem;
use crate::image::{ImageBody, ImageNode, PagedFile};
use crate::inode::{Body, Dir, FileType, Inode};
use crate::space::Pager;
use crate::{FsError, Result};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_tar::writer::{self, Member, MemberKind};

/// One thing to write: a live inode, or a part of the image not yet looked into.
pub(crate) enum Node {
    Live(Arc<Inode>),
    Image(Arc<ImageNode>),
}

impl Node {
    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        match self {
            Node::Live(inode) => inode.is_dir(),
            Node::Image(node) => matches!(node.body, ImageBody::Dir(_)),
        }
    }
}

/// A live directory's children: its entries once looked into, else its image's.
pub(crate) fn children_of(dir: &Dir) -> Vec<(String, Node)> {
    match (&dir.entries, &dir.lower) {
        (Some(entries), _) => entries.iter().map(|(name, child)| (name.clone(), Node::Live(child.clone()))).collect(),
        (None, Some(lower)) => match &lower.body {
            ImageBody::Dir(children) => {
                children.iter().map(|(name, child)| (name.clone(), Node::Image(child.clone()))).collect()
            }
            _ => Vec::new(),
        },
        (None, None) => Vec::new(),
    }
}

/// The archive being written, and the hard-linked files already in it. A first pass
/// only counts (`counting`), so that the second allocates the archive once: building
/// a large archive by doubling a buffer costs copies and twice the memory.
pub(crate) struct Out {
    pub bytes: Vec<u8>,
    /// Inode number to path, for files with more than one name.
    linked: BTreeMap<u64, String>,
    /// Bytes the archive takes, while counting.
    counted: Option<usize>,
    /// For a paged tree's manifest: the length to name for each file id (a file not
    /// here is left out); paged files are written as references to their data.
    references: Option<BTreeMap<u64, u64>>,
    /// References written for parts of the tree not yet looked into (id to length):
    /// their data stays the tree's.
    pub referenced: BTreeMap<u64, u64>,
    /// Where the data of those parts is read from, when written out whole.
    pager: Option<Arc<dyn Pager>>,
    /// For a listing: the members' names, and no bytes.
    pub names: Option<Vec<String>>,
}

impl Out {
    /// An empty archive.
    pub fn new() -> Out {
        Out {
            bytes: Vec::new(),
            linked: BTreeMap::new(),
            counted: None,
            references: None,
            referenced: BTreeMap::new(),
            pager: None,
            names: None,
        }
    }

    /// A listing of the members' names (no data is read).
    pub fn listing() -> Out {
        Out { names: Some(Vec::new()), ..Out::counting() }
    }

    /// The same, reading paged data not yet looked into from `pager`.
    pub fn reading(mut self, pager: Option<Arc<dyn Pager>>) -> Out {
        self.pager = pager;
        self
    }

    /// A manifest naming files at `lengths` (by file id).
    pub fn manifest(lengths: BTreeMap<u64, u64>) -> Out {
        Out { references: Some(lengths), ..Out::new() }
    }

    /// An archive that only counts its bytes.
    pub fn counting() -> Out {
        Out { counted: Some(0), ..Out::new() }
    }

    /// An empty archive with room for `bytes`, or `NoSpace` (also if `room` refuses
    /// that many bytes).
    pub fn with_room(bytes: usize, room: impl FnOnce(u64) -> bool) -> Result<Out> {
        if !room(bytes as u64) {
            return Err(FsError::NoSpace);
        }
        let mut out = Out::new();
        out.bytes.try_reserve_exact(bytes).map_err(|_| FsError::NoSpace)?;
        Ok(out)
    }

    /// The bytes counted, or written.
    pub fn len(&self) -> usize {
        self.counted.unwrap_or(self.bytes.len())
    }

    /// Appends `data`, or fails with `NoSpace` if the heap has no room for it.
    pub fn push(&mut self, data: &[u8]) -> Result<()> {
        if let Some(n) = &mut self.counted {
            *n += data.len();
            return Ok(());
        }
        self.bytes.try_reserve(data.len()).map_err(|_| FsError::NoSpace)?;
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    pub fn header(&mut self, member: &Member<'_>) -> Result<()> {
        if let Some(names) = &mut self.names {
            names.try_reserve(1).map_err(|_| FsError::NoSpace)?;
            names.push(String::from(member.name));
        }
        self.push(&writer::header(member))
    }

    /// A reference to paged data, in a manifest.
    fn reference(&mut self, member: &Member<'_>, file: PagedFile) -> Result<()> {
        self.push(&writer::header_with(&Member { size: 0, ..*member }, &[(PagedFile::RECORD, &file.value())]))
    }

    /// Appends `size` bytes that `fill` appends, then the padding.
    fn data(&mut self, size: u64, fill: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
        let size = usize::try_from(size).map_err(|_| FsError::NoSpace)?;
        let padded = size + writer::padding(size as u64);
        if let Some(n) = &mut self.counted {
            *n += padded;
            return Ok(());
        }
        self.bytes.try_reserve(padded).map_err(|_| FsError::NoSpace)?;
        let start = self.bytes.len();
        fill(&mut self.bytes)?;
        self.bytes.resize(start + padded, 0);
        Ok(())
    }
}

impl Filesystem {
    /// The whole tree as a tar archive: the root as `./`, then every entry under it
    /// with its owner, mode and modification time; files with several names once,
    /// then as hard links. Mounted trees and synthetic directories are left out (their
    /// mount points stay, as empty directories).
    /// The archive's size is first asked of `room` (which may charge it somewhere);
    /// `NoSpace` if it refuses, or if the heap cannot hold the archive.
    pub fn archive(&self, room: impl FnOnce(u64) -> bool) -> Result<Vec<u8>> {
        let mut count = Out::counting();
        self.write_node(&mut count, Node::Live(self.root()), String::from("./"))?;
        let mut out = Out::with_room(count.len() + writer::end().len(), room)?.reading(self.pager());
        self.write_node(&mut out, Node::Live(self.root()), String::from("./"))?;
        out.push(&writer::end())?;
        Ok(out.bytes)
    }

    /// The bytes [`Self::archive`] would take.
    pub fn archive_len(&self) -> Result<u64> {
        let mut count = Out::counting();
        self.write_node(&mut count, Node::Live(self.root()), String::from("./"))?;
        Ok((count.len() + writer::end().len()) as u64)
    }

    /// Writes `node` and everything under it at `path` (directories end in `/`).
    pub(crate) fn write_node(&self, out: &mut Out, node: Node, path: String) -> Result<()> {
        match node {
            Node::Live(inode) => self.write_inode(out, &inode, path),
            Node::Image(image) => write_image_node(out, &image, path),
        }
    }

    fn write_inode(&self, out: &mut Out, inode: &Arc<Inode>, path: String) -> Result<()> {
        let m = inode.metadata();
        let member = |kind| Member {
            name: &path,
            kind,
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            size: 0,
            mtime: m.mtime / 1_000_000_000,
        };
        match &inode.body {
            Body::Dir(state) => {
                out.header(&member(MemberKind::Directory))?;
                let children = children_of(&state.lock());
                for (name, child) in children {
                    if let Node::Live(c) = &child
                        && (self.is_mounted_root(c) || matches!(c.body, Body::Special(_)))
                    {
                        // A mount point stays, empty, as `docker export` leaves it.
                        let dir = alloc::format!("{}{name}/", path.trim_start_matches("./"));
                        let mtime = m.mtime / 1_000_000_000;
                        let kind = MemberKind::Directory;
                        out.header(&Member { name: &dir, kind, mode: 0o755, uid: 0, gid: 0, size: 0, mtime })?;
                        continue;
                    }
                    let kind_suffix = if child.is_dir() { "/" } else { "" };
                    let child_path = alloc::format!("{}{name}{kind_suffix}", path.trim_start_matches("./"));
                    self.write_node(out, child, child_path)?;
                }
                Ok(())
            }
            Body::File(_) => {
                // In a manifest, a paged file is a reference (and one made since the
                // snapshot waits for the next write-out); an image's file is written
                // whole.
                let reference = match (&out.references, inode.paged_id()) {
                    (Some(lengths), Some(id)) => match lengths.get(&id) {
                        Some(&len) => Some(PagedFile { id, len }),
                        None => return Ok(()),
                    },
                    _ => None,
                };
                if m.nlink > 1 {
                    if let Some(first) = out.linked.get(&m.ino).cloned() {
                        return out.header(&member(MemberKind::HardLink(&first)));
                    }
                    out.linked.insert(m.ino, path.clone());
                }
                if let Some(file) = reference {
                    return out.reference(&member(MemberKind::File), file);
                }
                out.header(&Member { size: m.size, ..member(MemberKind::File) })?;
                // Read as a program reads it (a paged file's data may come from the
                // disk); a file cut meanwhile reads as zeros past its end.
                out.data(m.size, |buf| {
                    let start = buf.len();
                    buf.resize(start + m.size as usize, 0);
                    inode.read_at(0, &mut buf[start..]).map(|_| ())
                })
            }
            Body::Symlink(target) => out.header(&member(MemberKind::Symlink(target))),
            Body::Device => {
                let (major, minor) = device_numbers(m.rdev);
                let kind = match inode.file_type() {
                    FileType::BlockDevice => MemberKind::BlockDevice(major, minor),
                    FileType::CharDevice => MemberKind::CharDevice(major, minor),
                    _ => return Ok(()), // a socket's name means nothing once written out
                };
                out.header(&member(kind))
            }
            Body::Fifo => out.header(&member(MemberKind::Fifo)),
            Body::Special(_) => Ok(()),
        }
    }
}

/// A part of the image no one has looked into yet, written as the image has it.
pub(crate) fn write_image_node(out: &mut Out, node: &ImageNode, path: String) -> Result<()> {
    let member =
        |kind| Member { name: &path, kind, mode: node.mode, uid: node.uid, gid: node.gid, size: 0, mtime: node.mtime };
    match &node.body {
        ImageBody::Dir(children) => {
            out.header(&member(MemberKind::Directory))?;
            for (name, child) in children {
                let suffix = if matches!(child.body, ImageBody::Dir(_)) { "/" } else { "" };
                write_image_node(out, child, alloc::format!("{path}{name}{suffix}"))?;
            }
            Ok(())
        }
        ImageBody::File(bytes) => {
            out.header(&Member { size: bytes.len() as u64, ..member(MemberKind::File) })?;
            out.data(bytes.len() as u64, |buf| {
                buf.extend_from_slice(bytes);
                Ok(())
            })
        }
        ImageBody::Symlink(target) => out.header(&member(MemberKind::Symlink(target))),
        ImageBody::Device(rdev) => {
            let (major, minor) = device_numbers(*rdev);
            let kind = if node.mode & 0o170_000 == 0o060_000 {
                MemberKind::BlockDevice(major, minor)
            } else {
                MemberKind::CharDevice(major, minor)
            };
            out.header(&member(kind))
        }
        ImageBody::Fifo => out.header(&member(MemberKind::Fifo)),
        ImageBody::Paged(file) if out.references.is_some() => {
            out.referenced.insert(file.id, file.len);
            out.reference(&member(MemberKind::File), *file)
        }
        ImageBody::Paged(file) => {
            out.header(&Member { size: file.len, ..member(MemberKind::File) })?;
            let pager = out.pager.clone();
            out.data(file.len, |buf| read_paged(pager.as_deref().ok_or(FsError::Io)?, *file, buf))
        }
    }
}

/// Appends the bytes of a paged file not yet looked into, from its pager.
fn read_paged(pager: &dyn Pager, file: PagedFile, buf: &mut Vec<u8>) -> Result<()> {
    let extent = crate::blocks::EXTENT as u64;
    let mut at = 0;
    while at < file.len {
        let want = extent.min(file.len - at) as usize;
        let start = buf.len();
        if let Some(bytes) = pager.read(file.id, at / extent)? {
            buf.extend_from_slice(&bytes[..bytes.len().min(want)]);
        }
        buf.resize(start + want, 0);
        at += extent;
    }
    Ok(())
}

/// Major and minor numbers of `rdev`, as images encode them (`major << 8 | minor`).
fn device_numbers(rdev: u64) -> (u32, u32) {
    ((rdev >> 8) as u32, (rdev & 0xff) as u32)
}
