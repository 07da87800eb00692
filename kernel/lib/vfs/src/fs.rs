//! A container's file system: path resolution and the operations that change the tree.

use crate::image::{Image, ImageBody};
use crate::inode::{Body, Budget, DirEntry, FileType, INODE_COST, Inode};
use crate::path::{MAX_PATH, check_name};
use crate::space::{Paging, Space};
use crate::{FsError, Result};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

/// Most symbolic links followed while resolving one path (Linux's limit).
pub const MAX_SYMLINKS: usize = 40;

/// A tree mounted in a file system.
struct Mount {
    /// The tree's root.
    root: Arc<Inode>,
    /// The directory it is mounted in.
    at: Weak<Inode>,
    /// Nothing in it may change through this file system.
    read_only: bool,
}

/// One container's file system (or one volume): a tree of inodes over an image.
pub struct Filesystem {
    root: Arc<Inode>,
    space: Arc<Space>,
    /// Other trees (volumes) mounted here. A mounted root is shared with other file
    /// systems, so its `..` is found here, never through its own parent link.
    mounts: Mutex<Vec<Mount>>,
    clock: fn() -> u64,
}

impl Filesystem {
    /// A file system showing `image`, charging what it holds to `budget`, with times
    /// from `clock` (ns since the epoch).
    pub fn new(image: &Image, budget: Option<Arc<dyn Budget>>, clock: fn() -> u64) -> Result<Filesystem> {
        Filesystem::build(image, budget, clock, None)
    }

    /// A paged file system (a volume, or a stored container's tree, on a machine with
    /// a disk): its own files' data goes to `paging.pager` when written out and
    /// leaves memory when memory is short. `image` may name data the pager holds (a
    /// manifest [`Self::write_out`] wrote, read with [`Image::manifest_from_tar`],
    /// perhaps stacked on an image).
    pub fn paged(
        image: &Image,
        budget: Option<Arc<dyn Budget>>,
        clock: fn() -> u64,
        paging: Paging,
    ) -> Result<Filesystem> {
        Filesystem::build(image, budget, clock, Some(paging))
    }

    fn build(
        image: &Image,
        budget: Option<Arc<dyn Budget>>,
        clock: fn() -> u64,
        paging: Option<Paging>,
    ) -> Result<Filesystem> {
        if let Some(b) = &budget
            && !b.charge(INODE_COST)
        {
            return Err(FsError::NoSpace);
        }
        let space = Arc::new(Space::new(2, budget, paging));
        let root = Arc::new(Inode::from_image(1, image.root(), Some(space.clone()))?);
        Ok(Filesystem { root, space, mounts: Mutex::new(Vec::new()), clock })
    }

    /// The tree's space.
    pub(crate) fn space(&self) -> &Arc<Space> {
        &self.space
    }

    /// Where a paged tree's data is read back from.
    pub(crate) fn pager(&self) -> Option<Arc<dyn crate::Pager>> {
        self.space.paged().map(|p| p.pager.clone())
    }

    /// The root directory.
    pub fn root(&self) -> Arc<Inode> {
        self.root.clone()
    }

    /// The current time, as this file system stamps files.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Changes made to this tree so far (a count that only grows): what a volume
    /// compares to know whether it has anything new to write to disk.
    pub fn changes(&self) -> u64 {
        self.space.changes()
    }

    /// Whether `inode` belongs to this tree (not to a volume mounted in it, nor to a
    /// synthetic directory).
    pub fn holds(&self, inode: &Inode) -> bool {
        inode.space.as_ref().is_some_and(|s| Arc::ptr_eq(s, &self.space))
    }

    /// The space new inodes in `dir` belong to: the directory's own (a volume's
    /// directory makes volume inodes).
    fn space_of(&self, dir: &Inode) -> Arc<Space> {
        dir.space.clone().unwrap_or_else(|| self.space.clone())
    }

    /// Whether `a` and `b` are in the same tree (renames and links between trees fail,
    /// as between Linux file systems).
    fn same_space(&self, a: &Inode, b: &Inode) -> bool {
        Arc::ptr_eq(&self.space_of(a), &self.space_of(b))
    }

