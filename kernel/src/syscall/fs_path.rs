//! System calls that name files by path.

use super::{Args, SysResult};
use crate::fs::{Fd, InodeFile, OpenFile};
use crate::proc::{Process, current_process, fs_errno};
use crate::sandbox::files::device_for;
use crate::uaccess::{UserCStr, UserPtr, UserSlice};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::fs::*;
use berth_abi::process::creds::{MAY_EXEC, MAY_READ, MAY_WRITE};
use berth_abi::time::Timespec;
use berth_vfs::{FileType, Inode};

/// Reads a path argument.
pub(super) fn path_arg(path: UserCStr) -> Result<String, Errno> {
    path.read(PATH_MAX)
}

/// The directory relative paths start from: the working directory for AT_FDCWD,
/// else the directory open as `dirfd`.
fn start_dir(process: &Process, dirfd: Fd, path: &str) -> Result<Arc<Inode>, Errno> {
    if path.starts_with('/') || dirfd == Fd::AT_FDCWD {
        return Ok(process.cwd.lock().clone());
    }
    let f = process.fd_table().lock().get(dirfd)?;
    let inode = f.ops.inode().ok_or(Errno::ENOTDIR)?.clone();
    if !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(inode)
}

/// Resolves `path` relative to `dirfd`.
pub(super) fn lookup(process: &Process, dirfd: Fd, path: &str, follow: bool) -> Result<Arc<Inode>, Errno> {
    let start = start_dir(process, dirfd, path)?;
    let may_search = searcher(process);
    process.sandbox.fs.lookup_as(&start, path, follow, &may_search).map_err(fs_errno)
}

/// Resolves all but the last component of `path` relative to `dirfd`.
fn lookup_parent(process: &Process, dirfd: Fd, path: &str) -> Result<(Arc<Inode>, String), Errno> {
    let start = start_dir(process, dirfd, path)?;
    let may_search = searcher(process);
    process.sandbox.fs.lookup_parent_as(&start, path, &may_search).map_err(fs_errno)
}

/// Whether the process may search a directory (look up names in it), by its fs ids.
/// Root may search any directory, so its lookups (most of them) copy no credentials.
pub(crate) fn searcher(process: &Process) -> impl Fn(&Inode) -> bool {
    let creds = process.creds.lock();
    let user = (creds.uid.fs != 0).then(|| creds.clone());
    move |dir: &Inode| {
        let Some(creds) = &user else { return true };
        let m = dir.metadata();
        creds.may_access(m.mode, m.uid, m.gid, MAY_EXEC)
    }
}

/// `/dev/std{in,out,err}`, `/dev/fd/N` and `/proc/self/fd/N` name open descriptors:
/// opening them opens the same file again.
fn magic_fd(process: &Process, path: &str) -> Option<Fd> {
    let rest = match path {
        "/dev/stdin" => return Some(Fd::new(0)),
        "/dev/stdout" => return Some(Fd::new(1)),
        "/dev/stderr" => return Some(Fd::new(2)),
        p => p
            .strip_prefix("/dev/fd/")
            .or_else(|| p.strip_prefix("/proc/self/fd/"))
            .or_else(|| p.strip_prefix(&format!("/proc/{}/fd/", process.pid)))?,
    };
    rest.parse().ok().map(Fd::new)
}

/// EACCES unless the process may `want` (`MAY_*`) `inode`, by its file-system ids.
/// (Search permission along the path is checked by the lookup, see [`searcher`].)
pub(crate) fn permit(process: &Process, inode: &Inode, want: u32) -> Result<(), Errno> {
    let m = inode.metadata();
    if process.creds.lock().may_access(m.mode, m.uid, m.gid, want) { Ok(()) } else { Err(Errno::EACCES) }
}

/// EROFS if `inode` is in a volume mounted read-only in the process's container.
fn permit_change(process: &Process, inode: &Inode) -> Result<(), Errno> {
    if process.sandbox.fs.is_read_only(inode) { Err(Errno::EROFS) } else { Ok(()) }
}

/// Whether the process may add entries to `dir` (write and search permission).
fn permit_create(process: &Process, dir: &Inode) -> Result<(), Errno> {
    permit(process, dir, MAY_WRITE | MAY_EXEC)
}

