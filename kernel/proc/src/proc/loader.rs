//! Loading an ELF program into a fresh address space: its segments, its program
//! interpreter (the dynamic loader its `PT_INTERP` names, for dynamically linked
//! programs), the stack, and the initial stack contents the System V ABI prescribes
//! (argc, argv, envp, the auxiliary vector, then the strings and random bytes they
//! point at).
//!
//! A position-independent program (`ET_DYN`) is placed at a random page above
//! [`PIE_BASE`], its interpreter at a random page below the top of the `mmap` area,
//! where the libraries it loads follow it downwards. The interpreter's segments, like
//! the program's, are pages of the file in the image's page cache, so every process of
//! every container of one image shares one copy of its text.

use crate::mm::{AddressSpace, FileBytes, MMAP_TOP, MapRequest, Prot, VmaKind};
use crate::sandbox::Sandbox;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::process::*;
use berth_elf::{Limits, LoadPlan};
use berth_vfs::FileType;

/// Why a program could not be started.
#[derive(Debug, Clone)]
pub struct ExecError {
    /// The errno `execve` returns.
    pub errno: Errno,
    /// What was wrong, for logs and for the operator.
    pub message: String,
}

impl ExecError {
    pub(super) fn new(errno: Errno, message: String) -> ExecError {
        ExecError { errno, message }
    }
}

/// The top of the initial stack.
pub const STACK_TOP: u64 = 0x7fff_ffff_0000;
pub use crate::param::MAX_ARG_BYTES;
pub use crate::param::MAX_ARGS;
pub use crate::param::STACK_SIZE;
/// Where position-independent programs go (Linux's base without randomization)...
const PIE_BASE: u64 = 0x5555_5555_4000;
/// ...moved up by a random number of pages below this many (4 GiB).
const PIE_PAGES: u64 = 1 << 20;
/// The interpreter goes this many pages at most (256 MiB) below the `mmap` area's top.
const INTERP_PAGES: u64 = 1 << 16;
/// A place to plan an `ET_DYN` file at just to learn its size.
const PROBE_BASE: u64 = 0x1000_0000;

/// A program ready to run: its address space, where to start, and the stack pointer.
pub struct Image {
    /// The address space, with the program, its interpreter and stack mapped.
    pub space: AddressSpace,
    /// The first instruction: the interpreter's entry point, or the program's.
    pub entry: u64,
    /// The initial stack pointer (pointing at argc).
    pub sp: u64,
}

/// A random number of pages below `pages`, in bytes.
fn random_pages(pages: u64) -> u64 {
    let mut bytes = [0u8; 8];
    crate::random::fill(&mut bytes);
    u64::from_le_bytes(bytes) % pages * 4096
}

