//! `GET /events` (`docker events`): events as they happen (and kept ones since a
//! time), one JSON object per line, until the client goes or `until` passes.

use super::conn::Conn;
use super::error::ApiError;
use super::reply::{Handled, Next};
use super::streams::wait_unless_gone;
use crate::container::events::{self, Event};
use alloc::string::String;
use berth_docker::api;
use berth_docker::http::RequestHead;

/// An event as dockerd words it.
fn message(e: &Event) -> api::EventMessage {
    let attributes = e.attributes.iter().cloned().collect();
    let from = e.attributes.iter().find(|(k, _)| k == "image").map(|(_, v)| v.clone()).unwrap_or_default();
    let container = e.kind == "container";
    api::EventMessage {
        status: if container { e.action.clone() } else { String::new() },
        id: if container { e.id.clone() } else { String::new() },
        from: if container { from } else { String::new() },
        kind: String::from(e.kind),
        action: e.action.clone(),
        actor: api::EventActor { id: e.id.clone(), attributes },
        scope: String::from("local"),
        time: (e.time_ns / 1_000_000_000) as i64,
        time_nano: e.time_ns as i64,
    }
}

/// A `since`/`until` parameter, in ns since the epoch.
fn time_param(head: &RequestHead, name: &str) -> Result<Option<u64>, ApiError> {
    match head.query(name).filter(|t| !t.is_empty()) {
        Some(t) => {
            api::event_time(t).map(Some).ok_or_else(|| ApiError::bad_request(alloc::format!("invalid {name}: {t}")))
        }
        None => Ok(None),
    }
}

/// `GET /events[?since=T][&until=T][&filters=...]`.
pub fn stream(conn: &mut Conn, head: &RequestHead) -> Handled {
    let filter = match head.query("filters").filter(|f| !f.is_empty()) {
        Some(f) => api::EventFilter::parse(f).map_err(ApiError::bad_request)?,
        None => api::EventFilter::default(),
    };
    let until = time_param(head, "until")?;
    let mut next = match time_param(head, "since")? {
        Some(since) => events::first_since(since),
        None => events::next_seq(),
    };
    conn.start_chunked(200, "application/json").map_err(ApiError::io)?;
    loop {
        let (kept, after) = events::read_from(next);
        next = after;
        for e in kept {
            if until.is_some_and(|u| e.time_ns > u) {
                return end(conn);
            }
            let m = message(&e);
            if filter.matches(&m) && conn.chunk(&api::json_line(&m)).is_err() {
                return Ok(Next::Stop);
            }
        }
        let now = crate::time::realtime_ns();
        if let Some(until) = until {
            if now >= until {
                return end(conn);
            }
            // A deadline ahead: look again at least every 100 ms.
            let wake = crate::time::now_ns() + (until - now).min(100_000_000);
            let _ = crate::sched::sleep(wake, None);
            continue;
        }
        if wait_unless_gone(conn, &[&events::CHANGED], || (events::next_seq() > next).then_some(())).is_none() {
            return Ok(Next::Stop); // the client has gone away
        }
    }
}

fn end(conn: &Conn) -> Handled {
    if conn.end_chunked().is_err() {
        return Ok(Next::Stop);
    }
    Ok(Next::Continue)
}
