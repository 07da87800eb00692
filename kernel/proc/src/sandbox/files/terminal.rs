//! A container's terminal (`docker run -t`): standard input, output and error of its
//! first process, and `/dev/tty`; or an exec's own (`docker exec -t`). What the
//! operator types (through `attach`, or the exec's stream) goes through the line
//! discipline (`berth-tty`); what programs write goes to the container's log (or the
//! exec's) as its output, with newlines translated as a terminal would.

use crate::fs::{FileOps, IoctlArg, OpenFile, Ready};
use crate::sandbox::{LogBuffer, Sandbox, Stream};
use crate::sched::WaitQueue;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use berth_abi::Errno;
use berth_abi::fs::{S_IFCHR, Stat};
use berth_abi::ioctl::*;
use berth_abi::signal::{SIGWINCH, SigInfo, Signal};
use berth_tty::LineDiscipline;
use core::sync::atomic::Ordering;
use spin::Mutex;

/// Major device number of terminals (`/dev/pts/N`).
const PTS_MAJOR: u64 = 136;

/// Where a terminal's output goes.
enum Output {
    /// The container's log (its first process's terminal).
    Container,
    /// An exec's own log.
    Exec(Arc<LogBuffer>),
}

struct State {
    ld: LineDiscipline,
    winsize: Winsize,
    /// The foreground process group (container pids), which typed signals go to.
    foreground: u32,
    /// The operator's input is closed: reads with nothing ready return end of file.
    hung_up: bool,
}

/// A container's terminal, or an exec's.
pub struct Terminal {
    sandbox: Weak<Sandbox>,
    output: Output,
    /// N of `/dev/pts/N`: 0 for the container's, more for execs'.
    number: u32,
    state: Mutex<State>,
    /// Woken when input becomes readable or the terminal hangs up.
    changed: WaitQueue,
}

impl Terminal {
    /// The terminal of `container`: cooked mode, 80x24, the first process's group in
    /// the foreground.
    pub fn new(sandbox: Weak<Sandbox>) -> Terminal {
        Terminal::make(sandbox, Output::Container, 0)
    }

    /// An exec's terminal (`/dev/pts/number`), its output going to `log`; its
    /// foreground group is set once the exec's process exists
    /// ([`Terminal::set_foreground`]).
    pub fn for_exec(sandbox: &Arc<Sandbox>, log: Arc<LogBuffer>, number: u32) -> Terminal {
        Terminal::make(Arc::downgrade(sandbox), Output::Exec(log), number)
    }

    fn make(sandbox: Weak<Sandbox>, output: Output, number: u32) -> Terminal {
        Terminal {
            sandbox,
            output,
            number,
            state: Mutex::new(State {
                ld: LineDiscipline::default(),
                winsize: Winsize { ws_row: 24, ws_col: 80, ..Winsize::default() },
                foreground: 1,
                hung_up: false,
            }),
            changed: WaitQueue::new(),
        }
    }

    /// Takes bytes the operator typed: echoes them and sends the signals they type.
    pub fn type_input(&self, data: &[u8]) {
        let (fx, foreground) = {
            let mut s = self.state.lock();
            (s.ld.input(data), s.foreground)
        };
        if !fx.echo.is_empty() {
            self.emit(&fx.echo);
        }
        for sig in fx.signals {
            self.signal_foreground(foreground, sig);
        }
        self.changed.wake_all();
    }

    /// Puts process group `group` in the foreground (typed signals go to it).
    pub fn set_foreground(&self, group: u32) {
        self.state.lock().foreground = group;
    }

    /// Sends what the terminal shows to where its output goes.
    fn emit(&self, bytes: &[u8]) {
        match &self.output {
            Output::Exec(log) => log.append(Stream::Stdout, bytes),
            Output::Container => {
                if let Some(c) = self.sandbox.upgrade() {
                    c.log.append(Stream::Stdout, bytes);
                }
            }
        }
    }

    /// The operator's input ended: programs read end of file once input runs out.
    pub fn hang_up(&self) {
        self.state.lock().hung_up = true;
        self.changed.wake_all();
    }

    /// Sets the window size (`docker` sends its terminal's) and tells the foreground
    /// group (`SIGWINCH`) if it changed.
    pub fn resize(&self, rows: u16, cols: u16) {
        let (changed, foreground) = {
            let mut s = self.state.lock();
            let new = Winsize { ws_row: rows, ws_col: cols, ..s.winsize };
            let changed = new != s.winsize;
            s.winsize = new;
            (changed, s.foreground)
        };
        if changed {
            self.signal_foreground(foreground, Signal::of(SIGWINCH));
        }
    }

    fn signal_foreground(&self, group: u32, sig: Signal) {
        let Some(c) = self.sandbox.upgrade() else { return };
        for p in c.processes().iter().filter(|p| p.pgid.load(Ordering::Relaxed) == group) {
            crate::proc::send_to_process(p, sig, SigInfo::kernel(sig.number()), crate::proc::Sender::Inside);
        }
    }
}

impl FileOps for Terminal {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        crate::fs::block_on(&self.changed, file.nonblocking(), None, || {
            let mut s = self.state.lock();
            match s.ld.read(buf) {
                Some(n) => Ok(n),
                None if s.hung_up => Ok(0),
                None => Err(Errno::EAGAIN),
            }
        })
    }

    fn write(&self, _file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
        let out = self.state.lock().ld.output(data);
        self.emit(&out);
        Ok(data.len())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let rdev = crate::fs::devices::dev(PTS_MAJOR, u64::from(self.number));
        Ok(Stat { st_mode: S_IFCHR | 0o620, st_rdev: rdev, st_blksize: 1024, st_nlink: 1, ..Stat::default() })
    }

    fn ioctl(&self, _file: &OpenFile, request: u32, arg: IoctlArg) -> Result<isize, Errno> {
        match request {
            TCGETS => arg.ptr().write(&self.state.lock().ld.termios)?,
            TCSETS | TCSETSW | TCSETSF => {
                let termios: Termios = arg.ptr().read()?;
                let mut s = self.state.lock();
                s.ld.termios = termios;
                if request == TCSETSF {
                    s.ld.flush_input();
                }
                drop(s);
                self.changed.wake_all(); // a reader's mode may have changed
            }
            TIOCGWINSZ => arg.ptr().write(&self.state.lock().winsize)?,
            TIOCSWINSZ => {
                let w: Winsize = arg.ptr().read()?;
                self.resize(w.ws_row, w.ws_col);
            }
            TIOCGPGRP => arg.ptr().write(&self.state.lock().foreground)?,
            TIOCSPGRP => {
                let group: i32 = arg.ptr().read()?;
                let group = u32::try_from(group).map_err(|_| Errno::EINVAL)?;
                self.state.lock().foreground = group;
            }
            TIOCGSID => arg.ptr().write(&1u32)?,
            FIONREAD => arg.ptr().write(&(self.state.lock().ld.available() as i32))?,
            TCFLSH => {
                if matches!(arg.value() as i32, TCIFLUSH | TCIOFLUSH) {
                    self.state.lock().ld.flush_input();
                }
            }
            // The container's one terminal is every process's controlling terminal;
            // output is never held back.
            TIOCSCTTY | TIOCNOTTY | TCSBRK | TCXONC => {}
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }

    fn ready(&self) -> Ready {
        let s = self.state.lock();
        Ready { read: s.ld.readable() || s.hung_up, write: true, ..Ready::default() }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.changed)
    }

    fn describe(&self) -> String {
        alloc::format!("/dev/pts/{}", self.number)
    }
}
