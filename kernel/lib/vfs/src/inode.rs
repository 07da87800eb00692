//! Inodes: the objects of a container's file system.

use crate::blocks::FileData;
use crate::image::{ImageBody, ImageNode};
use crate::space::Space;
use crate::{FsError, Result};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use spin::{Mutex, RwLock};

/// Bytes charged to a container's budget for each inode it holds.
pub(crate) const INODE_COST: u64 = 256;

/// The type of a file, as `st_mode`'s format bits give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A FIFO.
    Fifo,
    /// A Unix socket.
    Socket,
}

impl FileType {
    /// The type named by `mode`'s format bits (`S_IFMT`).
    pub fn from_mode(mode: u32) -> FileType {
        match mode & 0o170_000 {
            0o040_000 => FileType::Directory,
            0o120_000 => FileType::Symlink,
            0o020_000 => FileType::CharDevice,
            0o060_000 => FileType::BlockDevice,
            0o010_000 => FileType::Fifo,
            0o140_000 => FileType::Socket,
            _ => FileType::Regular,
        }
    }

    /// The format bits for this type.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => 0o100_000,
            FileType::Directory => 0o040_000,
            FileType::Symlink => 0o120_000,
            FileType::CharDevice => 0o020_000,
            FileType::BlockDevice => 0o060_000,
            FileType::Fifo => 0o010_000,
            FileType::Socket => 0o140_000,
        }
    }
}

/// What `stat` reports about an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// Inode number.
    pub ino: u64,
    /// Type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Number of names.
    pub nlink: u32,
    /// Size in bytes (target length for symlinks).
    pub size: u64,
    /// Device number for device nodes.
    pub rdev: u64,
    /// Access time, ns since the epoch.
    pub atime: u64,
    /// Modification time, ns since the epoch.
    pub mtime: u64,
    /// Status change time, ns since the epoch.
    pub ctime: u64,
}

/// A directory entry as `getdents` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name.
    pub name: String,
    /// Its inode number.
    pub ino: u64,
    /// Its type.
    pub kind: FileType,
}

/// Where a container's file system charges the memory its writes use. `charge` returns
/// false when the budget is exhausted (the write then fails with `NoSpace`).
pub trait Budget: Send + Sync {
    /// Takes `bytes` from the budget, or returns false.
    fn charge(&self, bytes: u64) -> bool;
    /// Gives `bytes` back.
    fn uncharge(&self, bytes: u64);
}

/// A directory whose contents the kernel makes up on demand (`/proc`).
pub trait SpecialDir: Send + Sync {
    /// The entry called `name`.
    fn lookup(&self, name: &str) -> Option<Arc<Inode>>;
    /// All entries.
    fn entries(&self) -> Vec<DirEntry>;
}

struct Times {
    atime: u64,
    mtime: u64,
    ctime: u64,
}

struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    times: Times,
}

pub(crate) struct Dir {
    /// The entries, once filled in from the image (`None` until first needed).
    pub entries: Option<BTreeMap<String, Arc<Inode>>>,
    /// The image directory still to be filled in from.
    pub lower: Option<Arc<ImageNode>>,
}

pub(crate) enum Content {
    /// Still the image's bytes.
    Shared(Arc<[u8]>),
    /// The container's own copy.
    Owned(FileData),
}

impl Content {
    fn len(&self) -> usize {
        match self {
            Content::Shared(b) => b.len(),
            Content::Owned(d) => d.len(),
        }
    }
}

pub(crate) enum Body {
    Dir(Mutex<Dir>),
    File(RwLock<Content>),
    Symlink(String),
    Device,
    Fifo,
    Special(Arc<dyn SpecialDir>),
}

/// A file, directory, link or device of a container's file system.
pub struct Inode {
    ino: u64,
    meta: Mutex<Meta>,
    pub(crate) body: Body,
    /// The directory containing this one (directories only; the root points to itself
    /// through `None`).
    pub(crate) parent: Mutex<Weak<Inode>>,
    /// The tree it belongs to (`None` for synthetic files, which cost nothing).
    pub(crate) space: Option<Arc<Space>>,
    /// What the `MAP_SHARED` mappings of this file share while any exists (the
    /// kernel's pages; see [`Inode::shared_mapping`]).
    shared_mapping: Mutex<Option<Weak<dyn Any + Send + Sync>>>,
}

impl core::fmt::Debug for Inode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Inode({}, {:?})", self.ino, self.file_type())
    }
}

impl Inode {
    fn new(ino: u64, mode: u32, rdev: u64, body: Body, now: u64, space: Option<Arc<Space>>) -> Inode {
        let times = Times { atime: now, mtime: now, ctime: now };
        Inode {
            ino,
            meta: Mutex::new(Meta { mode, uid: 0, gid: 0, nlink: 1, rdev, times }),
            body,
            parent: Mutex::new(Weak::new()),
            space,
            shared_mapping: Mutex::new(None),
        }
    }

