//! What boot reads: `limine.cfg`, the kernel command line, and a module bundle.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = berth_boot::unpack_bundle(data, 0x100_0000);
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = berth_image::BootConfig::parse(text);
        let args = berth_boot::KernelArgs::parse(text);
        let _ = args.get("agent-token");
        let _ = berth_boot::split_words(text);
    }
});
