//! The kernel log on the serial console, and the boot banner.

use crate::mm::MemoryInfo;
use crate::platform::Platform;
use berth_boot::KernelArgs;
use berth_hal::bootinfo::{BootInfo, MemoryKind};
use core::fmt::{self, Write};
use log::{Level, LevelFilter, Log, Metadata, Record};

struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

/// Installs the logger; the level comes from `log=error|warn|info|debug|trace`.
pub fn init(args: &KernelArgs) {
    let level = match args.get("log") {
        Some("error") => LevelFilter::Error,
        Some("warn") => LevelFilter::Warn,
        Some("debug") => LevelFilter::Debug,
        Some("trace") => LevelFilter::Trace,
        _ => LevelFilter::Info,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

impl Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Other crates' (the AML interpreter's, virtio-drivers') chatter is noise in
        // berth's log: only their warnings and errors get through.
        let ours = metadata.target().starts_with("berth") || !metadata.target().contains("::");
        metadata.level() <= log::max_level() && (ours || metadata.level() <= Level::Warn)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = LineBuffer::new();
        let _ = write_stamp(&mut line);
        let level = match record.level() {
            Level::Error => "ERROR ",
            Level::Warn => "WARN  ",
            Level::Info => "",
            Level::Debug => "debug ",
            Level::Trace => "trace ",
        };
        let target = match record.target() {
            "berth_kernel" | "berth_kernel::console" => "berth",
            t => t.strip_prefix("berth_kernel::").unwrap_or(t),
        };
        let _ = writeln!(line, "{level}{target}: {}", record.args());
        line.flush();
    }

    fn flush(&self) {}
}

/// `[seconds.micros] ` since boot, or `[   --   ] ` before the clock is calibrated.
fn write_stamp(out: &mut impl Write) -> fmt::Result {
    if berth_hal::time::tsc_hz() == 0 {
        return out.write_str("[    --     ] ");
    }
    let us = berth_hal::time::nanos_since_boot() / 1000;
    write!(out, "[{:5}.{:06}] ", us / 1_000_000, us % 1_000_000)
}

/// Collects a log line so it reaches the console in one piece (long lines go out in
/// several writes).
struct LineBuffer {
    buf: [u8; 256],
    len: usize,
}

impl LineBuffer {
    fn new() -> LineBuffer {
        LineBuffer { buf: [0; 256], len: 0 }
    }

    fn flush(&mut self) {
        berth_hal::serial::write(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl Write for LineBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in s.as_bytes().chunks(self.buf.len()) {
            if self.len + chunk.len() > self.buf.len() {
                self.flush();
            }
            self.buf[self.len..self.len + chunk.len()].copy_from_slice(chunk);
            self.len += chunk.len();
        }
        Ok(())
    }
}

/// Prints the boot banner: version, loader, memory and platform.
pub fn banner(boot: &BootInfo, memory: &MemoryInfo, platform: &Platform) {
    const MIB: u64 = 1 << 20;
    log::info!("berth {} booted by {}", crate::VERSION, boot.loader);
    log::info!("command line: {:?}", redact_secrets(&boot.cmdline));
    for r in &boot.memory_map {
        log::info!("memory: {:#012x}-{:#012x} {:?}", r.start, r.end, r.kind);
    }
    let kernel = boot.memory_map.iter().filter(|r| r.kind == MemoryKind::KernelAndModules);
    log::info!(
        "memory: {} MiB usable, {} MiB in the frame pool ({} MiB free), kernel and modules {} KiB",
        boot.usable_bytes() / MIB,
        memory.total_frames as u64 * 4096 / MIB,
        memory.free_frames as u64 * 4096 / MIB,
        kernel.map(|r| r.end - r.start).sum::<u64>() / 1024,
    );
    for (i, m) in boot.modules.iter().enumerate() {
        let hash = berth_hal::mm::module_bytes(m.phys).map_or(0, fnv1a);
        log::info!("module {i}: {} bytes, fnv1a {hash:016x}, cmdline {:?}", m.phys.len(), m.cmdline);
    }
    log::info!("{platform}");
    log::info!("{}", crate::time::describe());
}

/// FNV-1a (64-bit) of a module's bytes, so the test harness can check they arrived intact.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The command line with the value of `agent-token=` hidden.
fn redact_secrets(cmdline: &str) -> alloc::string::String {
    cmdline
        .split(' ')
        .map(|word| if word.starts_with("agent-token=") { "agent-token=(hidden)" } else { word })
        .collect::<alloc::vec::Vec<_>>()
        .join(" ")
}