    pub(crate) fn new_dir(
        ino: u64,
        mode: u32,
        lower: Option<Arc<ImageNode>>,
        now: u64,
        space: Option<Arc<Space>>,
    ) -> Inode {
        let entries = if lower.is_some() { None } else { Some(BTreeMap::new()) };
        let mode = FileType::Directory.mode_bits() | (mode & 0o7777);
        let inode = Inode::new(ino, mode, 0, Body::Dir(Mutex::new(Dir { entries, lower })), now, space);
        inode.meta.lock().nlink = 2;
        inode
    }

    pub(crate) fn new_file(ino: u64, mode: u32, now: u64, space: Option<Arc<Space>>) -> Inode {
        let mode = FileType::Regular.mode_bits() | (mode & 0o7777);
        Inode::new(ino, mode, 0, Body::File(RwLock::new(Content::Owned(FileData::default()))), now, space)
    }

    pub(crate) fn new_node(ino: u64, mode: u32, rdev: u64, now: u64, space: Option<Arc<Space>>) -> Inode {
        let body = match FileType::from_mode(mode) {
            FileType::Fifo => Body::Fifo,
            _ => Body::Device,
        };
        Inode::new(ino, mode, rdev, body, now, space)
    }

    pub(crate) fn new_symlink(ino: u64, target: String, now: u64, space: Option<Arc<Space>>) -> Inode {
        Inode::new(ino, FileType::Symlink.mode_bits() | 0o777, 0, Body::Symlink(target), now, space)
    }

    /// An inode for an image node (not yet looked into, if a directory).
    pub(crate) fn from_image(ino: u64, node: &Arc<ImageNode>, space: Option<Arc<Space>>) -> Inode {
        let now = node.mtime.saturating_mul(1_000_000_000);
        let inode = match &node.body {
            ImageBody::Dir(_) => Inode::new_dir(ino, node.mode, Some(node.clone()), now, space),
            ImageBody::File(data) => {
                Inode::new(ino, node.mode, 0, Body::File(RwLock::new(Content::Shared(data.clone()))), now, space)
            }
            ImageBody::Symlink(target) => Inode::new(ino, node.mode, 0, Body::Symlink(target.clone()), now, space),
            ImageBody::Device(rdev) => Inode::new(ino, node.mode, *rdev, Body::Device, now, space),
            ImageBody::Fifo => Inode::new(ino, node.mode, 0, Body::Fifo, now, space),
        };
        {
            let mut meta = inode.meta.lock();
            meta.uid = node.uid;
            meta.gid = node.gid;
        }
        inode
    }

    /// The object every `MAP_SHARED` mapping of this file shares, so that processes
    /// mapping it see one memory: the one a live mapping holds, else a new one from
    /// `make` (kept weakly: it lives as long as the mappings). An error from `make` is
    /// returned as it is.
    pub fn shared_mapping<T: Any + Send + Sync, E>(
        &self,
        make: impl FnOnce() -> core::result::Result<Arc<T>, E>,
    ) -> core::result::Result<Arc<T>, E> {
        let mut slot = self.shared_mapping.lock();
        if let Some(existing) = slot.as_ref().and_then(Weak::upgrade).and_then(|any| any.downcast::<T>().ok()) {
            return Ok(existing);
        }
        let made = make()?;
        let any: Arc<dyn Any + Send + Sync> = made.clone();
        *slot = Some(Arc::downgrade(&any));
        Ok(made)
    }

    /// A read-only file with the given contents, for synthetic directories.
    pub fn synthetic_file(ino: u64, mode: u32, data: Vec<u8>, now: u64) -> Arc<Inode> {
        let mode = FileType::Regular.mode_bits() | (mode & 0o7777);
        Arc::new(Inode::new(ino, mode, 0, Body::File(RwLock::new(Content::Shared(Arc::from(data)))), now, None))
    }

    /// A symbolic link, for synthetic directories.
    pub fn synthetic_symlink(ino: u64, target: String, now: u64) -> Arc<Inode> {
        Arc::new(Inode::new_symlink(ino, target, now, None))
    }

