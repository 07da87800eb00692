//! The documents an image arrives with, from outside: its config, manifests and
//! indexes (an archive's, or a registry's), references as the CLI sends them, and a
//! registry's redirects, challenges and error bodies. Each is taken or refused,
//! never a panic.
#![no_main]

use berth_oci::archive::{Manifest, images_in};
use berth_oci::reference::Reference;
use berth_oci::registry::{BearerChallenge, HttpUrl, error_message, token_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = berth_oci::ImageConfig::parse(data).map(|c| c.diff_ids());
    let _ = Manifest::parse(data);
    let _ = images_in(&|path: &str| (path == "manifest.json" || path == "index.json").then_some(data));
    let _ = error_message(data);
    let _ = token_from(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let (name, tag) = text.split_once('\n').unwrap_or((text, ""));
        if let Ok(r) = Reference::parse(name, Some(tag)) {
            let _ = (r.to_string(), r.tag_name(), r.target_text());
        }
        let base = HttpUrl::parse("http://10.0.2.2:5000/v2/x", None).ok();
        let _ = HttpUrl::parse(text, base.as_ref());
        if let Some(c) = BearerChallenge::parse(text) {
            let _ = c.token_url();
        }
    }
    let _ = berth_docker::http::parse_response_head(data).map(|h| h.map(|(h, _)| h.body()));
});
