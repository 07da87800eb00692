//! The kernel's random numbers: a ChaCha20 generator seeded at boot.
//!
//! The seed mixes RDSEED/RDRAND output when the CPU has them with the TSC jitter of
//! short loops and the boot times on the wall and monotonic clocks. Under emulation without
//! RDRAND the jitter is the main source, which is weaker than a hardware source; a
//! virtio-rng device would be the next improvement.

use berth_hal::sync::IrqLock;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

static RNG: IrqLock<Option<ChaCha20Rng>> = IrqLock::new(None);

/// Seeds the generator.
pub fn init() {
    let mut seed = [0u8; 32];
    let mut mix = |i: usize, v: u64| {
        for (j, b) in v.to_le_bytes().iter().enumerate() {
            let k = (i * 8 + j) % 32;
            seed[k] = seed[k].rotate_left(3) ^ b;
        }
    };
    for i in 0..64 {
        mix(i, berth_hal::cpu::hardware_random().unwrap_or(0));
        // The time a short, interrupt-prone loop takes varies from run to run.
        let t0 = berth_hal::cpu::read_tsc();
        for _ in 0..(i % 7) * 13 + 50 {
            core::hint::spin_loop();
        }
        mix(i + 1, berth_hal::cpu::read_tsc().wrapping_sub(t0).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    mix(3, crate::time::realtime_ns());
    mix(5, crate::time::now_ns());
    *RNG.lock() = Some(ChaCha20Rng::from_seed(seed));
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    let mut rng = RNG.lock();
    match rng.as_mut() {
        Some(r) => r.fill_bytes(buf),
        None => {
            // Before seeding (never in practice): the TSC, which is at least not constant.
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (berth_hal::cpu::read_tsc() >> (i % 8)) as u8;
            }
        }
    }
}
