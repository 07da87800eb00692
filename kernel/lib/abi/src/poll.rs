//! Readiness: `poll` events and `struct pollfd`, `epoll` and its packed `struct
//! epoll_event`, `select`'s `fd_set`, and the flags of `eventfd`, a file made to be
//! waited for.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    POLL_CONSTS: Libc;
    /// Readable.
    pub const POLLIN: i16 = 0x001;
    /// Urgent data readable.
    pub const POLLPRI: i16 = 0x002;
    /// Writable.
    pub const POLLOUT: i16 = 0x004;
    /// Error (always reported).
    pub const POLLERR: i16 = 0x008;
    /// Hang-up (always reported).
    pub const POLLHUP: i16 = 0x010;
    /// Not an open descriptor (always reported).
    pub const POLLNVAL: i16 = 0x020;
    /// Normal data readable.
    pub const POLLRDNORM: i16 = 0x040;
    /// Priority data readable.
    pub const POLLRDBAND: i16 = 0x080;
    /// Normal data writable.
    pub const POLLWRNORM: i16 = 0x100;
    /// Priority data writable.
    pub const POLLWRBAND: i16 = 0x200;
    /// Unused on Linux.
    pub const POLLMSG: i16 = 0x400;
    /// Peer closed its writing side (stream sockets).
    pub const POLLRDHUP: i16 = 0x2000;
    /// Descriptors an `fd_set` can hold.
    pub const FD_SETSIZE: usize = 1024;
}

abi_consts! {
    EPOLL_CONSTS: Kernel;
    /// Add a descriptor to the interest list.
    pub const EPOLL_CTL_ADD: i32 = 1;
    /// Remove a descriptor.
    pub const EPOLL_CTL_DEL: i32 = 2;
    /// Change a descriptor's events.
    pub const EPOLL_CTL_MOD: i32 = 3;
    /// `epoll_create1`: close on `execve`.
    pub const EPOLL_CLOEXEC: u32 = 0o2000000;
    /// Readable.
    pub const EPOLLIN: u32 = 0x001;
    /// Urgent data readable.
    pub const EPOLLPRI: u32 = 0x002;
    /// Writable.
    pub const EPOLLOUT: u32 = 0x004;
    /// Error (always reported).
    pub const EPOLLERR: u32 = 0x008;
    /// Hang-up (always reported).
    pub const EPOLLHUP: u32 = 0x010;
    /// Not an open descriptor.
    pub const EPOLLNVAL: u32 = 0x020;
    /// Normal data readable.
    pub const EPOLLRDNORM: u32 = 0x040;
    /// Priority data readable.
    pub const EPOLLRDBAND: u32 = 0x080;
    /// Normal data writable.
    pub const EPOLLWRNORM: u32 = 0x100;
    /// Priority data writable.
    pub const EPOLLWRBAND: u32 = 0x200;
    /// Unused.
    pub const EPOLLMSG: u32 = 0x400;
    /// Peer closed its writing side.
    pub const EPOLLRDHUP: u32 = 0x2000;
    /// Wake one of several epoll instances waiting on the same descriptor.
    pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
    /// Keep the system awake while the event is pending.
    pub const EPOLLWAKEUP: u32 = 1 << 29;
    /// Disarm after one event (re-arm with `EPOLL_CTL_MOD`).
    pub const EPOLLONESHOT: u32 = 1 << 30;
    /// Edge-triggered.
    pub const EPOLLET: u32 = 1 << 31;
}

abi_consts! {
    EVENTFD_CONSTS: Libc;
    /// `eventfd2`: reads take 1 from the counter instead of all of it.
    pub const EFD_SEMAPHORE: u32 = 0o1;
    /// `eventfd2`: close on `execve` (`O_CLOEXEC`).
    pub const EFD_CLOEXEC: u32 = 0o2000000;
    /// `eventfd2`: reads and writes do not block (`O_NONBLOCK`).
    pub const EFD_NONBLOCK: u32 = 0o4000;
}

