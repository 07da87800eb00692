//! The control agent: a subset of the Docker Engine HTTP API on a machine port, so the
//! `docker` CLI deploys and manages containers (`docker -H tcp://HOST:2375 ...`).
//!
//! It is a kernel service built only on interfaces anything else could use: a TCP
//! listener in the machine's port space, and the container API (create, start, signal,
//! logs, remove). Each connection is served by its own kernel thread; HTTP framing,
//! routing and the JSON shapes come from `berth-docker`.
//!
//! Command line: `agent=PORT` (default 2375) or `agent=off`; `agent-token=SECRET`
//! requires `Authorization: Bearer SECRET` on every request, and without one the agent
//! does not start unless `agent-insecure` asks it to serve anyone (then every container
//! that can reach the port can manage every other); `agent-image-max=SIZE` bounds an
//! imported image (default 512m).
//!
//! Connections cost a bounded amount: at most [`crate::param::AGENT_MAX_CONNECTIONS`] are served at once,
//! a request head must arrive whole within a deadline, an idle connection is closed
//! after a while, and when all are taken, the one that has waited longest for a
//! request is closed to make room for a new client.

#![no_std]
#![cfg(target_os = "none")]
#![forbid(unsafe_code)]

extern crate alloc;

// The layers below, under the names this crate's modules use.
use berth_base::{LINUX_RELEASE, VERSION, param, time};
use berth_container as container;
use berth_fs as fs;
use berth_mm as mm;
use berth_netstack as net;
use berth_proc::{proc, sandbox};
use berth_sched as sched;

mod archive;
mod conn;
mod containers;
mod copy;
mod dispatch;
mod error;
mod events;
mod exec;
mod images;
mod inspect;
mod lookup;
mod metrics;
mod networks;
mod processes;
mod reply;
mod streams;
mod system;
mod volumes;

use crate::fs::FileOps;
use crate::net::{SockAddr, SocketOps, TcpSocket};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_boot::KernelArgs;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::Mutex;

/// The API version berth speaks (the docker CLI uses the lower of this and its own).
pub const API_VERSION: &str = "1.50";
/// The oldest API version accepted.
pub const MIN_API_VERSION: &str = "1.24";

/// Who may use the agent.
pub enum Auth {
    /// Requests carrying `Authorization: Bearer <token>`.
    Token(String),
    /// Anyone who can connect (`agent-insecure`).
    Anyone,
}

/// How the agent was configured.
pub struct Settings {
    /// The machine port it listens on.
    pub port: u16,
    /// Who may use it.
    pub auth: Auth,
    /// The largest image upload, bytes.
    pub image_limit: u64,
    /// Registries (`host:port`) `docker pull` may use, over plain HTTP
    /// (`insecure-registry=HOST:PORT`, repeatable, or several joined by commas).
    pub insecure_registries: Vec<String>,
}

static SETTINGS: spin::Once<Settings> = spin::Once::new();
/// Accepted connections waiting for their thread.
static PENDING: Mutex<VecDeque<Arc<Slot>>> = Mutex::new(VecDeque::new());
/// Connections being served.
static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());

/// One connection being served, as the listener sees it.
pub struct Slot {
    /// The connection.
    pub file: Arc<dyn FileOps>,
    /// Monotonic time it began waiting for the next request (0 while serving one).
    waiting_since: AtomicU64,
    /// Closed by the listener to make room: its thread ends quietly.
    evicted: AtomicBool,
}

impl Slot {
    /// Notes that the connection now waits for a request (or no longer does).
    pub fn set_waiting(&self, waiting: bool) {
        let since = if waiting { crate::time::now_ns().max(1) } else { 0 };
        self.waiting_since.store(since, Ordering::Relaxed);
    }

    /// Whether the listener closed it to make room.
    pub fn evicted(&self) -> bool {
        self.evicted.load(Ordering::Relaxed)
    }
}

/// The agent's settings (after `start`).
pub fn settings() -> &'static Settings {
    SETTINGS.get().expect("the agent has started")
}

