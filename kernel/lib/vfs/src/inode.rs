//! Inodes: the objects of a container's file system.

use crate::blocks::{Account, FileData, FileSnapshot, PageIn};
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
    /// Bytes to free to be comfortably within the budget again (0 if it is): a
    /// paged tree then drops clean data ahead of need, so that what cannot wait for
    /// room (a program's page fault) finds it.
    fn shortfall(&self) -> u64 {
        0
    }
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

    /// A new, empty file (paged, in a paged space: [`Inode::register`] it once made).
    pub(crate) fn new_file(ino: u64, mode: u32, now: u64, space: Option<Arc<Space>>) -> Inode {
        let mode = FileType::Regular.mode_bits() | (mode & 0o7777);
        let data = match space.as_ref().and_then(|s| s.paged()) {
            Some(paged) => FileData::paged(paged.next_file()),
            None => FileData::default(),
        };
        Inode::new(ino, mode, 0, Body::File(RwLock::new(Content::Owned(data))), now, space)
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

    /// An inode for an image node (not yet looked into, if a directory). A file whose
    /// data a pager holds becomes one of a paged space only (`Invalid` elsewhere);
    /// [`Inode::register`] it once made.
    pub(crate) fn from_image(ino: u64, node: &Arc<ImageNode>, space: Option<Arc<Space>>) -> Result<Inode> {
        let now = node.mtime.saturating_mul(1_000_000_000);
        let paged = space.as_ref().is_some_and(|s| s.paged().is_some());
        let inode = match &node.body {
            ImageBody::Dir(_) => Inode::new_dir(ino, node.mode, Some(node.clone()), now, space),
            ImageBody::Paged(file) if paged => {
                let data = FileData::stored(file.id, file.len)?;
                Inode::new(ino, node.mode, 0, Body::File(RwLock::new(Content::Owned(data))), now, space)
            }
            ImageBody::Paged(_) => return Err(FsError::Invalid),
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
        Ok(inode)
    }

    /// Enters a regular file of a paged space in it (so that write-outs and eviction
    /// find it, whether its data is paged now or becomes so when first written);
    /// `restored`: it was brought back from the pager, and its length counts against
    /// the space's quota.
    pub(crate) fn register(self: &Arc<Inode>, restored: bool) {
        let (Some(paged), Body::File(content)) = (self.paged_space(), &self.body) else {
            return;
        };
        let (id, len) = match &*content.read() {
            Content::Owned(data) => (data.paged_id(), data.len() as u64),
            Content::Shared(_) => (None, 0),
        };
        paged.register(self, id.filter(|_| restored));
        if restored {
            paged.grow_unchecked(len);
        }
    }

    /// The paging state of the tree it belongs to, if that tree is paged.
    fn paged_space(&self) -> Option<&crate::space::Paged> {
        self.space.as_ref().and_then(|s| s.paged())
    }

    /// Whether it belongs to a paged tree.
    pub(crate) fn is_paged(&self) -> bool {
        self.paged_space().is_some()
    }

    /// The id a paged file's data has in its pager.
    pub(crate) fn paged_id(&self) -> Option<u64> {
        let Body::File(content) = &self.body else { return None };
        match &*content.read() {
            Content::Owned(data) => data.paged_id(),
            Content::Shared(_) => None,
        }
    }

    /// The object every `MAP_SHARED` mapping of this file shares, so that processes
    /// mapping it see one memory: the one a live mapping holds, else a new one from
    /// `make` (kept weakly: it lives as long as the mappings). An error from `make` is
    /// returned as it is.
    pub fn shared_mapping<T: Any + Send + Sync, E>(
        &self,
        make: impl FnOnce() -> core::result::Result<Arc<T>, E>,
    ) -> core::result::Result<Arc<T>, E> {
        let live = |slot: &Option<Weak<dyn Any + Send + Sync>>| {
            slot.as_ref().and_then(Weak::upgrade).and_then(|any| any.downcast::<T>().ok())
        };
        if let Some(existing) = live(&self.shared_mapping.lock()) {
            return Ok(existing);
        }
        // Made with no lock held (reading a paged file may wait for the disk); if
        // another mapping made one meanwhile, that one is shared instead.
        let made = make()?;
        let mut slot = self.shared_mapping.lock();
        if let Some(existing) = live(&slot) {
            return Ok(existing);
        }
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

    /// Reads from `offset` into `buf`; returns the bytes read (0 at the end). A paged
    /// file's data is first brought back from its pager, which may wait for a disk:
    /// the caller holds no spin lock.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if let Some(n) = self.read_resident(offset, buf)? {
            return Ok(n);
        }
        // Paged, and not all in memory: an extent at a time, so that a read larger
        // than the memory the tree may use goes through it.
        let mut done = 0;
        for piece in extent_pieces(offset, buf.len()) {
            let at = offset + done as u64;
            let out = &mut buf[done..done + piece];
            let n =
                self.with_extent(|d| d.missing(at as usize, piece), |content| Ok(read_content(content, at, out)))?;
            done += n;
            if n < piece {
                break;
            }
        }
        Ok(done)
    }

    /// As [`Self::read_at`], without waiting: `None` if some of the bytes must first
    /// be brought back from the pager (by [`Self::read_at`], with no lock held).
    pub fn read_resident(&self, offset: u64, buf: &mut [u8]) -> Result<Option<usize>> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        Ok(read_content(&content.read(), offset, buf))
    }

    /// Runs `op` on the file's content once the extent `missing` names (if any) is in
    /// memory, reading it back from the pager with no lock held and installing it
    /// under the same hold of the file's lock as `op` runs: no reclaim can push it
    /// out in between, so a reader or writer short of memory still makes progress.
    /// `op` returns `None` while something is missing (the file changed meanwhile):
    /// the extent is then read again.
    fn with_extent<T>(
        &self,
        missing: impl Fn(&FileData) -> Option<PageIn>,
        mut op: impl FnMut(&mut Content) -> Result<Option<T>>,
    ) -> Result<T> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        loop {
            let page = match &*content.read() {
                Content::Owned(data) => missing(data),
                Content::Shared(_) => None,
            };
            let bytes = match page {
                Some(page) => {
                    let pager = self.paged_space().map(|p| p.pager.clone()).ok_or(FsError::Io)?;
                    Some((page, pager.read(page.file, page.extent)?))
                }
                None => None,
            };
            let mut content = content.write();
            if let (Some((page, bytes)), Content::Owned(data)) = (&bytes, &mut *content) {
                data.install(*page, bytes.as_deref(), self)?;
            }
            if let Some(done) = op(&mut content)? {
                return Ok(done);
            }
        }
    }

    /// Writes `data` at `offset` (extending with zeros as needed), copying the file up
    /// from the image first if necessary; returns the bytes written. It may wait for
    /// a disk, as [`Self::read_at`].
    pub fn write_at(&self, offset: u64, data: &[u8], now: u64) -> Result<usize> {
        if let Some(n) = self.write_resident(offset, data, now)? {
            return Ok(n);
        }
        // As `read_at`: an extent at a time (a failure part-way leaves the extents
        // before it written, as a short write on Linux does).
        let mut done = 0;
        for piece in extent_pieces(offset, data.len()) {
            let at = offset + done as u64;
            let part = &data[done..done + piece];
            match self.with_extent(|d| d.missing(at as usize, piece), |content| self.write_content(content, at, part)) {
                Ok(_) => done += piece,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        self.touch_modified(now);
        Ok(done)
    }

    /// As [`Self::write_at`], without waiting: `None` if some of the bytes must first
    /// be brought back from the pager (by [`Self::write_at`], with no lock held).
    pub fn write_resident(&self, offset: u64, data: &[u8], now: u64) -> Result<Option<usize>> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        let written = self.write_content(&mut content.write(), offset, data)?;
        if written.is_some() {
            self.touch_modified(now);
        }
        Ok(written)
    }

    /// Writes `data` at `offset` into the file's content (`None`: some of it must
    /// first be brought back from the pager).
    fn write_content(&self, content: &mut Content, offset: u64, data: &[u8]) -> Result<Option<usize>> {
        let end = offset.checked_add(data.len() as u64).ok_or(FsError::Invalid)?;
        let end = usize::try_from(end).map_err(|_| FsError::NoSpace)?;
        let start = end - data.len();
        let file = self.own(content)?;
        if file.missing(start, data.len()).is_some() {
            return Ok(None);
        }
        let grow = end.saturating_sub(file.len()) as u64;
        let paged = self.paged_space().filter(|_| file.paged_id().is_some());
        if let Some(p) = paged {
            p.grow(grow)?;
        }
        match file.write_at(start, data, self) {
            Ok(dirty) => paged.inspect(|p| p.add_dirty(dirty)),
            Err(e) => {
                paged.inspect(|p| p.shrink(grow));
                return Err(e);
            }
        };
        Ok(Some(data.len()))
    }

    /// Sets the file's length. It may wait for a disk, as [`Self::read_at`]: the
    /// extent the new end falls in is brought back to have its tail zeroed.
    pub fn truncate(&self, len: u64, now: u64) -> Result<()> {
        let cut = usize::try_from(len).map_err(|_| FsError::NoSpace)?;
        // Only a cut inside an extent needs it back (not a cut to its current length).
        let changed = self.with_extent(
            |d| d.missing_for_cut(cut),
            |content| {
                if content.len() == cut {
                    return Ok(Some(false));
                }
                let file = self.own(content)?;
                if file.missing_for_cut(cut).is_some() {
                    return Ok(None);
                }
                let paged = self.paged_space().filter(|_| file.paged_id().is_some());
                let before = file.len();
                if let Some(p) = paged
                    && cut > before
                {
                    p.grow((cut - before) as u64)?;
                }
                let (freed, dirty) = file.truncate(cut);
                if let Some(p) = paged {
                    p.add_dirty(dirty);
                    p.shrink(before.saturating_sub(cut) as u64);
                }
                self.uncharge(freed);
                Ok(Some(true))
            },
        )?;
        if changed {
            self.touch_modified(now);
        }
        Ok(())
    }

    /// Drops the clean extents of a paged file from memory unless another thread is
    /// using its data; returns the bytes freed (not yet given back to the space).
    pub(crate) fn evict_clean(&self) -> u64 {
        let Body::File(content) = &self.body else { return 0 };
        let Some(mut content) = content.try_write() else { return 0 };
        match &mut *content {
            Content::Owned(data) => data.evict_clean(0..0),
            Content::Shared(_) => 0,
        }
    }

    /// Drops clean data of the paged tree this file is in if its budget is nearly
    /// used up (call with no lock held, after a read or write). Returns the bytes
    /// freed.
    pub fn make_room(&self) -> u64 {
        let Some(space) = &self.space else { return 0 };
        let Some(paged) = space.paged() else { return 0 };
        match space.shortfall() {
            0 => 0,
            want => paged.evict(space, want, None),
        }
    }

    /// Whether the paged tree this file is in has more changed data than it should
    /// keep unwritten: the kernel then writes it out (as Linux's writers flush dirty
    /// pages past `dirty_ratio`).
    pub fn wants_write_out(&self) -> bool {
        self.paged_space().is_some_and(|p| p.over_dirty_limit())
    }

    /// A copy of a paged file's changed data, and the file's length, for a write-out
    /// (`None` for a file whose data is not paged); `NoSpace` if the heap cannot hold
    /// the copy.
    pub(crate) fn snapshot(&self) -> Result<Option<FileSnapshot>> {
        let Body::File(content) = &self.body else { return Ok(None) };
        match &*content.read() {
            Content::Owned(data) => data.snapshot(),
            Content::Shared(_) => Ok(None),
        }
    }

    /// Notes that a write-out of `snapshot` is on the disk.
    pub(crate) fn written(&self, snapshot: &FileSnapshot) {
        let Body::File(content) = &self.body else { return };
        let delta = match &mut *content.write() {
            Content::Owned(data) => data.written(snapshot),
            Content::Shared(_) => 0,
        };
        if let Some(p) = self.paged_space() {
            p.add_dirty(delta);
        }
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
    /// It may wait for a disk, as [`Self::read_at`].
    pub fn contents(&self) -> Result<Arc<[u8]>> {
        let Body::File(content) = &self.body else { return Err(self.not_a_file()) };
        let len = {
            let content = content.read();
            match &*content {
                Content::Shared(b) => return Ok(b.clone()),
                Content::Owned(data) if data.paged_id().is_none() => return data.to_shared(),
                Content::Owned(data) => data.len(),
            }
        };
        // A paged file, an extent at a time (a file cut meanwhile reads as zeros past
        // its new end).
        let mut all = crate::blocks::zeroed_shared(len as u64).ok_or(FsError::NoSpace)?;
        let buf = Arc::get_mut(&mut all).expect("just made");
        for (i, piece) in buf.chunks_mut(crate::blocks::EXTENT).enumerate() {
            self.read_at((i * crate::blocks::EXTENT) as u64, piece)?;
        }
        Ok(all)
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

    /// Turns shared content into the container's own copy, charging for it (paged,
    /// in a paged space, where the file was registered when made).
    fn own<'a>(&self, content: &'a mut Content) -> Result<&'a mut FileData> {
        if let Content::Shared(bytes) = content {
            let id = self.paged_space().map(|p| p.next_file());
            let data = FileData::copy_of(bytes, id, self)?;
            if let Some(p) = self.paged_space() {
                p.add_dirty(data.dirty_count() as i64);
            }
            *content = Content::Owned(data);
        }
        match content {
            Content::Owned(v) => Ok(v),
            Content::Shared(_) => unreachable!("just made owned"),
        }
    }

    fn uncharge(&self, bytes: u64) {
        if let Some(s) = &self.space {
            s.uncharge(bytes);
        }
    }
}

