//! The local APIC (x2APIC through MSRs where the CPU has it, else xAPIC through MMIO)
//! and its timer. The legacy 8259 PICs are remapped out of the way and masked.

use crate::mmio::{MapError, Mmio};
use x86_64::instructions::port::Port;
use x86_64::registers::model_specific::Msr;

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_ENABLE: u64 = 1 << 11;
const X2APIC_ENABLE: u64 = 1 << 10;

const REG_ID: u32 = 0x20;
const REG_TPR: u32 = 0x80;
const REG_EOI: u32 = 0xb0;
const REG_SVR: u32 = 0xf0;
const REG_LVT_TIMER: u32 = 0x320;
const REG_TIMER_INITIAL: u32 = 0x380;
const REG_TIMER_CURRENT: u32 = 0x390;
const REG_TIMER_DIVIDE: u32 = 0x3e0;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const X2APIC_ICR: u32 = 0x830;

const ICR_NMI: u32 = 0b100 << 8;
const ICR_INIT: u32 = 0b101 << 8;
const ICR_STARTUP: u32 = 0b110 << 8;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
/// xAPIC only: the IPI has not been sent yet.
const ICR_PENDING: u32 = 1 << 12;

const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
/// Divide configuration value for "divide by 16".
const DIVIDE_BY_16: u32 = 0b0011;

/// The vector the APIC reports spurious interrupts on.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// How the local APIC's registers are reached.
#[derive(Debug)]
enum Access {
    X2Apic,
    XApic(Mmio),
}

static APIC: spin::Once<Access> = spin::Once::new();

/// Which mode [`init`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Registers through MSRs.
    X2Apic,
    /// Registers through MMIO.
    XApic,
}

/// Masks the 8259s and enables the boot CPU's local APIC with all local interrupts
/// masked.
pub fn init() -> Result<Mode, MapError> {
    disable_pic();
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; reading it has no side effects.
    let value = unsafe { Msr::new(IA32_APIC_BASE).read() };
    let access = if crate::cpu::features().x2apic {
        Access::X2Apic
    } else {
        Access::XApic(Mmio::map(value & 0xf_ffff_f000, 4096)?)
    };
    let mode = match access {
        Access::X2Apic => Mode::X2Apic,
        Access::XApic(_) => Mode::XApic,
    };
    APIC.call_once(|| access);
    enable_on_this_cpu();
    Ok(mode)
}

/// Enables this CPU's local APIC in the mode [`init`] chose, with all local interrupts
/// masked: the boot CPU in `init`, each application processor as it starts.
pub(crate) fn enable_on_this_cpu() {
    let mut base = Msr::new(IA32_APIC_BASE);
    let x2apic = matches!(APIC.get(), Some(Access::X2Apic));
    // SAFETY: setting the enable bits of IA32_APIC_BASE (the x2APIC bit only in the
    // mode `init` chose from CPUID, and the machine's CPUs are alike) is the
    // architected way to enable the local APIC; the base address is kept.
    unsafe {
        let value = base.read();
        base.write(value | APIC_ENABLE | if x2apic { X2APIC_ENABLE } else { 0 });
    }
    write(REG_TPR, 0);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
}

