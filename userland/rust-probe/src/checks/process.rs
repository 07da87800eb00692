//! Process checks: arguments, environment, ids, the executable path, stderr and panics.

use std::io::{self, Write};
use std::panic;
use std::path::Path;
use std::{env, fs, process, thread};

use crate::report::{Context, Outcome, ensure, panic_message};

/// `argv[0]` is present and non-empty.
pub fn args() -> Outcome {
    let argv0 = env::args_os().next().ok_or("argv is empty")?;
    ensure!(!argv0.is_empty(), "argv[0] is empty");
    Ok(())
}

/// The environment can be read; prints `token=<value>` when `PROBE_TOKEN` is set.
pub fn env() -> Outcome {
    if let Some(token) = env::var_os("PROBE_TOKEN") {
        println!("token={}", token.to_string_lossy());
        let listed = env::vars_os().find(|(name, _)| name == "PROBE_TOKEN").map(|(_, value)| value);
        ensure!(listed.as_ref() == Some(&token), "env::vars lists PROBE_TOKEN as {listed:?}, var_os gave {token:?}");
    }
    let unset = env::var_os("RUST_PROBE_SURELY_NOT_SET");
    ensure!(unset.is_none(), "an unset variable reads as {unset:?}");
    Ok(())
}

/// The process id is positive and the same in every thread.
pub fn id() -> Outcome {
    let pid = process::id();
    ensure!(pid > 0, "process id is {pid}");
    let in_thread = thread::spawn(process::id).join().map_err(|_| "thread panicked")?;
    ensure!(in_thread == pid, "process id is {in_thread} in a thread, {pid} in main");
    Ok(())
}

/// `current_exe` (which reads `/proc/self/exe`) names this program.
pub fn exe() -> Outcome {
    let exe = env::current_exe().ctx("current_exe")?;
    ensure!(exe.is_absolute(), "current_exe gave a relative path {exe:?}");
    let meta = fs::metadata(&exe).ctx("stat current_exe")?;
    ensure!(meta.is_file() && meta.len() > 0, "current_exe {exe:?} is not a non-empty file");
    if let Some(argv0) = env::args_os().next().filter(|argv0| Path::new(argv0).is_absolute()) {
        let (real_argv0, real_exe) =
            (fs::canonicalize(&argv0).ctx("canonicalize argv[0]")?, fs::canonicalize(&exe).ctx("canonicalize exe")?);
        ensure!(real_argv0 == real_exe, "argv[0] is {real_argv0:?} but current_exe is {real_exe:?}");
    }
    Ok(())
}

/// A line can be written to stderr.
pub fn stderr() -> Outcome {
    let mut stderr = io::stderr().lock();
    writeln!(stderr, "rust-probe: stderr works").ctx("write to stderr")?;
    stderr.flush().ctx("flush stderr")?;
    Ok(())
}

/// `catch_unwind` catches a panic (needs a `panic=unwind` build).
pub fn panic() -> Outcome {
    ensure!(
        cfg!(panic = "unwind"),
        "built with panic=abort, so a panic cannot be caught; build with RUSTFLAGS=\"-C panic=unwind\""
    );
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(|| panic!("rust-probe test panic"));
    panic::set_hook(hook);
    let payload = caught.err().ok_or("catch_unwind returned Ok for a panicking closure")?;
    let message = panic_message(payload.as_ref());
    ensure!(message == "rust-probe test panic", "caught panic carries {message:?}");
    Ok(())
}