/// Maps the ELF program `bytes` (at `path`) and, if it names one, its interpreter from
/// the container's root; builds the initial stack for `argv` and `envp`.
pub fn load(
    sandbox: &Arc<Sandbox>,
    path: &str,
    bytes: &FileBytes,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, ExecError> {
    let noexec = |e: berth_elf::ElfError| ExecError::new(Errno::ENOEXEC, format!("{path}: {e}"));
    let limits = Limits { pie_base: PIE_BASE + random_pages(PIE_PAGES), ..Limits::BERTH };
    let plan = berth_elf::plan(&bytes.data, &limits).map_err(noexec)?;
    let no_memory = |what: &str| ExecError::new(Errno::ENOMEM, format!("{path}: no memory for {what}"));
    let mut space = AddressSpace::new(sandbox.memory.clone()).ok_or_else(|| no_memory("page tables"))?;
    map_segments(&mut space, &plan, bytes, path).map_err(|_| no_memory("the program"))?;
    space.brk_start = plan.highest;
    space.brk = plan.highest;
    let stack = MapRequest {
        addr: STACK_TOP - crate::param::STACK_SIZE,
        len: crate::param::STACK_SIZE,
        prot: Prot { read: true, write: true, exec: false },
        kind: VmaKind::Anon,
        shared: false,
        fixed: true,
        no_replace: true,
        name: String::from("[stack]"),
    };
    space.map(stack).map_err(|_| no_memory("the stack"))?;
    let (entry, interp_base) = match &plan.interpreter {
        Some(interp) => load_interpreter(sandbox, &mut space, path, interp)?,
        None => (plan.entry, 0),
    };
    let sp = build_stack(&mut space, &plan, &bytes.data, interp_base, path, argv, envp)
        .map_err(|e| ExecError::new(Errno::E2BIG, format!("{path}: {e}")))?;
    Ok(Image { space, entry, sp })
}

/// Maps the interpreter `interp` (from the container's root) into `space` for the
/// program at `path`; returns its entry point and load address (`AT_BASE`).
fn load_interpreter(
    sandbox: &Arc<Sandbox>,
    space: &mut AddressSpace,
    path: &str,
    interp: &str,
) -> Result<(u64, u64), ExecError> {
    let fail = |errno, why: &str| ExecError::new(errno, format!("{path}: its interpreter {interp}: {why}"));
    let inode = sandbox
        .fs
        .lookup(&sandbox.fs.root(), interp, true)
        .map_err(|e| fail(super::fs_errno(e.clone()), &e.to_string()))?;
    if inode.file_type() != FileType::Regular {
        return Err(fail(Errno::EACCES, "not a regular file"));
    }
    let bytes = FileBytes::of(&inode, &sandbox.memory).map_err(|e| fail(e, "no memory for a copy of it"))?;
    // Planned once anywhere to learn its size, then where it fits.
    let probe = Limits { pie_base: PROBE_BASE, ..Limits::BERTH };
    let sized = berth_elf::plan(&bytes.data, &probe).map_err(|e| fail(Errno::ELIBBAD, &e.to_string()))?;
    if sized.interpreter.is_some() {
        return Err(fail(Errno::ELIBBAD, "it names an interpreter of its own"));
    }
    let low = sized.segments.first().map_or(0, |s| s.start);
    let span = sized.highest - low;
    let plan = if sized.load_bias == 0 {
        sized // ET_EXEC: it goes where it says
    } else {
        let top = MMAP_TOP - random_pages(INTERP_PAGES);
        let base = (top - span) - (low - sized.load_bias);
        berth_elf::plan(&bytes.data, &Limits { pie_base: base, ..Limits::BERTH })
            .map_err(|e| fail(Errno::ELIBBAD, &e.to_string()))?
    };
    map_segments(space, &plan, &bytes, interp).map_err(|_| fail(Errno::ENOMEM, "no memory to map it"))?;
    Ok((plan.entry, plan.load_bias))
}

/// Maps each segment of `plan` as a private region of `bytes`, named `name`.
fn map_segments(space: &mut AddressSpace, plan: &LoadPlan, bytes: &FileBytes, name: &str) -> Result<(), ()> {
    for seg in &plan.segments {
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
            prot: Prot { read: seg.perms.read, write: seg.perms.write, exec: seg.perms.execute },
            kind,
            shared: false,
            fixed: true,
            no_replace: true,
            name: name.to_string(),
        };
        space.map(req).map_err(drop)?;
    }
    Ok(())
}

/// Lays out the initial stack below [`STACK_TOP`]; returns the stack pointer.
/// `interp_base` is the interpreter's load address (`AT_BASE`), 0 without one.
fn build_stack(
    space: &mut AddressSpace,
    plan: &LoadPlan,
    data: &[u8],
    interp_base: u64,
    exe: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<u64, &'static str> {
    let total: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum();
    if total > crate::param::MAX_ARG_BYTES || argv.len() + envp.len() > crate::param::MAX_ARGS {
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
    let arg_offsets: Vec<usize> = argv.iter().map(|a| place(&[a.as_slice(), b"\0"].concat())).collect();
    let env_offsets: Vec<usize> = envp.iter().map(|e| place(&[e.as_slice(), b"\0"].concat())).collect();
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
    let string_addr = |end: usize, s: &[u8]| addr_of(end, s.len() + 1);

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
        (AT_BASE, interp_base),
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
        (AT_EXECFN, string_addr(execfn, exe.as_bytes())),
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
