//! How the machine gets its address: DHCP (the default), a static address from the
//! kernel command line, or no network at all.
//!
//! Command-line keys: `net=off` disables networking; `ip=10.0.2.15/24` sets a static
//! address (then `gateway=` and `dns=` may follow); without `ip=` the address comes from
//! DHCP.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::net::Ipv4Addr;

/// An IPv4 address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix: u8,
}

impl Ipv4Cidr {
    /// Parses `a.b.c.d/len`; a missing `/len` means /24.
    pub fn parse(s: &str) -> Result<Ipv4Cidr, String> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, "24"));
        let addr: Ipv4Addr = addr.parse().map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        let prefix: u8 =
            prefix.parse().ok().filter(|&p| p <= 32).ok_or_else(|| format!("bad prefix length `{prefix}`"))?;
        Ok(Ipv4Cidr { addr, prefix })
    }

    /// Whether `other` is in this network.
    pub fn contains(&self, other: Ipv4Addr) -> bool {
        let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
        u32::from(self.addr) & mask == u32::from(other) & mask
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A static configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticConfig {
    /// The machine's address and network.
    pub address: Ipv4Cidr,
    /// The default router, if any.
    pub gateway: Option<Ipv4Addr>,
    /// The DNS server containers are told about, if any.
    pub dns: Option<Ipv4Addr>,
}

/// How the machine's address is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetConfig {
    /// No networking.
    Off,
    /// Ask a DHCP server.
    Dhcp,
    /// Use these settings.
    Static(StaticConfig),
}

impl NetConfig {
    /// Reads the configuration from the kernel command line's values, given a lookup
    /// of `key` → value.
    pub fn from_args<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<NetConfig, String> {
        if let Some(net) = get("net") {
            match net {
                "off" | "none" => return Ok(NetConfig::Off),
                "dhcp" | "on" => {}
                other => return Err(format!("net=`{other}`: expected off or dhcp")),
            }
        }
        let Some(ip) = get("ip") else {
            if get("gateway").is_some() {
                return Err("gateway= needs ip=".into());
            }
            return Ok(NetConfig::Dhcp);
        };
        let address = Ipv4Cidr::parse(ip)?;
        let addr = |key: &str| -> Result<Option<Ipv4Addr>, String> {
            get(key).map(|v| v.parse().map_err(|_| format!("{key}=`{v}` is not an IPv4 address"))).transpose()
        };
        let gateway = addr("gateway")?;
        if let Some(g) = gateway
            && !address.contains(g)
        {
            return Err(format!("gateway {g} is outside {address}"));
        }
        Ok(NetConfig::Static(StaticConfig { address, gateway, dns: addr("dns")? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn parse(pairs: &[(&'static str, &'static str)]) -> Result<NetConfig, String> {
        NetConfig::from_args(|k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    #[test]
    fn dhcp_by_default() {
        assert_eq!(parse(&[]), Ok(NetConfig::Dhcp));
        assert_eq!(parse(&[("net", "dhcp")]), Ok(NetConfig::Dhcp));
        assert_eq!(parse(&[("net", "off"), ("ip", "1.2.3.4")]), Ok(NetConfig::Off));
    }

    #[test]
    fn static_address() {
        let c = parse(&[("ip", "10.0.2.15/24"), ("gateway", "10.0.2.2"), ("dns", "10.0.2.3")]).unwrap();
        let NetConfig::Static(s) = c else { panic!("{c:?}") };
        assert_eq!(s.address, Ipv4Cidr { addr: Ipv4Addr::new(10, 0, 2, 15), prefix: 24 });
        assert_eq!(s.gateway, Some(Ipv4Addr::new(10, 0, 2, 2)));
        assert_eq!(s.dns, Some(Ipv4Addr::new(10, 0, 2, 3)));
        assert_eq!(s.address.to_string(), "10.0.2.15/24");
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(parse(&[("ip", "10.0.2.300")]).unwrap_err().contains("10.0.2.300"));
        assert!(parse(&[("ip", "10.0.2.1/33")]).unwrap_err().contains("prefix"));
        assert!(parse(&[("ip", "10.0.2.15/24"), ("gateway", "10.0.3.1")]).unwrap_err().contains("outside"));
        assert!(parse(&[("gateway", "10.0.2.2")]).unwrap_err().contains("ip="));
        assert!(parse(&[("net", "maybe")]).unwrap_err().contains("maybe"));
        assert!(parse(&[("ip", "10.0.2.15"), ("dns", "x")]).unwrap_err().contains("dns"));
    }

    #[test]
    fn network_membership() {
        let n = Ipv4Cidr::parse("192.168.1.7/24").unwrap();
        assert!(n.contains(Ipv4Addr::new(192, 168, 1, 1)));
        assert!(!n.contains(Ipv4Addr::new(192, 168, 2, 1)));
        assert!(Ipv4Cidr::parse("0.0.0.0/0").unwrap().contains(Ipv4Addr::new(8, 8, 8, 8)));
    }
}
