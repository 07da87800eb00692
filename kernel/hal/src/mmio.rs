//! Device registers in memory: bounds-checked volatile access.

pub use crate::mm::MapError;

/// A mapped range of device registers. Accesses are volatile, naturally aligned and
/// checked against the range, so a driver bug panics instead of touching other memory.
#[derive(Debug)]
pub struct Mmio {
    virt: u64,
    len: u64,
}

impl Mmio {
    /// Maps `len` bytes of device registers at physical `phys` (uncached). Refuses
    /// ranges that are RAM.
    pub fn map(phys: u64, len: u64) -> Result<Mmio, MapError> {
        let virt = crate::mm::map_device(phys, len)?;
        Ok(Mmio { virt, len })
    }

    fn addr(&self, offset: u64, size: u64) -> u64 {
        assert!(
            offset.is_multiple_of(size) && offset.checked_add(size).is_some_and(|end| end <= self.len),
            "MMIO access of {size} bytes at {offset:#x} outside a {:#x}-byte region",
            self.len
        );
        self.virt + offset
    }

    /// Reads a 32-bit register.
    pub fn read32(&self, offset: u64) -> u32 {
        // SAFETY: `addr` checked that the aligned access lies inside the mapping.
        unsafe { core::ptr::read_volatile(self.addr(offset, 4) as *const u32) }
    }

    /// Writes a 32-bit register.
    pub fn write32(&self, offset: u64, value: u32) {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile(self.addr(offset, 4) as *mut u32, value) }
    }

    /// Reads a 64-bit register.
    pub fn read64(&self, offset: u64) -> u64 {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::read_volatile(self.addr(offset, 8) as *const u64) }
    }

    /// Writes a 64-bit register.
    pub fn write64(&self, offset: u64, value: u64) {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile(self.addr(offset, 8) as *mut u64, value) }
    }
}
