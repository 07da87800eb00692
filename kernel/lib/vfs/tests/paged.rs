//! Paged trees (volumes on a machine with a disk): files larger than the memory the
//! tree may use, written out and read back through a pager, and the tree rebuilt from
//! its manifest as after a reboot.

use berth_vfs::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

fn clock() -> u64 {
    1_700_000_000_000_000_000
}

/// A store in a map, keyed by (file, extent), as the kernel's keeps a volume's.
#[derive(Default)]
struct Store {
    extents: Mutex<BTreeMap<(u64, u64), Vec<u8>>>,
    reads: AtomicU64,
}

impl Pager for Store {
    fn read(&self, file: u64, extent: u64) -> Result<Option<Vec<u8>>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(self.extents.lock().unwrap().get(&(file, extent)).cloned())
    }
}

impl Store {
    /// Commits a write-out as the kernel does: stale extents go, changed ones are
    /// put; returns the manifest and next file id.
    fn commit(&self, fs: &Filesystem) -> (Vec<u8>, u64) {
        let mut out = fs.write_out().unwrap();
        let keep: BTreeMap<u64, u64> = out.files.iter().map(|f| (f.file, f.extents)).collect();
        let mut map = self.extents.lock().unwrap();
        map.retain(|(file, extent), _| keep.get(file).is_some_and(|&n| *extent < n));
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
        (out.manifest.clone(), out.next_file)
    }

    fn bytes(&self) -> usize {
        self.extents.lock().unwrap().values().map(Vec::len).sum()
    }
}

/// A budget of `max` bytes.
struct Limit {
    held: AtomicU64,
    max: u64,
}

impl Budget for Limit {
    fn charge(&self, bytes: u64) -> bool {
        self.held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| Some(h + bytes).filter(|&n| n <= self.max))
            .is_ok()
    }
    fn uncharge(&self, bytes: u64) {
        self.held.fetch_sub(bytes, Ordering::Relaxed);
    }
}

fn paged(store: &Arc<Store>, manifest: &Image, next_file: u64, budget: &Arc<Limit>, quota: Option<u64>) -> Filesystem {
    let paging = Paging { pager: store.clone(), next_file, dirty_limit: 8, quota };
    Filesystem::paged(manifest, Some(budget.clone()), clock, paging).unwrap()
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    (0..len as u64).map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed) >> 7) as u8).collect()
}

fn read_all(i: &Inode) -> Vec<u8> {
    let mut buf = vec![0u8; i.metadata().size as usize];
    let n = i.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn a_file_eight_times_the_memory_is_written_and_read_back_after_a_reboot() {
    let store = Arc::new(Store::default());
    // 1 MiB of memory; a file of 8 MiB.
    let budget = Arc::new(Limit { held: AtomicU64::new(0), max: 1 << 20 });
    let fs = paged(&store, &Image::empty(), 1, &budget, None);
    let dir = fs.mkdir(&fs.root(), "data", 0o755).unwrap();
    let big = fs.create_file(&dir, "big", 0o644).unwrap();
    let bytes = pattern(8 << 20, 1);
    for (i, piece) in bytes.chunks(100_000).enumerate() {
        big.write_at((i * 100_000) as u64, piece, clock()).unwrap();
        // The kernel writes a tree out when it asks (past its dirty limit).
        if big.wants_write_out() {
            store.commit(&fs);
        }
    }
    let small = fs.create_file(&fs.root(), "small", 0o600).unwrap();
    small.write_at(0, b"little", clock()).unwrap();
    fs.link(&dir, "also-small", &small).unwrap();
    let (manifest, next) = store.commit(&fs);
    assert!(budget.held.load(Ordering::Relaxed) <= 1 << 20);
    assert!(store.bytes() >= 8 << 20, "the data is in the store");
    assert_eq!(read_all(&big), bytes, "read back through the pager");

    // A reboot: the tree from its manifest, nothing in memory until read.
    drop((big, small, dir, fs));
    assert_eq!(budget.held.load(Ordering::Relaxed), 0, "everything was given back");
    let image = Image::manifest_from_tar(&manifest, ImageLimits::default()).unwrap();
    let fs = paged(&store, &image, next, &budget, None);
    let big = fs.lookup(&fs.root(), "/data/big", true).unwrap();
    assert_eq!(big.metadata().size, 8 << 20);
    let reads = store.reads.load(Ordering::Relaxed);
    let mut buf = [0u8; 10];
    big.read_at(5 << 20, &mut buf).unwrap();
    assert_eq!(buf, bytes[5 << 20..(5 << 20) + 10]);
    assert_eq!(store.reads.load(Ordering::Relaxed), reads + 1, "one extent read for ten bytes");
    assert_eq!(read_all(&big), bytes);
    // Hard links stay one file.
    let a = fs.lookup(&fs.root(), "/small", true).unwrap();
    let b = fs.lookup(&fs.root(), "/data/also-small", true).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "one inode under two names");
    b.write_at(0, b"L", clock()).unwrap();
    assert_eq!(read_all(&a), b"Little");
    // A new file gets an id of its own.
    let fresh = fs.create_file(&fs.root(), "fresh", 0o644).unwrap();
    fresh.write_at(0, b"new", clock()).unwrap();
    store.commit(&fs);
    assert_eq!(read_all(&a), b"Little");
    assert_eq!(read_all(&big), bytes);
}

