//! Network endpoints: `docker network create|ls|inspect|rm|connect|disconnect|prune`,
//! and what a container's create request and inspection say of its networks.

use super::conn::Conn;
use super::error::ApiError;
use super::lookup;
use super::reply::{Handled, Next, no_content};
use crate::container::NetworkRequest;
use crate::container::networks::{self, Attachment, Network, NetworkError};
use crate::container::{Container, registry};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::RequestHead;
use core::net::Ipv4Addr;

impl From<NetworkError> for ApiError {
    /// As dockerd: 400 for bad input, 404 for a missing network, 409 for a name
    /// taken or a network in use, 403 for the pre-defined ones, 507 for a full
    /// store.
    fn from(e: NetworkError) -> ApiError {
        let status = match &e {
            NetworkError::BadName(_)
            | NetworkError::Ambiguous(_)
            | NetworkError::BadSubnet(_)
            | NetworkError::Unsupported(_)
            | NetworkError::Address(_) => 400,
            NetworkError::NotFound(_) => 404,
            NetworkError::Exists(_) | NetworkError::InUse(..) => 409,
            NetworkError::AlreadyOn(..) | NetworkError::NotOn(..) => 400,
            NetworkError::Builtin(_) => 403,
            NetworkError::Store(berth_store::StoreError::Full { .. }) => 507,
            NetworkError::Store(_) => 500,
        };
        ApiError::new(status, format!("{e}"))
    }
}

/// An endpoint's id: the container's and the network's ids, interleaved halves
/// (one per container and network, stable across restarts).
fn endpoint_id(container: &str, network: &Network) -> String {
    format!("{}{}", &container[..32.min(container.len())], &network.id[..32.min(network.id.len())])
}

fn prefix_len(n: &Network) -> u8 {
    n.subnet.map_or(0, |s| s.prefix)
}

/// A network as the API shows it.
fn shown(n: &Network) -> api::Network {
    let containers = networks::members(n)
        .into_iter()
        .filter_map(|(id, place)| {
            let c = registry::find(&id).ok()?;
            let ipv4_address = place.ip.map(|ip| format!("{ip}/{}", prefix_len(n))).unwrap_or_default();
            let entry = api::NetworkContainer {
                name: c.name(),
                endpoint_id: endpoint_id(&id, n),
                ipv4_address,
                ..api::NetworkContainer::default()
            };
            Some((id, entry))
        })
        .collect();
    let config = n
        .subnet
        .map(|s| api::IpamConfig {
            subnet: format!("{s}"),
            gateway: n.gateway().map(|g| format!("{g}")).unwrap_or_default(),
            ..api::IpamConfig::default()
        })
        .into_iter()
        .collect();
    api::Network {
        name: n.name.clone(),
        id: n.id.clone(),
        created: berth_docker::time::rfc3339(n.created_at),
        scope: String::from("local"),
        driver: n.driver.clone(),
        ipam: api::Ipam { driver: String::from("default"), config, options: BTreeMap::new() },
        attachable: true,
        containers,
        options: n.options.iter().cloned().collect(),
        labels: n.labels.iter().cloned().collect(),
        ..api::Network::default()
    }
}

fn filter_of(head: &RequestHead) -> Result<api::NetworkFilter, ApiError> {
    match head.query("filters").filter(|f| !f.is_empty()) {
        Some(f) => api::NetworkFilter::parse(f).map_err(ApiError::bad_request),
        None => Ok(api::NetworkFilter::default()),
    }
}

fn passes(filter: &api::NetworkFilter, n: &Network) -> bool {
    let labels: BTreeMap<String, String> = n.labels.iter().cloned().collect();
    let facts = api::NetworkFacts {
        name: &n.name,
        id: &n.id,
        driver: &n.driver,
        labels: &labels,
        custom: !n.is_builtin(),
        used: !networks::members(n).is_empty(),
    };
    filter.matches(&facts)
}

