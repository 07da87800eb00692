//! Reading and writing user memory from system calls.
//!
//! A user address is only an allegation until it has been copied through, so it has a
//! type that says what the program claims is there: [`UserPtr<T>`] (one `T`),
//! [`UserSlice`] (a buffer of bytes), [`UserCStr`] (a NUL-terminated string). The system
//! call layer decodes its arguments into these once; the only way through them is a
//! copy by `berth_hal::uaccess`, which refuses kernel addresses and turns faults into
//! `EFAULT`.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_hal::uaccess::{copy_from_user, copy_to_user};
use core::fmt;
use core::marker::PhantomData;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Where a program says a `T` is in its memory.
pub struct UserPtr<T> {
    addr: u64,
    of: PhantomData<fn() -> T>,
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for UserPtr<T> {}

impl<T> Default for UserPtr<T> {
    /// NULL.
    fn default() -> Self {
        UserPtr::new(0)
    }
}

impl<T> fmt::Debug for UserPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.addr)
    }
}

impl<T> UserPtr<T> {
    /// The `T` at user address `addr`.
    pub const fn new(addr: u64) -> UserPtr<T> {
        UserPtr { addr, of: PhantomData }
    }

    /// The address itself (to store, compare or hand back to the program).
    pub fn addr(self) -> u64 {
        self.addr
    }

    /// Whether the program passed NULL (many pointers are optional).
    pub fn is_null(self) -> bool {
        self.addr == 0
    }

    /// The `i`th `T` from this one, as in an array.
    pub fn nth(self, i: usize) -> UserPtr<T> {
        UserPtr::new(self.addr.wrapping_add((i * core::mem::size_of::<T>()) as u64))
    }

    /// The same address, holding a `U`.
    pub fn cast<U>(self) -> UserPtr<U> {
        UserPtr::new(self.addr)
    }

    /// The `U` `offset` bytes into the `T` (one of its fields).
    pub fn field<U>(self, offset: usize) -> UserPtr<U> {
        UserPtr::new(self.addr.wrapping_add(offset as u64))
    }

    /// The bytes of the `T`.
    pub fn bytes(self) -> UserSlice {
        self.array(1)
    }

    /// The bytes of `count` `T`s from this one (an array).
    pub fn array(self, count: usize) -> UserSlice {
        UserSlice::new(self.addr, count.saturating_mul(core::mem::size_of::<T>()))
    }
}

impl<T: FromBytes + KnownLayout + Immutable> UserPtr<T> {
    /// Copies the `T` in.
    pub fn read(self) -> Result<T, Errno> {
        read_val(self.addr)
    }

    /// Copies the `T` in, or `None` for a NULL pointer.
    pub fn read_unless_null(self) -> Result<Option<T>, Errno> {
        if self.is_null() { Ok(None) } else { self.read().map(Some) }
    }
}

impl<T: IntoBytes + Immutable> UserPtr<T> {
    /// Copies `value` out.
    pub fn write(self, value: &T) -> Result<(), Errno> {
        write_val(self.addr, value)
    }

    /// Copies `value` out unless the pointer is NULL.
    pub fn write_unless_null(self, value: &T) -> Result<(), Errno> {
        if self.is_null() { Ok(()) } else { self.write(value) }
    }
}

/// A buffer of `len` bytes that a program says is in its memory.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    addr: u64,
    len: usize,
}

impl UserSlice {
    /// The `len` bytes at user address `addr`.
    pub const fn new(addr: u64, len: usize) -> UserSlice {
        UserSlice { addr, len }
    }

    /// Its length in bytes.
    pub fn len(self) -> usize {
        self.len
    }

    /// Whether it has no bytes.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The bytes from `offset` on (none past the end).
    pub fn skip(self, offset: usize) -> UserSlice {
        let offset = offset.min(self.len);
        UserSlice::new(self.addr.wrapping_add(offset as u64), self.len - offset)
    }

    /// Its first `len` bytes (all of it if shorter).
    pub fn take(self, len: usize) -> UserSlice {
        UserSlice::new(self.addr, self.len.min(len))
    }

