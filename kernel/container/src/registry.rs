//! All containers, by id and name.

use super::Container;
use crate::sched::WaitQueue;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

static CONTAINERS: Mutex<Vec<Arc<Container>>> = Mutex::new(Vec::new());

/// Woken whenever a container finishes.
pub static FINISHED: WaitQueue = WaitQueue::new();

/// A fresh container id: 64 random hex digits.
pub fn new_id() -> String {
    let mut bytes = [0u8; 32];
    crate::random::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A readable name derived from an id, Docker style (`brave_turing`).
pub fn generated_name(id: &str) -> String {
    const ADJECTIVES: [&str; 16] = [
        "brave", "calm", "eager", "fond", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud",
        "quiet", "sharp", "tender", "witty",
    ];
    const NAMES: [&str; 16] = [
        "bardeen", "curie", "dijkstra", "euler", "feynman", "hopper", "knuth", "lamport", "liskov", "lovelace",
        "noether", "pike", "ritchie", "shannon", "thompson", "turing",
    ];
    let n = u32::from_str_radix(&id[..8], 16).unwrap_or(0) as usize;
    let base = format!("{}_{}", ADJECTIVES[n % 16], NAMES[(n / 16) % 16]);
    if find(&base).is_err() { base } else { format!("{base}_{}", &id[..6]) }
}

/// Adds a container; its name must be unused.
pub fn insert(container: &Arc<Container>) -> Result<(), super::ContainerError> {
    let mut all = CONTAINERS.lock();
    let name = container.name();
    if all.iter().any(|c| c.name() == name) {
        return Err(super::ContainerError::NameInUse(name));
    }
    all.push(container.clone());
    Ok(())
}

/// Renames a container; the new name must be unused.
pub fn rename(container: &Container, name: &str) -> Result<(), super::ContainerError> {
    let all = CONTAINERS.lock();
    if all.iter().any(|c| c.name() == name) {
        return Err(super::ContainerError::NameInUse(String::from(name)));
    }
    container.set_name(String::from(name));
    Ok(())
}

/// Removes a container from the registry.
pub fn remove(container: &Container) {
    CONTAINERS.lock().retain(|c| !core::ptr::eq(Arc::as_ptr(c), container));
}

/// Why no container was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindError {
    /// Nothing has that id, name or id prefix.
    NotFound,
    /// The id prefix fits several containers.
    Ambiguous,
}

/// Finds a container as the Docker daemon does: by full id, exact name, or unique id
/// prefix (`berth_docker::names::lookup`).
pub fn find(key: &str) -> Result<Arc<Container>, FindError> {
    let all = CONTAINERS.lock();
    let keys: Vec<(&str, String)> = all.iter().map(|c| (c.id.as_str(), c.name())).collect();
    match berth_docker::names::lookup(&keys, key, |k| k.0, |k| &k.1) {
        berth_docker::names::Lookup::Found(i) => Ok(all[i].clone()),
        berth_docker::names::Lookup::Ambiguous => Err(FindError::Ambiguous),
        berth_docker::names::Lookup::NotFound => Err(FindError::NotFound),
    }
}

/// Every container, oldest first.
pub fn list() -> Vec<Arc<Container>> {
    CONTAINERS.lock().clone()
}

/// Called when a container finishes.
pub fn container_finished(_container: &Container) {
    FINISHED.wake_all();
}
