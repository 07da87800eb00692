//! Device interrupts: routing a line through the I/O APIC to a vector, and running its
//! handler when the vector fires.
//!
//! Handlers run in interrupt context with interrupts off: they must not take locks the
//! rest of the kernel holds (no spin `Mutex`), only `IrqLock`s, and should do little
//! more than quiet the line and wake a thread. A level-triggered line stays masked
//! from its interrupt until the thread that services the device calls [`Line::unmask`].

use acpi::platform::interrupt::{Polarity, TriggerMode};
use alloc::vec::Vec;
use berth_hal::mm::MapError;
use berth_hal::mmio::Mmio;
use berth_hal::sync::IrqLock;

/// The first vector handed to devices (below are exceptions and the timer).
const FIRST_VECTOR: u8 = 0x30;
/// How many device vectors exist.
const VECTORS: usize = 32;

/// A device interrupt handler.
pub type Handler = fn();

/// Handlers by vector, from `FIRST_VECTOR`, with the line that raises it.
static HANDLERS: IrqLock<[Option<(Handler, Line)>; VECTORS]> = IrqLock::new([None; VECTORS]);

/// One I/O APIC: its registers and the first global system interrupt it serves.
struct IoApic {
    regs: Mmio,
    gsi_base: u32,
    pins: u32,
}

const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const REG_VERSION: u32 = 0x01;
const REDIRECT_MASKED: u32 = 1 << 16;
const REDIRECT_LEVEL: u32 = 1 << 15;
const REDIRECT_ACTIVE_LOW: u32 = 1 << 13;

impl IoApic {
    fn read(&self, reg: u32) -> u32 {
        self.regs.write32(IOREGSEL, reg);
        self.regs.read32(IOWIN)
    }

    fn write(&self, reg: u32, value: u32) {
        self.regs.write32(IOREGSEL, reg);
        self.regs.write32(IOWIN, value);
    }

    fn serves(&self, gsi: u32) -> bool {
        gsi >= self.gsi_base && gsi < self.gsi_base + self.pins
    }

    fn set_entry(&self, gsi: u32, low: u32, destination: u32) {
        let pin = gsi - self.gsi_base;
        self.write(0x10 + 2 * pin, REDIRECT_MASKED);
        self.write(0x11 + 2 * pin, destination << 24);
        self.write(0x10 + 2 * pin, low);
    }

    fn entry_low(&self, gsi: u32) -> u32 {
        self.read(0x10 + 2 * (gsi - self.gsi_base))
    }

    fn set_entry_low(&self, gsi: u32, low: u32) {
        self.write(0x10 + 2 * (gsi - self.gsi_base), low);
    }
}

/// The I/O APICs and the MADT's ISA overrides.
struct Routing {
    io_apics: Vec<IoApic>,
    overrides: Vec<acpi::platform::interrupt::InterruptSourceOverride>,
    next_vector: u8,
}

static ROUTING: IrqLock<Option<Routing>> = IrqLock::new(None);

/// Why device interrupts could not be set up, or a line routed.
#[derive(Debug)]
pub enum IrqError {
    /// ACPI lists no I/O APIC.
    NoIoApic,
    /// An I/O APIC's registers could not be mapped.
    Map(MapError),
    /// A line was routed before [`init`] succeeded.
    NotInitialized,
    /// No I/O APIC serves this global system interrupt.
    NoApicFor(u32),
    /// Every device interrupt vector is taken.
    OutOfVectors,
}

impl core::fmt::Display for IrqError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IrqError::NoIoApic => f.write_str("ACPI lists no I/O APIC"),
            IrqError::Map(e) => write!(f, "mapping an I/O APIC: {e}"),
            IrqError::NotInitialized => f.write_str("interrupt routing is not initialized"),
            IrqError::NoApicFor(gsi) => write!(f, "no I/O APIC serves GSI {gsi}"),
            IrqError::OutOfVectors => f.write_str("out of device interrupt vectors"),
        }
    }
}

