//! How containers and images look in Docker's JSON: `ps` rows, `inspect` documents,
//! `images` rows.

use super::lookup::image_of;
use crate::container::images::StoredImage;
use crate::container::{Container, Status};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::time::{ZERO_TIME, rfc3339, status_text};
use berth_net::{PortMapping, Protocol};
use spin::Mutex;

fn proto(p: Protocol) -> &'static str {
    p.name()
}

/// Docker's `State` word.
pub fn state_word(c: &Container) -> &'static str {
    match c.status() {
        Status::Created => "created",
        Status::Running if c.sandbox.is_frozen() => "paused",
        Status::Running => "running",
        Status::Exited(_) if c.restart_planned() => "restarting",
        Status::Exited(_) => "exited",
    }
}

/// The `Status` column: `Up 5 seconds`, `Exited (0) 3 minutes ago`, `Created`.
fn status_column(c: &Container) -> String {
    let now = crate::time::realtime_ns();
    let (started, finished) = c.times();
    match c.status() {
        Status::Created => status_text(false, 0, 0, 0, true),
        Status::Running if c.sandbox.is_frozen() => {
            format!("{} (Paused)", status_text(true, now.saturating_sub(started), 0, 0, false))
        }
        Status::Running => status_text(true, now.saturating_sub(started), 0, 0, false),
        Status::Exited(code) => status_text(false, 0, i64::from(code), now.saturating_sub(finished), false),
    }
}

/// The command as `ps` shows it.
fn command(c: &Container) -> String {
    c.config.cmd.join(" ")
}

/// The `sha256:` id of the image a container was made from ("" if it is gone).
fn image_id(c: &Container) -> String {
    image_of(c).map(|i| format!("sha256:{}", i.id)).unwrap_or_default()
}

fn published(c: &Container) -> &[PortMapping] {
    &c.config.publish
}

/// The ports `ps` lists: published ones with their machine port (while it runs, as
/// its ports are freed when it ends), exposed ones without.
fn ports(c: &Container) -> Vec<api::Port> {
    let running = c.status() == Status::Running;
    let mut out: Vec<api::Port> = published(c)
        .iter()
        .filter(|_| running)
        .map(|m| api::Port {
            ip: Some(String::from("0.0.0.0")),
            private_port: m.container,
            public_port: Some(m.host),
            kind: String::from(proto(m.protocol)),
        })
        .collect();
    for key in &c.config.exposed_ports {
        if let Some((port, kind)) = api::parse_port_key(key)
            && !out.iter().any(|p| p.private_port == port && p.kind == kind)
        {
            out.push(api::Port { ip: None, private_port: port, public_port: None, kind: String::from(kind) });
        }
    }
    out
}

fn labels(c: &Container) -> BTreeMap<String, String> {
    c.config.labels.iter().cloned().collect()
}

/// A `docker ps` row.
pub fn summary(c: &Container) -> api::ContainerSummary {
    api::ContainerSummary {
        id: c.id.clone(),
        names: vec![format!("/{}", c.name())],
        image: c.config.image_name.clone(),
        image_id: image_id(c),
        command: command(c),
        created: (c.created_at / 1_000_000_000) as i64,
        ports: ports(c),
        labels: labels(c),
        state: String::from(state_word(c)),
        status: status_column(c),
        host_config: api::SummaryHostConfig { network_mode: super::networks::mode(c) },
        network_settings: api::SummaryNetworkSettings { networks: super::networks::endpoints(c) },
        mounts: mounts(c),
        ..api::ContainerSummary::default()
    }
}

