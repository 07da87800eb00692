//! Images and container file systems, end to end.

use berth_vfs::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn clock() -> u64 {
    1_700_000_000_000_000_000
}

/// A rootfs archive: bin/busybox, bin/sh -> busybox, etc/hostname, a hard link, a deep dir.
fn rootfs() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |kind: tar::EntryType, path: &str, data: &[u8], link: Option<&str>, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        match link {
            Some(target) => b.append_link(&mut h, path, target).unwrap(),
            None => b.append_data(&mut h, path, data).unwrap(),
        }
    };
    add(tar::EntryType::Directory, "./", &[], None, 0o755);
    add(tar::EntryType::Directory, "./bin/", &[], None, 0o755);
    add(tar::EntryType::Regular, "./bin/busybox", b"\x7fELF fake busybox", None, 0o755);
    add(tar::EntryType::Symlink, "./bin/sh", &[], Some("busybox"), 0o777);
    add(tar::EntryType::Regular, "./etc/hostname", b"berth\n", None, 0o644);
    add(tar::EntryType::Link, "./etc/hostname2", &[], Some("./etc/hostname"), 0o644);
    add(tar::EntryType::Symlink, "./etc/loop", &[], Some("loop"), 0o777);
    add(tar::EntryType::Symlink, "./abs", &[], Some("/etc"), 0o777);
    add(tar::EntryType::Regular, "./a/b/c/d/file", b"deep", None, 0o600);
    b.into_inner().unwrap()
}

fn image() -> Image {
    Image::from_tar(&rootfs(), ImageLimits::default()).unwrap()
}

fn read_all(i: &Inode) -> Vec<u8> {
    let mut buf = vec![0u8; i.metadata().size as usize];
    let n = i.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn image_from_tar() {
    let img = image();
    assert_eq!(img.bytes(), 17 + 6 + 4);
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    let bb = fs.lookup(&root, "/bin/busybox", true).unwrap();
    assert_eq!(read_all(&bb), b"\x7fELF fake busybox");
    assert_eq!(bb.metadata().mode, 0o100755);
    assert_eq!(bb.metadata().mtime, 1_600_000_000_000_000_000);
    // A hard link shares the bytes.
    let h2 = fs.lookup(&root, "etc/hostname2", true).unwrap();
    assert_eq!(read_all(&h2), b"berth\n");
    // Parents missing from the archive are created.
    let deep = fs.lookup(&root, "a/b/c/d/file", true).unwrap();
    assert_eq!(read_all(&deep), b"deep");
    assert_eq!(fs.lookup(&root, "a/b", true).unwrap().file_type(), FileType::Directory);
}

#[test]
fn symlinks_dots_and_errors() {
    let img = image();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    let sh = fs.lookup(&root, "/bin/sh", true).unwrap();
    assert_eq!(read_all(&sh), b"\x7fELF fake busybox");
    let link = fs.lookup(&root, "/bin/sh", false).unwrap();
    assert_eq!(link.file_type(), FileType::Symlink);
    assert_eq!(link.readlink().unwrap(), "busybox");
    assert_eq!(read_all(&fs.lookup(&root, "/abs/hostname", true).unwrap()), b"berth\n");
    let bin = fs.lookup(&root, "/bin", true).unwrap();
    assert!(Arc::ptr_eq(&fs.lookup(&bin, "../bin/./", true).unwrap(), &bin));
    // `..` at the root stays at the root: no way out of a container.
    assert!(Arc::ptr_eq(&fs.lookup(&root, "/../../..", true).unwrap(), &root));
    assert_eq!(fs.lookup(&root, "/etc/loop", true).unwrap_err(), FsError::TooManyLinks);
    assert_eq!(fs.lookup(&root, "/nope", true).unwrap_err(), FsError::NotFound);
    assert_eq!(fs.lookup(&root, "/etc/hostname/x", true).unwrap_err(), FsError::NotDirectory);
    assert_eq!(fs.lookup(&root, "/etc/hostname/", true).unwrap_err(), FsError::NotDirectory);
    assert_eq!(fs.lookup(&root, "", true).unwrap_err(), FsError::NotFound);
    assert_eq!(fs.path_of(&fs.lookup(&root, "/a/b/c", true).unwrap()).unwrap(), "/a/b/c");
    assert_eq!(fs.path_of(&root).unwrap(), "/");
}

#[test]
fn containers_of_one_image_are_isolated() {
    let img = image();
    let a = Filesystem::new(&img, None, clock).unwrap();
    let b = Filesystem::new(&img, None, clock).unwrap();
    // Before any write both share the image's bytes.
    let ha = a.lookup(&a.root(), "/etc/hostname", true).unwrap();
    let hb = b.lookup(&b.root(), "/etc/hostname", true).unwrap();
    assert!(Arc::ptr_eq(&ha.contents().unwrap(), &hb.contents().unwrap()));
    ha.write_at(0, b"HOSTA", clock()).unwrap();
    assert_eq!(read_all(&ha), b"HOSTA\n");
    assert_eq!(read_all(&hb), b"berth\n");
    let etc = a.lookup(&a.root(), "/etc", true).unwrap();
    a.unlink(&etc, "hostname2").unwrap();
    a.create_file(&etc, "new", 0o644).unwrap();
    assert!(b.lookup(&b.root(), "/etc/hostname2", true).is_ok());
    assert_eq!(b.lookup(&b.root(), "/etc/new", true).unwrap_err(), FsError::NotFound);
    // A fresh container of the image still sees the original.
    let c = Filesystem::new(&img, None, clock).unwrap();
    assert_eq!(read_all(&c.lookup(&c.root(), "/etc/hostname", true).unwrap()), b"berth\n");
}

struct Counter {
    used: AtomicU64,
    limit: u64,
}

impl Budget for Counter {
    fn charge(&self, bytes: u64) -> bool {
        let now = self.used.fetch_add(bytes, Ordering::SeqCst) + bytes;
        if now > self.limit {
            self.used.fetch_sub(bytes, Ordering::SeqCst);
            return false;
        }
        true
    }
    fn uncharge(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::SeqCst);
    }
}

