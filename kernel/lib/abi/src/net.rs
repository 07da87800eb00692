//! Sockets: address families, types, levels and options, `MSG_*` flags, and the address,
//! message and control structs.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    NET_CONSTS: Libc;
    /// Unspecified family.
    pub const AF_UNSPEC: u16 = 0;
    /// Unix domain sockets.
    pub const AF_UNIX: u16 = 1;
    /// IPv4.
    pub const AF_INET: u16 = 2;
    /// IPv6.
    pub const AF_INET6: u16 = 10;
    /// Netlink.
    pub const AF_NETLINK: u16 = 16;
    /// Raw packets.
    pub const AF_PACKET: u16 = 17;

    /// Reliable byte stream.
    pub const SOCK_STREAM: i32 = 1;
    /// Datagrams.
    pub const SOCK_DGRAM: i32 = 2;
    /// Raw protocol access.
    pub const SOCK_RAW: i32 = 3;
    /// Reliable datagrams, unordered.
    pub const SOCK_RDM: i32 = 4;
    /// Reliable, ordered datagrams.
    pub const SOCK_SEQPACKET: i32 = 5;
    /// `socket` type modifier: non-blocking.
    pub const SOCK_NONBLOCK: i32 = 0o4000;
    /// `socket` type modifier: close on `execve`.
    pub const SOCK_CLOEXEC: i32 = 0o2000000;

    /// IPv4 (`setsockopt` level for `IP_*`).
    pub const IPPROTO_IP: i32 = 0;
    /// ICMP.
    pub const IPPROTO_ICMP: i32 = 1;
    /// TCP (`setsockopt` level for `TCP_*`).
    pub const IPPROTO_TCP: i32 = 6;
    /// UDP.
    pub const IPPROTO_UDP: i32 = 17;
    /// IPv6 (`setsockopt` level for `IPV6_*`).
    pub const IPPROTO_IPV6: i32 = 41;
    /// ICMPv6.
    pub const IPPROTO_ICMPV6: i32 = 58;
    /// Raw IP.
    pub const IPPROTO_RAW: i32 = 255;

    /// `MSG_*`: out-of-band data.
    pub const MSG_OOB: i32 = 0x01;
    /// `MSG_*`: read without consuming.
    pub const MSG_PEEK: i32 = 0x02;
    /// `MSG_*`: bypass routing.
    pub const MSG_DONTROUTE: i32 = 0x04;
    /// `MSG_*` (returned): control data truncated.
    pub const MSG_CTRUNC: i32 = 0x08;
    /// `MSG_*`: report the real length of a truncated datagram; (returned) it was truncated.
    pub const MSG_TRUNC: i32 = 0x20;
    /// `MSG_*`: do not block.
    pub const MSG_DONTWAIT: i32 = 0x40;
    /// `MSG_*`: end of record.
    pub const MSG_EOR: i32 = 0x80;
    /// `MSG_*`: wait for the full amount.
    pub const MSG_WAITALL: i32 = 0x100;
    /// `MSG_*`: no `SIGPIPE` on a broken stream.
    pub const MSG_NOSIGNAL: i32 = 0x4000;
    /// `MSG_*`: more data follows (cork).
    pub const MSG_MORE: i32 = 0x8000;
    /// `recvmmsg`: block only for the first message.
    pub const MSG_WAITFORONE: i32 = 0x10000;
    /// `recvmsg`: received descriptors get `FD_CLOEXEC`.
    pub const MSG_CMSG_CLOEXEC: i32 = 0x40000000;

    /// `shutdown`: no more receives.
    pub const SHUT_RD: i32 = 0;
    /// `shutdown`: no more sends.
    pub const SHUT_WR: i32 = 1;
    /// `shutdown`: neither.
    pub const SHUT_RDWR: i32 = 2;

    /// Control message type: descriptors (`SOL_SOCKET`).
    pub const SCM_RIGHTS: i32 = 1;
    /// Control message type: [`Ucred`] (`SOL_SOCKET`).
    pub const SCM_CREDENTIALS: i32 = 2;

    /// `setsockopt` level for `TCP_*` (same as [`IPPROTO_TCP`]).
    pub const SOL_TCP: i32 = 6;
    /// Disable Nagle's algorithm.
    pub const TCP_NODELAY: i32 = 1;
    /// Maximum segment size.
    pub const TCP_MAXSEG: i32 = 2;
    /// Hold partial frames until uncorked.
    pub const TCP_CORK: i32 = 3;
    /// Idle time before keepalive probes, seconds.
    pub const TCP_KEEPIDLE: i32 = 4;
    /// Time between keepalive probes, seconds.
    pub const TCP_KEEPINTVL: i32 = 5;
    /// Keepalive probes before dropping.
    pub const TCP_KEEPCNT: i32 = 6;
    /// SYN retransmits.
    pub const TCP_SYNCNT: i32 = 7;
    /// Lifetime of orphaned FIN-WAIT-2 sockets.
    pub const TCP_LINGER2: i32 = 8;
    /// Wake `accept` only when data arrives.
    pub const TCP_DEFER_ACCEPT: i32 = 9;
    /// Bound the advertised window.
    pub const TCP_WINDOW_CLAMP: i32 = 10;
    /// Read `struct tcp_info`.
    pub const TCP_INFO: i32 = 11;
    /// Send ACKs at once.
    pub const TCP_QUICKACK: i32 = 12;
    /// Congestion control algorithm name.
    pub const TCP_CONGESTION: i32 = 13;
    /// Time unacknowledged data may stay before the connection drops, ms.
    pub const TCP_USER_TIMEOUT: i32 = 18;
    /// TCP Fast Open queue length.
    pub const TCP_FASTOPEN: i32 = 23;

    /// `INADDR_ANY`, host order.
    pub const INADDR_ANY: u32 = 0;
    /// `INADDR_LOOPBACK` (127.0.0.1), host order.
    pub const INADDR_LOOPBACK: u32 = 0x7f00_0001;
}

