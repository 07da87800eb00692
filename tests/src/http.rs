//! A real HTTP client for tests and benchmarks (ureq), one fresh connection per request.

use std::time::Duration;

/// GETs `url` on a new connection with a 30-second limit; the body.
pub fn get(url: &str) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).build().into();
    let mut response = agent.get(url).call().map_err(|e| format!("GET {url}: {e}"))?;
    response.body_mut().with_config().limit(16 << 20).read_to_vec().map_err(|e| format!("GET {url}: {e}"))
}

/// Bytes for a test page of `len` bytes: no pattern a short-cut could fake, the same on
/// every run (the web servers in the tests serve them, and the clients compare).
pub fn sample_page(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}
