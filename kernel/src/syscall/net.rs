//! Socket system calls: decoding addresses, messages and options from user memory and
//! handing them to the socket (`net::SocketOps`).

use super::{Args, SysResult};
use crate::fs::{Fd, FileOps, OpenFile};
use crate::net::{Received, SockAddr, SocketOps, TcpSocket, UdpSocket, UnixSocket};
use crate::proc::current_process;
use crate::uaccess::{UserPtr, UserSlice};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::fs::{O_NONBLOCK, O_RDWR};
use berth_abi::net::*;
use core::net::{Ipv4Addr, SocketAddrV4};

/// Largest socket address read from user memory.
const MAX_ADDR_LEN: usize = 128;
/// Largest option value read or written.
const MAX_OPT_LEN: usize = 256;
/// Most iovecs in a message (Linux's UIO_MAXIOV).
const IOV_MAX: usize = 1024;

/// The open file behind `fd`, which must be a socket.
fn socket_file(fd: Fd) -> Result<Arc<OpenFile>, Errno> {
    let f = super::fs::file(fd)?;
    if crate::net::socket_of(f.ops.as_ref()).is_none() {
        return Err(Errno::ENOTSOCK);
    }
    Ok(f)
}

fn ops(f: &OpenFile) -> &dyn SocketOps {
    crate::net::socket_of(f.ops.as_ref()).expect("checked by socket_file")
}

/// The socket address in `len` bytes at `addr` (arguments as the calls take them).
fn addr_arg(addr: UserPtr<u8>, len: u32) -> UserSlice {
    addr.array(len as usize)
}

