//! Connections their programs have closed, kept until the goodbye (FIN exchange, or a
//! reset) is done, then removed. TIME_WAIT is not kept: a socket is removed as soon as
//! it reaches it (or CLOSING with everything but its FIN acknowledged), so thousands of
//! short connections do not pin their buffers.

use super::tcp_socket::NetTcp;
use alloc::vec::Vec;
use berth_net::PortSet;
use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp::State;

/// The closing connections.
#[derive(Default)]
pub struct Orphans {
    list: Vec<(NetTcp, u64)>,
}

impl Orphans {
    /// Takes over a connection its owner closed: a graceful close, or a reset when
    /// `abort` (unread data, or SO_LINGER with a zero timeout, as Linux does).
    pub fn adopt(&mut self, tcp: NetTcp, sockets: &mut SocketSet<'static>, abort: bool) {
        let socket = tcp.get(sockets);
        if abort {
            socket.abort();
        } else {
            socket.close();
        }
        self.list.push((tcp, crate::time::now_ns()));
    }

    /// Removes connections that are done; resets ones that took too long.
    pub fn reap(&mut self, sockets: &mut SocketSet<'static>, ports: &mut PortSet) {
        if self.list.is_empty() {
            return;
        }
        let now = crate::time::now_ns();
        let mut i = 0;
        while i < self.list.len() {
            let (tcp, since) = &self.list[i];
            let socket = tcp.get(sockets);
            let done = match socket.state() {
                State::TimeWait => true,
                // Both sides closed at once and all our data is acknowledged; only the
                // ACK of our FIN is missing. smoltcp drops the peer's FIN retransmission
                // that carries it (the segment ends at the window's left edge, which
                // Linux accepts), so it would wait a retransmission timeout for another.
                State::Closing => socket.send_queue() == 0,
                // An aborted socket forgets its endpoints once its reset is sent.
                State::Closed => socket.local_endpoint().is_none(),
                _ => {
                    if now.saturating_sub(*since) > crate::param::LINGER_LIMIT_NS {
                        socket.abort();
                    }
                    false
                }
            };
            if done {
                let (tcp, _) = self.list.swap_remove(i);
                tcp.remove(sockets, ports);
            } else {
                i += 1;
            }
        }
    }

    /// How many closing connections are in each TCP state (for the console).
    pub fn states(&self, sockets: &mut SocketSet<'static>) -> alloc::collections::BTreeMap<&'static str, usize> {
        let mut counts = alloc::collections::BTreeMap::new();
        for (tcp, _) in &self.list {
            let name = match tcp.get(sockets).state() {
                State::FinWait1 => "fin-wait-1",
                State::FinWait2 => "fin-wait-2",
                State::Closing => "closing",
                State::LastAck => "last-ack",
                State::CloseWait => "close-wait",
                State::Established => "established",
                _ => "other",
            };
            *counts.entry(name).or_insert(0) += 1;
        }
        counts
    }

    /// How many connections are closing.
    pub fn len(&self) -> usize {
        self.list.len()
    }
}