#[test]
fn removed_and_cut_files_leave_the_store() {
    let store = Arc::new(Store::default());
    let budget = Arc::new(Limit { held: AtomicU64::new(0), max: u64::MAX });
    let fs = paged(&store, &Image::empty(), 1, &budget, None);
    let gone = fs.create_file(&fs.root(), "gone", 0o644).unwrap();
    gone.write_at(0, &pattern(3 * EXTENT, 2), clock()).unwrap();
    let cut = fs.create_file(&fs.root(), "cut", 0o644).unwrap();
    cut.write_at(0, &pattern(4 * EXTENT, 3), clock()).unwrap();
    store.commit(&fs);
    assert_eq!(store.bytes(), 7 * EXTENT);
    fs.unlink(&fs.root(), "gone").unwrap();
    drop(gone);
    cut.truncate(EXTENT as u64 + 1, clock()).unwrap();
    store.commit(&fs);
    assert_eq!(store.bytes(), EXTENT + 1, "only what the cut file still holds");
    // An open file with no name keeps its data until closed.
    let open = fs.create_file(&fs.root(), "open", 0o644).unwrap();
    open.write_at(0, b"still here", clock()).unwrap();
    store.commit(&fs);
    fs.unlink(&fs.root(), "open").unwrap();
    store.commit(&fs);
    assert_eq!(read_all(&open), b"still here");
}

#[test]
fn a_quota_limits_the_bytes_of_files_not_the_memory() {
    let store = Arc::new(Store::default());
    let budget = Arc::new(Limit { held: AtomicU64::new(0), max: u64::MAX });
    let fs = paged(&store, &Image::empty(), 1, &budget, Some(100_000));
    let f = fs.create_file(&fs.root(), "f", 0o644).unwrap();
    f.write_at(0, &[1; 60_000], clock()).unwrap();
    assert_eq!(f.write_at(60_000, &[2; 50_000], clock()), Err(FsError::NoSpace));
    assert_eq!(f.metadata().size, 60_000, "a refused write changes nothing");
    f.truncate(10_000, clock()).unwrap();
    f.write_at(10_000, &[3; 80_000], clock()).unwrap();
    assert_eq!(f.truncate(200_000, clock()), Err(FsError::NoSpace));
}

#[test]
fn files_not_looked_into_after_a_reboot_keep_their_data() {
    let store = Arc::new(Store::default());
    let budget = Arc::new(Limit { held: AtomicU64::new(0), max: u64::MAX });
    let fs = paged(&store, &Image::empty(), 1, &budget, None);
    for dir in ["a", "b"] {
        let d = fs.mkdir(&fs.root(), dir, 0o755).unwrap();
        let f = fs.create_file(&d, "f", 0o644).unwrap();
        f.write_at(0, &pattern(2 * EXTENT, dir.len() as u64), clock()).unwrap();
        fs.link(&fs.root(), &format!("{dir}-link"), &f).unwrap();
    }
    let (manifest, next) = store.commit(&fs);
    drop(fs);
    let image = Image::manifest_from_tar(&manifest, ImageLimits::default()).unwrap();
    let fs = paged(&store, &image, next, &budget, None);
    // A change in /a written out while /b was never looked into...
    let a = fs.lookup(&fs.root(), "/a/f", true).unwrap();
    a.write_at(0, b"changed", clock()).unwrap();
    let (manifest, next) = store.commit(&fs);
    assert_eq!(store.bytes(), 4 * EXTENT, "both files' data is kept");
    // ...and again after another reboot: /b's data is still there.
    drop((a, fs));
    let image = Image::manifest_from_tar(&manifest, ImageLimits::default()).unwrap();
    let fs = paged(&store, &image, next, &budget, None);
    let b = fs.lookup(&fs.root(), "/b/f", true).unwrap();
    assert_eq!(read_all(&b), pattern(2 * EXTENT, 1));
    let a = fs.lookup(&fs.root(), "/a-link", true).unwrap();
    assert_eq!(&read_all(&a)[..7], b"changed");
}

