//! How a container is configured, and reading that from a boot module's command line:
//! pure logic the kernel's container layer uses and the host tests.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

mod restart;

pub use restart::{Ending, RestartPolicy};

/// A container's weight when the CPU is contended, unless it says otherwise (Docker's
/// default `--cpu-shares`).
pub const DEFAULT_CPU_SHARES: u32 = berth_cpu::BASE_WEIGHT;

/// The search path a program starts with when its configuration sets none (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of memory (pages and file data); `u64::MAX` for no limit of its own.
    pub memory: u64,
    /// Processes and threads at once (0: the machine's default, which the kernel
    /// works out from its memory).
    pub pids: u32,
    /// CPU bandwidth in thousandths of a CPU, over all CPUs (2500: two and a half
    /// CPUs' time; 0: no limit).
    pub cpu_millis: u32,
    /// The CPUs its threads may run on (bit `i`: CPU `i`; 0: all of them).
    pub cpuset: u64,
    /// Weight against other containers when the CPU is contended (1024 by default;
    /// Docker's `--cpu-shares`).
    pub cpu_shares: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory: u64::MAX, pids: 0, cpu_millis: 0, cpuset: 0, cpu_shares: DEFAULT_CPU_SHARES }
    }
}

/// Which of a container's output streams are echoed on the kernel console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Neither.
    None,
    /// Standard error only (`echo=stderr`: a chatty program's diagnostics).
    Stderr,
    /// Both.
    All,
}

/// Everything needed to create a container.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    /// Its name (generated if `None`).
    pub name: Option<String>,
    /// The image's name, for listings.
    pub image_name: String,
    /// The command and its arguments.
    pub cmd: Vec<String>,
    /// Environment, `KEY=value`.
    pub env: Vec<String>,
    /// Working directory of the first process.
    pub workdir: String,
    /// Host name inside the container.
    pub hostname: String,
    /// Resource limits.
    pub limits: Limits,
    /// Which of its output the kernel console shows.
    pub echo: Echo,
    /// Kill it after this many seconds (like `timeout(1)`).
    pub timeout_secs: Option<u64>,
    /// Machine ports published into it (`-p 8080:80`).
    pub publish: Vec<berth_net::PortMapping>,
    /// The leading words of `cmd` that are the image's or the caller's entrypoint
    /// (`docker inspect` shows them apart from the arguments).
    pub entrypoint_len: usize,
    /// Remove the container once it has exited (`docker run --rm`).
    pub auto_remove: bool,
    /// Give its first process a standard input the agent writes to (`-i`), instead of
    /// `/dev/null`.
    pub open_stdin: bool,
    /// The client asked for a terminal (`-t`): output goes unframed to attach and logs
    /// (berth has no terminal emulation; programs still see pipes).
    pub tty: bool,
    /// Ports it declares (`80/tcp`), for `docker inspect`.
    pub exposed_ports: Vec<String>,
    /// Labels, for `docker inspect` and `ps`.
    pub labels: Vec<(String, String)>,
    /// The user its first process runs as (`name`, `uid`, `name:group`, `uid:gid`,
    /// looked up in its `/etc/passwd` and `/etc/group`); empty is root.
    pub user: String,
    /// The signal `docker stop` sends.
    pub stop_signal: berth_abi::signal::Signal,
    /// More supplementary groups for its processes (`--group-add`: numbers or names
    /// in its `/etc/group`).
    pub group_add: Vec<String>,
    /// Seconds `docker stop` waits after it before SIGKILL, unless the request says
    /// (`--stop-timeout`; negative: for ever); `None`: the default.
    pub stop_timeout: Option<i64>,
    /// When it is started again after it ends (`--restart`).
    pub restart: RestartPolicy,
    /// The volumes mounted into it.
    pub volumes: Vec<VolumeMount>,
    /// The tmpfs file systems mounted into it (`--tmpfs`), empty at each start.
    pub tmpfs: Vec<TmpfsMount>,
    /// The networks it is put on when created (`--network`, `--network-alias`);
    /// none: it has only its own port space, reached through published ports.
    pub networks: Vec<NetworkRequest>,
    /// The container (id) whose port space and addresses it shares instead of
    /// having its own (`--network container:NAME`).
    pub shares_network_of: Option<String>,
}