#[test]
fn writes_are_charged_and_limited_and_returned() {
    let img = image();
    let budget = Arc::new(Counter { used: AtomicU64::new(0), limit: 64 * 1024 });
    {
        let fs = Filesystem::new(&img, Some(budget.clone()), clock).unwrap();
        let root = fs.root();
        let f = fs.create_file(&root, "big", 0o644).unwrap();
        f.write_at(0, &vec![1u8; 32 * 1024], clock()).unwrap();
        assert_eq!(f.write_at(32 * 1024, &vec![2u8; 40 * 1024], clock()).unwrap_err(), FsError::NoSpace);
        assert_eq!(f.metadata().size, 32 * 1024, "a failed write changes nothing");
        f.truncate(0, clock()).unwrap();
        f.write_at(0, &vec![3u8; 40 * 1024], clock()).unwrap();
        // Creating files without end runs out too.
        let mut made = 0;
        while fs.create_file(&root, &format!("f{made}"), 0o644).is_ok() {
            made += 1;
            assert!(made < 1000);
        }
        assert!(made > 10);
    }
    assert_eq!(budget.used.load(Ordering::SeqCst), 0, "everything is given back when the container goes");
}

#[test]
fn directory_operations_follow_linux_rules() {
    let img = image();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    let d = fs.mkdir(&root, "d", 0o755).unwrap();
    fs.create_file(&d, "x", 0o644).unwrap();
    assert_eq!(fs.mkdir(&root, "d", 0o755).unwrap_err(), FsError::Exists);
    assert_eq!(fs.rmdir(&root, "d").unwrap_err(), FsError::NotEmpty);
    assert_eq!(fs.unlink(&root, "d").unwrap_err(), FsError::IsDirectory);
    assert_eq!(fs.rename(&root, "d", &d, "inside", false).unwrap_err(), FsError::Invalid);
    let e = fs.mkdir(&root, "e", 0o755).unwrap();
    fs.rename(&d, "x", &e, "y", false).unwrap();
    assert!(fs.lookup(&root, "/e/y", true).is_ok());
    assert_eq!(fs.lookup(&root, "/d/x", true).unwrap_err(), FsError::NotFound);
    fs.create_file(&e, "z", 0o644).unwrap();
    assert_eq!(fs.rename(&e, "y", &e, "z", true).unwrap_err(), FsError::Exists);
    fs.rename(&e, "y", &e, "z", false).unwrap();
    assert_eq!(fs.entries(&e).unwrap().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["z"]);
    // Moving a directory updates its path.
    fs.rename(&root, "e", &d, "e2", false).unwrap();
    assert_eq!(fs.path_of(&e).unwrap(), "/d/e2");
    let z = fs.lookup(&root, "/d/e2/z", true).unwrap();
    fs.link(&root, "zlink", &z).unwrap();
    assert_eq!(z.metadata().nlink, 2);
    fs.unlink(&d, "e2").unwrap_err();
    fs.symlink(&root, "s", "/d/e2/z").unwrap();
    assert!(Arc::ptr_eq(&fs.lookup(&root, "s", true).unwrap(), &z));
    let names: Vec<_> = fs.entries(&root).unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["a", "abs", "bin", "d", "etc", "s", "zlink"]);
}

