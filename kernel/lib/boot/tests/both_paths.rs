//! Both boot paths, given the same machine, must produce the same `BootInfo`.

use berth_boot::*;

/// Sparse fake physical memory.
struct FakeMemory(Vec<(u64, Vec<u8>)>);

impl PhysMemory for FakeMemory {
    fn bytes(&self, addr: u64, len: u64) -> Option<&[u8]> {
        self.0.iter().find_map(|(base, data)| {
            let off = addr.checked_sub(*base)?;
            let end = off.checked_add(len)?;
            (end <= data.len() as u64).then(|| &data[off as usize..end as usize])
        })
    }
}

const HHDM: u64 = 0xffff_8000_0000_0000;
const START_INFO: u64 = 0x6000;
const MEMMAP: u64 = 0x6100;
const CMDLINE: u64 = 0x6400;
const MODLIST: u64 = 0x6800;
const BUNDLE: u64 = 0x0400_0000;
const RSDP: u64 = 0xf_5a00;
const KERNEL: PhysRange = PhysRange { start: 0x20_0000, end: 0x34_5000 };
const E820: [(u64, u64, u32); 4] =
    [(0, 0x9_fc00, 1), (0x9_fc00, 0x400, 2), (0xf_0000, 0x1_0000, 2), (0x10_0000, 0x7ef_0000, 1)];

