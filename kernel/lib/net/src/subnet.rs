//! Addresses on container networks: the subnet each network gets (Docker's default
//! pools: 172.17.0.0/16 for the default bridge, then 172.18-31.0.0/16, then
//! 192.168.0.0/16 in /20s) and the addresses its containers get in it.

use crate::config::Ipv4Cidr;
use alloc::collections::BTreeSet;
use core::net::Ipv4Addr;

/// The default bridge network's subnet.
pub const DEFAULT_BRIDGE: Ipv4Cidr = Ipv4Cidr { addr: Ipv4Addr::new(172, 17, 0, 0), prefix: 16 };

/// The first subnet of Docker's pools not in `used` (nor overlapping one).
pub fn free_subnet(used: &[Ipv4Cidr]) -> Option<Ipv4Cidr> {
    let wide = (18..=31).map(|b| Ipv4Cidr { addr: Ipv4Addr::new(172, b, 0, 0), prefix: 16 });
    let narrow = (0..16).map(|i| Ipv4Cidr { addr: Ipv4Addr::new(192, 168, i * 16, 0), prefix: 20 });
    wide.chain(narrow).find(|s| !used.iter().any(|u| overlap(s, u)))
}

/// Whether two subnets share an address.
pub fn overlap(a: &Ipv4Cidr, b: &Ipv4Cidr) -> bool {
    let shorter = if a.prefix <= b.prefix { a } else { b };
    let other = if a.prefix <= b.prefix { b } else { a };
    shorter.contains(other.addr)
}

/// The network address of `cidr` (its host bits cleared).
pub fn network_of(cidr: Ipv4Cidr) -> Ipv4Cidr {
    let mask = if cidr.prefix == 0 { 0 } else { u32::MAX << (32 - cidr.prefix) };
    Ipv4Cidr { addr: Ipv4Addr::from(u32::from(cidr.addr) & mask), prefix: cidr.prefix }
}

/// Why an address cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressError {
    /// Every address of the subnet is taken.
    Exhausted,
    /// The address asked for is not one of the subnet's hosts.
    OutOfRange,
    /// The address asked for is taken.
    Taken,
}

impl core::fmt::Display for AddressError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            AddressError::Exhausted => "no free address left in the network's subnet",
            AddressError::OutOfRange => "the address is not in the network's subnet",
            AddressError::Taken => "the address is already in use",
        })
    }
}

/// The addresses of one network: its gateway (the first host, as Docker's bridge
/// takes) and those handed to containers.
#[derive(Debug, Clone)]
pub struct AddressPool {
    subnet: Ipv4Cidr,
    taken: BTreeSet<u32>,
}

impl AddressPool {
    /// The pool of `subnet` (host bits of its address are ignored); subnets of fewer
    /// than four addresses have no room for containers.
    pub fn new(subnet: Ipv4Cidr) -> AddressPool {
        AddressPool { subnet: network_of(subnet), taken: BTreeSet::new() }
    }

    /// The subnet.
    pub fn subnet(&self) -> Ipv4Cidr {
        self.subnet
    }

    /// The gateway's address: the subnet's first host.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.subnet.addr) + 1)
    }

    /// The hosts containers may have: past the gateway, before the broadcast address.
    fn hosts(&self) -> core::ops::Range<u32> {
        let base = u32::from(self.subnet.addr);
        let size = 1u64 << (32 - u32::from(self.subnet.prefix.min(32)));
        let end = (u64::from(base) + size - 1).min(u64::from(u32::MAX)) as u32;
        (base + 2).min(end)..end
    }

    /// Takes the lowest free address.
    pub fn take(&mut self) -> Result<Ipv4Addr, AddressError> {
        let free = self.hosts().find(|a| !self.taken.contains(a)).ok_or(AddressError::Exhausted)?;
        self.taken.insert(free);
        Ok(Ipv4Addr::from(free))
    }

    /// Takes `ip` (a container that asked for it, or one brought back with it).
    pub fn take_exact(&mut self, ip: Ipv4Addr) -> Result<(), AddressError> {
        if !self.hosts().contains(&u32::from(ip)) {
            return Err(AddressError::OutOfRange);
        }
        if !self.taken.insert(u32::from(ip)) {
            return Err(AddressError::Taken);
        }
        Ok(())
    }

    /// Gives `ip` back.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.taken.remove(&u32::from(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        Ipv4Cidr::parse(s).unwrap()
    }

    #[test]
    fn subnets_come_from_dockers_pools_in_order() {
        assert_eq!(free_subnet(&[DEFAULT_BRIDGE]), Some(cidr("172.18.0.0/16")));
        assert_eq!(free_subnet(&[DEFAULT_BRIDGE, cidr("172.18.0.0/16")]), Some(cidr("172.19.0.0/16")));
        // A user's subnet inside a pool's takes that one out.
        assert_eq!(free_subnet(&[cidr("172.18.5.0/24")]), Some(cidr("172.19.0.0/16")));
        let all_wide: alloc::vec::Vec<Ipv4Cidr> = (16..=31).map(|b| cidr(&alloc::format!("172.{b}.0.0/16"))).collect();
        assert_eq!(free_subnet(&all_wide), Some(cidr("192.168.0.0/20")));
        assert_eq!(free_subnet(&[cidr("172.16.0.0/12"), cidr("192.168.0.0/16")]), None);
    }

    #[test]
    fn containers_get_the_lowest_free_address_past_the_gateway() {
        let mut pool = AddressPool::new(cidr("172.18.3.4/16"));
        assert_eq!(pool.subnet(), cidr("172.18.0.0/16"));
        assert_eq!(pool.gateway(), Ipv4Addr::new(172, 18, 0, 1));
        assert_eq!(pool.take(), Ok(Ipv4Addr::new(172, 18, 0, 2)));
        assert_eq!(pool.take(), Ok(Ipv4Addr::new(172, 18, 0, 3)));
        pool.release(Ipv4Addr::new(172, 18, 0, 2));
        assert_eq!(pool.take(), Ok(Ipv4Addr::new(172, 18, 0, 2)), "a freed address is handed out again");
    }

    #[test]
    fn a_small_subnet_runs_out_and_refuses_addresses_outside_it() {
        let mut pool = AddressPool::new(cidr("10.9.0.0/30"));
        assert_eq!(pool.take(), Ok(Ipv4Addr::new(10, 9, 0, 2)));
        assert_eq!(pool.take(), Err(AddressError::Exhausted), ".3 is the broadcast address");
        assert_eq!(pool.take_exact(Ipv4Addr::new(10, 9, 0, 1)), Err(AddressError::OutOfRange), "the gateway");
        assert_eq!(pool.take_exact(Ipv4Addr::new(10, 9, 1, 2)), Err(AddressError::OutOfRange));
        assert_eq!(pool.take_exact(Ipv4Addr::new(10, 9, 0, 2)), Err(AddressError::Taken));
        let mut tiny = AddressPool::new(cidr("10.9.0.0/32"));
        assert_eq!(tiny.take(), Err(AddressError::Exhausted));
    }
}
