//! A request head as the control agent reads it: parsed, its body framing decided, its
//! query read and its route found. Nothing may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, used))) = berth_docker::http::parse_head(data) {
        assert!(used <= data.len());
        let _ = head.body();
        let _ = head.keep_alive();
        let _ = head.header("authorization");
        let _ = head.header_count("authorization");
        let _ = head.query("signal").map(berth_docker::signal::parse);
        let _ = berth_docker::route::route(&head.method, &head.path);
    }
});
