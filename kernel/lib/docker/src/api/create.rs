//! `POST /containers/create`: the container's configuration and its host settings, and
//! reading its published ports.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use berth_json::{null_default, string_or_list};

pub use berth_json::Empty;

/// The body of `POST /containers/create` (Docker's `Config` with `HostConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreate {
    /// The image reference, as typed (`img:tag`, `busybox`, an id).
    pub image: String,
    /// The command; `None` means the image's. A JSON string is one element.
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    /// The entrypoint; `None` means the image's, `[""]` means none. A JSON string is one
    /// element.
    #[serde(deserialize_with = "string_or_list")]
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=value` environment entries.
    #[serde(deserialize_with = "null_default")]
    pub env: Vec<String>,
    /// The working directory; empty means the image's.
    pub working_dir: String,
    /// The host name; empty means the short id.
    pub hostname: String,
    /// The domain name.
    pub domainname: String,
    /// The user to run as; empty means the image's.
    pub user: String,
    /// Whether the container gets a terminal (`-t`).
    pub tty: bool,
    /// Whether standard input stays open (`-i`).
    pub open_stdin: bool,
    /// Whether standard input closes after the first attached client leaves.
    pub stdin_once: bool,
    /// Whether the client will attach to standard input.
    pub attach_stdin: bool,
    /// Whether the client will attach to standard output.
    pub attach_stdout: bool,
    /// Whether the client will attach to standard error.
    pub attach_stderr: bool,
    /// Ports the container listens on, as `80/tcp` keys.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// Labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    /// The signal that stops it (`--stop-signal`); empty means SIGTERM.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// Seconds to wait after the stop signal before SIGKILL (`--stop-timeout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// Paths that get an anonymous volume each (`-v /path`), as `{"/path": {}}`.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Empty>,
    /// Settings of the host side: limits, published ports, removal.
    #[serde(deserialize_with = "null_default")]
    pub host_config: HostConfig,
    /// The networks to put it on, beyond `HostConfig.NetworkMode`, with its aliases.
    #[serde(deserialize_with = "null_default")]
    pub networking_config: NetworkingConfig,
}

/// `NetworkingConfig` of a [`ContainerCreate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    /// Each network (by name or id) and the container's settings there.
    #[serde(deserialize_with = "null_default")]
    pub endpoints_config: BTreeMap<String, super::EndpointSettings>,
}

/// `HostConfig`: what the host provides the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// Memory limit in bytes; 0 means none (`-m`).
    pub memory: i64,
    /// CPU share in billionths of a CPU (`--cpus 0.5` is 500000000).
    pub nano_cpus: i64,
    /// Weight against other containers when the CPU is contended (`--cpu-shares`);
    /// 0 means the default, 1024.
    pub cpu_shares: i64,
    /// CPU time allowed per period, in microseconds (`--cpu-quota`).
    pub cpu_quota: i64,
    /// The CPU period, in microseconds (`--cpu-period`).
    pub cpu_period: i64,
    /// The CPUs the container may use (`--cpuset-cpus`: `0-3`, `0,2`); empty for all.
    pub cpuset_cpus: String,
    /// Most processes and threads; `None`, 0 or -1 mean no limit (`--pids-limit`).
    pub pids_limit: Option<i64>,
    /// Published ports: `80/tcp` to the host ports that reach it (`-p`).
    #[serde(deserialize_with = "null_default")]
    pub port_bindings: BTreeMap<String, Option<Vec<PortBinding>>>,
    /// Remove the container when it exits (`--rm`).
    pub auto_remove: bool,
    /// Publish every exposed port on a free host port (`-P`).
    pub publish_all_ports: bool,
    /// Volumes to mount, `NAME:/path[:OPTIONS]` (`-v`); see [`super::requested_mounts`].
    #[serde(deserialize_with = "null_default")]
    pub binds: Vec<String>,
    /// Mounts in the long form (`--mount`).
    #[serde(deserialize_with = "null_default")]
    pub mounts: Vec<super::Mount>,
    /// Tmpfs file systems (`--tmpfs PATH[:OPTIONS]`): path to options.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub tmpfs: BTreeMap<String, String>,
    /// The network mode (`default`, `bridge`, `host`, `none`...).
    pub network_mode: String,
    /// The restart policy (`--restart`).
    pub restart_policy: RestartPolicy,
    /// More groups for its processes (`--group-add`: numbers or group names).
    #[serde(deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// The terminal's initial height and width (`-t`); 0 when unknown.
    pub console_size: [u32; 2],
    /// Run an init process as its first process (`--init`); kept and shown (berth's
    /// containers' first process reaps orphans the way an init does).
    pub init: Option<bool>,
    /// The runtime (`--runtime`); `runc`, the only one, is what is shown.
    pub runtime: String,
    /// UTS namespace mode (`--uts`); kept and shown.
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    /// Isolation technology (Windows'); kept and shown.
    pub isolation: String,
    /// Cgroup namespace mode (`--cgroupns`); kept and shown.
    pub cgroupns_mode: String,
    /// How readily its memory is swapped (`--memory-swappiness`); kept and shown.
    pub memory_swappiness: Option<i64>,
    /// Memory plus swap (`--memory-swap`); kept and shown (berth does not swap).
    pub memory_swap: i64,
    /// Memory soft limit (`--memory-reservation`); kept and shown.
    pub memory_reservation: i64,
    /// Where its output goes (`--log-driver`). berth keeps it in the kernel and says
    /// `json-file`, Docker's default, as clients read that as "`docker logs` works"
    /// (docker-py fetches a container's output only for it); there is no JSON file.
    #[serde(deserialize_with = "null_default")]
    pub log_config: LogConfig,
}

