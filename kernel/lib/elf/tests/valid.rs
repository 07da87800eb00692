//! Well-formed images: the exact plans for the writer's executables, and the accepted edge cases.

mod common;

use berth_elf::{ElfError, Limits, LoadPlan, Perms, Segment, plan};
use common::*;

const R: Perms = Perms { read: true, write: false, execute: false };
const RX: Perms = Perms { read: true, write: false, execute: true };
const RW: Perms = Perms { read: true, write: true, execute: false };

fn accept(image: &Image) -> LoadPlan {
    let file = image.build();
    let plan = plan(&file, &Limits::BERTH).unwrap_or_else(|e| panic!("refused: {e}"));
    check_invariants(&plan, file.len(), &Limits::BERTH);
    plan
}

#[test]
fn non_pie_executable() {
    let plan = accept(&exec());
    let seg = |start, end, file_offset, file_end, perms| Segment {
        start,
        end,
        file_offset,
        file_start: start,
        file_end,
        perms,
    };
    assert_eq!(
        plan,
        LoadPlan {
            entry: 0x40_1000,
            load_bias: 0,
            segments: vec![
                seg(0x40_0000, 0x40_1000, 0, 0x40_0200, R),
                seg(0x40_1000, 0x40_2000, 0x1000, 0x40_1100, RX),
                seg(0x40_3000, 0x40_5000, 0x2000, 0x40_3030, RW),
            ],
            // No PT_PHDR: found through the segment that loads e_phoff.
            phdr: Some(0x40_0040),
            phent: 56,
            phnum: 4,
            highest: 0x40_5000,
            tls: None,
            executable_stack: false,
            interpreter: None,
        }
    );
}

#[test]
fn static_pie_is_placed_at_pie_base() {
    let plan = accept(&pie());
    let base = Limits::BERTH.pie_base;
    assert_eq!(plan.load_bias, base);
    assert_eq!(plan.entry, base + 0x1000);
    let starts: Vec<_> = plan.segments.iter().map(|s| s.start - base).collect();
    assert_eq!(starts, [0, 0x1000, 0x3000]);
    assert_eq!(plan.segments[2].file_end, base + 0x3030);
    assert_eq!(plan.phdr, Some(base + 64));
    assert_eq!(plan.phnum, 7);
    assert_eq!(plan.tls, Some((base + 0x3010, 0x10)));
    assert_eq!(plan.highest, base + 0x5000);
}

#[test]
fn segments_out_of_order_are_sorted() {
    let mut image = exec();
    image.phdrs.swap(0, 2);
    let plan = accept(&image);
    assert_eq!(plan.segments.iter().map(|s| s.start).collect::<Vec<_>>(), [0x40_0000, 0x40_1000, 0x40_3000]);
}

#[test]
fn empty_load_segments_are_skipped() {
    let mut image = exec();
    image.phdrs.push(Phdr::load(PF_R | PF_W | PF_X, u64::MAX, u64::MAX, 0, 0));
    assert_eq!(accept(&image).segments.len(), 3);
}

#[test]
fn bss_only_segment_maps_no_file_bytes() {
    let mut image = exec();
    image.phdrs.push(Phdr::load(PF_R | PF_W, 0x10, 0x50_0010, 0, 0x3000));
    let plan = accept(&image);
    let bss = plan.segments[3];
    assert_eq!((bss.start, bss.end, bss.file_start, bss.file_end), (0x50_0000, 0x50_4000, 0x50_0000, 0x50_0000));
}

#[test]
fn adjacent_pages_are_not_shared() {
    // One segment ends exactly where the next page begins.
    let mut image = exec();
    image.phdrs[0] = Phdr::load(PF_R, 0, 0x40_0000, 0x200, 0x1000);
    assert_eq!(accept(&image).segments[0].end, 0x40_1000);
}

#[test]
fn executable_stack_is_reported() {
    let mut image = exec();
    image.phdrs[3].p_flags = PF_R | PF_W | PF_X;
    assert!(accept(&image).executable_stack);
    image.phdrs.pop();
    assert!(!accept(&image).executable_stack);
}

#[test]
fn phdr_table_outside_every_segment_gives_no_phdr() {
    let mut image = exec();
    image.e_phoff = 0x2100;
    image.len = 0x2100 + 4 * 56;
    assert_eq!(accept(&image).phdr, None);
}

#[test]
fn corrupt_section_header_table_is_ignored() {
    let mut image = exec();
    image.e_shoff = u64::MAX - 3;
    image.e_shnum = u16::MAX;
    accept(&image);
}

#[test]
fn segment_at_the_edges_of_user_space() {
    let limits = Limits::BERTH;
    let mut image = exec();
    image.phdrs[0] = Phdr::load(PF_R, 0, limits.user_start, 0x200, 0x200);
    image.phdrs[2] = Phdr::load(PF_R | PF_W, 0x2010, limits.user_end - 0x1000 + 0x10, 0x20, 0xff0);
    let plan = accept(&image);
    assert_eq!(plan.segments[0].start, limits.user_start);
    assert_eq!(plan.highest, limits.user_end);
}

#[test]
fn limits_are_checked() {
    let file = exec().build();
    for limits in [
        Limits { pie_base: 0x5555_5555_4001, ..Limits::BERTH },
        Limits { user_start: 0x1_0001, ..Limits::BERTH },
        Limits { user_start: 0x1000, user_end: 0x1000, ..Limits::BERTH },
    ] {
        assert!(matches!(plan(&file, &limits), Err(ElfError::InvalidLimits { .. })), "{limits:x?}");
    }
}
