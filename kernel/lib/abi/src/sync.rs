//! Futexes: `futex` operations and flags, the `FUTEX_WAKE_OP` encoding, robust lists and
//! `futex_waitv`.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    FUTEX_CONSTS: Kernel;
    /// Sleep if `*uaddr == val`.
    pub const FUTEX_WAIT: i32 = 0;
    /// Wake up to `val` waiters.
    pub const FUTEX_WAKE: i32 = 1;
    /// Removed in Linux 2.6.26.
    pub const FUTEX_FD: i32 = 2;
    /// Wake `val` waiters, move up to `val2` to `uaddr2`.
    pub const FUTEX_REQUEUE: i32 = 3;
    /// [`FUTEX_REQUEUE`] if `*uaddr == val3`.
    pub const FUTEX_CMP_REQUEUE: i32 = 4;
    /// Modify `*uaddr2`, wake on `uaddr`, and on `uaddr2` if a comparison holds.
    pub const FUTEX_WAKE_OP: i32 = 5;
    /// Take a priority-inheritance lock.
    pub const FUTEX_LOCK_PI: i32 = 6;
    /// Release a priority-inheritance lock.
    pub const FUTEX_UNLOCK_PI: i32 = 7;
    /// Try to take a priority-inheritance lock.
    pub const FUTEX_TRYLOCK_PI: i32 = 8;
    /// [`FUTEX_WAIT`] with a wake mask (`val3`) and an absolute timeout.
    pub const FUTEX_WAIT_BITSET: i32 = 9;
    /// [`FUTEX_WAKE`] of waiters whose mask meets `val3`.
    pub const FUTEX_WAKE_BITSET: i32 = 10;
    /// Wait on a non-PI futex to be requeued to a PI one.
    pub const FUTEX_WAIT_REQUEUE_PI: i32 = 11;
    /// Requeue from a non-PI futex to a PI one.
    pub const FUTEX_CMP_REQUEUE_PI: i32 = 12;
    /// [`FUTEX_LOCK_PI`] with a selectable clock.
    pub const FUTEX_LOCK_PI2: i32 = 13;
    /// The futex is private to the process (`op` modifier).
    pub const FUTEX_PRIVATE_FLAG: i32 = 128;
    /// The timeout is on `CLOCK_REALTIME` (`op` modifier).
    pub const FUTEX_CLOCK_REALTIME: i32 = 256;
    /// Mask of the operation in `op`.
    pub const FUTEX_CMD_MASK: i32 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    /// Wake mask that matches every waiter.
    pub const FUTEX_BITSET_MATCH_ANY: u32 = 0xffff_ffff;

    /// PI futex word: there are waiters.
    pub const FUTEX_WAITERS: u32 = 0x8000_0000;
    /// PI and robust futex word: the owner died.
    pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
    /// PI and robust futex word: the owner's tid.
    pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

    /// `FUTEX_WAKE_OP`: `*uaddr2 = oparg`.
    pub const FUTEX_OP_SET: u32 = 0;
    /// `FUTEX_WAKE_OP`: `*uaddr2 += oparg`.
    pub const FUTEX_OP_ADD: u32 = 1;
    /// `FUTEX_WAKE_OP`: `*uaddr2 |= oparg`.
    pub const FUTEX_OP_OR: u32 = 2;
    /// `FUTEX_WAKE_OP`: `*uaddr2 &= !oparg`.
    pub const FUTEX_OP_ANDN: u32 = 3;
    /// `FUTEX_WAKE_OP`: `*uaddr2 ^= oparg`.
    pub const FUTEX_OP_XOR: u32 = 4;
    /// `FUTEX_WAKE_OP` op modifier: the operand is `1 << oparg`.
    pub const FUTEX_OP_OPARG_SHIFT: u32 = 8;
    /// `FUTEX_WAKE_OP` comparison: `==`.
    pub const FUTEX_OP_CMP_EQ: u32 = 0;
    /// `FUTEX_WAKE_OP` comparison: `!=`.
    pub const FUTEX_OP_CMP_NE: u32 = 1;
    /// `FUTEX_WAKE_OP` comparison: `<`.
    pub const FUTEX_OP_CMP_LT: u32 = 2;
    /// `FUTEX_WAKE_OP` comparison: `<=`.
    pub const FUTEX_OP_CMP_LE: u32 = 3;
    /// `FUTEX_WAKE_OP` comparison: `>`.
    pub const FUTEX_OP_CMP_GT: u32 = 4;
    /// `FUTEX_WAKE_OP` comparison: `>=`.
    pub const FUTEX_OP_CMP_GE: u32 = 5;

    /// Most robust list entries the kernel walks at exit.
    pub const ROBUST_LIST_LIMIT: usize = 2048;
    /// `futex_waitv` flag: a 32-bit futex.
    pub const FUTEX_32: u32 = 2;
    /// Most futexes one `futex_waitv` waits on.
    pub const FUTEX_WAITV_MAX: usize = 128;
}

/// A decoded `FUTEX_WAKE_OP` `val3`: `op:4 cmp:4 oparg:12 cmparg:12`, high bits first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WakeOp {
    /// `FUTEX_OP_SET` .. `FUTEX_OP_XOR`, possibly with [`FUTEX_OP_OPARG_SHIFT`].
    pub op: u32,
    /// `FUTEX_OP_CMP_*`.
    pub cmp: u32,
    /// The operand, sign-extended from 12 bits.
    pub oparg: i32,
    /// The comparison operand, sign-extended from 12 bits.
    pub cmparg: i32,
}

impl WakeOp {
    /// Splits `val3` (as the kernel's `futex_atomic_op_inuser` does).
    pub const fn decode(val3: u32) -> WakeOp {
        WakeOp {
            op: (val3 >> 28) & 0xf,
            cmp: (val3 >> 24) & 0xf,
            oparg: ((val3 << 8) as i32) >> 20,
            cmparg: ((val3 << 20) as i32) >> 20,
        }
    }

    /// Packs the fields back into `val3` (the C `FUTEX_OP` macro).
    pub const fn encode(&self) -> u32 {
        ((self.op & 0xf) << 28)
            | ((self.cmp & 0xf) << 24)
            | ((self.oparg as u32 & 0xfff) << 12)
            | (self.cmparg as u32 & 0xfff)
    }
}

/// `struct robust_list_head` (`set_robust_list`): 24 bytes in user memory, read at exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct RobustListHead {
    /// `list.next`: the first held lock's list entry, or the head's own address when empty.
    pub list: u64,
    /// Offset from a list entry to its futex word.
    pub futex_offset: i64,
    /// An entry being added or removed, or 0.
    pub list_op_pending: u64,
}

/// `struct futex_waitv` (`futex_waitv`): 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct FutexWaitv {
    /// Expected value.
    pub val: u64,
    /// User address of the futex.
    pub uaddr: u64,
    /// [`FUTEX_32`], optionally with [`FUTEX_PRIVATE_FLAG`].
    pub flags: u32,
    /// Reserved; zero.
    pub __reserved: u32,
}
