//! Processes and the sandboxes they live in.
//!
//! `proc` is processes: their threads' user state, signals, `fork`, `exec` and the ELF
//! loader, exit and wait; `futex` their locks' slow path; `sandbox` what a container's
//! processes share: file system, memory counter, port space, pid namespace, log and
//! their own files (console, terminal, `/dev`, `/proc`). Containers (life cycle,
//! configuration, images) are the crate above, which owns sandboxes and hears of their
//! first process's exit through a hook; nothing here can name it.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod futex;
pub mod proc;
pub mod sandbox;

// The layers below, under the names this crate's modules use.
use berth_base::{LINUX_RELEASE, VERSION, param, random, time};
use berth_fs as fs;
use berth_mm as mm;
use berth_mm::uaccess;
use berth_netstack as net;
use berth_sched as sched;
