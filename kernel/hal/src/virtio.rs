//! virtio devices: the `virtio_drivers::Hal` implementation (DMA memory, address
//! translation, BAR mapping), PCI configuration access for the crate's PCI code, and
//! [`NetDevice`], a safe network device over `VirtIONetRaw` that owns its packet
//! buffers for as long as the device may touch them.
//!
//! Devices are trusted to access only the memory their driver gives them (there is no
//! IOMMU); this module makes sure that memory is owned and stays alive meanwhile.

use crate::layout::PAGE_SIZE;
use crate::mm::Frame;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::Transport;
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::{BufferDirection, PhysAddr};

pub use virtio_drivers::Error as VirtioError;

/// berth's answers to what virtio drivers need from the machine.
pub struct VirtioHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned, physically contiguous frames that
// nothing else owns until `dma_dealloc`; `mmio_phys_to_virt` maps device memory
// uncached and refuses RAM; `share` returns the physical address of the buffer itself
// when it is physically contiguous, or of a bounce buffer holding its bytes (owned
// until `unshare`, which copies the device's bytes back and frees it).
unsafe impl virtio_drivers::Hal for VirtioHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        match crate::mm::alloc_contiguous_zeroed(pages) {
            Some(phys) => {
                let virt = crate::mm::phys_offset() + phys;
                (phys, NonNull::new(virt as *mut u8).expect("the direct map is not at 0"))
            }
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        crate::mm::free_contiguous(paddr, pages);
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let virt = crate::mm::map_device(paddr, size as u64)
            .unwrap_or_else(|e| panic!("virtio: cannot map BAR memory at {paddr:#x}: {e}"));
        NonNull::new(virt as *mut u8).expect("the direct map is not at 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        if let Some(phys) = contiguous_phys(buffer) {
            return phys;
        }
        // A buffer whose pages are not physically adjacent (a small request header on a
        // kernel stack that happens to cross a page, say): the device gets a copy.
        let pages = buffer.len().div_ceil(PAGE_SIZE as usize).max(1);
        let bounce = crate::mm::alloc_contiguous_zeroed(pages)
            .unwrap_or_else(|| panic!("virtio: no memory for a {pages}-page bounce buffer"));
        if direction != BufferDirection::DeviceToDriver {
            // SAFETY: the caller lends `buffer` (valid for reads) for the transfer; the
            // bounce frames are fresh, contiguous, in the direct map and owned here.
            unsafe { copy_nonoverlapping_bytes(buffer.as_ptr() as *const u8, bounce_ptr(bounce), buffer.len()) };
        }
        bounce
    }

    unsafe fn unshare(paddr: PhysAddr, buffer: NonNull<[u8]>, direction: BufferDirection) {
        if contiguous_phys(buffer) == Some(paddr) {
            return;
        }
        if direction != BufferDirection::DriverToDevice {
            // SAFETY: `paddr` is the bounce buffer `share` made for `buffer`, which the
            // device is done with; `buffer` is valid for writes (the caller's contract).
            unsafe { copy_nonoverlapping_bytes(bounce_ptr(paddr), buffer.as_ptr() as *mut u8, buffer.len()) };
        }
        crate::mm::free_contiguous(paddr, buffer.len().div_ceil(PAGE_SIZE as usize).max(1));
    }
}

/// The physical address of `buffer` if all its pages are mapped and physically
/// adjacent (always so for one page, and for memory from `dma_alloc`).
fn contiguous_phys(buffer: NonNull<[u8]>) -> Option<PhysAddr> {
    let start = buffer.as_ptr() as *mut u8 as u64;
    let len = buffer.len() as u64;
    let phys = crate::mm::kernel_virt_to_phys_mapped(start)
        .unwrap_or_else(|| panic!("virtio: buffer at {start:#x} is not mapped"));
    let mut page = start / PAGE_SIZE * PAGE_SIZE + PAGE_SIZE;
    while page < start + len {
        if crate::mm::kernel_virt_to_phys_mapped(page) != Some(phys + (page - start)) {
            return None;
        }
        page += PAGE_SIZE;
    }
    Some(phys)
}

/// A bounce buffer's bytes, in the direct map.
fn bounce_ptr(phys: PhysAddr) -> *mut u8 {
    (crate::mm::phys_offset() + phys) as *mut u8
}

/// Copies `len` bytes between buffers that do not overlap.
///
/// # Safety
/// `from` must be valid for `len` bytes of reads and `to` for `len` bytes of writes.
unsafe fn copy_nonoverlapping_bytes(from: *const u8, to: *mut u8, len: usize) {
    // SAFETY: as the caller promises; a bounce buffer never overlaps the buffer it
    // stands for (it is freshly allocated).
    unsafe { core::ptr::copy_nonoverlapping(from, to, len) };
}

