//! Linux x86_64 ABI definitions: the numbers and structs of the syscall interface.
//!
//! berth runs unmodified static Linux binaries, so every value that crosses the syscall
//! boundary must be Linux's, bit for bit. This crate holds them, one module per topic:
//! [`errno`], [`syscalls`], [`signal`], [`fs`], [`mm`], [`process`], [`time`], [`sync`]
//! (futexes), [`ioctl`] (terminals), [`poll`] (with epoll and eventfd) and [`net`].
//!
//! Constants carry their C names (`fs::O_CLOEXEC`, `signal::SA_RESTART`). Structs the
//! kernel copies to or from user memory are `#[repr(C)]` with explicit padding fields and
//! derive `zerocopy`'s traits, so `stat.as_bytes()` and `Timespec::read_from_bytes(buf)`
//! work without `unsafe`. Where glibc's struct differs from the kernel's (`sigaction`,
//! `ucontext`, `termios`), the kernel's is the one defined here.
//!
//! `tests/against_c.rs` compiles a C program against the system's glibc and kernel headers
//! and checks every constant, every struct's size and field offsets, every errno text
//! and every syscall number against it.

#![no_std]

extern crate alloc;

#[macro_use]
mod macros;

pub mod errno;
pub mod fs;
pub mod ioctl;
pub mod mm;
pub mod net;
pub mod poll;
pub mod process;
pub mod random;
pub mod signal;
pub mod sync;
pub mod syscalls;
pub mod time;

#[doc(hidden)]
pub mod verify;

pub use errno::{Errno, Result};
