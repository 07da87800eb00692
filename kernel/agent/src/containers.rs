//! Container endpoints: create, start, stop, kill, wait, remove, list, inspect.

use super::conn::Conn;
use super::error::ApiError;
use super::inspect;
use super::lookup;
use super::reply::{Handled, Next, no_content};
use crate::container::{Container, ContainerConfig, Rootfs, Status, TmpfsMount, VolumeMount, images, registry};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::signal::Signal;
use berth_docker::api;
use berth_docker::http::RequestHead;
use berth_net::{PortMapping, Protocol};
use berth_oci::RunConfig;

/// The container filter of a request's `filters` parameter.
fn filter_of(head: &RequestHead) -> Result<api::ContainerFilter, ApiError> {
    match head.query("filters").filter(|f| !f.is_empty()) {
        Some(f) => api::ContainerFilter::parse(f).map_err(ApiError::bad_request),
        None => Ok(api::ContainerFilter::default()),
    }
}

/// Whether `c` passes `filter`.
fn passes(filter: &api::ContainerFilter, c: &Container) -> bool {
    let mounts: Vec<(String, String)> = c.config.volumes.iter().map(|m| (m.volume.clone(), m.target.clone())).collect();
    let image_id = lookup::image_of(c).map(|i| i.id.clone()).unwrap_or_default();
    let name = c.name();
    let exit_code = match c.status() {
        Status::Exited(code) => Some(i64::from(code)),
        _ => None,
    };
    filter.matches(&api::ContainerFacts {
        id: &c.id,
        name: &name,
        labels: &c.config.labels,
        state: inspect::state_word(c),
        exit_code,
        image: &c.config.image_name,
        image_id: &image_id,
        mounts: &mounts,
    })
}