/// Maps the I/O APICs the MADT lists and masks every pin.
pub fn init() -> Result<(), IrqError> {
    let (apics, overrides) = crate::platform::interrupt_routing().ok_or(IrqError::NoIoApic)?;
    let mut io_apics = Vec::new();
    for a in apics {
        let regs = Mmio::map(u64::from(a.address), 0x20).map_err(IrqError::Map)?;
        let mut apic = IoApic { regs, gsi_base: a.global_system_interrupt_base, pins: 0 };
        apic.pins = ((apic.read(REG_VERSION) >> 16) & 0xff) + 1;
        for pin in 0..apic.pins {
            apic.set_entry(apic.gsi_base + pin, REDIRECT_MASKED, 0);
        }
        io_apics.push(apic);
    }
    if io_apics.is_empty() {
        return Err(IrqError::NoIoApic);
    }
    *ROUTING.lock() = Some(Routing { io_apics, overrides, next_vector: FIRST_VECTOR });
    Ok(())
}

/// What kind of bus a line comes from, which decides its default polarity and trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// An ISA interrupt (edge-triggered, active high unless overridden).
    Isa,
    /// A PCI INTx line as the firmware wrote it in the interrupt line register
    /// (level-triggered; polarity from the override, else active low).
    Pci,
}

/// A routed interrupt line.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    gsi: u32,
    vector: u8,
    level: bool,
}

/// Routes `irq` (an ISA IRQ number, as PCI interrupt line registers also give) to a
/// new vector that runs `handler`, unmasked.
pub fn route(irq: u8, bus: Bus, handler: Handler) -> Result<Line, IrqError> {
    let mut guard = ROUTING.lock();
    let routing = guard.as_mut().ok_or(IrqError::NotInitialized)?;
    let over = routing.overrides.iter().find(|o| o.isa_source == irq);
    let gsi = over.map_or(u32::from(irq), |o| o.global_system_interrupt);
    let (default_level, default_low) = match bus {
        Bus::Isa => (false, false),
        Bus::Pci => (true, true),
    };
    let level = match over.map(|o| o.trigger_mode) {
        Some(TriggerMode::Level) => true,
        Some(TriggerMode::Edge) => false,
        _ => default_level,
    };
    let active_low = match over.map(|o| o.polarity) {
        Some(Polarity::ActiveLow) => true,
        Some(Polarity::ActiveHigh) => false,
        _ => default_low,
    };
    let apic = routing.io_apics.iter().find(|a| a.serves(gsi)).ok_or(IrqError::NoApicFor(gsi))?;
    let index = usize::from(routing.next_vector - FIRST_VECTOR);
    if index >= VECTORS {
        return Err(IrqError::OutOfVectors);
    }
    let vector = routing.next_vector;
    routing.next_vector += 1;
    let line = Line { gsi, vector, level };
    HANDLERS.lock()[index] = Some((handler, line));
    let mut low = u32::from(vector);
    if level {
        low |= REDIRECT_LEVEL;
    }
    if active_low {
        low |= REDIRECT_ACTIVE_LOW;
    }
    apic.set_entry(gsi, low, berth_hal::apic::id());
    log::debug!(
        "irq: IRQ {irq} -> GSI {gsi} -> vector {vector:#x} ({}, active {})",
        if level { "level" } else { "edge" },
        if active_low { "low" } else { "high" }
    );
    Ok(line)
}

fn set_masked(gsi: u32, masked: bool) {
    if let Some(routing) = ROUTING.lock().as_ref()
        && let Some(apic) = routing.io_apics.iter().find(|a| a.serves(gsi))
    {
        let low = apic.entry_low(gsi);
        apic.set_entry_low(gsi, if masked { low | REDIRECT_MASKED } else { low & !REDIRECT_MASKED });
    }
}

impl Line {
    /// Unmasks the line (after its device has been serviced).
    pub fn unmask(&self) {
        set_masked(self.gsi, false);
    }

    /// The vector the line raises.
    pub fn vector(&self) -> u8 {
        self.vector
    }
}

/// Runs the handler of device vector `vector`; false if it is not a device vector.
/// A level-triggered line is masked first: its device keeps asserting it until its
/// driver has serviced it, which happens in a thread, not here.
pub fn handle(vector: u8) -> bool {
    let Some(index) = vector.checked_sub(FIRST_VECTOR).map(usize::from).filter(|&i| i < VECTORS) else {
        return false;
    };
    let Some((handler, line)) = HANDLERS.lock()[index] else { return false };
    if line.level {
        set_masked(line.gsi, true);
    }
    handler();
    berth_hal::apic::eoi();
    true
}
