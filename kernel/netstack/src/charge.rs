//! Socket buffer memory charged to the container that owns the socket.

use crate::mm::{Charge, MemoryCounter};
use alloc::sync::Arc;
use berth_abi::Errno;

/// Charges `bytes` of socket buffers to `counter` if there is one (the kernel's own
/// sockets are not charged); ENOBUFS if that is over its limit.
pub fn charge(counter: Option<&Arc<MemoryCounter>>, bytes: usize) -> Result<Option<Charge>, Errno> {
    Charge::maybe(counter, bytes as u64).ok_or(Errno::ENOBUFS)
}