/// Whether the process may remove or replace `name` in `dir`: write and search
/// permission, and in a sticky directory, ownership of the entry or the directory.
fn permit_remove(process: &Process, dir: &Arc<Inode>, name: &str) -> Result<(), Errno> {
    permit_create(process, dir)?;
    let Ok(entry) = process.sandbox.fs.child(dir, name) else { return Ok(()) };
    let (d, e) = (dir.metadata(), entry.metadata());
    if process.creds.lock().may_remove(d.mode, d.uid, e.uid) { Ok(()) } else { Err(Errno::EPERM) }
}

/// openat(dirfd, path, flags, mode)
pub fn open(dirfd: Fd, path: UserCStr, flags: OpenFlags, mode: u32) -> SysResult {
    let path = path_arg(path)?;
    let process = current_process();
    let cloexec = flags.contains(OpenFlags::CLOEXEC);
    let flags = flags - (OpenFlags::CLOEXEC | OpenFlags::LARGEFILE);
    if let Some(fd) = magic_fd(&process, &path) {
        let existing = process.fd_table().lock().get(fd)?;
        let again = OpenFile::new(existing.ops.clone(), flags.bits(), existing.path.clone());
        return process.fd_table().lock().insert(again, cloexec).map(isize::from);
    }
    let fs = process.sandbox.fs.clone();
    let inode = if flags.contains(OpenFlags::CREAT) {
        // A trailing slash names a directory, which O_CREAT cannot make or open.
        if path.len() > 1 && path.ends_with('/') {
            return Err(Errno::EISDIR);
        }
        let (dir, name) = lookup_parent(&process, dirfd, &path)?;
        match fs.child(&dir, &name) {
            Ok(_) if flags.contains(OpenFlags::EXCL) => return Err(Errno::EEXIST),
            Ok(existing) if existing.is_dir() => return Err(Errno::EISDIR),
            Ok(existing) if existing.file_type() == FileType::Symlink && !flags.contains(OpenFlags::NOFOLLOW) => {
                let target = lookup(&process, dirfd, &path, true)?;
                if target.is_dir() {
                    return Err(Errno::EISDIR);
                }
                target
            }
            Ok(existing) => existing,
            Err(berth_vfs::FsError::NotFound) => {
                permit_create(&process, &dir)?;
                let umask = process.umask.load(core::sync::atomic::Ordering::Relaxed);
                let created = owned(&process, fs.create_file(&dir, &name, mode & !umask & 0o7777).map_err(fs_errno)?);
                // The creator may open what it made, whatever its mode says.
                return finish_open(&process, &fs, created, flags, path, cloexec);
            }
            Err(e) => return Err(fs_errno(e)),
        }
    } else {
        lookup(&process, dirfd, &path, !flags.contains(OpenFlags::NOFOLLOW))?
    };
    let kind = inode.file_type();
    if flags.contains(OpenFlags::NOFOLLOW) && kind == FileType::Symlink && !flags.contains(OpenFlags::PATH) {
        return Err(Errno::ELOOP);
    }
    if flags.contains(OpenFlags::DIRECTORY) && !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let writing = matches!(access_mode(flags.bits()), O_WRONLY | O_RDWR);
    if inode.is_dir() && (writing || flags.contains(OpenFlags::TRUNC)) {
        return Err(Errno::EISDIR);
    }
    if !flags.contains(OpenFlags::PATH) && kind != FileType::Symlink {
        let read = if matches!(access_mode(flags.bits()), O_RDONLY | O_RDWR) { MAY_READ } else { 0 };
        let write = if writing || flags.contains(OpenFlags::TRUNC) { MAY_WRITE } else { 0 };
        if write != 0 && kind == FileType::Regular {
            permit_change(&process, &inode)?;
        }
        permit(&process, &inode, read | write)?;
    }
    finish_open(&process, &fs, inode, flags, path, cloexec)
}

