//! The kernel's base services, the lowest layer above the unsafe one: the tunables
//! ([`param`]), the platform's tables and local APIC ([`platform`]), the clocks and the
//! tick ([`time`]), device interrupts ([`irq`]), random numbers ([`random`]),
//! power-off ([`power`]) and per-CPU event counters ([`counter`]). Nothing here knows of threads, memory accounting or files.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

/// The kernel version, as printed in the boot banner.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Linux release berth reports (`uname`, `/proc`, `docker info`): a version the C
/// libraries accept.
pub const LINUX_RELEASE: &str = "6.1.0-berth";

pub mod counter;
pub mod irq;
pub mod param;
pub mod platform;
pub mod power;
pub mod random;
pub mod time;
