//! Stacking layers: later layers replace entries, whiteouts remove them, opaque
//! directories hide what was below, untouched subtrees and file bytes are shared.

use berth_oci::stack;
use berth_vfs::{Image, ImageBody, ImageLimits, ImageNode};
use std::sync::Arc;

enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
}

fn layer(entries: &[Entry]) -> Image {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        match entry {
            Entry::File(path, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                builder.append_data(&mut header, path, *data).unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
                header.set_cksum();
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
        }
    }
    Image::from_tar(&builder.into_inner().unwrap(), ImageLimits::default()).unwrap()
}

fn find<'a>(image: &'a Image, path: &str) -> Option<&'a Arc<ImageNode>> {
    let mut node = image.root();
    for part in path.split('/') {
        let ImageBody::Dir(entries) = &node.body else { return None };
        node = entries.get(part)?;
    }
    Some(node)
}

fn bytes(image: &Image, path: &str) -> Option<Vec<u8>> {
    match &find(image, path)?.body {
        ImageBody::File(data) => Some(data.to_vec()),
        _ => None,
    }
}

#[test]
fn upper_layers_replace_and_whiteouts_remove() {
    let base = layer(&[
        Entry::Dir("etc"),
        Entry::File("etc/os-release", b"debian"),
        Entry::File("etc/motd", b"hello"),
        Entry::Dir("var/cache"),
        Entry::File("var/cache/a", b"a"),
        Entry::File("var/cache/b", b"b"),
        Entry::Dir("usr/lib"),
        Entry::File("usr/lib/libc.so", b"libc"),
    ]);
    let top = layer(&[
        Entry::File("etc/motd", b"changed"),
        Entry::File("etc/.wh.os-release", b""),
        Entry::Dir("var/cache"),
        Entry::File("var/cache/.wh..wh..opq", b""),
        Entry::File("var/cache/c", b"c"),
        Entry::Dir("new/sub"),
        Entry::File("new/sub/.wh.nothing", b""),
        Entry::File("new/sub/file", b"x"),
    ]);
    let image = stack([&base, &top]);
    assert_eq!(bytes(&image, "etc/motd").unwrap(), b"changed");
    assert!(find(&image, "etc/os-release").is_none(), "whited out");
    assert!(find(&image, "etc/.wh.os-release").is_none(), "whiteouts never show");
    assert!(find(&image, "var/cache/a").is_none() && find(&image, "var/cache/b").is_none(), "opaque");
    assert_eq!(bytes(&image, "var/cache/c").unwrap(), b"c");
    assert!(find(&image, "var/cache/.wh..wh..opq").is_none());
    assert!(find(&image, "new/sub/.wh.nothing").is_none());
    assert_eq!(bytes(&image, "new/sub/file").unwrap(), b"x");
    // Untouched subtrees are the base layer's own nodes; file bytes are shared.
    assert!(Arc::ptr_eq(find(&image, "usr").unwrap(), find(&base, "usr").unwrap()));
    let (ImageBody::File(a), ImageBody::File(b)) =
        (&find(&image, "var/cache/c").unwrap().body, &find(&top, "var/cache/c").unwrap().body)
    else {
        panic!("files")
    };
    assert!(Arc::ptr_eq(a, b));
    // Counts are of the stacked tree.
    assert_eq!(image.bytes(), (b"changed".len() + b"c".len() + b"libc".len() + b"x".len()) as u64);
}

#[test]
fn a_file_replaces_a_directory_and_back() {
    let base = layer(&[Entry::Dir("x"), Entry::File("x/inner", b"1"), Entry::File("y", b"file")]);
    let top = layer(&[Entry::File("x", b"now a file"), Entry::Dir("y"), Entry::File("y/z", b"z")]);
    let image = stack([&base, &top]);
    assert_eq!(bytes(&image, "x").unwrap(), b"now a file");
    assert_eq!(bytes(&image, "y/z").unwrap(), b"z");
}

#[test]
fn one_layer_loses_its_whiteouts() {
    let only = layer(&[Entry::File(".wh.gone", b""), Entry::File("kept", b"k")]);
    let image = stack([&only]);
    assert!(find(&image, ".wh.gone").is_none());
    assert_eq!(bytes(&image, "kept").unwrap(), b"k");
    assert_eq!(stack(std::iter::empty()).entries(), 0);
}