/// Opens `inode` (checked) as a descriptor of `process`.
fn finish_open(
    process: &Arc<Process>,
    fs: &Arc<berth_vfs::Filesystem>,
    inode: Arc<Inode>,
    flags: OpenFlags,
    path: String,
    cloexec: bool,
) -> SysResult {
    let kind = inode.file_type();
    let writing = matches!(access_mode(flags.bits()), O_WRONLY | O_RDWR);
    let ops: Arc<dyn crate::fs::FileOps> = match kind {
        FileType::CharDevice | FileType::BlockDevice if !flags.contains(OpenFlags::PATH) => {
            device_for(inode.metadata().rdev, &process.sandbox)?
        }
        FileType::Fifo | FileType::Socket if !flags.contains(OpenFlags::PATH) => return Err(Errno::ENXIO),
        _ => {
            if flags.contains(OpenFlags::TRUNC) && writing && kind == FileType::Regular {
                inode.truncate(0, fs.now()).map_err(fs_errno)?;
            }
            InodeFile::new(inode, fs.clone())
        }
    };
    let shown = if path.starts_with('/') {
        path
    } else {
        let cwd = process.cwd.lock().clone();
        let base = fs.path_of(&cwd).unwrap_or_default();
        format!("{}/{}", base.trim_end_matches('/'), path)
    };
    let file = OpenFile::new(ops, flags.bits(), shown);
    process.fd_table().lock().insert(file, cloexec).map(isize::from)
}

/// The `struct stat` of what `dirfd`/`path` name (`AT_EMPTY_PATH`: `dirfd` itself).
fn stat_of(process: &Process, dirfd: Fd, path: UserCStr, flags: AtFlags) -> Result<Stat, Errno> {
    let path = path_arg(path)?;
    if path.is_empty() {
        if !flags.contains(AtFlags::EMPTY_PATH) {
            return Err(Errno::ENOENT);
        }
        if dirfd == Fd::AT_FDCWD {
            return Ok(crate::fs::stat_of(&process.cwd.lock().clone()));
        }
        return process.fd_table().lock().get(dirfd)?.ops.stat();
    }
    let inode = lookup(process, dirfd, &path, !flags.contains(AtFlags::SYMLINK_NOFOLLOW))?;
    Ok(crate::fs::stat_of(&inode))
}

/// newfstatat(dirfd, path, statbuf, flags) and stat/lstat.
pub fn stat(dirfd: Fd, path: UserCStr, buf: UserPtr<Stat>, flags: AtFlags) -> SysResult {
    let st = stat_of(&current_process(), dirfd, path, flags)?;
    buf.write(&st)?;
    Ok(0)
}

/// statx(dirfd, path, flags, mask, statxbuf)
pub fn statx(a: &Args) -> SysResult {
    let st = stat_of(&current_process(), a.fd(0), a.cstr(1), AtFlags::from_bits_retain(a.u32(2)))?;
    let ts = |sec: i64, nsec: i64| StatxTimestamp { tv_sec: sec, tv_nsec: nsec as u32, __reserved: 0 };
    let sx = Statx {
        stx_mask: STATX_BASIC_STATS,
        stx_blksize: st.st_blksize as u32,
        stx_nlink: st.st_nlink as u32,
        stx_uid: st.st_uid,
        stx_gid: st.st_gid,
        stx_mode: st.st_mode as u16,
        stx_ino: st.st_ino,
        stx_size: st.st_size as u64,
        stx_blocks: st.st_blocks as u64,
        stx_atime: ts(st.st_atime, st.st_atime_nsec),
        stx_btime: ts(st.st_ctime, st.st_ctime_nsec),
        stx_ctime: ts(st.st_ctime, st.st_ctime_nsec),
        stx_mtime: ts(st.st_mtime, st.st_mtime_nsec),
        stx_rdev_major: (st.st_rdev >> 8) as u32,
        stx_rdev_minor: (st.st_rdev & 0xff) as u32,
        stx_dev_major: 0,
        stx_dev_minor: st.st_dev as u32,
        ..Statx::default()
    };
    a.ptr(4).write(&sx)?;
    Ok(0)
}

