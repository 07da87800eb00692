//! Futexes: user-space locks' slow path.
//!
//! Waiters are keyed by (address space, address): threads of one process share a
//! space, so their futexes meet; other processes' never do. (Shared-memory futexes
//! between processes would need physical keys; berth keys every futex privately.)

use crate::proc::{self, Process, Vm};
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

/// Key: the address space's identity and the user address.
type Key = (usize, u64);

/// Waiters by address, in arrival order; an address with none has no entry.
static FUTEXES: Mutex<BTreeMap<Key, Vec<Arc<Waiter>>>> = Mutex::new(BTreeMap::new());

fn key(process: &Process, word: UserPtr<u32>) -> Result<Key, Errno> {
    let addr = word.addr();
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let vm: Arc<Vm> = process.vm_arc().ok_or(Errno::EFAULT)?;
    Ok((Arc::as_ptr(&vm) as usize, addr))
}

/// FUTEX_WAIT(_BITSET): sleeps while `*addr == expected`, until woken or `deadline`.
pub fn wait(addr: UserPtr<u32>, expected: u32, bitset: u32, deadline: Option<u64>) -> Result<(), Errno> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let process = proc::current_process();
    let key = key(&process, addr)?;
    // Read the word before queueing; the kernel is not preempted between the check
    // and the enqueue, and the only wakers (threads of this process: futexes are
    // private) run on this CPU while this thread does (a scheduling group runs on one
    // CPU at a time), so none can slip in between.
    let value = addr.read()?;
    if value != expected {
        return Err(Errno::EAGAIN);
    }
    let me = Arc::new(Waiter { bitset, state: Mutex::new(WaiterState { woken: false, key }), queue: WaitQueue::new() });
    FUTEXES.lock().entry(key).or_default().push(me.clone());
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

/// FUTEX_WAKE(_BITSET) for `process`: wakes up to `count` waiters on `addr` whose
/// bitset intersects `bitset`; returns how many.
pub fn wake_bitset(process: &Process, addr: UserPtr<u32>, count: u32, bitset: u32) -> Result<usize, Errno> {
    let key = key(process, addr)?;
    let mut woken = Vec::new();
    {
        let mut all = FUTEXES.lock();
        let Some(waiters) = all.get_mut(&key) else { return Ok(0) };
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
    }
    for w in &woken {
        w.queue.wake_all();
    }
    Ok(woken.len())
}

/// FUTEX_WAKE for `process`.
pub fn wake(process: &Process, addr: UserPtr<u32>, count: u32) -> usize {
    wake_bitset(process, addr, count, u32::MAX).unwrap_or(0)
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes `wake_count` waiters on `addr`, moves up
/// to `requeue_count` others to `addr2`; returns (woken, moved). With `expected`,
/// fails with EAGAIN unless `*addr == expected`.
pub fn requeue(
    addr: UserPtr<u32>,
    wake_count: u32,
    requeue_count: u32,
    addr2: UserPtr<u32>,
    expected: Option<u32>,
) -> Result<(usize, usize), Errno> {
    let process = proc::current_process();
    if let Some(expected) = expected {
        let value = addr.read()?;
        if value != expected {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = wake_bitset(&process, addr, wake_count, u32::MAX)?;
    let (from, to) = (key(&process, addr)?, key(&process, addr2)?);
    if from == to {
        return Ok((woken, 0));
    }
    let mut all = FUTEXES.lock();
    let Some(waiters) = all.get_mut(&from) else { return Ok((woken, 0)) };
    let moved: Vec<Arc<Waiter>> = waiters.drain(..waiters.len().min(requeue_count as usize)).collect();
    if waiters.is_empty() {
        all.remove(&from);
    }
    for w in &moved {
        w.state.lock().key = to;
    }
    let count = moved.len();
    if count > 0 {
        all.entry(to).or_default().extend(moved);
    }
    Ok((woken, count))
}