/// `LogConfig` of a [`HostConfig`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    /// The log driver's name.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Its options.
    #[serde(deserialize_with = "null_default")]
    pub config: BTreeMap<String, String>,
}

/// `RestartPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `no` (or empty), `always`, `unless-stopped` or `on-failure`.
    pub name: String,
    /// Most restarts for `on-failure`.
    pub maximum_retry_count: i64,
}

/// One host address and port a container port is published on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    /// The host address; empty for all.
    pub host_ip: String,
    /// The host port as a decimal string; empty means "any free port".
    pub host_port: String,
}

impl ContainerCreate {
    /// The configuration part, as `GET /containers/{id}/json` shows it in `Config`.
    pub fn config(&self) -> super::ContainerConfig {
        super::ContainerConfig {
            hostname: self.hostname.clone(),
            domainname: self.domainname.clone(),
            user: self.user.clone(),
            attach_stdin: self.attach_stdin,
            attach_stdout: self.attach_stdout,
            attach_stderr: self.attach_stderr,
            exposed_ports: self.exposed_ports.clone(),
            tty: self.tty,
            open_stdin: self.open_stdin,
            stdin_once: self.stdin_once,
            env: self.env.clone(),
            cmd: self.cmd.clone(),
            image: self.image.clone(),
            working_dir: self.working_dir.clone(),
            entrypoint: self.entrypoint.clone(),
            labels: self.labels.clone(),
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
        }
    }
}

/// A port key as the Engine API writes it: `80/tcp`.
pub fn port_key(port: u16, proto: &str) -> String {
    format!("{port}/{proto}")
}

/// Reads a port key (`80/tcp`, `53/udp`, `132/sctp`; a bare `80` is TCP). `None` for
/// port 0, a range (`8000-8010/tcp`) or another protocol.
pub fn parse_port_key(key: &str) -> Option<(u16, &str)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return None;
    }
    Some((decimal_port(port)?, proto))
}

/// A port number 1-65535 in plain decimal digits.
fn decimal_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&p| p != 0)
}

/// The ports to publish, as `(host port, container port, "tcp" | "udp")` in port-key
/// order, from `PortBindings`.
///
/// berth publishes a port on all of the machine's addresses and does not pick free ports
/// itself, so this refuses an empty `HostPort` (`-p 80` or `-P`: "HostPort must be
/// given"), a host address other than all (`0.0.0.0`, `::` or empty), and host port
/// ranges; also a host port published twice, SCTP, and malformed keys or ports. A key
/// with no bindings (`null` or `[]`) publishes nothing.
pub fn published_ports(host: &HostConfig) -> Result<Vec<(u16, u16, &'static str)>, String> {
    if host.publish_all_ports {
        return Err(String::from(
            "publishing all ports (-P) needs free host ports chosen, which berth does not do: \
             publish each port with -p HOST:CONTAINER",
        ));
    }
    let mut out: Vec<(u16, u16, &'static str)> = Vec::new();
    for (key, bindings) in &host.port_bindings {
        let Some((container, proto)) = parse_port_key(key) else {
            return Err(format!("invalid container port `{key}`"));
        };
        let proto = match proto {
            "tcp" => "tcp",
            "udp" => "udp",
            other => return Err(format!("protocol {other} is not supported (only tcp and udp are)")),
        };
        for binding in bindings.iter().flatten() {
            if !matches!(binding.host_ip.as_str(), "" | "0.0.0.0" | "::") {
                return Err(format!(
                    "publishing on the address {} is not supported: berth publishes ports on all of \
                     the machine's addresses",
                    binding.host_ip
                ));
            }
            if binding.host_port.is_empty() {
                return Err(format!(
                    "HostPort must be given for {key}: berth does not choose free host ports \
                     (publish it with -p HOST:{container})"
                ));
            }
            let Some(host_port) = decimal_port(&binding.host_port) else {
                return Err(format!("invalid host port `{}` for {key} (1-65535, no ranges)", binding.host_port));
            };
            if out.iter().any(|&(h, _, p)| h == host_port && p == proto) {
                return Err(format!("host port {host_port}/{proto} is published twice"));
            }
            out.push((host_port, container, proto));
        }
    }
    Ok(out)
}
