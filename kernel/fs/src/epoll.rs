//! epoll instances: interest lists that say which of the files they watch are ready.
//!
//! An [`Epoll`] keeps one [`Interest`] per (open file, descriptor number) pair, as
//! Linux does. It learns of changes through relays: each watched file's wait queue
//! relays its wakes to the instance's own queue, so `epoll_wait` blocks on that one
//! queue, and an epoll instance is itself a pollable file (readable when it has
//! something to report) that poll, select or another epoll instance can watch.
//!
//! Readiness is evaluated when asked, not queued: level-triggered interests report
//! whenever the file is ready; edge-triggered ones (`EPOLLET`) only if the file's wait
//! queue was woken since their last report (its generation moved) or new events
//! appeared; one-shot ones (`EPOLLONESHOT`) are disarmed after a report until
//! `EPOLL_CTL_MOD`.
//!
//! Interests hold the open file weakly. Linux drops an interest when the file's last
//! reference is closed; here an interest whose file is gone is dropped the next time
//! the list is looked at, which reports and keeps nothing for it meanwhile, and never
//! keeps a closed file (or its pipe buffer) alive.

use super::{Fd, FileOps, OpenFile, Ready};
use crate::mm::{Charge, MemoryCounter};
use crate::sched::{WaitError, WaitQueue, WakeRelay};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::fs::Stat;
use berth_abi::poll::*;
use spin::Mutex;

/// Deepest chain of epoll instances watching each other (Linux's `EP_MAX_NESTS`):
/// adding a watch that would make a path longer than this many links is ELOOP.
const MAX_NESTS: usize = 4;

/// One watched (file, descriptor) pair.
struct Interest {
    file: Weak<OpenFile>,
    fd: Fd,
    /// `EPOLL*` events asked for, always with EPOLLERR and EPOLLHUP, plus the mode bits.
    events: u32,
    /// Returned with each event.
    data: u64,
    /// False once a one-shot interest has reported, until `EPOLL_CTL_MOD`.
    armed: bool,
    /// Edge-triggered: the file's queue generation and the events at the last report.
    last_report: Option<(u64, u32)>,
    /// Wakes the instance's queue when the file's queue is woken.
    _relay: Option<WakeRelay>,
    /// [`crate::param::EPOLL_INTEREST_COST`], charged to the instance's container.
    _charge: Option<Charge>,
}

/// The `EPOLL*` bits a file's readiness amounts to.
fn readiness_events(r: Ready) -> u32 {
    let mut events = 0;
    if r.read {
        events |= EPOLLIN | EPOLLRDNORM;
    }
    if r.write {
        events |= EPOLLOUT | EPOLLWRNORM;
    }
    if r.hangup {
        events |= EPOLLHUP;
    }
    if r.error {
        events |= EPOLLERR;
    }
    if r.read_hangup {
        events |= EPOLLRDHUP;
    }
    events
}

impl Interest {
    /// The events to report for `file` now (0 for none), and the queue generation they
    /// were seen at. Changes nothing.
    fn due(&self, file: &OpenFile) -> (u32, u64) {
        if !self.armed {
            return (0, 0);
        }
        // Read before the readiness, so a wake in between leads to a second report
        // rather than a missed one.
        let generation = file.ops.wait_queue().map_or(0, WaitQueue::generation);
        let events = readiness_events(file.ops.ready()) & self.events;
        let seen_before = self.events & EPOLLET != 0
            && self.last_report.is_some_and(|(g, reported)| g == generation && events & !reported == 0);
        if seen_before { (0, generation) } else { (events, generation) }
    }

    /// Records that `events` seen at `generation` were reported.
    fn reported(&mut self, events: u32, generation: u64) {
        if self.events & EPOLLONESHOT != 0 {
            self.armed = false;
        }
        if self.events & EPOLLET != 0 {
            self.last_report = Some((generation, events));
        }
    }

    fn is(&self, file: &Arc<OpenFile>, fd: Fd) -> bool {
        self.fd == fd && core::ptr::eq(self.file.as_ptr(), Arc::as_ptr(file))
    }
}

