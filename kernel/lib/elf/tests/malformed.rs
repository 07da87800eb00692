//! Each check, triggered by a specific malformed file, and a mini-fuzzer that must never panic.

mod common;

use berth_elf::{ElfError, Limits, SegmentError, plan};
use common::*;

fn refuse(image: &Image) -> ElfError {
    refuse_bytes(&image.build())
}

fn refuse_bytes(file: &[u8]) -> ElfError {
    match plan(file, &Limits::BERTH) {
        Ok(p) => panic!("accepted: {p:x?}"),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "multi-line message: {message}");
            e
        }
    }
}

/// The error of segment `index`.
fn segment_error(image: &Image, index: usize) -> SegmentError {
    match refuse(image) {
        ElfError::Segment { index: i, error } if i == index => error,
        e => panic!("expected an error in segment {index}, got {e:?}"),
    }
}

fn field(e: ElfError) -> &'static str {
    match e {
        ElfError::BadField { field, .. } => field,
        e => panic!("expected BadField, got {e:?}"),
    }
}

#[test]
fn truncated_files() {
    let file = exec().build();
    for len in [0, 1, 4, 16, 63] {
        assert_eq!(refuse_bytes(&file[..len]), ElfError::TooShort { len });
    }
    // Inside the program header table (64 + 4 * 56 = 288 bytes).
    for len in [64, 100, 287] {
        assert_eq!(refuse_bytes(&file[..len]), ElfError::PhdrTableOutsideFile { phoff: 64, size: 224, len });
    }
    // Inside the text segment's data, then inside the data segment's.
    assert_eq!(
        refuse_bytes(&file[..0x1080]),
        ElfError::Segment { index: 1, error: SegmentError::PastEndOfFile { end: 0x1100, len: 0x1080 } }
    );
    assert_eq!(
        refuse_bytes(&file[..0x202f]),
        ElfError::Segment { index: 2, error: SegmentError::PastEndOfFile { end: 0x2030, len: 0x202f } }
    );
}

#[test]
fn header_fields() {
    let mut f = exec().build();
    f[0] = b'M';
    assert_eq!(refuse_bytes(&f), ElfError::BadMagic { found: *b"MELF" });

    let mut image = exec();
    image.class = 1; // ELFCLASS32
    assert_eq!(field(refuse(&image)), "e_ident[EI_CLASS]");
    let mut image = exec();
    image.data = 2; // big-endian
    assert_eq!(field(refuse(&image)), "e_ident[EI_DATA]");
    let mut image = exec();
    image.e_version = 2;
    assert_eq!(field(refuse(&image)), "e_version");
    let mut image = exec();
    image.e_machine = 40; // EM_ARM
    let e = refuse(&image);
    assert_eq!(e.to_string(), "ELF field e_machine: 0x28 is not x86_64 (62)");
    let mut image = exec();
    image.e_type = 1; // ET_REL
    assert_eq!(field(refuse(&image)), "e_type");
    let mut image = exec();
    image.e_phentsize = 32;
    assert_eq!(field(refuse(&image)), "e_phentsize");
    let mut image = exec();
    image.e_phnum = Some(0);
    assert_eq!(field(refuse(&image)), "e_phnum");
    let mut image = exec();
    image.e_phnum = Some(513);
    image.len = 64 + 513 * 56;
    assert_eq!(field(refuse(&image)), "e_phnum");
}

#[test]
fn program_header_table_outside_the_file() {
    let mut image = exec();
    image.e_phoff = u64::MAX - 8; // e_phoff + size overflows
    assert!(matches!(refuse(&image), ElfError::PhdrTableOutsideFile { phoff: 0xffff_ffff_ffff_fff7, .. }));
    let mut image = exec();
    image.e_phoff = 0x2000; // starts inside, ends outside
    assert!(matches!(refuse(&image), ElfError::PhdrTableOutsideFile { phoff: 0x2000, size: 224, .. }));
}

