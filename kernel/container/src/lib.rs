//! Containers: a sandbox of processes with a life cycle, a configuration and an image.
//!
//! `container` is the container itself (create, start, finish, remove; the watchdog
//! that ends those whose time is up); `registry` finds containers by id and name;
//! `setup` gives a new one its `/dev`, `/proc`, `/tmp` and host name files; `images`,
//! `layers`, `archive` and `pull` are the images containers are made from (stored
//! layers, `docker save`/`load` archives, registry pulls); `boot` starts the images
//! and containers the boot loader hands over; `volumes` are trees of files that
//! outlive containers (`paged_store`: how they and containers' writable layers are
//! paged to the store); `networks` say which containers reach each other, and by
//! what names. What a container's processes share is the `sandbox` of the
//! crate below; a container owns one and hears of its first process's exit through
//! `SandboxOwner`.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod archive;
pub mod boot;
mod container;
mod error;
pub mod events;
pub mod images;
pub mod layers;
pub mod networks;
mod paged_store;
pub mod pull;
pub mod registry;
mod setup;
pub mod store;
mod tmpfs;
mod volume_store;
pub mod volumes;

pub use berth_config::{
    ContainerConfig, Echo, Ending, NetworkRequest, RestartPolicy, TmpfsMount, VolumeMount, format_cpuset, parse_cpuset,
    parse_module_cmdline, parse_size,
};
pub use container::{Container, Rootfs, Status, watchdog};
pub use error::ContainerError;

// The layers below, under the names this crate's modules use.
use berth_base::{param, random, time};
use berth_fs as fs;
use berth_mm as mm;
use berth_netstack as net;
use berth_proc::{proc, sandbox};
use berth_sched as sched;