abi_consts! {
    NET_KERNEL_CONSTS: Kernel;
    /// `setsockopt` level for `SO_*`.
    pub const SOL_SOCKET: i32 = 1;
    /// Record debugging information.
    pub const SO_DEBUG: i32 = 1;
    /// Allow reuse of a local address in `TIME_WAIT`.
    pub const SO_REUSEADDR: i32 = 2;
    /// Read the socket type.
    pub const SO_TYPE: i32 = 3;
    /// Read and clear the pending error.
    pub const SO_ERROR: i32 = 4;
    /// Bypass routing.
    pub const SO_DONTROUTE: i32 = 5;
    /// Allow broadcast datagrams.
    pub const SO_BROADCAST: i32 = 6;
    /// Send buffer size.
    pub const SO_SNDBUF: i32 = 7;
    /// Receive buffer size.
    pub const SO_RCVBUF: i32 = 8;
    /// TCP keepalive probes.
    pub const SO_KEEPALIVE: i32 = 9;
    /// Out-of-band data inline.
    pub const SO_OOBINLINE: i32 = 10;
    /// Protocol-defined priority.
    pub const SO_PRIORITY: i32 = 12;
    /// Linger on close ([`Linger`]).
    pub const SO_LINGER: i32 = 13;
    /// Allow several sockets to bind the same address.
    pub const SO_REUSEPORT: i32 = 15;
    /// Receive `SCM_CREDENTIALS`.
    pub const SO_PASSCRED: i32 = 16;
    /// Read the peer's [`Ucred`] (Unix sockets).
    pub const SO_PEERCRED: i32 = 17;
    /// Minimum bytes for input to be reported.
    pub const SO_RCVLOWAT: i32 = 18;
    /// Minimum bytes for output to be reported.
    pub const SO_SNDLOWAT: i32 = 19;
    /// Receive timeout (`struct timeval`; 64-bit `SO_RCVTIMEO_OLD`).
    pub const SO_RCVTIMEO: i32 = 20;
    /// Send timeout (`struct timeval`; 64-bit `SO_SNDTIMEO_OLD`).
    pub const SO_SNDTIMEO: i32 = 21;
    /// Whether the socket is listening.
    pub const SO_ACCEPTCONN: i32 = 30;
    /// Send buffer size, ignoring `wmem_max` (privileged).
    pub const SO_SNDBUFFORCE: i32 = 32;
    /// Receive buffer size, ignoring `rmem_max` (privileged).
    pub const SO_RCVBUFFORCE: i32 = 33;
    /// Read the protocol.
    pub const SO_PROTOCOL: i32 = 38;
    /// Read the address family.
    pub const SO_DOMAIN: i32 = 39;
    /// Length of `sun_path`.
    pub const UNIX_PATH_MAX: usize = 108;
}

/// Mask of the type in `socket`'s `type` argument (kernel-internal, `<linux/net.h>`).
pub const SOCK_TYPE_MASK: i32 = 0xf;

bitflags::bitflags! {
    /// The flags `socket`, `socketpair` and `accept4` take beside a socket type.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SockFlags: i32 {
        /// [`SOCK_NONBLOCK`].
        const NONBLOCK = SOCK_NONBLOCK;
        /// [`SOCK_CLOEXEC`].
        const CLOEXEC = SOCK_CLOEXEC;
    }
}

/// A socket type argument split into the type ([`SOCK_STREAM`]...) and its flags;
/// `None` if it has bits that are neither.
pub fn split_socket_type(ty: i32) -> Option<(i32, SockFlags)> {
    Some((ty & SOCK_TYPE_MASK, SockFlags::from_bits(ty & !SOCK_TYPE_MASK)?))
}

