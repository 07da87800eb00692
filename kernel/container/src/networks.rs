//! Networks (`docker network`): which containers reach each other, and by what names.
//!
//! A network has a subnet; each container on it has an address there, held for as
//! long as the container is on the network (across its restarts). While a container
//! runs, its addresses are in the stack's table (`net::network`): a container reaches
//! another at its address only over a network both are on, and containers on a
//! network made by a user find each other by container name, alias and short id
//! through the resolver at 127.0.0.11, which their `/etc/resolv.conf` names first.
//! `bridge` (the default for containers made through the API: reached by address,
//! not by name, as Docker's default bridge), `host` and `none` always exist; `host`
//! and `none` give no address (a container on them has its own port space only, as
//! every container had before networks).
//!
//! On a machine with a store, networks and each container's places on them are
//! written there, so that both come back after a reboot. Store keys:
//! - `network/<name>`: `berth-network 1`, then `id <hex>`, `created <ns>`,
//!   `driver <bridge|host|null>`, `subnet <a.b.c.d/len>` (bridge networks), and one
//!   `label K=V` and `opt K=V` line each;
//! - `netattach/<container id>`: `berth-attachments 1`, then a line per network:
//!   `<network name> <address, `=address` if asked for, or -> <word>...`, each word an
//!   alias, or `opt:K=V` for a driver option.

use crate::net::network::{self as stack, NetworkId};
use crate::sched::SleepMutex;
use crate::{Container, registry, store};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use berth_config::NetworkRequest;
use berth_net::Ipv4Cidr;
use berth_net::subnet::{self, AddressError, AddressPool};
use berth_store::{Change, StoreError};
use core::fmt;
use core::net::Ipv4Addr;

/// The networks that always exist, with their drivers.
const BUILTIN: [(&str, &str); 3] = [("bridge", "bridge"), ("host", "host"), ("none", "null")];

/// A network.
pub struct Network {
    /// Its id (64 hex digits).
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// Its addresses (`None` for `host` and `none`).
    pub subnet: Option<Ipv4Cidr>,
    /// Creation time, ns since the epoch.
    pub created_at: u64,
    /// Labels (`--label`).
    pub labels: Vec<(String, String)>,
    /// Driver options (`--opt`), kept and shown.
    pub options: Vec<(String, String)>,
    /// The stack's number for it.
    number: NetworkId,
}

impl Network {
    /// Whether it is one of `bridge`, `host` and `none`.
    pub fn is_builtin(&self) -> bool {
        BUILTIN.iter().any(|(name, _)| *name == self.name)
    }

    /// Whether its containers find each other by name (networks users made).
    pub fn resolves_names(&self) -> bool {
        !self.is_builtin()
    }

    /// Its gateway's address (the subnet's first host).
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        self.subnet.map(|s| AddressPool::new(s).gateway())
    }
}

/// One container's place on one network.
#[derive(Clone)]
pub struct Attachment {
    /// The network.
    pub network: Arc<Network>,
    /// Its address there (none on `host` and `none`).
    pub ip: Option<Ipv4Addr>,
    /// More names it is found by there.
    pub aliases: Vec<String>,
    /// Whether its address was asked for (`--ip`) rather than handed out.
    pub requested: bool,
    /// Options for the network's driver (kept and shown).
    pub driver_opts: Vec<(String, String)>,
}

