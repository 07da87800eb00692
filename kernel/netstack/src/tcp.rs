//! TCP sockets (`AF_INET`, `SOCK_STREAM`).
//!
//! A connection to the outside is a smoltcp socket on a machine port (an ephemeral one
//! for outgoing connections, a published one for incoming); a connection inside the
//! container's namespace (to 127.0.0.1, or to its own address) is a [`LocalEnd`] pair
//! and never touches smoltcp. A listener takes both kinds: connections from outside
//! through its published ports, connections from inside through its [`LocalAccept`].

use super::charge;
use super::listen::{ListenParams, ListenerId};
use super::local::{self, LocalEnd};
use super::namespace::{BindAddr, LocalAccept, Namespace, PendingLocal, PortClaim};
use super::network;
use super::socket::*;
use super::stack::{self, Stack};
use super::tcp_socket::{BufSizes, NetTcp};
use super::waker::SocketWaker;
use crate::fs::{FileOps, Ready};
use crate::sched::WaitQueue;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::net::*;
use berth_net::Protocol;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};
use smoltcp::socket::tcp::{self, ConnectError};
use smoltcp::time::Duration;
use spin::Mutex;

/// How long a connection attempt may go unanswered (Linux gives up after about two
/// minutes of SYN retransmissions).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(75);
pub use crate::param::MAX_BACKLOG;
/// `TCP_MAXSEG` as reported.
const MSS: i32 = 1460;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A connection to the outside.
struct NetConn {
    tcp: NetTcp,
    local: SocketAddrV4,
    peer: SocketAddrV4,
    /// The namespace port it was bound to before connecting, if it was.
    _claim: Option<PortClaim>,
    shut_rd: bool,
    shut_wr: bool,
    /// The reset has been reported once (later calls see end of file or EPIPE).
    reset_reported: bool,
    started_ns: u64,
}

/// A connection inside the namespace.
/// A connection's way into a namespace of this machine.
struct Inside {
    /// The namespace whose listener takes it.
    target: Arc<Namespace>,
    /// The listener's port.
    port: u16,
    /// The address the connection comes from.
    source: Ipv4Addr,
    /// It comes from another container over a network they share.
    network: bool,
}

struct LocalConn {
    end: LocalEnd,
    local: SocketAddrV4,
    peer: SocketAddrV4,
    _claim: Option<PortClaim>,
    shut_rd: bool,
    shut_wr: bool,
}

enum Conn {
    Net(NetConn),
    Local(LocalConn),
}

struct Listening {
    claim: PortClaim,
    net: Option<ListenerId>,
    local: Arc<LocalAccept>,
}

enum State {
    Unbound,
    Bound(PortClaim),
    Listening(Listening),
    Connecting(NetConn),
    Connected(Conn),
}

#[derive(Clone, Copy)]
struct TcpOptions {
    common: CommonOptions,
    nodelay: bool,
    keepidle: i32,
    keepintvl: i32,
    keepcnt: i32,
    cork: bool,
    ttl: i32,
    tos: i32,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            common: CommonOptions::default(),
            nodelay: false,
            keepidle: 7200,
            keepintvl: 75,
            keepcnt: 9,
            cork: false,
            ttl: 64,
            tos: 0,
        }
    }
}

impl TcpOptions {
    fn sizes(&self) -> BufSizes {
        let d = BufSizes::TCP_DEFAULT;
        let pick = |set: usize, default: usize| if set == 0 { default } else { set };
        BufSizes { rx: pick(self.common.rcvbuf, d.rx), tx: pick(self.common.sndbuf, d.tx) }
    }

    /// Applies what smoltcp implements to a connection.
    fn apply(&self, socket: &mut tcp::Socket<'static>) {
        socket.set_nagle_enabled(!self.nodelay && !self.cork);
        let idle = Duration::from_secs(self.keepidle.max(1) as u64);
        socket.set_keep_alive(self.common.keepalive.then_some(idle));
        socket.set_hop_limit(Some(self.ttl.clamp(1, 255) as u8));
    }
}

