//! UDP sockets (`AF_INET`, `SOCK_DGRAM`).
//!
//! A socket is bound to a port of its namespace; datagrams between sockets of one
//! namespace (127.0.0.1) go straight to the receiver's inbox. Datagrams to the outside
//! leave from a smoltcp socket on a machine port: the published port the namespace
//! port is mapped to, or an ephemeral one taken at the first send.

use super::charge;
use super::namespace::{BindAddr, DatagramInbox, Namespace, PortClaim};
use super::network;
use super::socket::*;
use super::stack::{self, Stack};
use super::tcp_socket;
use super::waker::SocketWaker;
use crate::fs::Ready;
use crate::mm::Charge;
use crate::sched::WaitQueue;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::net::*;
use berth_net::{Protocol, dns};
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::IpAddress;
use spin::Mutex;

/// Largest datagram payload (IPv4's limit).
const MAX_DATAGRAM: usize = 65507;
/// Largest datagram sent to the outside: one Ethernet frame (berth does not fragment).
const MAX_EXTERNAL_DATAGRAM: usize = 1472;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Datagrams (sender, bytes) waiting to be read, and their total size.
type Datagrams = (VecDeque<(SocketAddrV4, Vec<u8>)>, usize);

/// Datagrams from inside the namespace waiting to be read.
struct Inbox {
    queue: Mutex<Datagrams>,
    waker: Arc<SocketWaker>,
}

impl DatagramInbox for Inbox {
    fn deliver(&self, from: (Ipv4Addr, u16), data: &[u8]) {
        let mut q = self.queue.lock();
        if q.1 + data.len() > crate::param::UDP_BUFFER_BYTES || q.0.len() >= crate::param::UDP_BUFFER_PACKETS {
            return; // full: dropped, as UDP drops
        }
        q.1 += data.len();
        q.0.push_back((SocketAddrV4::new(from.0, from.1), data.to_vec()));
        drop(q);
        self.waker.queue.wake_all();
    }
}

/// The smoltcp socket for the outside.
struct External {
    handle: SocketHandle,
    /// The machine port, if this socket took it (ephemeral) and must give it back.
    owned_port: Option<u16>,
    _charge: Option<Charge>,
}

struct Inner {
    claim: Option<PortClaim>,
    external: Option<External>,
    peer: Option<SocketAddrV4>,
    opts: CommonOptions,
    shut_rd: bool,
    shut_wr: bool,
    ttl: i32,
}

/// A UDP socket.
pub struct UdpSocket {
    id: u64,
    ns: Arc<Namespace>,
    waker: Arc<SocketWaker>,
    inbox: Arc<Inbox>,
    inner: Mutex<Inner>,
}

impl UdpSocket {
    /// A new, unbound socket in `ns`.
    pub fn new(ns: Arc<Namespace>) -> UdpSocket {
        let waker = SocketWaker::new();
        UdpSocket {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ns,
            inbox: Arc::new(Inbox { queue: Mutex::new((VecDeque::new(), 0)), waker: waker.clone() }),
            waker,
            inner: Mutex::new(Inner {
                claim: None,
                external: None,
                peer: None,
                opts: CommonOptions::default(),
                shut_rd: false,
                shut_wr: false,
                ttl: 64,
            }),
        }
    }

    fn do_bind(&self, inner: &mut Inner, port: u16, addr: BindAddr) -> Result<(), Errno> {
        let claim = self.ns.claim(Protocol::Udp, port, addr)?;
        let inbox: Weak<dyn DatagramInbox> = Arc::downgrade(&(self.inbox.clone() as Arc<dyn DatagramInbox>));
        claim.set_inbox(inbox);
        // A published port (or, for the kernel, the machine port itself) receives from
        // outside at once.
        if let Some(&machine_port) = self.ns.external_ports(Protocol::Udp, claim.port, addr).first() {
            stack::with(|s| self.open_external(inner, s, Some(machine_port))).transpose()?;
        }
        inner.claim = Some(claim);
        Ok(())
    }

