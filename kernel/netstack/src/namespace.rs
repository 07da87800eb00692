//! Port spaces. Every container has its own: its programs bind and listen on its ports
//! without seeing other containers' ports, so two containers can both listen on port
//! 80. The machine's ports belong to the kernel: a container's port is reachable from
//! outside only through a published mapping (machine port → container port), and
//! 127.0.0.1 reaches only the container's own listeners. The kernel's own services
//! (the control agent) use the machine namespace, whose ports are the machine's ports.

use super::local::LocalEnd;
use super::socket::SockAddr;
use super::waker::SocketWaker;
use crate::mm::MemoryCounter;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_net::{PortMapping, PortSet, Protocol};
use core::net::Ipv4Addr;
use spin::Mutex;

/// Which local address a socket is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindAddr {
    /// 0.0.0.0: every address.
    Any,
    /// 127.0.0.0/8: only connections from inside.
    Loopback,
    /// The machine's address: only connections from outside.
    Machine,
}

impl BindAddr {
    /// Whether connections from inside (over loopback) reach a socket bound here.
    pub fn takes_local(self) -> bool {
        self != BindAddr::Machine
    }

    /// Whether a connection from inside the machine reaches a socket bound here: over
    /// loopback, or from another container over a network they share (`network`),
    /// which reaches only sockets bound to every address.
    pub fn takes_inside(self, network: bool) -> bool {
        if network { self == BindAddr::Any } else { self.takes_local() }
    }

    /// Whether connections from outside reach it.
    pub fn takes_external(self) -> bool {
        self != BindAddr::Loopback
    }

    /// The address `getsockname` shows, given the machine's address.
    pub fn shown(self, machine: Option<Ipv4Addr>) -> Ipv4Addr {
        match self {
            BindAddr::Any => Ipv4Addr::UNSPECIFIED,
            BindAddr::Loopback => Ipv4Addr::LOCALHOST,
            BindAddr::Machine => machine.unwrap_or(Ipv4Addr::UNSPECIFIED),
        }
    }
}

/// A connection from inside waiting for `accept`.
pub struct PendingLocal {
    /// The listening side's end.
    pub end: LocalEnd,
    /// The connecting socket's address.
    pub client: SockAddr,
    /// The address it connected to.
    pub dialled: SockAddr,
    /// The connecting process (its pid in its container), for `SO_PEERCRED`.
    pub client_pid: i32,
}

/// The connections waiting for `accept` on a listener that arrived from inside.
pub struct LocalAccept {
    queue: Mutex<VecDeque<PendingLocal>>,
    backlog: Mutex<usize>,
    /// The listening socket's waker.
    pub waker: Arc<SocketWaker>,
}

impl LocalAccept {
    /// An empty queue holding at most `backlog` connections.
    pub fn new(backlog: usize, waker: Arc<SocketWaker>) -> Arc<LocalAccept> {
        Arc::new(LocalAccept { queue: Mutex::new(VecDeque::new()), backlog: Mutex::new(backlog), waker })
    }

    /// Queues a new connection's listening end; ECONNREFUSED when the queue is full.
    pub fn push(&self, pending: PendingLocal) -> Result<(), Errno> {
        let mut q = self.queue.lock();
        if q.len() >= *self.backlog.lock() {
            return Err(Errno::ECONNREFUSED);
        }
        q.push_back(pending);
        drop(q);
        self.waker.queue.wake_all();
        Ok(())
    }

    /// Takes the oldest waiting connection.
    pub fn pop(&self) -> Option<PendingLocal> {
        self.queue.lock().pop_front()
    }

    /// Whether a connection waits.
    pub fn has_ready(&self) -> bool {
        !self.queue.lock().is_empty()
    }

    /// Whether `listen` has been called (a bound Unix socket is not listening yet).
    pub fn is_listening(&self) -> bool {
        *self.backlog.lock() > 0
    }

