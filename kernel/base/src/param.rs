//! Every limit and tunable of the kernel in one place, each with what it bounds and
//! why it has its value. (Constants that are Linux's ABI or a device's registers stay
//! where they are used.)

// ---- Processes --------------------------------------------------------------

/// Most nested `#!` interpreters.
pub const MAX_INTERPRETERS: usize = 4;

/// The stack's reserved size (RLIMIT_STACK).
pub const STACK_SIZE: u64 = 8 << 20;

/// Most bytes of arguments and environment.
pub const MAX_ARG_BYTES: usize = 256 * 1024;

/// Most arguments or environment entries.
pub const MAX_ARGS: usize = 32 * 1024;

/// Signals queued per receiver (thread, or process as a whole) at most: the standard
/// ones once each, real-time ones up to this many in all. (Linux bounds them per user
/// with RLIMIT_SIGPENDING; berth per receiver, so a thread's cost has a bound.)
pub const MAX_QUEUED_SIGNALS: usize = 64;

/// Largest pid handed out before numbers wrap around (Linux's default pid_max).
pub const PID_MAX: u32 = 32_768;

/// Ticks a user thread may run before another ready thread gets the CPU.
pub const TIMESLICE_TICKS: u64 = 2;

/// Timer interrupts per second unless `hz=` says otherwise.
pub const DEFAULT_HZ: u32 = 250;

// ---- Memory -----------------------------------------------------------------

/// Most regions an address space may have (Linux's default `vm.max_map_count`).
pub const MAX_REGIONS: usize = 65530;

/// What each region costs its container: the region and its node in the map.
pub const REGION_COST: u64 = 256;

/// Capacity an emptied byte queue (pipes, sockets) keeps (freeing and reallocating it for every small
/// message would cost more than it saves).
pub const QUEUE_KEEP: usize = 4096;

// ---- Files ------------------------------------------------------------------

/// Most descriptors a process may have open (RLIMIT_NOFILE).
pub const MAX_FDS: usize = 1024;

/// What each open descriptor is charged: its slot, and the open file and file object
/// behind it (sockets and buffers charge their own memory on top).
pub const FD_COST: u64 = 512;

/// Bytes a pipe holds (Linux's default).
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// Most interests one instance holds (Linux bounds watches per user): ENOSPC beyond.
pub const MAX_EPOLL_INTERESTS: usize = 1 << 16;

/// What each interest is charged: itself, its relay in the watched file's queue, and
/// room in the list.
pub const EPOLL_INTEREST_COST: u64 = 256;

/// Most descriptors one `poll` or `select` may watch.
pub const MAX_POLL_FDS: usize = 4096;

/// Longest string argument (PATH_MAX).
pub const MAX_STRING: usize = 4096;

// ---- Network ----------------------------------------------------------------

/// Largest accept queue of a TCP or Unix socket (Linux's `somaxconn`).
pub const MAX_BACKLOG: usize = 4096;

/// Most smoltcp sockets (TCP and UDP) the machine holds at once.
pub const MAX_NET_SOCKETS: usize = 4096;

/// Bytes each direction of a connection inside a container holds (like a loopback
/// socket's default buffers).
pub const LOCAL_SOCKET_CAPACITY: usize = 256 * 1024;

/// Bytes of datagrams a UDP socket's inbox or smoltcp buffer holds.
pub const UDP_BUFFER_BYTES: usize = 64 * 1024;

/// Datagrams a UDP socket's buffer holds.
pub const UDP_BUFFER_PACKETS: usize = 64;

/// How long a closing connection may take before it is reset, ns.
pub const LINGER_LIMIT_NS: u64 = 60_000_000_000;

/// Sockets kept listening per port: the connections that can be in their handshake at
/// once (Linux's SYN queue; the backlog bounds only the queue waiting for `accept`).
/// More connection requests wait for the client to retry (see `Nic::set_syn_budget`).
pub const LISTENING_PER_PORT: usize = 16;

/// Most bytes one send moves through the kernel (a blocking stream send of more
/// returns this much, and the caller sends the rest).
pub const MAX_SOCKET_TRANSFER: usize = 1 << 20;

/// Most bytes one receive returns (streams return what they have; the largest
/// datagram is smaller).
pub const MAX_SOCKET_RECEIVE: usize = 256 * 1024;

/// How long any one wait for a server the kernel calls (a registry) may take, and the
/// window its pace is measured over.
pub const HTTP_STALL_NS: u64 = 30_000_000_000;

/// The fewest body bytes a server must send in each [`HTTP_STALL_NS`].
pub const HTTP_MIN_PACE: u64 = 64 * 1024;

/// How long boot waits for DHCP before starting containers anyway.
pub const NET_CONFIG_WAIT_NS: u64 = 3_000_000_000;

// ---- Containers -------------------------------------------------------------

/// Bytes of output a container's log keeps.
pub const LOG_CAPACITY: usize = 1 << 20;

/// The smallest memory limit the agent accepts (Docker's).
pub const MIN_CONTAINER_MEMORY: i64 = 6 << 20;

/// Seconds `docker stop` waits before killing, unless `t=` says otherwise.
pub const DEFAULT_STOP_SECONDS: u64 = 10;

// ---- Images -----------------------------------------------------------------

/// The largest JSON member (configuration, manifest, index) `docker load` keeps.
pub const IMAGE_MAX_JSON: u64 = 4 << 20;

/// JSON kept from one archive, at most.
pub const IMAGE_MAX_JSON_TOTAL: usize = 16 << 20;

/// Layers one archive may hold (Docker's limit on an image is 127).
pub const IMAGE_MAX_LAYERS: usize = 1024;

/// The largest manifest or index `docker pull` takes.
pub const MAX_MANIFEST: u64 = 4 << 20;

/// Redirects a registry request follows, at most.
pub const MAX_REDIRECTS: usize = 5;

/// Default bound on an image's files (`agent-image-max=`).
pub const DEFAULT_IMAGE_LIMIT: u64 = 512 << 20;

// ---- The control agent ------------------------------------------------------

/// Connections served at once. When all are taken, a new one takes the place of the
/// connection that has waited longest for a request (if it has waited more than
/// [`AGENT_EVICT_AFTER_NS`]); else it is answered 503 and closed.
pub const AGENT_MAX_CONNECTIONS: usize = 64;

/// How long a connection must have waited for a request before a new client may take
/// its place.
pub const AGENT_EVICT_AFTER_NS: u64 = 2_000_000_000;

/// The largest JSON body the agent accepts.
pub const AGENT_MAX_JSON: u64 = 1 << 20;

/// How long a connection may sit idle between requests.
pub const AGENT_IDLE_NS: u64 = 60_000_000_000;

/// How long a request head may take to arrive once its first byte has.
pub const AGENT_HEAD_NS: u64 = 10_000_000_000;

/// How long a request body may pause between bytes.
pub const AGENT_BODY_STALL_NS: u64 = 30_000_000_000;

/// How long a small (JSON) body may take in all.
pub const AGENT_SMALL_BODY_NS: u64 = 30_000_000_000;
