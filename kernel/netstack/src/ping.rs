//! ICMP echo from the kernel (the console's `ping`). Answering echo requests needs no
//! code here: smoltcp replies to them itself.

use super::stack;
use super::waker::SocketWaker;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU16, Ordering};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::icmp;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpAddress};

/// The payload each request carries (and its reply must bring back).
const PAYLOAD: &[u8] = b"berth ping";

static NEXT_IDENT: AtomicU16 = AtomicU16::new(0xbe00);

/// Why a ping got no answer.
#[derive(Debug)]
enum PingError {
    /// The machine has no network.
    NoNetwork,
    /// The ICMP socket could not be bound.
    Bind(icmp::BindError),
    /// The request could not be queued.
    Send(icmp::SendError),
    /// Nothing came back in time.
    NoReply,
}

impl core::fmt::Display for PingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PingError::NoNetwork => f.write_str("no network"),
            PingError::Bind(e) => write!(f, "{e}"),
            PingError::Send(e) => write!(f, "{e}"),
            PingError::NoReply => f.write_str("no reply"),
        }
    }
}

/// Sends one echo request to `to` and waits up to `timeout_ns` for its reply; returns
/// the round trip in ns.
fn ping(to: Ipv4Addr, timeout_ns: u64) -> Result<u64, PingError> {
    let ident = NEXT_IDENT.fetch_add(1, Ordering::Relaxed);
    let waker = SocketWaker::new();
    let started = crate::time::now_ns();
    let handle = stack::with(|s| {
        let buffer = || icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 512]);
        let mut socket = icmp::Socket::new(buffer(), buffer());
        socket.bind(icmp::Endpoint::Ident(ident)).map_err(PingError::Bind)?;
        let request = Icmpv4Repr::EchoRequest { ident, seq_no: 1, data: PAYLOAD };
        let buf = socket.send(request.buffer_len(), IpAddress::Ipv4(to)).map_err(PingError::Send)?;
        request.emit(&mut Icmpv4Packet::new_unchecked(buf), &ChecksumCapabilities::default());
        socket.register_recv_waker(&waker.waker());
        let handle = s.sockets.add(socket);
        s.poll();
        Ok::<_, PingError>(handle)
    })
    .ok_or(PingError::NoNetwork)??;
    stack::poke();
    let deadline = started + timeout_ns;
    let result = waker.queue.wait_until(
        || {
            stack::with(|s| {
                let socket = s.sockets.get_mut::<icmp::Socket>(handle);
                socket.register_recv_waker(&waker.waker());
                while let Ok((bytes, from)) = socket.recv() {
                    let Ok(packet) = Icmpv4Packet::new_checked(bytes) else { continue };
                    let reply = Icmpv4Repr::parse(&packet, &ChecksumCapabilities::default());
                    if from == IpAddress::Ipv4(to)
                        && matches!(reply, Ok(Icmpv4Repr::EchoReply { ident: i, seq_no: 1, data })
                            if i == ident && data == PAYLOAD)
                    {
                        return Some(crate::time::now_ns() - started);
                    }
                }
                None
            })
            .flatten()
        },
        Some(deadline),
        None,
    );
    stack::with(|s| s.sockets.remove(handle));
    result.map_err(|_| PingError::NoReply)
}

/// The console's `ping ADDRESS`: one request, the outcome as a line.
pub fn console(arg: &str) -> String {
    let Ok(to) = arg.trim().parse::<Ipv4Addr>() else {
        return format!("ping: `{arg}` is not an IPv4 address");
    };
    match ping(to, 2_000_000_000) {
        Ok(ns) => format!("ping: reply from {to} in {}.{:03} ms", ns / 1_000_000, ns / 1000 % 1000),
        Err(e) => format!("ping: {to}: {e}"),
    }
}
