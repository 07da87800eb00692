//! smoltcp TCP sockets as the socket layer owns them: created with bounded buffers,
//! charged to their container, counted against a machine-wide limit.

use crate::mm::Charge;
use alloc::vec;
use berth_abi::Errno;
use berth_net::PortSet;
use core::sync::atomic::{AtomicUsize, Ordering};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;

/// smoltcp sockets in existence.
static SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// Buffer sizes of a socket, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufSizes {
    /// Receive buffer (also the largest window advertised).
    pub rx: usize,
    /// Send buffer (also bounds data in flight).
    pub tx: usize,
}

impl BufSizes {
    /// What a TCP socket gets unless SO_RCVBUF/SO_SNDBUF say otherwise.
    pub const TCP_DEFAULT: BufSizes = BufSizes { rx: 64 * 1024, tx: 32 * 1024 };
    /// Smallest buffer a socket option can ask for.
    pub const MIN: usize = 2048;
    /// Largest buffer a socket option can ask for.
    pub const MAX: usize = 1 << 20;

    /// Bytes both buffers take.
    pub fn total(&self) -> usize {
        self.rx + self.tx
    }
}

/// Counts a new smoltcp socket against the machine-wide limit.
pub fn reserve_slot() -> Result<(), Errno> {
    if SOCKETS.fetch_add(1, Ordering::Relaxed) >= crate::param::MAX_NET_SOCKETS {
        SOCKETS.fetch_sub(1, Ordering::Relaxed);
        return Err(Errno::ENOBUFS);
    }
    Ok(())
}

/// Gives a slot back.
pub fn release_slot() {
    SOCKETS.fetch_sub(1, Ordering::Relaxed);
}

/// smoltcp sockets in existence (for statistics and leak checks).
pub fn count() -> usize {
    SOCKETS.load(Ordering::Relaxed)
}

/// A smoltcp TCP socket owned by the socket layer.
pub struct NetTcp {
    /// Its handle in the stack's socket set.
    pub handle: SocketHandle,
    /// A machine port it holds (the ephemeral port of an outgoing connection), given
    /// back when the socket is removed.
    pub owned_port: Option<u16>,
    _charge: Option<Charge>,
}

impl NetTcp {
    /// Adds a socket with `sizes` buffers to `sockets`.
    pub fn create(sockets: &mut SocketSet<'static>, sizes: BufSizes, charge: Option<Charge>) -> Result<NetTcp, Errno> {
        reserve_slot()?;
        let socket =
            tcp::Socket::new(tcp::SocketBuffer::new(vec![0; sizes.rx]), tcp::SocketBuffer::new(vec![0; sizes.tx]));
        let handle = sockets.add(socket);
        Ok(NetTcp { handle, owned_port: None, _charge: charge })
    }

    /// The smoltcp socket.
    pub fn get<'a>(&self, sockets: &'a mut SocketSet<'static>) -> &'a mut tcp::Socket<'static> {
        sockets.get_mut::<tcp::Socket>(self.handle)
    }

    /// Removes the socket from the set, giving back its machine port, slot and charge.
    pub fn remove(self, sockets: &mut SocketSet<'static>, ports: &mut PortSet) {
        sockets.remove(self.handle);
        if let Some(port) = self.owned_port {
            ports.release(port);
        }
        release_slot();
    }

    /// Removes a socket that holds no machine port.
    pub fn remove_portless(self, sockets: &mut SocketSet<'static>) {
        debug_assert!(self.owned_port.is_none());
        sockets.remove(self.handle);
        release_slot();
    }
}
