//! Randomness checks: `/dev/urandom` and the random keys std seeds `HashMap`s with.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::Read;
use std::thread;

use crate::report::{Context, Outcome, ensure};

/// Two 64-byte reads of `/dev/urandom` are not all zero and differ.
pub fn urandom() -> Outcome {
    let mut file = File::open("/dev/urandom").ctx("open /dev/urandom")?;
    let (mut first, mut second) = ([0u8; 64], [0u8; 64]);
    file.read_exact(&mut first).ctx("read")?;
    file.read_exact(&mut second).ctx("second read")?;
    check_random(&first, &second)
}

/// `RandomState` keys (std gets them from `getrandom` once per thread) differ between threads.
pub fn hashmap() -> Outcome {
    let bytes = || {
        let state = RandomState::new();
        (0..8u64).flat_map(|i| state.hash_one(i).to_le_bytes()).collect::<Vec<u8>>()
    };
    let first = thread::spawn(bytes).join().map_err(|_| "thread panicked")?;
    let second = thread::spawn(bytes).join().map_err(|_| "thread panicked")?;
    check_random(&first, &second)?;

    let map: HashMap<u32, u32> = (0..1000).map(|i| (i, i * i)).collect();
    ensure!((0..1000).all(|i| map.get(&i) == Some(&(i * i))), "HashMap lookups failed");
    Ok(())
}

/// Two random buffers are not all zero and are not equal.
fn check_random(first: &[u8], second: &[u8]) -> Outcome {
    ensure!(first.iter().any(|&byte| byte != 0), "64 random bytes are all zero");
    ensure!(first != second, "two random reads returned the same bytes");
    Ok(())
}