/// PCI configuration space through ports 0xcf8/0xcfc, for `virtio_drivers`' PCI code.
#[derive(Debug)]
pub struct PciPorts;

impl ConfigurationAccess for PciPorts {
    fn read_word(&self, at: DeviceFunction, offset: u8) -> u32 {
        crate::pci::read_config(at.bus, at.device, at.function, u16::from(offset))
    }

    fn write_word(&mut self, at: DeviceFunction, offset: u8, data: u32) {
        crate::pci::write_config(at.bus, at.device, at.function, u16::from(offset), data)
    }

    unsafe fn unsafe_clone(&self) -> PciPorts {
        PciPorts
    }
}

/// The PCI bus as `virtio_drivers` sees it.
pub fn pci_root() -> PciRoot<PciPorts> {
    PciRoot::new(PciPorts)
}

/// The virtio functions of type `kind` (with their PCI device ids) on bus 0 and every
/// bus behind a PCI-to-PCI bridge.
pub fn virtio_functions(
    root: &PciRoot<PciPorts>,
    kind: virtio_drivers::transport::DeviceType,
) -> Vec<(DeviceFunction, u16)> {
    use virtio_drivers::transport::pci::bus::HeaderType;
    let mut found = Vec::new();
    let mut buses = alloc::vec![0u8];
    let mut seen = [false; 256];
    while let Some(bus) = buses.pop() {
        if core::mem::replace(&mut seen[usize::from(bus)], true) {
            continue;
        }
        for (df, info) in root.enumerate_bus(bus) {
            if info.header_type == HeaderType::PciPciBridge {
                let secondary = (crate::pci::read_config(df.bus, df.device, df.function, 0x18) >> 8) as u8;
                if secondary != 0 {
                    buses.push(secondary);
                }
            }
            if virtio_drivers::transport::pci::virtio_device_type(&info) == Some(kind) {
                found.push((df, info.device_id));
            }
        }
    }
    found
}

/// One page the device reads or writes: owned here while the device holds it.
struct DmaPage(Frame);

impl DmaPage {
    fn new() -> Option<DmaPage> {
        Frame::alloc().map(DmaPage)
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the frame is owned by `self`, lies in the direct map, and is never
        // mapped into user space; the borrow of `self` keeps it alive and unaliased.
        unsafe { core::slice::from_raw_parts(self.0.ptr(), PAGE_SIZE as usize) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and the borrow is exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.0.ptr(), PAGE_SIZE as usize) }
    }
}

/// Descriptors per virtqueue. Legacy devices fix the size (QEMU: 256), and the modern
/// transport is set to the same.
pub const NET_QUEUE_SIZE: usize = 256;
/// Receive buffers kept posted to the device.
const RX_BUFFERS: usize = 128;
/// Most transmit buffers in flight.
const TX_BUFFERS: usize = 128;

/// Counters of a network device.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetCounters {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received (Ethernet frames).
    pub rx_bytes: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames dropped because every transmit buffer was in flight.
    pub tx_busy: u64,
}

/// A virtio network device with its receive and transmit buffers. Each buffer is a
/// page owned by this struct, indexed by the token the virtqueue gave it, from the
/// moment it is handed to the device until the device gives it back.
pub struct NetDevice<T: Transport> {
    /// Boxed: its two queues' shadow descriptor tables take over 12 KiB.
    raw: Box<VirtIONetRaw<VirtioHal, T, NET_QUEUE_SIZE>>,
    rx_posted: Vec<Option<DmaPage>>,
    /// Transmit buffers the device holds, with the length submitted.
    tx_in_flight: Vec<Option<(DmaPage, usize)>>,
    tx_free: Vec<DmaPage>,
    counters: NetCounters,
}

// SAFETY: the raw device holds pointers into DMA memory and MMIO owned by this struct;
// moving it to another thread or CPU is fine (the network stack's lock is around it).
unsafe impl<T: Transport + Send> Send for NetDevice<T> {}