    /// Opens the smoltcp socket on `port` (already reserved), or on a fresh ephemeral
    /// machine port.
    fn open_external(&self, inner: &mut Inner, s: &mut Stack, port: Option<u16>) -> Result<(), Errno> {
        if inner.external.is_some() {
            return Ok(());
        }
        let charge = charge::charge(self.ns.memory.as_ref(), 2 * crate::param::UDP_BUFFER_BYTES)?;
        tcp_socket::reserve_slot()?;
        let (port, owned_port) = match port {
            Some(p) => (p, None),
            None => match s.udp_ports.take_ephemeral() {
                Some(p) => (p, Some(p)),
                None => {
                    tcp_socket::release_slot();
                    return Err(Errno::EADDRINUSE);
                }
            },
        };
        let buffer = || {
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; crate::param::UDP_BUFFER_PACKETS],
                vec![0; crate::param::UDP_BUFFER_BYTES],
            )
        };
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.set_hop_limit(Some(inner.ttl.clamp(1, 255) as u8));
        if socket.bind(port).is_err() {
            if let Some(p) = owned_port {
                s.udp_ports.release(p);
            }
            tcp_socket::release_slot();
            return Err(Errno::EADDRINUSE);
        }
        let handle = s.sockets.add(socket);
        inner.external = Some(External { handle, owned_port, _charge: charge });
        Ok(())
    }

    fn smol<'a>(&self, s: &'a mut Stack, ext: &External) -> &'a mut udp::Socket<'static> {
        let socket = s.sockets.get_mut::<udp::Socket>(ext.handle);
        let waker = self.waker.waker();
        socket.register_recv_waker(&waker);
        socket.register_send_waker(&waker);
        socket
    }

    fn try_send(&self, data: &[u8], dst: SocketAddrV4) -> Result<usize, Errno> {
        let mut inner = self.inner.lock();
        if inner.shut_wr {
            return Err(Errno::EPIPE);
        }
        if inner.claim.is_none() {
            self.do_bind(&mut inner, 0, BindAddr::Any)?;
        }
        let local_port = inner.claim.as_ref().map_or(0, |c| c.port);
        if dst == SocketAddrV4::new(dns::RESOLVER, 53) {
            // The resolver of container networks answers at once, into this inbox.
            if let Some(reply) = dns::answer(data, |name| network::resolve(&self.ns, name)) {
                self.inbox.deliver((dns::RESOLVER, 53), &reply);
            }
            return Ok(data.len());
        }
        if let Some(route) = network::route(&self.ns, *dst.ip()) {
            let (ns, source) = route?;
            if let Some(inbox) = ns.local_inbox(dst.port(), true) {
                inbox.deliver((source, local_port), data);
            }
            return Ok(data.len());
        }
        let machine = stack::with(|s| s.address()).flatten();
        if is_loopback(*dst.ip()) || Some(*dst.ip()) == machine {
            let target = if is_loopback(*dst.ip()) {
                Some((self.ns.clone(), dst.port()))
            } else {
                super::namespace::published_target(Protocol::Udp, dst.port()).or(Some((self.ns.clone(), dst.port())))
            };
            if let Some((ns, port)) = target
                && let Some(inbox) = ns.local_inbox(port, false)
            {
                inbox.deliver((*dst.ip(), local_port), data);
            }
            return Ok(data.len());
        }
        if data.len() > MAX_EXTERNAL_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        let inner = &mut *inner;
        stack::with(|s| {
            self.open_external(inner, s, None)?;
            let ext = inner.external.as_ref().ok_or(Errno::EIO)?;
            let socket = self.smol(s, ext);
            match socket.send_slice(data, (IpAddress::Ipv4(*dst.ip()), dst.port())) {
                Ok(()) => Ok(data.len()),
                Err(udp::SendError::BufferFull) => Err(Errno::EAGAIN),
                Err(udp::SendError::Unaddressable) => Err(Errno::ENETUNREACH),
            }
        })
        .unwrap_or(Err(Errno::ENETUNREACH))
    }

    fn try_recv(&self, buf: &mut [u8], peek: bool) -> Result<Received, Errno> {
        let inner = self.inner.lock();
        if inner.shut_rd {
            return Ok(Received::default());
        }
        {
            let mut q = self.inbox.queue.lock();
            if let Some((from, data)) = q.0.front() {
                let n = buf.len().min(data.len());
                buf[..n].copy_from_slice(&data[..n]);
                let got = Received { len: n, full_len: data.len(), from: Some(SockAddr::Inet(*from)) };
                if !peek {
                    let (_, data) = q.0.pop_front().expect("front exists");
                    q.1 -= data.len();
                }
                return Ok(got);
            }
        }
        let Some(ext) = &inner.external else { return Err(Errno::EAGAIN) };
        stack::with(|s| {
            let socket = self.smol(s, ext);
            let result = if peek { socket.peek().map(|(d, m)| (d, *m)) } else { socket.recv() };
            let (data, meta) = result.map_err(|_| Errno::EAGAIN)?;
            let n = buf.len().min(data.len());
            buf[..n].copy_from_slice(&data[..n]);
            let IpAddress::Ipv4(ip) = meta.endpoint.addr;
            Ok(Received {
                len: n,
                full_len: data.len(),
                from: Some(SockAddr::Inet(SocketAddrV4::new(ip, meta.endpoint.port))),
            })
        })
        .unwrap_or(Err(Errno::EAGAIN))
    }

    fn readable(&self) -> bool {
        let inner = self.inner.lock();
        if inner.shut_rd || !self.inbox.queue.lock().0.is_empty() {
            return true;
        }
        let Some(ext) = &inner.external else { return false };
        stack::with(|s| self.smol(s, ext).can_recv()).unwrap_or(false)
    }
}