struct Inner {
    state: State,
    opts: TcpOptions,
    /// The pending error `SO_ERROR` reports (a failed non-blocking connect).
    error: Option<Errno>,
    /// A non-blocking connect succeeded and no `connect` call has reported it yet (the
    /// next one returns 0, as on Linux; later ones EISCONN).
    connect_unreported: bool,
}

/// A TCP socket.
pub struct TcpSocket {
    id: u64,
    ns: Arc<Namespace>,
    waker: Arc<SocketWaker>,
    inner: Mutex<Inner>,
}

fn ipv4(addr: SocketAddrV4) -> SockAddr {
    SockAddr::Inet(addr)
}

fn endpoint_v4(e: smoltcp::wire::IpEndpoint) -> SocketAddrV4 {
    match e.addr {
        smoltcp::wire::IpAddress::Ipv4(a) => SocketAddrV4::new(a, e.port),
    }
}

impl TcpSocket {
    /// A new, unbound socket in `ns`.
    pub fn new(ns: Arc<Namespace>) -> TcpSocket {
        TcpSocket::with_state(ns, SocketWaker::new(), State::Unbound, TcpOptions::default())
    }

    fn with_state(ns: Arc<Namespace>, waker: Arc<SocketWaker>, state: State, opts: TcpOptions) -> TcpSocket {
        TcpSocket {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ns,
            waker,
            inner: Mutex::new(Inner { state, opts, error: None, connect_unreported: false }),
        }
    }

