//! The periodic tick runs at the configured rate.

use super::Outcome;
use crate::time;
use alloc::format;

/// Counts ticks over two seconds of the calibrated clock.
pub fn tick_rate() -> Outcome {
    let hz = u64::from(time::hz());
    let (start_ticks, start_ns) = (time::ticks(), time::now_ns());
    while time::ticks() - start_ticks < 2 * hz {
        berth_hal::cpu::wait_for_interrupt();
    }
    let (ticks, ns) = (time::ticks() - start_ticks, time::now_ns() - start_ns);
    let measured = ticks as f64 * 1e9 / ns as f64;
    log::info!("timer: {ticks} ticks in {:.3} s: {measured:.1} Hz (configured {hz} Hz)", ns as f64 / 1e9);
    let error = (measured - hz as f64).abs() / hz as f64;
    if error > 0.05 {
        return Err(format!("tick rate {measured:.1} Hz is more than 5% off {hz} Hz"));
    }
    Ok(())
}