bitflags::bitflags! {
    /// `EPOLL*` event bits as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct EpollEvents: u32 {
        /// [`EPOLLIN`].
        const IN = EPOLLIN;
        /// [`EPOLLPRI`].
        const PRI = EPOLLPRI;
        /// [`EPOLLOUT`].
        const OUT = EPOLLOUT;
        /// [`EPOLLERR`].
        const ERR = EPOLLERR;
        /// [`EPOLLHUP`].
        const HUP = EPOLLHUP;
        /// [`EPOLLNVAL`].
        const NVAL = EPOLLNVAL;
        /// [`EPOLLRDNORM`].
        const RDNORM = EPOLLRDNORM;
        /// [`EPOLLRDBAND`].
        const RDBAND = EPOLLRDBAND;
        /// [`EPOLLWRNORM`].
        const WRNORM = EPOLLWRNORM;
        /// [`EPOLLWRBAND`].
        const WRBAND = EPOLLWRBAND;
        /// [`EPOLLMSG`].
        const MSG = EPOLLMSG;
        /// [`EPOLLRDHUP`].
        const RDHUP = EPOLLRDHUP;
        /// [`EPOLLEXCLUSIVE`].
        const EXCLUSIVE = EPOLLEXCLUSIVE;
        /// [`EPOLLWAKEUP`].
        const WAKEUP = EPOLLWAKEUP;
        /// [`EPOLLONESHOT`].
        const ONESHOT = EPOLLONESHOT;
        /// [`EPOLLET`].
        const ET = EPOLLET;
    }
}

/// `struct pollfd` (`poll`, `ppoll`): 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct PollFd {
    /// The descriptor; negative entries are skipped and get `revents` 0.
    pub fd: i32,
    /// Requested `POLL*` events.
    pub events: i16,
    /// Returned events.
    pub revents: i16,
}

/// `struct epoll_event`: 12 bytes, **packed** on x86_64 (`__EPOLL_PACKED`), so `data`
/// sits at offset 4 and arrays of events have no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, packed)]
pub struct EpollEvent {
    /// `EPOLL*` bits.
    pub events: u32,
    /// User data, returned as given.
    pub data: u64,
}

/// `fd_set`: a 1024-bit descriptor bitmap, as `select` reads and writes it.
///
/// `select` copies only the first `(nfds + 63) / 64` words; [`FdSet::words_for`] says how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct FdSet(pub [u64; FD_SETSIZE / 64]);

impl FdSet {
    /// Words of an `fd_set` that `select(nfds, ...)` uses.
    pub const fn words_for(nfds: usize) -> usize {
        nfds.div_ceil(64)
    }

    /// Bytes of an `fd_set` that `select(nfds, ...)` copies (whole words).
    pub const fn bytes_for(nfds: usize) -> usize {
        FdSet::words_for(nfds) * 8
    }

    /// Whether `fd` is in the set; false for descriptors outside `0..1024`.
    pub fn contains(&self, fd: usize) -> bool {
        fd < FD_SETSIZE && self.0[fd / 64] & (1 << (fd % 64)) != 0
    }

    /// Adds `fd`; ignored outside `0..1024`.
    pub fn insert(&mut self, fd: usize) {
        if fd < FD_SETSIZE {
            self.0[fd / 64] |= 1 << (fd % 64);
        }
    }

    /// Removes `fd`.
    pub fn remove(&mut self, fd: usize) {
        if fd < FD_SETSIZE {
            self.0[fd / 64] &= !(1 << (fd % 64));
        }
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.0 = [0; FD_SETSIZE / 64];
    }

    /// The descriptors below `nfds` in the set, lowest first.
    pub fn iter(&self, nfds: usize) -> impl Iterator<Item = usize> + '_ {
        (0..nfds.min(FD_SETSIZE)).filter(|&fd| self.contains(fd))
    }
}

bitflags::bitflags! {
    /// The flags of `eventfd2` as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct EventFdFlags: u32 {
        /// [`EFD_SEMAPHORE`].
        const SEMAPHORE = EFD_SEMAPHORE;
        /// [`EFD_CLOEXEC`].
        const CLOEXEC = EFD_CLOEXEC;
        /// [`EFD_NONBLOCK`].
        const NONBLOCK = EFD_NONBLOCK;
    }
}