/// Why a network operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkError {
    /// Not a valid network name or alias.
    BadName(String),
    /// No network has this name, id or id prefix.
    NotFound(String),
    /// The id prefix fits several networks.
    Ambiguous(String),
    /// A network already has this name.
    Exists(String),
    /// Containers (these ids) are on it.
    InUse(String, Vec<String>),
    /// `bridge`, `host` and `none` cannot be made, removed or joined by hand so.
    Builtin(String),
    /// The container is already on the network.
    AlreadyOn(String, String),
    /// The container is not on the network.
    NotOn(String, String),
    /// An address could not be had.
    Address(AddressError),
    /// A subnet asked for is malformed or overlaps another network's.
    BadSubnet(String),
    /// What berth does not do (its reason).
    Unsupported(String),
    /// The store could not take it.
    Store(StoreError),
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::BadName(n) => {
                write!(f, "invalid name \"{n}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            }
            NetworkError::NotFound(n) => write!(f, "network {n} not found"),
            NetworkError::Ambiguous(n) => {
                write!(f, "network {n} is ambiguous (more than one network has that id prefix)")
            }
            NetworkError::Exists(n) => write!(f, "network with name {n} already exists"),
            NetworkError::InUse(n, ids) => {
                write!(f, "error while removing network: network {n} has active endpoints ({})", ids.join(", "))
            }
            NetworkError::Builtin(n) => write!(f, "{n} is a pre-defined network and cannot be changed so"),
            NetworkError::AlreadyOn(c, n) => write!(f, "container {c} is already attached to network {n}"),
            NetworkError::NotOn(c, n) => write!(f, "container {c} is not connected to network {n}"),
            NetworkError::Address(e) => write!(f, "{e}"),
            NetworkError::BadSubnet(why) => f.write_str(why),
            NetworkError::Unsupported(why) => f.write_str(why),
            NetworkError::Store(e) => write!(f, "the store on disk: {e}"),
        }
    }
}

impl From<StoreError> for NetworkError {
    fn from(e: StoreError) -> NetworkError {
        NetworkError::Store(e)
    }
}

impl From<AddressError> for NetworkError {
    fn from(e: AddressError) -> NetworkError {
        NetworkError::Address(e)
    }
}

/// Every network and every container's places on them.
struct Registry {
    networks: Vec<Arc<Network>>,
    pools: BTreeMap<NetworkId, AddressPool>,
    /// Places by container id.
    attached: BTreeMap<String, Vec<Attachment>>,
    next_number: NetworkId,
}

/// Held through store writes (they may wait for the disk: waiters sleep).
static REGISTRY: SleepMutex<Registry> = SleepMutex::new(Registry {
    networks: Vec::new(),
    pools: BTreeMap::new(),
    attached: BTreeMap::new(),
    next_number: 1,
});

/// Whether `name` may name a network or be an alias: Docker's rule for names.
pub fn valid_name(name: &str) -> bool {
    berth_docker::names::valid_name(name)
}

fn meta_key(name: &str) -> String {
    format!("network/{name}")
}

fn attach_key(id: &str) -> String {
    format!("netattach/{id}")
}

fn describe(n: &Network) -> Vec<u8> {
    let mut text = format!("berth-network 1\nid {}\ncreated {}\ndriver {}\n", n.id, n.created_at, n.driver);
    if let Some(s) = n.subnet {
        text.push_str(&format!("subnet {s}\n"));
    }
    for (k, v) in &n.labels {
        text.push_str(&format!("label {k}={v}\n"));
    }
    for (k, v) in &n.options {
        text.push_str(&format!("opt {k}={v}\n"));
    }
    text.into_bytes()
}

fn read_description(name: &str, text: &str) -> Option<Network> {
    let mut lines = text.lines();
    if lines.next()? != "berth-network 1" {
        return None;
    }
    let mut n = Network {
        id: String::new(),
        name: String::from(name),
        driver: String::from("bridge"),
        subnet: None,
        created_at: 0,
        labels: Vec::new(),
        options: Vec::new(),
        number: 0,
    };
    for line in lines {
        let (key, value) = line.split_once(' ')?;
        let pair = || value.split_once('=').map(|(k, v)| (String::from(k), String::from(v)));
        match key {
            "id" => n.id = String::from(value),
            "created" => n.created_at = value.parse().ok()?,
            "driver" => n.driver = String::from(value),
            "subnet" => n.subnet = Some(Ipv4Cidr::parse(value).ok()?),
            "label" => n.labels.push(pair()?),
            "opt" => n.options.push(pair()?),
            _ => return None,
        }
    }
    (n.id.len() == 64).then_some(n)
}

fn attachments_text(places: &[Attachment]) -> Vec<u8> {
    let mut text = String::from("berth-attachments 1\n");
    for a in places {
        let asked = if a.requested { "=" } else { "" };
        let ip = a.ip.map_or(String::from("-"), |ip| format!("{asked}{ip}"));
        text.push_str(&format!("{} {ip}", a.network.name));
        for alias in &a.aliases {
            text.push(' ');
            text.push_str(alias);
        }
        for (k, v) in &a.driver_opts {
            text.push_str(&format!(" opt:{k}={v}"));
        }
        text.push('\n');
    }
    text.into_bytes()
}

