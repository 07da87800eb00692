//! Running programs: `execve`, and a container's first process.
//!
//! The file is checked and planned by `berth-elf` (static executables only), each
//! segment becomes a private file-backed region paged in on demand, and the initial
//! stack is laid out as the System V ABI says: argc, argv, envp, the auxiliary vector,
//! then the strings and the random bytes it points at.

use super::signal::ThreadSignals;
use super::{Process, ProgramInfo, UserThread, Vm};
use crate::container::Container;
use crate::fs::{FdTable, OpenFile};
use crate::mm::{AddressSpace, Charge, FileBytes, MapRequest, Prot, VmaKind};
use crate::sched::{self, Thread};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::process::*;
use berth_elf::{Limits, LoadPlan};
use berth_hal::context::{ThreadContext, USER_CS, USER_SS};
use berth_hal::fpu::FpuState;
use berth_hal::trap::TrapFrame;
use berth_vfs::{FileType, Inode};
use spin::Mutex;

/// The top of the initial stack.
pub const STACK_TOP: u64 = 0x7fff_ffff_0000;
/// The stack's reserved size (RLIMIT_STACK).
pub const STACK_SIZE: u64 = 8 << 20;
/// Most bytes of arguments and environment.
pub const MAX_ARG_BYTES: usize = 256 * 1024;
/// Most arguments or environment entries.
pub const MAX_ARGS: usize = 32 * 1024;
/// Most nested `#!` interpreters.
const MAX_INTERPRETERS: usize = 4;
/// The search path when a container's environment has no PATH.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a program could not be started.
#[derive(Debug, Clone)]
pub struct ExecError {
    /// The errno `execve` returns.
    pub errno: Errno,
    /// What was wrong, for logs and for the operator.
    pub message: String,
}

impl ExecError {
    fn new(errno: Errno, message: String) -> ExecError {
        ExecError { errno, message }
    }
}

/// A program loaded into a fresh address space.
struct Loaded {
    space: AddressSpace,
    entry: u64,
    sp: u64,
    exe: String,
    argv: Vec<String>,
}

/// Finds `name` on the search path `path` (a name with a slash is used as it is).
pub fn search_path(container: &Container, cwd: &Arc<Inode>, name: &str, path: &str) -> Option<String> {
    if name.contains('/') {
        return Some(name.to_string());
    }
    path.split(':').filter(|d| !d.is_empty()).map(|dir| format!("{}/{name}", dir.trim_end_matches('/'))).find(|p| {
        container.fs.lookup(cwd, p, true).is_ok_and(|i| i.file_type() == FileType::Regular && is_executable(&i))
    })
}

fn is_executable(inode: &Inode) -> bool {
    inode.metadata().mode & 0o111 != 0
}

