//! `cargo xtask`: builds, boots, tests and benchmarks berth.
//!
//! Every command first makes sure the machine has what it needs (`setup`), so on a
//! fresh Debian machine `cargo xtask run` and `cargo xtask test` are all it takes.

mod bench;
mod bench_agent;
mod bench_debian;
mod bench_net;
mod bench_smp;
mod bench_store;
mod build;
mod clients;
mod debian;
mod elf;
mod fuzz;
mod lint;
mod linux;
mod run;
mod setup;
mod test;
mod userland;
mod util;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Builds, boots, tests and benchmarks berth.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build everything and boot berth in QEMU, the serial console on this terminal.
    /// Ctrl-A X quits; without a terminal on stdin it runs until killed.
    Run(run::RunArgs),
    /// Run the host unit tests, then the QEMU integration tests. The last line reads
    /// `N passed, N failed`.
    Test(test::TestArgs),
    /// Build the kernel, the container programs and images, and the boot images: the
    /// direct-boot bundle always, the Limine ISO when Limine is installed.
    Image(build::ImageArgs),
    /// Install what building and testing need: Debian packages (when root; otherwise
    /// print the command) and the rust-src tree the kernel is built with.
    Setup,
    /// Check formatting and run clippy (host crates and the kernel) with warnings denied.
    Lint,
    /// Random system calls against the kernel in QEMU beside a web server (the kernel
    /// must survive, the neighbour keep serving, memory come back), and coverage-guided
    /// fuzzing of the parsers of untrusted input on the host.
    Fuzz(fuzz::FuzzArgs),
    /// Containers created, run and removed for a chosen time, faulting, flooding their
    /// logs, forking, exhausting memory and descriptors, beside a web server under load;
    /// memory is checked against where it started.
    Soak(fuzz::SoakArgs),
    /// Measure berth: boot time, kernel primitives, container start, system-call and
    /// memory benchmarks in a container — and the same programs on Linux in the same
    /// QEMU for comparison — and the kernel's size.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Test(args) => test::test(&args),
        Command::Image(args) => build::image(&args).map(drop),
        Command::Setup => setup::ensure(),
        Command::Lint => lint::lint(),
        Command::Bench(args) => bench::bench(&args),
        Command::Fuzz(args) => fuzz::fuzz(&args),
        Command::Soak(args) => fuzz::soak(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
