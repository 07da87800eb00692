//! Futexes: user-space locks' slow path.
//!
//! Waiters are keyed by (address space, address): threads of one process share a
//! space, so their futexes meet; other processes' never do. (Shared-memory futexes
//! between processes would need physical keys; berth keys every futex privately.)

use crate::proc::{self, Process, Vm};
use crate::sched::{WaitError, WaitQueue};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use spin::Mutex;

struct Waiter {
    bitset: u32,
    woken: bool,
}

struct Bucket {
    waiters: Vec<Arc<Mutex<Waiter>>>,
    queue: Arc<WaitQueue>,
}

/// Key: the address space's identity and the user address.
type Key = (usize, u64);

static FUTEXES: Mutex<BTreeMap<Key, Bucket>> = Mutex::new(BTreeMap::new());

fn key(process: &Process, addr: u64) -> Result<Key, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let vm: Arc<Vm> = process.vm_arc().ok_or(Errno::EFAULT)?;
    Ok((Arc::as_ptr(&vm) as usize, addr))
}

/// FUTEX_WAIT(_BITSET): sleeps while `*addr == expected`, until woken or `deadline`.
pub fn wait(addr: u64, expected: u32, bitset: u32, deadline: Option<u64>) -> Result<(), Errno> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let process = proc::current_process();
    let key = key(&process, addr)?;
    // Read the word before queueing; the kernel is not preempted between the check
    // and the enqueue, so a waker cannot slip in between.
    let value: u32 = crate::uaccess::read_val(addr)?;
    if value != expected {
        return Err(Errno::EAGAIN);
    }
    let me = Arc::new(Mutex::new(Waiter { bitset, woken: false }));
    let queue = {
        let mut all = FUTEXES.lock();
        let bucket =
            all.entry(key).or_insert_with(|| Bucket { waiters: Vec::new(), queue: Arc::new(WaitQueue::new()) });
        bucket.waiters.push(me.clone());
        bucket.queue.clone()
    };
    let result = queue.wait_until(|| me.lock().woken.then_some(()), deadline, Some(&proc::signal_pending));
    // Leave the bucket if still in it (timeout or signal).
    let mut all = FUTEXES.lock();
    if let Some(bucket) = all.get_mut(&key) {
        bucket.waiters.retain(|w| !Arc::ptr_eq(w, &me));
        if bucket.waiters.is_empty() {
            all.remove(&key);
        }
    }
    match result {
        Ok(()) => Ok(()),
        Err(_) if me.lock().woken => Ok(()),
        Err(WaitError::TimedOut) => Err(Errno::ETIMEDOUT),
        Err(WaitError::Interrupted) => Err(Errno::EINTR),
    }
}

/// FUTEX_WAKE(_BITSET) for `process`: wakes up to `count` waiters on `addr` whose
/// bitset intersects `bitset`; returns how many.
pub fn wake_bitset(process: &Process, addr: u64, count: u32, bitset: u32) -> Result<usize, Errno> {
    let key = key(process, addr)?;
    let mut woken = 0;
    let queue = {
        let mut all = FUTEXES.lock();
        let Some(bucket) = all.get_mut(&key) else { return Ok(0) };
        bucket.waiters.retain(|w| {
            let mut w = w.lock();
            if woken < count as usize && w.bitset & bitset != 0 {
                w.woken = true;
                woken += 1;
                false
            } else {
                true
            }
        });
        let queue = bucket.queue.clone();
        if bucket.waiters.is_empty() {
            all.remove(&key);
        }
        queue
    };
    if woken > 0 {
        queue.wake_all();
    }
    Ok(woken)
}

/// FUTEX_WAKE for `process`.
pub fn wake(process: &Process, addr: u64, count: u32) -> usize {
    wake_bitset(process, addr, count, u32::MAX).unwrap_or(0)
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes `wake_count` waiters on `addr`, moves up
/// to `requeue_count` others to `addr2`. With `expected`, fails with EAGAIN unless
/// `*addr == expected`.
pub fn requeue(
    addr: u64,
    wake_count: u32,
    requeue_count: u32,
    addr2: u64,
    expected: Option<u32>,
) -> Result<usize, Errno> {
    let process = proc::current_process();
    if let Some(expected) = expected {
        let value: u32 = crate::uaccess::read_val(addr)?;
        if value != expected {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = wake_bitset(&process, addr, wake_count, u32::MAX)?;
    let (from, to) = (key(&process, addr)?, key(&process, addr2)?);
    let mut moved = 0;
    let mut all = FUTEXES.lock();
    let mut taken = Vec::new();
    if let Some(bucket) = all.get_mut(&from) {
        while moved < requeue_count as usize && !bucket.waiters.is_empty() {
            taken.push(bucket.waiters.remove(0));
            moved += 1;
        }
    }
    if !taken.is_empty() {
        // Moved waiters keep sleeping on their old queue; they are marked woken by
        // wakes on the new address through the new bucket's list.
        let old_queue = all.get(&from).map(|b| b.queue.clone());
        let bucket = all.entry(to).or_insert_with(|| Bucket {
            waiters: Vec::new(),
            queue: old_queue.clone().unwrap_or_else(|| Arc::new(WaitQueue::new())),
        });
        bucket.waiters.extend(taken);
        if let Some(old) = old_queue
            && !Arc::ptr_eq(&old, &bucket.queue)
        {
            // Different queues: wake the moved ones so they re-sleep correctly later.
            drop(all);
            old.wake_all();
            return Ok(woken + moved);
        }
    }
    Ok(woken + moved)
}
