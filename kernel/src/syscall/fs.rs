//! System calls on file descriptors.

use super::{Args, SysResult};
use crate::fs::{EventFd, Fd, IoctlArg, OpenFile, pipe};
use crate::proc::current_process;
use crate::uaccess::{UserPtr, UserSlice};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::fs::*;

/// Largest chunk moved between user memory and a file at once: big enough to make
/// copying cheap per byte, small enough that a kernel buffer of this size is not worth
/// noticing (a read of a large buffer from a stream allocates only this much).
const CHUNK: usize = 64 * 1024;

/// Most bytes one read, write or sendfile moves, as on Linux (`MAX_RW_COUNT`): larger
/// counts are cut to it.
const MAX_RW_COUNT: usize = 0x7fff_f000;

/// Between chunks of a long transfer: lets other threads run if this one's time is up
/// (kernel code is not preempted) and says whether to stop early because the process
/// is being killed.
fn must_stop() -> bool {
    crate::sched::preempt_point();
    current_process().is_exiting()
}

/// The open file behind `fd` in the running process.
pub fn file(fd: Fd) -> Result<Arc<OpenFile>, Errno> {
    current_process().fd_table().lock().get(fd)
}

/// Reads from `f` into the user buffer `buf`, at most its length.
fn read_to_user(f: &OpenFile, buf: UserSlice, at: Option<u64>) -> SysResult {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if let Some(off) = at {
        f.ops.read_at(off, &mut [])?; // ESPIPE for streams comes before EFAULT
    }
    let buf = buf.take(MAX_RW_COUNT);
    let len = buf.len();
    buf.check_writable()?;
    let mut done = 0;
    let mut kbuf = vec![0u8; len.min(CHUNK)];
    while done < len {
        if done > 0 && must_stop() {
            break;
        }
        let want = (len - done).min(CHUNK);
        let n = match at {
            Some(off) => f.ops.read_at(off + done as u64, &mut kbuf[..want]),
            None => f.ops.read(f, &mut kbuf[..want]),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        buf.skip(done).write(&kbuf[..n])?;
        done += n;
        // Only files that fill reads are read on; streams return what they have.
        if n < want || !f.ops.fills_reads() {
            break;
        }
    }
    if let Some(inode) = f.ops.inode() {
        super::durability::balance(inode);
    }
    Ok(done as isize)
}

/// Writes the user buffer `buf` to `f`.
fn write_from_user(f: &OpenFile, buf: UserSlice, at: Option<u64>) -> SysResult {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let buf = buf.take(MAX_RW_COUNT);
    let len = buf.len();
    let mut done = 0;
    while done < len || (len == 0 && done == 0) {
        if done > 0 && must_stop() {
            break;
        }
        let want = (len - done).min(CHUNK);
        let kbuf = buf.skip(done).take(want).read_all()?;
        let n = match at {
            Some(off) => f.ops.write_at(off + done as u64, &kbuf),
            None => f.ops.write(f, &kbuf),
        };
        match n {
            Ok(n) => done += n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
        if let Some(inode) = f.ops.inode() {
            super::durability::balance(inode);
        }
        if len == 0 || n.is_ok_and(|n| n < want) {
            break;
        }
    }
    Ok(done as isize)
}

/// read(fd, buf, count)
pub fn read(a: &Args) -> SysResult {
    read_to_user(&*file(a.fd(0))?, a.slice(1, 2), None)
}

/// write(fd, buf, count)
pub fn write(a: &Args) -> SysResult {
    write_from_user(&*file(a.fd(0))?, a.slice(1, 2), None)
}

/// pread64(fd, buf, count, offset)
pub fn pread64(a: &Args) -> SysResult {
    let off = a.u64(3);
    if (off as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    read_to_user(&*file(a.fd(0))?, a.slice(1, 2), Some(off))
}

/// pwrite64(fd, buf, count, offset)
pub fn pwrite64(a: &Args) -> SysResult {
    let off = a.u64(3);
    if (off as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    write_from_user(&*file(a.fd(0))?, a.slice(1, 2), Some(off))
}

/// The buffers of the `count` iovecs at `array`.
pub(super) fn iovecs(array: UserPtr<IoVec>, count: usize) -> Result<Vec<UserSlice>, Errno> {
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    (0..count).map(|i| array.nth(i).read().map(|v| UserSlice::new(v.base, v.len as usize))).collect()
}

/// Moves each of `iov` in turn with `one` (a read or a write of one buffer at an
/// optional offset), stopping at the first short transfer; an error after some bytes
/// moved reports those bytes.
fn vectored(iov: &[UserSlice], mut at: Option<u64>, one: impl Fn(UserSlice, Option<u64>) -> SysResult) -> SysResult {
    if at.is_some_and(|o| (o as i64) < 0) {
        return Err(Errno::EINVAL);
    }
    let mut total = 0isize;
    for v in iov {
        // All of them together move at most MAX_RW_COUNT bytes, as on Linux.
        let part = v.take(MAX_RW_COUNT - total as usize);
        let len = part.len();
        if len == 0 && !v.is_empty() {
            break;
        }
        let n = match one(part, at) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        at = at.map(|o| o + n as u64);
        if (n as usize) < len || must_stop() {
            break;
        }
    }
    Ok(total)
}

fn readv_at(f: &OpenFile, iov: &[UserSlice], at: Option<u64>) -> SysResult {
    vectored(iov, at, |buf, at| read_to_user(f, buf, at))
}

fn writev_at(f: &OpenFile, iov: &[UserSlice], at: Option<u64>) -> SysResult {
    vectored(iov, at, |buf, at| write_from_user(f, buf, at))
}

/// readv(fd, iov, iovcnt)
pub fn readv(a: &Args) -> SysResult {
    readv_at(&*file(a.fd(0))?, &iovecs(a.ptr(1), a.usize(2))?, None)
}

/// writev(fd, iov, iovcnt)
pub fn writev(a: &Args) -> SysResult {
    writev_at(&*file(a.fd(0))?, &iovecs(a.ptr(1), a.usize(2))?, None)
}

/// preadv(fd, iov, iovcnt, offset)
pub fn preadv(a: &Args) -> SysResult {
    readv_at(&*file(a.fd(0))?, &iovecs(a.ptr(1), a.usize(2))?, Some(a.u64(3)))
}

/// pwritev(fd, iov, iovcnt, offset)
pub fn pwritev(a: &Args) -> SysResult {
    writev_at(&*file(a.fd(0))?, &iovecs(a.ptr(1), a.usize(2))?, Some(a.u64(3)))
}

/// lseek(fd, offset, whence)
pub fn lseek(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    f.ops.seek(&f, a.u64(1) as i64, a.i32(2)).map(|o| o as isize)
}

/// close(fd)
pub fn close(a: &Args) -> SysResult {
    let process = current_process();
    let closed = process.fd_table().lock().remove(a.fd(0))?;
    drop(closed); // outside the table lock: closing a pipe end wakes its peer
    Ok(0)
}

/// dup(fd)
pub fn dup(a: &Args) -> SysResult {
    let table = current_process().fd_table();
    let mut t = table.lock();
    let f = t.get(a.fd(0))?;
    t.insert(f, false).map(isize::from)
}

/// dup2(old, new)
pub fn dup2(a: &Args) -> SysResult {
    let (old, new) = (a.fd(0), a.fd(1));
    let table = current_process().fd_table();
    let mut t = table.lock();
    let f = t.get(old)?;
    if old == new {
        return Ok(isize::from(new));
    }
    let replaced = t.insert_at(new, f, false)?;
    drop(t);
    drop(replaced);
    Ok(isize::from(new))
}

/// dup3(old, new, flags)
pub fn dup3(a: &Args) -> SysResult {
    let (old, new, flags) = (a.fd(0), a.fd(1), OpenFlags::from_bits_retain(a.u32(2)));
    if old == new || flags - OpenFlags::CLOEXEC != OpenFlags::empty() {
        return Err(Errno::EINVAL);
    }
    let table = current_process().fd_table();
    let mut t = table.lock();
    let f = t.get(old)?;
    let replaced = t.insert_at(new, f, flags.contains(OpenFlags::CLOEXEC))?;
    drop(t);
    drop(replaced);
    Ok(isize::from(new))
}

/// fcntl(fd, cmd, arg)
pub fn fcntl(a: &Args) -> SysResult {
    let (fd, cmd, arg) = (a.fd(0), a.i32(1), a.u64(2));
    let table = current_process().fd_table();
    let mut t = table.lock();
    let f = t.get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => t.insert_from(arg as usize, f, cmd == F_DUPFD_CLOEXEC).map(isize::from),
        F_GETFD => Ok(if t.cloexec(fd)? { FD_CLOEXEC as isize } else { 0 }),
        F_SETFD => t.set_cloexec(fd, arg as u32 & FD_CLOEXEC != 0).map(|()| 0),
        F_GETFL => Ok((f.flags() | O_LARGEFILE) as isize),
        F_SETFL => {
            f.set_flags(arg as u32);
            Ok(0)
        }
        F_GETLK => {
            // No locks are ever held against another process: report F_UNLCK.
            drop(t);
            let at: UserPtr<Flock> = UserPtr::new(arg);
            let mut lock = at.read()?;
            lock.l_type = F_UNLCK;
            at.write(&lock)?;
            Ok(0)
        }
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW | F_OFD_GETLK => Ok(0),
        F_GETPIPE_SZ | F_SETPIPE_SZ => Ok(65536),
        F_SETOWN | F_GETOWN | F_SETSIG | F_GETSIG => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// ioctl(fd, request, arg)
pub fn ioctl(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    let (request, arg) = (a.u32(1), IoctlArg::new(a.u64(2)));
    match request {
        berth_abi::ioctl::FIOCLEX | berth_abi::ioctl::FIONCLEX => {
            let table = current_process().fd_table();
            table.lock().set_cloexec(a.fd(0), request == berth_abi::ioctl::FIOCLEX)?;
            Ok(0)
        }
        // Both set a status flag, as `fcntl(F_SETFL)` would: on any file, as on Linux.
        // (O_ASYNC is kept, but no SIGIO is ever sent.)
        berth_abi::ioctl::FIONBIO | berth_abi::ioctl::FIOASYNC => {
            let on: i32 = arg.ptr().read()?;
            let flag = if request == berth_abi::ioctl::FIONBIO { O_NONBLOCK } else { O_ASYNC };
            f.set_flags(if on != 0 { f.flags() | flag } else { f.flags() & !flag });
            Ok(0)
        }
        _ => f.ops.ioctl(&f, request, arg),
    }
}

/// pipe2(fds, flags)
pub fn pipe2(fds: UserPtr<[i32; 2]>, flags: OpenFlags) -> SysResult {
    if !(OpenFlags::CLOEXEC | OpenFlags::NONBLOCK | OpenFlags::DIRECT).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let (r, w) = pipe(Some(current_process().sandbox.memory.clone()));
    let nonblock = (flags & OpenFlags::NONBLOCK).bits();
    let cloexec = flags.contains(OpenFlags::CLOEXEC);
    let table = current_process().fd_table();
    let (rfd, wfd) = {
        let mut t = table.lock();
        let rfd = t.insert(OpenFile::new(r, O_RDONLY | nonblock, alloc::string::String::new()), cloexec)?;
        match t.insert(OpenFile::new(w, O_WRONLY | nonblock, alloc::string::String::new()), cloexec) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let _ = t.remove(rfd);
                return Err(e);
            }
        }
    };
    if let Err(e) = fds.write(&[rfd.number(), wfd.number()]) {
        let mut t = table.lock();
        let _ = t.remove(rfd);
        let _ = t.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

/// eventfd2(initval, flags); eventfd(initval) is flags 0.
pub fn eventfd2(initial: u32, flags: u32) -> SysResult {
    use berth_abi::poll::EventFdFlags;
    let flags = EventFdFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let counter = EventFd::new(u64::from(initial), flags.contains(EventFdFlags::SEMAPHORE));
    let nonblock = if flags.contains(EventFdFlags::NONBLOCK) { O_NONBLOCK } else { 0 };
    let file = OpenFile::new(counter, O_RDWR | nonblock, alloc::string::String::new());
    let fd = current_process().fd_table().lock().insert(file, flags.contains(EventFdFlags::CLOEXEC))?;
    Ok(isize::from(fd))
}

/// fstat(fd, statbuf)
pub fn fstat(a: &Args) -> SysResult {
    let st = file(a.fd(0))?.ops.stat()?;
    a.ptr(1).write(&st)?;
    Ok(0)
}

/// ftruncate(fd, length)
pub fn ftruncate(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    let len = a.u64(1) as i64;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    f.ops.truncate(len as u64)?;
    Ok(0)
}

/// fallocate(fd, mode, offset, len): extends the file if needed (mode 0 only).
pub fn fallocate(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    if a.i32(1) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let end = a.u64(2).checked_add(a.u64(3)).ok_or(Errno::EFBIG)?;
    let size = f.ops.stat()?.st_size as u64;
    if end > size {
        f.ops.truncate(end)?;
    }
    Ok(0)
}

/// getdents64(fd, dirp, count)
pub fn getdents64(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    let count = a.usize(2).min(CHUNK);
    let mut buf = vec![0u8; count];
    let mut pos = f.offset.lock();
    let (n, next) = f.ops.read_dir(*pos, &mut buf)?;
    a.slice(1, 2).write(&buf[..n])?;
    *pos = next;
    Ok(n as isize)
}

/// sendfile(out_fd, in_fd, offset, count): copies from a file (at `*offset`, or its
/// own offset) to any writable file through a kernel buffer, a chunk at a time; stops
/// at end of file or a short write and accounts only for what was written.
pub fn sendfile(a: &Args) -> SysResult {
    let (out, input) = (file(a.fd(0))?, file(a.fd(1))?);
    if !input.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    let (offset_ptr, count): (UserPtr<i64>, _) = (a.ptr(2), a.usize(3).min(MAX_RW_COUNT));
    let mut off = match offset_ptr.read_unless_null()? {
        Some(off) => u64::try_from(off).map_err(|_| Errno::EINVAL)?,
        None => *input.offset.lock(),
    };
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0;
    while done < count {
        if done > 0 && must_stop() {
            break;
        }
        let want = (count - done).min(buf.len());
        let n = match input.ops.read_at(off, &mut buf[..want]) {
            Ok(n) => n,
            // Only files with offsets can be sent from.
            Err(Errno::ESPIPE) => return Err(Errno::EINVAL),
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let written = match out.ops.write(&out, &buf[..n]) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += written;
        off += written as u64;
        if written < n {
            break;
        }
    }
    if !offset_ptr.is_null() {
        offset_ptr.write(&(off as i64))?;
    } else {
        *input.offset.lock() = off;
    }
    Ok(done as isize)
}

/// flock(fd, operation): advisory locks are granted at once (one writer per
/// container file in practice).
pub fn flock(a: &Args) -> SysResult {
    file(a.fd(0))?;
    Ok(0)
}
