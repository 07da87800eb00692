//! Reading and writing user memory from system calls.
//!
//! A user pointer is only an allegation until one of these functions has copied
//! through it: every access goes through `berth_hal::uaccess`, which refuses kernel
//! addresses and turns faults into `EFAULT`.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_hal::uaccess::{copy_from_user, copy_to_user};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Copies `buf.len()` bytes from user address `addr`.
pub fn read_into(addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    copy_from_user(buf, addr).map_err(|_| Errno::EFAULT)
}

/// Copies `len` bytes from user address `addr`.
pub fn read_bytes(addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    read_into(addr, &mut buf)?;
    Ok(buf)
}

/// Copies `data` to user address `addr`.
pub fn write_bytes(addr: u64, data: &[u8]) -> Result<(), Errno> {
    copy_to_user(addr, data).map_err(|_| Errno::EFAULT)
}

/// Whether `[addr, addr + len)` lies in user space (Linux's `access_ok`): nothing is
/// touched, so the memory may still be unmapped.
pub fn in_user_range(addr: u64, len: usize) -> bool {
    addr.checked_add(len as u64).is_some_and(|end| end <= berth_hal::layout::USER_END)
}

/// Checks that `[addr, addr + len)` can be written, touching each page (a byte is read
/// and written back), so a read from a stream into it cannot consume data and then
/// fail: the EFAULT comes before anything is taken.
pub fn check_writable(addr: u64, len: usize) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    if !in_user_range(addr, len) {
        return Err(Errno::EFAULT);
    }
    let end = addr + len as u64;
    let mut page = addr & !4095;
    while page < end {
        let at = page.max(addr);
        let mut byte = [0u8; 1];
        read_into(at, &mut byte)?;
        write_bytes(at, &byte)?;
        page += 4096;
    }
    Ok(())
}

/// Reads a value of an ABI type from user memory.
pub fn read_val<T: FromBytes + KnownLayout + Immutable>(addr: u64) -> Result<T, Errno> {
    let bytes = read_bytes(addr, core::mem::size_of::<T>())?;
    T::read_from_bytes(&bytes).map_err(|_| Errno::EFAULT)
}

/// Writes a value of an ABI type to user memory.
pub fn write_val<T: IntoBytes + Immutable>(addr: u64, value: &T) -> Result<(), Errno> {
    write_bytes(addr, value.as_bytes())
}

/// Reads a NUL-terminated string of at most `max` bytes (ENAMETOOLONG beyond).
pub fn read_cstr(addr: u64, max: usize) -> Result<String, Errno> {
    String::from_utf8(read_cbytes(addr, max)?).map_err(|_| Errno::EINVAL)
}

/// Reads a NUL-terminated string of any bytes (an argument or environment string, which
/// Linux takes as bytes) of fewer than `max` bytes; ENAMETOOLONG past that.
pub fn read_cbytes(addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut at = addr;
    loop {
        // Read up to the end of the page, so a string ending just before an unmapped
        // page is still readable.
        let chunk = (4096 - (at % 4096) as usize).min(256);
        let mut buf = [0u8; 256];
        read_into(at, &mut buf[..chunk])?;
        if let Some(nul) = buf[..chunk].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            break;
        }
        out.extend_from_slice(&buf[..chunk]);
        if out.len() >= max {
            return Err(Errno::ENAMETOOLONG);
        }
        at += chunk as u64;
    }
    if out.len() >= max {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(out)
}

/// Reads a NULL-terminated array of string pointers (argv, envp), at most `max_count`
/// strings and `max_total` bytes (E2BIG beyond).
pub fn read_cstr_array(addr: u64, max_count: usize, max_total: usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0;
    for i in 0.. {
        let ptr: u64 = read_val(addr + 8 * i as u64)?;
        if ptr == 0 {
            break;
        }
        if out.len() >= max_count {
            return Err(Errno::E2BIG);
        }
        let s = read_cbytes(ptr, crate::param::MAX_STRING * 32)
            .map_err(|e| if e == Errno::ENAMETOOLONG { Errno::E2BIG } else { e })?;
        total += s.len() + 1;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}
