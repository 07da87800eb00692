//! Endpoints that stream: `logs` (with `follow`), `attach` (a hijacked connection,
//! standard input included), and `stats`.

use super::conn::Conn;
use super::error::ApiError;
use super::lookup;
use super::reply::{Handled, Next};
use crate::container::{Container, Status, registry};
use crate::sandbox::{LogEntry, Stream};
use crate::sched::{self, WaitQueue};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::RequestHead;

/// The content type of a container's output: raw with a terminal, framed without.
fn output_type(c: &Container) -> &'static str {
    if c.config.tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" }
}

/// Waits until `ready` gives a value, waking when one of `queues` is woken or the
/// client's connection changes; None when the client has gone away (closed its side
/// of the connection).
pub fn wait_unless_gone<T>(conn: &Conn, queues: &[&WaitQueue], ready: impl FnMut() -> Option<T>) -> Option<T> {
    wait_for(conn, queues, ready, true)
}

/// As [`wait_unless_gone`]; with `half_close_ends` false, only a connection closed
/// both ways counts as gone (an attach client half-closes after its input).
pub fn wait_for<T>(
    conn: &Conn,
    queues: &[&WaitQueue],
    mut ready: impl FnMut() -> Option<T>,
    half_close_ends: bool,
) -> Option<T> {
    let mut all: Vec<&WaitQueue> = queues.to_vec();
    all.extend(conn.file().wait_queue());
    sched::wait_any(
        &all,
        || {
            if let Some(v) = ready() {
                return Some(Some(v));
            }
            let r = conn.file().ready();
            (r.hangup || r.error || (half_close_ends && r.read_hangup)).then_some(None)
        },
        None,
        None,
    )
    .ok()
    .flatten()
}

/// Which of a container's output streams a request wants.
#[derive(Clone, Copy)]
struct Streams {
    stdout: bool,
    stderr: bool,
}

impl Streams {
    fn of(head: &RequestHead) -> Streams {
        Streams { stdout: head.query_flag("stdout"), stderr: head.query_flag("stderr") }
    }

    fn wants(self, s: Stream) -> bool {
        match s {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }
}

/// The bytes that carry `entry` to the client: framed (stream id and length) unless
/// the container has a terminal; each line stamped when `timestamps`.
fn encode(c: &Container, entry: &LogEntry, timestamps: bool) -> Vec<u8> {
    let data = if timestamps {
        let stamp = berth_docker::time::rfc3339(entry.time_ns);
        let mut out = Vec::new();
        for line in entry.data.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(stamp.as_bytes());
            out.push(b' ');
            out.extend_from_slice(line);
        }
        out
    } else {
        entry.data.clone()
    };
    if c.config.tty {
        data
    } else {
        let id = if entry.stream == Stream::Stdout { 1 } else { 2 };
        berth_docker::frames::frame(id, &data)
    }
}

