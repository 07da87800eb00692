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
    /// Volumes to mount, `NAME:/path[:OPTIONS]` (`-v`); see [`requested_mounts`].
    #[serde(deserialize_with = "null_default")]
    pub binds: Vec<String>,
    /// Mounts in the long form (`--mount`).
    #[serde(deserialize_with = "null_default")]
    pub mounts: Vec<Mount>,
    /// The network mode (`default`, `bridge`, `host`, `none`...).
    pub network_mode: String,
    /// The restart policy (`--restart`).
    pub restart_policy: RestartPolicy,
    /// The terminal's initial height and width (`-t`); 0 when unknown.
    pub console_size: [u32; 2],
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

/// One `--mount`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    /// `volume`, `bind`, `tmpfs`...
    #[serde(rename = "Type")]
    pub kind: String,
    /// The volume's name; empty for an anonymous volume.
    pub source: String,
    /// Where it appears in the container.
    pub target: String,
    /// Read-only.
    pub read_only: bool,
    /// Options of a volume mount.
    #[serde(deserialize_with = "null_default")]
    pub volume_options: VolumeOptions,
}

/// `VolumeOptions` of a [`Mount`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    /// Do not fill an empty volume from the image (`volume-nocopy`).
    pub no_copy: bool,
}

/// A volume a create request asks to mount: `source` names it (`None`: a new
/// anonymous one) at the absolute path `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedMount {
    /// The volume's name, or `None` for an anonymous volume.
    pub source: Option<String>,
    /// Where it appears in the container.
    pub target: String,
    /// Leave an empty volume empty, rather than filling it from what the image has at
    /// `target` (`nocopy`).
    pub no_copy: bool,
    /// Read-only in the container (`:ro`, `readonly`).
    pub read_only: bool,
}

/// The volumes a create request mounts, from `-v NAME:/path[:OPTIONS]` (`Binds`),
/// `--mount type=volume` (`Mounts`), then the paths that get anonymous volumes
/// (`Config.Volumes` and the image's `VOLUME`s, in `anonymous`) where nothing else is
/// mounted. Refused, saying why: host paths (`-v /host:/path`, `type=bind`; berth
/// has no host file system to share), `tmpfs` mounts (not yet), relative or root
/// targets, and two mounts on one path.
pub fn requested_mounts<'a>(
    host: &HostConfig,
    anonymous: impl IntoIterator<Item = &'a String>,
) -> Result<Vec<RequestedMount>, String> {
    let mut out: Vec<RequestedMount> = Vec::new();
    let add = |out: &mut Vec<RequestedMount>, source: Option<String>, target: &str, no_copy: bool, read_only: bool| {
        let target = clean_target(target)?;
        if out.iter().any(|m| m.target == target) {
            return Err(format!("Duplicate mount point: {target}"));
        }
        out.push(RequestedMount { source, target, no_copy, read_only });
        Ok(())
    };
    for bind in &host.binds {
        let mut parts = bind.split(':');
        let (source, target) = match (parts.next(), parts.next()) {
            (Some(s), Some(t)) if !s.is_empty() && !t.is_empty() => (s, t),
            _ => return Err(format!("invalid volume specification: '{bind}'")),
        };
        let (mut no_copy, mut read_only) = (false, false);
        if let Some(options) = parts.next() {
            for option in options.split(',') {
                match option {
                    "nocopy" => no_copy = true,
                    "ro" => read_only = true,
                    "rw" | "z" | "Z" | "" => {}
                    other => return Err(format!("invalid mode: {other}")),
                }
            }
        }
        if parts.next().is_some() {
            return Err(format!("invalid volume specification: '{bind}'"));
        }
        if source.starts_with('/') || source.starts_with('.') {
            return Err(format!(
                "{bind}: berth has no host file system to bind-mount from; use a named volume (NAME:{target})"
            ));
        }
        add(&mut out, Some(String::from(source)), target, no_copy, read_only)?;
    }
    for m in &host.mounts {
        match m.kind.as_str() {
            "volume" => {}
            "bind" => {
                return Err(format!(
                    "mount {}: berth has no host file system to bind-mount from; use type=volume",
                    m.target
                ));
            }
            other => return Err(format!("mount {}: mounts of type {other} are not supported by berth", m.target)),
        }
        let source = (!m.source.is_empty()).then(|| m.source.clone());
        add(&mut out, source, &m.target, m.volume_options.no_copy, m.read_only)?;
    }
    for path in anonymous {
        let target = clean_target(path)?;
        if !out.iter().any(|m| m.target == target) {
            out.push(RequestedMount { source: None, target, no_copy: false, read_only: false });
        }
    }
    Ok(out)
}

/// `target` as an absolute path without `.`, empty parts or a trailing `/`; `..` and
/// the root itself are refused.
fn clean_target(target: &str) -> Result<String, String> {
    if !target.starts_with('/') {
        return Err(format!("invalid mount config: mount path must be absolute: {target}"));
    }
    if target.chars().any(char::is_control) {
        return Err(format!("invalid mount config: mount path has a control character: {target:?}"));
    }
    let mut clean = String::new();
    for part in target.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return Err(format!("invalid mount config: mount path must not contain '..': {target}"));
        }
        clean.push('/');
        clean.push_str(part);
    }
    if clean.is_empty() {
        return Err(String::from("invalid specification: destination can't be '/'"));
    }
    Ok(clean)
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