/// What a place is made of, before it has its address.
struct Asked {
    /// The address: asked for, or (from the store) the one handed out before.
    ip: Option<Ipv4Addr>,
    /// Whether the address was asked for (`--ip`).
    requested: bool,
    aliases: Vec<String>,
    driver_opts: Vec<(String, String)>,
}

impl Asked {
    fn of(r: &NetworkRequest) -> Asked {
        Asked { ip: r.ip, requested: r.ip.is_some(), aliases: r.aliases.clone(), driver_opts: r.driver_opts.clone() }
    }

    /// A stored place's words after the network name (see the module comment).
    fn read(ip: &str, words: core::str::Split<'_, char>) -> Asked {
        let (requested, ip) = match ip.strip_prefix('=') {
            Some(asked) => (true, asked),
            None => (false, ip),
        };
        let (mut aliases, mut driver_opts) = (Vec::new(), Vec::new());
        for word in words {
            match word.strip_prefix("opt:").and_then(|o| o.split_once('=')) {
                Some((k, v)) => driver_opts.push((String::from(k), String::from(v))),
                None => aliases.push(String::from(word)),
            }
        }
        Asked { ip: ip.parse().ok(), requested, aliases, driver_opts }
    }
}

impl Registry {
    fn find(&self, key: &str) -> Result<Arc<Network>, NetworkError> {
        let keys: Vec<(&str, &str)> = self.networks.iter().map(|n| (n.id.as_str(), n.name.as_str())).collect();
        match berth_docker::names::lookup(&keys, key, |k| k.0, |k| k.1) {
            berth_docker::names::Lookup::Found(i) => Ok(self.networks[i].clone()),
            berth_docker::names::Lookup::Ambiguous => Err(NetworkError::Ambiguous(String::from(key))),
            berth_docker::names::Lookup::NotFound => Err(NetworkError::NotFound(String::from(key))),
        }
    }

    /// Adds `network`, numbering it and making its address pool.
    fn add(&mut self, mut network: Network) -> Arc<Network> {
        network.number = self.next_number;
        self.next_number += 1;
        if let Some(s) = network.subnet {
            self.pools.insert(network.number, AddressPool::new(s));
        }
        let network = Arc::new(network);
        self.networks.push(network.clone());
        network
    }

    /// A place on `network` at the address `asked` names, or the next free one.
    fn place(&mut self, network: &Arc<Network>, asked: Asked) -> Result<Attachment, NetworkError> {
        if let Some(bad) = asked.aliases.iter().find(|a| !valid_name(a)) {
            return Err(NetworkError::BadName(bad.clone()));
        }
        let ip = match self.pools.get_mut(&network.number) {
            Some(pool) => Some(match asked.ip {
                Some(ip) => pool.take_exact(ip).map(|()| ip)?,
                None => pool.take()?,
            }),
            None => None,
        };
        let Asked { requested, aliases, driver_opts, .. } = asked;
        Ok(Attachment { network: network.clone(), ip, aliases, requested: requested && ip.is_some(), driver_opts })
    }

    fn release(&mut self, place: &Attachment) {
        if let (Some(ip), Some(pool)) = (place.ip, self.pools.get_mut(&place.network.number)) {
            pool.release(ip);
        }
    }

    /// Writes the places of container `id` to the store.
    fn persist(&self, id: &str) -> Result<(), StoreError> {
        match self.attached.get(id).filter(|p| !p.is_empty()) {
            Some(places) => store::commit(&[Change::Put(attach_key(id), attachments_text(places))]),
            None => store::commit(&[Change::Delete(attach_key(id))]),
        }
    }
}