/// statfs/fstatfs: every container file system is memory-backed.
pub fn statfs(buf: UserPtr<Statfs>) -> SysResult {
    let process = current_process();
    let memory = &process.sandbox.memory;
    let limit = match memory.limit() {
        u64::MAX => crate::mm::container_memory().1,
        l => l,
    };
    let free = limit.saturating_sub(memory.used()) / 4096;
    let st = Statfs {
        f_type: TMPFS_MAGIC,
        f_bsize: 4096,
        f_blocks: limit / 4096,
        f_bfree: free,
        f_bavail: free,
        f_files: 1 << 20,
        f_ffree: 1 << 20,
        f_namelen: NAME_MAX as i64,
        f_frsize: 4096,
        ..Statfs::default()
    };
    buf.write(&st)?;
    Ok(0)
}

/// readlinkat(dirfd, path, buf, size)
pub fn readlink(dirfd: Fd, path: UserCStr, buf: UserSlice) -> SysResult {
    let path = path_arg(path)?;
    if buf.is_empty() {
        return Err(Errno::EINVAL);
    }
    let inode = lookup(&current_process(), dirfd, &path, false)?;
    let target = inode.readlink().map_err(|_| Errno::EINVAL)?;
    let n = target.len().min(buf.len());
    buf.write(&target.as_bytes()[..n])?;
    Ok(n as isize)
}

/// getcwd(buf, size)
pub fn getcwd(a: &Args) -> SysResult {
    let process = current_process();
    let cwd = process.cwd.lock().clone();
    let path = process.sandbox.fs.path_of(&cwd).ok_or(Errno::ENOENT)?;
    let buf = a.slice(0, 1);
    if path.len() + 1 > buf.len() {
        return Err(Errno::ERANGE);
    }
    buf.write(path.as_bytes())?;
    buf.skip(path.len()).write(&[0])?;
    Ok(path.len() as isize + 1)
}

/// chdir(path)
pub fn chdir(a: &Args) -> SysResult {
    let process = current_process();
    let inode = lookup(&process, Fd::AT_FDCWD, &path_arg(a.cstr(0))?, true)?;
    if !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    *process.cwd.lock() = inode;
    Ok(0)
}

/// fchdir(fd)
pub fn fchdir(a: &Args) -> SysResult {
    let process = current_process();
    let f = process.fd_table().lock().get(a.fd(0))?;
    let inode = f.ops.inode().ok_or(Errno::ENOTDIR)?.clone();
    if !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    *process.cwd.lock() = inode;
    Ok(0)
}

/// mkdirat(dirfd, path, mode)
pub fn mkdir(dirfd: Fd, path: UserCStr, mode: u32) -> SysResult {
    let process = current_process();
    let (dir, name) = lookup_parent(&process, dirfd, &path_arg(path)?)?;
    permit_create(&process, &dir)?;
    let umask = process.umask.load(core::sync::atomic::Ordering::Relaxed);
    owned(&process, process.sandbox.fs.mkdir(&dir, &name, mode & !umask & 0o7777).map_err(fs_errno)?);
    Ok(0)
}

/// mknodat(dirfd, path, mode, dev): regular files only; containers make no device
/// nodes or FIFOs.
pub fn mknod(dirfd: Fd, path: UserCStr, mode: u32, _dev: u64) -> SysResult {
    let process = current_process();
    if file_type(mode) != S_IFREG && file_type(mode) != 0 {
        return Err(Errno::EPERM);
    }
    let (dir, name) = lookup_parent(&process, dirfd, &path_arg(path)?)?;
    permit_create(&process, &dir)?;
    let umask = process.umask.load(core::sync::atomic::Ordering::Relaxed);
    owned(&process, process.sandbox.fs.create_file(&dir, &name, mode & !umask & 0o7777).map_err(fs_errno)?);
    Ok(0)
}

/// unlinkat(dirfd, path, flags)
pub fn unlink(dirfd: Fd, path: UserCStr, flags: AtFlags) -> SysResult {
    let process = current_process();
    let (dir, name) = lookup_parent(&process, dirfd, &path_arg(path)?)?;
    permit_remove(&process, &dir, &name)?;
    let fs = &process.sandbox.fs;
    if flags.contains(AtFlags::REMOVEDIR) { fs.rmdir(&dir, &name) } else { fs.unlink(&dir, &name) }
        .map_err(fs_errno)?;
    Ok(0)
}

/// renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
pub fn rename(olddirfd: Fd, old: UserCStr, newdirfd: Fd, new: UserCStr, flags: RenameFlags) -> SysResult {
    // RENAME_EXCHANGE and RENAME_WHITEOUT are not implemented.
    if flags != flags & RenameFlags::NOREPLACE {
        return Err(Errno::EINVAL);
    }
    let process = current_process();
    let (odir, oname) = lookup_parent(&process, olddirfd, &path_arg(old)?)?;
    let (ndir, nname) = lookup_parent(&process, newdirfd, &path_arg(new)?)?;
    permit_remove(&process, &odir, &oname)?;
    permit_remove(&process, &ndir, &nname)?;
    process
        .sandbox
        .fs
        .rename(&odir, &oname, &ndir, &nname, flags.contains(RenameFlags::NOREPLACE))
        .map_err(fs_errno)?;
    Ok(0)
}

/// linkat(olddirfd, oldpath, newdirfd, newpath, flags)
pub fn link(olddirfd: Fd, old: UserCStr, newdirfd: Fd, new: UserCStr, flags: AtFlags) -> SysResult {
    let process = current_process();
    let target = lookup(&process, olddirfd, &path_arg(old)?, flags.contains(AtFlags::SYMLINK_FOLLOW))?;
    let (dir, name) = lookup_parent(&process, newdirfd, &path_arg(new)?)?;
    permit_create(&process, &dir)?;
    process.sandbox.fs.link(&dir, &name, &target).map_err(fs_errno)?;
    Ok(0)
}

/// symlinkat(target, newdirfd, linkpath)
pub fn symlink(target: UserCStr, dirfd: Fd, path: UserCStr) -> SysResult {
    let process = current_process();
    let target = path_arg(target)?;
    let (dir, name) = lookup_parent(&process, dirfd, &path_arg(path)?)?;
    permit_create(&process, &dir)?;
    owned(&process, process.sandbox.fs.symlink(&dir, &name, &target).map_err(fs_errno)?);
    Ok(0)
}

/// faccessat2(dirfd, path, mode, flags): by the real ids, or the effective ones with
/// `AT_EACCESS`.
pub fn access(dirfd: Fd, path: UserCStr, mode: i32, flags: AtFlags) -> SysResult {
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    let process = current_process();
    let inode = lookup(&process, dirfd, &path_arg(path)?, !flags.contains(AtFlags::SYMLINK_NOFOLLOW))?;
    let m = inode.metadata();
    let want = mode as u32;
    let creds = process.creds.lock();
    let allowed = if flags.contains(AtFlags::EACCESS) {
        creds.may_access(m.mode, m.uid, m.gid, want)
    } else {
        creds.may_access_real(m.mode, m.uid, m.gid, want)
    };
    if allowed { Ok(0) } else { Err(Errno::EACCES) }
}

/// EPERM unless the process owns `inode` or is root (chmod, explicit times); EROFS in
/// a read-only volume.
fn permit_owner(process: &Process, inode: &Inode) -> Result<(), Errno> {
    permit_change(process, inode)?;
    if process.creds.lock().owns_or_root(inode.metadata().uid) { Ok(()) } else { Err(Errno::EPERM) }
}

/// fchmodat(dirfd, path, mode)
pub fn chmod(dirfd: Fd, path: UserCStr, mode: u32, _flags: AtFlags) -> SysResult {
    let process = current_process();
    let inode = lookup(&process, dirfd, &path_arg(path)?, true)?;
    permit_owner(&process, &inode)?;
    inode.set_mode(mode, process.sandbox.fs.now());
    Ok(0)
}

/// fchmod(fd, mode)
pub fn fchmod(a: &Args) -> SysResult {
    let process = current_process();
    let f = process.fd_table().lock().get(a.fd(0))?;
    let inode = f.ops.inode().ok_or(Errno::EINVAL)?;
    permit_owner(&process, inode)?;
    inode.set_mode(a.u32(1), process.sandbox.fs.now());
    Ok(0)
}

