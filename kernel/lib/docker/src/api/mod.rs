//! The JSON the agent reads and writes, with the Docker Engine API's field names.
//!
//! Incoming types ignore fields they do not know and default every missing one (the
//! CLI leaves many out, and sends `null` for empty lists and maps). Outgoing types
//! carry what the docker CLI 28 reads; the agent fills them in.

mod container;
mod create;
mod events;
mod exec;
mod filters;
mod image;
mod message;
mod mounts;
mod network;
mod path_stat;
mod stats;
mod system;
#[cfg(test)]
mod tests;
mod volume;
#[cfg(test)]
mod volume_tests;

pub use container::{
    ContainerChange, ContainerConfig, ContainerInspect, ContainerState, ContainerSummary, CreateResponse,
    EndpointIpamConfig, EndpointSettings, MountPoint, NetworkSettings, Port, SummaryHostConfig, SummaryNetworkSettings,
    UpdateResponse, WaitError, WaitResponse,
};
pub use create::{
    ContainerCreate, Empty, HostConfig, LogConfig, NetworkingConfig, PortBinding, RestartPolicy, parse_port_key,
    port_key, published_ports,
};
pub use events::{EventActor, EventFilter, EventMessage, event_time};
pub use exec::{ExecCreate, ExecInspect, ExecProcessConfig, ExecStart, TopResponse};
pub use filters::{ContainerFacts, ContainerFilter, filter_args, filter_flag, labels_match};
pub use image::{HistoryItem, ImageConfig, ImageDeleteItem, ImageInspect, ImageSummary, RootFs, reference_filters};
pub use message::{ErrorDetail, ErrorResponse, JsonMessage, ProgressDetail, from_json, json_line, to_json};
pub use mounts::{
    Mount, RequestedMount, RequestedMounts, RequestedTmpfs, TmpfsOptions, VolumeOptions, requested_mounts,
};
pub use network::{
    Ipam, IpamConfig, Network, NetworkConnect, NetworkContainer, NetworkCreate, NetworkCreateResponse,
    NetworkDisconnect, NetworkFacts, NetworkFilter, NetworkPruneReport,
};
pub use path_stat::{PathStat, go_file_mode};
pub use stats::{BlkioStats, CpuStats, CpuUsage, MemoryStats, NetworkStats, PidsStats, Stats, ThrottlingData};
pub use system::{Commit, Component, Info, Platform, Plugins, Runtime, SwarmInfo, Version};
pub use volume::{
    ContainerPruneReport, DiskUsage, Volume, VolumeCreate, VolumeFilter, VolumeList, VolumePruneReport, VolumeUsage,
};
