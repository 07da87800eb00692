//! The control agent: a subset of the Docker Engine HTTP API on a machine port, so the
//! `docker` CLI deploys and manages containers (`docker -H tcp://HOST:2375 ...`).
//!
//! It is a kernel service built only on interfaces anything else could use: a TCP
//! listener in the machine's port space, and the container API (create, start, signal,
//! logs, remove). Each connection is served by its own kernel thread; HTTP framing,
//! routing and the JSON shapes come from `berth-docker`.
//!
//! Command line: `agent=PORT` (default 2375) or `agent=off`; `agent-token=SECRET`
//! requires `Authorization: Bearer SECRET` on every request; `agent-image-max=SIZE`
//! bounds an imported image (default 512m).

mod conn;
mod containers;
mod dispatch;
mod error;
mod images;
mod inspect;
mod streams;
mod system;

use crate::fs::FileOps;
use crate::net::{SockAddr, SocketOps, TcpSocket};
use crate::sched;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use berth_boot::KernelArgs;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;

/// The API version berth speaks (the docker CLI uses the lower of this and its own).
pub const API_VERSION: &str = "1.50";
/// The oldest API version accepted.
pub const MIN_API_VERSION: &str = "1.24";
/// Connections served at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 64;
/// Default bound on an imported image.
const DEFAULT_IMAGE_LIMIT: u64 = 512 << 20;

/// How the agent was configured.
pub struct Settings {
    /// The machine port it listens on.
    pub port: u16,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
    /// The largest image upload, bytes.
    pub image_limit: u64,
}

static SETTINGS: spin::Once<Settings> = spin::Once::new();
/// Accepted connections waiting for their thread.
static PENDING: Mutex<VecDeque<Arc<dyn FileOps>>> = Mutex::new(VecDeque::new());
/// Connections being served.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

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
            DEFAULT_IMAGE_LIMIT
        }
        None => DEFAULT_IMAGE_LIMIT,
    };
    if !crate::net::present() {
        log::info!("no network: the agent is off");
        return;
    }
    let token = args.get("agent-token").map(String::from);
    SETTINGS.call_once(|| Settings { port, token, image_limit });
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
    let auth = if s.token.is_some() { "a bearer token is required" } else { "no authentication" };
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

/// Gives a new connection its own thread (or turns it away when too many are open).
fn hand_over(file: Arc<dyn FileOps>) {
    if ACTIVE.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
        let mut conn = conn::Conn::new(file);
        conn.close_after();
        let _ = conn.error(&error::ApiError::new(503, "too many connections to the agent; try again"));
        return;
    }
    ACTIVE.fetch_add(1, Ordering::Relaxed);
    PENDING.lock().push_back(file);
    if let Err(e) = sched::spawn_kernel("agent-conn", connection_thread, 0) {
        log::warn!("no thread for a connection: {e}");
        PENDING.lock().pop_back();
        ACTIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

fn connection_thread(_: usize) -> ! {
    let file = PENDING.lock().pop_front();
    if let Some(file) = file {
        dispatch::serve(conn::Conn::new(file));
    }
    ACTIVE.fetch_sub(1, Ordering::Relaxed);
    sched::exit_current()
}