/// `GET /containers/{id}/logs?stdout=1&stderr=1[&follow=1][&tail=N][&timestamps=1]
/// [&since=T][&until=T]` (`T`: seconds since the epoch, a fraction allowed; `until`
/// keeps entries up to and including it; a follow ends at the first entry after it).
pub fn logs(conn: &mut Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let streams = Streams::of(head);
    if !streams.stdout && !streams.stderr {
        return Err(ApiError::bad_request("you must choose at least one stream"));
    }
    let (follow, timestamps) = (head.query_flag("follow"), head.query_flag("timestamps"));
    let seconds = |name: &str| head.query(name).and_then(|s| s.split('.').next()?.parse::<u64>().ok());
    let since_ns = seconds("since").map(|s| s * 1_000_000_000);
    // Whole seconds: `until` takes the rest of its second.
    let until_ns = seconds("until").filter(|&u| u > 0).map(|u| u * 1_000_000_000 + 999_999_999);
    conn.start_chunked(200, output_type(&c)).map_err(ApiError::io)?;
    let wanted = |e: &LogEntry| {
        streams.wants(e.stream) && since_ns.is_none_or(|s| e.time_ns >= s) && until_ns.is_none_or(|u| e.time_ns <= u)
    };
    // With `tail`, start where the last lines begin (skipping the lines before them in
    // that first entry); then send the log a batch at a time.
    let (mut next, mut skip_lines) = match head.query("tail").and_then(|t| t.parse::<usize>().ok()) {
        Some(n) => c.sandbox.log.tail_start(n, |s| streams.wants(s)),
        None => (0, 0),
    };
    let send = |conn: &Conn, entries: &[LogEntry], skip_lines: &mut usize| -> bool {
        let mut out = Vec::new();
        for e in entries.iter().filter(|e| wanted(e)) {
            if *skip_lines > 0 {
                let rest: Vec<u8> =
                    e.data.split_inclusive(|&b| b == b'\n').skip(*skip_lines).flatten().copied().collect();
                *skip_lines = 0;
                out.extend(encode(&c, &LogEntry { data: rest, ..e.clone() }, timestamps));
            } else {
                out.extend(encode(&c, e, timestamps));
            }
        }
        conn.chunk(&out).is_ok()
    };
    loop {
        let (entries, after) = c.sandbox.log.read_from(next);
        next = after;
        if !send(conn, &entries, &mut skip_lines) {
            return Ok(Next::Stop);
        }
        if entries.is_empty() || c.sandbox.log.caught_up(next) {
            break;
        }
    }
    // Following: send what arrives until the log is closed and drained (or `until` is
    // past).
    let past_until = || until_ns.is_some_and(|u| crate::time::realtime_ns() > u);
    while follow && !past_until() && !(c.sandbox.log.is_closed() && c.sandbox.log.caught_up(next)) {
        let more = wait_unless_gone(conn, &[&c.sandbox.log.changed], || {
            (!c.sandbox.log.caught_up(next) || c.sandbox.log.is_closed()).then(|| c.sandbox.log.read_from(next))
        });
        let Some((entries, after)) = more else { return Ok(Next::Stop) };
        next = after;
        if !send(conn, &entries, &mut skip_lines) {
            return Ok(Next::Stop);
        }
    }
    conn.end_chunked().map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /containers/{id}/attach?stream=1&stdout=1&stderr=1[&stdin=1][&logs=1]`: the
/// connection becomes a raw stream of the container's output (and, with `stdin`, its
/// input) until the container exits; then it is closed, which ends `docker run`.
pub fn attach(conn: &mut Conn, head: &RequestHead, key: &str) -> Handled {
    let mut c = lookup::container(key)?;
    // `docker start -a` of an ended container attaches first, then starts it: its next
    // run is a new container object (same id), whose output this stream follows.
    let mut follow_next_run = matches!(c.status(), Status::Exited(_));
    let streams = Streams::of(head);
    let stdin = head.query_flag("stdin") && c.config.open_stdin;
    // On a terminal, the detach keys end the attachment; the container runs on.
    let keys =
        berth_docker::detach::parse(head.query("detachKeys").unwrap_or_default()).map_err(ApiError::bad_request)?;
    let mut detacher = berth_docker::detach::Detacher::new(if c.config.tty { keys } else { Vec::new() });
    let mut next = if head.query_flag("logs") { 0 } else { c.sandbox.log.next_seq() };
    if head.upgrade() {
        conn.upgrade(output_type(&c)).map_err(ApiError::io)?;
    } else {
        conn.close_after();
        conn.respond_head_only(200, output_type(&c), 0).map_err(ApiError::io)?;
    }
    let mut stdin_open = stdin;
    loop {
        // Forward the client's input first, then any new output.
        if stdin_open {
            match conn.try_receive() {
                Ok(Some(data)) if data.is_empty() => {
                    c.sandbox.close_stdin();
                    stdin_open = false;
                }
                Ok(Some(data)) => {
                    let fed = detacher.feed(&data);
                    if c.sandbox.write_stdin(&fed.forward).is_err() {
                        stdin_open = false;
                    }
                    if fed.detach {
                        conn.shutdown_write();
                        return Ok(Next::Stop);
                    }
                }
                Ok(None) => {}
                Err(_) => stdin_open = false,
            }
        }
        let (entries, after) = c.sandbox.log.read_from(next);
        next = after;
        let mut out = Vec::new();
        for e in entries.iter().filter(|e| streams.wants(e.stream)) {
            out.extend(encode(&c, e, false));
        }
        if !out.is_empty() && conn.write_all(&out).is_err() {
            return Ok(Next::Stop);
        }
        // An ended container writes no more (one brought back ended at boot never
        // ran, so its log was never closed).
        let ended = c.sandbox.log.is_closed() || follow_next_run;
        if ended && c.sandbox.log.caught_up(next) {
            if !follow_next_run {
                break;
            }
            follow_next_run = false;
            let old = c.clone();
            // (A run that replaces it is in the registry before the old one is marked
            // removed; removed with none in its place, it was `docker rm`ed.)
            let next_run = || match registry::find(&old.id) {
                Ok(run) if !Arc::ptr_eq(&run, &old) => Some(Some(run)),
                _ if old.is_removed() => Some(None),
                _ => None,
            };
            match wait_for(conn, &[&old.state_changed], next_run, false) {
                Some(Some(run)) => {
                    c = run;
                    next = 0;
                    continue;
                }
                Some(None) => break,
                None => return Ok(Next::Stop), // the client has gone away
            }
        }
        let woke = wait_for(
            conn,
            &[&c.sandbox.log.changed],
            || {
                let output = c.sandbox.log.next_seq() > next || c.sandbox.log.is_closed();
                let input = stdin_open && conn.file().ready().read;
                (output || input).then_some(())
            },
            false,
        );
        if woke.is_none() {
            return Ok(Next::Stop); // the client has gone away
        }
    }
    // The program has exited: end the stream so `docker run` moves on to `wait`.
    conn.shutdown_write();
    Ok(Next::Stop)
}

/// One sample of a container's resource use (`previous`: the sample before, whose CPU
/// figures the CLI subtracts to get a percentage).
fn sample(c: &Container, previous: Option<&api::Stats>) -> api::Stats {
    let (rx, tx) = c.sandbox.net.traffic();
    let limit = match c.sandbox.memory.limit() {
        u64::MAX => crate::mm::container_memory().1,
        l => l,
    };
    let cpu = api::CpuStats {
        // berth does not split user and kernel time; all of it counts as user time.
        cpu_usage: api::CpuUsage {
            total_usage: c.sandbox.cpu_ns(),
            usage_in_kernelmode: 0,
            usage_in_usermode: c.sandbox.cpu_ns(),
        },
        // The machine's CPU time: the time since boot on each CPU the scheduler uses.
        system_cpu_usage: crate::time::now_ns() * crate::sched::cpu_count() as u64,
        online_cpus: crate::sched::cpu_count() as u32,
        throttling_data: api::ThrottlingData::default(),
    };
    let mut networks = alloc::collections::BTreeMap::new();
    networks
        .insert(String::from("eth0"), api::NetworkStats { rx_bytes: rx, tx_bytes: tx, ..api::NetworkStats::default() });
    api::Stats {
        read: berth_docker::time::rfc3339(crate::time::realtime_ns()),
        preread: previous.map_or_else(|| String::from(berth_docker::time::ZERO_TIME), |p| p.read.clone()),
        pids_stats: api::PidsStats {
            current: c.sandbox.task_count() as u64,
            limit: Some(u64::from(c.config.limits.pids)),
        },
        num_procs: 0,
        cpu_stats: cpu,
        precpu_stats: previous.map(|p| p.cpu_stats.clone()).unwrap_or_default(),
        memory_stats: api::MemoryStats { usage: c.sandbox.memory.used(), limit, ..api::MemoryStats::default() },
        name: alloc::format!("/{}", c.name()),
        id: c.id.clone(),
        networks,
        ..api::Stats::default()
    }
}

/// `GET /containers/{id}/stats[?stream=0]`: one sample (after a short interval, so CPU
/// use can be computed), or one a second until the client goes away.
pub fn stats(conn: &mut Conn, head: &RequestHead, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let stream = head.query("stream").is_none_or(|s| s == "1" || s == "true");
    let mut previous = sample(&c, None);
    let interval = if stream { 1_000_000_000 } else { 250_000_000 };
    conn.start_chunked(200, "application/json").map_err(ApiError::io)?;
    loop {
        let _ = sched::sleep(crate::time::now_ns() + interval, None);
        let now = sample(&c, Some(&previous));
        if conn.chunk(&api::json_line(&now)).is_err() {
            return Ok(Next::Stop);
        }
        if !stream || c.is_removed() {
            break;
        }
        previous = now;
    }
    conn.end_chunked().map_err(ApiError::io)?;
    Ok(Next::Continue)
}
