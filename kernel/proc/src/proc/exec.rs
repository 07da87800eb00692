//! Running programs: `execve`, and a container's first process.
//!
//! The file is found (on `PATH` for a bare name), `#!` scripts are run by their
//! interpreter, and an ELF program is checked by `berth-elf` and mapped by `loader`
//! (with its dynamic loader, if it names one).

use super::signal::ThreadSignals;
use super::{Process, ProgramInfo, UserThread, Vm};
use crate::fs::{FdTable, OpenFile};
use crate::mm::{AddressSpace, Charge, FileBytes};
use crate::proc::UserPart;
use crate::sandbox::{LogBuffer, Sandbox};
use crate::sched::{self, Thread};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::process::creds::{Credentials, MAY_EXEC};
use berth_hal::context::{ThreadContext, USER_CS, USER_SS};
use berth_hal::fpu::FpuState;
use berth_hal::trap::TrapFrame;
use berth_vfs::{FileType, Inode};
use spin::Mutex;

pub use super::loader::{MAX_ARG_BYTES, MAX_ARGS, STACK_SIZE};
/// The search path when a container's environment has no PATH.
pub use berth_config::DEFAULT_PATH;

pub use super::loader::ExecError;

/// A program loaded into a fresh address space.
struct Loaded {
    space: AddressSpace,
    entry: u64,
    sp: u64,
    exe: String,
    argv: Vec<Vec<u8>>,
}

/// Finds `name` on the search path `path` (a name with a slash is used as it is).
pub fn search_path(sandbox: &Sandbox, cwd: &Arc<Inode>, name: &str, path: &str) -> Option<String> {
    if name.contains('/') {
        return Some(name.to_string());
    }
    path.split(':').filter(|d| !d.is_empty()).map(|dir| format!("{}/{name}", dir.trim_end_matches('/'))).find(|p| {
        sandbox.fs.lookup(cwd, p, true).is_ok_and(|i| i.file_type() == FileType::Regular && is_executable(&i))
    })
}

fn is_executable(inode: &Inode) -> bool {
    inode.metadata().mode & 0o111 != 0
}

/// Reads, checks and maps the program at `path`, building its initial stack.
fn load(
    sandbox: &Arc<Sandbox>,
    creds: &Credentials,
    cwd: &Arc<Inode>,
    path: &str,
    argv: Vec<Vec<u8>>,
    envp: &[Vec<u8>],
) -> Result<Loaded, ExecError> {
    let mut path = path.to_string();
    let mut argv = argv;
    for _ in 0..=crate::param::MAX_INTERPRETERS {
        let may_search = |dir: &Inode| {
            let m = dir.metadata();
            creds.may_access(m.mode, m.uid, m.gid, MAY_EXEC)
        };
        let inode = sandbox.fs.lookup_as(cwd, &path, true, &may_search).map_err(|e| {
            let errno = super::fs_errno(e.clone());
            ExecError::new(errno, format!("{path}: {e}"))
        })?;
        match inode.file_type() {
            FileType::Regular => {}
            FileType::Directory => return Err(ExecError::new(Errno::EACCES, format!("{path}: is a directory"))),
            _ => return Err(ExecError::new(Errno::EACCES, format!("{path}: not a regular file"))),
        }
        let m = inode.metadata();
        if !creds.may_access(m.mode, m.uid, m.gid, MAY_EXEC) {
            return Err(ExecError::new(Errno::EACCES, format!("{path}: permission denied (not executable)")));
        }
        let bytes = FileBytes::of(&inode, &sandbox.memory)
            .map_err(|e| ExecError::new(e, format!("{path}: no memory for a copy of the program")))?;
        let data = bytes.data.clone();
        if let Some((interpreter, arg)) = shebang(&data) {
            // `#!interp arg` runs `interp [arg] path args...`.
            let mut new_argv = Vec::from([interpreter.clone().into_bytes()]);
            new_argv.extend(arg.map(String::into_bytes));
            new_argv.push(path.clone().into_bytes());
            new_argv.extend(argv.into_iter().skip(1));
            argv = new_argv;
            path = interpreter;
            continue;
        }
        let image = super::loader::load(sandbox, &path, &bytes, &argv, envp)?;
        let loaded = Loaded { space: image.space, entry: image.entry, sp: image.sp, exe: path.clone(), argv };
        return Ok(loaded);
    }
    Err(ExecError::new(Errno::ELOOP, format!("{path}: too many levels of #! interpreters")))
}