/// `GET /containers/json[?all=1][&filters=...]` (`docker ps`).
pub fn list(conn: &Conn, head: &RequestHead) -> Handled {
    let filter = filter_of(head)?;
    let all = head.query_flag("all") || filter.lists_ended();
    let mut items: Vec<api::ContainerSummary> = registry::list()
        .iter()
        .filter(|c| (all || c.status() == Status::Running) && passes(&filter, c))
        .map(|c| inspect::summary(c))
        .collect();
    items.reverse(); // newest first, as Docker lists them
    if let Some(limit) = head.query("limit").and_then(|l| l.parse::<usize>().ok()).filter(|&l| l > 0) {
        items.truncate(limit);
    }
    conn.json(200, &items).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// The published ports of a create request.
fn publish(bindings: &api::HostConfig) -> Result<Vec<PortMapping>, ApiError> {
    let mut out = Vec::new();
    for (host, container, proto) in api::published_ports(bindings).map_err(ApiError::bad_request)? {
        let protocol = match proto {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            other => return Err(ApiError::bad_request(format!("protocol {other} is not supported"))),
        };
        if out.iter().any(|m: &PortMapping| m.host == host && m.protocol == protocol) {
            return Err(ApiError::bad_request(format!("host port {host}/{proto} is bound twice")));
        }
        out.push(PortMapping { host, container, protocol });
    }
    Ok(out)
}

/// What a create request asks to run, as an image configuration's fields (empty
/// meaning "the image's").
fn requested_run(req: &api::ContainerCreate) -> RunConfig {
    RunConfig {
        user: req.user.clone(),
        exposed_ports: req.exposed_ports.keys().map(|k| (k.clone(), berth_oci::Empty {})).collect(),
        env: req.env.clone(),
        entrypoint: req.entrypoint.clone(),
        cmd: req.cmd.clone(),
        volumes: Default::default(),
        working_dir: req.working_dir.clone(),
        labels: req.labels.clone(),
        stop_signal: req.stop_signal.clone(),
    }
}

/// The container configuration a create request asks for, from an image whose
/// defaults are `image` (its tmpfs mounts included), and the volumes it asks to mount
/// (made by [`volumes_for`] at create, taken from the store's record at boot).
fn config_of(
    req: &api::ContainerCreate,
    image: &RunConfig,
    name: Option<String>,
    image_ref: String,
) -> Result<(ContainerConfig, Vec<api::RequestedMount>), ApiError> {
    let run = image.merged_with(&requested_run(req));
    let cmd = run.argv();
    if cmd.is_empty() {
        return Err(ApiError::bad_request("No command specified"));
    }
    let stop_signal = match run.stop_signal.as_str() {
        "" => Signal::of(berth_abi::signal::SIGTERM),
        s => berth_docker::signal::parse(s)
            .and_then(Signal::new)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid signal: {s}")))?,
    };
    let hc = &req.host_config;
    log_driver(&hc.log_config.kind)?;
    let mut config = ContainerConfig {
        name,
        image_name: image_ref,
        entrypoint_len: run.entrypoint.as_ref().map_or(0, Vec::len),
        cmd,
        env: run.env,
        user: run.user,
        stop_signal,
        stop_timeout: req.stop_timeout,
        group_add: hc.group_add.clone(),
        hostname: req.hostname.clone(),
        echo: crate::container::Echo::None,
        auto_remove: hc.auto_remove,
        restart: restart_policy(hc)?,
        open_stdin: req.open_stdin,
        tty: req.tty,
        exposed_ports: run.exposed_ports.into_keys().collect(),
        labels: run.labels.into_iter().collect(),
        publish: publish(hc)?,
        networks: super::networks::requested(req)?,
        shares_network_of: super::networks::shared_owner(req)?,
        ..ContainerConfig::default()
    };
    if !run.working_dir.is_empty() {
        config.workdir = run.working_dir;
    }
    let mounts = api::requested_mounts(&req.host_config, req.volumes.keys().chain(image.volumes.keys()))
        .map_err(ApiError::bad_request)?;
    config.tmpfs = mounts
        .tmpfs
        .into_iter()
        .map(|t| TmpfsMount { target: t.target, size: t.size, mode: t.mode, read_only: t.read_only })
        .collect();
    if hc.memory > 0 {
        if hc.memory < crate::param::MIN_CONTAINER_MEMORY {
            return Err(ApiError::bad_request("Minimum memory limit allowed is 6MB"));
        }
        config.limits.memory = hc.memory as u64;
    }
    if let Some(pids) = hc.pids_limit.filter(|&p| p > 0) {
        config.limits.pids = u32::try_from(pids).unwrap_or(u32::MAX);
    }
    let cpu_millis = if hc.nano_cpus > 0 {
        hc.nano_cpus / 1_000_000
    } else if hc.cpu_quota > 0 && hc.cpu_period > 0 {
        hc.cpu_quota * 1000 / hc.cpu_period
    } else {
        0
    };
    if cpu_millis > 0 {
        config.limits.cpu_millis = u32::try_from(cpu_millis).unwrap_or(u32::MAX);
    }
    if !hc.cpuset_cpus.is_empty() {
        let cpus = crate::container::parse_cpuset(&hc.cpuset_cpus)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid value {} for cpuset cpus", hc.cpuset_cpus)))?;
        if cpus & !crate::sched::online_mask() != 0 {
            return Err(ApiError::bad_request(format!(
                "Requested CPUs are not available - requested {}, available: 0-{}",
                hc.cpuset_cpus,
                crate::sched::cpu_count() - 1
            )));
        }
        config.limits.cpuset = cpus;
    }
    match hc.cpu_shares {
        0 => {}
        // As Docker (the kernel's range of cgroup v1 shares).
        shares @ 2..=262_144 => config.limits.cpu_shares = shares as u32,
        shares => {
            return Err(ApiError::bad_request(format!("invalid CPU shares {shares}: it must be between 2 and 262144")));
        }
    }
    Ok((config, mounts.volumes))
}

/// Refuses a log driver dockerd does not have (berth keeps every container's output
/// in the kernel whichever of Docker's drivers is named, and shows the name back).
fn log_driver(name: &str) -> Result<(), ApiError> {
    const DOCKERS: [&str; 12] = [
        "",
        "json-file",
        "local",
        "none",
        "syslog",
        "journald",
        "gelf",
        "fluentd",
        "awslogs",
        "splunk",
        "gcplogs",
        "logentries",
    ];
    if DOCKERS.contains(&name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("logger: no log driver named '{name}' is registered")))
    }
}