/// Reads, checks and maps the program at `path`, building its initial stack.
fn load(
    container: &Arc<Container>,
    cwd: &Arc<Inode>,
    path: &str,
    argv: Vec<String>,
    envp: &[String],
) -> Result<Loaded, ExecError> {
    let mut path = path.to_string();
    let mut argv = argv;
    for _ in 0..=MAX_INTERPRETERS {
        let inode = container.fs.lookup(cwd, &path, true).map_err(|e| {
            let errno = super::fs_errno(e.clone());
            ExecError::new(errno, format!("{path}: {e}"))
        })?;
        match inode.file_type() {
            FileType::Regular => {}
            FileType::Directory => return Err(ExecError::new(Errno::EACCES, format!("{path}: is a directory"))),
            _ => return Err(ExecError::new(Errno::EACCES, format!("{path}: not a regular file"))),
        }
        if !is_executable(&inode) {
            return Err(ExecError::new(Errno::EACCES, format!("{path}: permission denied (not executable)")));
        }
        let bytes = FileBytes::of(&inode, &container.memory)
            .map_err(|e| ExecError::new(e, format!("{path}: no memory for a copy of the program")))?;
        let data = bytes.data.clone();
        if let Some((interpreter, arg)) = shebang(&data) {
            // `#!interp arg` runs `interp [arg] path args...`.
            let mut new_argv = Vec::from([interpreter.clone()]);
            new_argv.extend(arg);
            new_argv.push(path.clone());
            new_argv.extend(argv.into_iter().skip(1));
            argv = new_argv;
            path = interpreter;
            continue;
        }
        let plan = berth_elf::plan(&data, &Limits::BERTH)
            .map_err(|e| ExecError::new(Errno::ENOEXEC, format!("{path}: {e}")))?;
        let space =
            map_program(container, &plan, &bytes).map_err(|e| ExecError::new(Errno::ENOMEM, format!("{path}: {e}")))?;
        let mut loaded = Loaded { space, entry: plan.entry, sp: 0, exe: path.clone(), argv };
        loaded.sp = build_stack(&mut loaded.space, &plan, &data, &path, &loaded.argv, envp)
            .map_err(|e| ExecError::new(Errno::E2BIG, format!("{path}: {e}")))?;
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

/// Maps the program's segments.
fn map_program(container: &Arc<Container>, plan: &LoadPlan, bytes: &FileBytes) -> Result<AddressSpace, &'static str> {
    let mut space = AddressSpace::new(container.memory.clone()).ok_or("out of memory for page tables")?;
    for seg in &plan.segments {
        let prot = Prot { read: seg.perms.read, write: seg.perms.write, exec: seg.perms.execute };
        let kind = VmaKind::File {
            data: bytes.data.clone(),
            offset: seg.file_offset,
            file_len: seg.file_end - seg.start,
            cached: bytes.cached,
            _charge: bytes.charge.clone(),
        };
        let req = MapRequest {
            addr: seg.start,
            len: seg.end - seg.start,
            prot,
            kind,
            shared: false,
            fixed: true,
            no_replace: true,
            name: String::new(),
        };
        space.map(req).map_err(|_| "cannot map a segment")?;
    }
    space.brk_start = plan.highest;
    space.brk = plan.highest;
    let stack = MapRequest {
        addr: STACK_TOP - STACK_SIZE,
        len: STACK_SIZE,
        prot: Prot { read: true, write: true, exec: false },
        kind: VmaKind::Anon,
        shared: false,
        fixed: true,
        no_replace: true,
        name: String::from("[stack]"),
    };
    space.map(stack).map_err(|_| "cannot map the stack")?;
    Ok(space)
}

/// Lays out the initial stack below [`STACK_TOP`]; returns the stack pointer.
fn build_stack(
    space: &mut AddressSpace,
    plan: &LoadPlan,
    data: &[u8],
    exe: &str,
    argv: &[String],
    envp: &[String],
) -> Result<u64, &'static str> {
    let total: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum();
    if total > MAX_ARG_BYTES || argv.len() + envp.len() > MAX_ARGS {
        return Err("argument list too long");
    }
    // Strings and blobs first, from the top down.
    let mut blob: Vec<u8> = Vec::new();
    let mut place = |bytes: &[u8]| {
        blob.extend_from_slice(bytes);
        blob.len()
    };
    let platform = place(b"x86_64\0");
    let mut random = [0u8; 16];
    crate::random::fill(&mut random);
    let random_at = place(&random);
    let execfn = place(&[exe.as_bytes(), b"\0"].concat());
    let arg_offsets: Vec<usize> = argv.iter().map(|a| place(&[a.as_bytes(), b"\0"].concat())).collect();
    let env_offsets: Vec<usize> = envp.iter().map(|e| place(&[e.as_bytes(), b"\0"].concat())).collect();
    // Program headers the loader could not find in memory get a copy here.
    let phdr_copy = match plan.phdr {
        Some(_) => None,
        None => {
            let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().map_err(|_| "bad header")?) as usize;
            let len = usize::from(plan.phent) * usize::from(plan.phnum);
            Some(place(data.get(phoff..phoff + len).ok_or("program headers outside the file")?))
        }
    };
    let blob_top = STACK_TOP;
    let blob_base = (blob_top - blob.len() as u64) & !15;
    // Offsets above count from the blob's start to each item's end.
    let addr_of = |end: usize, len: usize| blob_base + (end - len) as u64;
    let string_addr = |end: usize, s: &str| addr_of(end, s.len() + 1);

    let hwcap = u64::from(core::arch::x86_64::__cpuid(1).edx);
    let phdr = match (plan.phdr, phdr_copy) {
        (Some(p), _) => p,
        (None, Some(end)) => addr_of(end, usize::from(plan.phent) * usize::from(plan.phnum)),
        (None, None) => 0,
    };
    let auxv: [(u64, u64); 17] = [
        (AT_PHDR, phdr),
        (AT_PHENT, u64::from(plan.phent)),
        (AT_PHNUM, u64::from(plan.phnum)),
        (AT_PAGESZ, 4096),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, plan.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_RANDOM, addr_of(random_at, 16)),
        (AT_HWCAP, hwcap),
        (AT_CLKTCK, 100),
        (AT_PLATFORM, addr_of(platform, 7)),
        (AT_EXECFN, string_addr(execfn, exe)),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(arg_offsets.iter().zip(argv).map(|(&end, a)| string_addr(end, a)));
    words.push(0);
    words.extend(env_offsets.iter().zip(envp).map(|(&end, e)| string_addr(end, e)));
    words.push(0);
    for (k, v) in auxv {
        words.extend([k, v]);
    }
    words.extend([AT_NULL, 0]);
    // argc must land on a 16-byte boundary.
    let sp = (blob_base - 8 * words.len() as u64) & !15;
    let mut image: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    image.resize((blob_base - sp) as usize, 0);
    image.extend_from_slice(&blob);
    space.poke(sp, &image).map_err(|_| "no memory for the stack")?;
    Ok(sp)
}

/// A fresh user frame entering a program.
fn entry_frame(entry: u64, sp: u64) -> TrapFrame {
    TrapFrame { rip: entry, rsp: sp, cs: USER_CS, ss: USER_SS, rflags: 0x202, ..TrapFrame::default() }
}

