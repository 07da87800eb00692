//! A container's writable layer written out as a layer (`Filesystem::changes_archive`)
//! and stacked on its image gives the same tree back, and holds only what changed.

use berth_oci::stack;
use berth_vfs::{FileType, Filesystem, FsError, Image, ImageLimits, Inode};

fn clock() -> u64 {
    1_700_000_000_000_000_000
}

fn base() -> Image {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |kind: tar::EntryType, path: &str, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_mtime(1_600_000_000);
        match link {
            Some(target) => b.append_link(&mut h, path, target).unwrap(),
            None => b.append_data(&mut h, path, data).unwrap(),
        }
    };
    add(tar::EntryType::Directory, "./", &[], None);
    add(tar::EntryType::Regular, "./etc/motd", b"welcome", None);
    add(tar::EntryType::Regular, "./etc/passwd", b"root", None);
    add(tar::EntryType::Regular, "./etc/kept", b"untouched", None);
    add(tar::EntryType::Symlink, "./etc/link", &[], Some("motd"));
    add(tar::EntryType::Regular, "./usr/share/doc/a", b"a", None);
    add(tar::EntryType::Regular, "./old/x", b"x", None);
    add(tar::EntryType::Regular, "./var/file-then-dir", b"f", None);
    Image::from_tar(&b.into_inner().unwrap(), ImageLimits::default()).unwrap()
}