    /// Changes the backlog.
    pub fn set_backlog(&self, backlog: usize) {
        *self.backlog.lock() = backlog;
    }
}

/// A datagram socket's inbox, for datagrams sent inside the namespace.
pub trait DatagramInbox: Send + Sync {
    /// Delivers a datagram from `from` (dropped silently when the inbox is full, as UDP
    /// drops).
    fn deliver(&self, from: (Ipv4Addr, u16), data: &[u8]);
}

#[derive(Default)]
struct PortEntry {
    addr: Option<BindAddr>,
    listener: Option<Weak<LocalAccept>>,
    inbox: Option<Weak<dyn DatagramInbox>>,
}

/// The ports of one protocol in a namespace.
#[derive(Default)]
struct Ports {
    taken: PortSet,
    entries: BTreeMap<u16, PortEntry>,
}

/// A port space.
pub struct Namespace {
    /// Whether this is the machine's own namespace (ports are machine ports).
    pub machine: bool,
    /// Machine ports published into it.
    pub published: Vec<PortMapping>,
    /// The memory counter socket buffers are charged to (None for the kernel).
    pub memory: Option<Arc<MemoryCounter>>,
    tcp: Mutex<Ports>,
    udp: Mutex<Ports>,
    /// Unix listeners by abstract name.
    unix: Mutex<BTreeMap<Vec<u8>, Weak<LocalAccept>>>,
    /// Unix listeners by the inode number of their socket file.
    unix_files: Mutex<BTreeMap<u64, Weak<LocalAccept>>>,
    /// The published ports have been given back.
    released: core::sync::atomic::AtomicBool,
    /// Bytes its sockets received and sent (payload, all protocols).
    rx_bytes: core::sync::atomic::AtomicU64,
    tx_bytes: core::sync::atomic::AtomicU64,
}

/// Machine port → the namespace it is published into, for every published port.
static PUBLISHED: Mutex<BTreeMap<(Protocol, u16), Weak<Namespace>>> = Mutex::new(BTreeMap::new());

/// The machine's own namespace, where the kernel's own services (the control agent)
/// listen: its ports are machine ports.
pub fn machine() -> Arc<Namespace> {
    static MACHINE: spin::Once<Arc<Namespace>> = spin::Once::new();
    MACHINE.call_once(|| Arc::new(Namespace::empty(true, Vec::new(), None))).clone()
}