fn bundle() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let manifest = "images/a.tar\tcontainer name=a -- /bin/a\nimages/b.tar\tcontainer name=b\n";
    for (name, data) in
        [(BUNDLE_MANIFEST, manifest.as_bytes()), ("images/a.tar", &[1u8; 3000][..]), ("images/b.tar", &[2u8; 700][..])]
    {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

fn le64(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

fn pvh_machine(bundle: &[u8]) -> FakeMemory {
    let mut info = Vec::new();
    info.extend(le32(PVH_MAGIC));
    info.extend(le32(1)); // version
    info.extend(le32(0)); // flags
    info.extend(le32(1)); // nr_modules
    info.extend(le64(MODLIST));
    info.extend(le64(CMDLINE));
    info.extend(le64(RSDP));
    info.extend(le64(MEMMAP));
    info.extend(le32(E820.len() as u32));
    info.extend(le32(0));
    let mut memmap = Vec::new();
    for (addr, size, kind) in E820 {
        memmap.extend(le64(addr));
        memmap.extend(le64(size));
        memmap.extend(le32(kind));
        memmap.extend(le32(0));
    }
    let mut modlist = Vec::new();
    modlist.extend(le64(BUNDLE));
    modlist.extend(le64(bundle.len() as u64));
    modlist.extend(le64(0));
    modlist.extend(le64(0));
    FakeMemory(vec![
        (START_INFO, info),
        (MEMMAP, memmap),
        (CMDLINE, b"log=debug hz=100\0".to_vec()),
        (MODLIST, modlist),
        (BUNDLE, bundle.to_vec()),
    ])
}

fn limine_machine(bundle: &[u8]) -> LimineInput {
    // Limine reports the same RAM, with the kernel and modules cut out as type 6.
    let entries = berth_tar::entries(bundle, u64::MAX).unwrap();
    let module = |name: &str, cmdline: &str| {
        let e = entries.iter().find(|e| e.header.name == name).unwrap();
        LimineModule { addr: HHDM + BUNDLE + e.header.data_offset, size: e.header.size, cmdline: cmdline.into() }
    };
    let bundle_end = (BUNDLE + bundle.len() as u64).next_multiple_of(4096);
    let memory_map = vec![
        LimineMemoryEntry { base: 0, length: 0x9_f000, kind: 0 },
        LimineMemoryEntry { base: 0x9_f000, length: 0x1000, kind: 1 },
        LimineMemoryEntry { base: 0xf_0000, length: 0x1_0000, kind: 1 },
        LimineMemoryEntry { base: 0x10_0000, length: KERNEL.start - 0x10_0000, kind: 0 },
        LimineMemoryEntry { base: KERNEL.start, length: KERNEL.len(), kind: 6 },
        LimineMemoryEntry { base: KERNEL.end, length: BUNDLE - KERNEL.end, kind: 0 },
        LimineMemoryEntry { base: BUNDLE, length: bundle_end - BUNDLE, kind: 6 },
        LimineMemoryEntry { base: bundle_end, length: 0x7ff_0000 - bundle_end, kind: 0 },
    ];
    LimineInput {
        loader: ("Limine".into(), "9.0".into()),
        memory_map,
        hhdm: HHDM,
        kernel: KERNEL,
        modules: vec![module("images/a.tar", "container name=a -- /bin/a"), module("images/b.tar", "container name=b")],
        cmdline: "log=debug hz=100".into(),
        rsdp: Some(RSDP),
        base_revision: Some(3),
    }
}

#[test]
fn pvh_and_limine_agree() {
    let bundle = bundle();
    let pvh = from_pvh(&pvh_machine(&bundle), START_INFO, KERNEL, HHDM).unwrap();
    let limine = from_limine(limine_machine(&bundle)).unwrap();
    assert_eq!(pvh.modules.len(), 2);
    assert_eq!(pvh.modules[0].cmdline, "container name=a -- /bin/a");
    assert_eq!(pvh.modules[1].phys.len(), 700);
    assert_eq!(pvh.cmdline, "log=debug hz=100");
    assert_eq!(pvh.rsdp, Some(RSDP));
    // Everything but the loader's name is the same.
    assert_eq!(BootInfo { loader: Loader::Pvh, ..limine }, pvh);
}

#[test]
fn the_boot_log_names_the_limine_base_revision() {
    let bundle = bundle();
    let revision_3 = from_limine(limine_machine(&bundle)).unwrap();
    assert_eq!(revision_3.loader.to_string(), "Limine 9.0 (Limine protocol, base revision 3)");
    // Limine 8 boots a kernel that asks for revision 3 with revision 2, and cannot say so.
    let older = from_limine(LimineInput { base_revision: None, ..limine_machine(&bundle) }).unwrap();
    assert_eq!(older.loader.to_string(), "Limine 9.0 (Limine protocol, base revision 2 or older)");
}

#[test]
fn module_bytes_are_where_the_boot_info_says() {
    let bundle = bundle();
    let mem = pvh_machine(&bundle);
    let info = from_pvh(&mem, START_INFO, KERNEL, HHDM).unwrap();
    let a = mem.bytes(info.modules[0].phys.start, info.modules[0].phys.len()).unwrap();
    assert!(a.iter().all(|&b| b == 1) && a.len() == 3000);
}

#[test]
fn kernel_and_bundle_are_not_usable() {
    let bundle = bundle();
    let info = from_pvh(&pvh_machine(&bundle), START_INFO, KERNEL, HHDM).unwrap();
    for r in info.memory_map.iter().filter(|r| r.kind == MemoryKind::Usable) {
        assert!(r.end <= KERNEL.start || r.start >= KERNEL.end, "{r:?} overlaps the kernel");
        assert!(r.end <= BUNDLE || r.start >= BUNDLE + bundle.len() as u64, "{r:?} overlaps the bundle");
        assert_eq!(r.start % 4096, 0);
        assert_eq!(r.end % 4096, 0);
    }
    assert!(info.usable_bytes() > 100 << 20);
}

#[test]
fn bad_magic_is_an_error() {
    let mut mem = pvh_machine(&bundle());
    mem.0[0].1[0] ^= 1;
    assert!(matches!(from_pvh(&mem, START_INFO, KERNEL, HHDM), Err(BootError::BadMagic(_))));
}

#[test]
fn unreadable_memory_map_is_an_error() {
    let mut mem = pvh_machine(&bundle());
    mem.0.remove(1);
    let err = from_pvh(&mem, START_INFO, KERNEL, HHDM).unwrap_err();
    assert_eq!(err, BootError::Unreadable { what: "PVH memory map", addr: MEMMAP });
}

#[test]
fn a_plain_initrd_is_one_module() {
    let plain = vec![0xabu8; 5000];
    let info = from_pvh(&pvh_machine(&plain), START_INFO, KERNEL, HHDM).unwrap();
    assert_eq!(info.modules, [Module { phys: PhysRange::new(BUNDLE, 5000), cmdline: String::new() }]);
}

#[test]
fn a_bundle_naming_a_missing_member_is_refused() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(12);
    b.append_data(&mut h, BUNDLE_MANIFEST, &b"missing.tar\n"[..]).unwrap();
    let archive = b.into_inner().unwrap();
    let err = unpack_bundle(&archive, 0).unwrap_err();
    assert!(err.contains("missing.tar"), "{err}");
}
