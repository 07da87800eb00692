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
    if find(&base).is_none() { base } else { format!("{base}_{}", &id[..6]) }
}

/// Adds a container; its name must be unused.
pub fn insert(container: &Arc<Container>) -> Result<(), String> {
    let mut all = CONTAINERS.lock();
    if all.iter().any(|c| c.name == container.name) {
        return Err(format!("the name `{}` is already in use", container.name));
    }
    all.push(container.clone());
    Ok(())
}

/// Removes a container from the registry.
pub fn remove(container: &Container) {
    CONTAINERS.lock().retain(|c| !core::ptr::eq(Arc::as_ptr(c), container));
}

/// Finds a container by exact name, full id, or unique id prefix.
pub fn find(key: &str) -> Option<Arc<Container>> {
    let all = CONTAINERS.lock();
    if let Some(c) = all.iter().find(|c| c.name == key || c.id == key) {
        return Some(c.clone());
    }
    let mut matches = all.iter().filter(|c| !key.is_empty() && c.id.starts_with(key));
    let first = matches.next()?;
    matches.next().is_none().then(|| first.clone())
}

/// Every container, oldest first.
pub fn list() -> Vec<Arc<Container>> {
    CONTAINERS.lock().clone()
}

/// Called when a container finishes.
pub fn container_finished(_container: &Container) {
    FINISHED.wake_all();
}
