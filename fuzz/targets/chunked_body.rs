//! A chunked request body, fed in pieces of every size the first byte picks: the
//! decoder may refuse it, never panic, and never return more than was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else { return };
    let step = usize::from(step).max(1);
    let mut decoder = berth_docker::http::ChunkedDecoder::new();
    let mut out = Vec::new();
    for piece in body.chunks(step) {
        let mut at = 0;
        while at < piece.len() && !decoder.is_done() {
            match decoder.decode(&piece[at..], &mut out) {
                Ok(0) => break,
                Ok(used) => at += used,
                Err(_) => return,
            }
        }
    }
    assert!(out.len() <= body.len());
});
