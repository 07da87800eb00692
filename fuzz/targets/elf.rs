//! An executable as `execve` checks it: a load plan, or a reason it is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = berth_elf::plan(data, &berth_elf::Limits::BERTH) {
        for segment in &plan.segments {
            assert!(segment.start < segment.end);
        }
    }
});
