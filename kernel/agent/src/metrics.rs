//! `GET /metrics`: what an operator's Prometheus scrapes (text format 0.0.4): the
//! containers by state, and for each its CPU time, memory, processes and network
//! traffic; the machine's memory and packets; system calls; and the agent's own
//! requests by outcome.

use super::conn::Conn;
use super::error::ApiError;
use super::reply::{Handled, Next};
use crate::container::{Status, registry};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use berth_docker::metrics::{CONTENT_TYPE, Kind, Page};
use core::sync::atomic::{AtomicU64, Ordering};

/// Requests answered, by outcome: success, client error (4xx), server error (5xx).
static REQUESTS: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// Counts a request the agent answered with `status`.
pub fn note_request(status: u16) {
    let outcome = match status {
        500.. => 2,
        400..=499 => 1,
        _ => 0,
    };
    REQUESTS[outcome].fetch_add(1, Ordering::Relaxed);
}

/// The page (see the module comment).
pub fn metrics(conn: &Conn) -> Handled {
    let mut page = Page::new();
    let containers = registry::list();
    let state = |c: &crate::container::Container| match c.status() {
        Status::Created => "created",
        Status::Running if c.sandbox.is_frozen() => "paused",
        Status::Running => "running",
        Status::Exited(_) => "exited",
    };
    page.family("berth_containers", Kind::Gauge, "Containers, by state.");
    for s in ["created", "running", "paused", "exited"] {
        page.sample("berth_containers", &[("state", s)], containers.iter().filter(|c| state(c) == s).count());
    }
    // Each container's figures, taken once.
    let rows: Vec<(String, String, [f64; 6])> = containers
        .iter()
        .map(|c| {
            let (rx, tx) = c.sandbox.net.traffic();
            let limit = match c.sandbox.memory.limit() {
                u64::MAX => crate::mm::container_memory().1,
                l => l,
            };
            let cpu = c.sandbox.cpu_ns() as f64 / 1e9;
            let figures = [
                cpu,
                c.sandbox.memory.used() as f64,
                limit as f64,
                c.sandbox.task_count() as f64,
                rx as f64,
                tx as f64,
            ];
            (c.id.clone(), c.name(), figures)
        })
        .collect();
    let per_container: [(&str, Kind, &str); 6] = [
        ("berth_container_cpu_seconds_total", Kind::Counter, "CPU time the container's programs used."),
        ("berth_container_memory_bytes", Kind::Gauge, "Memory charged to the container."),
        ("berth_container_memory_limit_bytes", Kind::Gauge, "The container's memory limit (or the machine's)."),
        ("berth_container_pids", Kind::Gauge, "The container's processes and threads."),
        ("berth_container_network_receive_bytes_total", Kind::Counter, "Bytes the container received."),
        ("berth_container_network_transmit_bytes_total", Kind::Counter, "Bytes the container sent."),
    ];
    for (i, (name, kind, help)) in per_container.into_iter().enumerate() {
        page.family(name, kind, help);
        for (id, container, figures) in &rows {
            page.sample(name, &[("id", id), ("name", container)], figures[i]);
        }
    }
    let (used, limit) = crate::mm::container_memory();
    page.family("berth_memory_containers_bytes", Kind::Gauge, "Memory charged to all containers.");
    page.sample("berth_memory_containers_bytes", &[], used);
    page.family("berth_memory_containers_limit_bytes", Kind::Gauge, "Memory all containers together may use.");
    page.sample("berth_memory_containers_limit_bytes", &[], limit);
    page.family("berth_memory_frames_used", Kind::Gauge, "4 KiB frames in use.");
    page.sample("berth_memory_frames_used", &[], crate::mm::usage().frames_used);
    let net = crate::net::stats();
    page.family("berth_network_packets_total", Kind::Counter, "Packets through the machine's network device.");
    page.sample("berth_network_packets_total", &[("direction", "receive")], net.rx_packets);
    page.sample("berth_network_packets_total", &[("direction", "transmit")], net.tx_packets);
    page.family("berth_syscalls_total", Kind::Counter, "System calls the containers' programs made.");
    page.sample("berth_syscalls_total", &[], berth_base::counter::SYSCALLS.total());
    page.family("berth_agent_requests_total", Kind::Counter, "Requests the agent answered, by outcome.");
    for (i, outcome) in ["success", "client_error", "server_error"].into_iter().enumerate() {
        page.sample("berth_agent_requests_total", &[("outcome", outcome)], REQUESTS[i].load(Ordering::Relaxed));
    }
    page.family("berth_uptime_seconds", Kind::Gauge, "Time since boot.");
    page.sample("berth_uptime_seconds", &[], format!("{:.3}", crate::time::now_ns() as f64 / 1e9));
    conn.respond(200, Some(CONTENT_TYPE), page.finish().as_bytes()).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
