//! Copying a directory's contents into another directory: what Docker does when it
//! mounts an empty volume over a directory of the image that holds files, and what
//! `docker cp` into a container does with the tree of its archive.

use crate::FsError;
use crate::Result;
use crate::fs::Filesystem;
use crate::inode::{Body, FileType, Inode};
use alloc::sync::Arc;

impl Filesystem {
    /// Copies what is under `src` (a directory of this tree) into `dst`, an empty
    /// directory of `to`, with owners, modes and modification times; `dst` takes
    /// `src`'s owner and mode too. File bytes still the image's are shared, not
    /// copied (the copy is made on the first write, as for any file of an image).
    pub fn copy_tree(&self, src: &Arc<Inode>, to: &Filesystem, dst: &Arc<Inode>) -> Result<()> {
        let m = src.metadata();
        dst.set_mode(m.mode, to.now());
        dst.set_owner(Some(m.uid), Some(m.gid), to.now());
        self.copy_entries(src, to, dst, false)?;
        dst.set_times(None, Some(m.mtime), to.now());
        Ok(())
    }

    /// Copies what is under `src` into the directory `dst` of `to`, which may hold
    /// entries already: a directory of both is merged, anything else of the same name
    /// replaced (but a directory is never replaced by a non-directory, nor the other
    /// way: `IsDirectory`, `NotDirectory`). `dst` itself keeps its owner and mode.
    pub fn merge_tree(&self, src: &Arc<Inode>, to: &Filesystem, dst: &Arc<Inode>) -> Result<()> {
        self.copy_entries(src, to, dst, true)
    }

    fn copy_entries(&self, src: &Arc<Inode>, to: &Filesystem, dst: &Arc<Inode>, merge: bool) -> Result<()> {
        for entry in self.entries(src)? {
            let child = self.child(src, &entry.name)?;
            let cm = child.metadata();
            if merge {
                match to.child(dst, &entry.name) {
                    Ok(existing) if existing.is_dir() && child.is_dir() => {
                        self.copy_entries(&child, to, &existing, true)?;
                        existing.set_mode(cm.mode, to.now());
                        existing.set_owner(Some(cm.uid), Some(cm.gid), to.now());
                        continue;
                    }
                    Ok(existing) if existing.is_dir() => return Err(FsError::IsDirectory),
                    Ok(_) if child.is_dir() => return Err(FsError::NotDirectory),
                    Ok(_) => to.unlink(dst, &entry.name)?,
                    Err(FsError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            let made = match &child.body {
                Body::Dir(_) => {
                    let dir = to.mkdir(dst, &entry.name, cm.mode)?;
                    self.copy_entries(&child, to, &dir, false)?;
                    dir
                }
                Body::File(_) => {
                    let file = to.create_file(dst, &entry.name, cm.mode)?;
                    // An image's bytes stay shared, except into a paged tree (whose
                    // files are all its own, written out with it).
                    match child.image_contents() {
                        Some(bytes) if !file.is_paged() => file.share_contents(bytes),
                        _ => copy_data(&child, &file, to.now())?,
                    }
                    file
                }
                Body::Symlink(target) => to.symlink(dst, &entry.name, target)?,
                Body::Device | Body::Fifo if cm.mode & 0o170_000 != FileType::Socket.mode_bits() => {
                    to.mknod(dst, &entry.name, cm.mode, cm.rdev)?
                }
                _ => continue, // sockets and synthetic directories are not copied
            };
            made.set_owner(Some(cm.uid), Some(cm.gid), to.now());
            made.set_times(None, Some(cm.mtime), to.now());
        }
        Ok(())
    }

    /// `node` and everything under it as a tar archive whose members are named from
    /// `name` (`name`, or `name/` and `name/...` for a directory), as `docker cp` out
    /// of a container reads it. Its size is first asked of `room`; `NoSpace` if it
    /// refuses, or if the heap cannot hold it.
    pub fn archive_of(
        &self,
        node: &Arc<Inode>,
        name: &str,
        room: impl FnOnce(u64) -> bool,
    ) -> Result<alloc::vec::Vec<u8>> {
        use crate::archive::{Node, Out};
        let path = if node.is_dir() { alloc::format!("{name}/") } else { alloc::string::String::from(name) };
        let mut count = Out::counting();
        self.write_node(&mut count, Node::Live(node.clone()), path.clone())?;
        let end = berth_tar::writer::end();
        let mut out = Out::with_room(count.len() + end.len(), room)?.reading(self.pager());
        self.write_node(&mut out, Node::Live(node.clone()), path)?;
        out.push(&end)?;
        Ok(out.bytes)
    }
}

/// Copies a file's bytes an extent at a time (each read may wait for a disk).
fn copy_data(from: &Inode, to: &Inode, now: u64) -> Result<()> {
    let mut buf = alloc::vec![0u8; crate::blocks::EXTENT];
    let mut at = 0;
    loop {
        let n = from.read_at(at, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_at(at, &buf[..n], now)?;
        at += n as u64;
    }
}