    /// Runs `f` on a directory's entries, filling them in from the image first.
    fn with_entries<R>(&self, dir: &Arc<Inode>, f: impl FnOnce(&mut BTreeMap<String, Arc<Inode>>) -> R) -> Result<R> {
        let Body::Dir(state) = &dir.body else {
            return Err(if dir.is_dir() { FsError::NotPermitted } else { FsError::NotDirectory });
        };
        let mut state = state.lock();
        if state.entries.is_none() {
            let mut entries = BTreeMap::new();
            if let Some(lower) = state.lower.take()
                && let ImageBody::Dir(children) = &lower.body
            {
                let space = self.space_of(dir);
                for (name, node) in children {
                    // A paged file's second name is the inode of its first, if that
                    // was met already (a manifest keeps hard links so).
                    if let Some(first) = crate::writeout::restored_file(&space, node) {
                        first.add_link(1);
                        entries.insert(name.clone(), first);
                        continue;
                    }
                    if !space.charge(INODE_COST) {
                        state.lower = Some(lower.clone());
                        return Err(FsError::NoSpace);
                    }
                    let child = match Inode::from_image(space.next_ino(), node, Some(space.clone())) {
                        Ok(child) => Arc::new(child),
                        Err(e) => {
                            space.uncharge(INODE_COST);
                            state.lower = Some(lower.clone());
                            return Err(e);
                        }
                    };
                    child.register(matches!(node.body, ImageBody::Paged(_)));
                    if child.is_dir() {
                        *child.parent.lock() = Arc::downgrade(dir);
                        dir.add_link(1);
                    }
                    entries.insert(name.clone(), child);
                }
            }
            state.entries = Some(entries);
        }
        Ok(f(state.entries.as_mut().expect("filled in above")))
    }

    /// The entry `name` of directory `dir` (no symlink following, no `.`/`..`).
    pub fn child(&self, dir: &Arc<Inode>, name: &str) -> Result<Arc<Inode>> {
        if let Body::Special(special) = &dir.body {
            let child = special.lookup(name).ok_or(FsError::NotFound)?;
            if child.is_dir() {
                *child.parent.lock() = Arc::downgrade(dir);
            }
            return Ok(child);
        }
        self.with_entries(dir, |e| e.get(name).cloned())?.ok_or(FsError::NotFound)
    }

    /// The directory containing `dir` (the root is its own parent).
    pub fn parent_of(&self, dir: &Arc<Inode>) -> Arc<Inode> {
        self.up(dir).unwrap_or_else(|| self.root.clone())
    }

    /// The directory containing `dir`, if it is still in a tree: for a mounted root,
    /// the directory it is mounted in here.
    fn up(&self, dir: &Arc<Inode>) -> Option<Arc<Inode>> {
        if let Some(m) = self.mounts.lock().iter().find(|m| Arc::ptr_eq(&m.root, dir)) {
            return m.at.upgrade();
        }
        dir.parent.lock().upgrade()
    }

    /// Whether `other`'s tree is mounted here.
    pub fn has_mounted(&self, other: &Filesystem) -> bool {
        self.is_mounted_root(&other.root)
    }

    /// Whether `inode` is the root of a tree mounted here.
    pub(crate) fn is_mounted_root(&self, inode: &Arc<Inode>) -> bool {
        self.mounts.lock().iter().any(|m| Arc::ptr_eq(&m.root, inode))
    }

    /// Whether `inode` is in a tree mounted read-only here: EROFS for any change.
    pub fn is_read_only(&self, inode: &Inode) -> bool {
        let Some(space) = &inode.space else { return false };
        self.mounts.lock().iter().any(|m| m.read_only && m.root.space.as_ref().is_some_and(|s| Arc::ptr_eq(s, space)))
    }

    /// `ReadOnly` if `dir` is in a tree mounted read-only here.
    fn check_writable(&self, dir: &Inode) -> Result<()> {
        if self.is_read_only(dir) { Err(FsError::ReadOnly) } else { Ok(()) }
    }

    /// Mounts `other`'s tree (a volume) as `name` in `dir`, in place of whatever was
    /// there: files made in it belong to `other`, and `..` from its root leads back
    /// to `dir`. Removing or renaming it fails (`Busy`) while it is mounted; with
    /// `read_only`, so does any change in it through this file system (`ReadOnly`).
    pub fn mount_tree(&self, dir: &Arc<Inode>, name: &str, other: &Filesystem, read_only: bool) -> Result<()> {
        check_name(name)?;
        let root = other.root();
        if self.is_mounted_root(&root) {
            return Err(FsError::Busy);
        }
        let replaced = self.with_entries(dir, |e| e.insert(String::from(name), root.clone()))?;
        let mut mounts = self.mounts.lock();
        match replaced {
            // A tree mounted there before (a tmpfs made afresh) is unmounted.
            Some(old) if old.is_dir() => mounts.retain(|m| !Arc::ptr_eq(&m.root, &old)),
            _ => dir.add_link(1),
        }
        mounts.push(Mount { root, at: Arc::downgrade(dir), read_only });
        Ok(())
    }

