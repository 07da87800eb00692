//! The CMOS real-time clock, read once at boot for the wall-clock time.

use x86_64::instructions::port::Port;

/// A calendar date and time as the RTC keeps it (UTC on servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcTime {
    /// Full year, e.g. 2026.
    pub year: u32,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=59.
    pub second: u32,
}

fn read_register(reg: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 are the CMOS index/data pair; selecting a clock register
    // and reading it has no other effect (bit 7 of the index keeps NMIs enabled as is
    // usual on PCs).
    unsafe {
        Port::<u8>::new(0x70).write(reg);
        Port::<u8>::new(0x71).read()
    }
}

fn update_in_progress() -> bool {
    read_register(0x0a) & 0x80 != 0
}

fn snapshot() -> [u8; 7] {
    [0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32].map(read_register)
}

/// Reads the RTC, waiting out an update in progress and reading until two reads agree.
pub fn read() -> RtcTime {
    let mut spins = 0;
    while update_in_progress() && spins < 1_000_000 {
        spins += 1;
        core::hint::spin_loop();
    }
    let mut raw = snapshot();
    for _ in 0..5 {
        let again = snapshot();
        if again == raw {
            break;
        }
        raw = again;
    }
    let status_b = read_register(0x0b);
    let binary = status_b & 0x04 != 0;
    let hour_24 = status_b & 0x02 != 0;
    let decode = |v: u8| if binary { u32::from(v) } else { u32::from(v & 0x0f) + u32::from(v >> 4) * 10 };
    let pm = raw[2] & 0x80 != 0;
    let mut hour = decode(raw[2] & 0x7f);
    if !hour_24 {
        hour %= 12;
        if pm {
            hour += 12;
        }
    }
    let century = match decode(raw[6]) {
        c @ 19..=21 => c,
        _ => 20,
    };
    RtcTime {
        year: century * 100 + decode(raw[5]),
        month: decode(raw[4]),
        day: decode(raw[3]),
        hour,
        minute: decode(raw[1]),
        second: decode(raw[0]),
    }
}