/// The `--restart` policy asked for, with dockerd's refusals.
fn restart_policy(hc: &api::HostConfig) -> Result<crate::container::RestartPolicy, ApiError> {
    let p = &hc.restart_policy;
    let policy =
        crate::container::RestartPolicy::parse(&p.name, p.maximum_retry_count).map_err(ApiError::bad_request)?;
    if hc.auto_remove && policy != crate::container::RestartPolicy::No {
        return Err(ApiError::bad_request("conflicting options: cannot specify both --restart and --rm"));
    }
    Ok(policy)
}

/// The volumes a create request mounts: named ones made if missing (as Docker makes
/// them), a new anonymous one for each `-v /path` and each of the image's `VOLUME`s.
fn volumes_for(requested: Vec<api::RequestedMount>) -> Result<Vec<VolumeMount>, ApiError> {
    let mut mounts = Vec::new();
    for m in requested {
        match crate::container::volumes::create(m.source.as_deref(), Vec::new(), Vec::new()) {
            Ok((volume, _)) => {
                let anonymous = m.source.is_none();
                let (volume, target, no_copy, read_only) = (volume.name.clone(), m.target, m.no_copy, m.read_only);
                mounts.push(VolumeMount { volume, target, anonymous, no_copy, read_only });
            }
            Err(e) => {
                crate::container::volumes::remove_anonymous(&mounts);
                return Err(ApiError::from(e));
            }
        }
    }
    Ok(mounts)
}

/// Writes container states to the store after an operation changed them.
fn persist_states() {
    crate::container::store::sync_containers();
}

