//! What happened to containers and volumes, for `docker events`: the most recent
//! [`KEPT`] events, each numbered, and a wait queue woken by each new one.

use crate::sched::WaitQueue;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use spin::Mutex;

/// Events kept for clients that ask for past ones (`--since`), as many as dockerd
/// keeps.
pub const KEPT: usize = 256;

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its number: events are numbered from 0 as they happen.
    pub seq: u64,
    /// When, in ns since the epoch.
    pub time_ns: u64,
    /// `container` or `volume`.
    pub kind: &'static str,
    /// `create`, `start`, `die`...
    pub action: String,
    /// The container's id, or the volume's name.
    pub id: String,
    /// `name`, `image`, labels, `exitCode`...
    pub attributes: Vec<(String, String)>,
}

struct Log {
    events: VecDeque<Arc<Event>>,
    next_seq: u64,
}

static LOG: Mutex<Log> = Mutex::new(Log { events: VecDeque::new(), next_seq: 0 });
/// Woken by every event.
pub static CHANGED: WaitQueue = WaitQueue::new();

/// Records an event.
pub fn publish(kind: &'static str, action: String, id: String, attributes: Vec<(String, String)>) {
    {
        let mut log = LOG.lock();
        let seq = log.next_seq;
        log.next_seq += 1;
        let time_ns = crate::time::realtime_ns();
        log.events.push_back(Arc::new(Event { seq, time_ns, kind, action, id, attributes }));
        if log.events.len() > KEPT {
            log.events.pop_front();
        }
    }
    CHANGED.wake_all();
}

/// Records an event of container `c`: its name, image and labels as attributes, and
/// `extra` ones.
pub fn container(c: &crate::Container, action: &str, extra: &[(&str, String)]) {
    let mut attributes = vec![(String::from("image"), c.config.image_name.clone()), (String::from("name"), c.name())];
    attributes.extend(c.config.labels.iter().cloned());
    attributes.extend(extra.iter().map(|(k, v)| (String::from(*k), v.clone())));
    publish("container", String::from(action), c.id.clone(), attributes);
}

/// The events numbered `from` on (those still kept), and the number of the next.
pub fn read_from(from: u64) -> (Vec<Arc<Event>>, u64) {
    let log = LOG.lock();
    let events = log.events.iter().filter(|e| e.seq >= from).cloned().collect();
    (events, log.next_seq)
}

/// The number of the first kept event at or after `time_ns`.
pub fn first_since(time_ns: u64) -> u64 {
    let log = LOG.lock();
    log.events.iter().find(|e| e.time_ns >= time_ns).map_or(log.next_seq, |e| e.seq)
}

/// The number the next event will have.
pub fn next_seq() -> u64 {
    LOG.lock().next_seq
}
