//! What every socket offers the system calls, the addresses they take, the options
//! they share, and how they block.

use crate::fs::Ready;
use crate::sched::WaitQueue;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::net::*;
use core::net::{Ipv4Addr, SocketAddrV4};

/// A socket address as the system calls pass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr {
    /// An IPv4 address and port.
    Inet(SocketAddrV4),
    /// A Unix socket name: a path, or an abstract name (leading NUL kept), or empty
    /// for an unnamed socket.
    Unix(Vec<u8>),
    /// `AF_UNSPEC` (dissolves a datagram socket's association).
    Unspec,
}

impl SockAddr {
    /// The IPv4 address, or EAFNOSUPPORT.
    pub fn inet(&self) -> Result<SocketAddrV4, Errno> {
        match self {
            SockAddr::Inet(a) => Ok(*a),
            _ => Err(Errno::EAFNOSUPPORT),
        }
    }
}

/// Whether `addr` is a loopback address (127.0.0.0/8).
pub fn is_loopback(addr: Ipv4Addr) -> bool {
    addr.octets()[0] == 127
}

/// What `recv` returns besides the bytes: the sender and message flags.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The datagram's real length (larger than `len` when truncated).
    pub full_len: usize,
    /// Who sent it (datagram sockets).
    pub from: Option<SockAddr>,
}

/// An option's value as bytes (what `getsockopt` copies out).
pub type OptValue = Vec<u8>;

/// What sockets do beyond reading and writing.
pub trait SocketOps: Send + Sync {
    /// `bind`.
    fn bind(&self, addr: &SockAddr) -> Result<(), Errno>;
    /// `listen`.
    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        let _ = backlog;
        Err(Errno::EOPNOTSUPP)
    }
    /// `accept`: the new connection and its peer's address.
    fn accept(&self, nonblocking: bool) -> Result<(Arc<dyn crate::fs::FileOps>, SockAddr), Errno> {
        let _ = nonblocking;
        Err(Errno::EOPNOTSUPP)
    }
    /// `connect`.
    fn connect(&self, addr: &SockAddr, nonblocking: bool) -> Result<(), Errno>;
    /// `sendto`/`sendmsg`: sends from `data` (to `to`, for datagram sockets).
    fn send(&self, data: &[u8], to: Option<&SockAddr>, flags: MsgFlags, nonblocking: bool) -> Result<usize, Errno>;
    /// `recvfrom`/`recvmsg`.
    fn recv(&self, buf: &mut [u8], flags: MsgFlags, nonblocking: bool) -> Result<Received, Errno>;
    /// `shutdown`.
    fn shutdown(&self, how: i32) -> Result<(), Errno>;
    /// `getsockname`.
    fn local_addr(&self) -> Result<SockAddr, Errno>;
    /// `getpeername`.
    fn peer_addr(&self) -> Result<SockAddr, Errno>;
    /// `setsockopt`.
    fn set_option(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno>;
    /// `getsockopt`.
    fn get_option(&self, level: i32, name: i32) -> Result<OptValue, Errno>;
    /// Bytes waiting to be read (`FIONREAD`).
    fn available(&self) -> usize {
        0
    }
}

/// Options every socket keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommonOptions {
    /// SO_REUSEADDR.
    pub reuse_addr: bool,
    /// SO_REUSEPORT.
    pub reuse_port: bool,
    /// SO_KEEPALIVE.
    pub keepalive: bool,
    /// SO_BROADCAST.
    pub broadcast: bool,
    /// SO_RCVTIMEO, ns (0: none).
    pub recv_timeout_ns: u64,
    /// SO_SNDTIMEO, ns (0: none).
    pub send_timeout_ns: u64,
    /// SO_LINGER.
    pub linger: Option<i32>,
    /// SO_RCVBUF as set (0: default).
    pub rcvbuf: usize,
    /// SO_SNDBUF as set (0: default).
    pub sndbuf: usize,
}

