//! Socket buffer memory charged to the container that owns the socket.

use crate::mm::MemoryCounter;
use alloc::sync::Arc;
use berth_abi::Errno;

/// Bytes charged to a memory counter, given back on drop.
pub struct Charge {
    counter: Arc<MemoryCounter>,
    bytes: u64,
}

impl Charge {
    /// Charges `bytes` to `counter`, or ENOBUFS if that is over its limit.
    pub fn new(counter: &Arc<MemoryCounter>, bytes: usize) -> Result<Charge, Errno> {
        let bytes = bytes as u64;
        if counter.try_charge(bytes) { Ok(Charge { counter: counter.clone(), bytes }) } else { Err(Errno::ENOBUFS) }
    }

    /// Charges to `counter` if there is one (kernel sockets are not charged).
    pub fn maybe(counter: Option<&Arc<MemoryCounter>>, bytes: usize) -> Result<Option<Charge>, Errno> {
        counter.map(|c| Charge::new(c, bytes)).transpose()
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.counter.uncharge(self.bytes);
    }
}