/// Starts the agent as the kernel command line says.
pub fn start(args: &KernelArgs) {
    let port = match args.get("agent") {
        Some("off" | "no" | "0") => return,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => {
                log::error!("agent={p}: not a port; the agent is off");
                return;
            }
        },
        None => 2375,
    };
    let image_limit = match args.get("agent-image-max").map(crate::container::parse_size) {
        Some(Some(n)) => n,
        Some(None) => {
            log::error!("agent-image-max: not a size; using the default");
            crate::param::DEFAULT_IMAGE_LIMIT
        }
        None => crate::param::DEFAULT_IMAGE_LIMIT,
    };
    if !crate::net::present() {
        log::info!("no network: the agent is off");
        return;
    }
    let auth = match (args.get("agent-token").filter(|t| !t.is_empty()), args.has("agent-insecure")) {
        (Some(token), _) => Auth::Token(String::from(token)),
        (None, true) => {
            log::warn!("agent-insecure: the Docker API on port {port} serves anyone who connects, containers included");
            Auth::Anyone
        }
        (None, false) => {
            log::error!(
                "agent: not started: set agent-token=SECRET (clients send `Authorization: Bearer SECRET`), \
                 or agent-insecure to serve anyone who can connect, every container included"
            );
            return;
        }
    };
    let insecure_registries = args
        .get_all("insecure-registry")
        .flat_map(|r| r.split(','))
        .filter(|r| !r.is_empty())
        .map(String::from)
        .collect();
    SETTINGS.call_once(|| Settings { port, auth, image_limit, insecure_registries });
    crate::container::volumes::restore();
    crate::container::networks::restore();
    containers::restore();
    crate::container::networks::forget_strays();
    if let Err(e) = sched::spawn_kernel("agent", listener_thread, 0) {
        log::error!("cannot start the agent: {e}");
    }
}

fn listener_thread(_: usize) -> ! {
    let s = settings();
    let listener = TcpSocket::new(crate::net::machine_namespace());
    let at = SockAddr::Inet(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, s.port));
    if let Err(e) = listener.bind(&at).and_then(|()| listener.listen(64)) {
        log::error!("cannot listen on port {}: {e:?}", s.port);
        sched::exit_current();
    }
    let auth = match s.auth {
        Auth::Token(_) => "a bearer token is required",
        Auth::Anyone => "no authentication",
    };
    log::info!("Docker Engine API {API_VERSION} on port {} ({auth})", s.port);
    loop {
        match listener.accept(false) {
            Ok((file, _)) => hand_over(file),
            Err(e) => {
                log::warn!("accept: {e:?}");
                let _ = sched::sleep(crate::time::now_ns() + 100_000_000, None);
            }
        }
    }
}

/// Gives a new connection its own thread; when all are taken, closes the one that has
/// waited longest for a request to make room, or turns the new one away.
fn hand_over(file: Arc<dyn FileOps>) {
    let slot = Arc::new(Slot { file, waiting_since: AtomicU64::new(0), evicted: AtomicBool::new(false) });
    slot.set_waiting(true);
    {
        let mut slots = SLOTS.lock();
        if slots.len() >= crate::param::AGENT_MAX_CONNECTIONS {
            let now = crate::time::now_ns();
            let oldest = slots
                .iter()
                .filter(|s| s.waiting_since.load(Ordering::Relaxed) != 0 && !s.evicted())
                .min_by_key(|s| s.waiting_since.load(Ordering::Relaxed))
                .filter(|s| {
                    now.saturating_sub(s.waiting_since.load(Ordering::Relaxed)) > crate::param::AGENT_EVICT_AFTER_NS
                })
                .cloned();
            match oldest {
                Some(old) => {
                    old.evicted.store(true, Ordering::Relaxed);
                    // Its thread wakes from its receive and ends; the slot goes with it.
                    if let Some(socket) = crate::net::socket_of(old.file.as_ref()) {
                        let _ = socket.shutdown(berth_abi::net::SHUT_RDWR);
                    }
                    slots.retain(|s| !Arc::ptr_eq(s, &old));
                }
                None => {
                    drop(slots);
                    let mut conn = conn::Conn::new(slot.file.clone());
                    conn.close_after();
                    // What the client sent is read first (without waiting), so closing
                    // ends the connection rather than resetting it, which would lose
                    // the answer.
                    let _ = conn.try_receive();
                    let _ = conn.error(&error::ApiError::new(503, "too many connections to the agent; try again"));
                    conn.shutdown_write();
                    let _ = conn.try_receive();
                    return;
                }
            }
        }
        slots.push(slot.clone());
    }
    PENDING.lock().push_back(slot.clone());
    if let Err(e) = sched::spawn_kernel("agent-conn", connection_thread, 0) {
        log::warn!("no thread for a connection: {e}");
        PENDING.lock().retain(|s| !Arc::ptr_eq(s, &slot));
        SLOTS.lock().retain(|s| !Arc::ptr_eq(s, &slot));
    }
}

fn connection_thread(_: usize) -> ! {
    let slot = PENDING.lock().pop_front();
    if let Some(slot) = slot {
        dispatch::serve(conn::Conn::new(slot.file.clone()), &slot);
        SLOTS.lock().retain(|s| !Arc::ptr_eq(s, &slot));
    }
    sched::exit_current()
}
