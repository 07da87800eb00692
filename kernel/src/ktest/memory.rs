//! The memory map, the frame pool and the heap under stress.

use super::Outcome;
use crate::mm as memory;
use alloc::format;
use alloc::vec::Vec;
use berth_hal::bootinfo::{BootInfo, MemoryKind};
use berth_hal::mm::Frame;

/// The boot memory map is sorted, non-overlapping, page-aligned where usable, and
/// keeps the kernel out of usable memory.
pub fn memory_map(boot: &BootInfo) -> Outcome {
    let map = &boot.memory_map;
    for pair in map.windows(2) {
        if pair[0].end > pair[1].start {
            return Err(format!("regions overlap or are unsorted: {:?} {:?}", pair[0], pair[1]));
        }
    }
    for r in map.iter().filter(|r| r.kind == MemoryKind::Usable) {
        if r.start % 4096 != 0 || r.end % 4096 != 0 {
            return Err(format!("usable region not page-aligned: {r:?}"));
        }
        if r.start < boot.kernel.end && boot.kernel.start < r.end {
            return Err(format!("usable region {r:?} overlaps the kernel {:?}", boot.kernel));
        }
    }
    if boot.usable_bytes() < 16 << 20 {
        return Err(format!("only {} bytes usable", boot.usable_bytes()));
    }
    log::info!("memory map: {} regions, {} MiB usable", map.len(), boot.usable_bytes() >> 20);
    Ok(())
}

/// Takes every frame from the pool, checks each is distinct, gives them all back; twice.
pub fn frame_pool_stress() -> Outcome {
    // Room for every handle up front, so the heap does not take frames mid-test.
    let mut frames: Vec<Frame> = Vec::with_capacity(berth_hal::mm::free_frames() + 1);
    let before = berth_hal::mm::free_frames();
    for round in 1..=2 {
        while let Some(mut f) = Frame::alloc() {
            // Each frame holds its own address, so two handles to one frame would show.
            f.write(0, &f.phys().to_le_bytes());
            frames.push(f);
        }
        let taken = frames.len();
        for f in &frames {
            let mut word = [0u8; 8];
            f.read(0, &mut word);
            if u64::from_le_bytes(word) != f.phys() {
                return Err(format!("frame {:#x} holds another frame's data", f.phys()));
            }
        }
        frames.clear();
        let after = berth_hal::mm::free_frames();
        log::info!("frames round {round}: took all {taken} free frames ({} MiB), {after} free after", taken >> 8);
        if taken != before {
            return Err(format!("{before} frames were free but only {taken} could be taken"));
        }
        if after != before {
            return Err(format!("{before} frames free before, {after} after: a leak"));
        }
    }
    Ok(())
}

/// The memory usage once the heap holds no more than `heap_bytes`, or after 100 ms:
/// the kernel's own threads (the watchdog, the network) allocate for moments while the
/// test runs, and a reading may catch one (a leak stays).
fn settled_usage(heap_bytes: usize) -> memory::Usage {
    let mut usage = memory::usage();
    for _ in 0..10 {
        if usage.heap_bytes <= heap_bytes {
            break;
        }
        let _ = crate::sched::sleep(crate::time::now_ns() + 10_000_000, None);
        usage = memory::usage();
    }
    usage
}

/// Fills the heap with blocks of many sizes until allocation fails, frees them all, and
/// checks the heap and the frame pool are back where they were; twice.
pub fn heap_stress() -> Outcome {
    let start = memory::usage();
    let mut after_first = None;
    let mut seed = 0x9e37_79b9_u32;
    for round in 1..=2u8 {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0usize;
        loop {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let size = 16 << (seed % 14); // 16 B .. 128 KiB
            let mut block = Vec::new();
            if block.try_reserve_exact(size).is_err() || blocks.try_reserve(1).is_err() {
                break;
            }
            block.resize(size, round);
            bytes += size;
            blocks.push(block);
        }
        let count = blocks.len();
        if blocks.iter().any(|b| b.iter().any(|&x| x != round)) {
            return Err("a heap block was overwritten".into());
        }
        drop(blocks);
        let end = settled_usage(start.heap_bytes);
        log::info!("heap round {round}: {count} blocks, {} MiB, until allocation failed; then {end:?}", bytes >> 20);
        if bytes < 32 << 20 {
            return Err(format!("heap gave out after {bytes} bytes"));
        }
        if end.heap_bytes > start.heap_bytes {
            return Err(format!("heap holds {} bytes more than before", end.heap_bytes - start.heap_bytes));
        }
        // The heap keeps its slack (256 frames) mapped and the page-table pages that
        // mapped its peak (one per 2 MiB) for the next growth; large allocations keep
        // a few ranges mapped for reuse (counted as cached) and give back their tables.
        let kept = 256 + bytes.div_ceil(2 << 20) + 8;
        let (in_use, in_use_before) =
            (end.frames_used - end.frames_cached, start.frames_used - start.frames_cached.min(start.frames_used));
        if in_use > in_use_before + kept {
            return Err(format!("{} frames not returned to the pool", in_use - in_use_before));
        }
        // Between rounds nothing may grow but the large-allocation window's page
        // directories, one per GiB of a size class's region that a round reached first.
        match after_first {
            None => after_first = Some(end),
            Some(first)
                if end.heap_bytes != first.heap_bytes
                    || end.frames_cached != first.frames_cached
                    || end.frames_used > first.frames_used + 21 =>
            {
                return Err(format!("memory use grew between rounds: {first:?} then {end:?}"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}
