//! The parts of berth's networking that are plain logic, kept apart from the kernel so
//! they are tested on the host: reading the address configuration from the kernel
//! command line, reading published-port specifications (`8080:80/tcp`), handing
//! out port numbers and addresses on container networks, and answering the DNS
//! queries of containers on those networks.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod config;
pub mod dns;
pub mod ports;
pub mod publish;
pub mod subnet;

pub use config::{Ipv4Cidr, NetConfig};
pub use ports::PortSet;
pub use publish::{PortMapping, Protocol};
