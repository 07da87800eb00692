//! `docker exec`: another process started in a running container, with the
//! container's environment, working directory and user unless the request names its
//! own; its output goes to the client that starts it (not to the container's log),
//! and the client may write its standard input. With `Tty` it has a terminal of its
//! own (`/dev/pts/N`), which the client's bytes are typed into.

use super::conn::Conn;
use super::error::ApiError;
use super::lookup;
use super::reply::{Handled, Next};
use super::streams::wait_for;
use crate::container::{Container, Status};
use crate::fs::OpenFile;
use crate::proc::Process;
use crate::sandbox::files::Terminal;
use crate::sandbox::{LogBuffer, Stream};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_docker::api;
use berth_docker::http::RequestHead;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

/// Execs kept at once; past it, ended ones are forgotten (oldest first), and a new one
/// is refused while all are running.
const MAX_EXECS: usize = 256;

/// One `docker exec`.
struct Exec {
    id: String,
    container: Arc<Container>,
    request: api::ExecCreate,
    /// Its output, until the client has read it.
    log: Arc<LogBuffer>,
    run: Mutex<Run>,
}

/// Where an exec is in its life.
#[derive(Default)]
struct Run {
    started: bool,
    process: Option<Arc<Process>>,
    /// The exit code when its program could not be started (126, or 127: not found).
    failed: Option<i32>,
    /// The writing end of its standard input (`-i`), until the client closes it.
    stdin: Option<Arc<OpenFile>>,
    /// Its terminal (`-t`), which the client's bytes are typed into.
    terminal: Option<Arc<Terminal>>,
}

/// N of the next exec terminal's `/dev/pts/N` (0 is containers' own).
static NEXT_PTS: AtomicU32 = AtomicU32::new(1);

impl Exec {
    /// Its exit code, once it has ended.
    fn exit_code(&self) -> Option<i32> {
        let run = self.run.lock();
        if let Some(code) = run.failed {
            return Some(code);
        }
        let status = run.process.as_ref()?.exit_status()?;
        Some(if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) })
    }

    fn running(&self) -> Option<Arc<Process>> {
        let run = self.run.lock();
        run.process.clone().filter(|p| p.exit_status().is_none())
    }
}

/// Every exec by id, oldest first.
static EXECS: Mutex<Vec<Arc<Exec>>> = Mutex::new(Vec::new());

fn find(id: &str) -> Result<Arc<Exec>, ApiError> {
    EXECS
        .lock()
        .iter()
        .find(|e| e.id == id)
        .cloned()
        .ok_or_else(|| ApiError::new(404, format!("No such exec instance: {id}")))
}

/// Makes room for one more exec: forgets those of removed containers, then ended
/// ones, oldest first.
fn make_room(execs: &mut Vec<Arc<Exec>>) -> Result<(), ApiError> {
    execs.retain(|e| !e.container.is_removed());
    while execs.len() >= MAX_EXECS {
        let ended = execs.iter().position(|e| e.exit_code().is_some() || !e.run.lock().started);
        match ended {
            Some(i) => drop(execs.remove(i)),
            None => return Err(ApiError::new(503, format!("{MAX_EXECS} execs are running; try again later"))),
        }
    }
    Ok(())
}