/// A network a container asks to be on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRequest {
    /// The network's name.
    pub network: String,
    /// More names it is found by there (`--network-alias`).
    pub aliases: Vec<String>,
    /// The address it asks for there (`--ip`), if any.
    pub ip: Option<core::net::Ipv4Addr>,
    /// Options for the network's driver (kept and shown).
    pub driver_opts: Vec<(String, String)>,
}

/// A tmpfs mounted into a container: an empty tree in memory, charged to the
/// container, made afresh each time it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMount {
    /// Where it appears in the container (an absolute path).
    pub target: String,
    /// Its size limit in bytes (0: only the container's memory limit).
    pub size: u64,
    /// The permission bits of its root.
    pub mode: u32,
    /// Nothing in it may change (EROFS).
    pub read_only: bool,
}

/// A volume mounted into a container (`-v NAME:/path`, `--mount`, or an anonymous one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    /// The volume's name.
    pub volume: String,
    /// Where it appears in the container (an absolute path).
    pub target: String,
    /// Whether it was made for this container alone (`-v /path`, an image's `VOLUME`):
    /// removed with the container when asked (`docker rm -v`, `--rm`).
    pub anonymous: bool,
    /// Leave it empty if it is, rather than filling it from what the image has at
    /// `target` (`nocopy`).
    pub no_copy: bool,
    /// Nothing in it may change from this container (`:ro`, `readonly`): EROFS.
    pub read_only: bool,
}

impl Default for ContainerConfig {
    fn default() -> Self {
        ContainerConfig {
            name: None,
            image_name: String::new(),
            cmd: Vec::new(),
            env: Vec::new(),
            workdir: String::from("/"),
            hostname: String::new(),
            limits: Limits::default(),
            echo: Echo::All,
            timeout_secs: None,
            publish: Vec::new(),
            entrypoint_len: 0,
            auto_remove: false,
            open_stdin: false,
            tty: false,
            exposed_ports: Vec::new(),
            labels: Vec::new(),
            user: String::new(),
            stop_signal: berth_abi::signal::Signal::of(berth_abi::signal::SIGTERM),
            stop_timeout: None,
            group_add: Vec::new(),
            restart: RestartPolicy::No,
            volumes: Vec::new(),
            tmpfs: Vec::new(),
            networks: Vec::new(),
            shares_network_of: None,
        }
    }
}

impl ContainerConfig {
    /// The environment a program starts with: PATH and HOSTNAME unless set, then
    /// the configured variables (HOME, unless set, comes from the user's passwd entry
    /// when the first process starts).
    pub fn full_env(&self, hostname: &str) -> Vec<String> {
        let mut env = Vec::new();
        if !self.env.iter().any(|e| e.starts_with("PATH=")) {
            env.push(format!("PATH={DEFAULT_PATH}"));
        }
        if !self.env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            env.push(format!("HOSTNAME={hostname}"));
        }
        env.extend(self.env.iter().cloned());
        env
    }
}

/// Parses a size: bytes, or with a `k`, `m` or `g` suffix (powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, shift) = match s.chars().last()?.to_ascii_lowercase() {
        'k' => (&s[..s.len() - 1], 10),
        'm' => (&s[..s.len() - 1], 20),
        'g' => (&s[..s.len() - 1], 30),
        'b' => (&s[..s.len() - 1], 0),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// Parses a CPU count like `0.5` or `2` into thousandths.
fn parse_cpus(s: &str) -> Option<u32> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut milli = 0;
    for (i, c) in frac.chars().take(3).enumerate() {
        milli += c.to_digit(10)? * [100, 10, 1][i];
    }
    whole.checked_mul(1000)?.checked_add(milli).filter(|&m| m > 0)
}