    /// A directory whose entries `dir` makes up, for synthetic directories.
    pub fn synthetic_dir(ino: u64, dir: Arc<dyn SpecialDir>, now: u64) -> Arc<Inode> {
        let mode = FileType::Directory.mode_bits() | 0o555;
        Arc::new(Inode::new(ino, mode, 0, Body::Special(dir), now, None))
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The file's type.
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.meta.lock().mode)
    }

    /// Whether lookups can descend into it.
    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_) | Body::Special(_))
    }

    /// Its status.
    pub fn metadata(&self) -> Metadata {
        let size = match &self.body {
            Body::File(c) => c.read().len() as u64,
            Body::Symlink(t) => t.len() as u64,
            Body::Dir(_) | Body::Special(_) => 4096,
            Body::Device | Body::Fifo => 0,
        };
        let m = self.meta.lock();
        Metadata {
            ino: self.ino,
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            nlink: m.nlink,
            size,
            rdev: m.rdev,
            atime: m.times.atime,
            mtime: m.times.mtime,
            ctime: m.times.ctime,
        }
    }

    /// Reads from `offset` into `buf`; returns the bytes read (0 at the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        Ok(match &*content.read() {
            Content::Shared(bytes) => {
                let start = offset.min(bytes.len());
                let n = buf.len().min(bytes.len() - start);
                buf[..n].copy_from_slice(&bytes[start..start + n]);
                n
            }
            Content::Owned(data) => data.read_at(offset, buf),
        })
    }

    /// Writes `data` at `offset` (extending with zeros as needed), copying the file up
    /// from the image first if necessary; returns the bytes written.
    pub fn write_at(&self, offset: u64, data: &[u8], now: u64) -> Result<usize> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        let end = offset.checked_add(data.len() as u64).ok_or(FsError::Invalid)?;
        let end = usize::try_from(end).map_err(|_| FsError::NoSpace)?;
        let mut content = content.write();
        self.own(&mut content)?.write_at(end - data.len(), data, |bytes| self.charge(bytes).is_ok())?;
        drop(content);
        self.touch_modified(now);
        Ok(data.len())
    }

    /// Sets the file's length.
    pub fn truncate(&self, len: u64, now: u64) -> Result<()> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        let len = usize::try_from(len).map_err(|_| FsError::NoSpace)?;
        let mut content = content.write();
        if content.len() == len {
            return Ok(());
        }
        let freed = self.own(&mut content)?.truncate(len);
        self.uncharge(freed);
        drop(content);
        self.touch_modified(now);
        Ok(())
    }

    /// Makes an empty file show `bytes`, shared with whoever else holds them (copied
    /// on the first write).
    pub(crate) fn share_contents(&self, bytes: Arc<[u8]>) {
        if let Body::File(content) = &self.body {
            *content.write() = Content::Shared(bytes);
        }
    }

    /// The file's bytes if they are still its image's (unmodified, shared with every
    /// container of the image).
    pub fn image_contents(&self) -> Option<Arc<[u8]>> {
        let Body::File(content) = &self.body else { return None };
        match &*content.read() {
            Content::Shared(b) => Some(b.clone()),
            Content::Owned(_) => None,
        }
    }

    /// The file's whole contents, shared with the image where possible (for `execve`).
    pub fn contents(&self) -> Result<Arc<[u8]>> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        Ok(match &*content.read() {
            Content::Shared(b) => b.clone(),
            Content::Owned(data) => data.to_shared()?,
        })
    }

    /// A symbolic link's target.
    pub fn readlink(&self) -> Result<String> {
        match &self.body {
            Body::Symlink(target) => Ok(target.clone()),
            _ => Err(FsError::Invalid),
        }
    }

    /// Changes the permission bits.
    pub fn set_mode(&self, mode: u32, now: u64) {
        self.note_change();
        let mut m = self.meta.lock();
        m.mode = (m.mode & 0o170_000) | (mode & 0o7777);
        m.times.ctime = now;
    }

    /// Changes the owner and group (`None` keeps one).
    pub fn set_owner(&self, uid: Option<u32>, gid: Option<u32>, now: u64) {
        self.note_change();
        let mut m = self.meta.lock();
        m.uid = uid.unwrap_or(m.uid);
        m.gid = gid.unwrap_or(m.gid);
        m.times.ctime = now;
    }

    /// Sets access and modification times (`None` keeps one).
    pub fn set_times(&self, atime: Option<u64>, mtime: Option<u64>, now: u64) {
        self.note_change();
        let mut m = self.meta.lock();
        m.times.atime = atime.unwrap_or(m.times.atime);
        m.times.mtime = mtime.unwrap_or(m.times.mtime);
        m.times.ctime = now;
    }

    pub(crate) fn touch_modified(&self, now: u64) {
        self.note_change();
        let mut m = self.meta.lock();
        m.times.mtime = now;
        m.times.ctime = now;
    }

    pub(crate) fn add_link(&self, delta: i32) {
        let mut m = self.meta.lock();
        m.nlink = m.nlink.saturating_add_signed(delta);
    }

    fn note_change(&self) {
        if let Some(s) = &self.space {
            s.changed();
        }
    }

    fn not_a_file(&self) -> FsError {
        if self.is_dir() { FsError::IsDirectory } else { FsError::Invalid }
    }

    /// Turns shared content into the container's own copy, charging for it.
    fn own<'a>(&self, content: &'a mut Content) -> Result<&'a mut FileData> {
        if let Content::Shared(bytes) = content {
            *content = Content::Owned(FileData::copy_of(bytes, |n| self.charge(n).is_ok())?);
        }
        match content {
            Content::Owned(v) => Ok(v),
            Content::Shared(_) => unreachable!("just made owned"),
        }
    }

    pub(crate) fn charge(&self, bytes: u64) -> Result<()> {
        match &self.space {
            Some(s) if !s.charge(bytes) => Err(FsError::NoSpace),
            _ => Ok(()),
        }
    }

    fn uncharge(&self, bytes: u64) {
        if let Some(s) = &self.space {
            s.uncharge(bytes);
        }
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let owned = match &self.body {
            Body::File(c) => match &*c.read() {
                Content::Owned(data) => data.allocated(),
                Content::Shared(_) => 0,
            },
            _ => 0,
        };
        self.uncharge(owned + INODE_COST);
    }
}