/// Sends an INIT IPI to the CPU with local APIC id `apic_id`: it resets and waits for
/// STARTUP.
pub(crate) fn send_init(apic_id: u32) {
    send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

/// Sends a STARTUP IPI to the CPU `apic_id`: it starts in real mode at page `vector`.
pub(crate) fn send_startup(apic_id: u32, vector: u8) {
    send_ipi(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | u32::from(vector));
}

/// Sends the CPU `apic_id` a non-maskable interrupt.
pub(crate) fn send_nmi(apic_id: u32) {
    send_ipi(apic_id, ICR_NMI | ICR_LEVEL_ASSERT);
}

/// Sends the CPU `apic_id` an interrupt on `vector`.
pub(crate) fn send_fixed(apic_id: u32, vector: u8) {
    send_ipi(apic_id, ICR_LEVEL_ASSERT | u32::from(vector));
}

fn send_ipi(apic_id: u32, command: u32) {
    // An interrupt handler sending an IPI between the two xAPIC writes below would
    // change the destination under us.
    crate::cpu::without_interrupts(|| send_ipi_now(apic_id, command));
}

fn send_ipi_now(apic_id: u32, command: u32) {
    match APIC.get() {
        // SAFETY: the x2APIC ICR (MSR 0x830) takes the destination in its high half;
        // writing it sends the IPI and nothing else.
        Some(Access::X2Apic) => unsafe { Msr::new(X2APIC_ICR).write((u64::from(apic_id) << 32) | u64::from(command)) },
        Some(Access::XApic(mmio)) => {
            mmio.write32(u64::from(REG_ICR_HIGH), apic_id << 24);
            mmio.write32(u64::from(REG_ICR_LOW), command);
            while mmio.read32(u64::from(REG_ICR_LOW)) & ICR_PENDING != 0 {
                core::hint::spin_loop();
            }
        }
        None => {}
    }
}

/// Remaps the 8259 PICs to vectors 0x20..0x30 (so a stray interrupt is recognizable)
/// and masks every line.
fn disable_pic() {
    let cmd = [0x20u16, 0xa0];
    let data = [0x21u16, 0xa1];
    let steps: [[u8; 2]; 4] = [[0x11, 0x11], [0x20, 0x28], [4, 2], [1, 1]];
    // SAFETY: the standard 8259 initialization sequence on the PC's fixed PIC ports,
    // ending with every line masked.
    unsafe {
        for (i, step) in steps.iter().enumerate() {
            for chip in 0..2 {
                let port = if i == 0 { cmd[chip] } else { data[chip] };
                Port::<u8>::new(port).write(step[chip]);
            }
        }
        Port::<u8>::new(0x21).write(0xff);
        Port::<u8>::new(0xa1).write(0xff);
    }
}

fn read(reg: u32) -> u32 {
    match APIC.get() {
        // SAFETY: x2APIC MSRs 0x800 + reg/16 exist once x2APIC mode is on; reads of
        // these registers have no side effects.
        Some(Access::X2Apic) => unsafe { Msr::new(0x800 + (reg >> 4)).read() as u32 },
        Some(Access::XApic(mmio)) => mmio.read32(u64::from(reg)),
        None => 0,
    }
}

fn write(reg: u32, value: u32) {
    match APIC.get() {
        // SAFETY: as in `read`; the registers written here are the ones this module
        // owns (TPR, EOI, SVR, timer).
        Some(Access::X2Apic) => unsafe { Msr::new(0x800 + (reg >> 4)).write(u64::from(value)) },
        Some(Access::XApic(mmio)) => mmio.write32(u64::from(reg), value),
        None => {}
    }
}

/// This CPU's APIC id.
pub fn id() -> u32 {
    match APIC.get() {
        Some(Access::X2Apic) => read(REG_ID),
        _ => read(REG_ID) >> 24,
    }
}

/// Signals the end of the current interrupt.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// Starts the timer counting down from `count` (at bus clock / 16), raising `vector`
/// when it reaches zero; with `periodic` it reloads and repeats.
pub fn timer_start(vector: u8, count: u32, periodic: bool) {
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    let mode = if periodic { LVT_PERIODIC } else { 0 };
    write(REG_LVT_TIMER, u32::from(vector) | mode);
    write(REG_TIMER_INITIAL, count);
}

/// Starts the timer counting from `count` with its interrupt masked (for calibration).
pub fn timer_start_masked(count: u32) {
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_INITIAL, count);
}

/// The timer's current count.
pub fn timer_current() -> u32 {
    read(REG_TIMER_CURRENT)
}

/// Stops the timer.
pub fn timer_stop() {
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_INITIAL, 0);
}