/// Reads an `int` option value (Linux takes shorter values too, but not empty ones).
pub fn opt_int(value: &[u8]) -> Result<i32, Errno> {
    match value.len() {
        0 => Err(Errno::EINVAL),
        1..4 => Ok(i32::from(value[0])),
        _ => Ok(i32::from_ne_bytes([value[0], value[1], value[2], value[3]])),
    }
}

/// An `int` option value.
pub fn int_value(v: i32) -> OptValue {
    v.to_ne_bytes().to_vec()
}

fn timeval_ns(value: &[u8]) -> Result<u64, Errno> {
    if value.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = i64::from_ne_bytes(value[..8].try_into().map_err(|_| Errno::EINVAL)?);
    let usec = i64::from_ne_bytes(value[8..16].try_into().map_err(|_| Errno::EINVAL)?);
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(0);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
}

fn timeval_value(ns: u64) -> OptValue {
    let mut v = ((ns / 1_000_000_000) as i64).to_ne_bytes().to_vec();
    v.extend_from_slice(&((ns % 1_000_000_000 / 1000) as i64).to_ne_bytes());
    v
}

/// The kernel's size for a requested buffer size: Linux doubles the request (for its
/// bookkeeping) and reports the doubled value; berth keeps the same numbers.
fn buffer_size(value: &[u8]) -> Result<usize, Errno> {
    let v = opt_int(value)?.max(0) as usize;
    Ok(v.saturating_mul(2).clamp(super::tcp_socket::BufSizes::MIN, super::tcp_socket::BufSizes::MAX))
}