struct Proc;

impl SpecialDir for Proc {
    fn lookup(&self, name: &str) -> Option<Arc<Inode>> {
        (name == "self").then(|| Inode::synthetic_symlink(9000, "1".into(), clock()))
    }
    fn entries(&self) -> Vec<DirEntry> {
        vec![DirEntry { name: "self".into(), ino: 9000, kind: FileType::Symlink }]
    }
}

#[test]
fn synthetic_directories_mount_into_the_tree() {
    let img = image();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    fs.mount(&root, "proc", Inode::synthetic_dir(8999, Arc::new(Proc), clock())).unwrap();
    let link = fs.lookup(&root, "/proc/self", false).unwrap();
    assert_eq!(link.readlink().unwrap(), "1");
    assert_eq!(fs.entries(&fs.lookup(&root, "/proc", true).unwrap()).unwrap().len(), 1);
    let proc_dir = fs.lookup(&root, "/proc", true).unwrap();
    assert_eq!(fs.create_file(&proc_dir, "x", 0o644).unwrap_err(), FsError::NotPermitted);
    assert!(Arc::ptr_eq(&fs.lookup(&proc_dir, "..", true).unwrap(), &root));
}

#[test]
fn malformed_images_are_refused_with_a_reason() {
    let good = rootfs();
    assert!(matches!(Image::from_tar(&good[..700], ImageLimits::default()), Err(FsError::BadImage(_))));
    let limits = ImageLimits { max_bytes: 10, max_entries: 100 };
    let err = Image::from_tar(&good, limits).unwrap_err();
    assert!(format!("{err}").contains("bytes"), "{err}");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(1);
    h.set_cksum();
    {
        let name = b"../escape";
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name);
    }
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let err = Image::from_tar(&b.into_inner().unwrap(), ImageLimits::default()).unwrap_err();
    assert!(format!("{err}").contains(".."), "{err}");
}

#[test]
fn socket_nodes_are_created_once_and_unlinked() {
    let fs = Filesystem::new(&image(), None, clock).unwrap();
    let tmp = fs.mkdir(&fs.root(), "tmp", 0o1777).unwrap();
    let node = fs.mknod(&tmp, "s.sock", FileType::Socket.mode_bits() | 0o755, 0).unwrap();
    let found = fs.lookup(&fs.root(), "/tmp/s.sock", true).unwrap();
    assert_eq!(found.ino(), node.ino());
    assert_eq!(FileType::from_mode(found.metadata().mode), FileType::Socket);
    assert_eq!(fs.mknod(&tmp, "s.sock", FileType::Socket.mode_bits(), 0).err(), Some(FsError::Exists));
    fs.unlink(&tmp, "s.sock").unwrap();
    assert_eq!(fs.lookup(&fs.root(), "/tmp/s.sock", true).err(), Some(FsError::NotFound));
}

