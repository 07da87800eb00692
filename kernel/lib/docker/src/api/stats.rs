//! The answer to `GET /containers/{id}/stats` (`docker stats`), whose fields are in
//! snake case. The CLI computes the CPU percentage from the change in
//! `cpu_usage.total_usage` against `system_cpu_usage` between `precpu_stats` and
//! `cpu_stats`, times `online_cpus`.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::Empty;

/// One statistics sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// When this sample was taken, RFC 3339.
    pub read: String,
    /// When the previous sample was taken (zero time for the first).
    pub preread: String,
    /// Processes and threads.
    pub pids_stats: PidsStats,
    /// Block I/O (none).
    pub blkio_stats: BlkioStats,
    /// Processes (Windows only; 0).
    pub num_procs: u32,
    /// Storage (Windows only; empty).
    pub storage_stats: Empty,
    /// CPU use now.
    pub cpu_stats: CpuStats,
    /// CPU use at the previous sample.
    pub precpu_stats: CpuStats,
    /// Memory use.
    pub memory_stats: MemoryStats,
    /// The container's name with a leading `/`.
    pub name: String,
    /// The container's full id.
    pub id: String,
    /// Traffic by interface (`eth0`).
    pub networks: BTreeMap<String, NetworkStats>,
}

/// `pids_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidsStats {
    /// Processes and threads now.
    pub current: u64,
    /// The limit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `blkio_stats`: berth reports no block I/O, so every list is `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioStats {
    /// Bytes by device and operation (always `null`).
    pub io_service_bytes_recursive: Option<Vec<Empty>>,
}

/// `cpu_stats` and `precpu_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStats {
    /// The container's CPU time.
    pub cpu_usage: CpuUsage,
    /// Time all CPUs of the machine have run since boot, in nanoseconds.
    pub system_cpu_usage: u64,
    /// CPUs online.
    pub online_cpus: u32,
    /// CPU bandwidth throttling.
    pub throttling_data: ThrottlingData,
}

/// `cpu_usage`, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// All CPU time used.
    pub total_usage: u64,
    /// Of which in the kernel.
    pub usage_in_kernelmode: u64,
    /// Of which in user mode.
    pub usage_in_usermode: u64,
}

/// `throttling_data`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlingData {
    /// Periods that have passed.
    pub periods: u64,
    /// Periods in which the container was throttled.
    pub throttled_periods: u64,
    /// Time throttled, in nanoseconds.
    pub throttled_time: u64,
}

/// `memory_stats`, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStats {
    /// Memory in use.
    pub usage: u64,
    /// Detail counters by name (the CLI subtracts `inactive_file` if present).
    pub stats: BTreeMap<String, u64>,
    /// The limit (the machine's memory when there is none).
    pub limit: u64,
}

/// One interface's traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStats {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Packets to send dropped.
    pub tx_dropped: u64,
}
