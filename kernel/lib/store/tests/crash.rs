//! The store on a memory disk: what it keeps across reopening, and what a power cut at
//! every point of a commit leaves.

use berth_store::{Change, Disk, DiskError, Opened, SECTOR, Store, StoreError};

/// A disk in memory that can stop persisting writes after a number of sectors (a power
/// cut), tearing the sector it stops in: only its first 32 bytes land (a superblock's
/// magic and generation, but not its checksum).
#[derive(Clone)]
struct MemDisk {
    bytes: Vec<u8>,
    /// Sectors that may still be written before the cut (`None`: no cut).
    budget: Option<usize>,
}

impl MemDisk {
    fn new(sectors: usize) -> MemDisk {
        MemDisk { bytes: vec![0; sectors * SECTOR], budget: None }
    }
}

impl Disk for MemDisk {
    fn sectors(&self) -> u64 {
        (self.bytes.len() / SECTOR) as u64
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let at = sector as usize * SECTOR;
        buf.copy_from_slice(self.bytes.get(at..at + buf.len()).ok_or(DiskError)?);
        Ok(())
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError> {
        for (i, chunk) in buf.chunks(SECTOR).enumerate() {
            let at = (sector as usize + i) * SECTOR;
            let target = self.bytes.get_mut(at..at + SECTOR).ok_or(DiskError)?;
            match &mut self.budget {
                Some(0) => return Ok(()), // power is gone: nothing more lands
                Some(1) => {
                    target[..32].copy_from_slice(&chunk[..32]);
                    self.budget = Some(0);
                    return Ok(());
                }
                Some(n) => *n -= 1,
                None => {}
            }
            target.copy_from_slice(chunk);
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), DiskError> {
        Ok(())
    }
}

fn put(k: &str, v: &[u8]) -> Change {
    Change::Put(k.into(), v.to_vec())
}

#[test]
fn a_blank_partition_is_formatted_and_keeps_what_is_committed() {
    let (mut store, opened) = Store::open(MemDisk::new(4096)).unwrap();
    assert_eq!(opened, Opened::Formatted);
    store.commit(&[put("image/a", b"config a"), put("image/b", &vec![7u8; 3000])]).unwrap();
    store.commit(&[put("image/a", b"config a, again"), Change::Delete("image/b".into())]).unwrap();
    store.commit(&[put("volume/x", b"")]).unwrap();
    let disk = store.into_disk();

    let (mut store, opened) = Store::open(disk).unwrap();
    assert_eq!(opened, Opened::Existing(4));
    assert_eq!(store.get("image/a").unwrap().as_deref(), Some(&b"config a, again"[..]));
    assert_eq!(store.get("image/b").unwrap(), None);
    assert_eq!(store.get("volume/x").unwrap().as_deref(), Some(&b""[..]));
    assert_eq!(store.keys("image/"), ["image/a"]);
    assert_eq!(store.keys(""), ["image/a", "volume/x"]);
}

#[test]
fn a_power_cut_anywhere_in_a_commit_leaves_all_of_it_or_none() {
    let (mut store, _) = Store::open(MemDisk::new(1024)).unwrap();
    store.commit(&[put("a", b"one"), put("b", &vec![1u8; 1500])]).unwrap();
    let before = store.into_disk();
    let changes = [put("a", b"two"), Change::Delete("b".into()), put("c", &vec![2u8; 2000])];
    // Sectors the commit writes: its records (a: 1, b: 1, c: 4) and a superblock.
    let total = 1 + 1 + 4 + 1;
    let mut outcomes = [0, 0];
    for cut in 0..=total + 1 {
        let mut disk = before.clone();
        disk.budget = Some(cut);
        let (mut store, _) = Store::open(disk).unwrap();
        store.commit(&changes).unwrap(); // the disk does not say the power went
        let mut disk = store.into_disk();
        disk.budget = None;
        let (mut store, _) = Store::open(disk).unwrap();
        let state = (store.get("a").unwrap(), store.get("b").unwrap(), store.get("c").unwrap());
        if state == (Some(b"one".to_vec()), Some(vec![1u8; 1500]), None) {
            outcomes[0] += 1;
        } else if state == (Some(b"two".to_vec()), None, Some(vec![2u8; 2000])) {
            outcomes[1] += 1;
        } else {
            panic!("a cut after {cut} sectors left a mixed state: {state:?}");
        }
        // Whatever survived takes the next commit.
        store.commit(&[put("d", b"after")]).unwrap();
        let (mut store, _) = Store::open(store.into_disk()).unwrap();
        assert_eq!(store.get("d").unwrap().as_deref(), Some(&b"after"[..]), "cut after {cut}");
    }
    // Cuts before the superblock lands whole keep the old state; the rest the new one.
    assert_eq!(outcomes, [total + 1, 1]);
}

#[test]
fn damage_is_reported_not_used() {
    let (mut store, _) = Store::open(MemDisk::new(256)).unwrap();
    store.commit(&[put("k", b"value")]).unwrap();
    let good = store.into_disk();

    // A flipped bit in the committed record's header: the store will not open.
    let mut disk = good.clone();
    disk.bytes[2 * SECTOR + 32] ^= 1; // the key
    assert!(matches!(Store::open(disk), Err(StoreError::Damaged(_, 2))));

    // In its value: the store opens, and reading the value says it is damaged.
    let mut disk = good.clone();
    disk.bytes[2 * SECTOR + 32 + 1 + 2] ^= 1;
    let (mut store, _) = Store::open(disk).unwrap();
    assert!(matches!(store.get("k"), Err(StoreError::Damaged(_, _))));

    // Both superblocks torn: refused, never formatted over.
    let mut disk = good.clone();
    disk.bytes[20] ^= 1;
    disk.bytes[SECTOR + 20] ^= 1;
    assert_eq!(Store::open(disk).err(), Some(StoreError::Damaged("no valid superblock", 0)));

    // The newer one (generation 2, in slot 0) torn, as a cut while writing it leaves
    // it: the older one (the empty store as formatted, in slot 1) serves.
    let mut disk = good;
    disk.bytes[20] ^= 1;
    let (mut store, opened) = Store::open(disk).unwrap();
    assert_eq!(opened, Opened::Existing(1));
    assert_eq!(store.get("k").unwrap(), None);
}

#[test]
fn a_full_log_refuses_the_commit_and_keeps_the_rest() {
    // Halves of 16 sectors.
    let (mut store, _) = Store::open(MemDisk::new(2 + 32)).unwrap();
    store.commit(&[put("a", &vec![1u8; 4000])]).unwrap(); // 8 sectors
    let err = store.commit(&[put("b", &vec![2u8; 5000])]).unwrap_err();
    assert_eq!(err, StoreError::Full { needed: 10, free: 8 });
    let (mut store, _) = Store::open(store.into_disk()).unwrap();
    assert_eq!(store.get("a").unwrap(), Some(vec![1u8; 4000]));
    assert_eq!(store.get("b").unwrap(), None);
    assert_eq!(store.commit(&[put("", b"x")]), Err(StoreError::BadKey));
}

#[test]
fn garbage_never_panics_the_reader() {
    let (mut store, _) = Store::open(MemDisk::new(64)).unwrap();
    store.commit(&[put("k", &vec![3u8; 700]), put("l", b"x")]).unwrap();
    let disk = store.into_disk();
    for at in 0..6 * SECTOR {
        let mut d = disk.clone();
        d.bytes[at] ^= 0x5a;
        if let Ok((mut s, _)) = Store::open(d) {
            let _ = s.get("k");
            let _ = s.get("l");
        }
    }
}

#[test]
fn a_full_half_is_compacted_and_the_store_goes_on() {
    // Halves of 64 sectors; each commit of "k" leaves the older value dead.
    let (mut store, _) = Store::open(MemDisk::new(2 + 128)).unwrap();
    store.commit(&[put("keep", b"forever")]).unwrap();
    for round in 0..200u32 {
        store.commit(&[put("k", &round.to_le_bytes().repeat(100))]).unwrap();
    }
    let (used, half) = store.usage();
    assert!(used < half);
    let (mut store, _) = Store::open(store.into_disk()).unwrap();
    assert_eq!(store.get("k").unwrap(), Some(199u32.to_le_bytes().repeat(100)));
    assert_eq!(store.get("keep").unwrap().as_deref(), Some(&b"forever"[..]));
}

#[test]
fn a_power_cut_while_compacting_loses_nothing() {
    let (mut store, _) = Store::open(MemDisk::new(2 + 32)).unwrap();
    store.commit(&[put("a", &vec![1u8; 1000])]).unwrap(); // 3 sectors
    store.commit(&[put("b", &vec![2u8; 1000])]).unwrap(); // 3
    store.commit(&[put("b", &vec![3u8; 1000])]).unwrap(); // 3, the first b dead
    store.commit(&[put("c", &vec![4u8; 2500])]).unwrap(); // 5: 14 of 16 used
    let before = store.into_disk();
    // 3 more sectors do not fit: compaction copies a, b, c (11 sectors), writes its
    // superblock, then the commit writes its record and superblock.
    let change = [put("d", &vec![5u8; 1000])];
    let total = 11 + 1 + 3 + 1;
    let old = |s: &mut Store<MemDisk>| s.get("d").unwrap().is_none();
    let mut outcomes = [0, 0];
    for cut in 0..=total + 1 {
        let mut disk = before.clone();
        disk.budget = Some(cut);
        let (mut store, _) = Store::open(disk).unwrap();
        store.commit(&change).unwrap();
        let mut disk = store.into_disk();
        disk.budget = None;
        let (mut store, _) = Store::open(disk).unwrap();
        assert_eq!(store.get("a").unwrap(), Some(vec![1u8; 1000]), "cut after {cut}");
        assert_eq!(store.get("b").unwrap(), Some(vec![3u8; 1000]), "cut after {cut}");
        assert_eq!(store.get("c").unwrap(), Some(vec![4u8; 2500]), "cut after {cut}");
        if old(&mut store) {
            outcomes[0] += 1;
        } else {
            assert_eq!(store.get("d").unwrap(), Some(vec![5u8; 1000]));
            outcomes[1] += 1;
        }
    }
    assert_eq!(outcomes, [total + 1, 1]);
}

#[test]
fn values_larger_than_a_write_chunk_round_trip() {
    // 200 KiB and 64 KiB +/- a little: records written in several chunks.
    let (mut store, _) = Store::open(MemDisk::new(2 + 2 * 1024)).unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let edge: Vec<u8> = (0..(64 << 10) - 40).map(|i| (i % 13) as u8).collect();
    store.commit(&[put("big", &big), put("edge", &edge), put("small", b"s")]).unwrap();
    let (mut store, _) = Store::open(store.into_disk()).unwrap();
    assert_eq!(store.get("big").unwrap(), Some(big));
    assert_eq!(store.get("edge").unwrap(), Some(edge));
    assert_eq!(store.get("small").unwrap().as_deref(), Some(&b"s"[..]));
}

/// A disk whose flushes fail while `failing` is set (the writes before still land).
struct FlakyFlush {
    disk: MemDisk,
    failing: bool,
}

impl Disk for FlakyFlush {
    fn sectors(&self) -> u64 {
        self.disk.sectors()
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.disk.read(sector, buf)
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError> {
        self.disk.write(sector, buf)
    }
    fn flush(&mut self) -> Result<(), DiskError> {
        if self.failing { Err(DiskError) } else { Ok(()) }
    }
}

#[test]
fn after_a_failed_commit_the_store_takes_no_more_until_reopened() {
    let (mut store, _) = Store::open(FlakyFlush { disk: MemDisk::new(256), failing: false }).unwrap();
    store.commit(&[put("a", b"one")]).unwrap();
    let mut disk = store.into_disk();
    disk.failing = true;
    let (mut store, _) = Store::open(disk).unwrap();
    // The records and even the superblock may have landed; the disk said no.
    assert_eq!(store.commit(&[put("b", b"two")]), Err(StoreError::Disk));
    let mut disk = store.into_disk();
    disk.failing = false;
    let (mut store, _) = Store::open(disk).unwrap();
    let b_landed = store.get("b").unwrap();
    assert!(b_landed.is_none() || b_landed.as_deref() == Some(&b"two"[..]));
    // The store that saw the failure refuses further commits (its idea of the log's
    // end may be wrong); reopened, it goes on consistently.
    let (mut seen, _) = Store::open(FlakyFlush { disk: MemDisk::new(256), failing: false }).unwrap();
    seen.commit(&[put("x", b"1")]).unwrap();
    let mut d = seen.into_disk();
    d.failing = true;
    let (mut seen, _) = Store::open(d).unwrap();
    assert_eq!(seen.commit(&[put("y", b"2")]), Err(StoreError::Disk));
    assert_eq!(seen.commit(&[put("z", b"3")]), Err(StoreError::Poisoned));
    store.commit(&[put("c", b"three")]).unwrap();
    let (mut store, _) = Store::open(store.into_disk()).unwrap();
    assert_eq!(store.get("c").unwrap().as_deref(), Some(&b"three"[..]));
    assert_eq!(store.get("a").unwrap().as_deref(), Some(&b"one"[..]));
}

#[test]
fn a_record_claiming_an_enormous_value_is_damage_not_a_panic() {
    let (mut store, _) = Store::open(MemDisk::new(64)).unwrap();
    store.commit(&[put("k", b"v")]).unwrap();
    let mut disk = store.into_disk();
    // value_len (bytes 8..16 of the record's header) set to u64::MAX.
    disk.bytes[2 * SECTOR + 8..2 * SECTOR + 16].fill(0xff);
    assert!(matches!(Store::open(disk), Err(StoreError::Damaged(_, 2))));
}
