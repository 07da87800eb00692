//! Container networks as the stack sees them. A container on a network has an
//! address there; a connection or datagram to such an address goes straight into
//! that container's port space (as 127.0.0.1 goes into one's own) when the sender is
//! on the same network, and is refused with EHOSTUNREACH when it is not — containers
//! on different networks cannot reach each other. The names an address answers to
//! (container name, aliases) are what the resolver at 127.0.0.11 gives out
//! ([`berth_net::dns`]), to containers on that network only.
//!
//! The container layer names networks and hands out the addresses; the stack only
//! tells networks apart by number.

use super::namespace::Namespace;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_abi::Errno;
use core::net::Ipv4Addr;
use spin::Mutex;

/// A network's number.
pub type NetworkId = u64;

/// One container's place on one network.
struct Endpoint {
    network: NetworkId,
    ns: Weak<Namespace>,
    /// Names the resolver gives this address for, in lower case.
    names: Vec<String>,
}

/// Every container address on every network. The lock is a leaf: nothing else is
/// taken while it is held.
static ENDPOINTS: Mutex<BTreeMap<Ipv4Addr, Endpoint>> = Mutex::new(BTreeMap::new());

/// Puts `ns` on `network` at `ip`, found by `names` through the resolver (replacing
/// whatever held `ip`).
pub fn attach(ns: &Arc<Namespace>, network: NetworkId, ip: Ipv4Addr, names: Vec<String>) {
    let names = names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut endpoints = ENDPOINTS.lock();
    endpoints.retain(|_, e| e.ns.strong_count() > 0);
    endpoints.insert(ip, Endpoint { network, ns: Arc::downgrade(ns), names });
}

/// Takes `ns` off `network`, or off every network if `None`.
pub fn detach(ns: &Namespace, network: Option<NetworkId>) {
    ENDPOINTS.lock().retain(|_, e| !(core::ptr::eq(e.ns.as_ptr(), ns) && network.is_none_or(|n| n == e.network)));
}

/// The networks `ns` is on, with its address on each.
fn memberships(endpoints: &BTreeMap<Ipv4Addr, Endpoint>, ns: &Namespace) -> Vec<(NetworkId, Ipv4Addr)> {
    endpoints.iter().filter(|(_, e)| core::ptr::eq(e.ns.as_ptr(), ns)).map(|(ip, e)| (e.network, *ip)).collect()
}

/// Where a connection or datagram from `from` to `ip` goes: `None` if `ip` is no
/// container's address; else the namespace it leads into and the sender's own
/// address on the network they share (its source address), or EHOSTUNREACH if they
/// share none.
pub fn route(from: &Namespace, ip: Ipv4Addr) -> Option<Result<(Arc<Namespace>, Ipv4Addr), Errno>> {
    let endpoints = ENDPOINTS.lock();
    let target = endpoints.get(&ip)?;
    let Some(ns) = target.ns.upgrade() else { return Some(Err(Errno::EHOSTUNREACH)) };
    let source = memberships(&endpoints, from).into_iter().find(|(n, _)| *n == target.network);
    Some(source.map(|(_, own)| (ns, own)).ok_or(Errno::EHOSTUNREACH))
}

/// The addresses `name` (lower case) has on the networks `from` is on.
pub fn resolve(from: &Namespace, name: &str) -> Vec<Ipv4Addr> {
    let endpoints = ENDPOINTS.lock();
    let mine = memberships(&endpoints, from);
    endpoints
        .iter()
        .filter(|(_, e)| mine.iter().any(|(n, _)| *n == e.network) && e.ns.strong_count() > 0)
        .filter(|(_, e)| e.names.iter().any(|n| n == name))
        .map(|(ip, _)| *ip)
        .collect()
}

/// Whether `ip` is one of `ns`'s addresses on its networks.
pub fn is_own(ns: &Namespace, ip: Ipv4Addr) -> bool {
    ENDPOINTS.lock().get(&ip).is_some_and(|e| core::ptr::eq(e.ns.as_ptr(), ns))
}
