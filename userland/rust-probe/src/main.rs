//! `rust-probe`: a Rust std program that checks berth's Linux ABI from inside a container.
//!
//! Run without arguments it runs every check in [`checks::ALL`] and prints one line per
//! check, `PASS <name>` or `FAIL <name>: <detail>`, then `rust-probe: N passed, M failed`,
//! and exits 0 only if every check passed. Each check compares against values computed in
//! the process itself, so the same binary passes on Linux and must pass on berth.
//!
//! Other modes serve the integration tests and benchmarks: `sleep SECONDS`,
//! `echo-server PORT`, `http-server PORT`, `sink-server PORT` and `listen-only PORT`
//! (see [`serve`]).

mod checks;
mod report;
mod serve;

use std::process::ExitCode;
use std::time::Duration;

/// The usage text, printed for `--help` and after a bad command line.
const USAGE: &str = "usage: rust-probe [--list | --only NAME | sleep SECONDS | echo-server PORT | http-server PORT \
                     | sink-server PORT | listen-only PORT]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => run(checks::ALL.iter().collect()),
        ["--list"] => {
            for check in checks::ALL {
                println!("{}", check.name);
            }
            ExitCode::SUCCESS
        }
        ["--only", name] => match checks::ALL.iter().find(|check| check.name == *name) {
            Some(check) => run(vec![check]),
            None => usage(&format!("no check named {name:?} (see --list)")),
        },
        ["sleep", seconds] => match seconds.parse().ok().and_then(|s| Duration::try_from_secs_f64(s).ok()) {
            Some(duration) => {
                std::thread::sleep(duration);
                ExitCode::SUCCESS
            }
            None => usage(&format!("bad number of seconds {seconds:?}")),
        },
        ["echo-server", port] => match port.parse() {
            Ok(port) => serve::exit_code(serve::echo(port)),
            Err(_) => usage(&format!("bad port {port:?}")),
        },
        ["http-server", port] => match port.parse() {
            Ok(port) => serve::exit_code(serve::http(port)),
            Err(_) => usage(&format!("bad port {port:?}")),
        },
        ["sink-server", port] => match port.parse() {
            Ok(port) => serve::exit_code(serve::sink(port)),
            Err(_) => usage(&format!("bad port {port:?}")),
        },
        ["listen-only", port] => match port.parse() {
            Ok(port) => serve::exit_code(serve::listen_only(port)),
            Err(_) => usage(&format!("bad port {port:?}")),
        },
        ["--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage("unknown arguments"),
    }
}

/// Runs `checks`, prints the summary line and turns the result into the exit status.
fn run(checks: Vec<&report::Check>) -> ExitCode {
    let (passed, failed) = report::run(&checks);
    checks::cleanup();
    println!("rust-probe: {passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Reports a bad command line: exit status 2.
fn usage(problem: &str) -> ExitCode {
    eprintln!("rust-probe: {problem}\n{USAGE}");
    ExitCode::from(2)
}
