//! Memory checks: one big allocation, many small ones, and sorting a large vector.

use std::hint::black_box;

use super::XorShift;
use crate::report::{Outcome, ensure};

/// Allocates 64 MiB, writes a pattern to every byte, and verifies it.
pub fn big() -> Outcome {
    const SIZE: usize = 64 << 20;
    let pattern = |i: usize| (i ^ (i >> 12) ^ (i >> 20)) as u8;
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(SIZE).map_err(|e| format!("allocating 64 MiB: {e}"))?;
    buf.extend((0..SIZE).map(pattern));
    let buf = black_box(buf);
    let wrong = buf.iter().enumerate().filter(|&(i, &byte)| byte != pattern(i)).count();
    ensure!(wrong == 0, "{wrong} of {SIZE} bytes lost their pattern");
    Ok(())
}

/// Many small boxed allocations of varied sizes, kept alive together, then churned.
pub fn small() -> Outcome {
    let boxes: Vec<Box<[u8]>> = (0..100_000usize).map(|i| vec![i as u8; i % 257 + 1].into_boxed_slice()).collect();
    let boxes = black_box(boxes);
    for (i, boxed) in boxes.iter().enumerate() {
        ensure!(boxed.len() == i % 257 + 1, "box {i} has length {}", boxed.len());
        ensure!(boxed.iter().all(|&byte| byte == i as u8), "box {i} lost its contents");
    }
    drop(boxes);
    let mut total = 0u64;
    for i in 0..100_000u64 {
        let boxed = black_box(Box::new([i; 8]));
        total += boxed.iter().sum::<u64>();
    }
    let want = 8 * (100_000 * 99_999 / 2);
    ensure!(total == want, "churned boxes summed to {total}, want {want}");
    Ok(())
}

/// Sorts a million pseudo-random `u64`s (stable and unstable sorts) and checks the result.
pub fn sort() -> Outcome {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut values: Vec<u64> = (0..1_000_000).map(|_| rng.next() % 1_000_000).collect();
    let sum: u64 = values.iter().sum();
    let mut stable = values.clone();
    values.sort_unstable();
    stable.sort();
    ensure!(values.windows(2).all(|pair| pair[0] <= pair[1]), "sort_unstable left the vector out of order");
    ensure!(values == stable, "sort and sort_unstable disagree");
    ensure!(values.iter().sum::<u64>() == sum, "sorting changed the elements");
    Ok(())
}
