//! I/O port windows of PCI devices: bounds-checked port access for drivers of devices
//! with I/O BARs (the legacy virtio transport).

use x86_64::instructions::port::Port;

/// A device's I/O port range, taken from one of its PCI BARs. Accesses are checked
/// against the range, so a driver can reach its own device's ports and nothing else.
#[derive(Debug)]
pub struct IoWindow {
    base: u16,
    len: u16,
}

/// Where a PCI function sits: bus, device, function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciLocation {
    /// Bus number.
    pub bus: u8,
    /// Device number (0..32).
    pub device: u8,
    /// Function number (0..8).
    pub function: u8,
}

impl IoWindow {
    /// The I/O range of BAR `bar` (0..6) of the PCI function at `at`, if that BAR is
    /// an assigned I/O BAR. Sizes the BAR the standard way (write all ones, read the
    /// mask back, restore), so call it before the device is in use.
    pub fn pci_bar(at: PciLocation, bar: u8) -> Option<IoWindow> {
        if bar >= 6 {
            return None;
        }
        let offset = 0x10 + 4 * u16::from(bar);
        let read = |o| crate::pci::read_config(at.bus, at.device, at.function, o);
        let write = |o, v| crate::pci::write_config(at.bus, at.device, at.function, o, v);
        let original = read(offset);
        if original & 1 == 0 {
            return None;
        }
        write(offset, 0xffff_ffff);
        let mask = read(offset) & !3;
        write(offset, original);
        let base = original & !3;
        let len = (!mask).wrapping_add(1) & 0xffff;
        // Ports below 0x1000 belong to the chipset (PIC, PIT, PCI configuration, ACPI):
        // a device BAR there is a firmware bug this refuses to trust.
        if base < 0x1000 || len == 0 || base + len > 0x1_0000 {
            return None;
        }
        Some(IoWindow { base: base as u16, len: len as u16 })
    }

    /// The first port.
    pub fn base(&self) -> u16 {
        self.base
    }

    /// How many ports the window spans.
    pub fn len(&self) -> u16 {
        self.len
    }

    /// Whether the window is empty (it never is).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn port(&self, offset: u16, size: u16) -> u16 {
        assert!(
            offset.checked_add(size).is_some_and(|end| end <= self.len),
            "I/O access of {size} bytes at {offset:#x} outside a {:#x}-port window",
            self.len
        );
        self.base + offset
    }

    /// Reads a byte at `offset`.
    pub fn read8(&self, offset: u16) -> u8 {
        // SAFETY: the port lies in the device's own I/O BAR (checked above).
        unsafe { Port::new(self.port(offset, 1)).read() }
    }

    /// Reads 16 bits at `offset`.
    pub fn read16(&self, offset: u16) -> u16 {
        // SAFETY: as in `read8`.
        unsafe { Port::new(self.port(offset, 2)).read() }
    }

    /// Reads 32 bits at `offset`.
    pub fn read32(&self, offset: u16) -> u32 {
        // SAFETY: as in `read8`.
        unsafe { Port::new(self.port(offset, 4)).read() }
    }

    /// Writes a byte at `offset`.
    pub fn write8(&self, offset: u16, value: u8) {
        // SAFETY: the port lies in the device's own I/O BAR; its driver owns the device.
        unsafe { Port::new(self.port(offset, 1)).write(value) }
    }

    /// Writes 16 bits at `offset`.
    pub fn write16(&self, offset: u16, value: u16) {
        // SAFETY: as in `write8`.
        unsafe { Port::new(self.port(offset, 2)).write(value) }
    }

    /// Writes 32 bits at `offset`.
    pub fn write32(&self, offset: u16, value: u32) {
        // SAFETY: as in `write8`.
        unsafe { Port::new(self.port(offset, 4)).write(value) }
    }
}
