//! Unix stream sockets (`AF_UNIX`, `SOCK_STREAM`) inside a container. A path name is a
//! socket file in the container's file system (bind creates it, unlink removes it, and
//! it outlives its socket, as on Linux); an abstract name (leading NUL) lives only in
//! the container's namespace. A connection is a [`LocalEnd`] pair, as for TCP over
//! loopback.

use super::local::{self, LocalEnd};
use super::namespace::{LocalAccept, Namespace, PendingLocal};
use super::socket::*;
use super::waker::SocketWaker;
use crate::fs::{FileOps, Ready};
use crate::sched::WaitQueue;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::net::*;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

enum State {
    Fresh,
    Listening(Arc<LocalAccept>),
    Connected { end: LocalEnd, peer: Vec<u8>, peer_pid: i32 },
}

struct Inner {
    state: State,
    name: Option<Vec<u8>>,
    /// The inode number of the socket file a path name created.
    file: Option<u64>,
    opts: CommonOptions,
    shut_rd: bool,
    shut_wr: bool,
}

/// A Unix stream socket.
pub struct UnixSocket {
    id: u64,
    ns: Arc<Namespace>,
    waker: Arc<SocketWaker>,
    /// The pid (in its container) of the process that made it, for `SO_PEERCRED`.
    pid: i32,
    inner: Mutex<Inner>,
}

impl UnixSocket {
    /// A new unconnected socket.
    pub fn new(ns: Arc<Namespace>, pid: i32) -> UnixSocket {
        UnixSocket::with_state(ns, pid, SocketWaker::new(), State::Fresh, None)
    }

    fn with_state(
        ns: Arc<Namespace>,
        pid: i32,
        waker: Arc<SocketWaker>,
        state: State,
        name: Option<Vec<u8>>,
    ) -> UnixSocket {
        UnixSocket {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ns,
            waker,
            pid,
            inner: Mutex::new(Inner {
                state,
                name,
                file: None,
                opts: CommonOptions::default(),
                shut_rd: false,
                shut_wr: false,
            }),
        }
    }

    /// Two connected sockets (`socketpair`).
    pub fn pair(ns: Arc<Namespace>, pid: i32) -> (UnixSocket, UnixSocket) {
        let (wa, wb) = (SocketWaker::new(), SocketWaker::new());
        let side = |waker: &Arc<SocketWaker>| local::Side { waker: waker.clone(), memory: ns.memory.clone() };
        let (a, b) = local::pair(side(&wa), side(&wb));
        let connected = |end, waker| {
            UnixSocket::with_state(
                ns.clone(),
                pid,
                waker,
                State::Connected { end, peer: Vec::new(), peer_pid: pid },
                None,
            )
        };
        (connected(a, wa), connected(b, wb))
    }

    fn try_accept(&self) -> Result<(UnixSocket, SockAddr), Errno> {
        let inner = self.inner.lock();
        let State::Listening(queue) = &inner.state else { return Err(Errno::EINVAL) };
        let pending = queue.pop().ok_or(Errno::EAGAIN)?;
        let peer_pid = pending.client_pid;
        let waker = pending.end.waker.clone();
        let state = State::Connected { end: pending.end, peer: Vec::new(), peer_pid };
        let socket = UnixSocket::with_state(self.ns.clone(), self.pid, waker, state, inner.name.clone());
        Ok((socket, SockAddr::Unix(Vec::new())))
    }

    fn try_send(&self, data: &[u8]) -> Result<usize, Errno> {
        let inner = self.inner.lock();
        match &inner.state {
            State::Connected { end, .. } if !inner.shut_wr => end.send(data),
            State::Connected { .. } => Err(Errno::EPIPE),
            _ => Err(Errno::ENOTCONN),
        }
    }

    fn try_recv(&self, buf: &mut [u8], peek: bool) -> Result<usize, Errno> {
        let inner = self.inner.lock();
        match &inner.state {
            State::Connected { .. } if inner.shut_rd => Ok(0),
            State::Connected { end, .. } => end.recv(buf, peek),
            _ => Err(Errno::EINVAL),
        }
    }

