//! Published ports: which port of the host reaches which port of a container, as
//! `docker run -p 8080:80` says it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMapping {
    /// The port on the host's address.
    pub host: u16,
    /// The port inside the container.
    pub container: u16,
    /// Which protocol.
    pub protocol: Protocol,
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.host, self.container, self.protocol.name())
    }
}

fn port(s: &str) -> Result<u16, String> {
    s.parse().ok().filter(|&p| p != 0).ok_or_else(|| format!("`{s}` is not a port number (1-65535)"))
}

impl PortMapping {
    /// Parses `HOST:CONTAINER[/tcp|/udp]`, or `PORT[/proto]` for the same port on both.
    pub fn parse(s: &str) -> Result<PortMapping, String> {
        let (ports, protocol) = match s.rsplit_once('/') {
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some((_, other)) => return Err(format!("unknown protocol `{other}` in `{s}`")),
            None => (s, Protocol::Tcp),
        };
        let (host, container) = match ports.split_once(':') {
            Some((h, c)) => (port(h)?, port(c)?),
            None => (port(ports)?, port(ports)?),
        };
        Ok(PortMapping { host, container, protocol })
    }

    /// Parses a comma-separated list, refusing a host port published twice.
    pub fn parse_list(s: &str) -> Result<Vec<PortMapping>, String> {
        let mut list: Vec<PortMapping> = Vec::new();
        for item in s.split(',').filter(|i| !i.is_empty()) {
            let m = PortMapping::parse(item)?;
            if list.iter().any(|o| o.host == m.host && o.protocol == m.protocol) {
                return Err(format!("host port {}/{} is published twice", m.host, m.protocol.name()));
            }
            list.push(m);
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn forms() {
        let m = PortMapping::parse("8080:80").unwrap();
        assert_eq!(m, PortMapping { host: 8080, container: 80, protocol: Protocol::Tcp });
        assert_eq!(PortMapping::parse("53:5353/udp").unwrap().protocol, Protocol::Udp);
        assert_eq!(
            PortMapping::parse("9000").unwrap(),
            PortMapping { host: 9000, container: 9000, protocol: Protocol::Tcp }
        );
        assert_eq!(PortMapping::parse("8080:80/tcp").unwrap().to_string(), "8080:80/tcp");
    }

    #[test]
    fn bad_specs_are_explained() {
        assert!(PortMapping::parse("0:80").unwrap_err().contains("`0`"));
        assert!(PortMapping::parse("70000:80").unwrap_err().contains("70000"));
        assert!(PortMapping::parse("80:80/sctp").unwrap_err().contains("sctp"));
        assert!(PortMapping::parse(":80").is_err());
        assert!(PortMapping::parse_list("8080:80,8080:81").unwrap_err().contains("twice"));
    }

    #[test]
    fn lists() {
        let l = PortMapping::parse_list("8080:80,53:53/udp,53:53/tcp").unwrap();
        assert_eq!(l.len(), 3);
        assert!(PortMapping::parse_list("").unwrap().is_empty());
    }
}
