//! `cargo xtask bench`: measurements of berth, printed (never asserted).

use crate::build::{self, ImageArgs};
use berth_tests::qemu::{Vm, VmConfig};
use clap::Args;
use std::time::Duration;

/// Options for `cargo xtask bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Boots to measure.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

/// An ELF program header's type and sizes.
pub struct Segment {
    /// `p_type` (1 = PT_LOAD, 3 = PT_INTERP).
    pub kind: u32,
    /// `p_filesz`.
    pub file_size: u64,
    /// `p_memsz`.
    pub mem_size: u64,
}

/// The program headers of a 64-bit little-endian ELF file, or `None` if it is not one.
pub fn elf_segments(bytes: &[u8]) -> Option<Vec<Segment>> {
    if bytes.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    let (phoff, phentsize, phnum) = (u64_at(0x20)? as usize, u16_at(0x36)? as usize, u16_at(0x38)? as usize);
    (0..phnum)
        .map(|i| {
            let p = phoff.checked_add(i.checked_mul(phentsize)?)?;
            Some(Segment { kind: u32_at(p)?, file_size: u64_at(p + 32)?, mem_size: u64_at(p + 40)? })
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the benchmarks and prints the figures.
pub fn bench(args: &BenchArgs) -> Result<(), String> {
    let built = build::image(&ImageArgs::default())?;
    let runs = args.runs.max(1);
    println!("==> boot time: {runs} boots, QEMU start to the kernel's `ready` line (TCG, 512 MiB)");
    let (mut wall, mut kernel) = (Vec::new(), Vec::new());
    for i in 1..=runs {
        let mut config = VmConfig::new(built.direct.kernel.clone());
        config.initrd = built.direct.initrd.clone();
        config.cmdline = built.direct.cmdline.clone();
        let mut vm = Vm::start(&config)?;
        let line = vm.expect("ready", Duration::from_secs(60))?;
        let ms = vm.elapsed().as_secs_f64() * 1000.0;
        // The kernel's own stamp: seconds since kernel entry.
        let stamp = line.trim_start_matches('[').split(']').next().and_then(|s| s.trim().parse::<f64>().ok());
        println!("    boot {i}: {ms:.0} ms to ready (kernel entry to ready: {:.1} ms)", stamp.unwrap_or(0.0) * 1000.0);
        wall.push(ms);
        kernel.extend(stamp.map(|s| s * 1000.0));
    }
    let elf = std::fs::read(&built.direct.kernel).map_err(|e| e.to_string())?;
    let loads: Vec<Segment> = elf_segments(&elf).unwrap_or_default().into_iter().filter(|s| s.kind == 1).collect();
    let file: u64 = loads.iter().map(|s| s.file_size).sum();
    let memory: u64 = loads.iter().map(|s| s.mem_size).sum();
    println!("\nberth benchmarks");
    println!(
        "  boot to ready (QEMU start to `ready`)   median {:.0} ms (min {:.0}, max {:.0}) over {runs}",
        median(&mut wall),
        wall[0],
        wall[wall.len() - 1]
    );
    if !kernel.is_empty() {
        println!("  kernel entry to ready (kernel clock)    median {:.1} ms", median(&mut kernel));
    }
    println!("  kernel ELF file                         {} KiB (with symbols)", elf.len() / 1024);
    println!(
        "  kernel image loaded                     {} KiB from file, {} KiB in memory",
        file / 1024,
        memory / 1024
    );
    Ok(())
}