/// Brings back the stored networks and places (with a store), and makes `bridge`,
/// `host` and `none` if they are not among them. Call once, before containers are
/// brought back.
pub fn restore() {
    let mut reg = REGISTRY.lock();
    for key in store::keys("network/") {
        let name = &key["network/".len()..];
        let description = store::read(&key).and_then(|b| String::from_utf8(b).ok());
        match description.as_deref().and_then(|text| read_description(name, text)) {
            Some(n) => {
                reg.add(n);
            }
            None => log::error!("network {name}: not restored: its description cannot be read"),
        }
    }
    for (name, driver) in BUILTIN {
        if reg.networks.iter().any(|n| n.name == name) {
            continue;
        }
        let subnet = (name == "bridge").then_some(subnet::DEFAULT_BRIDGE);
        let network = new_network(String::from(name), String::from(driver), subnet, Vec::new(), Vec::new());
        if let Err(e) = store::commit(&[Change::Put(meta_key(name), describe(&network))]) {
            log::error!("network {name}: not written to the store: {e}");
        }
        reg.add(network);
    }
    let mut restored = 0;
    for key in store::keys("netattach/") {
        let id = String::from(&key["netattach/".len()..]);
        let text = store::read(&key).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
        let mut lines = text.lines();
        if lines.next() != Some("berth-attachments 1") {
            log::error!("container {}: its networks cannot be read", &id[..12.min(id.len())]);
            continue;
        }
        let mut places = Vec::new();
        for line in lines {
            let mut words = line.split(' ');
            let (Some(name), Some(ip)) = (words.next(), words.next()) else { continue };
            let place = reg.find(name).and_then(|n| reg.place(&n, Asked::read(ip, words)));
            match place {
                Ok(p) => places.push(p),
                Err(e) => log::error!("container {}: not put back on network {name}: {e}", &id[..12.min(id.len())]),
            }
        }
        reg.attached.insert(id, places);
        restored += 1;
    }
    if restored > 0 {
        log::info!("the networks of {restored} container(s) restored");
    }
}

fn new_network(
    name: String,
    driver: String,
    subnet: Option<Ipv4Cidr>,
    labels: Vec<(String, String)>,
    options: Vec<(String, String)>,
) -> Network {
    let created_at = crate::time::realtime_ns();
    Network { id: registry::new_id(), name, driver, subnet, created_at, labels, options, number: 0 }
}

/// Creates a bridge network called `name`, on `subnet` if given (else the next free
/// one of Docker's pools).
pub fn create(
    name: &str,
    subnet: Option<&str>,
    labels: Vec<(String, String)>,
    options: Vec<(String, String)>,
) -> Result<Arc<Network>, NetworkError> {
    if !valid_name(name) {
        return Err(NetworkError::BadName(String::from(name)));
    }
    let mut reg = REGISTRY.lock();
    if BUILTIN.iter().any(|(b, _)| *b == name) {
        return Err(NetworkError::Builtin(String::from(name)));
    }
    if reg.networks.iter().any(|n| n.name == name) {
        return Err(NetworkError::Exists(String::from(name)));
    }
    let used: Vec<Ipv4Cidr> = reg.networks.iter().filter_map(|n| n.subnet).collect();
    let subnet = match subnet {
        Some(s) => {
            let s = subnet::network_of(Ipv4Cidr::parse(s).map_err(NetworkError::BadSubnet)?);
            if s.prefix > 30 {
                return Err(NetworkError::BadSubnet(format!("subnet {s} is too small for containers")));
            }
            if let Some(other) = reg.networks.iter().find(|n| n.subnet.is_some_and(|u| subnet::overlap(&u, &s))) {
                return Err(NetworkError::BadSubnet(format!(
                    "invalid pool request: Pool overlaps with other one on this address space ({})",
                    other.name
                )));
            }
            s
        }
        None => subnet::free_subnet(&used).ok_or(NetworkError::Address(AddressError::Exhausted))?,
    };
    let network = new_network(String::from(name), String::from("bridge"), Some(subnet), labels, options);
    store::commit(&[Change::Put(meta_key(name), describe(&network))])?;
    let network = reg.add(network);
    drop(reg);
    crate::events::publish("network", String::from("create"), network.id.clone(), event_attributes(&network, None));
    Ok(network)
}

