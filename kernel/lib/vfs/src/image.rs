//! Images: immutable directory trees built from tar archives.

use crate::path::normalize_archive_path;
use crate::{FsError, Result};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_tar::{EntryKind, Event, Header};

const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFIFO: u32 = 0o010_000;

/// Deepest directory nesting accepted in an image.
const MAX_DEPTH: usize = 128;

/// Bounds on what an image may hold.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Total bytes of file data.
    pub max_bytes: u64,
    /// Number of entries.
    pub max_entries: usize,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits { max_bytes: 4 << 30, max_entries: 1 << 20 }
    }
}

/// One file, directory or other object of an image.
#[derive(Debug)]
pub struct ImageNode {
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// What it holds.
    pub body: ImageBody,
}

/// What an image node holds.
#[derive(Debug)]
pub enum ImageBody {
    /// A directory and its entries.
    Dir(BTreeMap<String, Arc<ImageNode>>),
    /// A regular file's bytes (shared by hard links).
    File(Arc<[u8]>),
    /// A symbolic link's target.
    Symlink(String),
    /// A device node (`st_rdev`).
    Device(u64),
    /// A FIFO.
    Fifo,
    /// A regular file whose data a pager holds (in a paged tree's manifest or
    /// writable layer): it becomes a file of a paged tree only.
    Paged(PagedFile),
}

/// A file whose data a pager holds, as a manifest names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagedFile {
    /// Its id in the pager.
    pub id: u64,
    /// Its length.
    pub len: u64,
}

impl PagedFile {
    /// The PAX record a manifest's tar names it with: `BERTH.paged=<id> <len>` on an
    /// empty regular file.
    pub const RECORD: &'static str = "paged";

    /// Its record's value.
    pub fn value(&self) -> String {
        format!("{} {}", self.id, self.len)
    }

    /// Read back from a record's value; `None` if it is not one.
    pub fn parse(value: &str) -> Option<PagedFile> {
        let (id, len) = value.split_once(' ')?;
        Some(PagedFile { id: id.parse().ok()?, len: len.parse().ok()? })
    }
}

/// An immutable directory tree, shared by every container made from it.
#[derive(Debug)]
pub struct Image {
    root: Arc<ImageNode>,
    entries: usize,
    bytes: u64,
}

impl Image {
    /// An image with nothing but an empty root directory.
    pub fn empty() -> Image {
        let root = ImageNode { mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: 0, body: ImageBody::Dir(BTreeMap::new()) };
        Image { root: Arc::new(root), entries: 0, bytes: 0 }
    }

    /// Builds an image from a whole tar archive in memory.
    pub fn from_tar(archive: &[u8], limits: ImageLimits) -> Result<Image> {
        Image::build(archive, ImageBuilder::new(limits))
    }

    /// A paged tree's manifest (or writable layer) from its tar: as
    /// [`Image::from_tar`], and an empty regular file with a `BERTH.paged` record
    /// becomes a reference to paged data ([`ImageBody::Paged`]). (Elsewhere the
    /// record is ignored: an image cannot name a container's paged data.)
    pub fn manifest_from_tar(archive: &[u8], limits: ImageLimits) -> Result<Image> {
        Image::build(archive, ImageBuilder { paged: true, ..ImageBuilder::new(limits) })
    }

    fn build(archive: &[u8], mut builder: ImageBuilder) -> Result<Image> {
        let mut parser = berth_tar::Parser::new(builder.limits.max_bytes);
        let mut input = archive;
        while let Some(event) = parser.next(&mut input).map_err(|e| FsError::BadImage(format!("{e}")))? {
            if builder.push(event)? {
                break;
            }
        }
        parser.finish().map_err(|e| FsError::BadImage(format!("{e}")))?;
        builder.finish()
    }

    /// An image of the tree under `root` (made by stacking layers, say), counting its
    /// entries and file bytes (a file with several names counts once).
    pub fn from_root(root: Arc<ImageNode>) -> Image {
        let mut seen = alloc::collections::BTreeSet::new();
        let (entries, bytes) = count(&root, &mut seen);
        Image { root, entries, bytes }
    }

    /// The root directory.
    pub fn root(&self) -> &Arc<ImageNode> {
        &self.root
    }

    /// Number of entries the archive had.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Bytes of file data.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// A node while the image is being built.
enum Build {
    Dir { meta: Meta, entries: BTreeMap<String, Build> },
    File { meta: Meta, data: Arc<[u8]> },
    Paged { meta: Meta, file: PagedFile },
    Symlink { meta: Meta, target: String },
    HardLink { meta: Meta, target: Vec<String> },
    Device { meta: Meta, rdev: u64 },
    Fifo { meta: Meta },
}

#[derive(Clone, Copy)]
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: u64,
}

impl Meta {
    fn from_header(h: &Header, kind: u32) -> Meta {
        Meta { mode: kind | (h.mode & 0o7777), uid: h.uid, gid: h.gid, mtime: h.mtime }
    }

    fn default_dir() -> Meta {
        Meta { mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: 0 }
    }
}

