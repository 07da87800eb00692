//! Archives made by `berth_tar::writer` read back with the `tar` crate (as GNU tar and
//! Docker read them) and with berth's own parser.

use berth_tar::writer::{self, Member, MemberKind};

fn archive(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(writer::header(&Member {
        name: "blobs/",
        kind: MemberKind::Directory,
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 0,
    }));
    for (name, data) in members {
        let member = Member {
            name,
            kind: MemberKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: data.len() as u64,
            mtime: 1_700_000_000,
        };
        out.extend(writer::header(&member));
        out.extend_from_slice(data);
        out.extend(std::iter::repeat_n(0, writer::padding(data.len() as u64)));
    }
    out.extend_from_slice(&writer::end());
    out
}

#[test]
fn members_read_back_with_names_of_any_length() {
    let long = format!("blobs/{}/{}", "d".repeat(120), "file-ü.json");
    let members = vec![
        ("blobs/sha256/a".to_string(), b"hello".to_vec()),
        (long.clone(), vec![7u8; 1500]),
        ("empty".to_string(), Vec::new()),
        ("blobs/exact".to_string(), vec![1u8; 512]),
    ];
    let bytes = archive(&members);
    assert_eq!(bytes.len() % 512, 0);

    let mut read = tar::Archive::new(&bytes[..]);
    let mut seen = Vec::new();
    for entry in read.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        seen.push((name, data, entry.header().mtime().unwrap()));
    }
    assert_eq!(seen[0].0, "blobs/");
    for ((name, data), (seen_name, seen_data, mtime)) in members.iter().zip(&seen[1..]) {
        assert_eq!(name, seen_name);
        assert_eq!(data, seen_data);
        assert_eq!(*mtime, 1_700_000_000);
    }

    let entries = berth_tar::entries(&bytes, u64::MAX).unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.header.name.as_str()).collect();
    assert_eq!(names, ["blobs/", "blobs/sha256/a", long.as_str(), "empty", "blobs/exact"]);
}

#[test]
fn pax_record_lengths_count_themselves_at_digit_boundaries() {
    // Names whose records are near 100 and 1000 bytes, where the length's digits change.
    for len in [101, 102, 180, 990, 991, 992, 993, 994, 995, 996, 997, 998, 999, 1000] {
        let name = "n".repeat(len);
        let bytes = archive(&[(name.clone(), b"x".to_vec())]);
        let entries = berth_tar::entries(&bytes, u64::MAX).unwrap();
        assert_eq!(entries[1].header.name, name, "name of {len} bytes");
        let mut read = tar::Archive::new(&bytes[..]);
        let last = read.entries().unwrap().last().unwrap().unwrap();
        assert_eq!(last.path().unwrap().to_string_lossy(), name);
    }
}

#[test]
fn long_names_of_many_byte_characters() {
    let name = format!("{}x", "é".repeat(60));
    let bytes = archive(&[(name.clone(), b"y".to_vec())]);
    let entries = berth_tar::entries(&bytes, u64::MAX).unwrap();
    assert_eq!(entries[1].header.name, name);
}

#[test]
fn links_devices_and_owners_read_back() {
    let long_target = format!("/{}", "t".repeat(150));
    let members = [
        (MemberKind::Symlink("../lib/x.so"), "lib/link"),
        (MemberKind::Symlink(&long_target), "long"),
        (MemberKind::HardLink("lib/link"), "hard"),
        (MemberKind::CharDevice(1, 3), "dev/null"),
        (MemberKind::BlockDevice(8, 1), "dev/sda1"),
        (MemberKind::Fifo, "fifo"),
    ];
    let mut bytes = Vec::new();
    for (kind, name) in members {
        bytes.extend(writer::header(&Member { name, kind, mode: 0o640, uid: 1000, gid: 33, size: 0, mtime: 7 }));
    }
    bytes.extend_from_slice(&writer::end());

    let mut read = tar::Archive::new(&bytes[..]);
    let seen: Vec<(String, tar::EntryType, String, u64, u64, Option<u32>)> = read
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let link = e.link_name().unwrap().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
            let h = e.header();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                h.entry_type(),
                link,
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.device_minor().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen[0], ("lib/link".into(), tar::EntryType::Symlink, "../lib/x.so".into(), 1000, 33, Some(0)));
    assert_eq!((seen[1].1, seen[1].2.as_str()), (tar::EntryType::Symlink, long_target.as_str()));
    assert_eq!((seen[2].1, seen[2].2.as_str()), (tar::EntryType::Link, "lib/link"));
    assert_eq!((seen[3].1, seen[3].5), (tar::EntryType::Char, Some(3)));
    assert_eq!((seen[4].1, seen[4].5), (tar::EntryType::Block, Some(1)));
    assert_eq!(seen[5].1, tar::EntryType::Fifo);

    let entries = berth_tar::entries(&bytes, u64::MAX).unwrap();
    assert_eq!(entries[1].header.link_name, long_target);
    assert_eq!(entries[0].header.uid, 1000);
}

#[test]
fn berth_records_read_back_and_other_tars_ignore_them() {
    let member = Member {
        name: "data/file",
        kind: MemberKind::File,
        mode: 0o600,
        uid: 1,
        gid: 2,
        size: 0,
        mtime: 1_700_000_000,
    };
    let mut out = writer::header_with(&member, &[("paged", "7 65536")]);
    out.extend_from_slice(&writer::end());
    let entries = berth_tar::entries(&out, u64::MAX).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].header.name, "data/file");
    assert_eq!(entries[0].header.berth, vec![("paged".to_string(), "7 65536".to_string())]);
    // The `tar` crate (as GNU tar) reads it as the empty file it is.
    let mut read = tar::Archive::new(&out[..]);
    let names: Vec<String> =
        read.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["data/file"]);
}
