//! Copying a directory's contents into another tree: what Docker does when it mounts
//! an empty volume over a directory of the image that holds files.

use crate::Result;
use crate::fs::Filesystem;
use crate::inode::{Body, Content, FileType, Inode};
use alloc::sync::Arc;

impl Filesystem {
    /// Copies what is under `src` (a directory of this tree) into `dst`, a directory of
    /// `to`, with owners, modes and modification times; `dst` takes `src`'s owner and
    /// mode too. File bytes still the image's are shared, not copied (the copy is
    /// made on the first write, as for any file of an image).
    pub fn copy_tree(&self, src: &Arc<Inode>, to: &Filesystem, dst: &Arc<Inode>) -> Result<()> {
        let m = src.metadata();
        dst.set_mode(m.mode, to.now());
        dst.set_owner(Some(m.uid), Some(m.gid), to.now());
        for entry in self.entries(src)? {
            let child = self.child(src, &entry.name)?;
            let cm = child.metadata();
            let made = match &child.body {
                Body::Dir(_) => {
                    let dir = to.mkdir(dst, &entry.name, cm.mode)?;
                    self.copy_tree(&child, to, &dir)?;
                    dir
                }
                Body::File(content) => {
                    let file = to.create_file(dst, &entry.name, cm.mode)?;
                    match &*content.read() {
                        Content::Shared(bytes) => file.share_contents(bytes.clone()),
                        Content::Owned(data) => {
                            let mut buf = alloc::vec![0u8; data.len()];
                            data.read_at(0, &mut buf);
                            file.write_at(0, &buf, to.now())?;
                        }
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
        dst.set_times(None, Some(m.mtime), to.now());
        Ok(())
    }
}
