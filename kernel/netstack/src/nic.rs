//! The network device as smoltcp sees it.

use super::pci::VirtioPci;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use berth_hal::virtio::NetDevice;
use smoltcp::phy::{self, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpPacket};

/// Largest Ethernet frame without its FCS.
const MAX_FRAME: usize = 1514;

/// The virtio network device plus a buffer received frames are copied into.
pub struct Nic {
    /// The device.
    pub dev: NetDevice<VirtioPci>,
    rx: Vec<u8>,
    tx_scratch: Vec<u8>,
    /// Connection requests each listening port can still take before its listeners
    /// have been topped up (see [`Nic::set_syn_budget`]).
    syn_budget: BTreeMap<u16, usize>,
    /// Connection requests dropped because their port had no listening socket free.
    pub syns_dropped: u64,
}

impl Nic {
    /// Wraps a started device.
    pub fn new(dev: NetDevice<VirtioPci>) -> Nic {
        Nic {
            dev,
            rx: Vec::with_capacity(MAX_FRAME),
            tx_scratch: Vec::new(),
            syn_budget: BTreeMap::new(),
            syns_dropped: 0,
        }
    }

    /// Sets how many connection requests (SYNs) may reach each listening port before
    /// the next top-up: one per socket in LISTEN state. Further SYNs are dropped, so
    /// the client retries, as Linux treats a full SYN queue; smoltcp would answer
    /// them with a reset. Ports without a listener are not limited (they are refused).
    pub fn set_syn_budget(&mut self, budget: BTreeMap<u16, usize>) {
        self.syn_budget = budget;
    }

    /// Whether a received frame is a SYN for a listening port that has no listening
    /// socket left (and takes one from its budget if not).
    fn over_syn_budget(&mut self) -> bool {
        let Some(port) = syn_port(&self.rx) else { return false };
        match self.syn_budget.get_mut(&port) {
            Some(0) => true,
            Some(left) => {
                *left -= 1;
                false
            }
            None => false,
        }
    }
}

/// The destination port of a TCP connection request (SYN without ACK) in an Ethernet
/// frame.
fn syn_port(frame: &[u8]) -> Option<u16> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    (tcp.syn() && !tcp.ack()).then(|| tcp.dst_port())
}

/// A received frame.
pub struct RxToken<'a>(&'a [u8]);

/// Permission to send one frame.
pub struct TxToken<'a> {
    dev: &'a mut NetDevice<VirtioPci>,
    scratch: &'a mut Vec<u8>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut f = Some(f);
        if let Some(r) = self.dev.transmit(len, |buf| (f.take().expect("called once"))(buf)) {
            return r;
        }
        // Every transmit buffer is in flight: the frame is built and dropped, as a
        // full device queue drops it (TCP retransmits).
        self.scratch.resize(len, 0);
        (f.take().expect("not called yet"))(self.scratch)
    }
}

impl phy::Device for Nic {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        loop {
            let rx = &mut self.rx;
            self.dev.receive(|frame| {
                rx.clear();
                rx.extend_from_slice(frame);
            })?;
            if !self.over_syn_budget() {
                break;
            }
            self.syns_dropped += 1;
        }
        let Nic { dev, rx, tx_scratch, .. } = self;
        Some((RxToken(rx), TxToken { dev, scratch: tx_scratch }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if !self.dev.can_transmit() {
            return None;
        }
        Some(TxToken { dev: &mut self.dev, scratch: &mut self.tx_scratch })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        // No checksum offload is negotiated: smoltcp computes and checks them all.
        let mut checksum = ChecksumCapabilities::default();
        checksum.ipv4 = Checksum::Both;
        caps.checksum = checksum;
        caps
    }
}
