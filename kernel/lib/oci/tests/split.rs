//! A layer read by `Unpacker` writes back the very bytes it came from, whatever the
//! pieces it arrived in: long GNU and PAX names, links, a file named twice, a skipped
//! entry kind, bytes after the end marker.

use berth_oci::{Digest, UnpackError, Unpacker};
use berth_vfs::ImageLimits;
use std::convert::Infallible;

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(1_600_000_000);
    header
}

fn awkward_layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_data(&mut header(tar::EntryType::Directory, 0), "etc/", &[][..]).unwrap();
    b.append_data(&mut header(tar::EntryType::Regular, 5), "etc/hostname", &b"first"[..]).unwrap();
    let big: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    b.append_data(&mut header(tar::EntryType::Regular, big.len() as u64), "usr/lib/big.so", &big[..]).unwrap();
    // A GNU long name (the `tar` crate writes a ././@LongLink entry).
    let long = format!("usr/share/{}/file", "x".repeat(150));
    b.append_data(&mut header(tar::EntryType::Regular, 3), &long, &b"abc"[..]).unwrap();
    // The same path again: the tree keeps the second, the tar both.
    b.append_data(&mut header(tar::EntryType::Regular, 6), "etc/hostname", &b"second"[..]).unwrap();
    b.append_link(&mut header(tar::EntryType::Link, 0), "etc/hostname.link", "etc/hostname").unwrap();
    b.append_link(&mut header(tar::EntryType::Symlink, 0), "etc/alias", "hostname").unwrap();
    b.append_data(&mut header(tar::EntryType::Regular, 0), "etc/.wh.gone", &[][..]).unwrap();
    // An entry kind the tree skips, with data of its own.
    b.append_data(&mut header(tar::EntryType::new(b'V'), 4), "volume", &b"VVVV"[..]).unwrap();
    let mut pax = tar::Header::new_ustar();
    pax.set_entry_type(tar::EntryType::Regular);
    pax.set_size(2);
    pax.set_mode(0o600);
    b.append_pax_extensions([("path", "pax/named/ü/file".as_bytes()), ("mtime", b"1700000000.5".as_slice())]).unwrap();
    b.append_data(&mut pax, "pax-short", &b"hi"[..]).unwrap();
    let mut bytes = b.into_inner().unwrap();
    bytes.extend_from_slice(&[0; 3000]); // padding after the end marker, as some tools write
    bytes
}

fn read(bytes: &[u8], piece: usize) -> berth_oci::Unpacked {
    let mut unpacker = Unpacker::new(ImageLimits::default());
    for chunk in bytes.chunks(piece) {
        unpacker.push(chunk, |_| Ok::<(), Infallible>(())).unwrap();
    }
    assert_eq!(unpacker.len(), bytes.len() as u64);
    unpacker.finish::<Infallible>().unwrap()
}

#[test]
fn the_tar_is_written_back_byte_for_byte() {
    let bytes = awkward_layer();
    for piece in [1, 7, 511, 512, 513, 4096, 1 << 20] {
        let layer = read(&bytes, piece);
        assert_eq!(layer.diff_id, Digest::of(&bytes), "piece {piece}");
        assert_eq!(layer.split.len(), bytes.len() as u64);
        let mut out = Vec::new();
        layer
            .split
            .write(|p| -> Result<(), Infallible> {
                out.extend_from_slice(p);
                Ok(())
            })
            .unwrap();
        assert!(out == bytes, "piece {piece}: {} bytes written, {} read", out.len(), bytes.len());
        assert!(layer.split.held_bytes() < bytes.len() as u64 / 4, "headers compress");
    }
}

#[test]
fn a_large_layer_of_many_files_round_trips() {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..3000 {
        let data = format!("file {i}\n").repeat(i % 50);
        let name = format!("d{}/f{i}", i % 17);
        b.append_data(&mut header(tar::EntryType::Regular, data.len() as u64), name, data.as_bytes()).unwrap();
    }
    let bytes = b.into_inner().unwrap();
    let layer = read(&bytes, 10_000);
    let mut out = Vec::new();
    layer
        .split
        .write(|p| -> Result<(), Infallible> {
            out.extend_from_slice(p);
            Ok(())
        })
        .unwrap();
    assert!(out == bytes);
    assert_eq!(layer.tree.entries(), 3000);
}

#[test]
fn a_refused_entry_and_a_truncated_tar_are_errors() {
    let bytes = awkward_layer();
    let mut unpacker = Unpacker::new(ImageLimits::default());
    let refused = unpacker.push(&bytes, |h| if h.name.ends_with("big.so") { Err("too big") } else { Ok(()) });
    assert_eq!(refused.err(), Some(UnpackError::Refused("too big")));

    let mut unpacker = Unpacker::new(ImageLimits::default());
    unpacker.push(&bytes[..1500], |_| Ok::<(), Infallible>(())).unwrap();
    assert!(matches!(unpacker.finish::<Infallible>(), Err(UnpackError::BadTar(_))));
}

/// What follows the end marker is kept (to write the tar again), so there may not be
/// much of it; `held_bytes` grows with what is kept, for the caller to charge.
#[test]
fn bytes_after_the_end_are_bounded_and_counted() {
    let mut b = tar::Builder::new(Vec::new());
    b.append_data(&mut header(tar::EntryType::Regular, 1), "f", &b"x"[..]).unwrap();
    let archive = b.into_inner().unwrap();
    let mut unpacker = Unpacker::new(ImageLimits::default());
    unpacker.push(&archive, |_| Ok::<(), Infallible>(())).unwrap();
    let before = unpacker.held_bytes();
    let junk = vec![0x5a; 64 * 1024];
    unpacker.push(&junk, |_| Ok::<(), Infallible>(())).unwrap();
    assert!(unpacker.held_bytes() >= before + junk.len() as u64 / 2, "kept bytes are counted");
    let mut refused = None;
    for _ in 0..20 {
        if let Err(e) = unpacker.push(&junk, |_| Ok::<(), Infallible>(())) {
            refused = Some(e);
            break;
        }
    }
    assert!(matches!(refused, Some(UnpackError::BadTar(ref why)) if why.contains("after the end")), "{refused:?}");
}