impl SocketOps for UdpSocket {
    fn bind(&self, addr: &SockAddr) -> Result<(), Errno> {
        let addr = addr.inet()?;
        let mut inner = self.inner.lock();
        if inner.claim.is_some() {
            return Err(Errno::EINVAL);
        }
        let ip = *addr.ip();
        let machine = stack::with(|s| s.address()).flatten();
        let bind_addr = if ip.is_unspecified() {
            BindAddr::Any
        } else if is_loopback(ip) {
            BindAddr::Loopback
        } else if Some(ip) == machine {
            BindAddr::Machine
        } else if network::is_own(&self.ns, ip) {
            BindAddr::Any // its address on a network, as for TCP
        } else {
            return Err(Errno::EADDRNOTAVAIL);
        };
        self.do_bind(&mut inner, addr.port(), bind_addr)
    }

    fn connect(&self, addr: &SockAddr, _nonblocking: bool) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        match addr {
            SockAddr::Unspec => inner.peer = None,
            SockAddr::Inet(a) => {
                if inner.claim.is_none() {
                    self.do_bind(&mut inner, 0, BindAddr::Any)?;
                }
                inner.peer = Some(*a);
            }
            SockAddr::Unix(_) => return Err(Errno::EAFNOSUPPORT),
        }
        Ok(())
    }

    fn send(&self, data: &[u8], to: Option<&SockAddr>, flags: MsgFlags, nonblocking: bool) -> Result<usize, Errno> {
        if data.len() > MAX_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        let (peer, deadline) = {
            let inner = self.inner.lock();
            (inner.peer, inner.opts.send_deadline())
        };
        let dst = match to {
            Some(a) => a.inet()?,
            None => peer.ok_or(Errno::EDESTADDRREQ)?,
        };
        if dst.port() == 0 {
            return Err(Errno::EINVAL);
        }
        let nonblocking = nonblocking || flags.contains(MsgFlags::DONTWAIT);
        let result = block_on(&self.waker, nonblocking, deadline, || self.try_send(data, dst));
        if result == Err(Errno::EPIPE) && !flags.contains(MsgFlags::NOSIGNAL) {
            crate::fs::raise_sigpipe();
        }
        if let Ok(n) = result {
            self.ns.count_tx(n);
        }
        stack::with(|s| s.poll());
        result
    }

    fn recv(&self, buf: &mut [u8], flags: MsgFlags, nonblocking: bool) -> Result<Received, Errno> {
        let deadline = self.inner.lock().opts.recv_deadline();
        let nonblocking = nonblocking || flags.contains(MsgFlags::DONTWAIT);
        let peek = flags.contains(MsgFlags::PEEK);
        let received = block_on(&self.waker, nonblocking, deadline, || self.try_recv(buf, peek))?;
        if !peek {
            self.ns.count_rx(received.len);
        }
        Ok(received)
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mut inner = self.inner.lock();
        if inner.peer.is_none() {
            return Err(Errno::ENOTCONN);
        }
        inner.shut_rd |= how != SHUT_WR;
        inner.shut_wr |= how != SHUT_RD;
        drop(inner);
        self.waker.queue.wake_all();
        Ok(())
    }

    fn local_addr(&self) -> Result<SockAddr, Errno> {
        let inner = self.inner.lock();
        let machine = stack::with(|s| s.address()).flatten();
        Ok(SockAddr::Inet(match &inner.claim {
            Some(c) => SocketAddrV4::new(c.addr.shown(machine), c.port),
            None => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
        }))
    }

    fn peer_addr(&self) -> Result<SockAddr, Errno> {
        self.inner.lock().peer.map(SockAddr::Inet).ok_or(Errno::ENOTCONN)
    }

    fn set_option(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        match (level, name) {
            (SOL_SOCKET, _) => inner.opts.set(name, value),
            (IPPROTO_IP, 1) => opt_int(value).map(|_| ()), // IP_TOS
            (IPPROTO_IP, 2) => {
                inner.ttl = opt_int(value)?; // IP_TTL
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn get_option(&self, level: i32, name: i32) -> Result<OptValue, Errno> {
        let inner = self.inner.lock();
        match (level, name) {
            (SOL_SOCKET, SO_TYPE) => Ok(int_value(SOCK_DGRAM)),
            (SOL_SOCKET, SO_DOMAIN) => Ok(int_value(i32::from(AF_INET))),
            (SOL_SOCKET, SO_PROTOCOL) => Ok(int_value(IPPROTO_UDP)),
            (SOL_SOCKET, SO_ACCEPTCONN) => Ok(int_value(0)),
            (SOL_SOCKET, SO_ERROR) => Ok(int_value(0)),
            (SOL_SOCKET, _) => {
                inner.opts.get(name, 2 * crate::param::UDP_BUFFER_BYTES, 2 * crate::param::UDP_BUFFER_BYTES)
            }
            (IPPROTO_IP, 1) => Ok(int_value(0)),
            (IPPROTO_IP, 2) => Ok(int_value(inner.ttl)),
            (IPPROTO_IP | IPPROTO_UDP, _) => Err(Errno::ENOPROTOOPT),
            // Linux's IP layer answers levels it does not know with EOPNOTSUPP.
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    fn available(&self) -> usize {
        // Linux's FIONREAD on a datagram socket: the size of the next datagram.
        if let Some((_, d)) = self.inbox.queue.lock().0.front() {
            return d.len();
        }
        let inner = self.inner.lock();
        let Some(ext) = &inner.external else { return 0 };
        stack::with(|s| self.smol(s, ext).peek().map(|(d, _)| d.len()).unwrap_or(0)).unwrap_or(0)
    }
}

super::socket::socket_file_ops!(UdpSocket);

impl SocketFile for UdpSocket {
    const PREFIX: &'static str = "udp";

    fn id(&self) -> u64 {
        self.id
    }

    fn readiness(&self) -> Ready {
        Ready { read: self.readable(), write: !self.inner.lock().shut_wr, ..Ready::default() }
    }

    fn queue(&self) -> &WaitQueue {
        &self.waker.queue
    }

    fn write_data(&self, data: &[u8], nonblocking: bool) -> Result<usize, Errno> {
        self.send(data, None, MsgFlags::empty(), nonblocking)
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        if let Some(ext) = self.inner.get_mut().external.take() {
            stack::with(|s| {
                s.sockets.remove(ext.handle);
                if let Some(p) = ext.owned_port {
                    s.udp_ports.release(p);
                }
            });
            tcp_socket::release_slot();
        }
    }
}
