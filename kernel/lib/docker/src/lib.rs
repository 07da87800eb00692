//! The parts of berth's Docker Engine API agent that are plain logic, kept apart from
//! the kernel so they are tested on the host: HTTP/1.1 framing, routing a request to an
//! endpoint, the JSON bodies, Docker's naming and lookup rules, the multiplexed stream
//! format, the time texts of `docker ps`, signal names, and the Prometheus text format
//! of `/metrics`.
//!
//! What the real docker CLI sends and needs is recorded in the project's notes on the
//! Docker API; each module says which part it covers.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod api;
#[cfg(test)]
mod cli_tests;
pub mod detach;
pub mod frames;
pub mod http;
pub mod metrics;
pub mod names;
pub mod route;
pub mod signal;
pub mod time;

pub use names::Lookup;
pub use route::{Route, route};
