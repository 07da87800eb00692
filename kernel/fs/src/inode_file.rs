//! Files and directories of a container's file system, opened.

use super::{FileOps, OpenFile};
use alloc::string::String;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::fs::{SEEK_CUR, SEEK_END, SEEK_SET, Stat, push_dirent64};
use berth_vfs::{FileType, Filesystem, Inode};

/// An inode of a container's file system behind a descriptor.
pub struct InodeFile {
    inode: Arc<Inode>,
    fs: Arc<Filesystem>,
}

impl InodeFile {
    /// Wraps `inode` of `fs`.
    pub fn new(inode: Arc<Inode>, fs: Arc<Filesystem>) -> Arc<InodeFile> {
        Arc::new(InodeFile { inode, fs })
    }
}

/// `struct stat` for an inode.
pub fn stat_of(inode: &Inode) -> Stat {
    let m = inode.metadata();
    let ts = |ns: u64| berth_abi::time::Timespec::from_nanos(ns);
    let mut st = Stat {
        st_dev: 0x2a,
        st_ino: m.ino,
        st_nlink: u64::from(m.nlink),
        st_mode: m.mode,
        st_uid: m.uid,
        st_gid: m.gid,
        st_rdev: m.rdev,
        st_size: m.size as i64,
        st_blksize: 4096,
        st_blocks: m.size.div_ceil(512) as i64,
        ..Stat::default()
    };
    st.set_times(ts(m.atime), ts(m.mtime), ts(m.ctime));
    st
}

/// The `d_type` of a file type.
pub fn dirent_type(kind: FileType) -> u8 {
    use berth_abi::fs::*;
    match kind {
        FileType::Regular => DT_REG,
        FileType::Directory => DT_DIR,
        FileType::Symlink => DT_LNK,
        FileType::CharDevice => DT_CHR,
        FileType::BlockDevice => DT_BLK,
        FileType::Fifo => DT_FIFO,
        FileType::Socket => DT_SOCK,
    }
}

fn to_errno(e: berth_vfs::FsError) -> Errno {
    crate::fs_errno(e)
}

impl FileOps for InodeFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        // The offset's lock is a spin lock: a paged file's data is brought back from
        // the disk with it released.
        let mut offset = file.offset.lock();
        if let Some(n) = self.inode.read_resident(*offset, buf).map_err(to_errno)? {
            *offset += n as u64;
            return Ok(n);
        }
        let at = *offset;
        drop(offset);
        let n = self.inode.read_at(at, buf).map_err(to_errno)?;
        *file.offset.lock() = at + n as u64;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        let mut offset = file.offset.lock();
        if file.flags() & berth_abi::fs::O_APPEND != 0 {
            *offset = self.inode.metadata().size;
        }
        if let Some(n) = self.inode.write_resident(*offset, data, self.fs.now()).map_err(to_errno)? {
            *offset += n as u64;
            return Ok(n);
        }
        let at = *offset;
        drop(offset);
        let n = self.inode.write_at(at, data, self.fs.now()).map_err(to_errno)?;
        *file.offset.lock() = at + n as u64;
        Ok(n)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.inode.read_at(offset, buf).map_err(to_errno)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.inode.write_at(offset, data, self.fs.now()).map_err(to_errno)
    }

    fn seek(&self, file: &OpenFile, offset: i64, whence: i32) -> Result<u64, Errno> {
        let mut current = file.offset.lock();
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => *current as i64,
            SEEK_END => self.inode.metadata().size as i64,
            _ => return Err(Errno::EINVAL),
        };
        let new = base.checked_add(offset).filter(|&n| n >= 0).ok_or(Errno::EINVAL)?;
        *current = new as u64;
        Ok(new as u64)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(stat_of(&self.inode))
    }

    fn inode(&self) -> Option<&Arc<Inode>> {
        Some(&self.inode)
    }

    fn supports_poll(&self) -> bool {
        // Regular files and directories are always ready; Linux will not epoll them.
        false
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        self.inode.truncate(len, self.fs.now()).map_err(to_errno)
    }

    fn read_dir(&self, pos: u64, buf: &mut [u8]) -> Result<(usize, u64), Errno> {
        if !self.inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        // Position i names the i-th entry of [".", "..", children in name order].
        let parent = self.fs.parent_of(&self.inode);
        let mut all = alloc::vec![
            (String::from("."), self.inode.ino(), FileType::Directory),
            (String::from(".."), parent.ino(), FileType::Directory),
        ];
        all.extend(self.fs.entries(&self.inode).map_err(to_errno)?.into_iter().map(|e| (e.name, e.ino, e.kind)));
        let mut written = 0;
        let mut next = pos;
        for (name, ino, kind) in all.iter().skip(pos as usize) {
            match push_dirent64(buf, written, *ino, (next + 1) as i64, dirent_type(*kind), name) {
                Some(n) => {
                    written += n;
                    next += 1;
                }
                None if written == 0 => return Err(Errno::EINVAL),
                None => break,
            }
        }
        Ok((written, next))
    }

    fn describe(&self) -> String {
        self.fs.path_of(&self.inode).unwrap_or_default()
    }
}