    /// The smoltcp socket of a connection, with this socket's waker registered so
    /// that the next change wakes its waiters.
    fn net<'a>(&self, s: &'a mut Stack, conn: &NetConn) -> &'a mut tcp::Socket<'static> {
        let socket = conn.tcp.get(&mut s.sockets);
        let waker = self.waker.waker();
        socket.register_recv_waker(&waker);
        socket.register_send_waker(&waker);
        socket
    }

    /// Moves a connection attempt on if smoltcp has finished it: to `Connected`, or
    /// back to `Unbound` with the error recorded.
    fn refresh(&self, inner: &mut Inner, s: &mut Stack) {
        let State::Connecting(conn) = &inner.state else { return };
        let socket = self.net(s, conn);
        let failed = match socket.state() {
            tcp::State::SynSent | tcp::State::SynReceived => return,
            tcp::State::Closed | tcp::State::TimeWait => true,
            _ => false,
        };
        let State::Connecting(conn) = core::mem::replace(&mut inner.state, State::Unbound) else { unreachable!() };
        if failed {
            let waited = crate::time::now_ns().saturating_sub(conn.started_ns);
            let timed_out = waited >= CONNECT_TIMEOUT.total_micros() * 1000;
            inner.error = Some(if timed_out { Errno::ETIMEDOUT } else { Errno::ECONNREFUSED });
            conn.tcp.remove(&mut s.sockets, &mut s.ports);
        } else {
            let opts = inner.opts;
            let socket = self.net(s, &conn);
            opts.apply(socket);
            socket.set_timeout(None);
            inner.state = State::Connected(Conn::Net(conn));
        }
    }

    fn bind_addr(&self, ip: Ipv4Addr) -> Result<BindAddr, Errno> {
        if ip.is_unspecified() {
            Ok(BindAddr::Any)
        } else if is_loopback(ip) {
            Ok(BindAddr::Loopback)
        } else if stack::with(|s| s.address()).flatten() == Some(ip) {
            Ok(BindAddr::Machine)
        } else if network::is_own(&self.ns, ip) {
            // Its address on a network: taken as every address (the namespace keeps
            // one binding per port).
            Ok(BindAddr::Any)
        } else {
            Err(Errno::EADDRNOTAVAIL)
        }
    }

    /// Connects inside the namespace `to.target` to its listener on `to.port`.
    fn connect_local(&self, inner: &mut Inner, dst: SocketAddrV4, to: Inside) -> Result<(), Errno> {
        let Inside { target, port, source, network } = to;
        let listener = target.local_listener(port, network).ok_or(Errno::ECONNREFUSED)?;
        let (claim, was_bound) = match core::mem::replace(&mut inner.state, State::Unbound) {
            State::Bound(claim) => (claim, true),
            _ => (self.ns.claim(Protocol::Tcp, 0, BindAddr::Loopback)?, false),
        };
        let local = SocketAddrV4::new(source, claim.port);
        let (mine, theirs) = local::pair(
            local::Side { waker: self.waker.clone(), memory: self.ns.memory.clone() },
            local::Side { waker: SocketWaker::new(), memory: target.memory.clone() },
        );
        if let Err(e) =
            listener.push(PendingLocal { end: theirs, client: ipv4(local), dialled: ipv4(dst), client_pid: 0 })
        {
            if was_bound {
                inner.state = State::Bound(claim);
            }
            return Err(e);
        }
        inner.state = State::Connected(Conn::Local(LocalConn {
            end: mine,
            local,
            peer: dst,
            _claim: Some(claim),
            shut_rd: false,
            shut_wr: false,
        }));
        Ok(())
    }

    fn connect_external(&self, inner: &mut Inner, dst: SocketAddrV4) -> Result<(), Errno> {
        let mut claim = match core::mem::replace(&mut inner.state, State::Unbound) {
            State::Bound(claim) => Some(claim),
            _ => None,
        };
        let opts = inner.opts;
        let memory = self.ns.memory.clone();
        let conn = stack::with(|s| -> Result<NetConn, Errno> {
            let me = s.address().ok_or(Errno::ENETUNREACH)?;
            let charge = charge::charge(memory.as_ref(), opts.sizes().total())?;
            let port = s.ports.take_ephemeral().ok_or(Errno::EADDRNOTAVAIL)?;
            let mut tcp = match NetTcp::create(&mut s.sockets, opts.sizes(), charge) {
                Ok(t) => t,
                Err(e) => {
                    s.ports.release(port);
                    return Err(e);
                }
            };
            tcp.owned_port = Some(port);
            let socket = tcp.get(&mut s.sockets);
            opts.apply(socket);
            socket.set_timeout(Some(CONNECT_TIMEOUT));
            let result = socket.connect(s.iface.context(), (*dst.ip(), dst.port()), port);
            if let Err(e) = result {
                tcp.remove(&mut s.sockets, &mut s.ports);
                return Err(match e {
                    ConnectError::Unaddressable => Errno::ENETUNREACH,
                    ConnectError::InvalidState => Errno::EISCONN,
                });
            }
            let local_port = claim.as_ref().map_or(port, |c| c.port);
            let conn = NetConn {
                tcp,
                local: SocketAddrV4::new(me, local_port),
                peer: dst,
                _claim: claim.take(),
                shut_rd: false,
                shut_wr: false,
                reset_reported: false,
                started_ns: crate::time::now_ns(),
            };
            self.net(s, &conn);
            s.poll();
            Ok(conn)
        })
        .unwrap_or(Err(Errno::ENETUNREACH));
        match conn {
            Ok(conn) => {
                inner.state = State::Connecting(conn);
                stack::poke();
                Ok(())
            }
            Err(e) => {
                // A failed attempt leaves the socket bound where it was, as on Linux.
                if let Some(claim) = claim {
                    inner.state = State::Bound(claim);
                }
                Err(e)
            }
        }
    }

    /// Where the connection to `dst` goes: inside which namespace, or out (`None`);
    /// EHOSTUNREACH for a container on no network this one is on.
    fn route(&self, dst: SocketAddrV4) -> Result<Option<Inside>, Errno> {
        // Over loopback and to the machine's address, the connection comes from the
        // address it goes to (127.0.0.1 to 127.0.0.1).
        let inside = |target, port| Inside { target, port, source: *dst.ip(), network: false };
        if is_loopback(*dst.ip()) {
            return Ok(Some(inside(self.ns.clone(), dst.port())));
        }
        if let Some(route) = network::route(&self.ns, *dst.ip()) {
            let (target, source) = route?;
            return Ok(Some(Inside { target, port: dst.port(), source, network: true }));
        }
        if stack::with(|s| s.address()).flatten() != Some(*dst.ip()) {
            return Ok(None);
        }
        // The machine's own address: a published port leads into its container;
        // otherwise this namespace's own listener answers.
        Ok(Some(match super::namespace::published_target(Protocol::Tcp, dst.port()) {
            Some((target, port)) => inside(target, port),
            None => inside(self.ns.clone(), dst.port()),
        }))
    }

    fn try_connect_progress(&self) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        stack::with(|s| self.refresh(&mut inner, s));
        match &inner.state {
            State::Connecting(_) => Err(Errno::EAGAIN),
            State::Connected(_) => Ok(()),
            _ => Err(inner.error.take().unwrap_or(Errno::ECONNREFUSED)),
        }
    }

    fn try_accept(&self) -> Result<(TcpSocket, SockAddr), Errno> {
        let inner = self.inner.lock();
        let State::Listening(l) = &inner.state else { return Err(Errno::EINVAL) };
        let opts = TcpOptions { common: CommonOptions { ..inner.opts.common }, ..inner.opts };
        if let Some(p) = l.local.pop() {
            let (client, dialled) = (p.client.inet()?, p.dialled.inet()?);
            let waker = p.end.waker.clone();
            let conn =
                LocalConn { end: p.end, local: dialled, peer: client, _claim: None, shut_rd: false, shut_wr: false };
            let socket = TcpSocket::with_state(self.ns.clone(), waker, State::Connected(Conn::Local(conn)), opts);
            return Ok((socket, ipv4(client)));
        }
        let Some(id) = l.net else { return Err(Errno::EAGAIN) };
        let ns = self.ns.clone();
        stack::with(|s| {
            let tcp = s.listeners.accept(id).ok_or(Errno::EAGAIN)?;
            let socket = tcp.get(&mut s.sockets);
            let peer = socket.remote_endpoint().map(endpoint_v4).unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
            let local = socket.local_endpoint().map(endpoint_v4).unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
            opts.apply(socket);
            // The program sees its own port, not the machine port it was published on.
            let port = ns.container_port(Protocol::Tcp, local.port()).filter(|_| !ns.machine).unwrap_or(local.port());
            let conn = NetConn {
                tcp,
                local: SocketAddrV4::new(*local.ip(), port),
                peer,
                _claim: None,
                shut_rd: false,
                shut_wr: false,
                reset_reported: false,
                started_ns: crate::time::now_ns(),
            };
            let accepted = TcpSocket::with_state(ns, SocketWaker::new(), State::Connected(Conn::Net(conn)), opts);
            if let State::Connected(Conn::Net(c)) = &accepted.inner.lock().state {
                accepted.net(s, c);
            }
            Ok((accepted, ipv4(peer)))
        })
        .unwrap_or(Err(Errno::EAGAIN))
    }

    fn try_send(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut inner = self.inner.lock();
        match &mut inner.state {
            State::Connected(Conn::Net(c)) => {
                if c.shut_wr {
                    return Err(Errno::EPIPE);
                }
                stack::with(|s| {
                    let socket = self.net(s, c);
                    if socket.state() == tcp::State::Closed {
                        return Err(if core::mem::replace(&mut c.reset_reported, true) {
                            Errno::EPIPE
                        } else {
                            Errno::ECONNRESET
                        });
                    }
                    if !socket.may_send() {
                        return Err(Errno::EPIPE);
                    }
                    match socket.send_slice(data) {
                        Ok(0) if !data.is_empty() => Err(Errno::EAGAIN),
                        Ok(n) => Ok(n),
                        Err(_) => Err(Errno::EPIPE),
                    }
                })
                .unwrap_or(Err(Errno::EPIPE))
            }
            State::Connected(Conn::Local(c)) => {
                if c.shut_wr {
                    return Err(Errno::EPIPE);
                }
                c.end.send(data)
            }
            State::Connecting(_) => {
                stack::with(|s| self.refresh(&mut inner, s));
                match inner.state {
                    State::Connecting(_) | State::Connected(_) => Err(Errno::EAGAIN),
                    _ => Err(inner.error.take().unwrap_or(Errno::EPIPE)),
                }
            }
            _ => Err(Errno::EPIPE),
        }
    }

    fn try_recv(&self, buf: &mut [u8], peek: bool) -> Result<usize, Errno> {
        let mut inner = self.inner.lock();
        match &mut inner.state {
            State::Connected(Conn::Net(c)) => {
                if c.shut_rd {
                    return Ok(0);
                }
                stack::with(|s| {
                    let socket = self.net(s, c);
                    let result = if peek { socket.peek_slice(buf) } else { socket.recv_slice(buf) };
                    match result {
                        Ok(0) if !buf.is_empty() => Err(Errno::EAGAIN),
                        Ok(n) => Ok(n),
                        Err(tcp::RecvError::Finished) => Ok(0),
                        Err(tcp::RecvError::InvalidState) => {
                            if socket.state() == tcp::State::Closed && !core::mem::replace(&mut c.reset_reported, true)
                            {
                                Err(Errno::ECONNRESET)
                            } else {
                                Ok(0)
                            }
                        }
                    }
                })
                .unwrap_or(Ok(0))
            }
            State::Connected(Conn::Local(c)) => {
                if c.shut_rd {
                    return Ok(0);
                }
                c.end.recv(buf, peek)
            }
            State::Connecting(_) => {
                stack::with(|s| self.refresh(&mut inner, s));
                match inner.state {
                    State::Connecting(_) | State::Connected(_) => Err(Errno::EAGAIN),
                    _ => Err(inner.error.take().unwrap_or(Errno::ENOTCONN)),
                }
            }
            _ => Err(Errno::ENOTCONN),
        }
    }

    fn send_all(&self, data: &[u8], flags: MsgFlags, nonblocking: bool) -> Result<usize, Errno> {
        let deadline = self.inner.lock().opts.common.send_deadline();
        let nonblocking = nonblocking || flags.contains(MsgFlags::DONTWAIT);
        let mut sent = 0;
        loop {
            let step = block_on(&self.waker, nonblocking, deadline, || self.try_send(&data[sent..]));
            match step {
                Ok(n) => {
                    sent += n;
                    self.ns.count_tx(n);
                    stack::with(|s| s.poll());
                    if sent == data.len() || nonblocking {
                        return Ok(sent);
                    }
                }
                Err(e) if sent > 0 => {
                    let _ = e;
                    return Ok(sent);
                }
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

impl SocketOps for TcpSocket {
    fn bind(&self, addr: &SockAddr) -> Result<(), Errno> {
        let addr = addr.inet()?;
        let bind_addr = self.bind_addr(*addr.ip())?;
        let mut inner = self.inner.lock();
        if !matches!(inner.state, State::Unbound) {
            return Err(Errno::EINVAL);
        }
        inner.state = State::Bound(self.ns.claim(Protocol::Tcp, addr.port(), bind_addr)?);
        Ok(())
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        let backlog = (backlog.max(1) as usize).min(crate::param::MAX_BACKLOG);
        let mut inner = self.inner.lock();
        let claim = match core::mem::replace(&mut inner.state, State::Unbound) {
            State::Bound(claim) => claim,
            State::Unbound => self.ns.claim(Protocol::Tcp, 0, BindAddr::Any)?,
            State::Listening(l) => {
                l.local.set_backlog(backlog);
                if let Some(id) = l.net {
                    stack::with(|s| s.listeners.set_backlog(id, backlog));
                }
                inner.state = State::Listening(l);
                return Ok(());
            }
            other => {
                inner.state = other;
                return Err(Errno::EINVAL);
            }
        };
        let local = LocalAccept::new(backlog, self.waker.clone());
        claim.set_listener(&local);
        let ports = self.ns.external_ports(Protocol::Tcp, claim.port, claim.addr);
        let mut net = None;
        if !ports.is_empty() {
            let params = ListenParams {
                ports,
                backlog,
                sizes: inner.opts.sizes(),
                memory: self.ns.memory.clone(),
                waker: self.waker.clone(),
            };
            match stack::with(|s| s.listeners.open(&mut s.sockets, params)) {
                Some(Ok(id)) => net = Some(id),
                Some(Err(e)) => {
                    inner.state = State::Bound(claim);
                    return Err(e);
                }
                None => {} // no network: only connections from inside
            }
        }
        inner.state = State::Listening(Listening { claim, net, local });
        Ok(())
    }

    fn accept(&self, nonblocking: bool) -> Result<(Arc<dyn FileOps>, SockAddr), Errno> {
        let deadline = self.inner.lock().opts.common.recv_deadline();
        let (socket, peer) = block_on(&self.waker, nonblocking, deadline, || self.try_accept())?;
        stack::with(|s| s.poll());
        Ok((Arc::new(socket), peer))
    }

    fn connect(&self, addr: &SockAddr, nonblocking: bool) -> Result<(), Errno> {
        let dst = match addr {
            SockAddr::Inet(a) => *a,
            SockAddr::Unspec => return Err(Errno::EAFNOSUPPORT),
            SockAddr::Unix(_) => return Err(Errno::EAFNOSUPPORT),
        };
        {
            let mut guard = self.inner.lock();
            let inner = &mut *guard;
            stack::with(|s| self.refresh(inner, s));
            if let Some(e) = inner.error.take() {
                return Err(e);
            }
            match &inner.state {
                State::Connected(_) if core::mem::take(&mut inner.connect_unreported) => return Ok(()),
                State::Connected(_) => return Err(Errno::EISCONN),
                State::Connecting(_) if nonblocking => return Err(Errno::EALREADY),
                State::Connecting(_) => {}
                State::Listening(_) => return Err(Errno::EISCONN),
                State::Unbound | State::Bound(_) => {
                    if dst.port() == 0 {
                        return Err(Errno::ECONNREFUSED);
                    }
                    match self.route(dst)? {
                        Some(to) => return self.connect_local(inner, dst, to),
                        None => self.connect_external(inner, dst)?,
                    }
                }
            }
        }
        if nonblocking {
            self.inner.lock().connect_unreported = true;
            return Err(Errno::EINPROGRESS);
        }
        let deadline = self.inner.lock().opts.common.send_deadline();
        match block_on(&self.waker, false, deadline, || self.try_connect_progress()) {
            // A timeout set with SO_SNDTIMEO leaves the attempt going, as Linux does.
            Err(Errno::EAGAIN) => Err(Errno::EINPROGRESS),
            other => other,
        }
    }

    fn send(&self, data: &[u8], to: Option<&SockAddr>, flags: MsgFlags, nonblocking: bool) -> Result<usize, Errno> {
        let _ = to; // ignored on connected streams, as Linux does
        self.send_all(data, flags, nonblocking)
    }

    fn recv(&self, buf: &mut [u8], flags: MsgFlags, nonblocking: bool) -> Result<Received, Errno> {
        let deadline = self.inner.lock().opts.common.recv_deadline();
        let nonblocking = nonblocking || flags.contains(MsgFlags::DONTWAIT);
        let peek = flags.contains(MsgFlags::PEEK);
        let mut got = block_on(&self.waker, nonblocking, deadline, || self.try_recv(buf, peek))?;
        if flags.contains(MsgFlags::WAITALL) && !peek {
            while got > 0 && got < buf.len() {
                match block_on(&self.waker, false, deadline, || self.try_recv(&mut buf[got..], false)) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
        }
        stack::with(|s| s.poll());
        if !peek {
            self.ns.count_rx(got);
        }
        Ok(Received { len: got, full_len: got, from: None })
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let (rd, wr) = (how != SHUT_WR, how != SHUT_RD);
        let mut inner = self.inner.lock();
        match &mut inner.state {
            State::Connected(Conn::Net(c)) => {
                c.shut_rd |= rd;
                if wr && !c.shut_wr {
                    c.shut_wr = true;
                    stack::with(|s| {
                        self.net(s, c).close();
                        s.poll();
                    });
                }
            }
            State::Connected(Conn::Local(c)) => {
                if rd {
                    c.shut_rd = true;
                    c.end.shutdown_read();
                }
                if wr {
                    c.shut_wr = true;
                    c.end.shutdown_write();
                }
            }
            State::Listening(_) => {}
            _ => return Err(Errno::ENOTCONN),
        }
        drop(inner);
        self.waker.queue.wake_all();
        Ok(())
    }

    fn local_addr(&self) -> Result<SockAddr, Errno> {
        let inner = self.inner.lock();
        let machine = || stack::with(|s| s.address()).flatten();
        Ok(ipv4(match &inner.state {
            State::Unbound => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            State::Bound(c) | State::Listening(Listening { claim: c, .. }) => {
                SocketAddrV4::new(c.addr.shown(machine()), c.port)
            }
            State::Connecting(c) | State::Connected(Conn::Net(c)) => c.local,
            State::Connected(Conn::Local(c)) => c.local,
        }))
    }

    fn peer_addr(&self) -> Result<SockAddr, Errno> {
        match &self.inner.lock().state {
            State::Connected(Conn::Net(c)) => Ok(ipv4(c.peer)),
            State::Connected(Conn::Local(c)) => Ok(ipv4(c.peer)),
            _ => Err(Errno::ENOTCONN),
        }
    }

    fn set_option(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        match (level, name) {
            (SOL_SOCKET, _) => inner.opts.common.set(name, value)?,
            (IPPROTO_TCP, TCP_NODELAY) => inner.opts.nodelay = opt_int(value)? != 0,
            (IPPROTO_TCP, TCP_CORK) => inner.opts.cork = opt_int(value)? != 0,
            (IPPROTO_TCP, TCP_KEEPIDLE) => inner.opts.keepidle = positive(opt_int(value)?)?,
            (IPPROTO_TCP, TCP_KEEPINTVL) => inner.opts.keepintvl = positive(opt_int(value)?)?,
            (IPPROTO_TCP, TCP_KEEPCNT) => inner.opts.keepcnt = positive(opt_int(value)?)?,
            (IPPROTO_TCP, TCP_QUICKACK | TCP_DEFER_ACCEPT | TCP_MAXSEG | TCP_LINGER2 | TCP_USER_TIMEOUT) => {
                opt_int(value)?;
            }
            (IPPROTO_IP, 1) => inner.opts.tos = opt_int(value)?, // IP_TOS
            (IPPROTO_IP, 2) => inner.opts.ttl = opt_int(value)?, // IP_TTL
            _ => return Err(Errno::ENOPROTOOPT),
        }
        let opts = inner.opts;
        if let State::Connected(Conn::Net(c)) = &inner.state {
            stack::with(|s| opts.apply(self.net(s, c)));
        }
        Ok(())
    }

    fn get_option(&self, level: i32, name: i32) -> Result<OptValue, Errno> {
        let mut inner = self.inner.lock();
        let sizes = inner.opts.sizes();
        let o = inner.opts;
        Ok(match (level, name) {
            (SOL_SOCKET, SO_TYPE) => int_value(SOCK_STREAM),
            (SOL_SOCKET, SO_DOMAIN) => int_value(i32::from(AF_INET)),
            (SOL_SOCKET, SO_PROTOCOL) => int_value(IPPROTO_TCP),
            (SOL_SOCKET, SO_ACCEPTCONN) => int_value(i32::from(matches!(inner.state, State::Listening(_)))),
            (SOL_SOCKET, SO_ERROR) => {
                stack::with(|s| self.refresh(&mut inner, s));
                int_value(inner.error.take().map_or(0, |e| e as i32))
            }
            (SOL_SOCKET, _) => o.common.get(name, sizes.rx, sizes.tx)?,
            (IPPROTO_TCP, TCP_NODELAY) => int_value(i32::from(o.nodelay)),
            (IPPROTO_TCP, TCP_CORK) => int_value(i32::from(o.cork)),
            (IPPROTO_TCP, TCP_KEEPIDLE) => int_value(o.keepidle),
            (IPPROTO_TCP, TCP_KEEPINTVL) => int_value(o.keepintvl),
            (IPPROTO_TCP, TCP_KEEPCNT) => int_value(o.keepcnt),
            (IPPROTO_TCP, TCP_MAXSEG) => int_value(MSS),
            (IPPROTO_TCP, TCP_QUICKACK) => int_value(1),
            (IPPROTO_TCP, TCP_DEFER_ACCEPT | TCP_LINGER2 | TCP_USER_TIMEOUT) => int_value(0),
            (IPPROTO_IP, 1) => int_value(o.tos),
            (IPPROTO_IP, 2) => int_value(o.ttl),
            (IPPROTO_TCP | IPPROTO_IP, _) => return Err(Errno::ENOPROTOOPT),
            // Linux's IP layer answers levels it does not know with EOPNOTSUPP.
            _ => return Err(Errno::EOPNOTSUPP),
        })
    }

    fn available(&self) -> usize {
        let inner = self.inner.lock();
        match &inner.state {
            State::Connected(Conn::Net(c)) => stack::with(|s| c.tcp.get(&mut s.sockets).recv_queue()).unwrap_or(0),
            State::Connected(Conn::Local(c)) => c.end.available(),
            _ => 0,
        }
    }
}

fn positive(v: i32) -> Result<i32, Errno> {
    if v < 1 { Err(Errno::EINVAL) } else { Ok(v) }
}

super::socket::socket_file_ops!(TcpSocket);

impl SocketFile for TcpSocket {
    const PREFIX: &'static str = "";

    fn id(&self) -> u64 {
        self.id
    }

    fn readiness(&self) -> Ready {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        match &inner.state {
            State::Connecting(_) => {
                stack::with(|s| self.refresh(inner, s));
            }
            State::Listening(l) => {
                let net = l.net.is_some_and(|id| stack::with(|s| s.listeners.has_ready(id)).unwrap_or(false));
                return Ready { read: net || l.local.has_ready(), ..Ready::default() };
            }
            _ => {}
        }
        match &inner.state {
            State::Unbound | State::Bound(_) => {
                let failed = inner.error.is_some();
                Ready { write: failed, error: failed, hangup: true, ..Ready::default() }
            }
            State::Connecting(_) | State::Listening(_) => Ready::default(),
            State::Connected(Conn::Net(c)) => stack::with(|s| {
                let socket = self.net(s, c);
                let closed = socket.state() == tcp::State::Closed;
                let reset = closed && !c.reset_reported && !c.shut_wr;
                Ready {
                    read: socket.can_recv() || !socket.may_recv() || c.shut_rd,
                    write: (socket.may_send() && socket.send_capacity() > socket.send_queue()) || !socket.may_send(),
                    hangup: closed || (c.shut_wr && !socket.may_recv()),
                    error: reset,
                    read_hangup: !socket.may_recv(),
                }
            })
            .unwrap_or(Ready { hangup: true, ..Ready::default() }),
            State::Connected(Conn::Local(c)) => c.end.ready(c.shut_rd),
        }
    }

    fn queue(&self) -> &WaitQueue {
        &self.waker.queue
    }

    fn write_data(&self, data: &[u8], nonblocking: bool) -> Result<usize, Errno> {
        self.send_all(data, MsgFlags::empty(), nonblocking)
    }
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        let linger_zero = inner.opts.common.linger == Some(0);
        match core::mem::replace(&mut inner.state, State::Unbound) {
            State::Connecting(c) => {
                stack::with(|s| s.orphans.adopt(c.tcp, &mut s.sockets, true));
            }
            State::Connected(Conn::Net(c)) => {
                stack::with(|s| {
                    // Closing with unread data resets the connection, as Linux does.
                    let unread = c.tcp.get(&mut s.sockets).recv_queue() > 0;
                    s.orphans.adopt(c.tcp, &mut s.sockets, unread || linger_zero);
                    s.poll();
                });
            }
            State::Listening(l) => {
                if let Some(id) = l.net {
                    stack::with(|s| {
                        let Stack { listeners, sockets, orphans, .. } = s;
                        listeners.close(id, sockets, orphans);
                        s.poll();
                    });
                }
                // Connections from inside that were never accepted end here.
                while l.local.pop().is_some() {}
            }
            _ => {}
        }
    }
}