bitflags::bitflags! {
    /// `MSG_*` flags of `send`/`recv` and their kin as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MsgFlags: i32 {
        /// [`MSG_OOB`].
        const OOB = MSG_OOB;
        /// [`MSG_PEEK`].
        const PEEK = MSG_PEEK;
        /// [`MSG_DONTROUTE`].
        const DONTROUTE = MSG_DONTROUTE;
        /// [`MSG_CTRUNC`].
        const CTRUNC = MSG_CTRUNC;
        /// [`MSG_TRUNC`].
        const TRUNC = MSG_TRUNC;
        /// [`MSG_DONTWAIT`].
        const DONTWAIT = MSG_DONTWAIT;
        /// [`MSG_EOR`].
        const EOR = MSG_EOR;
        /// [`MSG_WAITALL`].
        const WAITALL = MSG_WAITALL;
        /// [`MSG_NOSIGNAL`].
        const NOSIGNAL = MSG_NOSIGNAL;
        /// [`MSG_MORE`].
        const MORE = MSG_MORE;
        /// [`MSG_WAITFORONE`].
        const WAITFORONE = MSG_WAITFORONE;
        /// [`MSG_CMSG_CLOEXEC`].
        const CMSG_CLOEXEC = MSG_CMSG_CLOEXEC;
    }
}

/// `struct sockaddr_in`: 16 bytes, 4-aligned like the C struct (its `struct in_addr` is a `u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, align(4))]
pub struct SockaddrIn {
    /// [`AF_INET`].
    pub family: u16,
    /// Port, network byte order.
    pub port_be: u16,
    /// Address, network byte order (`[127, 0, 0, 1]`).
    pub addr: [u8; 4],
    /// Padding; zero.
    pub zero: [u8; 8],
}

impl SockaddrIn {
    /// An IPv4 socket address from a host-order port.
    pub const fn new(addr: [u8; 4], port: u16) -> SockaddrIn {
        SockaddrIn { family: AF_INET, port_be: port.to_be(), addr, zero: [0; 8] }
    }

    /// The port in host order.
    pub const fn port(&self) -> u16 {
        u16::from_be(self.port_be)
    }
}

/// `struct sockaddr_in6`: 28 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SockaddrIn6 {
    /// [`AF_INET6`].
    pub family: u16,
    /// Port, network byte order.
    pub port_be: u16,
    /// Flow information, network byte order.
    pub flowinfo: u32,
    /// Address, network byte order.
    pub addr: [u8; 16],
    /// Scope (interface) id.
    pub scope_id: u32,
}

/// `struct sockaddr_un`: 110 bytes. The path is NUL-terminated unless it fills `path`;
/// a leading NUL makes it an abstract address, whose length comes from `addrlen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SockaddrUn {
    /// [`AF_UNIX`].
    pub family: u16,
    /// The path.
    pub path: [u8; UNIX_PATH_MAX],
}

zeroed_default!(SockaddrUn);

impl SockaddrUn {
    /// Offset of `path`: an `addrlen` of 2 is an unnamed socket.
    pub const PATH_OFFSET: usize = 2;
}

/// The x86_64 `struct msghdr` (`sendmsg`, `recvmsg`): 56 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct MsgHdr {
    /// User address of the peer address, or 0.
    pub msg_name: u64,
    /// Its length.
    pub msg_namelen: u32,
    /// Padding; zero.
    pub _pad0: u32,
    /// User address of the [`IoVec`](crate::fs::IoVec) array.
    pub msg_iov: u64,
    /// Its length.
    pub msg_iovlen: u64,
    /// User address of the control data, or 0.
    pub msg_control: u64,
    /// Its length.
    pub msg_controllen: u64,
    /// Flags of the received message (`MSG_TRUNC`, `MSG_CTRUNC`, ...).
    pub msg_flags: i32,
    /// Padding; zero.
    pub _pad1: u32,
}

/// `struct mmsghdr` (`sendmmsg`, `recvmmsg`): 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct MMsgHdr {
    /// The message.
    pub msg_hdr: MsgHdr,
    /// Bytes transferred.
    pub msg_len: u32,
    /// Padding; zero.
    pub _pad: u32,
}

/// `struct cmsghdr`, the header of each control message: 16 bytes, data follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct CmsgHdr {
    /// Length of header and data (`CMSG_LEN`), not counting the tail padding.
    pub cmsg_len: u64,
    /// Level, e.g. [`SOL_SOCKET`].
    pub cmsg_level: i32,
    /// Type, e.g. [`SCM_RIGHTS`].
    pub cmsg_type: i32,
}

impl CmsgHdr {
    /// `CMSG_ALIGN`: control messages are 8-aligned.
    pub const fn align(len: usize) -> usize {
        (len + 7) & !7
    }

    /// `CMSG_LEN`: `cmsg_len` for `data_len` bytes of data.
    pub const fn len(data_len: usize) -> usize {
        size_of::<CmsgHdr>() + data_len
    }

    /// `CMSG_SPACE`: buffer space one message with `data_len` bytes of data takes.
    pub const fn space(data_len: usize) -> usize {
        size_of::<CmsgHdr>() + CmsgHdr::align(data_len)
    }
}

/// `struct ucred` (`SO_PEERCRED`, `SCM_CREDENTIALS`): 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Ucred {
    /// Process id.
    pub pid: i32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// `struct linger` (`SO_LINGER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Linger {
    /// Nonzero: linger on close.
    pub l_onoff: i32,
    /// How long, seconds.
    pub l_linger: i32,
}