/// Reads a socket address.
fn read_addr(addr: UserSlice) -> Result<SockAddr, Errno> {
    let len = addr.len();
    if !(2..=MAX_ADDR_LEN).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let bytes = addr.read_all()?;
    let family = u16::from_ne_bytes([bytes[0], bytes[1]]);
    match family {
        AF_INET => {
            if len < size_of::<SockaddrIn>() {
                return Err(Errno::EINVAL);
            }
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            Ok(SockAddr::Inet(SocketAddrV4::new(ip, port)))
        }
        AF_UNIX => {
            let path = &bytes[SockaddrUn::PATH_OFFSET..];
            // A path ends at its NUL; an abstract name (leading NUL) takes all the bytes.
            let name = match path.first() {
                Some(0) => path.to_vec(),
                _ => path.iter().take_while(|&&b| b != 0).copied().collect(),
            };
            Ok(SockAddr::Unix(name))
        }
        AF_UNSPEC => Ok(SockAddr::Unspec),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// The bytes of a socket address as the kernel writes it.
fn addr_bytes(addr: &SockAddr) -> Vec<u8> {
    match addr {
        SockAddr::Inet(a) => {
            let s = SockaddrIn::new(a.ip().octets(), a.port());
            zerocopy::IntoBytes::as_bytes(&s).to_vec()
        }
        SockAddr::Unix(name) => {
            let mut v = AF_UNIX.to_ne_bytes().to_vec();
            v.extend_from_slice(name);
            if !name.is_empty() && name[0] != 0 {
                v.push(0);
            }
            v
        }
        SockAddr::Unspec => AF_UNSPEC.to_ne_bytes().to_vec(),
    }
}

/// Writes `addr` to `buf`, whose size is at `len_ptr`; the full size goes back there
/// (so a short buffer gets a truncated address and the size it needed).
fn write_addr(addr: &SockAddr, buf: UserPtr<u8>, len_ptr: UserPtr<i32>) -> Result<(), Errno> {
    if buf.is_null() || len_ptr.is_null() {
        return Ok(());
    }
    let room = len_ptr.read()?;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = addr_bytes(addr);
    let n = bytes.len().min(room as usize);
    buf.array(n).write(&bytes[..n])?;
    len_ptr.cast::<u32>().write(&(bytes.len() as u32))
}

fn install(file: Arc<dyn FileOps>, flags: SockFlags) -> Result<Fd, Errno> {
    let status = O_RDWR | if flags.contains(SockFlags::NONBLOCK) { O_NONBLOCK } else { 0 };
    let open = OpenFile::new(file, status, String::new());
    current_process().fd_table().lock().insert(open, flags.contains(SockFlags::CLOEXEC))
}

/// socket(domain, type, protocol)
pub fn socket(a: &Args) -> SysResult {
    let (domain, protocol) = (a.i32(0), a.i32(2));
    let (ty, flags) = split_socket_type(a.i32(1)).ok_or(Errno::EINVAL)?;
    let process = current_process();
    let ns = process.sandbox.net.clone();
    let file: Arc<dyn FileOps> = match (u16::try_from(domain).map_err(|_| Errno::EAFNOSUPPORT)?, ty) {
        (AF_INET, SOCK_STREAM) if protocol == 0 || protocol == IPPROTO_TCP => Arc::new(TcpSocket::new(ns)),
        (AF_INET, SOCK_DGRAM) if protocol == 0 || protocol == IPPROTO_UDP => Arc::new(UdpSocket::new(ns)),
        (AF_INET, SOCK_STREAM | SOCK_DGRAM) => return Err(Errno::EPROTONOSUPPORT),
        (AF_INET, SOCK_RAW) => return Err(Errno::EPERM),
        (AF_UNIX, SOCK_STREAM) if protocol == 0 => Arc::new(UnixSocket::new(ns, process.pid as i32)),
        (AF_UNIX, SOCK_STREAM) => return Err(Errno::EPROTONOSUPPORT),
        (AF_INET | AF_UNIX, _) => return Err(Errno::ESOCKTNOSUPPORT),
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    install(file, flags).map(isize::from)
}

/// socketpair(domain, type, protocol, sv)
pub fn socketpair(a: &Args) -> SysResult {
    let (domain, protocol, sv): (_, _, UserPtr<[i32; 2]>) = (a.i32(0), a.i32(2), a.ptr(3));
    // As on Linux, unknown flags are refused before anything else is looked at.
    let (ty, flags) = split_socket_type(a.i32(1)).ok_or(Errno::EINVAL)?;
    if domain != i32::from(AF_UNIX) {
        return Err(if domain == i32::from(AF_INET) { Errno::EOPNOTSUPP } else { Errno::EAFNOSUPPORT });
    }
    if ty != SOCK_STREAM {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    if protocol != 0 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let process = current_process();
    let (x, y) = UnixSocket::pair(process.sandbox.net.clone(), process.pid as i32);
    let first = install(Arc::new(x), flags)?;
    let second = match install(Arc::new(y), flags) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = process.fd_table().lock().remove(first);
            return Err(e);
        }
    };
    if let Err(e) = sv.write(&[first.number(), second.number()]) {
        let table = process.fd_table();
        let mut t = table.lock();
        let _ = t.remove(first);
        let _ = t.remove(second);
        return Err(e);
    }
    Ok(0)
}

/// bind(fd, addr, addrlen)
pub fn bind(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let addr = read_addr(addr_arg(a.ptr(1), a.u32(2)))?;
    ops(&f).bind(&addr).map(|()| 0)
}

/// listen(fd, backlog)
pub fn listen(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    ops(&f).listen(a.i32(1)).map(|()| 0)
}

/// accept4(fd, addr, addrlen, flags); accept is flags 0.
pub fn accept4(a: &Args, flags: i32) -> SysResult {
    let flags = SockFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let f = socket_file(a.fd(0))?;
    // Check the length pointer before a connection is taken off the queue.
    if a.ptr::<i32>(2).read_unless_null()?.is_some_and(|len| len < 0) {
        return Err(Errno::EINVAL);
    }
    let (conn, peer) = ops(&f).accept(f.nonblocking())?;
    let fd = install(conn, flags)?;
    write_addr(&peer, a.ptr(1), a.ptr(2))?;
    Ok(isize::from(fd))
}

/// connect(fd, addr, addrlen)
pub fn connect(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let addr = read_addr(addr_arg(a.ptr(1), a.u32(2)))?;
    ops(&f).connect(&addr, f.nonblocking()).map(|()| 0)
}

/// getsockname(fd, addr, addrlen)
pub fn getsockname(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let addr = ops(&f).local_addr()?;
    write_addr(&addr, a.ptr(1), a.ptr(2)).map(|()| 0)
}

/// getpeername(fd, addr, addrlen)
pub fn getpeername(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let addr = ops(&f).peer_addr()?;
    write_addr(&addr, a.ptr(1), a.ptr(2)).map(|()| 0)
}

/// shutdown(fd, how)
pub fn shutdown(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    ops(&f).shutdown(a.i32(1)).map(|()| 0)
}

/// sendto(fd, buf, len, flags, dest_addr, addrlen)
pub fn sendto(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let len = a.usize(2).min(crate::param::MAX_SOCKET_TRANSFER);
    let data = a.slice(1, 2).take(len).read_all()?;
    let to = a.ptr::<u8>(4);
    let to = if to.is_null() { None } else { Some(read_addr(addr_arg(to, a.u32(5)))?) };
    ops(&f).send(&data, to.as_ref(), MsgFlags::from_bits_retain(a.i32(3)), f.nonblocking()).map(|n| n as isize)
}

/// What `recvfrom`/`recvmsg` return: Linux returns the datagram's real length when the
/// caller passed MSG_TRUNC.
fn received_len(r: &Received, flags: MsgFlags) -> isize {
    if flags.contains(MsgFlags::TRUNC) { r.full_len as isize } else { r.len as isize }
}

/// recvfrom(fd, buf, len, flags, src_addr, addrlen)
pub fn recvfrom(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let (buf, flags) = (a.slice(1, 2).take(crate::param::MAX_SOCKET_RECEIVE), MsgFlags::from_bits_retain(a.i32(3)));
    buf.check_writable()?;
    let mut kbuf = vec![0u8; buf.len()];
    let r = ops(&f).recv(&mut kbuf, flags, f.nonblocking())?;
    buf.write(&kbuf[..r.len])?;
    if let Some(from) = &r.from {
        write_addr(from, a.ptr(4), a.ptr(5))?;
    } else {
        // A stream socket leaves the address alone and says so with length 0.
        a.ptr(5).write_unless_null(&0u32)?;
    }
    Ok(received_len(&r, flags))
}

/// The buffers a message header names.
fn message_buffers(msg: &MsgHdr) -> Result<Vec<UserSlice>, Errno> {
    if msg.msg_iovlen as usize > IOV_MAX {
        return Err(Errno::EMSGSIZE);
    }
    super::fs::iovecs(UserPtr::new(msg.msg_iov), msg.msg_iovlen as usize)
}

fn send_message(f: &OpenFile, msg: UserPtr<MsgHdr>, flags: MsgFlags) -> SysResult {
    let msg = msg.read()?;
    let iov = message_buffers(&msg)?;
    let mut data = Vec::new();
    for v in &iov {
        let part = v.take(crate::param::MAX_SOCKET_TRANSFER - data.len());
        data.extend_from_slice(&part.read_all()?);
        if data.len() == crate::param::MAX_SOCKET_TRANSFER {
            break;
        }
    }
    let name = UserPtr::<u8>::new(msg.msg_name);
    let to =
        if !name.is_null() && msg.msg_namelen != 0 { Some(read_addr(addr_arg(name, msg.msg_namelen))?) } else { None };
    ops(f).send(&data, to.as_ref(), flags, f.nonblocking()).map(|n| n as isize)
}

/// sendmsg(fd, msg, flags)
pub fn sendmsg(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    send_message(&f, a.ptr(1), MsgFlags::from_bits_retain(a.i32(2)))
}

fn recv_message(f: &OpenFile, msg_addr: UserPtr<MsgHdr>, flags: MsgFlags, nonblocking: bool) -> SysResult {
    let mut msg = msg_addr.read()?;
    let iov = message_buffers(&msg)?;
    let total = iov.iter().map(|v| v.len()).fold(0usize, usize::saturating_add).min(crate::param::MAX_SOCKET_RECEIVE);
    let mut kbuf = vec![0u8; total];
    let r = ops(f).recv(&mut kbuf, flags, nonblocking || f.nonblocking())?;
    let mut done = 0;
    for v in &iov {
        if done == r.len {
            break;
        }
        let n = v.len().min(r.len - done);
        v.write(&kbuf[done..done + n])?;
        done += n;
    }
    msg.msg_flags = if r.full_len > r.len { MSG_TRUNC } else { 0 };
    if msg.msg_name != 0 {
        match &r.from {
            Some(from) => {
                let bytes = addr_bytes(from);
                let name = addr_arg(UserPtr::new(msg.msg_name), msg.msg_namelen);
                name.write(&bytes[..bytes.len().min(name.len())])?;
                msg.msg_namelen = bytes.len() as u32;
            }
            None => msg.msg_namelen = 0,
        }
    }
    // No control messages are produced.
    msg.msg_controllen = 0;
    msg_addr.write(&msg)?;
    Ok(received_len(&r, flags))
}

/// recvmsg(fd, msg, flags)
pub fn recvmsg(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    recv_message(&f, a.ptr(1), MsgFlags::from_bits_retain(a.i32(2)), false)
}

/// sendmmsg(fd, msgvec, vlen, flags)
pub fn sendmmsg(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let (vec, count, flags) = (a.ptr::<MMsgHdr>(1), a.usize(2).min(IOV_MAX), MsgFlags::from_bits_retain(a.i32(3)));
    let mut sent = 0;
    for i in 0..count {
        let entry = vec.nth(i);
        match send_message(&f, entry.cast(), flags) {
            Ok(n) => message_length(entry).write(&(n as u32))?,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
        sent += 1;
    }
    Ok(sent as isize)
}

/// recvmmsg(fd, msgvec, vlen, flags, timeout): the timeout is not supported (NULL only).
pub fn recvmmsg(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let (vec, count, flags) = (a.ptr::<MMsgHdr>(1), a.usize(2).min(IOV_MAX), MsgFlags::from_bits_retain(a.i32(3)));
    if !a.ptr::<berth_abi::time::Timespec>(4).is_null() {
        return Err(Errno::EINVAL);
    }
    let mut got = 0;
    for i in 0..count {
        let entry = vec.nth(i);
        // After the first message, MSG_WAITFORONE stops waiting.
        let nonblocking = got > 0 && flags.contains(MsgFlags::WAITFORONE);
        match recv_message(&f, entry.cast(), flags - MsgFlags::WAITFORONE, nonblocking) {
            Ok(n) => message_length(entry).write(&(n as u32))?,
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
        got += 1;
    }
    Ok(got as isize)
}

/// Where `sendmmsg` and `recvmmsg` store the length of one message.
fn message_length(entry: UserPtr<MMsgHdr>) -> UserPtr<u32> {
    entry.field(core::mem::offset_of!(MMsgHdr, msg_len))
}

/// setsockopt(fd, level, name, value, len)
pub fn setsockopt(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let len = a.u32(4) as usize;
    if len > MAX_OPT_LEN {
        return Err(Errno::EINVAL);
    }
    let value = a.ptr::<u8>(3).array(len).read_all()?;
    ops(&f).set_option(a.i32(1), a.i32(2), &value).map(|()| 0)
}

/// getsockopt(fd, level, name, value, len)
pub fn getsockopt(a: &Args) -> SysResult {
    let f = socket_file(a.fd(0))?;
    let (buf, len_ptr) = (a.ptr::<u8>(3), a.ptr::<i32>(4));
    let room = len_ptr.read()?;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let value = ops(&f).get_option(a.i32(1), a.i32(2))?;
    let n = value.len().min(room as usize);
    buf.array(n).write(&value[..n])?;
    len_ptr.cast::<u32>().write(&(n as u32))?;
    Ok(0)
}