    /// Resolves `path` starting at `cwd` (or the root for absolute paths), following
    /// symbolic links, the last one only if `follow`.
    pub fn lookup(&self, cwd: &Arc<Inode>, path: &str, follow: bool) -> Result<Arc<Inode>> {
        self.lookup_as(cwd, path, follow, &|_| true)
    }

    /// [`Self::lookup`] for a caller that may look into a directory only where
    /// `may_search` says so (search permission): AccessDenied where it may not.
    pub fn lookup_as(
        &self,
        cwd: &Arc<Inode>,
        path: &str,
        follow: bool,
        may_search: &dyn Fn(&Inode) -> bool,
    ) -> Result<Arc<Inode>> {
        if path.is_empty() {
            return Err(FsError::NotFound);
        }
        if path.len() > MAX_PATH {
            return Err(FsError::NameTooLong);
        }
        let must_be_dir = path.ends_with('/');
        let mut cur = if path.starts_with('/') { self.root.clone() } else { cwd.clone() };
        // Components still to walk, last first; symlink targets are spliced in.
        let mut todo: Vec<String> = path.split('/').filter(|c| !c.is_empty()).rev().map(String::from).collect();
        let mut links = 0;
        while let Some(name) = todo.pop() {
            let last = todo.is_empty();
            // Every step out of a directory, `..` too, needs search permission on it.
            if cur.is_dir() && !may_search(&cur) {
                return Err(FsError::AccessDenied);
            }
            match name.as_str() {
                "." => continue,
                ".." => {
                    cur = self.parent_of(&cur);
                    continue;
                }
                _ => {}
            }
            if !cur.is_dir() {
                return Err(FsError::NotDirectory);
            }
            if name.len() > crate::MAX_NAME {
                return Err(FsError::NameTooLong);
            }
            let child = self.child(&cur, &name)?;
            if let Body::Symlink(target) = &child.body
                && (!last || follow || must_be_dir)
            {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(FsError::TooManyLinks);
                }
                if target.starts_with('/') {
                    cur = self.root.clone();
                }
                todo.extend(target.split('/').filter(|c| !c.is_empty()).rev().map(String::from));
                continue;
            }
            cur = child;
        }
        if must_be_dir && !cur.is_dir() {
            return Err(FsError::NotDirectory);
        }
        Ok(cur)
    }

    /// Resolves all but the last component of `path`: returns the directory and the
    /// last name (which need not exist). Trailing slashes are ignored.
    pub fn lookup_parent(&self, cwd: &Arc<Inode>, path: &str) -> Result<(Arc<Inode>, String)> {
        self.lookup_parent_as(cwd, path, &|_| true)
    }

    /// [`Self::lookup_parent`] with search permission checked as in [`Self::lookup_as`].
    pub fn lookup_parent_as(
        &self,
        cwd: &Arc<Inode>,
        path: &str,
        may_search: &dyn Fn(&Inode) -> bool,
    ) -> Result<(Arc<Inode>, String)> {
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(if path.is_empty() { FsError::NotFound } else { FsError::Exists });
        }
        let (dir_part, name) = match trimmed.rfind('/') {
            Some(0) => ("/", &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (".", trimmed),
        };
        let dir = self.lookup_as(cwd, dir_part, true, may_search)?;
        if !dir.is_dir() {
            return Err(FsError::NotDirectory);
        }
        Ok((dir, String::from(name)))
    }

    /// Adds `inode` to `dir` as `name`.
    fn add(&self, dir: &Arc<Inode>, name: &str, inode: Arc<Inode>) -> Result<()> {
        check_name(name)?;
        let now = self.now();
        let is_dir = inode.is_dir();
        self.with_entries(dir, |entries| {
            if entries.contains_key(name) {
                return Err(FsError::Exists);
            }
            entries.insert(String::from(name), inode.clone());
            Ok(())
        })??;
        if is_dir {
            *inode.parent.lock() = Arc::downgrade(dir);
            dir.add_link(1);
        }
        dir.touch_modified(now);
        Ok(())
    }

    /// A new inode for directory `dir`, numbered and paid for by the dir's space.
    fn new_inode(&self, dir: &Inode, make: impl FnOnce(u64, u64, Option<Arc<Space>>) -> Inode) -> Result<Arc<Inode>> {
        let space = self.space_of(dir);
        if !space.charge(INODE_COST) {
            return Err(FsError::NoSpace);
        }
        let inode = Arc::new(make(space.next_ino(), self.now(), Some(space)));
        inode.register(false);
        Ok(inode)
    }

    /// Creates an empty regular file.
    pub fn create_file(&self, dir: &Arc<Inode>, name: &str, mode: u32) -> Result<Arc<Inode>> {
        check_name(name)?;
        self.check_writable(dir)?;
        let inode = self.new_inode(dir, |ino, now, b| Inode::new_file(ino, mode, now, b))?;
        self.add(dir, name, inode.clone())?;
        Ok(inode)
    }

    /// Creates an empty directory.
    pub fn mkdir(&self, dir: &Arc<Inode>, name: &str, mode: u32) -> Result<Arc<Inode>> {
        check_name(name)?;
        self.check_writable(dir)?;
        let inode = self.new_inode(dir, |ino, now, b| Inode::new_dir(ino, mode, None, now, b))?;
        self.add(dir, name, inode.clone())?;
        Ok(inode)
    }

    /// Creates a device node, FIFO or socket node (`mode` carries the type).
    pub fn mknod(&self, dir: &Arc<Inode>, name: &str, mode: u32, rdev: u64) -> Result<Arc<Inode>> {
        check_name(name)?;
        self.check_writable(dir)?;
        match FileType::from_mode(mode) {
            FileType::CharDevice | FileType::BlockDevice | FileType::Fifo | FileType::Socket => {}
            FileType::Regular => return self.create_file(dir, name, mode),
            _ => return Err(FsError::Invalid),
        }
        let inode = self.new_inode(dir, |ino, now, b| Inode::new_node(ino, mode, rdev, now, b))?;
        self.add(dir, name, inode.clone())?;
        Ok(inode)
    }

    /// Creates a symbolic link to `target`.
    pub fn symlink(&self, dir: &Arc<Inode>, name: &str, target: &str) -> Result<Arc<Inode>> {
        check_name(name)?;
        self.check_writable(dir)?;
        if target.is_empty() {
            return Err(FsError::NotFound);
        }
        if target.len() >= MAX_PATH {
            return Err(FsError::NameTooLong);
        }
        let inode = self.new_inode(dir, |ino, now, b| Inode::new_symlink(ino, String::from(target), now, b))?;
        self.add(dir, name, inode.clone())?;
        Ok(inode)
    }

    /// Adds another name for `target` (not a directory).
    pub fn link(&self, dir: &Arc<Inode>, name: &str, target: &Arc<Inode>) -> Result<()> {
        if target.is_dir() {
            return Err(FsError::NotPermitted);
        }
        self.check_writable(dir)?;
        if !self.same_space(dir, target) {
            return Err(FsError::CrossDevice);
        }
        self.add(dir, name, target.clone())?;
        target.add_link(1);
        target.touch_modified(self.now());
        Ok(())
    }

    /// Installs `inode` (e.g. a synthetic directory) as `name` in `dir`, replacing
    /// whatever was there.
    pub fn mount(&self, dir: &Arc<Inode>, name: &str, inode: Arc<Inode>) -> Result<()> {
        check_name(name)?;
        *inode.parent.lock() = Arc::downgrade(dir);
        self.with_entries(dir, |e| e.insert(String::from(name), inode))?;
        Ok(())
    }

    /// Removes the non-directory `name` from `dir`.
    pub fn unlink(&self, dir: &Arc<Inode>, name: &str) -> Result<()> {
        self.check_writable(dir)?;
        let now = self.now();
        let removed = self.with_entries(dir, |entries| match entries.get(name) {
            None => Err(FsError::NotFound),
            Some(i) if i.is_dir() => Err(FsError::IsDirectory),
            Some(_) => Ok(entries.remove(name)),
        })??;
        if let Some(inode) = removed {
            inode.add_link(-1);
            inode.touch_modified(now);
        }
        dir.touch_modified(now);
        Ok(())
    }

    /// Removes the empty directory `name` from `dir`.
    pub fn rmdir(&self, dir: &Arc<Inode>, name: &str) -> Result<()> {
        match name {
            "." => return Err(FsError::Invalid),
            ".." => return Err(FsError::NotEmpty),
            _ => {}
        }
        let child = self.child(dir, name)?;
        if !child.is_dir() {
            return Err(FsError::NotDirectory);
        }
        self.check_writable(dir)?;
        if self.is_mounted_root(&child) {
            return Err(FsError::Busy);
        }
        if !self.is_empty_dir(&child)? {
            return Err(FsError::NotEmpty);
        }
        self.with_entries(dir, |entries| entries.remove(name))?;
        dir.add_link(-1);
        child.add_link(-2);
        dir.touch_modified(self.now());
        Ok(())
    }

    fn is_empty_dir(&self, dir: &Arc<Inode>) -> Result<bool> {
        match &dir.body {
            Body::Special(_) => Err(FsError::NotPermitted),
            _ => self.with_entries(dir, |e| e.is_empty()),
        }
    }

    /// Whether `ancestor` is `inode` or one of its ancestors.
    fn is_ancestor(&self, ancestor: &Arc<Inode>, inode: &Arc<Inode>) -> bool {
        let mut cur = inode.clone();
        loop {
            if Arc::ptr_eq(&cur, ancestor) {
                return true;
            }
            if Arc::ptr_eq(&cur, &self.root) {
                return false;
            }
            cur = self.parent_of(&cur);
        }
    }

    /// Moves `old_dir/old_name` to `new_dir/new_name`, replacing a compatible target
    /// unless `no_replace`.
    pub fn rename(
        &self,
        old_dir: &Arc<Inode>,
        old_name: &str,
        new_dir: &Arc<Inode>,
        new_name: &str,
        no_replace: bool,
    ) -> Result<()> {
        check_name(new_name)?;
        if matches!(old_name, "." | "..") {
            return Err(FsError::Invalid);
        }
        let source = self.child(old_dir, old_name)?;
        if self.is_mounted_root(&source) {
            return Err(FsError::Busy);
        }
        if !self.same_space(old_dir, new_dir) {
            return Err(FsError::CrossDevice);
        }
        self.check_writable(old_dir)?;
        if source.is_dir() && self.is_ancestor(&source, new_dir) {
            return Err(FsError::Invalid);
        }
        match self.child(new_dir, new_name) {
            Ok(target) => {
                if Arc::ptr_eq(&target, &source) {
                    return Ok(());
                }
                if no_replace {
                    return Err(FsError::Exists);
                }
                match (source.is_dir(), target.is_dir()) {
                    (true, false) => return Err(FsError::NotDirectory),
                    (false, true) => return Err(FsError::IsDirectory),
                    (true, true) if !self.is_empty_dir(&target)? => return Err(FsError::NotEmpty),
                    _ => {}
                }
                if target.is_dir() {
                    self.rmdir(new_dir, new_name)?;
                } else {
                    self.unlink(new_dir, new_name)?;
                }
            }
            Err(FsError::NotFound) => {}
            Err(e) => return Err(e),
        }
        self.with_entries(old_dir, |e| e.remove(old_name))?;
        if source.is_dir() {
            old_dir.add_link(-1);
        }
        self.add(new_dir, new_name, source)?;
        old_dir.touch_modified(self.now());
        Ok(())
    }

    /// The entries of `dir`, sorted by name (without `.` and `..`).
    pub fn entries(&self, dir: &Arc<Inode>) -> Result<Vec<DirEntry>> {
        if let Body::Special(special) = &dir.body {
            return Ok(special.entries());
        }
        self.with_entries(dir, |entries| {
            entries
                .iter()
                .map(|(name, inode)| DirEntry { name: name.clone(), ino: inode.ino(), kind: inode.file_type() })
                .collect()
        })
    }

    /// The absolute path of directory `dir` (for `getcwd`), or `None` if it has been
    /// removed from the tree.
    pub fn path_of(&self, dir: &Arc<Inode>) -> Option<String> {
        let mut names = Vec::new();
        let mut cur = dir.clone();
        while !Arc::ptr_eq(&cur, &self.root) {
            let parent = self.up(&cur)?;
            let name = match &parent.body {
                Body::Dir(state) => {
                    state.lock().entries.as_ref()?.iter().find(|(_, i)| Arc::ptr_eq(i, &cur)).map(|(n, _)| n.clone())?
                }
                Body::Special(special) => special.entries().into_iter().find(|e| e.ino == cur.ino())?.name,
                _ => return None,
            };
            names.push(name);
            cur = parent;
        }
        let mut path = String::new();
        for name in names.iter().rev() {
            path.push('/');
            path.push_str(name);
        }
        if path.is_empty() {
            path.push('/');
        }
        Some(path)
    }
}
