//! Trees mounted into other trees (volumes), and trees written out as archives.

use berth_vfs::*;
use std::sync::Arc;

fn clock() -> u64 {
    1_700_000_000_000_000_000
}

fn image() -> Image {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |kind: tar::EntryType, path: &str, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_mtime(1_600_000_000);
        match link {
            Some(target) => b.append_link(&mut h, path, target).unwrap(),
            None => b.append_data(&mut h, path, data).unwrap(),
        }
    };
    add(tar::EntryType::Directory, "./", &[], None);
    add(tar::EntryType::Regular, "./bin/sh", b"shell", None);
    add(tar::EntryType::Regular, "./data/from-image", b"hidden by the volume", None);
    add(tar::EntryType::Regular, "./usr/share/doc/readme", b"deep, never looked into", None);
    Image::from_tar(&b.into_inner().unwrap(), ImageLimits::default()).unwrap()
}

fn read_all(i: &Inode) -> Vec<u8> {
    let mut buf = vec![0u8; i.metadata().size as usize];
    let n = i.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn empty_volume() -> Filesystem {
    Filesystem::new(&Image::empty(), None, clock).unwrap()
}

#[test]
fn a_volume_is_shared_and_dotdot_stays_in_each_container() {
    let img = image();
    let volume = empty_volume();
    let a = Filesystem::new(&img, None, clock).unwrap();
    let b = Filesystem::new(&img, None, clock).unwrap();
    let b_srv = b.mkdir(&b.root(), "srv", 0o755).unwrap();
    a.mount_tree(&a.root(), "data", &volume, false).unwrap();
    b.mount_tree(&b_srv, "shared", &volume, false).unwrap();

    // The image's /data is hidden; what one container writes the other reads.
    let a_data = a.lookup(&a.root(), "/data", true).unwrap();
    assert_eq!(a.lookup(&a.root(), "/data/from-image", true).unwrap_err(), FsError::NotFound);
    let f = a.create_file(&a_data, "note", 0o644).unwrap();
    f.write_at(0, b"hello", clock()).unwrap();
    let seen = b.lookup(&b.root(), "/srv/shared/note", true).unwrap();
    assert_eq!(read_all(&seen), b"hello");
    assert!(volume.holds(&seen) && !a.holds(&seen) && !b.holds(&seen));

    // `..` from the shared root leads to each container's own directory, however the
    // two look it up in turn.
    let a_sub = a.mkdir(&a_data, "sub", 0o755).unwrap();
    b.lookup(&b.root(), "/srv/shared/sub", true).unwrap();
    assert!(Arc::ptr_eq(&a.lookup(&a_sub, "../..", true).unwrap(), &a.root()));
    assert!(Arc::ptr_eq(&b.lookup(&b.root(), "/srv/shared/sub/../..", true).unwrap(), &b_srv));
    assert_eq!(a.path_of(&a_sub).unwrap(), "/data/sub");
    let b_sub = b.lookup(&b.root(), "/srv/shared/sub", true).unwrap();
    assert_eq!(b.path_of(&b_sub).unwrap(), "/srv/shared/sub");
}

#[test]
fn mount_points_are_busy_and_trees_do_not_mix() {
    let volume = empty_volume();
    let fs = Filesystem::new(&image(), None, clock).unwrap();
    let root = fs.root();
    fs.mount_tree(&root, "data", &volume, false).unwrap();
    assert_eq!(fs.rmdir(&root, "data").unwrap_err(), FsError::Busy);
    assert_eq!(fs.rename(&root, "data", &root, "elsewhere", false).unwrap_err(), FsError::Busy);
    assert_eq!(fs.mount_tree(&root, "again", &volume, false).unwrap_err(), FsError::Busy);

    // Renames and hard links between the container's tree and the volume fail as
    // between two Linux file systems (so `mv` copies).
    let data = fs.lookup(&root, "/data", true).unwrap();
    let outside = fs.create_file(&root, "outside", 0o644).unwrap();
    assert_eq!(fs.rename(&root, "outside", &data, "moved", false).unwrap_err(), FsError::CrossDevice);
    assert_eq!(fs.link(&data, "linked", &outside).unwrap_err(), FsError::CrossDevice);
    let inside = fs.create_file(&data, "inside", 0o644).unwrap();
    assert_eq!(fs.rename(&data, "inside", &root, "out", false).unwrap_err(), FsError::CrossDevice);
    // Within the volume, both work.
    fs.link(&data, "inside2", &inside).unwrap();
    fs.rename(&data, "inside2", &data, "inside3", false).unwrap();
    assert_eq!(inside.metadata().nlink, 2);
}

#[test]
fn changes_are_counted_per_tree() {
    let volume = empty_volume();
    let fs = Filesystem::new(&image(), None, clock).unwrap();
    fs.mount_tree(&fs.root(), "data", &volume, false).unwrap();
    let data = fs.lookup(&fs.root(), "/data", true).unwrap();
    let before = volume.changes();
    let f = fs.create_file(&data, "f", 0o644).unwrap();
    assert!(volume.changes() > before);
    let after_create = volume.changes();
    f.write_at(0, b"x", clock()).unwrap();
    assert!(volume.changes() > after_create);
    let after_write = volume.changes();
    fs.create_file(&fs.root(), "elsewhere", 0o644).unwrap();
    assert_eq!(volume.changes(), after_write, "a change outside the volume is not the volume's");
}

#[test]
fn a_tree_written_out_reads_back_the_same() {
    let fs = Filesystem::new(&image(), None, clock).unwrap();
    let root = fs.root();
    let bin = fs.lookup(&root, "/bin", true).unwrap();
    let sh = fs.lookup(&root, "/bin/sh", true).unwrap();
    sh.write_at(5, b" changed", clock()).unwrap();
    let docs = fs.mkdir(&root, "docs", 0o700).unwrap();
    docs.set_owner(Some(1000), Some(100), clock());
    let big = fs.create_file(&docs, "big", 0o600).unwrap();
    let pattern: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    big.write_at(0, &pattern, clock()).unwrap();
    fs.link(&bin, "sh2", &sh).unwrap();
    fs.symlink(&docs, "link", "../bin/sh").unwrap();
    fs.mknod(&docs, "pipe", 0o010_644, 0).unwrap();
    fs.symlink(&root, &"n".repeat(200), "target").unwrap();
    root.set_mode(0o777, clock());
    let volume = empty_volume();
    fs.mount_tree(&root, "data", &volume, false).unwrap();
    fs.create_file(&fs.lookup(&root, "/data", true).unwrap(), "in-volume", 0o644).unwrap();

    assert_eq!(fs.archive(|_| false).unwrap_err(), FsError::NoSpace, "refused room");
    let mut asked = 0;
    let archive = fs
        .archive(|bytes| {
            asked = bytes;
            true
        })
        .unwrap();
    assert_eq!((asked, fs.archive_len().unwrap()), (archive.len() as u64, archive.len() as u64));
    let back = Filesystem::new(&Image::from_tar(&archive, ImageLimits::default()).unwrap(), None, clock).unwrap();
    let r = back.root();
    assert_eq!(r.metadata().mode & 0o7777, 0o777);
    assert_eq!(read_all(&back.lookup(&r, "/bin/sh", true).unwrap()), b"shell changed");
    assert_eq!(read_all(&back.lookup(&r, "/bin/sh2", true).unwrap()), b"shell changed");
    assert_eq!(read_all(&back.lookup(&r, "/docs/big", true).unwrap()), pattern);
    let docs = back.lookup(&r, "/docs", true).unwrap().metadata();
    assert_eq!((docs.mode & 0o7777, docs.uid, docs.gid), (0o700, 1000, 100));
    assert_eq!(back.lookup(&r, "/docs/link", false).unwrap().readlink().unwrap(), "../bin/sh");
    assert_eq!(back.lookup(&r, "/docs/pipe", false).unwrap().file_type(), FileType::Fifo);
    assert_eq!(back.lookup(&r, &"n".repeat(200), false).unwrap().readlink().unwrap(), "target");
    // Parts of the image never looked into are written as the image has them.
    assert_eq!(read_all(&back.lookup(&r, "/usr/share/doc/readme", true).unwrap()), b"deep, never looked into");
    // The mount point is there, empty: neither the volume nor what it hides.
    let data = back.lookup(&r, "/data", true).unwrap();
    assert!(back.entries(&data).unwrap().is_empty());
}

#[test]
fn an_empty_volume_takes_the_image_directory_it_is_mounted_over() {
    let fs = Filesystem::new(&image(), None, clock).unwrap();
    let volume = empty_volume();
    let usr = fs.lookup(&fs.root(), "/usr", true).unwrap();
    usr.set_owner(Some(33), Some(33), clock());
    fs.copy_tree(&usr, &volume, &volume.root()).unwrap();
    fs.mount_tree(&fs.root(), "usr", &volume, false).unwrap();
    let readme = fs.lookup(&fs.root(), "/usr/share/doc/readme", true).unwrap();
    assert_eq!(read_all(&readme), b"deep, never looked into");
    assert!(volume.holds(&readme));
    assert_eq!(volume.root().metadata().uid, 33);
    // Writing the copy leaves the image alone.
    readme.write_at(0, b"DEEP", clock()).unwrap();
    let other = Filesystem::new(&image(), None, clock).unwrap();
    let original = other.lookup(&other.root(), "/usr/share/doc/readme", true).unwrap();
    assert_eq!(read_all(&original), b"deep, never looked into");
}

#[test]
fn a_volume_mounted_read_only_refuses_changes_there_only() {
    let volume = empty_volume();
    let f = volume.create_file(&volume.root(), "f", 0o644).unwrap();
    volume.mkdir(&volume.root(), "d", 0o755).unwrap();
    let reader = Filesystem::new(&image(), None, clock).unwrap();
    let writer = Filesystem::new(&image(), None, clock).unwrap();
    reader.mount_tree(&reader.root(), "data", &volume, true).unwrap();
    writer.mount_tree(&writer.root(), "data", &volume, false).unwrap();
    let data = reader.lookup(&reader.root(), "/data", true).unwrap();
    let d = reader.lookup(&reader.root(), "/data/d", true).unwrap();
    assert!(reader.is_read_only(&f) && reader.is_read_only(&data) && !writer.is_read_only(&f));
    assert!(!reader.is_read_only(&reader.root()));
    for result in [
        reader.create_file(&data, "new", 0o644).map(drop),
        reader.mkdir(&d, "sub", 0o755).map(drop),
        reader.symlink(&data, "l", "f").map(drop),
        reader.unlink(&data, "f"),
        reader.rmdir(&data, "d"),
        reader.rename(&data, "f", &data, "g", false),
        reader.link(&data, "f2", &f),
    ] {
        assert_eq!(result.unwrap_err(), FsError::ReadOnly);
    }
    // The same volume, mounted writable elsewhere, takes changes the reader sees.
    let wdata = writer.lookup(&writer.root(), "/data", true).unwrap();
    writer.create_file(&wdata, "from-writer", 0o644).unwrap();
    assert!(reader.lookup(&reader.root(), "/data/from-writer", true).is_ok());
    // And the reader's own tree is writable.
    reader.create_file(&reader.root(), "mine", 0o644).unwrap();
}

#[test]
fn docker_cp_in_and_out() {
    let fs = Filesystem::new(&image(), None, clock).unwrap();
    let root = fs.root();
    // Out: a directory's archive is named from it; a file's is the file.
    let bin = fs.lookup(&root, "/bin", true).unwrap();
    let tar = fs.archive_of(&bin, "bin", |_| true).unwrap();
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["bin/", "bin/sh"]);
    let sh = fs.lookup(&root, "/bin/sh", true).unwrap();
    let tar = fs.archive_of(&sh, "sh", |_| true).unwrap();
    let back = Filesystem::new(&Image::from_tar(&tar, ImageLimits::default()).unwrap(), None, clock).unwrap();
    assert_eq!(read_all(&back.lookup(&back.root(), "/sh", true).unwrap()), b"shell");

    // In: merged into an existing directory, replacing files, keeping the rest.
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in [("bin/sh", &b"new shell"[..]), ("bin/extra", b"extra"), ("etc/conf", b"c")] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        b.append_data(&mut h, path, data).unwrap();
    }
    let upload = Image::from_tar(&b.into_inner().unwrap(), ImageLimits::default()).unwrap();
    let upload = Filesystem::new(&upload, None, clock).unwrap();
    upload.merge_tree(&upload.root(), &fs, &root).unwrap();
    assert_eq!(read_all(&fs.lookup(&root, "/bin/sh", true).unwrap()), b"new shell");
    assert_eq!(read_all(&fs.lookup(&root, "/bin/extra", true).unwrap()), b"extra");
    assert_eq!(read_all(&fs.lookup(&root, "/etc/conf", true).unwrap()), b"c");
    assert!(fs.lookup(&root, "/data/from-image", true).is_ok(), "the rest is kept");
    // A directory is not replaced by a file.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, "bin", &b"x"[..]).unwrap();
    let clash =
        Filesystem::new(&Image::from_tar(&b.into_inner().unwrap(), ImageLimits::default()).unwrap(), None, clock)
            .unwrap();
    assert_eq!(clash.merge_tree(&clash.root(), &fs, &root).unwrap_err(), FsError::IsDirectory);
}