fn event_attributes(n: &Network, container: Option<&str>) -> Vec<(String, String)> {
    let mut out = vec![(String::from("name"), n.name.clone()), (String::from("type"), n.driver.clone())];
    if let Some(id) = container {
        out.push((String::from("container"), String::from(id)));
    }
    out
}

/// The network with this id, name or unique id prefix.
pub fn find(key: &str) -> Result<Arc<Network>, NetworkError> {
    REGISTRY.lock().find(key)
}

/// Every network, oldest first.
pub fn list() -> Vec<Arc<Network>> {
    REGISTRY.lock().networks.clone()
}

/// The containers (ids) on `network`, with their places.
pub fn members(network: &Network) -> Vec<(String, Attachment)> {
    let reg = REGISTRY.lock();
    let mut out = Vec::new();
    for (id, places) in &reg.attached {
        for p in places.iter().filter(|p| core::ptr::eq(&*p.network, network)) {
            out.push((id.clone(), p.clone()));
        }
    }
    out
}

/// The places of container `id`.
pub fn attachments(id: &str) -> Vec<Attachment> {
    REGISTRY.lock().attached.get(id).cloned().unwrap_or_default()
}

/// Removes the network `key`; refused while containers are on it.
pub fn remove(key: &str) -> Result<Arc<Network>, NetworkError> {
    let mut reg = REGISTRY.lock();
    let network = reg.find(key)?;
    if network.is_builtin() {
        return Err(NetworkError::Builtin(network.name.clone()));
    }
    let users: Vec<String> = reg
        .attached
        .iter()
        .filter(|(_, places)| places.iter().any(|p| Arc::ptr_eq(&p.network, &network)))
        .map(|(id, _)| id.clone())
        .collect();
    if !users.is_empty() {
        return Err(NetworkError::InUse(network.name.clone(), users));
    }
    store::commit(&[Change::Delete(meta_key(&network.name))])?;
    reg.networks.retain(|n| !Arc::ptr_eq(n, &network));
    reg.pools.remove(&network.number);
    drop(reg);
    crate::events::publish("network", String::from("destroy"), network.id.clone(), event_attributes(&network, None));
    Ok(network)
}

/// Puts a new container (`id`) on the networks it asks for, unless it has places
/// already (one brought back from the store, or run again by its restart policy).
/// Returns whether it was given new ones, which [`forget`] takes back if its
/// creation fails after this.
pub fn attach_on_create(id: &str, requests: &[NetworkRequest]) -> Result<bool, NetworkError> {
    let mut reg = REGISTRY.lock();
    if reg.attached.contains_key(id) || requests.is_empty() {
        return Ok(false);
    }
    let mut places: Vec<Attachment> = Vec::new();
    for r in requests {
        let place = reg.find(&r.network).and_then(|n| {
            if places.iter().any(|p| Arc::ptr_eq(&p.network, &n)) {
                return Err(NetworkError::AlreadyOn(String::from(&id[..12.min(id.len())]), n.name.clone()));
            }
            reg.place(&n, Asked::of(r))
        });
        match place {
            Ok(p) => places.push(p),
            Err(e) => {
                for p in &places {
                    reg.release(p);
                }
                return Err(e);
            }
        }
    }
    reg.attached.insert(String::from(id), places);
    if let Err(e) = reg.persist(id) {
        let places = reg.attached.remove(id).unwrap_or_default();
        for p in &places {
            reg.release(p);
        }
        return Err(e.into());
    }
    Ok(true)
}

