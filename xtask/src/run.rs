//! `cargo xtask run`: boot berth in QEMU with the console on this terminal.

use crate::build::{self, ImageArgs};
use berth_tests::qemu::{Accel, Forward, VmConfig};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Guest port of the control agent.
const AGENT_PORT: u16 = 2375;
/// First guest port forwarded for published container ports (ten in all).
const APP_PORTS: u16 = 8080;

/// Which accelerator to use.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum AccelArg {
    /// Software emulation (works everywhere).
    Tcg,
    /// KVM (real hosts with hardware virtualization).
    Kvm,
}

/// Options for `cargo xtask run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// QEMU accelerator.
    #[arg(long, value_enum, default_value = "tcg")]
    pub accel: AccelArg,
    /// Boot the Limine disk image (UEFI through OVMF) instead of direct boot.
    #[arg(long)]
    pub limine: bool,
    /// With --limine, boot through the legacy BIOS instead of UEFI.
    #[arg(long, requires = "limine")]
    pub bios: bool,
    /// With --limine, boot the Limine ISO (as a CD) rather than the disk image.
    #[arg(long, requires = "limine")]
    pub iso: bool,
    /// The data disk (berth's store) for direct boot: created on first use as a sparse
    /// GPT disk with one berth data partition (default: target/berth/disk.img).
    #[arg(long, conflicts_with = "no_disk")]
    pub disk: Option<PathBuf>,
    /// Run without a data disk: images live in memory only.
    #[arg(long)]
    pub no_disk: bool,
    /// Host port (on 127.0.0.1) forwarded to the control agent's port 2375.
    #[arg(long, default_value_t = AGENT_PORT)]
    pub agent_port: u16,
    /// First of ten host ports forwarded to guest ports 8080-8089 (published ports).
    #[arg(long, default_value_t = APP_PORTS)]
    pub app_ports: u16,
    /// More forwards, HOST:GUEST (repeatable).
    #[arg(long = "forward", value_parser = parse_forward)]
    pub forwards: Vec<Forward>,
    /// Guest memory in MiB.
    #[arg(long, default_value_t = 512)]
    pub memory: u32,
    /// Virtual CPUs (QEMU's -smp; default: this host's CPUs, at most 4).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub cpus: Option<u32>,
    /// Extra kernel command line words, after limine.cfg's.
    #[arg(long)]
    pub cmdline: Option<String>,
    /// The limine.cfg entry to boot (default: the first).
    #[arg(long)]
    pub entry: Option<String>,
}

fn parse_forward(s: &str) -> Result<Forward, String> {
    let (host, guest) = s.split_once(':').ok_or("expected HOST:GUEST")?;
    let port = |p: &str| p.parse::<u16>().map_err(|e| format!("{p}: {e}"));
    Ok(Forward { host: port(host)?, guest: port(guest)? })
}

/// The forwards `run` sets up: the agent, ten app ports, and any extra ones.
pub fn forwards(args: &RunArgs) -> Vec<Forward> {
    let mut f = vec![Forward { host: args.agent_port, guest: AGENT_PORT }];
    f.extend((0..10).map(|i| Forward { host: args.app_ports + i, guest: APP_PORTS + i }));
    f.extend(args.forwards.iter().copied());
    f
}

/// The control agent's token for `run` (made once, kept in `target/berth/docker/token`)
/// and a docker CLI configuration directory beside it whose `config.json` sends it, so
/// `DOCKER_CONFIG=target/berth/docker` is all a client needs. Returns the token and the
/// directory.
fn agent_credentials() -> Result<(String, PathBuf), String> {
    let dir = crate::util::out_dir().join("docker");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let token_file = dir.join("token");
    let token = match std::fs::read_to_string(&token_file) {
        Ok(t) if t.trim().len() >= 32 => t.trim().to_string(),
        _ => {
            let mut bytes = [0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
                .map_err(|e| format!("/dev/urandom: {e}"))?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            write_private(&token_file, &token)?;
            token
        }
    };
    let config = serde_json::json!({ "HttpHeaders": { "Authorization": format!("Bearer {token}") } });
    write_private(&dir.join("config.json"), &format!("{config:#}\n"))?;
    Ok((token, dir))
}

/// Writes `text` to `path`, readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Size of the data disk `run` creates.
const DATA_DISK_BYTES: u64 = 1 << 30;

/// Builds everything and boots it.
pub fn run(args: &RunArgs) -> Result<(), String> {
    let built = build::image(&ImageArgs { entry: args.entry.clone() })?;
    let mut config = VmConfig::new(built.direct.kernel.clone());
    config.initrd = built.direct.initrd.clone();
    config.cmdline = match &args.cmdline {
        Some(extra) => format!("{} {extra}", built.direct.cmdline),
        None => built.direct.cmdline.clone(),
    };
    // The agent serves only clients with its token (unless asked otherwise).
    if !config.cmdline.contains("agent-token=") && !config.cmdline.contains("agent-insecure") {
        let (token, dir) = agent_credentials()?;
        config.cmdline = format!("{} agent-token={token}", config.cmdline);
        println!("    the docker CLI reaches berth's agent with:");
        println!("        export DOCKER_CONFIG={} DOCKER_HOST=tcp://127.0.0.1:{}", dir.display(), args.agent_port);
    }
    config.memory_mib = args.memory;
    config.cpus = args.cpus.unwrap_or_else(default_cpus);
    config.accel = match args.accel {
        AccelArg::Tcg => Accel::Tcg,
        AccelArg::Kvm => Accel::Kvm,
    };
    config.network = Some(forwards(args));
    config.interactive = true;
    if !args.limine && !args.no_disk {
        let disk = args.disk.clone().unwrap_or_else(|| crate::util::out_dir().join("disk.img"));
        if !disk.exists() {
            berth_image::disk::data_disk(&disk, DATA_DISK_BYTES).map_err(|e| e.to_string())?;
            println!("    created the data disk {} ({} MiB, sparse)", disk.display(), DATA_DISK_BYTES >> 20);
        }
        println!("    data disk (berth's store): {}", disk.display());
        config.disk = Some(disk);
    }
    if args.limine && args.iso {
        config.iso = Some(built.iso.ok_or("--limine needs the Limine ISO, which was not built (see above)")?);
    } else if args.limine {
        config.disk = Some(built.disk.ok_or("--limine needs the Limine disk image, which was not built (see above)")?);
        config.boot_from_disk = true;
    }
    if args.limine && !args.bios {
        config.uefi_firmware = Some(PathBuf::from("/usr/share/ovmf/OVMF.fd"));
    }
    for f in config.network.iter().flatten() {
        println!("    forwarding 127.0.0.1:{} -> guest port {}", f.host, f.guest);
    }
    println!("==> booting berth (Ctrl-A X quits)");
    let status = config.command().status().map_err(|e| format!("cannot start QEMU: {e}"))?;
    match status.code() {
        Some(0) | Some(berth_tests::qemu::EXIT_SUCCESS) => Ok(()),
        _ => Err(format!("QEMU exited with {status}")),
    }
}

/// The host's CPU count, at most 4: under TCG each virtual CPU is a host thread.
fn default_cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4) as u32)
}