/// `POST /containers/create[?name=NAME]`.
pub fn create(conn: &Conn, head: &RequestHead, body: &[u8]) -> Handled {
    let req: api::ContainerCreate = api::from_json(body).map_err(ApiError::bad_json)?;
    let name = match head.query("name").filter(|n| !n.is_empty()) {
        Some(n) => {
            let n = n.strip_prefix('/').unwrap_or(n);
            if !berth_docker::names::valid_name(n) {
                return Err(ApiError::bad_request(format!(
                    "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )));
            }
            if let Some(other) = registry::list().iter().find(|c| c.name() == n) {
                return Err(ApiError::conflict(format!(
                    "Conflict. The container name \"/{n}\" is already in use by container \"{}\". You have to \
                     remove (or rename) that container to be able to reuse that name.",
                    other.id
                )));
            }
            Some(n.to_string())
        }
        None => None,
    };
    let (repo, tag) = berth_docker::names::image_ref(&req.image);
    let reference = format!("{repo}:{tag}");
    let stored =
        images::find(&reference).or_else(|| images::find(&req.image)).ok_or_else(|| ApiError::no_image(&reference))?;
    let (mut config, volumes) = config_of(&req, &stored.config.config, name, req.image.clone())?;
    config.volumes = volumes_for(volumes)?;
    // A container the store keeps has its own files paged to it.
    let rootfs =
        if crate::container::store::present() && !config.auto_remove { Rootfs::Stored(None) } else { Rootfs::Fresh };
    let container = match Container::create_as(config.clone(), stored.image.clone(), None, rootfs) {
        Ok(c) => c,
        Err(e) => {
            crate::container::volumes::remove_anonymous(&config.volumes);
            return Err(ApiError::from(e));
        }
    };
    if let Err(e) = crate::container::store::save_container(&container, &req.image, body) {
        container.remove();
        crate::container::volumes::remove_anonymous(&config.volumes);
        return Err(match e {
            berth_store::StoreError::Full { .. } => ApiError::new(507, format!("{e}")),
            e => ApiError::internal(format!("the store on disk: {e}")),
        });
    }
    super::inspect::note_asked(&container.id, &req.host_config);
    crate::container::events::container(&container, "create", &[]);
    let reply = api::CreateResponse { id: container.id.clone(), warnings: Vec::new() };
    conn.json(201, &reply).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /containers/{id}/start`.
pub fn start(conn: &Conn, key: &str) -> Handled {
    let c = lookup::container(key)?;
    match c.status() {
        Status::Running => {
            conn.respond(304, None, &[]).map_err(ApiError::io)?;
            return Ok(Next::Continue);
        }
        Status::Exited(_) => {
            // A new run in a fresh sandbox, with the files the last one left.
            c.run_again(false).map_err(ApiError::from)?;
            persist_states();
            return no_content(conn);
        }
        Status::Created => {}
    }
    c.start().map_err(ApiError::from)?;
    persist_states();
    no_content(conn)
}

/// Waits until `c` has exited, as long as `deadline_ns` (monotonic) allows.
fn wait_exit(c: &Container, deadline_ns: Option<u64>) -> Option<i32> {
    c.state_changed
        .wait_until(
            || match c.status() {
                Status::Exited(code) => Some(code),
                _ => None,
            },
            deadline_ns,
            None,
        )
        .ok()
}

/// `POST /containers/{id}/stop[?t=SECONDS]`: the container's stop signal (SIGTERM unless
/// the image or `--stop-signal` names another), then SIGKILL after the timeout.
pub fn stop(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    if c.status() != Status::Running {
        // One waiting for its restart policy to start it again stays stopped.
        if c.cancel_restart() {
            persist_states();
        }
        conn.respond(304, None, &[]).map_err(ApiError::io)?;
        return Ok(Next::Continue);
    }
    stop_by_hand(&c, head);
    crate::container::events::container(&c, "stop", &[]);
    persist_states();
    no_content(conn)
}

/// Stops a running container as `docker stop` asks (`t`: seconds before SIGKILL; else
/// its `--stop-timeout`; negative: no SIGKILL) and waits for it to end; its restart
/// policy leaves it stopped.
fn stop_by_hand(c: &Arc<Container>, head: &RequestHead) {
    let seconds = head
        .query("t")
        .and_then(|t| t.parse::<i64>().ok())
        .or(c.config.stop_timeout)
        .unwrap_or(crate::param::DEFAULT_STOP_SECONDS as i64);
    let grace = u64::try_from(seconds).ok().map(|s| crate::time::now_ns() + s * 1_000_000_000);
    c.note_stopped_by_hand();
    // A paused container is thawed so that its programs can act on the signal.
    c.sandbox.thaw();
    crate::container::events::container(c, "kill", &[("signal", format!("{}", c.config.stop_signal.number()))]);
    c.sandbox.signal_init(c.config.stop_signal);
    if let Some(grace) = grace {
        c.kill_at(grace);
    }
    // The watchdog kills it at the deadline; allow it a moment to act.
    wait_exit(c, grace.map(|g| g + 2_000_000_000));
}

/// `POST /containers/{id}/restart[?t=SECONDS]`: stops it as `docker stop` does if it
/// runs, then runs it again (a fresh sandbox, with the files the last run left).
pub fn restart(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    if c.status() == Status::Running {
        stop_by_hand(&c, head);
    }
    match c.status() {
        Status::Running => return Err(ApiError::internal(format!("container {} did not stop", c.name()))),
        Status::Created => c.start().map_err(ApiError::from)?,
        Status::Exited(_) => drop(c.run_again(false).map_err(ApiError::from)?),
    }
    crate::container::events::container(&c, "restart", &[]);
    persist_states();
    no_content(conn)
}

/// `POST /containers/{id}/update` (`docker update`): the restart policy; resource
/// limits cannot change yet (a request that changes one is refused, saying so).
pub fn update(conn: &Conn, key: &str, body: &[u8]) -> Handled {
    let c = lookup::container(key)?;
    let req: api::HostConfig = api::from_json(body).map_err(ApiError::bad_json)?;
    let changes_limits = req.memory != 0
        || req.nano_cpus != 0
        || !req.cpuset_cpus.is_empty()
        || req.cpu_shares != 0
        || req.pids_limit.is_some_and(|p| p != 0);
    if changes_limits {
        return Err(ApiError::bad_request("berth can change only the restart policy of a container (--restart)"));
    }
    if !req.restart_policy.name.is_empty() {
        let policy =
            crate::container::RestartPolicy::parse(&req.restart_policy.name, req.restart_policy.maximum_retry_count)
                .map_err(ApiError::bad_request)?;
        if c.config.auto_remove && policy != crate::container::RestartPolicy::No {
            return Err(ApiError::bad_request(
                "Restart policy cannot be updated because AutoRemove is enabled for the container",
            ));
        }
        c.set_restart_policy(policy);
    }
    persist_states();
    conn.json(200, &api::UpdateResponse { warnings: Vec::new() }).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /containers/{id}/rename?name=NEW` (`docker rename`), kept in the store.
pub fn rename(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let new = head.query("name").unwrap_or_default();
    let new = new.strip_prefix('/').unwrap_or(new);
    if new.is_empty() {
        return Err(ApiError::bad_request("Neither old nor new names may be empty"));
    }
    if !berth_docker::names::valid_name(new) {
        return Err(ApiError::bad_request(format!(
            "Invalid container name ({new}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )));
    }
    let old = c.name();
    if old == new {
        return Err(ApiError::bad_request("Renaming a container with the same name as its current name"));
    }
    if let Err(e) = registry::rename(&c, new) {
        let holder = registry::find(new).map(|o| o.id.clone()).unwrap_or_default();
        return Err(match e {
            crate::container::ContainerError::NameInUse(_) => ApiError::conflict(format!(
                "Conflict. The container name \"/{new}\" is already in use by container \"{holder}\". You have \
                 to remove (or rename) that container to be able to reuse that name."
            )),
            e => ApiError::from(e),
        });
    }
    if c.status() == Status::Running {
        crate::container::networks::join(&c); // found by its new name
    }
    crate::container::events::container(&c, "rename", &[("oldName", format!("/{old}"))]);
    if let Err(e) = crate::container::store::rename_container(&c.id, new) {
        // Undo, so memory and disk agree (the old name cannot have been taken: this
        // container held it until a moment ago, and names are taken on this thread).
        let _ = registry::rename(&c, &old);
        return Err(ApiError::internal(format!("the store on disk: {e}")));
    }
    no_content(conn)
}

/// `POST /containers/{id}/kill[?signal=SIG]`.
pub fn kill(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let sig = match head.query("signal").filter(|s| !s.is_empty()) {
        Some(s) => berth_docker::signal::parse(s)
            .and_then(Signal::new)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid signal: {s}")))?,
        None => Signal::of(berth_abi::signal::SIGKILL),
    };
    if c.status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
    }
    c.note_stopped_by_hand();
    c.sandbox.thaw();
    crate::container::events::container(&c, "kill", &[("signal", format!("{}", sig.number()))]);
    c.sandbox.signal_init(sig);
    no_content(conn)
}

/// `POST /containers/{id}/wait[?condition=not-running|next-exit|removed]`: the headers
/// at once (the CLI waits for them before it starts the container), the status code
/// when the condition is met.
pub fn wait(conn: &mut Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let condition = head.query("condition").unwrap_or("not-running").to_string();
    if !matches!(condition.as_str(), "not-running" | "next-exit" | "removed") {
        return Err(ApiError::bad_request(format!("invalid condition: {condition}")));
    }
    conn.start_chunked(200, "application/json").map_err(ApiError::io)?;
    // `next-exit` (what `docker run` and `docker start -a` ask) waits for an exit after
    // this request, not the one an ended container already had; a container started
    // again is a new object under the same id (`run_again`), followed.
    let ended_before = c.times().1;
    let mut c = c;
    let code = loop {
        // `docker run -d` drops this connection once the container has started: stop
        // waiting when the client goes away, too.
        let met = || match (c.status(), condition.as_str()) {
            _ if c.is_removed() && lookup::container(&c.id).is_ok_and(|next| !Arc::ptr_eq(&next, &c)) => Some(None),
            (Status::Exited(code), "removed") => c.is_removed().then_some(Some(code)),
            (Status::Exited(_), "next-exit") if c.times().1 == ended_before => None,
            (Status::Exited(code), _) => Some(Some(code)),
            _ => None,
        };
        match super::streams::wait_unless_gone(conn, &[&c.state_changed], met) {
            None => return Ok(Next::Stop),
            Some(Some(code)) => break code,
            Some(None) => c = lookup::container(&c.id)?,
        }
    };
    let reply = api::json_line(&api::WaitResponse { status_code: i64::from(code), error: None });
    if conn.chunk(&reply).and_then(|()| conn.end_chunked()).is_err() {
        return Ok(Next::Stop);
    }
    Ok(Next::Continue)
}

/// `POST /containers/prune[?filters=...]` (`docker container prune`): removes every
/// container not running (ended, or never started) that passes the filter (`label`
/// only, of the filters Docker's prune takes).
pub fn prune(conn: &Conn, head: &RequestHead) -> Handled {
    let filter = filter_of(head)?;
    if filter != (api::ContainerFilter { labels: filter.labels.clone(), ..api::ContainerFilter::default() }) {
        return Err(ApiError::bad_request("container prune filters by label only"));
    }
    let mut report = api::ContainerPruneReport::default();
    for c in registry::list() {
        if c.status() != Status::Running && passes(&filter, &c) {
            report.space_reclaimed += c.sandbox.fs.changes_len(&c.image).unwrap_or(0);
            c.remove();
            if let Err(e) = crate::container::store::forget_container(&c.id) {
                log::error!("store: container {} not forgotten: {e}", &c.id[..12]);
            }
            report.containers_deleted.push(c.id.clone());
        }
    }
    conn.json(200, &report).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `DELETE /containers/{id}[?force=1]`: refused (409) for a running or restarting
/// container unless forced.
pub fn remove(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    // One its restart policy is about to start again counts as running, as in dockerd.
    let restarting = c.restart_planned();
    if (c.status() == Status::Running || restarting) && !head.query_flag("force") {
        let what = if restarting { "restarting" } else { "running" };
        return Err(ApiError::conflict(format!(
            "You cannot remove a {what} container {}. Stop the container before attempting removal or force remove",
            c.id
        )));
    }
    c.cancel_restart();
    if c.status() == Status::Running {
        c.note_stopped_by_hand();
        c.sandbox.thaw();
        c.sandbox.signal_init(Signal::of(berth_abi::signal::SIGKILL));
        wait_exit(&c, Some(crate::time::now_ns() + 10_000_000_000));
    }
    c.remove();
    if let Err(e) = crate::container::store::forget_container(&c.id) {
        log::error!("store: container {} not forgotten: {e}", &c.id[..12]);
    }
    if head.query_flag("v") {
        crate::container::volumes::remove_anonymous(&c.config.volumes);
    }
    no_content(conn)
}

/// `POST /containers/{id}/resize?h=ROWS&w=COLUMNS`: sets its terminal's size (accepted
/// and ignored for a container without one, as Docker does).
pub fn resize(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let size = |k| head.query(k).map(|v| v.parse::<u16>().map_err(|_| ApiError::bad_request(format!("bad {k}={v}"))));
    if let (Some(rows), Some(cols), Some(terminal)) =
        (size("h").transpose()?, size("w").transpose()?, &c.sandbox.terminal)
    {
        terminal.resize(rows, cols);
    }
    conn.respond(200, None, &[]).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /containers/{id}/json`.
pub fn inspect(conn: &Conn, key: &str) -> Handled {
    let c = lookup::container(key)?;
    conn.json(200, &inspect::container(&c)).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// Brings back the containers the store holds (at boot, once the images are back):
/// each made again from its create request, showing how it had ended, and started if
/// its restart policy says so (a container that was running when the machine went
/// down counts as ended with status 255, as dockerd counts it).
pub fn restore() {
    let records = crate::container::store::stored_containers();
    if records.is_empty() {
        return;
    }
    let started = crate::time::now_ns();
    let (mut restored, mut running) = (0, 0);
    for record in records {
        let short = &record.id[..12.min(record.id.len())];
        match restore_one(&record) {
            Ok(c) => {
                restored += 1;
                running += usize::from(c.status() == Status::Running);
                log::debug!("container {} ({short}) restored: {}", c.name(), super::inspect::state_word(&c));
            }
            Err(e) => log::error!("container {} ({short}) not restored: {}", record.name, e.message),
        }
    }
    let ms = (crate::time::now_ns() - started) / 1_000_000;
    log::info!("{restored} container(s) restored ({running} running) in {ms} ms");
}

fn restore_one(record: &crate::container::store::ContainerRecord) -> Result<Arc<Container>, ApiError> {
    use crate::container::store::{StoredState, note_container_state, parse_state};
    let req: api::ContainerCreate = api::from_json(&record.request).map_err(ApiError::bad_json)?;
    let (repo, tag) = berth_docker::names::image_ref(&record.image);
    let stored = images::find(&format!("{repo}:{tag}"))
        .or_else(|| images::find(&record.image))
        .ok_or_else(|| ApiError::no_image(&record.image))?;
    let (mut config, _) = config_of(&req, &stored.config.config, Some(record.name.clone()), record.image.clone())?;
    config.volumes = record.volumes.clone();
    let (state, policy) =
        parse_state(&record.state).ok_or_else(|| ApiError::internal("its stored state is unreadable"))?;
    // Its files: the image with its stored writable layer on top, if it has one.
    let layer = crate::container::store::stored_layer(&record.id)
        .map_err(|e| ApiError::internal(format!("its writable layer: {e}")))?;
    let rootfs =
        Rootfs::Stored(layer.map(|(layer, next_file)| (berth_oci::stack([&*stored.image, &layer]), next_file)));
    let identity = Some((record.id.clone(), record.created_at));
    let c = Container::create_as(config, stored.image.clone(), identity, rootfs).map_err(ApiError::from)?;
    super::inspect::note_asked(&c.id, &req.host_config);
    crate::container::store::note_layer_written(&c);
    c.set_restart_policy(policy);
    let now = crate::time::realtime_ns();
    let ending = match state {
        StoredState::Created => None,
        StoredState::Running(restarts) => {
            Some((crate::container::Ending { code: 255, stopped_by_hand: false, restarts }, now))
        }
        StoredState::Exited(ending, 0) => Some((ending, now)),
        StoredState::Exited(ending, finished) => Some((ending, finished)),
    };
    note_container_state(&c.id, record.state.clone());
    if let Some((ending, finished)) = ending {
        if policy.starts_at_boot(ending) {
            c.set_restarts(ending.restarts);
            // One that cannot start is still restored, ended (the log says why).
            if let Err(e) = c.start() {
                log::warn!("container {}: not started at boot: {e}", c.name());
            }
        } else {
            c.mark_ended(ending, finished);
        }
    }
    Ok(c)
}
