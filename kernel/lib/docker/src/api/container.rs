//! What the container endpoints answer: create, wait, list and inspect.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{Empty, HostConfig, PortBinding};

/// The answer to `POST /containers/create` (status 201).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    /// The new container's full id.
    pub id: String,
    /// Warnings the CLI prints.
    pub warnings: Vec<String>,
}

/// The answer to `POST /containers/{id}/update`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateResponse {
    /// Warnings the CLI prints.
    pub warnings: Vec<String>,
}

/// The body of `POST /containers/{id}/wait` once the condition is met.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResponse {
    /// The exit status (`docker run` exits with it).
    pub status_code: i64,
    /// Why waiting failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WaitError>,
}

/// One item of `GET /containers/{id}/changes` (a line of `docker diff`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerChange {
    /// The path, from the container's root.
    pub path: String,
    /// 0 changed, 1 added, 2 deleted.
    pub kind: u8,
}

/// `WaitResponse.Error`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitError {
    /// What went wrong.
    pub message: String,
}

/// One item of `GET /containers/json` (a row of `docker ps`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// The full id (the CLI shows 12 characters).
    pub id: String,
    /// The names, each with a leading `/`.
    pub names: Vec<String>,
    /// The image as the container was created from it (`img:tag`).
    pub image: String,
    /// The image's id (`sha256:...`).
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// The command line, words joined by spaces.
    pub command: String,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// Exposed and published ports.
    pub ports: Vec<Port>,
    /// Bytes written by the container (only with `size=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Bytes of the whole file system (only with `size=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `exited`...
    pub state: String,
    /// The status column (see [`crate::time::status_text`]).
    pub status: String,
    /// The network mode.
    pub host_config: SummaryHostConfig,
    /// The networks it is on.
    pub network_settings: SummaryNetworkSettings,
    /// Its volumes.
    pub mounts: Vec<MountPoint>,
}

/// One port of a [`ContainerSummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    /// The host address it is published on (`0.0.0.0`), if published.
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The container's port.
    pub private_port: u16,
    /// The host port, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// `tcp` or `udp`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// `HostConfig` of a [`ContainerSummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    /// The network mode (`default`).
    pub network_mode: String,
}

/// `NetworkSettings` of a [`ContainerSummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworkSettings {
    /// The networks by name.
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// A container's place on one network (also what a client asks for in
/// `NetworkingConfig.EndpointsConfig` and `POST /networks/{id}/connect`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSettings {
    /// The address asked for (`--ip`); `null` if none was.
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// More names other containers on the network find it by (`--network-alias`).
    #[serde(deserialize_with = "berth_json::null_default")]
    pub aliases: Vec<String>,
    /// Options for the network's driver, kept and shown.
    #[serde(deserialize_with = "berth_json::null_default")]
    pub driver_opts: BTreeMap<String, String>,
    /// Every name the network's resolver gives its address for.
    #[serde(rename = "DNSNames", deserialize_with = "berth_json::null_default")]
    pub dns_names: Vec<String>,
    /// The network's id.
    #[serde(rename = "NetworkID", deserialize_with = "berth_json::null_default")]
    pub network_id: String,
    /// The endpoint's id.
    #[serde(rename = "EndpointID", deserialize_with = "berth_json::null_default")]
    pub endpoint_id: String,
    /// The gateway address.
    #[serde(deserialize_with = "berth_json::null_default")]
    pub gateway: String,
    /// The container's address.
    #[serde(rename = "IPAddress", deserialize_with = "berth_json::null_default")]
    pub ip_address: String,
    /// The prefix length of that address.
    #[serde(rename = "IPPrefixLen", deserialize_with = "berth_json::null_default")]
    pub ip_prefix_len: u8,
    /// The MAC address.
    #[serde(deserialize_with = "berth_json::null_default")]
    pub mac_address: String,
}

/// `IPAMConfig` of an [`EndpointSettings`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointIpamConfig {
    /// The IPv4 address asked for.
    #[serde(rename = "IPv4Address", deserialize_with = "berth_json::null_default")]
    pub ipv4_address: String,
}

