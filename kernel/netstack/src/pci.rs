//! Finding a virtio network device on the PCI bus and choosing its transport.

use super::legacy::LegacyTransport;
use berth_hal::port::{IoWindow, PciLocation};
use berth_hal::virtio::pci_root;
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{Command, DeviceFunction};
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{Error, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// PCI device id of a transitional virtio network device.
const TRANSITIONAL_NET: u16 = 0x1000;

/// A virtio PCI device through whichever transport it offers.
pub enum VirtioPci {
    /// The virtio 1.x transport (registers in memory BARs).
    Modern(PciTransport),
    /// The legacy transport (registers in an I/O BAR).
    Legacy(LegacyTransport),
}

/// A virtio network device found on the bus, ready for a driver.
pub struct FoundDevice {
    /// Its transport.
    pub transport: VirtioPci,
    /// The interrupt line the firmware assigned (an ISA IRQ number).
    pub irq_line: u8,
    /// Where it is, for the log.
    pub location: DeviceFunction,
}

impl VirtioPci {
    /// `modern` or `legacy`.
    pub fn kind(&self) -> &'static str {
        match self {
            VirtioPci::Modern(_) => "modern",
            VirtioPci::Legacy(_) => "legacy",
        }
    }
}

/// Why a virtio device's transport could not be opened.
#[derive(Debug)]
pub enum TransportError {
    /// The legacy transport was asked for and the device has no legacy I/O BAR.
    NoLegacyBar,
    /// The modern transport failed and the device has no legacy one to fall back on.
    Modern(virtio_drivers::transport::pci::VirtioPciError),
}

impl core::fmt::Display for TransportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TransportError::NoLegacyBar => f.write_str("the device has no legacy I/O BAR"),
            TransportError::Modern(e) => write!(f, "no modern transport ({e}) and no legacy I/O BAR"),
        }
    }
}

/// Finds the first virtio network device, turns on its bus mastering, and opens its
/// modern transport (or the legacy one if it has no other, or `legacy` is asked for).
pub fn find_net_device(legacy: bool) -> Option<Result<FoundDevice, TransportError>> {
    let mut root = pci_root();
    let (df, device_id) = berth_hal::virtio::virtio_functions(&root, DeviceType::Network).into_iter().next()?;
    let (_, command) = root.get_status_command(df);
    let command =
        (command | Command::IO_SPACE | Command::MEMORY_SPACE | Command::BUS_MASTER) - Command::INTERRUPT_DISABLE;
    root.set_command(df, command);
    let irq_line = berth_hal::pci::read_config(df.bus, df.device, df.function, 0x3c) as u8;
    let legacy_transport = || {
        let at = PciLocation { bus: df.bus, device: df.device, function: df.function };
        IoWindow::pci_bar(at, 0).map(|ports| VirtioPci::Legacy(LegacyTransport::new(ports, DeviceType::Network)))
    };
    // Transitional devices (id 0x1000) have both transports; 0x1041 is modern only.
    let transitional = device_id == TRANSITIONAL_NET;
    let transport = if legacy && transitional {
        legacy_transport().ok_or(TransportError::NoLegacyBar)
    } else {
        match PciTransport::new::<berth_hal::virtio::VirtioHal, _>(&mut root, df) {
            Ok(t) => Ok(VirtioPci::Modern(t)),
            Err(modern) if transitional => legacy_transport().ok_or(TransportError::Modern(modern)),
            Err(e) => Err(TransportError::Modern(e)),
        }
    };
    Some(transport.map(|transport| FoundDevice { transport, irq_line, location: df }))
}

macro_rules! each {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            VirtioPci::Modern($t) => $e,
            VirtioPci::Legacy($t) => $e,
        }
    };
}

impl Transport for VirtioPci {
    fn device_type(&self) -> DeviceType {
        each!(self, t => t.device_type())
    }
    fn read_device_features(&mut self) -> u64 {
        each!(self, t => t.read_device_features())
    }
    fn write_driver_features(&mut self, features: u64) {
        each!(self, t => t.write_driver_features(features))
    }
    fn max_queue_size(&mut self, queue: u16) -> u32 {
        each!(self, t => t.max_queue_size(queue))
    }
    fn notify(&mut self, queue: u16) {
        each!(self, t => t.notify(queue))
    }
    fn get_status(&self) -> DeviceStatus {
        each!(self, t => t.get_status())
    }
    fn set_status(&mut self, status: DeviceStatus) {
        each!(self, t => t.set_status(status))
    }
    fn set_guest_page_size(&mut self, size: u32) {
        each!(self, t => t.set_guest_page_size(size))
    }
    fn requires_legacy_layout(&self) -> bool {
        each!(self, t => t.requires_legacy_layout())
    }
    fn queue_set(&mut self, queue: u16, size: u32, descriptors: PhysAddr, driver: PhysAddr, device: PhysAddr) {
        each!(self, t => t.queue_set(queue, size, descriptors, driver, device))
    }
    fn queue_unset(&mut self, queue: u16) {
        each!(self, t => t.queue_unset(queue))
    }
    fn queue_used(&mut self, queue: u16) -> bool {
        each!(self, t => t.queue_used(queue))
    }
    fn ack_interrupt(&mut self) -> InterruptStatus {
        each!(self, t => t.ack_interrupt())
    }
    fn read_config_generation(&self) -> u32 {
        each!(self, t => t.read_config_generation())
    }
    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T, Error> {
        each!(self, t => t.read_config_space(offset))
    }
    fn write_config_space<T: IntoBytes + Immutable>(&mut self, offset: usize, value: T) -> Result<(), Error> {
        each!(self, t => t.write_config_space(offset, value))
    }
}
