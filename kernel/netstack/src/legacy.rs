//! The legacy virtio PCI transport (virtio 0.9.5 "legacy interface"): device registers
//! in an I/O port BAR, queues given to the device by page frame number. Transitional
//! devices offer it beside the modern transport; `disable-modern=on` devices (and older
//! hypervisors) offer only this. `virtio_drivers` has no PCI implementation of it.

use berth_hal::port::IoWindow;
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{Error, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

const HOST_FEATURES: u16 = 0x00;
const GUEST_FEATURES: u16 = 0x04;
const QUEUE_PFN: u16 = 0x08;
const QUEUE_NUM: u16 = 0x0c;
const QUEUE_SEL: u16 = 0x0e;
const QUEUE_NOTIFY: u16 = 0x10;
const STATUS: u16 = 0x12;
const ISR: u16 = 0x13;
/// Device-specific configuration, while MSI-X is off (berth uses INTx).
const CONFIG: u16 = 0x14;
/// The page size the legacy interface counts queue addresses in.
const LEGACY_PAGE: u64 = 4096;

/// A device driven through its legacy I/O port registers.
#[derive(Debug)]
pub struct LegacyTransport {
    ports: IoWindow,
    device_type: DeviceType,
}

impl LegacyTransport {
    /// A transport over the device's I/O BAR.
    pub fn new(ports: IoWindow, device_type: DeviceType) -> LegacyTransport {
        LegacyTransport { ports, device_type }
    }

    fn select(&self, queue: u16) {
        self.ports.write16(QUEUE_SEL, queue);
    }

    fn config_len(&self) -> usize {
        usize::from(self.ports.len().saturating_sub(CONFIG))
    }
}

impl Transport for LegacyTransport {
    fn device_type(&self) -> DeviceType {
        self.device_type
    }

    fn read_device_features(&mut self) -> u64 {
        u64::from(self.ports.read32(HOST_FEATURES))
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.ports.write32(GUEST_FEATURES, driver_features as u32);
    }

    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.select(queue);
        u32::from(self.ports.read16(QUEUE_NUM))
    }

    fn notify(&mut self, queue: u16) {
        self.ports.write16(QUEUE_NOTIFY, queue);
    }

    fn get_status(&self) -> DeviceStatus {
        DeviceStatus::from_bits_truncate(u32::from(self.ports.read8(STATUS)))
    }

    fn set_status(&mut self, status: DeviceStatus) {
        self.ports.write8(STATUS, status.bits() as u8);
    }

    fn set_guest_page_size(&mut self, _guest_page_size: u32) {
        // Legacy PCI always counts in 4 KiB pages.
    }

    fn requires_legacy_layout(&self) -> bool {
        true
    }

    fn queue_set(&mut self, queue: u16, size: u32, descriptors: PhysAddr, _driver: PhysAddr, _device: PhysAddr) {
        self.select(queue);
        // The device lays the rings out by its own queue size, which cannot be changed.
        let fixed = u32::from(self.ports.read16(QUEUE_NUM));
        assert_eq!(size, fixed, "legacy virtio queue {queue} has {fixed} entries, the driver asked for {size}");
        self.ports.write32(QUEUE_PFN, (descriptors / LEGACY_PAGE) as u32);
    }

    fn queue_unset(&mut self, queue: u16) {
        self.select(queue);
        self.ports.write32(QUEUE_PFN, 0);
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.select(queue);
        self.ports.read32(QUEUE_PFN) != 0
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        // Reading the ISR clears it and deasserts the interrupt line.
        InterruptStatus::from_bits_retain(u32::from(self.ports.read8(ISR)))
    }

    fn read_config_generation(&self) -> u32 {
        // The legacy interface has no generation counter.
        0
    }

    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T, Error> {
        let mut value = T::new_zeroed();
        let bytes = value.as_mut_bytes();
        if offset.checked_add(bytes.len()).is_none_or(|end| end > self.config_len()) {
            return Err(Error::ConfigSpaceTooSmall);
        }
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = self.ports.read8(CONFIG + (offset + i) as u16);
        }
        Ok(value)
    }

    fn write_config_space<T: IntoBytes + Immutable>(&mut self, offset: usize, value: T) -> Result<(), Error> {
        let bytes = value.as_bytes();
        if offset.checked_add(bytes.len()).is_none_or(|end| end > self.config_len()) {
            return Err(Error::ConfigSpaceTooSmall);
        }
        for (i, b) in bytes.iter().enumerate() {
            self.ports.write8(CONFIG + (offset + i) as u16, *b);
        }
        Ok(())
    }
}