    /// Whether it lies in user space (Linux's `access_ok`): nothing is touched.
    pub fn in_user_range(self) -> bool {
        in_user_range(self.addr, self.len)
    }

    /// Copies its first `buf.len()` bytes in (EFAULT if `buf` is longer than it).
    pub fn read_into(self, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.len() > self.len {
            return Err(Errno::EFAULT);
        }
        read_into(self.addr, buf)
    }

    /// Copies all of it in.
    pub fn read_all(self) -> Result<Vec<u8>, Errno> {
        read_bytes(self.addr, self.len)
    }

    /// Copies `data` to its start (EFAULT if `data` is longer than it).
    pub fn write(self, data: &[u8]) -> Result<(), Errno> {
        if data.len() > self.len {
            return Err(Errno::EFAULT);
        }
        write_bytes(self.addr, data)
    }

    /// Checks it can be written, touching each page, so that a read from a stream into
    /// it cannot take data and then fail: the EFAULT comes before anything is taken.
    pub fn check_writable(self) -> Result<(), Errno> {
        check_writable(self.addr, self.len)
    }
}

/// A NUL-terminated string that a program says is in its memory.
#[derive(Clone, Copy, Debug)]
pub struct UserCStr(u64);

impl UserCStr {
    /// The string at user address `addr`.
    pub const fn new(addr: u64) -> UserCStr {
        UserCStr(addr)
    }

    /// Whether the program passed NULL.
    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// Copies it in as UTF-8 (EINVAL otherwise), shorter than `max` bytes
    /// (ENAMETOOLONG otherwise).
    pub fn read(self, max: usize) -> Result<String, Errno> {
        read_cstr(self.0, max)
    }
}

/// Copies `buf.len()` bytes from user address `addr`.
fn read_into(addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    copy_from_user(buf, addr).map_err(|_| Errno::EFAULT)
}

/// Copies `len` bytes from user address `addr`.
fn read_bytes(addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    read_into(addr, &mut buf)?;
    Ok(buf)
}

/// Copies `data` to user address `addr`.
fn write_bytes(addr: u64, data: &[u8]) -> Result<(), Errno> {
    copy_to_user(addr, data).map_err(|_| Errno::EFAULT)
}

/// Whether `[addr, addr + len)` lies in user space (Linux's `access_ok`): nothing is
/// touched, so the memory may still be unmapped.
fn in_user_range(addr: u64, len: usize) -> bool {
    addr.checked_add(len as u64).is_some_and(|end| end <= berth_hal::layout::USER_END)
}

/// Checks that `[addr, addr + len)` can be written, touching each page (a byte is read
/// and written back), so a read from a stream into it cannot consume data and then
/// fail: the EFAULT comes before anything is taken.
fn check_writable(addr: u64, len: usize) -> Result<(), Errno> {
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
fn read_val<T: FromBytes + KnownLayout + Immutable>(addr: u64) -> Result<T, Errno> {
    let bytes = read_bytes(addr, core::mem::size_of::<T>())?;
    T::read_from_bytes(&bytes).map_err(|_| Errno::EFAULT)
}

/// Writes a value of an ABI type to user memory.
fn write_val<T: IntoBytes + Immutable>(addr: u64, value: &T) -> Result<(), Errno> {
    write_bytes(addr, value.as_bytes())
}

/// Reads a NUL-terminated string of at most `max` bytes (ENAMETOOLONG beyond).
fn read_cstr(addr: u64, max: usize) -> Result<String, Errno> {
    String::from_utf8(read_cbytes(addr, max)?).map_err(|_| Errno::EINVAL)
}

/// Reads a NUL-terminated string of any bytes (an argument or environment string, which
/// Linux takes as bytes) of fewer than `max` bytes; ENAMETOOLONG past that.
fn read_cbytes(addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
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
/// strings and `max_total` bytes (E2BIG beyond). A NULL array is empty.
pub fn read_cstr_array(array: UserPtr<u64>, max_count: usize, max_total: usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if array.is_null() {
        return Ok(out);
    }
    let mut total = 0;
    for i in 0.. {
        let ptr = array.nth(i).read()?;
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