/// An epoll instance.
pub struct Epoll {
    /// Woken through relays by every watched file, and when an interest is added or
    /// changed.
    queue: Arc<WaitQueue>,
    interests: Mutex<Vec<Interest>>,
    /// Instances that watch (or once watched) this one, for the nesting limit; those
    /// that no longer do are dropped when it is next checked.
    watchers: Mutex<Vec<Weak<Epoll>>>,
    /// This instance, for the watchers lists of the instances it watches.
    me: Weak<Epoll>,
    /// What its interests are charged to (the container that made it).
    memory: Option<Arc<MemoryCounter>>,
}

impl Epoll {
    /// An instance with an empty interest list, charging its interests to `memory`.
    pub fn new(memory: Option<Arc<MemoryCounter>>) -> Arc<Epoll> {
        Arc::new_cyclic(|me| Epoll {
            queue: Arc::new(WaitQueue::new()),
            interests: Mutex::new(Vec::new()),
            watchers: Mutex::new(Vec::new()),
            me: me.clone(),
            memory,
        })
    }

    /// `EPOLL_CTL_ADD`: watches `file` (open at `fd`) for `event`. ELOOP if `file` is an
    /// epoll instance that watches this one or would nest too deep, EEXIST if the pair
    /// is already watched.
    pub fn add(&self, file: &Arc<OpenFile>, fd: Fd, event: EpollEvent) -> Result<(), Errno> {
        let nested = file.ops.as_epoll();
        if let Some(inner) = nested {
            // Checked before locking the list: the walk below may come back here.
            if inner.depth_below(self, 0) + 1 + self.depth_above(0) > MAX_NESTS {
                return Err(Errno::ELOOP);
            }
        }
        {
            let mut interests = self.interests.lock();
            interests.retain(|i| i.file.strong_count() > 0);
            if interests.iter().any(|i| i.is(file, fd)) {
                return Err(Errno::EEXIST);
            }
            if interests.len() >= crate::param::MAX_EPOLL_INTERESTS {
                return Err(Errno::ENOSPC);
            }
            let charge = Charge::maybe(self.memory.as_ref(), crate::param::EPOLL_INTEREST_COST).ok_or(Errno::ENOMEM)?;
            interests.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            interests.push(Interest {
                file: Arc::downgrade(file),
                fd,
                events: event.events | EPOLLERR | EPOLLHUP,
                data: event.data,
                armed: true,
                last_report: None,
                _relay: file.ops.wait_queue().map(|q| q.relay_to(&self.queue)),
                _charge: charge,
            });
        }
        if let Some(inner) = nested {
            let mut watchers = inner.watchers.lock();
            if !watchers.iter().any(|w| w.ptr_eq(&self.me)) {
                watchers.push(self.me.clone());
            }
        }
        self.queue.wake_all();
        Ok(())
    }

    /// `EPOLL_CTL_MOD`: replaces the events and data of the interest in (`file`, `fd`)
    /// and re-arms it. ENOENT if there is none, EINVAL if it was added with
    /// EPOLLEXCLUSIVE.
    pub fn modify(&self, file: &Arc<OpenFile>, fd: Fd, event: EpollEvent) -> Result<(), Errno> {
        {
            let mut interests = self.interests.lock();
            let interest = interests.iter_mut().find(|i| i.is(file, fd)).ok_or(Errno::ENOENT)?;
            if interest.events & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            interest.events = event.events | EPOLLERR | EPOLLHUP;
            interest.data = event.data;
            interest.armed = true;
            interest.last_report = None;
        }
        self.queue.wake_all();
        Ok(())
    }

    /// `EPOLL_CTL_DEL`: stops watching (`file`, `fd`). ENOENT if it was not watched.
    pub fn remove(&self, file: &Arc<OpenFile>, fd: Fd) -> Result<(), Errno> {
        let removed = {
            let mut interests = self.interests.lock();
            let at = interests.iter().position(|i| i.is(file, fd)).ok_or(Errno::ENOENT)?;
            interests.remove(at)
        };
        // Dropped outside the lock: its relay and file reference go with it.
        drop(removed);
        Ok(())
    }

