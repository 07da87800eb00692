//! The JSON bodies the control agent accepts (container create), parsed from any
//! bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = berth_docker::api::from_json::<berth_docker::api::ContainerCreate>(data);
});
