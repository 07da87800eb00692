//! Networking: the virtio network device, the smoltcp TCP/IP stack on it, and the
//! sockets containers use through the Linux system calls.
//!
//! ```text
//! socket syscalls ─► TcpSocket / UdpSocket / UnixSocket (FileOps + SocketOps)
//!                      │ inside the namespace: LocalEnd pairs, datagram inboxes
//!                      ▼ to the outside
//!                    Stack: smoltcp Interface + SocketSet + listeners + orphans
//!                      ▼
//!                    Nic ─► hal::virtio::NetDevice (modern or legacy virtio PCI)
//! ```
//!
//! Each container has its own port space ([`Namespace`]); see `namespace.rs`.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

// The layers below, under the names this crate's modules use.
use berth_base::{irq, param, random, time};
use berth_fs as fs;
use berth_mm as mm;
use berth_sched as sched;

mod charge;
pub mod http_client;
mod legacy;
mod listen;
mod local;
mod namespace;
pub mod network;
mod nic;
mod orphans;
mod pci;
mod ping;
mod socket;
mod stack;
mod tcp;
mod tcp_socket;
mod udp;
mod unix;
mod waker;

pub use namespace::{Namespace, PortInUse, machine as machine_namespace};
pub use ping::console as ping_command;
pub use socket::{Received, SockAddr, SocketOps};
pub use stack::{Addressing, present, wait_configured};
pub use tcp::{MAX_BACKLOG, TcpSocket};
pub use udp::UdpSocket;
pub use unix::UnixSocket;

use berth_boot::KernelArgs;
use berth_net::NetConfig;

/// Brings up networking as the kernel command line says (`net=`, `ip=`, `gateway=`,
/// `dns=`, `virtio=legacy`). Without a device, or with `net=off`, containers still get
/// sockets that work inside their own namespace.
pub fn init(args: &KernelArgs) {
    let config = match NetConfig::from_args(|k| args.get(k)) {
        Ok(c) => c,
        Err(e) => {
            log::error!("bad configuration: {e}; networking is off");
            return;
        }
    };
    if config == NetConfig::Off {
        log::info!("off (net=off)");
        return;
    }
    match stack::init(config, args.get("virtio") == Some("legacy")) {
        Ok(line) => log::info!("{line}"),
        Err(e) => log::warn!("{e}; networking is off"),
    }
}

/// Counts for leak checks and `stats`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetStats {
    /// smoltcp sockets in existence.
    pub sockets: usize,
    /// Listeners on machine ports.
    pub listeners: usize,
    /// Sockets held by listeners.
    pub listener_sockets: usize,
    /// Connections closing.
    pub orphans: usize,
    /// Machine TCP ports in use.
    pub tcp_ports: usize,
    /// Machine UDP ports in use.
    pub udp_ports: usize,
    /// Frames received and sent.
    pub rx_packets: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Connection requests dropped for want of a listening socket (clients retry).
    pub syns_dropped: u64,
    /// Frames not sent because every transmit buffer was in flight.
    pub tx_dropped: u64,
}

/// The stack's counts now.
pub fn stats() -> NetStats {
    stack::with(|s| NetStats {
        sockets: tcp_socket::count(),
        listeners: s.listeners.len(),
        listener_sockets: s.listeners.socket_count(),
        orphans: s.orphans.len(),
        tcp_ports: s.ports.len(),
        udp_ports: s.udp_ports.len(),
        rx_packets: s.nic.dev.counters().rx_packets,
        tx_packets: s.nic.dev.counters().tx_packets,
        syns_dropped: s.nic.syns_dropped,
        tx_dropped: s.nic.dev.counters().tx_busy,
    })
    .unwrap_or(NetStats { sockets: tcp_socket::count(), ..NetStats::default() })
}

/// Closing connections by TCP state (for the console).
pub fn orphan_states() -> alloc::collections::BTreeMap<&'static str, usize> {
    stack::with(|s| s.orphans.states(&mut s.sockets)).unwrap_or_default()
}

/// Each listener on the machine's ports: its connections by handshake state, and how
/// many wait for `accept` (for the console's `listeners` command).
pub fn listener_states() -> alloc::vec::Vec<alloc::string::String> {
    stack::with(|s| s.listeners.describe(&mut s.sockets)).unwrap_or_default()
}

/// Every TCP socket of the stack: its handle, state, local and remote endpoints and
/// bytes queued each way (for the console's `sockets` command).
pub fn tcp_sockets() -> alloc::vec::Vec<alloc::string::String> {
    stack::with(|s| {
        s.sockets
            .iter()
            .filter_map(|(h, socket)| match socket {
                smoltcp::socket::Socket::Tcp(t) => Some(alloc::format!(
                    "{h}: {} {:?} -> {:?} rx {} tx {}",
                    t.state(),
                    t.local_endpoint(),
                    t.remote_endpoint(),
                    t.recv_queue(),
                    t.send_queue()
                )),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The machine's address configuration, if it has one.
pub fn addressing() -> Option<Addressing> {
    stack::with(|s| s.addressing).flatten()
}

/// The socket behind an open file, for the socket system calls (ENOTSOCK without).
pub fn socket_of(file: &dyn berth_fs::FileOps) -> Option<&dyn SocketOps> {
    let file: &dyn core::any::Any = file;
    if let Some(s) = file.downcast_ref::<TcpSocket>() {
        return Some(s);
    }
    if let Some(s) = file.downcast_ref::<UdpSocket>() {
        return Some(s);
    }
    file.downcast_ref::<UnixSocket>().map(|s| s as &dyn SocketOps)
}
