//! A running container's processes: `docker top`, `docker pause` and `unpause`.

use super::conn::Conn;
use super::error::ApiError;
use super::lookup;
use super::reply::{Handled, Next, no_content};
use crate::container::Status;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::RequestHead;
use berth_docker::time::{ps_start, ps_time};

/// `GET /containers/{id}/top`: its processes as `ps -ef` lists them (pids as the
/// container sees them). `ps_args` other than `-ef` are refused: berth runs no `ps`.
pub fn top(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    if c.status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
    }
    if let Some(args) = head.query("ps_args").filter(|a| !a.is_empty() && *a != "-ef") {
        return Err(ApiError::bad_request(format!("berth lists processes as `ps -ef` only, not `ps {args}`")));
    }
    let titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
    let (mono_now, real_now) = (crate::time::now_ns(), crate::time::realtime_ns());
    let mut processes: Vec<Vec<String>> = c
        .sandbox
        .processes()
        .iter()
        .filter(|p| p.exit_status().is_none())
        .map(|p| {
            let uid = p.creds.lock().uid.real;
            let started = real_now.saturating_sub(mono_now.saturating_sub(p.start_ns));
            let info = p.info.lock();
            let cmd: Vec<String> = info.argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            let tty = if c.sandbox.terminal.is_some() { "pts/0" } else { "?" };
            vec![
                format!("{uid}"),
                format!("{}", p.pid),
                format!("{}", p.ppid()),
                String::from("0"),
                ps_start(started),
                String::from(tty),
                ps_time(p.cpu_ns()),
                cmd.join(" "),
            ]
        })
        .collect();
    processes.sort_by_key(|row| row[1].parse::<u32>().unwrap_or(0));
    let reply = api::TopResponse { titles: titles.iter().map(|t| String::from(*t)).collect(), processes };
    conn.json(200, &reply).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /containers/{id}/pause` (`docker pause`): its processes stop where they are,
/// unseen by them, as under the cgroup freezer.
pub fn pause(conn: &Conn, key: &str) -> Handled {
    let c = lookup::container(key)?;
    if c.status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
    }
    if c.sandbox.is_frozen() {
        return Err(ApiError::conflict(format!("Container {} is already paused", c.id)));
    }
    c.sandbox.freeze();
    crate::container::events::container(&c, "pause", &[]);
    no_content(conn)
}

/// `POST /containers/{id}/unpause`.
pub fn unpause(conn: &Conn, key: &str) -> Handled {
    let c = lookup::container(key)?;
    if !c.sandbox.is_frozen() {
        return Err(ApiError::conflict(format!("Container {} is not paused", c.id)));
    }
    c.sandbox.thaw();
    crate::container::events::container(&c, "unpause", &[]);
    no_content(conn)
}
