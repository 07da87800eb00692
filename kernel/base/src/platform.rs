//! The machine as ACPI describes it: interrupt controllers, timers, power control.

use acpi::HpetInfo;
use acpi::platform::interrupt::InterruptSourceOverride;
use acpi::platform::{AcpiPlatform, InterruptModel};
use alloc::string::String;
use alloc::vec::Vec;
use berth_hal::acpi::Firmware;
use berth_hal::apic;
use berth_hal::bootinfo::BootInfo;
use berth_hal::time::ReferenceClock;
use core::fmt;

/// What the kernel learned about the machine at boot.
pub struct Platform {
    /// How the local APIC is driven.
    pub apic_mode: apic::Mode,
    /// The clock the TSC and APIC timer are calibrated against.
    pub reference: ReferenceClock,
    /// Processors ACPI lists (berth uses the first).
    pub cpus: usize,
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

fn try_init(boot: &BootInfo) -> Result<Platform, String> {
    use alloc::format;
    let rsdp = boot.rsdp.ok_or("the boot loader did not report ACPI tables (no RSDP)")?;
    let tables = berth_hal::acpi::tables(rsdp).map_err(|e| format!("ACPI tables: {e:?}"))?;
    let hpet = HpetInfo::new(&tables).ok();
    let acpi = AcpiPlatform::new(tables, Firmware).map_err(|e| format!("ACPI platform: {e:?}"))?;
    let cpus = acpi.processor_info.as_ref().map_or(1, |p| 1 + p.application_processors.len());
    if !matches!(acpi.interrupt_model, InterruptModel::Apic(_)) {
        return Err("the machine has no APIC".into());
    }
    let (reference, reference_name) = match hpet {
        Some(h) => (ReferenceClock::hpet(h.base_address as u64).map_err(|e| format!("HPET: {e}"))?, "HPET"),
        None => {
            let pm = acpi.pm_timer.as_ref().and_then(ReferenceClock::pm_timer);
            (pm.ok_or("neither an HPET nor an ACPI PM timer")?, "ACPI PM timer")
        }
    };
    let apic_mode = apic::init().map_err(|e| format!("local APIC: {e}"))?;
    ACPI.call_once(|| acpi);
    Ok(Platform { apic_mode, reference, cpus, reference_name })
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "platform: {} CPU(s) (using 1), local APIC in {:?} mode, reference clock {} at {} Hz",
            self.cpus,
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
pub fn acpi_power_off() -> Result<(), String> {
    use acpi::aml::{Interpreter, namespace::AmlName, object::Object};
    use acpi::registers::Pm1ControlBit;
    use alloc::{format, vec::Vec};
    use core::str::FromStr;
    let acpi = ACPI.get().ok_or("ACPI is not initialized")?;
    let aml = Interpreter::new_from_platform(acpi).map_err(|e| format!("AML: {e:?}"))?;
    let name = AmlName::from_str("\\_S5").map_err(|e| format!("{e:?}"))?;
    let s5 = aml.evaluate(name, Vec::new()).map_err(|e| format!("\\_S5: {e:?}"))?;
    let Object::Package(values) = &*s5 else {
        return Err("\\_S5 is not a package".into());
    };
    let sleep_type = |i: usize| match values.get(i).map(|v| &**v) {
        Some(Object::Integer(v)) => Ok(*v as u8),
        _ => Err(String::from("\\_S5 has no sleep type")),
    };
    // SLP_TYPa; the acpi crate writes it to PM1b too, which machines rarely have.
    let control = &acpi.registers.pm1_control_registers;
    control.set_sleep_typ(sleep_type(0)?).map_err(|e| format!("{e:?}"))?;
    control.set_bit(Pm1ControlBit::SleepEnable, true).map_err(|e| format!("{e:?}"))?;
    Ok(())
}
