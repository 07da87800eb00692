//! The network device as smoltcp sees it.

use super::pci::VirtioPci;
use alloc::vec::Vec;
use berth_hal::virtio::NetDevice;
use smoltcp::phy::{self, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Largest Ethernet frame without its FCS.
const MAX_FRAME: usize = 1514;

/// The virtio network device plus a buffer received frames are copied into.
pub struct Nic {
    /// The device.
    pub dev: NetDevice<VirtioPci>,
    rx: Vec<u8>,
    tx_scratch: Vec<u8>,
}

impl Nic {
    /// Wraps a started device.
    pub fn new(dev: NetDevice<VirtioPci>) -> Nic {
        Nic { dev, rx: Vec::with_capacity(MAX_FRAME), tx_scratch: Vec::new() }
    }
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
        let Nic { dev, rx, tx_scratch } = self;
        dev.receive(|frame| {
            rx.clear();
            rx.extend_from_slice(frame);
        })?;
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
