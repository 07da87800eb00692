//! The answers to `GET /version` and `GET /info`.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// The answer to `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    /// The product (`docker version` prints `Server: NAME`).
    pub platform: Platform,
    /// The server's parts; `docker version` prints each (see
    /// [`Version::with_engine_component`]).
    pub components: Vec<Component>,
    /// The server's version.
    pub version: String,
    /// The newest API version served (`1.50`).
    pub api_version: String,
    /// The oldest API version served.
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    /// The source revision.
    pub git_commit: String,
    /// The compiler (`docker version` prints it as `Go version`).
    pub go_version: String,
    /// `linux`.
    pub os: String,
    /// `amd64`.
    pub arch: String,
    /// The kernel's version.
    pub kernel_version: String,
    /// Whether experimental features are on.
    pub experimental: bool,
    /// When the server was built, RFC 3339.
    pub build_time: String,
}

/// `Platform` of a [`Version`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Platform {
    /// The product's name.
    pub name: String,
}

/// One item of `Components` of a [`Version`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    /// `Engine` for the one `docker version` prints in full.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Details; for `Engine` the CLI reads `ApiVersion`, `MinAPIVersion`, `GoVersion`,
    /// `GitCommit`, `BuildTime`, `Os`, `Arch`, `KernelVersion` and `Experimental`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub details: BTreeMap<String, String>,
}

impl Version {
    /// The same, with `Components` set to one `Engine` component whose details repeat
    /// the top-level fields, which is where `docker version` reads them.
    pub fn with_engine_component(mut self) -> Self {
        let details = [
            ("ApiVersion", &self.api_version),
            ("Arch", &self.arch),
            ("BuildTime", &self.build_time),
            ("GitCommit", &self.git_commit),
            ("GoVersion", &self.go_version),
            ("KernelVersion", &self.kernel_version),
            ("MinAPIVersion", &self.min_api_version),
            ("Os", &self.os),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain([("Experimental".to_string(), self.experimental.to_string())])
        .collect();
        self.components = vec![Component { name: "Engine".to_string(), version: self.version.clone(), details }];
        self
    }
}

/// The answer to `GET /info` (`docker info`). [`Info::default`] has Swarm `inactive`,
/// which keeps `docker info` from printing a swarm section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Info {
    /// The daemon's id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Containers in all.
    pub containers: u64,
    /// Of which running.
    pub containers_running: u64,
    /// Of which paused.
    pub containers_paused: u64,
    /// Of which stopped.
    pub containers_stopped: u64,
    /// Images.
    pub images: u64,
    /// The storage driver (`Storage Driver:`).
    pub driver: String,
    /// Storage driver details as name-value pairs.
    pub driver_status: Vec<[String; 2]>,
    /// Plugins by kind.
    pub plugins: Plugins,
    /// Whether memory limits work.
    pub memory_limit: bool,
    /// Whether swap limits work.
    pub swap_limit: bool,
    /// Whether CFS periods work.
    pub cpu_cfs_period: bool,
    /// Whether CFS quotas work.
    pub cpu_cfs_quota: bool,
    /// Whether CPU shares work.
    #[serde(rename = "CPUShares")]
    pub cpu_shares: bool,
    /// Whether CPU sets work.
    #[serde(rename = "CPUSet")]
    pub cpu_set: bool,
    /// Whether process limits work.
    pub pids_limit: bool,
    /// Whether the out-of-memory killer can be disabled.
    pub oom_kill_disable: bool,
    /// Whether IPv4 forwarding is on.
    #[serde(rename = "IPv4Forwarding")]
    pub ipv4_forwarding: bool,
    /// Whether the daemon is in debug mode.
    pub debug: bool,
    /// Open file descriptors (shown in debug mode).
    pub n_fd: i64,
    /// Goroutines (shown in debug mode).
    pub n_goroutines: i64,
    /// The time now, RFC 3339.
    pub system_time: String,
    /// The log driver (`Logging Driver:`).
    pub logging_driver: String,
    /// The cgroup driver (`Cgroup Driver:`).
    pub cgroup_driver: String,
    /// The cgroup version (`Cgroup Version:`).
    pub cgroup_version: String,
    /// Event listeners.
    pub n_events_listener: i64,
    /// The kernel's version.
    pub kernel_version: String,
    /// The operating system's name.
    pub operating_system: String,
    /// Its version.
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    /// `linux`.
    #[serde(rename = "OSType")]
    pub os_type: String,
    /// `x86_64`.
    pub architecture: String,
    /// The default registry.
    pub index_server_address: String,
    /// CPUs.
    #[serde(rename = "NCPU")]
    pub ncpu: u32,
    /// Memory in bytes (`Total Memory:`).
    pub mem_total: u64,
    /// The root directory.
    pub docker_root_dir: String,
    /// The HTTP proxy.
    pub http_proxy: String,
    /// The HTTPS proxy.
    pub https_proxy: String,
    /// Hosts not proxied.
    pub no_proxy: String,
    /// The host's name.
    pub name: String,
    /// The daemon's labels.
    pub labels: Vec<String>,
    /// Whether this is an experimental build.
    pub experimental_build: bool,
    /// The server's version.
    pub server_version: String,
    /// Runtimes by name (`Runtimes:`, `Default Runtime:`).
    pub runtimes: BTreeMap<String, Runtime>,
    /// The default runtime.
    pub default_runtime: String,
    /// The swarm state.
    pub swarm: SwarmInfo,
    /// Whether containers outlive the daemon.
    pub live_restore_enabled: bool,
    /// The isolation technology (Windows only).
    pub isolation: String,
    /// The init program (`Init Binary:`).
    pub init_binary: String,
    /// containerd's revision.
    pub containerd_commit: Commit,
    /// runc's revision.
    pub runc_commit: Commit,
    /// The init program's revision.
    pub init_commit: Commit,
    /// Security options as `name=seccomp,profile=default`.
    pub security_options: Vec<String>,
    /// Warnings `docker info` prints.
    pub warnings: Vec<String>,
}

/// `Plugins` of an [`Info`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Plugins {
    /// Volume plugins.
    pub volume: Vec<String>,
    /// Network plugins.
    pub network: Vec<String>,
    /// Authorization plugins.
    pub authorization: Vec<String>,
    /// Log drivers.
    pub log: Vec<String>,
}

/// `Swarm` of an [`Info`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SwarmInfo {
    /// This node's id.
    #[serde(rename = "NodeID")]
    pub node_id: String,
    /// This node's address.
    pub node_addr: String,
    /// `inactive` (anything else makes `docker info` print a swarm section).
    pub local_node_state: String,
    /// Whether this node is a manager.
    pub control_available: bool,
    /// A swarm error.
    pub error: String,
    /// Managers (none).
    pub remote_managers: Option<Vec<String>>,
}

impl Default for SwarmInfo {
    fn default() -> Self {
        SwarmInfo {
            node_id: String::new(),
            node_addr: String::new(),
            local_node_state: "inactive".to_string(),
            control_available: false,
            error: String::new(),
            remote_managers: None,
        }
    }
}

/// A component's revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The revision.
    #[serde(rename = "ID")]
    pub id: String,
}

/// One item of `Runtimes` of an [`Info`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runtime {
    /// The runtime's program.
    pub path: String,
}