/// An archive of `(kind, path, link target, device)` members written as raw headers,
/// so names no well-behaved archiver writes (`../`, absolute paths) get in.
fn raw_archive(members: &[(tar::EntryType, &str, &str, (u32, u32))]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for &(kind, path, link, (major, minor)) in members {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        let data: &[u8] = if kind == tar::EntryType::Regular { b"data" } else { b"" };
        h.set_size(data.len() as u64);
        if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
            h.set_device_major(major).unwrap();
            h.set_device_minor(minor).unwrap();
        }
        {
            let raw = h.as_old_mut();
            raw.name[..path.len()].copy_from_slice(path.as_bytes());
            raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn image_members_stay_inside_the_root() {
    use tar::EntryType::*;
    let build = |members: &[(tar::EntryType, &str, &str, (u32, u32))]| {
        Image::from_tar(&raw_archive(members), ImageLimits::default())
    };
    // An absolute member path is taken from the image's root, as GNU tar and Docker do.
    let img = build(&[(Regular, "/etc/absolute", "", (0, 0))]).unwrap();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    assert_eq!(read_all(&fs.lookup(&fs.root(), "/etc/absolute", true).unwrap()), b"data");
    // A hard link must name a member inside the archive.
    for target in ["../../etc/shadow", "/../etc/shadow", "etc/../../x"] {
        let err = build(&[(Regular, "etc/passwd", "", (0, 0)), (Link, "x", target, (0, 0))]).unwrap_err();
        assert!(format!("{err}").contains(".."), "{target}: {err}");
    }
    assert!(matches!(build(&[(Link, "x", "not/there", (0, 0))]), Err(FsError::BadImage(_))));
    // Symbolic links keep their targets, and resolve inside the container's root
    // however far up they point.
    let img = build(&[
        (Regular, "etc/hostname", "", (0, 0)),
        (Symlink, "root", "/", (0, 0)),
        (Symlink, "up", "../../../../../etc", (0, 0)),
    ])
    .unwrap();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    assert_eq!(fs.lookup(&root, "up", false).unwrap().readlink().unwrap(), "../../../../../etc");
    assert_eq!(read_all(&fs.lookup(&root, "up/hostname", true).unwrap()), b"data");
    assert_eq!(read_all(&fs.lookup(&root, "root/root/etc/hostname", true).unwrap()), b"data");
    assert!(Arc::ptr_eq(&fs.lookup(&root, "root/..", true).unwrap(), &root));
}

#[test]
fn device_nodes_keep_their_numbers() {
    use tar::EntryType::*;
    let archive =
        raw_archive(&[(Char, "dev/null", "", (1, 3)), (Block, "dev/sda", "", (8, 0)), (Fifo, "fifo", "", (0, 0))]);
    let img = Image::from_tar(&archive, ImageLimits::default()).unwrap();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let null = fs.lookup(&fs.root(), "dev/null", true).unwrap();
    assert_eq!((null.file_type(), null.metadata().rdev), (FileType::CharDevice, 1 << 8 | 3));
    let sda = fs.lookup(&fs.root(), "dev/sda", true).unwrap();
    assert_eq!((sda.file_type(), sda.metadata().rdev), (FileType::BlockDevice, 8 << 8));
    assert_eq!(fs.lookup(&fs.root(), "fifo", true).unwrap().file_type(), FileType::Fifo);
}

#[test]
fn lookups_need_search_permission_where_the_caller_says() {
    let img = image();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    // A caller that may search nothing but the root and /a.
    let allowed = [root.ino(), fs.lookup(&root, "/a", true).unwrap().ino()];
    let search = |dir: &Inode| allowed.contains(&dir.ino());
    assert!(fs.lookup_as(&root, "/a/b", true, &search).is_ok());
    assert_eq!(fs.lookup_as(&root, "/a/b/c", true, &search).err(), Some(FsError::AccessDenied));
    assert_eq!(fs.lookup_as(&root, "/etc/../a/b", true, &search).err(), Some(FsError::AccessDenied));
    let (dir, name) = fs.lookup_parent_as(&root, "/a/new", &search).unwrap();
    assert_eq!((dir.ino(), name.as_str()), (fs.lookup(&root, "/a", true).unwrap().ino(), "new"));
    // The parent itself is not searched here: what is done in it checks that.
    assert!(fs.lookup_parent_as(&root, "/a/b/new", &search).is_ok());
    assert_eq!(fs.lookup_parent_as(&root, "/a/b/c/new", &search).err(), Some(FsError::AccessDenied));
    // The unchecked lookup still goes everywhere.
    assert!(fs.lookup(&root, "/a/b/c/d/file", true).is_ok());
}

#[test]
fn shared_mappings_of_a_file_share_one_object_while_it_lives() {
    let img = image();
    let fs = Filesystem::new(&img, None, clock).unwrap();
    let root = fs.root();
    let file = fs.lookup(&root, "/etc/hostname", true).unwrap();
    let first = file.shared_mapping(|| Ok::<_, ()>(Arc::new(AtomicU64::new(7)))).unwrap();
    // A second mapping gets the same object, not a new one from `make`.
    let second = file.shared_mapping(|| Ok::<_, ()>(Arc::new(AtomicU64::new(8)))).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    // Another file (the hard link's target aside) has its own.
    let other = fs.lookup(&root, "/a/b/c/d/file", true).unwrap();
    let theirs = other.shared_mapping(|| Ok::<_, ()>(Arc::new(AtomicU64::new(9)))).unwrap();
    assert_eq!(theirs.load(Ordering::Relaxed), 9);
    // Once no mapping holds it, the next one starts afresh; a failing `make` says so.
    drop((first, second));
    assert_eq!(file.shared_mapping(|| Err::<Arc<AtomicU64>, _>("no memory")).unwrap_err(), "no memory");
    let fresh = file.shared_mapping(|| Ok::<_, ()>(Arc::new(AtomicU64::new(10)))).unwrap();
    assert_eq!(fresh.load(Ordering::Relaxed), 10);
}