fn owner(id: u32) -> Option<u32> {
    (id != u32::MAX).then_some(id)
}

/// Gives a file just created to the creating process's fs uid and gid (root's, 0:0,
/// is what a new inode already has).
pub(super) fn owned(process: &Process, inode: Arc<Inode>) -> Arc<Inode> {
    let (uid, gid) = {
        let creds = process.creds.lock();
        (creds.uid.fs, creds.gid.fs)
    };
    if (uid, gid) != (0, 0) {
        inode.set_owner(Some(uid), Some(gid), process.sandbox.fs.now());
    }
    inode
}

/// Changes `inode`'s owner if the process may (EPERM otherwise).
fn change_owner(process: &Process, inode: &Inode, uid: u32, gid: u32) -> SysResult {
    permit_change(process, inode)?;
    if !process.creds.lock().may_chown(inode.metadata().uid, uid, gid) {
        return Err(Errno::EPERM);
    }
    inode.set_owner(owner(uid), owner(gid), process.sandbox.fs.now());
    Ok(0)
}

/// fchownat(dirfd, path, uid, gid, flags)
pub fn chown(dirfd: Fd, path: UserCStr, uid: u32, gid: u32, flags: AtFlags) -> SysResult {
    let process = current_process();
    let inode = lookup(&process, dirfd, &path_arg(path)?, !flags.contains(AtFlags::SYMLINK_NOFOLLOW))?;
    change_owner(&process, &inode, uid, gid)
}

/// fchown(fd, uid, gid)
pub fn fchown(a: &Args) -> SysResult {
    let process = current_process();
    let f = process.fd_table().lock().get(a.fd(0))?;
    change_owner(&process, f.ops.inode().ok_or(Errno::EINVAL)?, a.u32(1), a.u32(2))
}

/// truncate(path, length)
pub fn truncate(a: &Args) -> SysResult {
    let process = current_process();
    let inode = lookup(&process, Fd::AT_FDCWD, &path_arg(a.cstr(0))?, true)?;
    let len = a.u64(1) as i64;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    if inode.is_dir() {
        return Err(Errno::EISDIR);
    }
    permit_change(&process, &inode)?;
    permit(&process, &inode, MAY_WRITE)?;
    inode.truncate(len as u64, process.sandbox.fs.now()).map_err(fs_errno)?;
    Ok(0)
}

/// utimensat(dirfd, path, times, flags)
pub fn utimensat(a: &Args) -> SysResult {
    let process = current_process();
    let now = process.sandbox.fs.now();
    let inode = if a.cstr(1).is_null() {
        let f = process.fd_table().lock().get(a.fd(0))?;
        f.ops.inode().ok_or(Errno::EINVAL)?.clone()
    } else {
        lookup(
            &process,
            a.fd(0),
            &path_arg(a.cstr(1))?,
            !AtFlags::from_bits_retain(a.u32(3)).contains(AtFlags::SYMLINK_NOFOLLOW),
        )?
    };
    let times: UserPtr<[Timespec; 2]> = a.ptr(2);
    let (atime, mtime) = if times.is_null() {
        (Some(now), Some(now))
    } else {
        let times = times.read()?;
        let pick = |t: Timespec| match t.nsec {
            UTIME_NOW => Ok(Some(now)),
            UTIME_OMIT => Ok(None),
            _ => t.validate().map(|()| Some(t.to_nanos())),
        };
        (pick(times[0])?, pick(times[1])?)
    };
    // Times of one's choosing need ownership; "now" needs write permission will do.
    let chosen = |t: Option<u64>| t.is_some_and(|t| t != now);
    permit_change(&process, &inode)?;
    if chosen(atime) || chosen(mtime) {
        permit_owner(&process, &inode)?;
    } else if permit_owner(&process, &inode).is_err() {
        permit(&process, &inode, MAY_WRITE)?;
    }
    inode.set_times(atime, mtime, now);
    Ok(0)
}

/// umask(mask): returns the old mask.
pub fn umask(a: &Args) -> SysResult {
    let old = current_process().umask.swap(a.u32(0) & 0o777, core::sync::atomic::Ordering::Relaxed);
    Ok(old as isize)
}
