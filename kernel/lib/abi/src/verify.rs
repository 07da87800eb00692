//! The table of every constant in the crate, for the host test that checks them against C.
//!
//! Not part of the API: `tests/against_c.rs` turns each [`Const`] into a line of a C
//! program, compiles it against the system's headers and compares the output.

/// Which set of C headers defines a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    /// glibc's headers (`<fcntl.h>`, `<sys/socket.h>`, ...).
    Libc,
    /// The kernel's UAPI headers alone (`<asm/signal.h>`, `<linux/stat.h>`, ...), for values
    /// and structs where glibc's differ from the kernel's or glibc has none.
    Kernel,
}

/// One constant as declared in Rust.
#[derive(Debug, Clone, Copy)]
pub struct Const {
    /// The Rust name.
    pub name: &'static str,
    /// The C expression with the same value.
    pub c_expr: &'static str,
    /// The headers that define it.
    pub headers: Headers,
    /// The value.
    pub value: i128,
    /// Width of the Rust type in bits.
    pub bits: u32,
}

/// Every constant table in the crate.
pub const CONSTS: &[&[Const]] = &[
    crate::signal::SIGNAL_CONSTS,
    crate::signal::SIGNAL_KERNEL_CONSTS,
    crate::signal::SIGINFO_CONSTS,
    crate::signal::FRAME_CONSTS,
    crate::fs::FS_CONSTS,
    crate::fs::FS_KERNEL_CONSTS,
    crate::fs::STATX_CONSTS,
    crate::fs::DIRENT_CONSTS,
    crate::fs::STATFS_CONSTS,
    crate::mm::MM_CONSTS,
    crate::process::PROCESS_CONSTS,
    crate::process::PROCESS_KERNEL_CONSTS,
    crate::process::AUXV_CONSTS,
    crate::process::PRCTL_CONSTS,
    crate::time::TIME_CONSTS,
    crate::sync::FUTEX_CONSTS,
    crate::ioctl::IOCTL_CONSTS,
    crate::ioctl::TERMIOS_CONSTS,
    crate::poll::POLL_CONSTS,
    crate::poll::EPOLL_CONSTS,
    crate::poll::EVENTFD_CONSTS,
    crate::net::NET_CONSTS,
    crate::net::NET_KERNEL_CONSTS,
    crate::random::RANDOM_CONSTS,
];