#[test]
fn dynamically_linked() {
    let path = b"/lib64/ld-linux-x86-64.so.2\0";
    let mut image = exec();
    image.phdrs.insert(0, Phdr::other(PT_INTERP, PF_R, 0x1f0, 0x40_01f0, path.len() as u64));
    image.blobs.push((0x1f0, path.to_vec()));
    let p = plan(&image.build(), &Limits::BERTH).unwrap();
    assert_eq!(p.interpreter.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
    // A path outside the file, too long, without its NUL, with a NUL inside, or not
    // UTF-8 is refused, as Linux refuses it.
    let refused = |image: &Image| match refuse(image) {
        ElfError::BadInterpreter { reason } => reason,
        other => panic!("{other:?}"),
    };
    let mut outside = image.clone();
    outside.phdrs[0].p_offset = u64::MAX;
    assert!(refused(&outside).contains("outside"));
    let mut huge = image.clone();
    huge.phdrs[0] = Phdr::other(PT_INTERP, PF_R, 0x1000, 0, 0x100_0000);
    assert!(refused(&huge).contains("4096"));
    for (bytes, why) in
        [(&b"/lib/ld.so"[..], "NUL"), (b"/lib/\0ld.so\0", "NUL"), (b"/lib/\xffld.so\0", "UTF-8"), (b"\0", "2 to")]
    {
        let mut bad = image.clone();
        bad.phdrs[0].p_filesz = bytes.len() as u64;
        bad.blobs.retain(|(at, _)| *at != 0x1f0);
        bad.blobs.push((0x1f0, bytes.to_vec()));
        assert!(refused(&bad).contains(why), "{bytes:?}");
    }
    // Two of them are refused like any duplicate.
    let mut two = image.clone();
    two.phdrs.insert(1, Phdr::other(PT_INTERP, PF_R, 0x1f0, 0x40_01f0, path.len() as u64));
    assert!(matches!(refuse(&two), ElfError::Duplicate { kind: "PT_INTERP", .. }));
}

#[test]
fn segment_sizes_and_offsets() {
    let mut image = exec();
    image.phdrs[2].p_filesz = 0x1001;
    assert_eq!(segment_error(&image, 2), SegmentError::FileszAboveMemsz { filesz: 0x1001, memsz: 0x1000 });

    let mut image = exec();
    image.phdrs[1].p_offset = u64::MAX - 0xff; // congruent with p_vaddr modulo 4096? no matter: checked first
    image.phdrs[1].p_memsz = 0x1000;
    assert!(matches!(segment_error(&image, 1), SegmentError::FileRangeOverflow { .. }));

    let mut image = exec();
    image.phdrs[1].p_offset = 0x10_0000_1000; // huge but no overflow
    assert!(matches!(segment_error(&image, 1), SegmentError::PastEndOfFile { end: 0x10_0000_1100, .. }));

    let mut image = exec();
    image.phdrs[1].p_align = 0x3000;
    assert_eq!(segment_error(&image, 1), SegmentError::BadAlign { align: 0x3000 });
    for align in [0, 1, 0x20_0000] {
        image.phdrs[1].p_align = align;
        plan(&image.build(), &Limits::BERTH).unwrap();
    }

    let mut image = exec();
    image.phdrs[1].p_vaddr = 0x40_1010;
    image.e_entry = 0x40_1010;
    assert_eq!(segment_error(&image, 1), SegmentError::Incongruent { vaddr: 0x40_1010, offset: 0x1000 });
}

#[test]
fn absurd_addresses() {
    let mut image = exec();
    image.phdrs[2].p_memsz = u64::MAX;
    assert!(matches!(segment_error(&image, 2), SegmentError::AddressOverflow { memsz: u64::MAX, .. }));

    let mut image = exec();
    image.phdrs[2].p_vaddr = u64::MAX - 0xfef; // congruent with 0x2010; + memsz overflows
    assert!(matches!(segment_error(&image, 2), SegmentError::AddressOverflow { .. }));

    let mut image = exec();
    image.phdrs[2].p_vaddr = u64::MAX - 0x1fef; // end fits, but rounding up to a page overflows
    image.phdrs[2].p_memsz = 0x1fe0;
    assert!(matches!(segment_error(&image, 2), SegmentError::AddressOverflow { .. }));

    // The load bias overflows.
    let mut image = pie();
    image.phdrs[3].p_vaddr = u64::MAX - 0xfef;
    image.phdrs[3].p_memsz = 0x20;
    assert!(matches!(segment_error(&image, 3), SegmentError::AddressOverflow { .. }));
}

#[test]
fn segments_outside_user_space() {
    let limits = Limits::BERTH;
    for (vaddr, memsz) in
        [(0x10, 0x20), (0xf010, 0x1000), (limits.user_end + 0x10, 0x20), (0xffff_8000_0000_0010, 0x20)]
    {
        let mut image = exec();
        image.phdrs[2].p_vaddr = vaddr;
        image.phdrs[2].p_memsz = memsz;
        assert!(matches!(segment_error(&image, 2), SegmentError::OutsideUserRange { .. }), "{vaddr:#x}");
    }
    // Straddling the top: starts inside, ends outside.
    let mut image = exec();
    image.phdrs[2].p_vaddr = limits.user_end - 0xff0;
    let e = segment_error(&image, 2);
    assert_eq!(
        e,
        SegmentError::OutsideUserRange {
            start: limits.user_end - 0x1000,
            end: limits.user_end + 0x1000,
            user_start: limits.user_start,
            user_end: limits.user_end,
        }
    );
}

#[test]
fn writable_and_executable() {
    let mut image = exec();
    image.phdrs[1].p_flags = PF_R | PF_W | PF_X;
    assert_eq!(segment_error(&image, 1), SegmentError::WriteExecute);
    assert_eq!(refuse(&image).to_string(), "ELF segment 1: W+X segment (p_flags writable and executable) refused");
}

#[test]
fn overlapping_segments() {
    let mut image = exec();
    image.phdrs[2] = Phdr::load(PF_R | PF_W, 0x1080, 0x40_1080, 0x20, 0x20);
    assert_eq!(refuse(&image), ElfError::Overlap { first: 1, second: 2 });
    assert_eq!(refuse(&image).to_string(), "ELF segments 1 and 2 overlap");
    // Identical ranges, listed in reverse.
    let mut image = exec();
    image.phdrs[2] = image.phdrs[0];
    image.phdrs.swap(0, 2);
    assert_eq!(refuse(&image), ElfError::Overlap { first: 0, second: 2 });
    // One segment inside another.
    let mut image = exec();
    image.phdrs[0].p_memsz = 0x10_0000;
    assert_eq!(refuse(&image), ElfError::Overlap { first: 0, second: 1 });
}

#[test]
fn segments_sharing_a_page() {
    // Text ends at 0x401100; data starts at 0x401200 in the same page.
    let mut image = exec();
    image.phdrs[2] = Phdr::load(PF_R | PF_W, 0x1200, 0x40_1200, 0x20, 0x20);
    image.len = 0x1220;
    assert_eq!(refuse(&image), ElfError::SharedPage { first: 1, second: 2, page: 0x40_1000 });
}

#[test]
fn load_segment_counts() {
    let mut image = exec();
    image.phdrs.retain(|p| p.p_type != PT_LOAD);
    assert_eq!(refuse(&image), ElfError::NoLoadSegments);
    // Only empty ones.
    image.phdrs.push(Phdr::load(PF_R | PF_X, 0x1000, 0x40_1000, 0, 0));
    assert_eq!(refuse(&image), ElfError::NoLoadSegments);

    let file = exec().build();
    let limits = Limits { max_segments: 2, ..Limits::BERTH };
    assert_eq!(plan(&file, &limits), Err(ElfError::TooManySegments { count: 3, max: 2 }));
}

#[test]
fn mapping_more_than_user_space() {
    // Two segments each covering more than half of user space (and overlapping).
    let half = (Limits::BERTH.user_end - Limits::BERTH.user_start) / 2 + 0x1000;
    let mut image = exec();
    image.phdrs[0].p_memsz = half;
    image.phdrs[1] = Phdr::load(PF_R | PF_X, 0x1000, 0x40_1000, 0x100, half);
    assert!(matches!(refuse(&image), ElfError::TooLarge { .. }));
}

#[test]
fn entry_point() {
    for entry in [0x40_0100, 0x40_1100, 0x40_3020, 0x40_4000, 0, u64::MAX] {
        let mut image = exec();
        image.e_entry = entry;
        assert_eq!(refuse(&image), ElfError::EntryNotExecutable { entry }, "{entry:#x}");
    }
    // The bias overflows.
    let mut image = pie();
    image.e_entry = u64::MAX;
    assert_eq!(refuse(&image), ElfError::EntryNotExecutable { entry: u64::MAX });
}

#[test]
fn pt_phdr_must_be_loaded() {
    let mut image = pie();
    image.phdrs[0].p_vaddr = 0x3010; // mapped, but not where the table is
    assert!(matches!(segment_error(&image, 0), SegmentError::PhdrNotLoaded { .. }));
    let mut image = pie();
    image.phdrs[0].p_vaddr = 0x9000; // not mapped at all
    assert!(matches!(segment_error(&image, 0), SegmentError::PhdrNotLoaded { .. }));
    let mut image = pie();
    image.phdrs[0].p_vaddr = u64::MAX;
    assert!(matches!(segment_error(&image, 0), SegmentError::AddressOverflow { .. }));
}

#[test]
fn pt_tls_must_be_loaded() {
    let mut image = pie();
    image.phdrs[4].p_vaddr = 0x5000;
    assert!(matches!(segment_error(&image, 4), SegmentError::TlsNotLoaded { .. }));
    let mut image = pie();
    image.phdrs[4].p_filesz = 0x20;
    assert!(matches!(segment_error(&image, 4), SegmentError::FileszAboveMemsz { .. }));
    let mut image = pie();
    image.phdrs[4].p_align = 12;
    assert!(matches!(segment_error(&image, 4), SegmentError::BadAlign { align: 12 }));
    let mut image = pie();
    image.phdrs[4].p_memsz = u64::MAX;
    assert!(matches!(segment_error(&image, 4), SegmentError::AddressOverflow { .. }));
}

#[test]
fn duplicate_single_headers() {
    let mut image = pie();
    image.phdrs.push(image.phdrs[4]);
    assert_eq!(refuse(&image), ElfError::Duplicate { kind: "PT_TLS", first: 4, second: 7 });
    let mut image = pie();
    image.phdrs.push(image.phdrs[0]);
    assert!(matches!(refuse(&image), ElfError::Duplicate { kind: "PT_PHDR", .. }));
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let mut rng = Rng(0x5eed_0fbe_2700);
    let interesting = [0u8, 1, 2, 3, 0x7f, 0x80, 0xff, 0x40, 0x10];
    let limits = Limits::BERTH;
    let wide = [0, 0x1000, 0x2030, limits.user_start, limits.user_end, limits.pie_base, 1 << 63, u64::MAX];
    let (mut accepted, mut refused) = (0, 0);
    for base in [exec().build(), pie().build()] {
        for _ in 0..20_000 {
            let mut f = base.clone();
            for _ in 0..1 + rng.below(8) {
                if rng.below(4) == 0 {
                    // A whole 64-bit header or program header field set to a boundary value.
                    let at = 8 * rng.below(0x1c8 / 8);
                    let value = wide[rng.below(wide.len())].wrapping_add(rng.below(3) as u64).wrapping_sub(1);
                    f[at..at + 8].copy_from_slice(&value.to_le_bytes());
                    continue;
                }
                // Mostly the headers, where the meaning is; sometimes anywhere.
                let at = if rng.below(4) == 0 { rng.below(f.len()) } else { rng.below(0x1d0) };
                f[at] = if rng.below(2) == 0 { rng.next() as u8 } else { interesting[rng.below(interesting.len())] };
            }
            if rng.below(8) == 0 {
                f.truncate(rng.below(f.len() + 1));
            }
            match plan(&f, &Limits::BERTH) {
                Ok(p) => {
                    check_invariants(&p, f.len(), &Limits::BERTH);
                    accepted += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    refused += 1;
                }
            }
        }
    }
    eprintln!("{accepted} accepted, {refused} refused");
    // Both outcomes are exercised, so the mutations reach past the first checks.
    assert!(accepted > 1000 && refused > 1000, "{accepted} accepted, {refused} refused");
}