impl CommonOptions {
    /// Sets a SOL_SOCKET option these cover; ENOPROTOOPT for others.
    pub fn set(&mut self, name: i32, value: &[u8]) -> Result<(), Errno> {
        match name {
            SO_REUSEADDR => self.reuse_addr = opt_int(value)? != 0,
            SO_REUSEPORT => self.reuse_port = opt_int(value)? != 0,
            SO_KEEPALIVE => self.keepalive = opt_int(value)? != 0,
            SO_BROADCAST => self.broadcast = opt_int(value)? != 0,
            SO_RCVTIMEO => self.recv_timeout_ns = timeval_ns(value)?,
            SO_SNDTIMEO => self.send_timeout_ns = timeval_ns(value)?,
            SO_RCVBUF | SO_RCVBUFFORCE => self.rcvbuf = buffer_size(value)?,
            SO_SNDBUF | SO_SNDBUFFORCE => self.sndbuf = buffer_size(value)?,
            SO_LINGER => {
                if value.len() < 8 {
                    return Err(Errno::EINVAL);
                }
                let on = opt_int(&value[..4])?;
                let secs = opt_int(&value[4..8])?;
                self.linger = (on != 0).then_some(secs.max(0));
            }
            SO_DEBUG | SO_DONTROUTE | SO_OOBINLINE | SO_PRIORITY | SO_RCVLOWAT | SO_SNDLOWAT | SO_PASSCRED => {
                opt_int(value)?;
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    /// Reads a SOL_SOCKET option these cover, given the socket's defaults for the
    /// buffer sizes; ENOPROTOOPT for others.
    pub fn get(&self, name: i32, default_rcvbuf: usize, default_sndbuf: usize) -> Result<OptValue, Errno> {
        let flag = |b: bool| int_value(i32::from(b));
        Ok(match name {
            SO_REUSEADDR => flag(self.reuse_addr),
            SO_REUSEPORT => flag(self.reuse_port),
            SO_KEEPALIVE => flag(self.keepalive),
            SO_BROADCAST => flag(self.broadcast),
            SO_RCVTIMEO => timeval_value(self.recv_timeout_ns),
            SO_SNDTIMEO => timeval_value(self.send_timeout_ns),
            SO_RCVBUF => int_value(if self.rcvbuf == 0 { default_rcvbuf } else { self.rcvbuf } as i32),
            SO_SNDBUF => int_value(if self.sndbuf == 0 { default_sndbuf } else { self.sndbuf } as i32),
            SO_LINGER => {
                let mut v = int_value(i32::from(self.linger.is_some()));
                v.extend_from_slice(&self.linger.unwrap_or(0).to_ne_bytes());
                v
            }
            SO_DEBUG | SO_DONTROUTE | SO_OOBINLINE | SO_PRIORITY | SO_PASSCRED => int_value(0),
            SO_RCVLOWAT | SO_SNDLOWAT => int_value(1),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    /// The deadline for a receive starting now.
    pub fn recv_deadline(&self) -> Option<u64> {
        (self.recv_timeout_ns != 0).then(|| crate::time::now_ns().saturating_add(self.recv_timeout_ns))
    }

    /// The deadline for a send starting now.
    pub fn send_deadline(&self) -> Option<u64> {
        (self.send_timeout_ns != 0).then(|| crate::time::now_ns().saturating_add(self.send_timeout_ns))
    }
}

/// [`crate::fs::block_on`] on a socket's wait queue.
pub fn block_on<T>(
    waker: &super::waker::SocketWaker,
    nonblocking: bool,
    deadline: Option<u64>,
    attempt: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    crate::fs::block_on(&waker.queue, nonblocking, deadline, attempt)
}

/// What the one [`FileOps`](crate::fs::FileOps) implementation of every socket type needs of it (reading,
/// writing, `stat`, `FIONREAD`, `poll` and the `/proc` name work alike for all).
pub trait SocketFile: SocketOps {
    /// The prefix of its `/proc/PID/fd` name, `socket:[{PREFIX}{id}]`.
    const PREFIX: &'static str;
    /// Its number: the inode number `stat` gives and the one in its name.
    fn id(&self) -> u64;
    /// What `poll` and `epoll` see now.
    fn readiness(&self) -> Ready;
    /// The queue its waiters sleep on.
    fn queue(&self) -> &WaitQueue;
    /// `write(2)`: all of `data` on a stream socket, one datagram otherwise.
    fn write_data(&self, data: &[u8], nonblocking: bool) -> Result<usize, Errno>;
}

/// The one [`FileOps`](crate::fs::FileOps) implementation of the socket types, written once here and
/// instantiated by each type's file (a blanket impl over [`SocketFile`] is refused:
/// `FileOps` belongs to the file layer's crate).
macro_rules! socket_file_ops {
    ($socket:ty) => {
        impl berth_fs::FileOps for $socket {
            fn read(&self, file: &berth_fs::OpenFile, buf: &mut [u8]) -> Result<usize, berth_abi::Errno> {
                self.recv(buf, berth_abi::net::MsgFlags::empty(), file.nonblocking()).map(|r| r.len)
            }

            fn write(&self, file: &berth_fs::OpenFile, data: &[u8]) -> Result<usize, berth_abi::Errno> {
                self.write_data(data, file.nonblocking())
            }

            fn stat(&self) -> Result<berth_abi::fs::Stat, berth_abi::Errno> {
                Ok(berth_abi::fs::Stat {
                    st_mode: berth_abi::fs::S_IFSOCK | 0o777,
                    st_ino: self.id(),
                    st_blksize: 4096,
                    ..berth_abi::fs::Stat::default()
                })
            }

            fn ioctl(
                &self,
                _file: &berth_fs::OpenFile,
                request: u32,
                arg: berth_fs::IoctlArg,
            ) -> Result<isize, berth_abi::Errno> {
                if request == berth_abi::ioctl::FIONREAD {
                    arg.ptr().write(&(self.available() as i32))?;
                    return Ok(0);
                }
                Err(berth_abi::Errno::ENOTTY)
            }

            fn ready(&self) -> berth_fs::Ready {
                self.readiness()
            }

            fn wait_queue(&self) -> Option<&berth_sched::WaitQueue> {
                Some(self.queue())
            }

            fn describe(&self) -> alloc::string::String {
                alloc::format!("socket:[{}{}]", <$socket as $crate::socket::SocketFile>::PREFIX, self.id())
            }
        }
    };
}

pub(crate) use socket_file_ops;