/// `#!interpreter [argument]` from the first line, if the file starts with `#!`.
fn shebang(data: &[u8]) -> Option<(String, Option<String>)> {
    let rest = data.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next()?;
    let line = core::str::from_utf8(&line[..line.len().min(255)]).ok()?.trim();
    let (interpreter, arg) = match line.split_once([' ', '\t']) {
        Some((i, a)) => (i, Some(a.trim().to_string()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    (!interpreter.is_empty()).then(|| (interpreter.to_string(), arg))
}

/// A fresh user frame entering a program.
fn entry_frame(entry: u64, sp: u64) -> TrapFrame {
    TrapFrame { rip: entry, rsp: sp, cs: USER_CS, ss: USER_SS, rflags: 0x202, ..TrapFrame::default() }
}

fn program_name(exe: &str) -> String {
    exe.rsplit('/').next().unwrap_or(exe).chars().take(15).collect()
}

/// Whether a new process is its sandbox's first.
enum StdioKind {
    Init,
    Exec,
}

/// Where a new process's standard streams go (the sandbox's: it is the first).
enum Stdio<'a> {
    /// The sandbox's: its terminal, or its stdin pipe (else `/dev/null`) and its log.
    Sandbox,
    /// A `docker exec` process's own: `stdin` (else `/dev/null`), output to `log`.
    Own { stdin: Option<Arc<OpenFile>>, log: &'a Arc<LogBuffer> },
    /// A `docker exec -t` process's own terminal.
    Terminal(Arc<crate::sandbox::files::Terminal>),
}

/// Starts a sandbox's first process running `argv` with `envp` in `cwd` as `user`
/// (Docker's `User`: a name or uid, with an optional group) with the supplementary
/// groups `groups` adds (`--group-add`), its standard output and error going to the
/// sandbox's log (or its terminal).
pub fn spawn_init(
    sandbox: &Arc<Sandbox>,
    argv: Vec<String>,
    envp: Vec<String>,
    cwd: &str,
    user: &str,
    groups: &[String],
) -> Result<Arc<Process>, ExecError> {
    spawn(sandbox, argv, envp, cwd, (user, groups), Stdio::Sandbox)
}

/// Starts another process in a running sandbox (`docker exec`) as `user` with the
/// added groups: no parent in the sandbox (as a process entering a container from
/// outside has none), standard input
/// from `stdin` (else `/dev/null`), output and error to `log`. Its exit status is
/// its [`Process::exit_status`], and `vfork_done` is woken when it exits.
pub fn spawn_exec(
    sandbox: &Arc<Sandbox>,
    argv: Vec<String>,
    envp: Vec<String>,
    cwd: &str,
    user: (&str, &[String]),
    stdin: Option<Arc<OpenFile>>,
    log: &Arc<LogBuffer>,
) -> Result<Arc<Process>, ExecError> {
    spawn(sandbox, argv, envp, cwd, user, Stdio::Own { stdin, log })
}

/// As [`spawn_exec`], with `terminal` as its standard streams (`docker exec -t`).
pub fn spawn_exec_on_terminal(
    sandbox: &Arc<Sandbox>,
    argv: Vec<String>,
    envp: Vec<String>,
    cwd: &str,
    user: (&str, &[String]),
    terminal: Arc<crate::sandbox::files::Terminal>,
) -> Result<Arc<Process>, ExecError> {
    spawn(sandbox, argv, envp, cwd, user, Stdio::Terminal(terminal))
}

fn spawn(
    sandbox: &Arc<Sandbox>,
    argv: Vec<String>,
    mut envp: Vec<String>,
    cwd: &str,
    (user, groups): (&str, &[String]),
    stdio: Stdio<'_>,
) -> Result<Arc<Process>, ExecError> {
    let user = exec_user(sandbox, user, groups)?;
    if !envp.iter().any(|e| e.starts_with("HOME=")) {
        envp.push(format!("HOME={}", user.home));
    }
    let creds = Credentials::of(user.uid, user.gid, user.groups);
    let cwd = working_dir(sandbox, cwd)
        .map_err(|e| ExecError::new(super::fs_errno(e.clone()), format!("working directory {cwd}: {e}")))?;
    let program = argv.first().cloned().ok_or_else(|| ExecError::new(Errno::ENOENT, "no command given".into()))?;
    let search = envp.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
    let path = search_path(sandbox, &cwd, &program, search)
        .ok_or_else(|| ExecError::new(Errno::ENOENT, format!("{program}: not found in PATH")))?;
    let argv = argv.into_iter().map(String::into_bytes).collect();
    let envp: Vec<Vec<u8>> = envp.into_iter().map(String::into_bytes).collect();
    let loaded = load(sandbox, &creds, &cwd, &path, argv, &envp)?;
    let mut files = FdTable::new(Some(sandbox.memory.clone()));
    let stdio_kind = if matches!(stdio, Stdio::Sandbox) { StdioKind::Init } else { StdioKind::Exec };
    match stdio {
        Stdio::Sandbox => match &sandbox.terminal {
            Some(terminal) => {
                let tty = OpenFile::new(terminal.clone(), berth_abi::fs::O_RDWR, "/dev/pts/0".into());
                for _ in 0..3 {
                    let _ = files.insert(tty.clone(), false);
                }
            }
            None => standard_streams(sandbox, &mut files)?,
        },
        Stdio::Terminal(terminal) => {
            let path = crate::fs::FileOps::describe(&*terminal);
            let tty = OpenFile::new(terminal, berth_abi::fs::O_RDWR, path);
            for _ in 0..3 {
                let _ = files.insert(tty.clone(), false);
            }
        }
        Stdio::Own { stdin, log } => {
            let stdin = match stdin {
                Some(stdin) => stdin,
                None => null_input(sandbox)?,
            };
            let _ = files.insert(stdin, false);
            for stream in [crate::sandbox::Stream::Stdout, crate::sandbox::Stream::Stderr] {
                let console = Arc::new(crate::sandbox::files::Console::to_log(log, stream));
                let _ = files.insert(OpenFile::new(console, berth_abi::fs::O_WRONLY, "pipe:[exec]".into()), false);
            }
        }
    }
    let pid = sandbox.alloc_pid().map_err(|e| ExecError::new(e, "the container's process limit is reached".into()))?;
    let no_memory = || ExecError::new(Errno::ENOMEM, "no memory for the process".into());
    let (Some(process_charge), Some(thread_charge)) =
        (Charge::new(&sandbox.memory, super::PROCESS_COST), Charge::new(&sandbox.memory, super::THREAD_COST))
    else {
        sandbox.release_pid(pid);
        return Err(no_memory());
    };
    let frame = entry_frame(loaded.entry, loaded.sp);
    let Ok(ctx) = ThreadContext::new_user(&frame, FpuState::initial(), 0) else {
        sandbox.release_pid(pid);
        return Err(no_memory());
    };
    let vm = Arc::new(Vm { space: Mutex::new(loaded.space) });
    let process = Process::new_init(sandbox.clone(), pid, vm, files, cwd, creds, process_charge);
    *process.info.lock() = ProgramInfo { name: program_name(&loaded.exe), exe: loaded.exe, argv: loaded.argv };
    sandbox.register(&process);
    if matches!(stdio_kind, StdioKind::Init) {
        sandbox.set_init(&process);
    }
    let user =
        UserThread::new(process.clone(), pid, ThreadSignals::inherit(berth_abi::signal::SigSet::EMPTY), thread_charge);
    let thread = Thread::new_extended(&process.info.lock().name, ctx, sandbox.sched_group.clone(), user);
    process.threads.lock().push(Arc::downgrade(&thread));
    sched::make_ready(thread);
    Ok(process)
}

/// The container's working directory `path`, made (with its parents, owned by root)
/// if the image lacks it, as Docker does.
fn working_dir(sandbox: &Sandbox, path: &str) -> Result<Arc<berth_vfs::Inode>, berth_vfs::FsError> {
    let fs = &sandbox.fs;
    let mut dir = fs.root();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        dir = match fs.lookup(&dir, part, true) {
            Ok(next) => next,
            Err(berth_vfs::FsError::NotFound) => fs.mkdir(&dir, part, 0o755)?,
            Err(e) => return Err(e),
        };
    }
    if !dir.is_dir() {
        return Err(berth_vfs::FsError::NotDirectory);
    }
    Ok(dir)
}

/// The user the first process runs as: `user` looked up in the sandbox's own
/// `/etc/passwd` and `/etc/group`, with the groups `groups` adds.
fn exec_user(sandbox: &Sandbox, user: &str, groups: &[String]) -> Result<berth_oci::user::ExecUser, ExecError> {
    let read = |path: &str| {
        let inode = sandbox.fs.lookup(&sandbox.fs.root(), path, true).ok()?;
        let bytes = inode.contents().ok()?;
        String::from_utf8(bytes.to_vec()).ok()
    };
    let group_file = read("/etc/group");
    let mut user = berth_oci::user::resolve(user, read("/etc/passwd").as_deref(), group_file.as_deref())
        .map_err(|why| ExecError::new(Errno::EINVAL, why))?;
    berth_oci::user::add_groups(&mut user, groups, group_file.as_deref())
        .map_err(|why| ExecError::new(Errno::EINVAL, why))?;
    if user.uid == 0 && user.home == "/" {
        // Root without a passwd entry (a static program's image) still has /root.
        user.home = String::from("/root");
    }
    Ok(user)
}

/// `/dev/null` opened for reading.
fn null_input(sandbox: &Arc<Sandbox>) -> Result<Arc<OpenFile>, ExecError> {
    let null = crate::sandbox::files::device_for(crate::fs::devices::numbers::NULL, sandbox)
        .map_err(|e| ExecError::new(e, "no /dev/null".into()))?;
    Ok(OpenFile::new(null, berth_abi::fs::O_RDONLY, "/dev/null".into()))
}

/// Standard input (the container's stdin pipe, else `/dev/null`), output and error
/// (its log) for a container without a terminal.
fn standard_streams(sandbox: &Arc<Sandbox>, files: &mut FdTable) -> Result<(), ExecError> {
    let stdin = match sandbox.take_stdin_reader() {
        Some(reader) => reader,
        None => null_input(sandbox)?,
    };
    let stdout = Arc::new(crate::sandbox::files::Console::new(sandbox, crate::sandbox::Stream::Stdout));
    let stderr = Arc::new(crate::sandbox::files::Console::new(sandbox, crate::sandbox::Stream::Stderr));
    let _ = files.insert(stdin, false);
    let _ = files.insert(OpenFile::new(stdout, berth_abi::fs::O_WRONLY, "pipe:[stdout]".into()), false);
    let _ = files.insert(OpenFile::new(stderr, berth_abi::fs::O_WRONLY, "pipe:[stderr]".into()), false);
    Ok(())
}

/// `execve`: replaces the running process's program. On success the frame enters the
/// new program; on failure nothing has changed.
pub fn exec(path: &str, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, frame: &mut TrapFrame) -> Result<(), Errno> {
    let thread = sched::current();
    let user = thread.user().expect("a user thread");
    let process = user.process.clone();
    let cwd = process.cwd.lock().clone();
    let creds = process.creds.lock().clone();
    let loaded = load(&process.sandbox, &creds, &cwd, path, argv, &envp).map_err(|e| {
        log::debug!("container {}: execve refused: {}", process.sandbox.name, e.message);
        e.errno
    })?;
    // No way back from here. Other threads end; the new program starts clean.
    for t in process.threads() {
        if !Arc::ptr_eq(&t, &thread)
            && let Some(u) = t.user()
        {
            u.exit_requested.store(true, core::sync::atomic::Ordering::Release);
            u.note_signal_work();
            sched::make_ready(t.clone());
        }
    }
    let vm = Arc::new(Vm { space: Mutex::new(loaded.space) });
    vm.space.lock().activate();
    let old = process.vm.lock().replace(vm);
    drop(old);
    let closed = process.fd_table().lock().close_on_exec();
    drop(closed);
    {
        let mut actions = process.signals.actions.lock();
        let mine = actions.lock().clone();
        let mut fresh = mine;
        fresh.reset_handlers();
        *actions = Arc::new(Mutex::new(fresh));
    }
    {
        let mut s = user.signals.lock();
        s.altstack = berth_abi::signal::StackT { ss_flags: berth_abi::signal::SS_DISABLE, ..Default::default() };
    }
    user.clear_child_tid.store(0, core::sync::atomic::Ordering::Relaxed);
    *process.info.lock() = ProgramInfo { name: program_name(&loaded.exe), exe: loaded.exe, argv: loaded.argv };
    thread.context().reset_fpu();
    thread.context().set_fs_base(0);
    *frame = entry_frame(loaded.entry, loaded.sp);
    process.vfork_release();
    Ok(())
}
