//! Futexes, yielding and CPU affinity.

use super::{Args, SysResult};
use crate::futex;
use crate::proc::current_process;
use crate::sched;
use crate::uaccess::UserPtr;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::sync::*;
use berth_abi::time::Timespec;

/// The deadline of a futex wait: `timeout` is relative for FUTEX_WAIT and absolute
/// (on the monotonic clock, or the real-time one with FUTEX_CLOCK_REALTIME) for
/// FUTEX_WAIT_BITSET.
fn deadline(timeout: UserPtr<Timespec>, absolute: bool, realtime: bool) -> Result<Option<u64>, Errno> {
    let Some(t) = timeout.read_unless_null()? else { return Ok(None) };
    t.validate()?;
    let now = crate::time::now_ns();
    Ok(Some(if !absolute {
        now.saturating_add(t.to_nanos())
    } else if realtime {
        now.saturating_add(t.to_nanos().saturating_sub(crate::time::realtime_ns()))
    } else {
        t.to_nanos()
    }))
}

/// Applies a FUTEX_WAKE_OP operation to the word at `addr`; returns its old value.
fn apply_op(addr: UserPtr<i32>, op: &WakeOp) -> Result<i32, Errno> {
    let old = addr.read()?;
    let arg = if op.op & FUTEX_OP_OPARG_SHIFT != 0 { 1i32.wrapping_shl(op.oparg as u32) } else { op.oparg };
    let new = match op.op & 7 {
        FUTEX_OP_SET => arg,
        FUTEX_OP_ADD => old.wrapping_add(arg),
        FUTEX_OP_OR => old | arg,
        FUTEX_OP_ANDN => old & !arg,
        FUTEX_OP_XOR => old ^ arg,
        _ => return Err(Errno::ENOSYS),
    };
    addr.write(&new)?;
    Ok(old)
}

fn compare(old: i32, op: &WakeOp) -> Result<bool, Errno> {
    Ok(match op.cmp {
        FUTEX_OP_CMP_EQ => old == op.cmparg,
        FUTEX_OP_CMP_NE => old != op.cmparg,
        FUTEX_OP_CMP_LT => old < op.cmparg,
        FUTEX_OP_CMP_LE => old <= op.cmparg,
        FUTEX_OP_CMP_GT => old > op.cmparg,
        FUTEX_OP_CMP_GE => old >= op.cmparg,
        _ => return Err(Errno::ENOSYS),
    })
}

/// futex(uaddr, op, val, timeout/val2, uaddr2, val3)
pub fn futex(a: &Args) -> SysResult {
    // The fourth argument is a timeout or a count, as the operation says.
    let (addr, op, val, arg4, addr2, val3) = (a.ptr(0), a.i32(1), a.u32(2), a.u64(3), a.ptr(4), a.u32(5));
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let (addr, addr2) = (futex::Word { addr, private }, futex::Word { addr: addr2, private });
    let process = current_process();
    match op & FUTEX_CMD_MASK {
        FUTEX_WAIT => futex::wait(addr, val, u32::MAX, deadline(a.ptr(3), false, realtime)?).map(|()| 0),
        FUTEX_WAIT_BITSET => futex::wait(addr, val, val3, deadline(a.ptr(3), true, realtime)?).map(|()| 0),
        FUTEX_WAKE => futex::wake_bitset(&process, addr, val, u32::MAX).map(|n| n as isize),
        FUTEX_WAKE_BITSET => {
            if val3 == 0 {
                return Err(Errno::EINVAL);
            }
            futex::wake_bitset(&process, addr, val, val3).map(|n| n as isize)
        }
        // FUTEX_REQUEUE counts only those woken; FUTEX_CMP_REQUEUE those moved too.
        FUTEX_REQUEUE => futex::requeue(addr, val, arg4 as u32, addr2, None).map(|(woken, _)| woken as isize),
        FUTEX_CMP_REQUEUE => {
            futex::requeue(addr, val, arg4 as u32, addr2, Some(val3)).map(|(woken, moved)| (woken + moved) as isize)
        }
        FUTEX_WAKE_OP => {
            let wake_op = WakeOp::decode(val3);
            let old = apply_op(addr2.addr.cast(), &wake_op)?;
            let mut woken = futex::wake_bitset(&process, addr, val, u32::MAX)?;
            if compare(old, &wake_op)? {
                woken += futex::wake_bitset(&process, addr2, arg4 as u32, u32::MAX)?;
            }
            Ok(woken as isize)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// sched_yield()
pub fn sched_yield() -> SysResult {
    sched::yield_now();
    Ok(0)
}

/// The thread a `sched_*affinity` call names: the caller for 0, else thread `tid` of
/// its container.
fn affinity_target(tid: i32) -> Result<Arc<sched::Thread>, Errno> {
    match tid {
        0 => Ok(sched::current()),
        1.. => super::process::find_thread(None, tid as u32),
        _ => Err(Errno::ESRCH),
    }
}

/// sched_getaffinity(tid, len, mask): the CPUs the thread may run on (those it asked
/// for within its container's); returns the bytes written (8).
pub fn sched_getaffinity(a: &Args) -> SysResult {
    let len = a.usize(1);
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mask = affinity_target(a.i32(0))?.affinity() & sched::online_mask();
    a.ptr(2).write(&mask)?;
    Ok(8)
}

/// sched_setaffinity(tid, len, mask): restricts the thread to the CPUs in the mask
/// (bits past the first 64 CPUs are ignored: berth runs at most 64); EINVAL if none of
/// them is one its container may use.
pub fn sched_setaffinity(a: &Args) -> SysResult {
    let len = a.usize(1);
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let mut bytes = [0u8; 8];
    a.slice(2, 1).read_into(&mut bytes[..len.min(8)])?;
    let mask = u64::from_le_bytes(bytes);
    let thread = affinity_target(a.i32(0))?;
    if !thread.set_affinity(mask & sched::online_mask()) {
        return Err(Errno::EINVAL);
    }
    if Arc::ptr_eq(&thread, &sched::current()) && !thread.may_run_here() {
        sched::yield_now();
    }
    Ok(0)
}

/// getcpu(cpu, node): the CPU the caller runs on; node 0.
pub fn getcpu(a: &Args) -> SysResult {
    a.ptr(0).write_unless_null(&(sched::this_cpu() as u32))?;
    a.ptr(1).write_unless_null(&0u32)?;
    Ok(0)
}