/// Puts container `c` on network `key` as `request` asks (its `network` is not
/// read); at once if it runs.
pub fn connect(c: &Container, key: &str, request: &NetworkRequest) -> Result<(), NetworkError> {
    let mut reg = REGISTRY.lock();
    let network = reg.find(key)?;
    if c.config.shares_network_of.is_some() {
        return Err(NetworkError::Unsupported(String::from(
            "container sharing network namespace with another container cannot be connected to networks",
        )));
    }
    let places = reg.attached.get(&c.id).cloned().unwrap_or_default();
    if places.iter().any(|p| Arc::ptr_eq(&p.network, &network)) {
        return Err(NetworkError::AlreadyOn(c.name(), network.name.clone()));
    }
    if network.subnet.is_none() || places.iter().any(|p| p.network.subnet.is_none()) {
        return Err(NetworkError::Unsupported(String::from(
            "container cannot be disconnected from host network or connected to host network",
        )));
    }
    let place = reg.place(&network, Asked::of(request))?;
    reg.attached.entry(c.id.clone()).or_default().push(place.clone());
    if let Err(e) = reg.persist(&c.id) {
        reg.release(&place);
        if let Some(list) = reg.attached.get_mut(&c.id) {
            list.retain(|p| !Arc::ptr_eq(&p.network, &network));
        }
        return Err(e.into());
    }
    drop(reg);
    if c.status() == crate::Status::Running {
        join_one(c, &place);
    }
    crate::setup::rewrite_name_files(c);
    crate::events::publish(
        "network",
        String::from("connect"),
        network.id.clone(),
        event_attributes(&network, Some(&c.id)),
    );
    Ok(())
}

/// Takes container `c` off network `key`.
pub fn disconnect(c: &Container, key: &str) -> Result<(), NetworkError> {
    let mut reg = REGISTRY.lock();
    let network = reg.find(key)?;
    let places = reg.attached.get(&c.id).cloned().unwrap_or_default();
    let Some(place) = places.iter().find(|p| Arc::ptr_eq(&p.network, &network)).cloned() else {
        return Err(NetworkError::NotOn(c.name(), network.name.clone()));
    };
    if let Some(list) = reg.attached.get_mut(&c.id) {
        list.retain(|p| !Arc::ptr_eq(&p.network, &network));
    }
    if let Err(e) = reg.persist(&c.id) {
        reg.attached.insert(c.id.clone(), places);
        return Err(e.into());
    }
    reg.release(&place);
    drop(reg);
    stack::detach(&c.sandbox.net, Some(network.number));
    crate::setup::rewrite_name_files(c);
    crate::events::publish(
        "network",
        String::from("disconnect"),
        network.id.clone(),
        event_attributes(&network, Some(&c.id)),
    );
    Ok(())
}

/// Takes a removed container (`id`) off every network (failures to write the
/// store are logged).
pub fn forget(id: &str) {
    let mut reg = REGISTRY.lock();
    let Some(places) = reg.attached.remove(id) else { return };
    for p in &places {
        reg.release(p);
    }
    if let Err(e) = reg.persist(id) {
        log::warn!("container {}: its networks not removed from the store: {e}", &id[..12.min(id.len())]);
    }
}

/// Takes the places of containers that are not in the registry (their records were
/// not restored) off their networks: called once the stored containers are back.
pub fn forget_strays() {
    let live: Vec<String> = registry::list().iter().map(|c| c.id.clone()).collect();
    let strays: Vec<String> = REGISTRY.lock().attached.keys().filter(|id| !live.contains(id)).cloned().collect();
    for id in strays {
        log::warn!("container {}: not restored, so taken off its networks", &id[..12.min(id.len())]);
        forget(&id);
    }
}

/// The names a container is found by on `place`'s network: its name, its short id
/// and its aliases (on networks that resolve names).
fn names_of(c: &Container, place: &Attachment) -> Vec<String> {
    if !place.network.resolves_names() {
        return Vec::new();
    }
    let mut names = vec![c.name(), String::from(&c.id[..12.min(c.id.len())])];
    names.extend(place.aliases.iter().cloned());
    names
}

fn join_one(c: &Container, place: &Attachment) {
    if let Some(ip) = place.ip {
        stack::attach(&c.sandbox.net, place.network.number, ip, names_of(c, place));
    }
}

/// Makes a starting container reachable at its addresses, and by its names (again,
/// after a rename).
pub fn join(c: &Container) {
    for place in attachments(&c.id) {
        join_one(c, &place);
    }
}

/// The names the resolver gives a container's address for on `place`'s network.
pub fn dns_names(c: &Container, place: &Attachment) -> Vec<String> {
    names_of(c, place)
}

/// Whether any of container `id`'s networks resolves names (its `/etc/resolv.conf`
/// then names the resolver first).
pub fn uses_resolver(id: &str) -> bool {
    attachments(id).iter().any(|p| p.network.resolves_names())
}