/// Parses a CPU list as Docker's `--cpuset-cpus` takes it (`0-3`, `0,2`, `1,4-5`) into a
/// mask (bit `i`: CPU `i`); `None` if malformed, empty or naming a CPU past 63.
pub fn parse_cpuset(s: &str) -> Option<u64> {
    let mut mask = 0u64;
    for part in s.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let cpu = part.trim().parse::<u32>().ok()?;
                (cpu, cpu)
            }
        };
        if first > last || last > 63 {
            return None;
        }
        for cpu in first..=last {
            mask |= 1 << cpu;
        }
    }
    Some(mask)
}

/// Writes a CPU mask as a CPU list, the way Linux's `/sys/devices/system/cpu/online`
/// and Docker's `CpusetCpus` do (`0-2,5`); empty for an empty mask.
pub fn format_cpuset(mask: u64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cpu = 0;
    while cpu < 64 {
        if mask & (1 << cpu) == 0 {
            cpu += 1;
            continue;
        }
        let first = cpu;
        while cpu < 64 && mask & (1 << cpu) != 0 {
            cpu += 1;
        }
        parts.push(if cpu - 1 == first { format!("{first}") } else { format!("{first}-{}", cpu - 1) });
    }
    parts.join(",")
}

/// Reads a boot module's command line:
/// `container [name=N] [memory=64m] [pids=N] [cpus=0.5] [cpuset=0-1] [cpu-shares=1024] [env=K=V]... [workdir=/w]
/// [hostname=H] [timeout=SECONDS] [echo=no|stderr] [publish=8080:80,53:53/udp] -- program
/// args...`. Quotes keep spaces
/// inside one word.
pub fn parse_module_cmdline(line: &str) -> Result<ContainerConfig, String> {
    let words = berth_boot::split_words(line);
    let Some(sep) = words.iter().position(|w| w == "--") else {
        return Err("no `--` before the command".into());
    };
    let (settings, cmd) = (&words[..sep], &words[sep + 1..]);
    if settings.first().map(String::as_str) != Some("container") {
        return Err("a container module's command line starts with `container`".into());
    }
    if cmd.is_empty() {
        return Err("no command after `--`".into());
    }
    let mut config = ContainerConfig { cmd: cmd.to_vec(), ..ContainerConfig::default() };
    for word in &settings[1..] {
        let (key, value) = word.split_once('=').ok_or_else(|| format!("`{word}` is not key=value"))?;
        let bad = || format!("bad value for {key}: `{value}`");
        match key {
            "name" => config.name = Some(value.to_string()),
            "image" => config.image_name = value.to_string(),
            "memory" => config.limits.memory = parse_size(value).filter(|&m| m >= 1 << 20).ok_or_else(bad)?,
            "pids" => config.limits.pids = value.parse().ok().filter(|&p| p > 0).ok_or_else(bad)?,
            "cpus" => config.limits.cpu_millis = parse_cpus(value).ok_or_else(bad)?,
            "cpuset" => config.limits.cpuset = parse_cpuset(value).ok_or_else(bad)?,
            "cpu-shares" => {
                config.limits.cpu_shares =
                    value.parse().ok().filter(|w| berth_cpu::WEIGHTS.contains(w)).ok_or_else(bad)?
            }
            "env" => config.env.push(value.to_string()),
            "workdir" => config.workdir = value.to_string(),
            "hostname" => config.hostname = value.to_string(),
            "echo" => {
                config.echo = match value {
                    "0" | "no" => Echo::None,
                    "stderr" => Echo::Stderr,
                    _ => Echo::All,
                }
            }
            "timeout" => config.timeout_secs = Some(value.parse().ok().filter(|&t| t > 0).ok_or_else(bad)?),
            "publish" => {
                let mut more = berth_net::PortMapping::parse_list(value).map_err(|e| format!("publish: {e}"))?;
                config.publish.append(&mut more);
            }
            _ => return Err(format!("unknown setting `{key}`")),
        }
    }
    Ok(config)
}