/// `NetworkSettings.Ports`: every exposed or published port, with its bindings.
fn port_bindings(c: &Container) -> BTreeMap<String, Option<Vec<api::PortBinding>>> {
    let mut map: BTreeMap<String, Option<Vec<api::PortBinding>>> =
        c.config.exposed_ports.iter().map(|k| (k.clone(), None)).collect();
    for m in published(c) {
        let binding = api::PortBinding { host_ip: String::from("0.0.0.0"), host_port: format!("{}", m.host) };
        map.entry(api::port_key(m.container, proto(m.protocol)))
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    map
}

/// Its volumes and tmpfs file systems, as `Mounts` lists them.
fn mounts(c: &Container) -> Vec<api::MountPoint> {
    let volumes = c.config.volumes.iter().map(|m| api::MountPoint {
        kind: String::from("volume"),
        name: m.volume.clone(),
        source: api::Volume::mountpoint(&m.volume),
        destination: m.target.clone(),
        driver: String::from("local"),
        mode: String::from(if m.read_only { "ro" } else { "" }),
        rw: !m.read_only,
        propagation: String::new(),
    });
    let tmpfs = c.config.tmpfs.iter().map(|t| api::MountPoint {
        kind: String::from("tmpfs"),
        destination: t.target.clone(),
        rw: !t.read_only,
        ..api::MountPoint::default()
    });
    volumes.chain(tmpfs).collect()
}

/// `HostConfig.Tmpfs`: each tmpfs's options, as `--tmpfs` takes them.
fn tmpfs_options(c: &Container) -> BTreeMap<String, String> {
    c.config
        .tmpfs
        .iter()
        .map(|t| {
            let mut options = format!("{},mode={:o}", if t.read_only { "ro" } else { "rw" }, t.mode);
            if t.size > 0 {
                options.push_str(&format!(",size={}", t.size));
            }
            (t.target.clone(), options)
        })
        .collect()
}

/// The `HostConfig` each container was created with, by id: what `docker inspect`
/// shows back of what berth keeps without acting on it (`Init`, `UTSMode`,
/// `Runtime`, log options, tmpfs options as written, the CPU set as written).
static ASKED: Mutex<BTreeMap<String, api::HostConfig>> = Mutex::new(BTreeMap::new());

/// Records the `HostConfig` container `id` was created with (at create, and when
/// the store brings it back), forgetting those of removed containers.
pub fn note_asked(id: &str, host: &api::HostConfig) {
    let live = crate::container::registry::list();
    let mut asked = ASKED.lock();
    asked.insert(String::from(id), host.clone());
    // Removed containers' entries go now and then, not at every create (a boot
    // restoring many containers would go over all of them each time).
    if asked.len() > 2 * live.len() + 16 {
        asked.retain(|k, _| live.iter().any(|c| &c.id == k));
    }
}

/// The `HostConfig` fields shown as they were asked for.
fn as_asked(c: &Container) -> api::HostConfig {
    let asked = ASKED.lock().get(&c.id).cloned().unwrap_or_default();
    let log_config = api::LogConfig {
        kind: if asked.log_config.kind.is_empty() { String::from("json-file") } else { asked.log_config.kind.clone() },
        config: asked.log_config.config.clone(),
    };
    api::HostConfig {
        init: asked.init,
        runtime: if asked.runtime.is_empty() { String::from("runc") } else { asked.runtime.clone() },
        uts_mode: asked.uts_mode.clone(),
        isolation: asked.isolation.clone(),
        cgroupns_mode: asked.cgroupns_mode.clone(),
        memory_swappiness: asked.memory_swappiness,
        memory_swap: asked.memory_swap,
        memory_reservation: asked.memory_reservation,
        log_config,
        tmpfs: asked.tmpfs.clone(),
        cpuset_cpus: asked.cpuset_cpus.clone(),
        ..api::HostConfig::default()
    }
}

/// The `docker inspect` document of a container.
pub fn container(c: &Container) -> api::ContainerInspect {
    let (started, finished) = c.times();
    let time = |ns: u64| if ns == 0 { String::from(ZERO_TIME) } else { rfc3339(ns) };
    let (running, exit_code) = match c.status() {
        Status::Running => (true, 0),
        Status::Exited(code) => (false, i64::from(code)),
        Status::Created => (false, 0),
    };
    let entry = c.config.entrypoint_len.min(c.config.cmd.len());
    let (entrypoint, args) = c.config.cmd.split_at(entry);
    let asked = as_asked(c);
    let mut host_config = api::HostConfig {
        memory: if c.config.limits.memory == u64::MAX { 0 } else { c.config.limits.memory as i64 },
        nano_cpus: i64::from(c.config.limits.cpu_millis) * 1_000_000,
        cpuset_cpus: match asked.cpuset_cpus.as_str() {
            "" => crate::container::format_cpuset(c.config.limits.cpuset),
            written => String::from(written),
        },
        // Docker shows 0 for the default share.
        cpu_shares: match c.config.limits.cpu_shares {
            crate::sched::DEFAULT_WEIGHT => 0,
            shares => i64::from(shares),
        },
        pids_limit: Some(i64::from(c.config.limits.pids)),
        auto_remove: c.config.auto_remove,
        network_mode: super::networks::mode(c),
        restart_policy: api::RestartPolicy {
            name: String::from(c.restart_policy().name()),
            maximum_retry_count: i64::from(c.restart_policy().max_retries()),
        },
        binds: c
            .config
            .volumes
            .iter()
            .filter(|m| !m.anonymous)
            .map(|m| format!("{}:{}{}", m.volume, m.target, if m.read_only { ":ro" } else { "" }))
            .collect(),
        tmpfs: if asked.tmpfs.is_empty() { tmpfs_options(c) } else { asked.tmpfs.clone() },
        group_add: c.config.group_add.clone(),
        ..asked
    };
    for m in published(c) {
        let binding = api::PortBinding { host_ip: String::new(), host_port: format!("{}", m.host) };
        host_config
            .port_bindings
            .entry(api::port_key(m.container, proto(m.protocol)))
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    api::ContainerInspect {
        id: c.id.clone(),
        created: rfc3339(c.created_at),
        path: c.config.cmd.first().cloned().unwrap_or_default(),
        args: c.config.cmd.iter().skip(1).cloned().collect(),
        state: api::ContainerState {
            status: String::from(state_word(c)),
            running,
            paused: running && c.sandbox.is_frozen(),
            restarting: c.restart_planned(),
            oom_killed: c.sandbox.oom_killed(),
            pid: if running { c.sandbox.init().map_or(0, |p| i64::from(p.pid)) } else { 0 },
            exit_code,
            started_at: time(started),
            finished_at: time(finished),
            ..api::ContainerState::default()
        },
        image: image_id(c),
        name: format!("/{}", c.name()),
        restart_count: i64::from(c.restarts()),
        driver: String::from("berth"),
        platform: String::from("linux"),
        host_config,
        mounts: mounts(c),
        exec_ids: Some(super::exec::running_ids(c)).filter(|ids| !ids.is_empty()),
        config: api::ContainerConfig {
            hostname: c.hostname().into(),
            exposed_ports: c.config.exposed_ports.iter().map(|k| (k.clone(), api::Empty {})).collect(),
            tty: c.config.tty,
            open_stdin: c.config.open_stdin,
            env: c.config.full_env(c.hostname()),
            cmd: Some(args.to_vec()),
            image: c.config.image_name.clone(),
            working_dir: c.config.workdir.clone(),
            user: c.config.user.clone(),
            entrypoint: (!entrypoint.is_empty()).then(|| entrypoint.to_vec()),
            labels: labels(c),
            stop_timeout: c.config.stop_timeout,
            ..api::ContainerConfig::default()
        },
        network_settings: {
            // The top-level address is the default bridge's, as dockerd shows it.
            let networks = super::networks::endpoints(c);
            let bridge = networks.get("bridge").cloned().unwrap_or_default();
            api::NetworkSettings {
                ports: port_bindings(c),
                ip_address: bridge.ip_address,
                ip_prefix_len: bridge.ip_prefix_len,
                gateway: bridge.gateway,
                networks,
                ..api::NetworkSettings::default()
            }
        },
        ..api::ContainerInspect::default()
    }
}

/// A `docker images` row.
pub fn image_summary(i: &StoredImage) -> api::ImageSummary {
    api::ImageSummary {
        id: format!("sha256:{}", i.id),
        repo_tags: i.tags.lock().clone(),
        repo_digests: i.digests.lock().clone(),
        created: (i.created_ns / 1_000_000_000) as i64,
        size: i.size() as i64,
        shared_size: -1,
        labels: i.config.config.labels.clone(),
        containers: i.containers() as i64,
        ..api::ImageSummary::default()
    }
}

/// The `docker image inspect` document of an image.
pub fn image(i: &StoredImage) -> api::ImageInspect {
    let run = &i.config.config;
    api::ImageInspect {
        id: format!("sha256:{}", i.id),
        repo_tags: i.tags.lock().clone(),
        repo_digests: i.digests.lock().clone(),
        created: rfc3339(i.created_ns),
        comment: i.config.comment.clone(),
        author: i.config.author.clone(),
        config: api::ImageConfig {
            cmd: run.cmd.clone(),
            env: run.env.clone(),
            working_dir: run.working_dir.clone(),
            entrypoint: run.entrypoint.clone(),
            user: run.user.clone(),
            labels: run.labels.clone(),
            exposed_ports: run.exposed_ports.keys().map(|k| (k.clone(), api::Empty {})).collect(),
            volumes: run.volumes.keys().map(|k| (k.clone(), api::Empty {})).collect(),
            stop_signal: run.stop_signal.clone(),
        },
        architecture: i.config.architecture.clone(),
        os: i.config.os.clone(),
        size: i.size() as i64,
        root_fs: api::RootFs { kind: String::from("layers"), layers: i.config.rootfs.diff_ids.clone() },
        ..api::ImageInspect::default()
    }
}