impl Namespace {
    fn empty(machine: bool, published: Vec<PortMapping>, memory: Option<Arc<MemoryCounter>>) -> Namespace {
        Namespace {
            machine,
            published,
            memory,
            tcp: Mutex::new(Ports::default()),
            udp: Mutex::new(Ports::default()),
            unix: Mutex::new(BTreeMap::new()),
            unix_files: Mutex::new(BTreeMap::new()),
            released: core::sync::atomic::AtomicBool::new(false),
            rx_bytes: core::sync::atomic::AtomicU64::new(0),
            tx_bytes: core::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A container's namespace with `published` ports, which it reserves on the
    /// machine; fails if one is already published or in use.
    pub fn for_container(published: Vec<PortMapping>, memory: Arc<MemoryCounter>) -> Result<Arc<Namespace>, PortInUse> {
        let ns = Arc::new(Namespace::empty(false, published, Some(memory)));
        let mut registry = PUBLISHED.lock();
        let mut reserved: Vec<PortMapping> = Vec::new();
        let mut failure = None;
        for m in &ns.published {
            let key = (m.protocol, m.host);
            let taken_by_container = registry.get(&key).is_some_and(|w| w.strong_count() > 0);
            let free_on_machine =
                taken_by_container || super::stack::with(|s| s.machine_ports(m.protocol).take(m.host)).unwrap_or(true);
            if taken_by_container || !free_on_machine {
                failure = Some(PortInUse { port: m.host, protocol: m.protocol.name() });
                break;
            }
            registry.insert(key, Arc::downgrade(&ns));
            reserved.push(*m);
        }
        if let Some(e) = failure {
            for m in &reserved {
                registry.remove(&(m.protocol, m.host));
            }
            drop(registry);
            for m in reserved {
                release_machine_port(m.protocol, m.host);
            }
            // Dropping `ns` must not release what it never reserved.
            ns.released.store(true, core::sync::atomic::Ordering::Relaxed);
            return Err(e);
        }
        Ok(ns)
    }

    fn ports(&self, protocol: Protocol) -> &Mutex<Ports> {
        match protocol {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }

    /// Machine ports a socket bound to `port` at `addr` receives on from outside.
    pub fn external_ports(&self, protocol: Protocol, port: u16, addr: BindAddr) -> Vec<u16> {
        if !addr.takes_external() {
            return Vec::new();
        }
        if self.machine {
            return alloc::vec![port];
        }
        self.published.iter().filter(|m| m.protocol == protocol && m.container == port).map(|m| m.host).collect()
    }

    /// The container port a published machine port leads to.
    pub fn container_port(&self, protocol: Protocol, machine_port: u16) -> Option<u16> {
        self.published.iter().find(|m| m.protocol == protocol && m.host == machine_port).map(|m| m.container)
    }

    /// Binds `port` (0: an ephemeral one) at `addr`; EADDRINUSE if taken.
    pub fn claim(self: &Arc<Self>, protocol: Protocol, port: u16, addr: BindAddr) -> Result<PortClaim, Errno> {
        let mut ports = self.ports(protocol).lock();
        let port = if port == 0 {
            ports.taken.take_ephemeral().ok_or(Errno::EADDRINUSE)?
        } else if ports.taken.take(port) {
            port
        } else {
            return Err(Errno::EADDRINUSE);
        };
        if self.machine && super::stack::with(|s| s.machine_ports(protocol).take(port)) == Some(false) {
            ports.taken.release(port);
            return Err(Errno::EADDRINUSE);
        }
        ports.entries.insert(port, PortEntry { addr: Some(addr), ..PortEntry::default() });
        Ok(PortClaim { ns: self.clone(), protocol, port, addr })
    }

    /// The listener a connection to `port` from inside reaches: from this namespace
    /// (over loopback), or from another container on a network they share
    /// (`network`), which reaches only listeners bound to every address.
    pub fn local_listener(&self, port: u16, network: bool) -> Option<Arc<LocalAccept>> {
        let ports = self.tcp.lock();
        let entry = ports.entries.get(&port)?;
        if !entry.addr.is_some_and(|a| a.takes_inside(network)) {
            return None;
        }
        entry.listener.as_ref()?.upgrade()
    }

    /// The datagram socket bound to `port` that takes datagrams from inside (from
    /// another container on a shared network if `network`, as for listeners).
    pub fn local_inbox(&self, port: u16, network: bool) -> Option<Arc<dyn DatagramInbox>> {
        let ports = self.udp.lock();
        let entry = ports.entries.get(&port)?;
        if !entry.addr.is_some_and(|a| a.takes_inside(network)) {
            return None;
        }
        entry.inbox.as_ref()?.upgrade()
    }

    /// Counts `n` bytes received by one of its sockets.
    pub fn count_rx(&self, n: usize) {
        self.rx_bytes.fetch_add(n as u64, core::sync::atomic::Ordering::Relaxed);
    }

    /// Counts `n` bytes sent by one of its sockets.
    pub fn count_tx(&self, n: usize) {
        self.tx_bytes.fetch_add(n as u64, core::sync::atomic::Ordering::Relaxed);
    }

    /// Bytes its sockets have received and sent.
    pub fn traffic(&self) -> (u64, u64) {
        use core::sync::atomic::Ordering::Relaxed;
        (self.rx_bytes.load(Relaxed), self.tx_bytes.load(Relaxed))
    }

    /// Binds a Unix socket name to a listener; EADDRINUSE if it is taken.
    pub fn bind_unix(&self, name: &[u8], listener: &Arc<LocalAccept>) -> Result<(), Errno> {
        let mut unix = self.unix.lock();
        if unix.get(name).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        unix.insert(name.to_vec(), Arc::downgrade(listener));
        Ok(())
    }

    /// The Unix listener bound to `name`.
    pub fn unix_listener(&self, name: &[u8]) -> Option<Arc<LocalAccept>> {
        self.unix.lock().get(name)?.upgrade()
    }

    /// Forgets a Unix name.
    pub fn unbind_unix(&self, name: &[u8]) {
        self.unix.lock().remove(name);
    }

    /// Records the listener of the socket file with inode number `ino`.
    pub fn bind_unix_file(&self, ino: u64, listener: &Arc<LocalAccept>) {
        self.unix_files.lock().insert(ino, Arc::downgrade(listener));
    }

    /// The listener of the socket file with inode number `ino`.
    pub fn unix_file_listener(&self, ino: u64) -> Option<Arc<LocalAccept>> {
        self.unix_files.lock().get(&ino)?.upgrade()
    }

    /// Forgets the listener of a socket file (the file stays, as on Linux).
    pub fn unbind_unix_file(&self, ino: u64) {
        self.unix_files.lock().remove(&ino);
    }
}

impl Namespace {
    /// Gives the published machine ports back (when its container has ended, as Docker
    /// frees a stopped container's ports). Idempotent.
    pub fn release_published(&self) {
        if self.released.swap(true, core::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let mut registry = PUBLISHED.lock();
        for m in &self.published {
            if registry.get(&(m.protocol, m.host)).is_some_and(|w| core::ptr::eq(w.as_ptr(), self)) {
                registry.remove(&(m.protocol, m.host));
            }
        }
        drop(registry);
        for m in &self.published {
            release_machine_port(m.protocol, m.host);
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        self.release_published();
    }
}

fn release_machine_port(protocol: Protocol, port: u16) {
    super::stack::with(|s| s.machine_ports(protocol).release(port));
}

/// The namespace a published machine port leads into, with the container port.
pub fn published_target(protocol: Protocol, machine_port: u16) -> Option<(Arc<Namespace>, u16)> {
    let ns = PUBLISHED.lock().get(&(protocol, machine_port))?.upgrade()?;
    let port = ns.container_port(protocol, machine_port)?;
    Some((ns, port))
}

/// A bound port, released when dropped.
pub struct PortClaim {
    ns: Arc<Namespace>,
    protocol: Protocol,
    /// The port.
    pub port: u16,
    /// The address it is bound at.
    pub addr: BindAddr,
}

impl PortClaim {
    /// Records the listener that connections from inside reach.
    pub fn set_listener(&self, listener: &Arc<LocalAccept>) {
        if let Some(e) = self.ns.ports(self.protocol).lock().entries.get_mut(&self.port) {
            e.listener = Some(Arc::downgrade(listener));
        }
    }

    /// Records the inbox datagrams from inside are delivered to.
    pub fn set_inbox(&self, inbox: Weak<dyn DatagramInbox>) {
        if let Some(e) = self.ns.ports(self.protocol).lock().entries.get_mut(&self.port) {
            e.inbox = Some(inbox);
        }
    }
}

impl Drop for PortClaim {
    fn drop(&mut self) {
        let mut ports = self.ns.ports(self.protocol).lock();
        ports.taken.release(self.port);
        ports.entries.remove(&self.port);
        drop(ports);
        if self.ns.machine {
            release_machine_port(self.protocol, self.port);
        }
    }
}

/// A machine port a container asked to publish is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortInUse {
    /// The machine port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
}

impl core::fmt::Display for PortInUse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "port {}/{} is already in use on this machine", self.port, self.protocol)
    }
}