/// A tar of one empty file `./f` with a `BERTH.paged` record of `value`.
fn referencing(value: &str) -> Vec<u8> {
    use berth_tar::writer::{self, Member, MemberKind};
    let member = Member { name: "./f", kind: MemberKind::File, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 };
    let mut tar = writer::header_with(&member, &[(PagedFile::RECORD, value)]);
    tar.extend_from_slice(&writer::end());
    tar
}

#[test]
fn references_are_read_only_from_manifests_and_checked() {
    let err = Image::manifest_from_tar(&referencing("7 nonsense"), ImageLimits::default()).unwrap_err();
    assert!(matches!(err, FsError::BadImage(_)), "{err:?}");
    let image = Image::manifest_from_tar(&referencing("7 100"), ImageLimits::default()).unwrap();
    let ImageBody::Dir(entries) = &image.root().body else { panic!("not a directory") };
    assert!(matches!(entries["f"].body, ImageBody::Paged(PagedFile { id: 7, len: 100 })));
    // An image (`docker import`) cannot name paged data: the record means nothing there.
    let image = Image::from_tar(&referencing("7 100"), ImageLimits::default()).unwrap();
    let ImageBody::Dir(entries) = &image.root().body else { panic!("not a directory") };
    assert!(matches!(&entries["f"].body, ImageBody::File(b) if b.is_empty()));
    // And a reference in a tree that is not paged cannot be opened.
    let image = Image::manifest_from_tar(&referencing("7 100"), ImageLimits::default()).unwrap();
    let fs = Filesystem::new(&image, None, clock).unwrap();
    assert_eq!(fs.lookup(&fs.root(), "/f", true).unwrap_err(), FsError::Invalid);
}

#[test]
fn readers_and_writers_make_progress_while_another_thread_evicts_all_the_time() {
    // An extent read back is used under the same lock hold as it is installed: a
    // reclaim running all the while cannot push it out before the read or write
    // that wanted it (in the kernel, other containers' charges reclaim this way).
    let store = Arc::new(Store::default());
    let budget = Arc::new(Limit { held: AtomicU64::new(0), max: 4 << 20 });
    let fs = Arc::new(paged(&store, &Image::empty(), 1, &budget, None));
    let file = fs.create_file(&fs.root(), "f", 0o644).unwrap();
    let mut bytes = pattern(1 << 20, 3);
    file.write_at(0, &bytes, clock()).unwrap();
    store.commit(&fs);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let evictor = {
        let (fs, done) = (fs.clone(), done.clone());
        std::thread::spawn(move || {
            let mut freed = 0;
            while !done.load(Ordering::Relaxed) {
                freed += fs.evict_clean(u64::MAX);
            }
            freed
        })
    };
    for round in 0..200u64 {
        let at = (round * 40_000) as usize % (bytes.len() - 300_000);
        let mut buf = vec![0u8; 200_000];
        assert_eq!(file.read_at(at as u64, &mut buf).unwrap(), buf.len());
        assert_eq!(buf, bytes[at..at + buf.len()], "round {round}");
        let piece = pattern(70_000, round);
        file.write_at((at + 100_000) as u64, &piece, clock()).unwrap();
        bytes[at + 100_000..at + 170_000].copy_from_slice(&piece);
        store.commit(&fs);
    }
    done.store(true, Ordering::Relaxed);
    assert!(evictor.join().unwrap() > 0, "the evictor freed data while the file was used");
    assert_eq!(read_all(&file), bytes);
}

#[test]
fn cuts_at_an_extent_boundary_read_nothing_back() {
    // Only the extent a cut ends inside is read back (to zero its tail): a cut to
    // the current length, or to 0 (`O_TRUNC`), reads nothing from the disk.
    let store = Arc::new(Store::default());
    let budget = Arc::new(Limit { held: AtomicU64::new(0), max: 4 << 20 });
    let fs = paged(&store, &Image::empty(), 1, &budget, None);
    let file = fs.create_file(&fs.root(), "f", 0o644).unwrap();
    file.write_at(0, &pattern(1 << 20, 5), clock()).unwrap();
    let (manifest, next) = store.commit(&fs);
    drop((file, fs));
    let image = Image::manifest_from_tar(&manifest, ImageLimits::default()).unwrap();
    let fs = paged(&store, &image, next, &budget, None);
    let file = fs.lookup(&fs.root(), "/f", true).unwrap();
    let reads = store.reads.load(Ordering::Relaxed);
    file.truncate(1 << 20, clock()).unwrap();
    file.truncate(1 << 19, clock()).unwrap();
    file.truncate(0, clock()).unwrap();
    assert_eq!(store.reads.load(Ordering::Relaxed), reads, "nothing read back");
    assert_eq!(file.metadata().size, 0);
}
