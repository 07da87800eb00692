//! Building the kernel and the boot images.

use crate::{setup, util};
use berth_image::{BootConfig, DirectBoot, disk, iso};
use clap::Args;
use std::path::PathBuf;

/// Options for `cargo xtask image`.
#[derive(Args, Debug, Default, Clone)]
pub struct ImageArgs {
    /// The `limine.cfg` entry to build for direct boot (default: the first).
    #[arg(long)]
    pub entry: Option<String>,
}

/// What `image` produced.
pub struct Built {
    /// How to boot directly.
    pub direct: DirectBoot,
    /// The Limine ISO, if Limine is installed.
    pub iso: Option<PathBuf>,
    /// The Limine disk image (GPT: boot and data partitions), if Limine is installed.
    pub disk: Option<PathBuf>,
}

/// Bytes of the data partition in the Limine disk image (sparse until written).
const DISK_DATA_BYTES: u64 = 256 << 20;

/// The kernel's crates below `berth-kernel`, from the unsafe layer up (linted with it).
pub const KERNEL_LAYERS: &[&str] = &[
    "berth-hal",
    "berth-base",
    "berth-mm",
    "berth-sched",
    "berth-fs",
    "berth-netstack",
    "berth-proc",
    "berth-container",
    "berth-agent",
];

/// The flags that build the kernel for bare metal (see platform notes in README.md).
pub fn kernel_cargo(subcommand: &str) -> std::process::Command {
    let mut cmd = util::cargo();
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .arg(subcommand)
        .args(["-p", "berth-kernel", "--profile", "kernel", "--target", "x86_64-unknown-none"])
        .args(["-Zbuild-std=core,alloc,compiler_builtins", "-Zbuild-std-features=compiler-builtins-mem"])
        .arg("--target-dir")
        .arg(util::root().join("target/kernel"));
    cmd
}

/// Builds the kernel; returns the ELF's path.
pub fn kernel() -> Result<PathBuf, String> {
    let t = util::step("building the kernel (x86_64-unknown-none, release)");
    util::run(kernel_cargo("build").args(["--bin", "berth-kernel"]), "kernel build")?;
    util::done(t, "kernel built");
    Ok(util::root().join("target/kernel/x86_64-unknown-none/kernel/berth-kernel"))
}

/// Builds everything and the boot images.
pub fn image(args: &ImageArgs) -> Result<Built, String> {
    setup::ensure()?;
    let kernel = kernel()?;
    let out = util::out_dir();
    let root = out.join("boot-root");
    std::fs::create_dir_all(root.join("boot")).map_err(|e| e.to_string())?;
    std::fs::copy(&kernel, root.join("boot/berth")).map_err(|e| format!("staging the kernel: {e}"))?;
    let programs = crate::userland::build()?;
    crate::userland::images(&programs, &root.join("images"))?;

    let t = util::step("assembling boot images from limine.cfg");
    let config_path = util::root().join("limine.cfg");
    let text = std::fs::read_to_string(&config_path).map_err(|e| format!("{}: {e}", config_path.display()))?;
    let config = BootConfig::parse(&text).map_err(|e| e.to_string())?;
    let direct = berth_image::direct_boot(&config, args.entry.as_deref(), &root, &out.join("initrd.tar"))
        .map_err(|e| e.to_string())?;
    let (iso, disk) = match iso::find_limine() {
        Ok(limine) => {
            let path = out.join("berth.iso");
            iso::stage(&root, &config_path, &limine, &out.join("iso-root")).map_err(|e| e.to_string())?;
            let firmware = iso::build(&out.join("iso-root"), &limine, &path).map_err(|e| e.to_string())?;
            let disk = out.join("berth.img");
            disk::build(&root, &config_path, &limine, &disk, DISK_DATA_BYTES).map_err(|e| e.to_string())?;
            match firmware {
                iso::Firmware::Both => {
                    println!("    Limine ISO (BIOS and UEFI): {}", path.display());
                    println!("    Limine disk image (BIOS and UEFI, for dd): {}", disk.display());
                }
                iso::Firmware::UefiOnly => {
                    println!(
                        "    Limine ISO and disk image (UEFI only: no `limine` tool in {} or on the PATH to \
                         install the BIOS stages; build it from Limine's limine.c): {}, {}",
                        limine.display(),
                        path.display(),
                        disk.display()
                    );
                }
            }
            (Some(path), Some(disk))
        }
        Err(e) => {
            println!("    Limine ISO and disk image: not built. {e}");
            (None, None)
        }
    };
    println!(
        "    direct boot: {} (initrd: {})",
        direct.kernel.display(),
        direct.initrd.as_ref().map_or("none".into(), |p| p.display().to_string())
    );
    util::done(t, "images ready");
    Ok(Built { direct, iso, disk })
}