fn program_name(exe: &str) -> String {
    exe.rsplit('/').next().unwrap_or(exe).chars().take(15).collect()
}

/// Starts a container's first process running `argv` with `envp` in `cwd`, its
/// standard output and error going to the container's log.
pub fn spawn_init(
    container: &Arc<Container>,
    argv: Vec<String>,
    envp: Vec<String>,
    cwd: &str,
) -> Result<Arc<Process>, ExecError> {
    let root = container.fs.root();
    let cwd = container
        .fs
        .lookup(&root, cwd, true)
        .map_err(|e| ExecError::new(super::fs_errno(e.clone()), format!("working directory {cwd}: {e}")))?;
    let program = argv.first().cloned().ok_or_else(|| ExecError::new(Errno::ENOENT, "no command given".into()))?;
    let search = envp.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
    let path = search_path(container, &cwd, &program, search)
        .ok_or_else(|| ExecError::new(Errno::ENOENT, format!("{program}: not found in PATH")))?;
    let loaded = load(container, &cwd, &path, argv, &envp)?;
    let mut files = FdTable::new(Some(container.memory.clone()));
    if let Some(terminal) = &container.terminal {
        let tty = OpenFile::new(terminal.clone(), berth_abi::fs::O_RDWR, "/dev/pts/0".into());
        for _ in 0..3 {
            let _ = files.insert(tty.clone(), false);
        }
    } else {
        standard_streams(container, &mut files)?;
    }
    let pid =
        container.alloc_pid().map_err(|e| ExecError::new(e, "the container's process limit is reached".into()))?;
    let no_memory = || ExecError::new(Errno::ENOMEM, "no memory for the first process".into());
    let (Some(process_charge), Some(thread_charge)) =
        (Charge::new(&container.memory, super::PROCESS_COST), Charge::new(&container.memory, super::THREAD_COST))
    else {
        container.release_pid(pid);
        return Err(no_memory());
    };
    let frame = entry_frame(loaded.entry, loaded.sp);
    let Ok(ctx) = ThreadContext::new_user(&frame, FpuState::initial(), 0) else {
        container.release_pid(pid);
        return Err(no_memory());
    };
    let vm = Arc::new(Vm { space: Mutex::new(loaded.space) });
    let process = Process::new_init(container.clone(), pid, vm, files, cwd, process_charge);
    *process.info.lock() = ProgramInfo { name: program_name(&loaded.exe), exe: loaded.exe, argv: loaded.argv };
    container.register(&process);
    let user =
        UserThread::new(process.clone(), pid, ThreadSignals::inherit(berth_abi::signal::SigSet::EMPTY), thread_charge);
    let thread = Thread::new_user(&process.info.lock().name, ctx, container.sched_group.clone(), user);
    process.threads.lock().push(Arc::downgrade(&thread));
    sched::make_ready(thread);
    Ok(process)
}

/// Standard input (the container's stdin pipe, else `/dev/null`), output and error
/// (its log) for a container without a terminal.
fn standard_streams(container: &Arc<Container>, files: &mut FdTable) -> Result<(), ExecError> {
    let stdin = match container.take_stdin_reader() {
        Some(reader) => reader,
        None => {
            let null = crate::fs::device_for(crate::fs::devices::numbers::NULL, container)
                .map_err(|e| ExecError::new(e, "no /dev/null".into()))?;
            OpenFile::new(null, berth_abi::fs::O_RDONLY, "/dev/null".into())
        }
    };
    let stdout = Arc::new(crate::fs::Device::Console(Arc::downgrade(container), crate::container::Stream::Stdout));
    let stderr = Arc::new(crate::fs::Device::Console(Arc::downgrade(container), crate::container::Stream::Stderr));
    let _ = files.insert(stdin, false);
    let _ = files.insert(OpenFile::new(stdout, berth_abi::fs::O_WRONLY, "pipe:[stdout]".into()), false);
    let _ = files.insert(OpenFile::new(stderr, berth_abi::fs::O_WRONLY, "pipe:[stderr]".into()), false);
    Ok(())
}

/// `execve`: replaces the running process's program. On success the frame enters the
/// new program; on failure nothing has changed.
pub fn exec(path: &str, argv: Vec<String>, envp: Vec<String>, frame: &mut TrapFrame) -> Result<(), Errno> {
    let thread = sched::current();
    let user = thread.user.as_ref().expect("a user thread");
    let process = user.process.clone();
    let cwd = process.cwd.lock().clone();
    let loaded = load(&process.container, &cwd, path, argv, &envp).map_err(|e| {
        log::debug!("container {}: execve refused: {}", process.container.name, e.message);
        e.errno
    })?;
    // No way back from here. Other threads end; the new program starts clean.
    for t in process.threads() {
        if !Arc::ptr_eq(&t, &thread)
            && let Some(u) = &t.user
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