/// `POST /containers/{id}/exec`: sets up an exec (nothing runs until it is started).
pub fn create(conn: &Conn, key: &str, body: &[u8]) -> Handled {
    let c = lookup::container(key)?;
    let request: api::ExecCreate = api::from_json(body).map_err(ApiError::bad_json)?;
    if c.status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
    }
    if c.sandbox.is_frozen() {
        return Err(ApiError::conflict(format!("Container {} is paused, unpause the container before exec", c.id)));
    }
    if request.cmd.as_ref().is_none_or(|cmd| cmd.is_empty()) {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    berth_docker::detach::parse(&request.detach_keys).map_err(ApiError::bad_request)?;
    if request.privileged {
        return Err(ApiError::bad_request("berth has no privileged execs: a container's root holds no more"));
    }
    let log = Arc::new(LogBuffer::new(crate::param::LOG_CAPACITY, Some(c.sandbox.memory.clone()), None, false));
    let id = crate::container::registry::new_id();
    let command = request.cmd.clone().unwrap_or_default().join(" ");
    crate::container::events::container(&c, &format!("exec_create: {command}"), &[("execID", id.clone())]);
    let exec = Arc::new(Exec { id: id.clone(), container: c, request, log, run: Mutex::new(Run::default()) });
    {
        let mut execs = EXECS.lock();
        make_room(&mut execs)?;
        execs.push(exec);
    }
    conn.json(201, &api::CreateResponse { id, warnings: Vec::new() }).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// The container's environment with the exec's entries in place of those of the
/// same name.
fn environment(exec: &Exec) -> Vec<String> {
    let c = &exec.container;
    let mut env = c.config.full_env(&c.sandbox.hostname);
    for entry in &exec.request.env {
        let key = entry.split('=').next().unwrap_or(entry);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(entry.clone());
    }
    env
}

/// Starts the exec's process; its standard input's writing end if it has one.
fn launch(exec: &Exec, with_stdin: bool) -> Result<(), ApiError> {
    let c = &exec.container;
    let mut run = exec.run.lock();
    if run.started {
        return Err(ApiError::conflict(format!("Exec {} has already been started", exec.id)));
    }
    run.started = true;
    if c.status() != Status::Running {
        run.failed = Some(126);
        return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
    }
    let r = &exec.request;
    let cwd = if r.working_dir.is_empty() { c.config.workdir.as_str() } else { r.working_dir.as_str() };
    let user = if r.user.is_empty() { c.config.user.as_str() } else { r.user.as_str() };
    let argv = r.cmd.clone().unwrap_or_default();
    // As in Docker, an exec gets the container's added groups too.
    let user = (user, c.config.group_add.as_slice());
    if r.tty {
        // A terminal of its own: the client's bytes are typed into it.
        let number = NEXT_PTS.fetch_add(1, Ordering::Relaxed);
        let terminal = Arc::new(Terminal::for_exec(&c.sandbox, exec.log.clone(), number));
        let spawned =
            crate::proc::spawn_exec_on_terminal(&c.sandbox, argv, environment(exec), cwd, user, terminal.clone());
        return match spawned {
            Ok(process) => {
                terminal.set_foreground(process.pgid.load(Ordering::Relaxed));
                if !with_stdin {
                    terminal.hang_up();
                }
                started(exec, &mut run, process);
                run.terminal = Some(terminal);
                Ok(())
            }
            Err(e) => failed(&mut run, e),
        };
    }
    let (reader, writer) = if with_stdin {
        let (r, w) = crate::fs::pipe(Some(c.sandbox.memory.clone()));
        (
            Some(OpenFile::new(r, berth_abi::fs::O_RDONLY, String::from("pipe:[stdin]"))),
            Some(OpenFile::new(w, berth_abi::fs::O_WRONLY, String::from("pipe:[stdin]"))),
        )
    } else {
        (None, None)
    };
    match crate::proc::spawn_exec(&c.sandbox, argv, environment(exec), cwd, user, reader, &exec.log) {
        Ok(process) => {
            started(exec, &mut run, process);
            run.stdin = writer;
            Ok(())
        }
        Err(e) => failed(&mut run, e),
    }
}

/// Notes that the exec's process runs.
fn started(exec: &Exec, run: &mut Run, process: Arc<Process>) {
    let command = exec.request.cmd.clone().unwrap_or_default().join(" ");
    crate::container::events::container(
        &exec.container,
        &format!("exec_start: {command}"),
        &[("execID", exec.id.clone())],
    );
    run.process = Some(process);
}

/// Notes that the exec's program could not start (126, or 127 when not found).
fn failed(run: &mut Run, e: crate::proc::exec::ExecError) -> Result<(), ApiError> {
    run.failed = Some(if e.errno == Errno::ENOENT { 127 } else { 126 });
    Err(ApiError::bad_request(format!("exec failed: {}", e.message)))
}

/// `POST /exec/{id}/start`: starts it; detached, answers at once; otherwise streams its
/// output (framed by stream unless it asked for a terminal) and feeds its standard
/// input from the client, until it has exited and its output has been sent.
pub fn start(conn: &mut Conn, head: &RequestHead, id: &str, body: &[u8]) -> Handled {
    let exec = find(id)?;
    let start: api::ExecStart =
        if body.is_empty() { api::ExecStart::default() } else { api::from_json(body).map_err(ApiError::bad_json)? };
    let r = &exec.request;
    if start.detach {
        launch(&exec, false)?;
        conn.respond(200, None, &[]).map_err(ApiError::io)?;
        return Ok(Next::Continue);
    }
    // As dockerd: the start request's `Tty` decides the framing (clients send the
    // create request's value).
    let tty = start.tty;
    let content_type =
        if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    if head.upgrade() {
        conn.upgrade(content_type).map_err(ApiError::io)?;
    } else {
        conn.close_after();
        conn.respond_head_only(200, content_type, 0).map_err(ApiError::io)?;
    }
    // As dockerd: a program that cannot start is reported on the stream, and its exit
    // code (126, or 127 when not found) in the exec's inspect document.
    if let Err(e) = launch(&exec, r.attach_stdin) {
        let line = format!("{}\r\n", e.message);
        let out = if tty { line.into_bytes() } else { berth_docker::frames::frame(1, line.as_bytes()) };
        let _ = conn.write_all(&out);
        conn.shutdown_write();
        return Ok(Next::Stop);
    }
    let Some(process) = exec.run.lock().process.clone() else { return Ok(Next::Stop) };
    let wants = |s: Stream| match s {
        Stream::Stdout => r.attach_stdout,
        Stream::Stderr => r.attach_stderr,
    };
    let mut next = 0;
    let terminal = exec.run.lock().terminal.clone();
    // On a terminal, the detach keys end the client's attachment; the program runs on.
    let keys = berth_docker::detach::parse(&r.detach_keys).unwrap_or_default();
    let mut detacher = berth_docker::detach::Detacher::new(if terminal.is_some() { keys } else { Vec::new() });
    let mut stdin_open = exec.run.lock().stdin.is_some() || (terminal.is_some() && r.attach_stdin);
    loop {
        if stdin_open {
            match conn.try_receive() {
                Ok(Some(data)) if !data.is_empty() => {
                    if let Some(t) = &terminal {
                        let fed = detacher.feed(&data);
                        t.type_input(&fed.forward);
                        if fed.detach {
                            conn.shutdown_write();
                            return Ok(Next::Stop);
                        }
                    } else {
                        let writer = exec.run.lock().stdin.clone();
                        if writer.is_none_or(|w| w.ops.write(&w, &data).is_err()) {
                            stdin_open = false;
                        }
                    }
                }
                Ok(None) => {}
                // End of input (or a failed connection): the program reads end of file.
                _ => {
                    exec.run.lock().stdin = None;
                    if let Some(t) = &terminal {
                        t.hang_up();
                    }
                    stdin_open = false;
                }
            }
        }
        let (entries, after) = exec.log.read_from(next);
        next = after;
        let mut out = Vec::new();
        for e in entries.iter().filter(|e| wants(e.stream)) {
            if tty {
                out.extend_from_slice(&e.data);
            } else {
                let stream = if e.stream == Stream::Stdout { 1 } else { 2 };
                out.extend(berth_docker::frames::frame(stream, &e.data));
            }
        }
        if !out.is_empty() && conn.write_all(&out).is_err() {
            return Ok(Next::Stop);
        }
        if process.exit_status().is_some() && exec.log.caught_up(next) {
            break;
        }
        let woke = wait_for(
            conn,
            &[&exec.log.changed, &process.vfork_done],
            || {
                let more = exec.log.next_seq() > next || process.exit_status().is_some();
                (more || (stdin_open && conn.file().ready().read)).then_some(())
            },
            false,
        );
        if woke.is_none() {
            return Ok(Next::Stop); // the client has gone away
        }
    }
    exec.run.lock().stdin = None;
    conn.shutdown_write();
    Ok(Next::Stop)
}

/// `GET /exec/{id}/json`.
pub fn inspect(conn: &Conn, id: &str) -> Handled {
    let exec = find(id)?;
    let r = &exec.request;
    let cmd = r.cmd.clone().unwrap_or_default();
    let running = exec.running();
    let user = if r.user.is_empty() { exec.container.config.user.clone() } else { r.user.clone() };
    let shown = api::ExecInspect {
        id: exec.id.clone(),
        container_id: exec.container.id.clone(),
        running: running.is_some(),
        exit_code: exec.exit_code().map(i64::from),
        pid: running.map_or(0, |p| i64::from(p.pid)),
        open_stdin: r.attach_stdin,
        open_stdout: r.attach_stdout,
        open_stderr: r.attach_stderr,
        can_remove: exec.exit_code().is_some(),
        process_config: api::ExecProcessConfig {
            entrypoint: cmd.first().cloned().unwrap_or_default(),
            arguments: cmd.iter().skip(1).cloned().collect(),
            tty: r.tty,
            user,
            privileged: false,
        },
    };
    conn.json(200, &shown).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /exec/{id}/resize?h=ROWS&w=COLUMNS`: its terminal's size (`SIGWINCH` to
/// its foreground group); accepted and ignored for an exec without one.
pub fn resize(conn: &Conn, head: &RequestHead, id: &str) -> Handled {
    let exec = find(id)?;
    let size = |k: &str| head.query(k).and_then(|v| v.parse::<u16>().ok());
    if let (Some(t), Some(rows), Some(cols)) = (exec.run.lock().terminal.clone(), size("h"), size("w")) {
        t.resize(rows, cols);
    }
    conn.respond(200, None, &[]).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// The ids of a container's execs that run (`ExecIDs` in its inspect document).
pub fn running_ids(c: &Container) -> Vec<String> {
    EXECS.lock().iter().filter(|e| e.container.id == c.id && e.running().is_some()).map(|e| e.id.clone()).collect()
}
