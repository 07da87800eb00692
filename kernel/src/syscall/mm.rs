//! Memory system calls.

use super::{Args, SysResult};
use crate::mm::{Access, MapError, MapRequest, Prot, SharedPages, VmaKind};
use crate::proc::current_process;
use alloc::string::String;
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::mm::Prot as ProtFlags;
use berth_abi::mm::*;
use berth_hal::layout::PAGE_SIZE;

fn errno(e: MapError) -> Errno {
    match e {
        MapError::NoMemory => Errno::ENOMEM,
        MapError::Invalid => Errno::EINVAL,
        MapError::Exists => Errno::EEXIST,
    }
}

/// The protection `PROT_*` bits ask for; EINVAL for unknown bits.
fn prot(bits: u32) -> Result<Prot, Errno> {
    let flags = ProtFlags::from_bits(bits).ok_or(Errno::EINVAL)?;
    Ok(Prot {
        read: flags.contains(ProtFlags::READ),
        write: flags.contains(ProtFlags::WRITE),
        exec: flags.contains(ProtFlags::EXEC),
    })
}

/// brk(addr): returns the (new) program break.
pub fn brk(a: &Args) -> SysResult {
    let process = current_process();
    let new = a.u64(0);
    Ok(process.with_vm(|s| if new == 0 { s.brk } else { s.set_brk(new) }) as isize)
}

/// mmap(addr, length, prot, flags, fd, offset)
pub fn mmap(a: &Args) -> SysResult {
    let (addr, len, offset) = (a.u64(0), a.u64(1), a.u64(5));
    // The mapping's type is a field of the flags word; the rest are flags (unknown
    // ones ignored, as Linux ignores them).
    let (map_type, flags) = (a.u32(3) & MAP_TYPE, MapFlags::from_bits_retain(a.u32(3) & !MAP_TYPE));
    let prot = prot(a.u32(2))?;
    if len == 0 || !offset.is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    let shared = match map_type {
        MAP_SHARED | MAP_SHARED_VALIDATE => true,
        MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    let process = current_process();
    let (kind, name) = if flags.contains(MapFlags::ANONYMOUS) {
        (if shared { VmaKind::shared_anon() } else { VmaKind::Anon }, String::new())
    } else {
        let f = process.fd_table().lock().get(a.fd(4))?;
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        match f.ops.inode() {
            Some(inode) if inode.file_type() == berth_vfs::FileType::Regular => {
                if shared && prot.write && !f.writable() {
                    return Err(Errno::EACCES);
                }
                let memory = &process.sandbox.memory;
                let kind = if shared {
                    // Every shared mapping of the file, in any process, is one memory.
                    let pages = inode.shared_mapping(|| {
                        crate::mm::FileBytes::of(inode, memory).map(|b| Arc::new(SharedPages::of_file(b)))
                    })?;
                    VmaKind::Shared { pages, first: offset / PAGE_SIZE }
                } else {
                    let bytes = crate::mm::FileBytes::of(inode, memory)?;
                    let file_len = (bytes.data.len() as u64).saturating_sub(offset);
                    VmaKind::File { data: bytes.data, offset, file_len, cached: bytes.cached, _charge: bytes.charge }
                };
                (kind, f.path.clone())
            }
            Some(_) => return Err(Errno::ENODEV),
            // Devices such as /dev/zero map as zeros (shared ones as shared memory).
            None => (if shared { VmaKind::shared_anon() } else { VmaKind::Anon }, f.path.clone()),
        }
    };
    // A private writable mapping bigger than what is left of the memory limit (the
    // container's, or the machine's for containers) would only fail page by page
    // later: refuse it now, as an allocation failure.
    if !shared && prot.write && !flags.contains(MapFlags::NORESERVE) && len > process.sandbox.memory.available() {
        return Err(Errno::ENOMEM);
    }
    let req = MapRequest {
        addr,
        len,
        prot,
        kind,
        shared,
        fixed: flags.contains(MapFlags::FIXED),
        no_replace: flags.contains(MapFlags::FIXED_NOREPLACE),
        name,
    };
    let start = process.with_vm(|s| s.map(req)).map_err(errno)?;
    if flags.contains(MapFlags::POPULATE) {
        let access = if prot.write { Access::Write } else { Access::Read };
        let _ = process.with_vm(|s| s.populate(start, len, access));
    }
    Ok(start as isize)
}

/// munmap(addr, length)
pub fn munmap(a: &Args) -> SysResult {
    current_process().with_vm(|s| s.unmap(a.u64(0), a.u64(1))).map_err(errno)?;
    Ok(0)
}

/// mprotect(addr, length, prot)
pub fn mprotect(a: &Args) -> SysResult {
    let prot = prot(a.u32(2))?;
    current_process().with_vm(|s| s.protect(a.u64(0), a.u64(1), prot)).map_err(errno)?;
    Ok(0)
}

/// madvise(addr, length, advice)
pub fn madvise(a: &Args) -> SysResult {
    let (addr, len, advice) = (a.u64(0), a.u64(1), a.i32(2));
    if !addr.is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    if advice == MADV_DONTNEED || advice == MADV_FREE {
        current_process().with_vm(|s| s.discard(addr, len));
    }
    Ok(0)
}

/// mincore(addr, length, vec): which pages of a mapped range are in memory, answered
/// a few thousand pages at a time (a range may be huge).
pub fn mincore(a: &Args) -> SysResult {
    const CHUNK_PAGES: u64 = 4096;
    let (addr, len) = (a.u64(0), a.u64(1));
    if !addr.is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    let process = current_process();
    if !process.with_vm(|s| s.is_mapped(addr, len)) {
        return Err(Errno::ENOMEM);
    }
    let pages = len.div_ceil(4096);
    let vec = a.ptr::<u8>(2).array(pages as usize);
    let mut buf = alloc::vec![0u8; pages.min(CHUNK_PAGES) as usize];
    let mut done = 0;
    while done < pages {
        let n = (pages - done).min(CHUNK_PAGES) as usize;
        process.with_vm(|s| s.residency(addr + done * 4096, &mut buf[..n]));
        vec.skip(done as usize).write(&buf[..n])?;
        done += n as u64;
        crate::sched::preempt_point();
    }
    Ok(0)
}

/// mremap(old_address, old_size, new_size, flags, new_address)
pub fn mremap(a: &Args) -> SysResult {
    let flags = a.u32(3);
    if flags & !MREMAP_MAYMOVE != 0 {
        return Err(Errno::EINVAL); // MREMAP_FIXED/DONTUNMAP are not supported
    }
    let new = current_process()
        .with_vm(|s| s.remap(a.u64(0), a.u64(1), a.u64(2), flags & MREMAP_MAYMOVE != 0))
        .map_err(errno)?;
    Ok(new as isize)
}
