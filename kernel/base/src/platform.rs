//! The machine as ACPI describes it: interrupt controllers, timers, power control.

use acpi::platform::interrupt::InterruptSourceOverride;
use acpi::platform::{AcpiPlatform, InterruptModel, ProcessorState};
use acpi::{AcpiError, HpetInfo};
use alloc::vec::Vec;
use berth_hal::acpi::Firmware;
use berth_hal::apic;
use berth_hal::bootinfo::BootInfo;
use berth_hal::mm::MapError;
use berth_hal::time::ReferenceClock;
use core::fmt;

/// What the kernel learned about the machine at boot.
pub struct Platform {
    /// How the local APIC is driven.
    pub apic_mode: apic::Mode,
    /// The clock the TSC and APIC timer are calibrated against.
    pub reference: ReferenceClock,
    /// Local APIC ids of the other processors ACPI lists as usable (not the boot CPU's).
    pub application_processors: Vec<u32>,
    /// The name of the reference clock, for the banner.
    pub reference_name: &'static str,
}

static ACPI: spin::Once<AcpiPlatform<Firmware>> = spin::Once::new();

/// Reads the ACPI tables and brings up the local APIC and a reference clock.
pub fn init(boot: &BootInfo) -> Platform {
    match try_init(boot) {
        Ok(p) => p,
        Err(e) => panic!("platform: {e}"),
    }
}

/// Why the platform could not be brought up (berth cannot run without it).
#[derive(Debug)]
pub enum PlatformError {
    /// The boot loader reported no ACPI tables.
    NoRsdp,
    /// The ACPI tables could not be read.
    Tables(AcpiError),
    /// The machine has no APIC.
    NoApic,
    /// The HPET's registers could not be mapped.
    Hpet(MapError),
    /// The machine has neither an HPET nor an ACPI PM timer to measure clocks against.
    NoReferenceClock,
    /// The local APIC's registers could not be mapped.
    LocalApic(MapError),
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformError::NoRsdp => f.write_str("the boot loader did not report ACPI tables (no RSDP)"),
            PlatformError::Tables(e) => write!(f, "ACPI tables: {e:?}"),
            PlatformError::NoApic => f.write_str("the machine has no APIC"),
            PlatformError::Hpet(e) => write!(f, "HPET: {e}"),
            PlatformError::NoReferenceClock => f.write_str("neither an HPET nor an ACPI PM timer"),
            PlatformError::LocalApic(e) => write!(f, "local APIC: {e}"),
        }
    }
}

fn try_init(boot: &BootInfo) -> Result<Platform, PlatformError> {
    let rsdp = boot.rsdp.ok_or(PlatformError::NoRsdp)?;
    let tables = berth_hal::acpi::tables(rsdp).map_err(PlatformError::Tables)?;
    let hpet = HpetInfo::new(&tables).ok();
    let acpi = AcpiPlatform::new(tables, Firmware).map_err(PlatformError::Tables)?;
    let application_processors = acpi.processor_info.as_ref().map_or(Vec::new(), |p| {
        let usable = p.application_processors.iter().filter(|c| c.state != ProcessorState::Disabled);
        usable.map(|c| c.local_apic_id).collect()
    });
    if !matches!(acpi.interrupt_model, InterruptModel::Apic(_)) {
        return Err(PlatformError::NoApic);
    }
    let (reference, reference_name) = match hpet {
        Some(h) => (ReferenceClock::hpet(h.base_address as u64).map_err(PlatformError::Hpet)?, "HPET"),
        None => {
            let pm = acpi.pm_timer.as_ref().and_then(ReferenceClock::pm_timer);
            (pm.ok_or(PlatformError::NoReferenceClock)?, "ACPI PM timer")
        }
    };
    let apic_mode = apic::init().map_err(PlatformError::LocalApic)?;
    ACPI.call_once(|| acpi);
    Ok(Platform { apic_mode, reference, application_processors, reference_name })
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "platform: {} CPU(s), local APIC in {:?} mode, reference clock {} at {} Hz",
            1 + self.application_processors.len(),
            self.apic_mode,
            self.reference_name,
            self.reference.hz()
        )
    }
}

/// The I/O APICs and the ISA interrupt overrides the MADT lists.
pub fn interrupt_routing() -> Option<(Vec<acpi::platform::interrupt::IoApic>, Vec<InterruptSourceOverride>)> {
    match &ACPI.get()?.interrupt_model {
        InterruptModel::Apic(apic) => Some((apic.io_apics.to_vec(), apic.interrupt_source_overrides.to_vec())),
        _ => None,
    }
}

/// Powers off through ACPI: evaluates `\_S5` for the sleep type and writes it with
/// SLP_EN to the PM1 control registers. The machine stops when the platform gets to
/// it (a hypervisor, between instructions); Ok means the request was made.
pub fn acpi_power_off() -> Result<(), PowerOffError> {
    use acpi::aml::{Interpreter, namespace::AmlName, object::Object};
    use acpi::registers::Pm1ControlBit;
    use alloc::vec::Vec;
    use core::str::FromStr;
    let acpi = ACPI.get().ok_or(PowerOffError::NoAcpi)?;
    let aml = Interpreter::new_from_platform(acpi).map_err(PowerOffError::Registers)?;
    let name = AmlName::from_str("\\_S5").map_err(PowerOffError::Aml)?;
    let s5 = aml.evaluate(name, Vec::new()).map_err(PowerOffError::Aml)?;
    let Object::Package(values) = &*s5 else {
        return Err(PowerOffError::NoSleepType);
    };
    let Some(Object::Integer(sleep_type)) = values.first().map(|v| &**v) else {
        return Err(PowerOffError::NoSleepType);
    };
    // SLP_TYPa; the acpi crate writes it to PM1b too, which machines rarely have.
    let control = &acpi.registers.pm1_control_registers;
    control.set_sleep_typ(*sleep_type as u8).map_err(PowerOffError::Registers)?;
    control.set_bit(Pm1ControlBit::SleepEnable, true).map_err(PowerOffError::Registers)?;
    Ok(())
}

/// Why an ACPI power-off could not be asked for.
#[derive(Debug)]
pub enum PowerOffError {
    /// The platform was not brought up from ACPI.
    NoAcpi,
    /// The AML interpreter failed on `\\_S5`.
    Aml(acpi::aml::AmlError),
    /// `\\_S5` gives no sleep type.
    NoSleepType,
    /// The AML interpreter could not start, or the PM1 control registers could not
    /// be written.
    Registers(AcpiError),
}

impl fmt::Display for PowerOffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PowerOffError::NoAcpi => f.write_str("ACPI is not initialized"),
            PowerOffError::Aml(e) => write!(f, "AML: {e:?}"),
            PowerOffError::NoSleepType => f.write_str("\\_S5 gives no sleep type"),
            PowerOffError::Registers(e) => write!(f, "ACPI: {e:?}"),
        }
    }
}

/// Starts the other processors ACPI lists and logs how many run. They wait until the
/// kernel releases them into the scheduler (`berth_hal::smp::release`).
pub fn start_cpus(platform: &Platform) {
    let ids = &platform.application_processors;
    for (id, result) in ids.iter().zip(berth_hal::smp::start(ids)) {
        if let Err(e) = result {
            log::warn!("CPU with APIC id {id} not started: {e}");
        }
    }
    let online = berth_hal::smp::online();
    match berth_hal::smp::started_by_loader() {
        0 => log::info!("CPUs: {online} of {} online", 1 + ids.len()),
        n => log::info!("CPUs: {online} of {} online ({n} started by the boot loader)", 1 + ids.len()),
    }
}
