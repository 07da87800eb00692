//! Futexes: user-space locks' slow path.
//!
//! A futex word in private memory is keyed by (address space, address): threads of
//! one process share a space, so their futexes meet. A word in shared memory
//! (`MAP_SHARED`, anonymous or a file's) is keyed by (those shared pages, offset in
//! them), which is the same in every process that maps them: a lock in shared memory
//! (a POSIX semaphore, a process-shared mutex) works between processes. An operation
//! with `FUTEX_PRIVATE_FLAG` (most of a C library's) promises the word is this
//! process's alone, and is keyed by address without looking up the mapping, as on
//! Linux.
//!
//! The word is read, and a waiter queued, under the table's lock, which every waker
//! takes too: a wake-up on another CPU cannot fall between the check and the queueing.

use crate::proc::{self, Process};
use crate::sched::{WaitError, WaitQueue};
use crate::uaccess::UserPtr;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use spin::Mutex;

/// A thread waiting on a futex. It sleeps on its own queue, so it can move between
/// addresses (requeue) and still be woken, and it knows which address it is on, so
/// it can always leave.
struct Waiter {
    bitset: u32,
    state: Mutex<WaiterState>,
    queue: WaitQueue,
}

struct WaiterState {
    woken: bool,
    /// The address it waits on now.
    key: Key,
}

/// Key: the identity of the memory (an address space, or shared pages: distinct live
/// objects, so never equal) and the word's place in it (its user address, or its
/// offset in the shared pages).
type Key = (usize, u64);

/// Waiters by address, in arrival order; an address with none has no entry.
static FUTEXES: Mutex<BTreeMap<Key, Vec<Arc<Waiter>>>> = Mutex::new(BTreeMap::new());

/// A futex word as an operation names it: its address, and whether the operation
/// said it is private to the process (`FUTEX_PRIVATE_FLAG`).
#[derive(Clone, Copy)]
pub struct Word {
    /// Where it is.
    pub addr: UserPtr<u32>,
    /// The caller promised no other process uses it.
    pub private: bool,
}

fn key(process: &Process, word: Word) -> Result<Key, Errno> {
    let addr = word.addr.addr();
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let vm = process.vm_arc().ok_or(Errno::EFAULT)?;
    let shared = if word.private { None } else { vm.space.lock().shared_location(addr) };
    Ok(shared.unwrap_or((Arc::as_ptr(&vm) as usize, addr)))
}

/// FUTEX_WAIT(_BITSET): sleeps while `*word == expected`, until woken or `deadline`.
pub fn wait(word: Word, expected: u32, bitset: u32, deadline: Option<u64>) -> Result<(), Errno> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let process = proc::current_process();
    let key = key(&process, word)?;
    let me = Arc::new(Waiter { bitset, state: Mutex::new(WaiterState { woken: false, key }), queue: WaitQueue::new() });
    {
        // Reading the word may fault a page in; the fault handler takes no futex lock.
        let mut all = FUTEXES.lock();
        if word.addr.read()? != expected {
            return Err(Errno::EAGAIN);
        }
        all.entry(key).or_default().push(me.clone());
    }
    let result = me.queue.wait_until(|| me.state.lock().woken.then_some(()), deadline, Some(&proc::signal_pending));
    // Leave the address it is on now (a requeue may have moved it), if still there.
    {
        let mut all = FUTEXES.lock();
        let at = me.state.lock().key;
        if let Some(waiters) = all.get_mut(&at) {
            waiters.retain(|w| !Arc::ptr_eq(w, &me));
            if waiters.is_empty() {
                all.remove(&at);
            }
        }
    }
    match result {
        Ok(()) => Ok(()),
        Err(_) if me.state.lock().woken => Ok(()),
        Err(WaitError::TimedOut) => Err(Errno::ETIMEDOUT),
        Err(WaitError::Interrupted) => Err(Errno::EINTR),
    }
}

/// Takes up to `count` waiters on `key` whose bitset intersects `bitset` off the table,
/// marked woken (the caller wakes them once the table's lock is let go).
fn take_waiters(all: &mut BTreeMap<Key, Vec<Arc<Waiter>>>, key: Key, count: u32, bitset: u32) -> Vec<Arc<Waiter>> {
    let mut woken = Vec::new();
    let Some(waiters) = all.get_mut(&key) else { return woken };
    waiters.retain(|w| {
        if woken.len() < count as usize && w.bitset & bitset != 0 {
            w.state.lock().woken = true;
            woken.push(w.clone());
            false
        } else {
            true
        }
    });
    if waiters.is_empty() {
        all.remove(&key);
    }
    woken
}

/// FUTEX_WAKE(_BITSET) for `process`: wakes up to `count` waiters on `word` whose
/// bitset intersects `bitset`; returns how many.
pub fn wake_bitset(process: &Process, word: Word, count: u32, bitset: u32) -> Result<usize, Errno> {
    let key = key(process, word)?;
    let woken = take_waiters(&mut FUTEXES.lock(), key, count, bitset);
    for w in &woken {
        w.queue.wake_all();
    }
    Ok(woken.len())
}

/// FUTEX_WAKE for `process`, of a word other processes may share (`CLONE_CHILD_CLEARTID`).
pub fn wake(process: &Process, addr: UserPtr<u32>, count: u32) -> usize {
    wake_bitset(process, Word { addr, private: false }, count, u32::MAX).unwrap_or(0)
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes `wake_count` waiters on `addr`, moves up
/// to `requeue_count` others to `addr2`; returns (woken, moved). With `expected`,
/// fails with EAGAIN unless `*addr == expected`.
pub fn requeue(
    word: Word,
    wake_count: u32,
    requeue_count: u32,
    word2: Word,
    expected: Option<u32>,
) -> Result<(usize, usize), Errno> {
    let process = proc::current_process();
    let (from, to) = (key(&process, word)?, key(&process, word2)?);
    let (woken, moved) = {
        let mut all = FUTEXES.lock();
        if let Some(expected) = expected
            && word.addr.read()? != expected
        {
            return Err(Errno::EAGAIN);
        }
        let woken = take_waiters(&mut all, from, wake_count, u32::MAX);
        let mut moved = 0;
        if from != to
            && let Some(waiters) = all.get_mut(&from)
        {
            let taken: Vec<Arc<Waiter>> = waiters.drain(..waiters.len().min(requeue_count as usize)).collect();
            if waiters.is_empty() {
                all.remove(&from);
            }
            for w in &taken {
                w.state.lock().key = to;
            }
            moved = taken.len();
            if moved > 0 {
                all.entry(to).or_default().extend(taken);
            }
        }
        (woken, moved)
    };
    for w in &woken {
        w.queue.wake_all();
    }
    Ok((woken.len(), moved))
}