    fn send_all(&self, data: &[u8], flags: MsgFlags, nonblocking: bool) -> Result<usize, Errno> {
        let deadline = self.inner.lock().opts.send_deadline();
        let nonblocking = nonblocking || flags.contains(MsgFlags::DONTWAIT);
        let mut sent = 0;
        loop {
            match block_on(&self.waker, nonblocking, deadline, || self.try_send(&data[sent..])) {
                Ok(n) => {
                    sent += n;
                    if sent == data.len() || nonblocking {
                        return Ok(sent);
                    }
                }
                Err(_) if sent > 0 => return Ok(sent),
                Err(Errno::EPIPE) => {
                    if !flags.contains(MsgFlags::NOSIGNAL) {
                        crate::fs::raise_sigpipe();
                    }
                    return Err(Errno::EPIPE);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl SocketOps for UnixSocket {
    fn bind(&self, addr: &SockAddr) -> Result<(), Errno> {
        let SockAddr::Unix(name) = addr else { return Err(Errno::EINVAL) };
        if name.is_empty() {
            return Err(Errno::EINVAL);
        }
        let mut inner = self.inner.lock();
        if inner.name.is_some() {
            return Err(Errno::EINVAL);
        }
        // The name is reserved now; `listen` makes the queue take connections.
        let placeholder = LocalAccept::new(0, self.waker.clone());
        if name[0] == 0 {
            self.ns.bind_unix(name, &placeholder)?;
        } else {
            let ino = create_socket_file(name)?;
            self.ns.bind_unix_file(ino, &placeholder);
            inner.file = Some(ino);
        }
        inner.name = Some(name.clone());
        inner.state = State::Listening(placeholder);
        Ok(())
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        let backlog = (backlog.max(1) as usize).min(crate::param::MAX_BACKLOG);
        let inner = self.inner.lock();
        match &inner.state {
            State::Listening(queue) => {
                queue.set_backlog(backlog);
                Ok(())
            }
            State::Fresh => Err(Errno::EINVAL),
            State::Connected { .. } => Err(Errno::EINVAL),
        }
    }

    fn accept(&self, nonblocking: bool) -> Result<(Arc<dyn FileOps>, SockAddr), Errno> {
        let deadline = self.inner.lock().opts.recv_deadline();
        let (socket, addr) = block_on(&self.waker, nonblocking, deadline, || self.try_accept())?;
        Ok((Arc::new(socket), addr))
    }

    fn connect(&self, addr: &SockAddr, _nonblocking: bool) -> Result<(), Errno> {
        let SockAddr::Unix(name) = addr else { return Err(Errno::EINVAL) };
        let mut inner = self.inner.lock();
        match inner.state {
            State::Fresh => {}
            State::Connected { .. } => return Err(Errno::EISCONN),
            State::Listening(_) => return Err(Errno::EINVAL),
        }
        let listener = if name.first() == Some(&0) {
            self.ns.unix_listener(name)
        } else {
            self.ns.unix_file_listener(socket_file(name)?)
        };
        let listener = listener.filter(|l| l.is_listening()).ok_or(Errno::ECONNREFUSED)?;
        let (mine, theirs) = local::pair(
            local::Side { waker: self.waker.clone(), memory: self.ns.memory.clone() },
            local::Side { waker: SocketWaker::new(), memory: self.ns.memory.clone() },
        );
        let client = SockAddr::Unix(inner.name.clone().unwrap_or_default());
        let pending = PendingLocal { end: theirs, client, dialled: addr.clone(), client_pid: self.pid };
        // A full queue makes Linux's connect wait; berth asks the caller to try again.
        listener.push(pending).map_err(|_| Errno::EAGAIN)?;
        // The listener's pid is not known here; SO_PEERCRED on this side reports 0.
        inner.state = State::Connected { end: mine, peer: name.clone(), peer_pid: 0 };
        Ok(())
    }

    fn send(&self, data: &[u8], _to: Option<&SockAddr>, flags: MsgFlags, nonblocking: bool) -> Result<usize, Errno> {
        self.send_all(data, flags, nonblocking)
    }

    fn recv(&self, buf: &mut [u8], flags: MsgFlags, nonblocking: bool) -> Result<Received, Errno> {
        let deadline = self.inner.lock().opts.recv_deadline();
        let nonblocking = nonblocking || flags.contains(MsgFlags::DONTWAIT);
        let n = block_on(&self.waker, nonblocking, deadline, || self.try_recv(buf, flags.contains(MsgFlags::PEEK)))?;
        Ok(Received { len: n, full_len: n, from: None })
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mut inner = self.inner.lock();
        let State::Connected { end, .. } = &inner.state else { return Err(Errno::ENOTCONN) };
        if how != SHUT_WR {
            end.shutdown_read();
        }
        if how != SHUT_RD {
            end.shutdown_write();
        }
        inner.shut_rd |= how != SHUT_WR;
        inner.shut_wr |= how != SHUT_RD;
        Ok(())
    }

    fn local_addr(&self) -> Result<SockAddr, Errno> {
        Ok(SockAddr::Unix(self.inner.lock().name.clone().unwrap_or_default()))
    }

    fn peer_addr(&self) -> Result<SockAddr, Errno> {
        match &self.inner.lock().state {
            State::Connected { peer, .. } => Ok(SockAddr::Unix(peer.clone())),
            _ => Err(Errno::ENOTCONN),
        }
    }

    fn set_option(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        self.inner.lock().opts.set(name, value)
    }

    fn get_option(&self, level: i32, name: i32) -> Result<OptValue, Errno> {
        let inner = self.inner.lock();
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        match name {
            SO_TYPE => Ok(int_value(SOCK_STREAM)),
            SO_DOMAIN => Ok(int_value(i32::from(AF_UNIX))),
            SO_PROTOCOL => Ok(int_value(0)),
            SO_ERROR => Ok(int_value(0)),
            SO_ACCEPTCONN => Ok(int_value(i32::from(matches!(inner.state, State::Listening(_))))),
            SO_PEERCRED => match &inner.state {
                State::Connected { peer_pid, .. } => {
                    let mut v = peer_pid.to_ne_bytes().to_vec();
                    v.extend_from_slice(&[0; 8]); // uid 0, gid 0
                    Ok(v)
                }
                _ => Err(Errno::ENOTCONN),
            },
            _ => inner.opts.get(name, 2 * crate::param::LOCAL_SOCKET_CAPACITY, 2 * crate::param::LOCAL_SOCKET_CAPACITY),
        }
    }

    fn available(&self) -> usize {
        match &self.inner.lock().state {
            State::Connected { end, .. } => end.available(),
            _ => 0,
        }
    }
}

super::socket::socket_file_ops!(UnixSocket);

impl SocketFile for UnixSocket {
    const PREFIX: &'static str = "unix";

    fn id(&self) -> u64 {
        self.id
    }

    fn readiness(&self) -> Ready {
        let inner = self.inner.lock();
        match &inner.state {
            State::Fresh => Ready { hangup: true, ..Ready::default() },
            State::Listening(q) => Ready { read: q.has_ready(), ..Ready::default() },
            State::Connected { end, .. } => end.ready(inner.shut_rd),
        }
    }

    fn queue(&self) -> &WaitQueue {
        &self.waker.queue
    }

    fn write_data(&self, data: &[u8], nonblocking: bool) -> Result<usize, Errno> {
        self.send_all(data, MsgFlags::empty(), nonblocking)
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if let State::Listening(_) = &inner.state {
            match (&inner.name, inner.file) {
                (_, Some(ino)) => self.ns.unbind_unix_file(ino),
                (Some(name), None) => self.ns.unbind_unix(name),
                _ => {}
            }
        }
    }
}

/// A path name as the running process's file system sees it.
fn path_of(name: &[u8]) -> Result<&str, Errno> {
    core::str::from_utf8(name).map_err(|_| Errno::EINVAL)
}

/// Creates the socket file `name` (relative to the working directory); its inode
/// number. EADDRINUSE if something is there already.
fn create_socket_file(name: &[u8]) -> Result<u64, Errno> {
    let names = crate::fs::path_names().ok_or(Errno::EOPNOTSUPP)?;
    let (dir, leaf) = names.fs.lookup_parent(&names.cwd, path_of(name)?).map_err(crate::fs::fs_errno)?;
    let mode = berth_abi::fs::S_IFSOCK | (0o777 & !names.umask);
    match names.fs.mknod(&dir, &leaf, mode, 0) {
        Ok(inode) => Ok(inode.ino()),
        Err(berth_vfs::FsError::Exists) => Err(Errno::EADDRINUSE),
        Err(e) => Err(crate::fs::fs_errno(e)),
    }
}

/// The inode number of the socket file at `name`: ENOENT if there is none,
/// ECONNREFUSED if the file is not a socket.
fn socket_file(name: &[u8]) -> Result<u64, Errno> {
    let names = crate::fs::path_names().ok_or(Errno::EOPNOTSUPP)?;
    let inode = names.fs.lookup(&names.cwd, path_of(name)?, true).map_err(crate::fs::fs_errno)?;
    let meta = inode.metadata();
    if berth_vfs::FileType::from_mode(meta.mode) != berth_vfs::FileType::Socket {
        return Err(Errno::ECONNREFUSED);
    }
    Ok(meta.ino)
}
