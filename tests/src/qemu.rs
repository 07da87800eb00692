//! Starting berth in QEMU and watching its serial console.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// QEMU exit status when the kernel stops after success (`isa-debug-exit` value 0x10).
pub const EXIT_SUCCESS: i32 = 0x21;
/// QEMU exit status when the kernel stops after a failure (value 0x11).
pub const EXIT_FAILURE: i32 = 0x23;

/// Which accelerator QEMU uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Software emulation; the default (this project's machines have no usable KVM).
    Tcg,
    /// Hardware virtualization, for real hosts.
    Kvm,
}

/// A TCP port forwarded from the host's 127.0.0.1 into the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// Port on the host's loopback.
    pub host: u16,
    /// Port in the guest.
    pub guest: u16,
}

/// A virtio-net device on a QEMU socket network: one VM listens on a host port, another
/// connects to it, and the two share an Ethernet segment (no host stack in between).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketLink {
    /// The host port (on 127.0.0.1) the pair meets on.
    pub port: u16,
    /// This VM listens (start it first); the other connects.
    pub listen: bool,
    /// This VM's MAC address (the two must differ).
    pub mac: String,
}

/// Virtual CPUs of a VM whose maker does not choose (the test runner sets 2; the
/// benchmarks keep 1, the figures they compare with Linux).
static DEFAULT_CPUS: AtomicU32 = AtomicU32::new(1);

/// Sets the virtual CPUs of every VM made from now on whose test does not choose.
pub fn set_default_cpus(cpus: u32) {
    DEFAULT_CPUS.store(cpus.max(1), Ordering::Relaxed);
}

/// Virtual CPUs of a VM whose test does not choose (see [`set_default_cpus`]).
pub fn default_cpus() -> u32 {
    DEFAULT_CPUS.load(Ordering::Relaxed)
}

/// How to boot a VM.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// The kernel ELF (booted directly through its PVH note).
    pub kernel: PathBuf,
    /// The initrd (module bundle), if any.
    pub initrd: Option<PathBuf>,
    /// Instead of `kernel`, boot this ISO (the Limine image).
    pub iso: Option<PathBuf>,
    /// Boot the ISO or disk through UEFI with this OVMF firmware file.
    pub uefi_firmware: Option<PathBuf>,
    /// A raw disk image on a virtio-blk device (the first boot device).
    pub disk: Option<PathBuf>,
    /// Let the firmware boot from `disk` (the Limine disk image) instead of booting
    /// `kernel` directly.
    pub boot_from_disk: bool,
    /// Kernel command line.
    pub cmdline: String,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// Virtual CPUs (`-smp`); under TCG, QEMU runs one host thread for each.
    pub cpus: u32,
    /// Accelerator.
    pub accel: Accel,
    /// A virtio-net device on QEMU user networking with these forwards, if any.
    pub network: Option<Vec<Forward>>,
    /// Make the virtio-net device legacy-only (no virtio 1.x transport).
    pub legacy_virtio: bool,
    /// Instead of user networking, a link to another VM.
    pub link: Option<SocketLink>,
    /// The serial console on this terminal with QEMU's Ctrl-A escapes (`run`), rather
    /// than captured (tests).
    pub interactive: bool,
}

impl VmConfig {
    /// A VM booting `kernel` with defaults: 512 MiB, [`default_cpus`] CPUs (one unless
    /// set), TCG, no network, captured serial.
    pub fn new(kernel: PathBuf) -> VmConfig {
        VmConfig {
            kernel,
            initrd: None,
            iso: None,
            uefi_firmware: None,
            disk: None,
            boot_from_disk: false,
            cmdline: String::new(),
            memory_mib: 512,
            cpus: default_cpus(),
            accel: Accel::Tcg,
            network: None,
            legacy_virtio: false,
            link: None,
            interactive: false,
        }
    }