/// The file whose data is arriving, into a buffer of its final size.
struct Pending {
    path: Vec<String>,
    meta: Meta,
    data: Arc<[u8]>,
    filled: usize,
}

/// Builds an [`Image`] from tar [`Event`]s as they arrive (from a network upload, say),
/// holding each file's data only once.
pub struct ImageBuilder {
    root: Build,
    limits: ImageLimits,
    entries: usize,
    bytes: u64,
    pending: Option<Pending>,
    completed: Option<Arc<[u8]>>,
    /// Whether `BERTH.paged` records make references to paged data.
    paged: bool,
}

impl ImageBuilder {
    /// A builder enforcing `limits`.
    pub fn new(limits: ImageLimits) -> ImageBuilder {
        ImageBuilder {
            root: Build::Dir { meta: Meta::default_dir(), entries: BTreeMap::new() },
            limits,
            entries: 0,
            bytes: 0,
            pending: None,
            completed: None,
            paged: false,
        }
    }

    /// Whether the next data bytes belong to a file being built (rather than to an
    /// entry the image skips).
    pub fn in_file(&self) -> bool {
        self.pending.is_some()
    }

    /// The data of the file whose last byte the latest event brought, once: a caller
    /// keeping the archive's layout (a tar split) holds it without a copy.
    pub fn take_completed(&mut self) -> Option<Arc<[u8]>> {
        self.completed.take()
    }

    /// Takes the next event; returns true at the end of the archive.
    pub fn push(&mut self, event: Event<'_>) -> Result<bool> {
        match event {
            Event::Entry(header) => self.entry(&header)?,
            Event::Data(data) => {
                let Some(p) = self.pending.as_mut() else { return Ok(false) };
                let buf = Arc::get_mut(&mut p.data).expect("a pending file's data is not shared yet");
                let n = data.len().min(buf.len() - p.filled);
                buf[p.filled..p.filled + n].copy_from_slice(&data[..n]);
                p.filled += n;
                if p.filled == buf.len() {
                    self.complete_file()?;
                }
            }
            Event::End => return Ok(true),
        }
        Ok(false)
    }

