//! Processes and the containers that hold them.
//!
//! `proc` is processes: their threads' user state, signals, `fork`, `exec` and the ELF
//! loader, exit and wait; `futex` their locks' slow path; `container` the containers
//! they live in: pid namespaces, logs, the container's own files (console, terminal,
//! `/dev`, `/proc`), images, layers, `docker save`/`load` archives and registry pulls.
//! A process knows its container and a container starts and ends its processes, so the
//! two share this crate; everything below is another crate that cannot name them.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod container;
pub mod futex;
pub mod proc;

// The layers below, under the names this crate's modules use.
use berth_base::{LINUX_RELEASE, VERSION, param, random, time};
use berth_fs as fs;
use berth_mm as mm;
use berth_mm::uaccess;
use berth_netstack as net;
use berth_sched as sched;
