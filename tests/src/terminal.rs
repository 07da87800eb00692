//! A program run on a pseudo-terminal, as an operator's shell would run `docker run -it`:
//! what it prints is collected from the terminal's master side, and keystrokes are
//! written to it.

use rustix::fs::OFlags;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child process whose standard streams are a terminal this side controls.
pub struct Terminal {
    child: Child,
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    /// Starts `command` on a new terminal of `rows` x `cols`.
    pub fn spawn(mut command: Command, rows: u16, cols: u16) -> Result<Terminal, String> {
        let err = |what: &str, e: rustix::io::Errno| format!("{what}: {e}");
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).map_err(|e| err("openpt", e))?;
        grantpt(&master).map_err(|e| err("grantpt", e))?;
        unlockpt(&master).map_err(|e| err("unlockpt", e))?;
        let name = ptsname(&master, Vec::new()).map_err(|e| err("ptsname", e))?;
        let name = name.to_str().map_err(|e| e.to_string())?.to_string();
        let slave = File::options()
            .read(true)
            .write(true)
            .custom_flags(OFlags::NOCTTY.bits() as i32)
            .open(&name)
            .map_err(|e| format!("{name}: {e}"))?;
        tcsetwinsize(&slave, Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 })
            .map_err(|e| err("TIOCSWINSZ", e))?;
        let stream = |f: &File| f.try_clone().map_err(|e| e.to_string());
        let child = command
            .stdin(stream(&slave)?)
            .stdout(stream(&slave)?)
            .stderr(slave)
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let master = File::from(master);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().map_err(|e| e.to_string())?, screen.clone());
        // Reads until the child and every copy of the terminal's other side are gone.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&buf[..n]);
            }
        });
        Ok(Terminal { child, master, screen })
    }

    /// Everything printed so far, lossily decoded.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Waits until what was printed after byte `from` contains `needle`; returns the
    /// length printed then, to look for the next thing after.
    pub fn expect(&self, from: usize, needle: &str, limit: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if let Some(at) = screen.get(from..).and_then(|s| s.find(needle)) {
                return Ok(from + at + needle.len());
            }
            if Instant::now() > deadline {
                return Err(format!("the terminal never showed {needle:?}; it showed:\n{screen:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &[u8]) -> Result<(), String> {
        self.master.write_all(keys).map_err(|e| e.to_string())
    }

    /// Waits for the program to end; its exit status (-1 if killed after `limit`).
    pub fn wait(&mut self, limit: Duration) -> Result<i32, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Ok(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
