//! virtio block devices: found on the PCI bus, read and written a run of sectors at a
//! time.
//!
//! Requests wait for the device by polling (the device answers in microseconds; a
//! request in flight holds the device's lock). Data goes through a bounce buffer of
//! [`BOUNCE_BYTES`] physically contiguous bytes owned by the device, so callers pass
//! any slice.

use crate::layout::PAGE_SIZE;
use crate::virtio::{VirtioHal, pci_root};
use alloc::vec::Vec;
use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{Command, DeviceFunction};

/// Bytes per sector.
pub const SECTOR: usize = 512;
/// Bytes moved per request at most.
pub const BOUNCE_BYTES: usize = 1 << 20;

/// Why a block request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The range runs past the device's end, or the buffer is not whole sectors.
    OutOfRange,
    /// The device refused writes.
    ReadOnly,
    /// The device reported an error.
    Device,
}

impl core::fmt::Display for BlockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BlockError::OutOfRange => "sector range out of bounds",
            BlockError::ReadOnly => "the device is read-only",
            BlockError::Device => "the device reported an I/O error",
        })
    }
}

/// [`BOUNCE_BYTES`] of physically contiguous memory a device reads and writes.
struct Bounce {
    /// Its physical address (in the direct map).
    phys: u64,
}

impl Bounce {
    fn new() -> Option<Bounce> {
        crate::mm::alloc_contiguous_zeroed(BOUNCE_BYTES / PAGE_SIZE as usize).map(|phys| Bounce { phys })
    }

    /// Its first `len` bytes (at most all of them).
    fn bytes(&mut self, len: usize) -> &mut [u8] {
        // SAFETY: `phys` is BOUNCE_BYTES of contiguous frames owned by `self` (freed
        // only in drop), in the direct map, never mapped into user space; the borrow of
        // `self` is exclusive, and the device touches them only during a request made
        // with this borrow.
        unsafe {
            core::slice::from_raw_parts_mut((crate::mm::phys_offset() + self.phys) as *mut u8, len.min(BOUNCE_BYTES))
        }
    }
}

impl Drop for Bounce {
    fn drop(&mut self) {
        crate::mm::free_contiguous(self.phys, BOUNCE_BYTES / PAGE_SIZE as usize);
    }
}

/// A virtio block device and its bounce buffer.
pub struct BlockDevice {
    blk: VirtIOBlk<VirtioHal, PciTransport>,
    bounce: Bounce,
    sectors: u64,
    /// Where it is on the PCI bus, for the log.
    pub location: DeviceFunction,
}

// SAFETY: the device's queue memory and the bounce buffer are owned by it and reached
// only through `&mut self`; nothing in it is tied to the CPU that made it.
unsafe impl Send for BlockDevice {}

impl BlockDevice {
    /// Its size in sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Whether the device refuses writes.
    pub fn readonly(&self) -> bool {
        self.blk.readonly()
    }

    fn check(&self, sector: u64, len: usize) -> Result<(), BlockError> {
        let count = (len / SECTOR) as u64;
        if !len.is_multiple_of(SECTOR) || sector.checked_add(count).is_none_or(|end| end > self.sectors) {
            return Err(BlockError::OutOfRange);
        }
        Ok(())
    }

    /// Reads whole sectors from `sector` on into `buf`.
    pub fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.check(sector, buf.len())?;
        for (i, chunk) in buf.chunks_mut(BOUNCE_BYTES).enumerate() {
            let at = sector + (i * BOUNCE_BYTES / SECTOR) as u64;
            let bounce = self.bounce.bytes(chunk.len());
            self.blk.read_blocks(at as usize, bounce).map_err(|_| BlockError::Device)?;
            chunk.copy_from_slice(bounce);
        }
        Ok(())
    }

    /// Writes whole sectors from `buf` at `sector` on. The device may keep them in a
    /// cache until [`BlockDevice::flush`].
    pub fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.check(sector, buf.len())?;
        if self.readonly() {
            return Err(BlockError::ReadOnly);
        }
        for (i, chunk) in buf.chunks(BOUNCE_BYTES).enumerate() {
            let at = sector + (i * BOUNCE_BYTES / SECTOR) as u64;
            let bounce = self.bounce.bytes(chunk.len());
            bounce.copy_from_slice(chunk);
            self.blk.write_blocks(at as usize, bounce).map_err(|_| BlockError::Device)?;
        }
        Ok(())
    }

    /// Makes every write so far durable (the device's cache reaches its medium).
    pub fn flush(&mut self) -> Result<(), BlockError> {
        self.blk.flush().map_err(|_| BlockError::Device)
    }
}

/// Every virtio block device on bus 0 and the buses behind its bridges, opened through
/// the virtio 1.x transport (devices that fail to open are logged and skipped).
pub fn find_block_devices() -> Vec<BlockDevice> {
    let mut root = pci_root();
    let mut found = Vec::new();
    let functions = crate::virtio::virtio_functions(&root, DeviceType::Block);
    for (df, _) in functions {
        let (_, command) = root.get_status_command(df);
        root.set_command(df, command | Command::MEMORY_SPACE | Command::BUS_MASTER);
        let transport = match PciTransport::new::<VirtioHal, _>(&mut root, df) {
            Ok(t) => t,
            Err(e) => {
                log::warn!("virtio-blk at {df}: no virtio 1.x transport ({e})");
                continue;
            }
        };
        let blk = match VirtIOBlk::<VirtioHal, _>::new(transport) {
            Ok(b) => b,
            Err(e) => {
                log::warn!("virtio-blk at {df}: {e:?}");
                continue;
            }
        };
        let Some(bounce) = Bounce::new() else {
            log::warn!("virtio-blk at {df}: no memory for its bounce buffer");
            continue;
        };
        let sectors = blk.capacity();
        found.push(BlockDevice { blk, bounce, sectors, location: df });
    }
    found
}
