//! The reader against archives written by the `tar` crate (GNU and PAX formats).

use berth_tar::{EntryKind, Error, Event, Parser, entries};

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(1000);
    h.set_gid(100);
    h.set_mtime(1_700_000_000);
    h
}

/// An archive with a file, a directory, a symlink, a hard link and a long name.
fn sample(pax: bool) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Directory, 0, 0o755);
    b.append_data(&mut h, "bin/", &[][..]).unwrap();
    let mut h = header(tar::EntryType::Regular, 5, 0o755);
    b.append_data(&mut h, "bin/hello", &b"hello"[..]).unwrap();
    let mut h = header(tar::EntryType::Symlink, 0, 0o777);
    b.append_link(&mut h, "bin/sh", "hello").unwrap();
    let mut h = header(tar::EntryType::Link, 0, 0o755);
    b.append_link(&mut h, "bin/hard", "bin/hello").unwrap();
    let long = format!("deep/{}/file.txt", "x".repeat(150));
    let data = vec![7u8; 1000];
    if pax {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(1000);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_pax_extensions([("path", long.as_bytes())]).unwrap();
        h.set_path("placeholder").unwrap();
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
    } else {
        let mut h = header(tar::EntryType::Regular, 1000, 0o644);
        b.append_data(&mut h, &long, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn reads_every_kind_of_entry() {
    for pax in [false, true] {
        let archive = sample(pax);
        let list = entries(&archive, u64::MAX).unwrap();
        let names: Vec<_> = list.iter().map(|e| e.header.name.as_str()).collect();
        let long = format!("deep/{}/file.txt", "x".repeat(150));
        assert_eq!(names, ["bin/", "bin/hello", "bin/sh", "bin/hard", long.as_str()]);
        assert_eq!(list[0].header.kind, EntryKind::Directory);
        assert_eq!(list[1].header.kind, EntryKind::File);
        assert_eq!(list[1].data, b"hello");
        assert_eq!(list[1].header.mode, 0o755);
        assert_eq!(list[1].header.uid, 1000);
        assert_eq!(list[1].header.mtime, 1_700_000_000);
        assert_eq!(list[2].header.kind, EntryKind::Symlink);
        assert_eq!(list[2].header.link_name, "hello");
        assert_eq!(list[3].header.kind, EntryKind::HardLink);
        assert_eq!(list[3].header.link_name, "bin/hello");
        assert_eq!(list[4].data, &[7u8; 1000][..]);
    }
}

#[test]
fn byte_at_a_time_gives_the_same_events() {
    let archive = sample(true);
    let mut parser = Parser::default();
    let (mut names, mut data) = (Vec::new(), Vec::new());
    for i in 0..archive.len() {
        let mut input = &archive[i..i + 1];
        while let Some(event) = parser.next(&mut input).unwrap() {
            match event {
                Event::Entry(h) => names.push(h.name),
                Event::Data(d) => data.extend_from_slice(d),
                Event::End => {}
            }
        }
    }
    parser.finish().unwrap();
    assert_eq!(names.len(), 5);
    assert_eq!(data.len(), 5 + 1000);
}

#[test]
fn truncated_archives_are_refused() {
    let archive = sample(false);
    // Cut inside the second entry's data, and inside a header.
    for cut in [512 + 512 + 3, 512 + 100, 1] {
        let err = entries(&archive[..cut], u64::MAX).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "cut at {cut}: {err:?}");
    }
}

#[test]
fn missing_end_marker_is_accepted() {
    let archive = sample(false);
    let without_end = &archive[..archive.len() - 1024];
    assert_eq!(entries(without_end, u64::MAX).unwrap().len(), 5);
}

#[test]
fn corrupt_header_is_reported_with_its_offset() {
    let mut archive = sample(false);
    archive[512 + 10] ^= 0x55; // a name byte of the second header
    assert_eq!(entries(&archive, u64::MAX).unwrap_err(), Error::BadChecksum { offset: 512 });
}

#[test]
fn oversized_entries_are_refused() {
    let archive = sample(false);
    let err = entries(&archive, 100).unwrap_err();
    assert!(matches!(err, Error::TooLarge { size: 1000, .. }), "{err:?}");
}

#[test]
fn garbage_never_panics() {
    // A cheap deterministic fuzz: flip bytes all over a valid archive.
    let archive = sample(true);
    let mut seed = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut a = archive.clone();
        for _ in 0..4 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (seed as usize) % a.len();
            a[i] = (seed >> 16) as u8;
        }
        let _ = entries(&a, u64::MAX);
    }
}
