//! A layer blob as `docker load` and `docker pull` take it: gzip-compressed or plain,
//! in pieces of any size. Malformed input is refused, never a panic; a tar that is
//! taken writes back byte for byte (its digest is what names it).
#![no_main]

use berth_oci::gzip::GzipDecoder;
use berth_oci::{Digest, Unpacker};
use libfuzzer_sys::fuzz_target;
use std::convert::Infallible;

fn unpack(data: &[u8], piece: usize) {
    let limits = berth_vfs::ImageLimits { max_bytes: 1 << 20, max_entries: 1000 };
    let mut unpacker = Unpacker::new(limits);
    for chunk in data.chunks(piece) {
        if unpacker.push(chunk, |_| Ok::<(), Infallible>(())).is_err() {
            return;
        }
    }
    if let Ok(layer) = unpacker.finish::<Infallible>() {
        let mut out = Vec::new();
        layer
            .split
            .write(|p| -> Result<(), Infallible> {
                out.extend_from_slice(p);
                Ok(())
            })
            .unwrap();
        assert!(out == data, "the tar split did not write back what it read");
        assert_eq!(layer.diff_id, Digest::of(data));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let piece = usize::from(selector % 64) + 1;
    if selector & 0x80 == 0 {
        unpack(rest, piece);
        return;
    }
    let mut decoder = GzipDecoder::new();
    let mut inflated = Vec::new();
    for chunk in rest.chunks(piece) {
        let pushed = decoder.push(chunk, |out| -> Result<(), berth_oci::Error> {
            if inflated.len() + out.len() > 4 << 20 {
                return Err(berth_oci::Error::NoSpace);
            }
            inflated.extend_from_slice(out);
            Ok(())
        });
        if pushed.is_err() {
            return;
        }
    }
    if decoder.finish().is_ok() {
        unpack(&inflated, 4096);
    }
});