/// `GET /networks[?filters=...]`.
pub fn list(conn: &Conn, head: &RequestHead) -> Handled {
    let filter = filter_of(head)?;
    let shown: Vec<api::Network> = networks::list().iter().filter(|n| passes(&filter, n)).map(|n| shown(n)).collect();
    conn.json(200, &shown).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /networks/{id}`.
pub fn inspect(conn: &Conn, key: &str) -> Handled {
    let network = networks::find(key)?;
    conn.json(200, &shown(&network)).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /networks/create`: a bridge network.
pub fn create(conn: &Conn, body: &[u8]) -> Handled {
    let req: api::NetworkCreate = api::from_json(body).map_err(ApiError::bad_json)?;
    if !matches!(req.driver.as_str(), "" | "bridge") {
        return Err(ApiError::new(
            404,
            format!("plugin \"{}\" not found (berth has the bridge driver only)", req.driver),
        ));
    }
    if req.internal || req.enable_ipv6 == Some(true) {
        return Err(ApiError::bad_request("berth does not make internal or IPv6 networks"));
    }
    let subnet = match &req.ipam.config[..] {
        [] => None,
        [one] if !one.subnet.is_empty() => Some(one.subnet.as_str()),
        [_] => None,
        _ => return Err(ApiError::bad_request("berth gives a network one subnet")),
    };
    let labels = req.labels.into_iter().collect();
    let network = networks::create(&req.name, subnet, labels, req.options.into_iter().collect())?;
    let reply = api::NetworkCreateResponse { id: network.id.clone(), warning: String::new() };
    conn.json(201, &reply).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `DELETE /networks/{id}`.
pub fn remove(conn: &Conn, key: &str) -> Handled {
    networks::remove(key)?;
    no_content(conn)
}

/// The address an endpoint configuration asks for (`--ip`), if any.
fn asked_ip(settings: &api::EndpointSettings) -> Result<Option<Ipv4Addr>, ApiError> {
    match settings.ipam_config.as_ref().map(|c| c.ipv4_address.as_str()).filter(|a| !a.is_empty()) {
        Some(a) => a.parse().map(Some).map_err(|_| ApiError::bad_request(format!("invalid IPv4 address: {a}"))),
        None => Ok(None),
    }
}

/// What an endpoint configuration asks of a place on `network`.
fn request_of(network: &str, settings: &api::EndpointSettings) -> Result<NetworkRequest, ApiError> {
    Ok(NetworkRequest {
        network: String::from(network),
        aliases: settings.aliases.clone(),
        ip: asked_ip(settings)?,
        driver_opts: settings.driver_opts.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    })
}

/// `POST /networks/{id}/connect`.
pub fn connect(conn: &Conn, key: &str, body: &[u8]) -> Handled {
    let req: api::NetworkConnect = api::from_json(body).map_err(ApiError::bad_json)?;
    let network = networks::find(key)?;
    let c = lookup::container(&req.container)?;
    let request = request_of(&network.name, &req.endpoint_config)?;
    networks::connect(&c, &network.id, &request)?;
    conn.respond(200, None, &[]).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /networks/{id}/disconnect`.
pub fn disconnect(conn: &Conn, key: &str, body: &[u8]) -> Handled {
    let req: api::NetworkDisconnect = api::from_json(body).map_err(ApiError::bad_json)?;
    let network = networks::find(key)?;
    let c = lookup::container(&req.container)?;
    networks::disconnect(&c, &network.id)?;
    conn.respond(200, None, &[]).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /networks/prune[?filters=...]`: removes the networks users made that no
/// container is on.
pub fn prune(conn: &Conn, head: &RequestHead) -> Handled {
    let filter = filter_of(head)?;
    let mut report = api::NetworkPruneReport::default();
    for n in networks::list() {
        if !n.is_builtin() && networks::members(&n).is_empty() && passes(&filter, &n) {
            match networks::remove(&n.id) {
                Ok(_) => report.networks_deleted.push(n.name.clone()),
                Err(e) => log::warn!("network {}: not pruned: {e}", n.name),
            }
        }
    }
    conn.json(200, &report).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// The networks a create request puts the container on: `HostConfig.NetworkMode`
/// (the default bridge unless it names another, `host` or `none`) and every
/// network of `NetworkingConfig.EndpointsConfig`, each with its aliases and address.
pub fn requested(req: &api::ContainerCreate) -> Result<Vec<NetworkRequest>, ApiError> {
    // `default` is the default bridge (the CLI names it so in `EndpointsConfig` too).
    fn bridge(m: &str) -> &str {
        if matches!(m, "" | "default") { "bridge" } else { m }
    }
    let mode = bridge(&req.host_config.network_mode);
    if mode.starts_with("container:") {
        // Shares another container's port space and addresses ([`shared_owner`]).
        return Ok(Vec::new());
    }
    let endpoints: BTreeMap<&str, &api::EndpointSettings> =
        req.networking_config.endpoints_config.iter().map(|(k, v)| (bridge(k), v)).collect();
    let mut names: Vec<&str> = vec![mode];
    names.extend(endpoints.keys().copied().filter(|k| *k != mode));
    let mut out = Vec::new();
    for name in names {
        let network = networks::find(name)?;
        let settings = endpoints.get(name).or_else(|| endpoints.get(network.id.as_str())).copied();
        let request = request_of(&network.name, settings.unwrap_or(&api::EndpointSettings::default()))?;
        if out.iter().any(|r: &NetworkRequest| r.network == network.name) {
            continue;
        }
        if network.subnet.is_none() && name != mode {
            return Err(ApiError::bad_request(format!(
                "container cannot be connected to network {} as well as others",
                network.name
            )));
        }
        out.push(request);
    }
    Ok(out)
}

/// The container (id) whose port space a create request asks to share
/// (`NetworkMode: container:NAME`), which must be running; `None` if it asks for none.
pub fn shared_owner(req: &api::ContainerCreate) -> Result<Option<String>, ApiError> {
    let Some(owner) = req.host_config.network_mode.strip_prefix("container:") else { return Ok(None) };
    if !req.host_config.port_bindings.is_empty() || req.host_config.publish_all_ports {
        return Err(ApiError::bad_request("conflicting options: port publishing and the container type network mode"));
    }
    if req.networking_config.endpoints_config.keys().any(|k| !k.starts_with("container:")) {
        return Err(ApiError::bad_request("conflicting options: networks and the container type network mode"));
    }
    let c = lookup::container(owner)?;
    if c.status() != crate::container::Status::Running {
        return Err(ApiError::conflict(format!("cannot join network of a non running container: {}", c.id)));
    }
    Ok(Some(c.id.clone()))
}

/// The network mode `docker inspect` shows: `container:ID`, or the first network's
/// name.
pub fn mode(c: &Container) -> String {
    if let Some(owner) = &c.config.shares_network_of {
        return format!("container:{owner}");
    }
    networks::attachments(&c.id).first().map_or(String::from("none"), |p| p.network.name.clone())
}

/// One place of a container, as `NetworkSettings.Networks` shows it.
fn endpoint(c: &Container, place: &Attachment) -> api::EndpointSettings {
    let n = &place.network;
    let has_ip = place.ip.is_some();
    let asked = |ip: Ipv4Addr| api::EndpointIpamConfig { ipv4_address: format!("{ip}") };
    api::EndpointSettings {
        ipam_config: place.ip.filter(|_| place.requested).map(asked),
        aliases: place.aliases.clone(),
        driver_opts: place.driver_opts.iter().cloned().collect(),
        dns_names: networks::dns_names(c, place),
        network_id: n.id.clone(),
        endpoint_id: endpoint_id(&c.id, n),
        gateway: n.gateway().filter(|_| has_ip).map(|g| format!("{g}")).unwrap_or_default(),
        ip_address: place.ip.map(|ip| format!("{ip}")).unwrap_or_default(),
        ip_prefix_len: if has_ip { prefix_len(n) } else { 0 },
        ..api::EndpointSettings::default()
    }
}

/// `NetworkSettings.Networks` of container `c`.
pub fn endpoints(c: &Container) -> BTreeMap<String, api::EndpointSettings> {
    networks::attachments(&c.id).iter().map(|p| (p.network.name.clone(), endpoint(c, p))).collect()
}