impl<T: Transport> NetDevice<T> {
    /// Resets and starts the device on `transport` and posts its receive buffers.
    pub fn new(transport: T) -> Result<NetDevice<T>, VirtioError> {
        let raw = Box::new(VirtIONetRaw::new(transport)?);
        let mut dev = NetDevice {
            raw,
            rx_posted: (0..NET_QUEUE_SIZE).map(|_| None).collect(),
            tx_in_flight: (0..NET_QUEUE_SIZE).map(|_| None).collect(),
            tx_free: Vec::with_capacity(TX_BUFFERS),
            counters: NetCounters::default(),
        };
        for _ in 0..RX_BUFFERS {
            let page = DmaPage::new().ok_or(VirtioError::DmaError)?;
            dev.post_rx(page)?;
        }
        // All transmit buffers up front: the device's memory is fixed from the start.
        for _ in 0..TX_BUFFERS {
            dev.tx_free.push(DmaPage::new().ok_or(VirtioError::DmaError)?);
        }
        Ok(dev)
    }

    fn post_rx(&mut self, mut page: DmaPage) -> Result<(), VirtioError> {
        // SAFETY: the page is stored under its token below and not touched until
        // `receive` takes it back with `receive_complete`.
        let token = unsafe { self.raw.receive_begin(page.bytes_mut())? };
        let slot = self.rx_posted.get_mut(usize::from(token)).ok_or(VirtioError::WrongToken)?;
        *slot = Some(page);
        Ok(())
    }

    /// The device's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.raw.mac_address()
    }

    /// Reads the interrupt status, which also deasserts a level-triggered interrupt.
    /// Returns whether the device had raised one.
    pub fn ack_interrupt(&mut self) -> bool {
        !self.raw.ack_interrupt().is_empty()
    }

    /// Whether a received frame is waiting.
    pub fn can_receive(&self) -> bool {
        self.raw.poll_receive().is_some()
    }

    /// Takes the next received frame, if any, passes its bytes to `f`, and gives the
    /// buffer back to the device.
    pub fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let token = self.raw.poll_receive()?;
        let mut page = self.rx_posted.get_mut(usize::from(token))?.take()?;
        // SAFETY: `page` is the buffer posted with this token.
        let received = unsafe { self.raw.receive_complete(token, page.bytes_mut()) };
        let result = match received {
            Ok((header, len)) => {
                self.counters.rx_packets += 1;
                self.counters.rx_bytes += len as u64;
                Some(f(&page.bytes()[header..header + len]))
            }
            Err(e) => {
                log::warn!("virtio-net: bad receive completion: {e}");
                None
            }
        };
        if let Err(e) = self.post_rx(page) {
            log::warn!("virtio-net: cannot repost a receive buffer: {e}");
        }
        result
    }

    /// Returns transmit buffers the device is done with to the free list.
    fn reclaim_tx(&mut self) {
        while let Some(token) = self.raw.poll_transmit() {
            let Some((page, len)) = self.tx_in_flight.get_mut(usize::from(token)).and_then(Option::take) else {
                log::warn!("virtio-net: transmit completion for unknown token {token}");
                return;
            };
            // SAFETY: `page[..len]` is the buffer submitted with this token.
            if let Err(e) = unsafe { self.raw.transmit_complete(token, &page.bytes()[..len]) } {
                log::warn!("virtio-net: bad transmit completion: {e}");
            }
            self.tx_free.push(page);
        }
    }

    /// Whether a frame could be sent now.
    pub fn can_transmit(&mut self) -> bool {
        self.reclaim_tx();
        !self.tx_free.is_empty() && self.raw.can_send()
    }

    /// Sends a frame of `len` bytes (at most a page less the header) that `f` fills in.
    /// Returns None, sending nothing, when every transmit buffer is in flight.
    pub fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.reclaim_tx();
        let Some(mut page) = self.tx_free.pop() else {
            self.counters.tx_busy += 1;
            return None;
        };
        let header = self.raw.fill_buffer_header(page.bytes_mut()).ok()?;
        let total = header + len;
        if total > PAGE_SIZE as usize {
            self.tx_free.push(page);
            return None;
        }
        let result = f(&mut page.bytes_mut()[header..total]);
        // SAFETY: the page is stored under its token below and not touched until
        // `reclaim_tx` takes it back with `transmit_complete`.
        let submitted = unsafe { self.raw.transmit_begin(&page.bytes()[..total]) };
        match submitted {
            Ok(token) => {
                self.counters.tx_packets += 1;
                self.counters.tx_bytes += len as u64;
                match self.tx_in_flight.get_mut(usize::from(token)) {
                    Some(slot) => *slot = Some((page, total)),
                    None => panic!("virtio-net: token {token} out of range"),
                }
                Some(result)
            }
            Err(_) => {
                self.counters.tx_busy += 1;
                self.tx_free.push(page);
                None
            }
        }
    }

    /// The device's counters.
    pub fn counters(&self) -> NetCounters {
        self.counters
    }
}