    /// The QEMU command line.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("qemu-system-x86_64");
        let accel = match self.accel {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        };
        cmd.args(["-machine", "q35", "-accel", accel, "-m", &format!("{}M", self.memory_mib)]);
        cmd.args(["-smp", &self.cpus.max(1).to_string()]);
        cmd.args(["-nodefaults", "-no-user-config", "-no-reboot", "-display", "none"]);
        cmd.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        if self.interactive {
            cmd.args(["-serial", "mon:stdio"]);
        } else {
            cmd.args(["-serial", "stdio", "-monitor", "none"]);
        }
        match &self.iso {
            Some(iso) => {
                if let Some(fw) = &self.uefi_firmware {
                    cmd.arg("-bios").arg(fw);
                }
                cmd.arg("-cdrom").arg(iso);
            }
            None if self.boot_from_disk => {
                if let Some(fw) = &self.uefi_firmware {
                    cmd.arg("-bios").arg(fw);
                }
            }
            None => {
                cmd.arg("-kernel").arg(&self.kernel);
                if let Some(initrd) = &self.initrd {
                    cmd.arg("-initrd").arg(initrd);
                }
                cmd.arg("-append").arg(&self.cmdline);
            }
        }
        if let Some(disk) = &self.disk {
            cmd.arg("-drive").arg(format!("file={},if=none,id=disk0,format=raw", disk.display()));
            let boot = if self.boot_from_disk { ",bootindex=0" } else { "" };
            cmd.args(["-device", &format!("virtio-blk-pci,drive=disk0{boot}")]);
        }
        if let Some(link) = &self.link {
            let side = if link.listen { "listen" } else { "connect" };
            cmd.args(["-netdev", &format!("socket,id=net0,{side}=127.0.0.1:{}", link.port)]);
            cmd.args(["-device", &format!("virtio-net-pci,netdev=net0,mac={}", link.mac)]);
        }
        if let Some(forwards) = &self.network {
            let mut netdev = String::from("user,id=net0");
            for f in forwards {
                netdev += &format!(",hostfwd=tcp:127.0.0.1:{}-:{}", f.host, f.guest);
            }
            let device = if self.legacy_virtio {
                "virtio-net-pci,netdev=net0,disable-modern=on,disable-legacy=off"
            } else {
                "virtio-net-pci,netdev=net0"
            };
            cmd.args(["-netdev", &netdev, "-device", device]);
        }
        cmd
    }
}

/// A running VM with its serial output captured line by line.
pub struct Vm {
    child: Child,
    /// The serial console's input (kernel console commands).
    input: Option<std::process::ChildStdin>,
    lines: Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
    started: Instant,
}

impl Vm {
    /// Starts QEMU.
    pub fn start(config: &VmConfig) -> Result<Vm, String> {
        let mut child = config
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start qemu-system-x86_64 (run `cargo xtask setup`): {e}"))?;
        let (tx, lines) = channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        for (stream, prefix) in [(Box::new(stdout) as Box<dyn std::io::Read + Send>, ""), (Box::new(stderr), "qemu: ")]
        {
            let (tx, log) = (tx.clone(), log.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                    let line = format!("{prefix}{}", String::from_utf8_lossy(&line).trim_end_matches('\r'));
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let input = child.stdin.take();
        Ok(Vm { child, input, lines, log, started: Instant::now() })
    }

    /// Types `line` on the serial console (a kernel console command such as `stats`).
    pub fn send_line(&mut self, line: &str) -> Result<(), String> {
        use std::io::Write;
        let input = self.input.as_mut().ok_or("the console has no input")?;
        input
            .write_all(format!("{line}\r").as_bytes())
            .and_then(|()| input.flush())
            .map_err(|e| format!("console: {e}"))
    }

    /// Runs the console command `stats` and returns its `key=value` numbers.
    pub fn stats(&mut self, timeout: Duration) -> Result<std::collections::HashMap<String, u64>, String> {
        self.send_line("stats")?;
        let line = self.expect("stats: ", timeout)?;
        let rest = line.split_once("stats: ").map_or("", |(_, r)| r);
        Ok(rest
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect())
    }

    /// Waits until a console line contains `needle`; returns the line.
    pub fn expect(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.expect_where(|l| l.contains(needle), &format!("a line containing {needle:?}"), timeout)
    }

    /// Waits until a console line satisfies `pred`; `what` describes it for errors.
    pub fn expect_where(
        &mut self,
        pred: impl Fn(&str) -> bool,
        what: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return Ok(line),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.failure(&format!("timed out after {timeout:?} waiting for {what}")));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.failure(&format!("the VM stopped before printing {what}")));
                }
            }
        }
    }

    /// Waits for QEMU to exit; returns its exit code. Kills it on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<i32, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                // Let the reader threads drain what is left.
                std::thread::sleep(Duration::from_millis(20));
                return Ok(exit_code(status));
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                return Err(self.failure(&format!("the VM did not exit within {timeout:?}")));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the console has printed a line containing `needle`, without
    /// consuming any line from what [`Vm::expect`] reads next: for a milestone
    /// (`berth: ready`) that lines of interest, printed by other CPUs, may precede.
    pub fn wait_printed(&self, needle: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while !self.log.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|l| l.contains(needle)) {
            if Instant::now() >= deadline {
                return Err(self.failure(&format!("timed out after {timeout:?} waiting for {needle:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Everything the console printed so far.
    pub fn output(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
    }

    /// Time since the VM was started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// An error message ending with the last lines of the console.
    pub fn failure(&self, what: &str) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let tail: Vec<&str> = log.iter().rev().take(25).rev().map(String::as_str).collect();
        format!("{what}\n--- last console lines ---\n{}", tail.join("\n"))
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(-1)
}

/// A TCP port on 127.0.0.1 that is free right now, for forwarding into a test VM.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}