fn read_all(i: &Inode) -> Vec<u8> {
    let mut buf = vec![0u8; i.metadata().size as usize];
    let n = i.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn names(layer: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(layer);
    archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect()
}

/// Makes changes of every kind to a container of `image`.
fn change(fs: &Filesystem) {
    let root = fs.root();
    let etc = fs.lookup(&root, "/etc", true).unwrap();
    fs.lookup(&root, "/etc/motd", true).unwrap().write_at(0, b"changed", clock()).unwrap();
    fs.lookup(&root, "/etc/passwd", true).unwrap().set_mode(0o600, clock());
    fs.unlink(&etc, "link").unwrap();
    fs.symlink(&etc, "link", "passwd").unwrap();
    fs.create_file(&etc, "new", 0o644).unwrap().write_at(0, b"new file", clock()).unwrap();
    let old = fs.lookup(&root, "/old", true).unwrap();
    fs.unlink(&old, "x").unwrap();
    fs.rmdir(&root, "old").unwrap();
    let var = fs.lookup(&root, "/var", true).unwrap();
    fs.unlink(&var, "file-then-dir").unwrap();
    let d = fs.mkdir(&var, "file-then-dir", 0o700).unwrap();
    fs.create_file(&d, "inside", 0o644).unwrap();
    fs.mkdir(&root, "home", 0o755).unwrap();
}

#[test]
fn the_layer_holds_the_changes_and_stacks_back_to_the_tree() {
    let image = base();
    let fs = Filesystem::new(&image, None, clock).unwrap();
    // An untouched container has nothing to keep.
    let empty = fs.changes_archive(&image, |_| true).unwrap();
    assert!(names(&empty).is_empty(), "{:?}", names(&empty));
    change(&fs);

    let layer = fs.changes_archive(&image, |_| true).unwrap();
    let listed = names(&layer);
    for want in ["etc/motd", "etc/passwd", "etc/link", "etc/new", ".wh.old", "var/file-then-dir/inside", "home/"] {
        assert!(listed.iter().any(|n| n == want), "{want} missing from {listed:?}");
    }
    for unchanged in ["etc/kept", "usr/share/doc/a", "usr/"] {
        assert!(!listed.iter().any(|n| n == unchanged), "{unchanged} is in the layer: {listed:?}");
    }

    let upper = Image::from_tar(&layer, ImageLimits::default()).unwrap();
    let stacked = stack([&image, &upper]);
    let back = Filesystem::new(&stacked, None, clock).unwrap();
    let r = back.root();
    assert_eq!(read_all(&back.lookup(&r, "/etc/motd", true).unwrap()), b"changed");
    assert_eq!(back.lookup(&r, "/etc/passwd", true).unwrap().metadata().mode & 0o777, 0o600);
    assert_eq!(back.lookup(&r, "/etc/link", false).unwrap().readlink().unwrap(), "passwd");
    assert_eq!(read_all(&back.lookup(&r, "/etc/new", true).unwrap()), b"new file");
    assert_eq!(read_all(&back.lookup(&r, "/etc/kept", true).unwrap()), b"untouched");
    assert_eq!(back.lookup(&r, "/old", true).unwrap_err(), FsError::NotFound);
    let d = back.lookup(&r, "/var/file-then-dir", true).unwrap();
    assert_eq!((d.file_type(), d.metadata().mode & 0o777), (FileType::Directory, 0o700));
    assert!(back.lookup(&r, "/var/file-then-dir/inside", true).is_ok());
    assert_eq!(read_all(&back.lookup(&r, "/usr/share/doc/a", true).unwrap()), b"a");

    // A second run on the restored tree, diffed against the image (not the stacked
    // tree), keeps the first run's changes and adds its own.
    let etc = back.lookup(&r, "/etc", true).unwrap();
    back.unlink(&etc, "kept").unwrap();
    let again = back.changes_archive(&image, |_| true).unwrap();
    let upper = Image::from_tar(&again, ImageLimits::default()).unwrap();
    let third = Filesystem::new(&stack([&image, &upper]), None, clock).unwrap();
    let r = third.root();
    assert_eq!(read_all(&third.lookup(&r, "/etc/motd", true).unwrap()), b"changed");
    assert_eq!(third.lookup(&r, "/etc/kept", true).unwrap_err(), FsError::NotFound);
    assert_eq!(third.lookup(&r, "/old", true).unwrap_err(), FsError::NotFound);
}

/// A store in a map, as the kernel keeps a paged tree's extents.
#[derive(Default)]
struct Store {
    extents: std::sync::Mutex<std::collections::BTreeMap<(u64, u64), Vec<u8>>>,
}

impl berth_vfs::Pager for Store {
    fn read(&self, file: u64, extent: u64) -> berth_vfs::Result<Option<Vec<u8>>> {
        Ok(self.extents.lock().unwrap().get(&(file, extent)).cloned())
    }
}

impl Store {
    /// Commits a write-out of `fs`'s changes to `image`, as the kernel does; returns the
    /// layer (its manifest) and the next file id.
    fn commit(&self, fs: &Filesystem, image: &Image) -> (Image, u64) {
        let mut out = fs.write_out_changes(image).unwrap();
        let mut map = self.extents.lock().unwrap();
        map.retain(|(file, extent), _| out.keep.get(file).is_some_and(|&n| *extent < n));
        for f in &mut out.files {
            for d in &mut f.dirty {
                match d.bytes.take() {
                    Some(b) => drop(map.insert((f.file, d.extent), b)),
                    None => drop(map.remove(&(f.file, d.extent))),
                }
            }
        }
        drop(map);
        fs.written(&out);
        (Image::manifest_from_tar(&out.manifest, ImageLimits::default()).unwrap(), out.next_file)
    }
}

fn paged(store: &std::sync::Arc<Store>, tree: &Image, next_file: u64) -> Filesystem {
    let paging = berth_vfs::Paging { pager: store.clone(), next_file, dirty_limit: 16, quota: None };
    Filesystem::paged(tree, None, clock, paging).unwrap()
}

#[test]
fn a_paged_layer_keeps_its_files_data_in_the_pager() {
    let image = base();
    let store = std::sync::Arc::new(Store::default());
    let fs = paged(&store, &image, 1);
    change(&fs);
    let counter = fs.create_file(&fs.root(), "count", 0o644).unwrap();
    counter.write_at(0, b"x\n", clock()).unwrap();
    let (layer, next) = store.commit(&fs, &image);
    // A second run of the same tree appends, and is written out again.
    counter.write_at(2, b"x\n", clock()).unwrap();
    let (layer2, next2) = store.commit(&fs, &image);
    assert!(next2 >= next);
    let _ = layer;
    drop((counter, fs));

    // After a reboot: the image with the layer stacked on it. Exported before anything
    // is looked into, its paged files come from the pager.
    let back = paged(&store, &stack([&image, &layer2]), next2);
    let export = back.archive(|_| true).unwrap();
    let mut archive = tar::Archive::new(&export[..]);
    let count = archive.entries().unwrap().map(|e| e.unwrap()).find(|e| e.path().unwrap().ends_with("count"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut count.expect("count is exported"), &mut bytes).unwrap();
    assert_eq!(bytes, b"x\nx\n");
    let r = back.root();
    assert_eq!(read_all(&back.lookup(&r, "/count", true).unwrap()), b"x\nx\n");
    assert_eq!(read_all(&back.lookup(&r, "/etc/motd", true).unwrap()), b"changed");
    assert_eq!(back.lookup(&r, "/etc/passwd", true).unwrap().metadata().mode & 0o777, 0o600);
    assert_eq!(read_all(&back.lookup(&r, "/etc/passwd", true).unwrap()), b"root", "re-permitted, written whole");
    assert_eq!(read_all(&back.lookup(&r, "/etc/new", true).unwrap()), b"new file");
    assert_eq!(read_all(&back.lookup(&r, "/etc/kept", true).unwrap()), b"untouched");
    assert_eq!(back.lookup(&r, "/old", true).unwrap_err(), FsError::NotFound);

    // A run after the reboot that never looks at /etc: its layer still has /etc's
    // changes, and their data stays in the pager.
    let count = back.lookup(&r, "/count", true).unwrap();
    count.write_at(4, b"x\n", clock()).unwrap();
    let (layer3, next3) = store.commit(&back, &image);
    drop((count, back));
    let third = paged(&store, &stack([&image, &layer3]), next3);
    let r = third.root();
    assert_eq!(read_all(&third.lookup(&r, "/count", true).unwrap()), b"x\nx\nx\n");
    assert_eq!(read_all(&third.lookup(&r, "/etc/new", true).unwrap()), b"new file");
    assert_eq!(read_all(&third.lookup(&r, "/etc/motd", true).unwrap()), b"changed");
}

#[test]
fn changed_paths_are_what_docker_diff_lists() {
    use berth_vfs::PathChange::{Added, Deleted, Modified};
    let image = base();
    let fs = Filesystem::new(&image, None, clock).unwrap();
    assert!(fs.changed_paths(&image).unwrap().is_empty());
    change(&fs);
    let got = fs.changed_paths(&image).unwrap();
    let want = [
        ("/etc", Modified),
        ("/etc/link", Modified),
        ("/etc/motd", Modified),
        ("/etc/new", Added),
        ("/etc/passwd", Modified),
        ("/home", Added),
        ("/old", Deleted),
        ("/var", Modified),
        ("/var/file-then-dir", Modified),
        ("/var/file-then-dir/inside", Added),
    ];
    let got: Vec<(&str, berth_vfs::PathChange)> = got.iter().map(|(p, k)| (p.as_str(), *k)).collect();
    assert_eq!(got, want);
}