    fn entry(&mut self, h: &Header) -> Result<()> {
        if self.pending.is_some() {
            return Err(FsError::BadImage(format!("entry `{}` starts inside another file's data", h.name)));
        }
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(FsError::BadImage(format!("more than {} entries", self.limits.max_entries)));
        }
        let path = normalize_archive_path(&h.name)?;
        if path.len() > MAX_DEPTH {
            return Err(FsError::BadImage(format!("`{}` is nested more than {MAX_DEPTH} levels deep", h.name)));
        }
        let node = match h.kind {
            EntryKind::Directory => {
                // Merge with an existing directory so earlier children survive.
                let meta = Meta::from_header(h, S_IFDIR);
                match self.node_mut(&path)? {
                    Some(Build::Dir { meta: m, .. }) => {
                        *m = meta;
                        return Ok(());
                    }
                    _ => Build::Dir { meta, entries: BTreeMap::new() },
                }
            }
            EntryKind::File if self.paged && h.size == 0 && h.berth.iter().any(|(k, _)| k == PagedFile::RECORD) => {
                let (_, value) = h.berth.iter().find(|(k, _)| k == PagedFile::RECORD).expect("found above");
                let file = PagedFile::parse(value)
                    .ok_or_else(|| FsError::BadImage(format!("`{}`: a bad reference to paged data", h.name)))?;
                Build::Paged { meta: Meta::from_header(h, S_IFREG), file }
            }
            EntryKind::File => {
                self.bytes = self.bytes.saturating_add(h.size);
                if self.bytes > self.limits.max_bytes {
                    return Err(FsError::BadImage(format!("more than {} bytes of file data", self.limits.max_bytes)));
                }
                let meta = Meta::from_header(h, S_IFREG);
                if h.size > 0 {
                    let data = crate::blocks::zeroed_shared(h.size).ok_or(FsError::NoSpace)?;
                    self.pending = Some(Pending { path, meta, data, filled: 0 });
                    return Ok(());
                }
                Build::File { meta, data: Arc::from(Vec::new()) }
            }
            EntryKind::Symlink => Build::Symlink { meta: Meta::from_header(h, S_IFLNK), target: h.link_name.clone() },
            EntryKind::HardLink => {
                Build::HardLink { meta: Meta::from_header(h, S_IFREG), target: normalize_archive_path(&h.link_name)? }
            }
            EntryKind::CharDevice | EntryKind::BlockDevice => {
                let kind = if h.kind == EntryKind::CharDevice { S_IFCHR } else { S_IFBLK };
                // The device numbers stay: opening it gives one of the devices a
                // container has (an image's own /dev/null works), or ENODEV.
                let (major, minor) = h.device;
                Build::Device { meta: Meta::from_header(h, kind), rdev: u64::from(major) << 8 | u64::from(minor) }
            }
            EntryKind::Fifo => Build::Fifo { meta: Meta::from_header(h, S_IFIFO) },
            EntryKind::Other(_) => return Ok(()), // e.g. GNU sparse/volume headers: skipped
        };
        self.insert(&path, node)
    }

    fn complete_file(&mut self) -> Result<()> {
        if let Some(p) = self.pending.take() {
            self.completed = Some(p.data.clone());
            let node = Build::File { meta: p.meta, data: p.data };
            self.insert(&p.path, node)?;
        }
        Ok(())
    }

    /// The node at `path`, if any (intermediate directories are not created).
    fn node_mut(&mut self, path: &[String]) -> Result<Option<&mut Build>> {
        let mut node = &mut self.root;
        for name in path {
            match node {
                Build::Dir { entries, .. } => match entries.get_mut(name) {
                    Some(child) => node = child,
                    None => return Ok(None),
                },
                _ => return Ok(None),
            }
        }
        Ok(Some(node))
    }

    /// Inserts (or replaces) the node at `path`, creating missing parent directories.
    fn insert(&mut self, path: &[String], node: Build) -> Result<()> {
        let Some((name, parents)) = path.split_last() else {
            // The root itself: keep its entries, take the new metadata.
            if let (Build::Dir { meta, .. }, Build::Dir { meta: new, .. }) = (&mut self.root, node) {
                *meta = new;
            }
            return Ok(());
        };
        let mut dir = &mut self.root;
        for part in parents {
            let Build::Dir { entries, .. } = dir else { unreachable!("loop invariant: dir is a directory") };
            let child = entries
                .entry(part.clone())
                .or_insert_with(|| Build::Dir { meta: Meta::default_dir(), entries: BTreeMap::new() });
            if !matches!(child, Build::Dir { .. }) {
                // A later directory replaces an earlier file of the same name.
                *child = Build::Dir { meta: Meta::default_dir(), entries: BTreeMap::new() };
            }
            dir = child;
        }
        let Build::Dir { entries, .. } = dir else { unreachable!("loop invariant: dir is a directory") };
        entries.insert(name.clone(), node);
        Ok(())
    }

    /// Finishes the image; fails if a file's data is incomplete or a hard link names
    /// no file.
    pub fn finish(mut self) -> Result<Image> {
        if let Some(p) = &self.pending {
            return Err(FsError::BadImage(format!("`{}` is truncated", p.path.join("/"))));
        }
        let links = collect_hard_links(&self.root, &mut Vec::new());
        for (path, target) in links {
            let linked = match self.node_mut(&target)? {
                Some(Build::File { data, .. }) => Build::File { meta: Meta::default_dir(), data: data.clone() },
                Some(Build::Paged { file, .. }) => Build::Paged { meta: Meta::default_dir(), file: *file },
                _ => {
                    return Err(FsError::BadImage(format!(
                        "hard link `{}` names `{}`, which is not a file in the image",
                        path.join("/"),
                        target.join("/")
                    )));
                }
            };
            if let Some(node) = self.node_mut(&path)?
                && let Build::HardLink { meta, .. } = node
            {
                let meta = *meta;
                *node = match linked {
                    Build::Paged { file, .. } => Build::Paged { meta, file },
                    Build::File { data, .. } => Build::File { meta, data },
                    _ => unreachable!("made a file or a reference above"),
                };
            }
        }
        Ok(Image { root: Arc::new(freeze(self.root)), entries: self.entries, bytes: self.bytes })
    }
}

fn collect_hard_links(node: &Build, path: &mut Vec<String>) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    match node {
        Build::HardLink { target, .. } => out.push((path.clone(), target.clone())),
        Build::Dir { entries, .. } => {
            for (name, child) in entries {
                path.push(name.clone());
                out.extend(collect_hard_links(child, path));
                path.pop();
            }
        }
        _ => {}
    }
    out
}

fn freeze(node: Build) -> ImageNode {
    let (meta, body) = match node {
        Build::Dir { meta, entries } => {
            (meta, ImageBody::Dir(entries.into_iter().map(|(k, v)| (k, Arc::new(freeze(v)))).collect()))
        }
        Build::File { meta, data } => (meta, ImageBody::File(data)),
        Build::Paged { meta, file } => (meta, ImageBody::Paged(file)),
        Build::Symlink { meta, target } => (meta, ImageBody::Symlink(target)),
        // Unresolved links were reported by `finish`.
        Build::HardLink { meta, .. } => (meta, ImageBody::File(Arc::from(Vec::new()))),
        Build::Device { meta, rdev } => (meta, ImageBody::Device(rdev)),
        Build::Fifo { meta } => (meta, ImageBody::Fifo),
    };
    ImageNode { mode: meta.mode, uid: meta.uid, gid: meta.gid, mtime: meta.mtime, body }
}

/// Entries under `node` and the bytes of distinct files (by address, in `seen`).
fn count(node: &ImageNode, seen: &mut alloc::collections::BTreeSet<usize>) -> (usize, u64) {
    match &node.body {
        ImageBody::Dir(entries) => entries.values().fold((0, 0), |(n, b), child| {
            let (cn, cb) = count(child, seen);
            (n + 1 + cn, b + cb)
        }),
        ImageBody::File(data) => {
            let fresh = seen.insert(Arc::as_ptr(data) as *const u8 as usize);
            (0, if fresh { data.len() as u64 } else { 0 })
        }
        _ => (0, 0),
    }
}