impl Account for Inode {
    /// Charges the space; in a paged space that is full, first drops other files'
    /// clean extents.
    fn charge(&self, bytes: u64) -> bool {
        let Some(space) = &self.space else { return true };
        space.charge(bytes)
            || space.paged().is_some_and(|p| p.evict(space, bytes, Some(self)) > 0 && space.charge(bytes))
    }

    fn uncharge(&self, bytes: u64) {
        Inode::uncharge(self, bytes);
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let (owned, paged) = match &self.body {
            Body::File(c) => match &*c.read() {
                Content::Owned(data) => {
                    (data.allocated(), data.paged_id().map(|id| (id, data.len() as u64, data.dirty_count())))
                }
                Content::Shared(_) => (0, None),
            },
            _ => (0, None),
        };
        if let (Some(p), Body::File(_)) = (self.paged_space(), &self.body) {
            p.unregister(self.ino, paged.map(|(id, ..)| id));
            if let Some((_, len, dirty)) = paged {
                p.shrink(len);
                p.add_dirty(-(dirty as i64));
            }
        }
        self.uncharge(owned + INODE_COST);
    }
}

/// Lengths of the pieces `len` bytes from `offset` split into at extent boundaries.
/// Reads from `offset` of a file's content into `buf` (`None`: some of it must
/// first be brought back from the pager).
fn read_content(content: &Content, offset: u64, buf: &mut [u8]) -> Option<usize> {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    match content {
        Content::Shared(bytes) => {
            let start = offset.min(bytes.len());
            let n = buf.len().min(bytes.len() - start);
            buf[..n].copy_from_slice(&bytes[start..start + n]);
            Some(n)
        }
        Content::Owned(data) if data.missing(offset, buf.len()).is_some() => None,
        Content::Owned(data) => Some(data.read_at(offset, buf)),
    }
}

fn extent_pieces(offset: u64, len: usize) -> impl Iterator<Item = usize> {
    let extent = crate::blocks::EXTENT as u64;
    let mut at = offset;
    let end = offset.saturating_add(len as u64);
    core::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let piece = (extent - at % extent).min(end - at);
        at += piece;
        Some(piece as usize)
    })
}
