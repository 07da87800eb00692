//! The QEMU test harness and berth's integration tests.
//!
//! [`qemu`] knows how to start berth in QEMU (the one place QEMU's flags live; `cargo
//! xtask run` and `bench` use it too) and read its serial console with deadlines.
//! [`cases`] holds the tests, [`runner`] runs them in parallel and reports.
//! [`netserver`] is the host end of the socket checks in [`netprobe`]; [`http`] is the
//! HTTP client the network tests and benchmarks use.

pub mod artifacts;
pub mod cases;
pub mod docker;
pub mod http;
pub mod netprobe;
pub mod netserver;
pub mod qemu;
pub mod registry;
pub mod runner;
pub mod terminal;