/// The answer to `GET /containers/{id}/json` (`docker inspect`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    /// The full id.
    pub id: String,
    /// Creation time, RFC 3339 (see [`crate::time::rfc3339`]).
    pub created: String,
    /// The program run.
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The run state.
    pub state: ContainerState,
    /// The image's id (`sha256:...`).
    pub image: String,
    /// Path of the container's `resolv.conf` (informational).
    pub resolv_conf_path: String,
    /// Path of its `hostname` file.
    pub hostname_path: String,
    /// Path of its `hosts` file.
    pub hosts_path: String,
    /// Path of its log.
    pub log_path: String,
    /// The name with a leading `/`.
    pub name: String,
    /// Times it was restarted.
    pub restart_count: i64,
    /// The storage driver.
    pub driver: String,
    /// `linux`.
    pub platform: String,
    /// The SELinux mount label (empty).
    pub mount_label: String,
    /// The SELinux process label (empty).
    pub process_label: String,
    /// The AppArmor profile (empty).
    pub app_armor_profile: String,
    /// Exec sessions (none).
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    /// The host settings it was created with.
    pub host_config: HostConfig,
    /// Its volumes.
    pub mounts: Vec<MountPoint>,
    /// The configuration it was created with.
    pub config: ContainerConfig,
    /// Addresses and published ports.
    pub network_settings: NetworkSettings,
}

/// A volume mounted in a container, as `Mounts` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `volume`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The volume's name.
    pub name: String,
    /// The volume's nominal place on the host (see [`super::Volume::mountpoint`]).
    pub source: String,
    /// Where it appears in the container.
    pub destination: String,
    /// `local`.
    pub driver: String,
    /// Mount options as given (empty).
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Mount propagation (empty).
    pub propagation: String,
}

/// `State` of a [`ContainerInspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub status: String,
    /// Whether it runs.
    pub running: bool,
    /// Whether it is paused.
    pub paused: bool,
    /// Whether it is restarting.
    pub restarting: bool,
    /// Whether it was killed for running out of memory.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Whether it is dead (failed to be removed).
    pub dead: bool,
    /// The main process's id, 0 when not running.
    pub pid: i64,
    /// The last exit status.
    pub exit_code: i64,
    /// Why it failed to start, if it did.
    pub error: String,
    /// When it last started, RFC 3339 (zero time if never).
    pub started_at: String,
    /// When it last ended, RFC 3339 (zero time if never).
    pub finished_at: String,
}

/// `Config` of a [`ContainerInspect`]: see [`ContainerCreate`](super::ContainerCreate)
/// for each field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The host name.
    pub hostname: String,
    /// The domain name.
    pub domainname: String,
    /// The user.
    pub user: String,
    /// Attach standard input.
    pub attach_stdin: bool,
    /// Attach standard output.
    pub attach_stdout: bool,
    /// Attach standard error.
    pub attach_stderr: bool,
    /// Exposed ports.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// Whether it has a terminal (`docker logs` and `attach` read this).
    pub tty: bool,
    /// Whether standard input stays open.
    pub open_stdin: bool,
    /// Whether standard input closes after one client.
    pub stdin_once: bool,
    /// The environment.
    pub env: Vec<String>,
    /// The command.
    pub cmd: Option<Vec<String>>,
    /// The image as given.
    pub image: String,
    /// The working directory.
    pub working_dir: String,
    /// The entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// The stop signal.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub stop_signal: String,
    /// Seconds `docker stop` waits before SIGKILL, if set at create.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stop_timeout: Option<i64>,
}

/// `NetworkSettings` of a [`ContainerInspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// The bridge (empty).
    pub bridge: String,
    /// The sandbox's id.
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    /// Each exposed port (`80/tcp`) and where it is published, or `null` if it is not
    /// (`docker port` reads this).
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    /// The container's address.
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// The prefix length of that address.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    /// The gateway.
    pub gateway: String,
    /// The MAC address.
    pub mac_address: String,
    /// The networks by name.
    pub networks: BTreeMap<String, EndpointSettings>,
}