    /// Blocks until there are events to report, then takes up to `max` of them (see
    /// [`Epoll::take_ready`]). Ends early when the deadline (ns on the monotonic clock)
    /// passes or `interrupted` says so.
    pub fn wait(
        &self,
        max: usize,
        deadline: Option<u64>,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Vec<EpollEvent>, WaitError> {
        self.queue.wait_until(
            || {
                let ready = self.take_ready(max);
                (!ready.is_empty()).then_some(ready)
            },
            deadline,
            Some(interrupted),
        )
    }

    /// Takes up to `max` events to report now, updating edge-triggered and one-shot
    /// interests as reported. When `max` cuts the list short, the scan resumes after the
    /// last interest reported next time, so no ready file is starved.
    fn take_ready(&self, max: usize) -> Vec<EpollEvent> {
        let mut interests = self.interests.lock();
        interests.retain(|i| i.file.strong_count() > 0);
        let mut out = Vec::new();
        let mut last = 0;
        for (at, interest) in interests.iter_mut().enumerate() {
            if out.len() == max {
                break;
            }
            let Some(file) = interest.file.upgrade() else { continue };
            let (events, generation) = interest.due(&file);
            if events != 0 {
                out.push(EpollEvent { events, data: interest.data });
                interest.reported(events, generation);
                last = at;
            }
        }
        if out.len() == max {
            interests.rotate_left(last + 1);
        }
        out
    }

    /// One line per interest: its descriptor, the events asked for, whether armed,
    /// the last edge-triggered report (generation, events), and the file's queue
    /// generation and readiness now (for the console's `ps NAME`).
    pub fn describe_interests(&self) -> Vec<String> {
        let interests = self.interests.lock();
        interests
            .iter()
            .map(|i| match i.file.upgrade() {
                Some(file) => {
                    let generation = file.ops.wait_queue().map_or(0, WaitQueue::generation);
                    let now = readiness_events(file.ops.ready());
                    alloc::format!(
                        "fd {} events {:#x} armed {} last {:?} generation {generation} ready {now:#x} relay {}",
                        i.fd.number(),
                        i.events,
                        i.armed,
                        i.last_report,
                        i._relay.is_some()
                    )
                }
                None => alloc::format!("fd {} (file gone)", i.fd.number()),
            })
            .collect()
    }

    /// Whether any interest has something to report (without taking it).
    fn has_ready(&self) -> bool {
        let mut interests = self.interests.lock();
        interests.retain(|i| i.file.strong_count() > 0);
        interests.iter().any(|i| i.file.upgrade().is_some_and(|f| i.due(&f).0 != 0))
    }

    /// The longest chain of epoll instances below this one (0 if it watches none), or
    /// more than [`MAX_NESTS`] if the chain reaches `top` (a loop) or goes too deep.
    fn depth_below(&self, top: &Epoll, depth: usize) -> usize {
        if core::ptr::eq(self, top) || depth > MAX_NESTS {
            return MAX_NESTS + 1;
        }
        let inner: Vec<Arc<OpenFile>> = self.interests.lock().iter().filter_map(|i| i.file.upgrade()).collect();
        inner
            .iter()
            .filter_map(|f| f.ops.as_epoll())
            .map(|e| e.depth_below(top, depth + 1).saturating_add(1))
            .max()
            .unwrap_or(0)
    }

    /// The longest chain of epoll instances above this one (0 if none watches it).
    fn depth_above(&self, depth: usize) -> usize {
        if depth > MAX_NESTS {
            return MAX_NESTS + 1;
        }
        let outer: Vec<Arc<Epoll>> = {
            let mut watchers = self.watchers.lock();
            watchers.retain(|w| w.upgrade().is_some_and(|o| o.watches(self)));
            watchers.iter().filter_map(Weak::upgrade).collect()
        };
        outer.iter().map(|e| e.depth_above(depth + 1).saturating_add(1)).max().unwrap_or(0)
    }

    /// Whether `inner` is among the files this instance watches.
    fn watches(&self, inner: &Epoll) -> bool {
        let files: Vec<Arc<OpenFile>> = self.interests.lock().iter().filter_map(|i| i.file.upgrade()).collect();
        files.iter().any(|f| f.ops.as_epoll().is_some_and(|e| core::ptr::eq(e, inner)))
    }
}

impl FileOps for Epoll {
    fn stat(&self) -> Result<Stat, Errno> {
        // An anonymous inode, as Linux gives every epoll instance: mode 0600, no type.
        Ok(Stat { st_mode: 0o600, st_nlink: 1, st_blksize: 4096, ..Stat::default() })
    }

    fn ready(&self) -> Ready {
        Ready { read: self.has_ready(), ..Ready::default() }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn as_epoll(&self) -> Option<&Epoll> {
        Some(self)
    }

    fn describe(&self) -> String {
        String::from("anon_inode:[eventpoll]")
    }
}
