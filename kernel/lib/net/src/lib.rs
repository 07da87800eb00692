//! The parts of berth's networking that are plain logic, kept apart from the kernel so
//! they are tested on the host: reading the address configuration from the kernel
//! command line, reading published-port specifications (`8080:80/tcp`), and handing
//! out port numbers.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod config;
pub mod ports;
pub mod publish;

pub use config::{Ipv4Cidr, NetConfig};
pub use ports::PortSet;
pub use publish::{PortMapping, Protocol};
