//! The line discipline of a container's terminal (`docker run -t`), as Linux's `N_TTY`
//! does it for the parts programs rely on: canonical line editing (erase, kill, end of
//! file), echo, the signal characters, and carriage-return/newline translation both
//! ways. Plain data with no locking and no I/O: the kernel feeds it the bytes the
//! operator types, forwards the echo and signals it reports, and lets programs read
//! what it has made ready.

#![no_std]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use berth_abi::ioctl::*;
use berth_abi::signal::{SIGINT, SIGQUIT, SIGTSTP, Signal};

/// Longest line canonical mode collects (Linux's `N_TTY_BUF_SIZE` less one).
pub const MAX_LINE: usize = 4095;
/// Most input held for reading before more is dropped.
pub const MAX_READY: usize = 64 * 1024;

/// What feeding input produced: bytes to show (the echo, already output-processed) and
/// signals for the foreground process group.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Echo, to write to the terminal's output.
    pub echo: Vec<u8>,
    /// Signals typed (`^C`, `^\`, `^Z`), in order.
    pub signals: Vec<Signal>,
}

/// A terminal's input state and settings.
#[derive(Debug, Default)]
pub struct LineDiscipline {
    /// The settings (`TCGETS`/`TCSETS`).
    pub termios: Termios,
    /// The line being edited (canonical mode).
    line: Vec<u8>,
    /// Bytes programs can read.
    ready: VecDeque<u8>,
    /// End of file typed on an empty line: the next read that finds nothing returns 0.
    eof: bool,
}

impl LineDiscipline {
    /// Takes bytes typed at the terminal.
    pub fn input(&mut self, bytes: &[u8]) -> Effects {
        let mut fx = Effects::default();
        for &b in bytes {
            self.input_byte(b, &mut fx);
        }
        fx
    }

    fn input_byte(&mut self, mut b: u8, fx: &mut Effects) {
        let t = self.termios;
        let (iflag, lflag, cc) = (t.c_iflag, t.c_lflag, t.c_cc);
        if iflag & ISTRIP != 0 {
            b &= 0x7f;
        }
        match b {
            b'\r' if iflag & IGNCR != 0 => return,
            b'\r' if iflag & ICRNL != 0 => b = b'\n',
            b'\n' if iflag & INLCR != 0 => b = b'\r',
            _ => {}
        }
        if lflag & ISIG != 0 {
            let signal = [(VINTR, Signal::of(SIGINT)), (VQUIT, Signal::of(SIGQUIT)), (VSUSP, Signal::of(SIGTSTP))]
                .into_iter()
                .find(|&(v, _)| cc[v] != 0 && cc[v] == b)
                .map(|(_, s)| s);
            if let Some(sig) = signal {
                if lflag & NOFLSH == 0 {
                    self.line.clear();
                    self.ready.clear();
                }
                self.echo_char(b, fx);
                fx.signals.push(sig);
                return;
            }
        }
        if lflag & ICANON == 0 {
            if self.ready.len() < MAX_READY {
                self.ready.push_back(b);
            }
            self.echo_char(b, fx);
            return;
        }
        let echo_erase = lflag & ECHO != 0 && lflag & ECHOE != 0;
        if b == cc[VERASE] && b != 0 {
            if self.line.pop().is_some() && echo_erase {
                self.output_into(b"\x08 \x08", &mut fx.echo);
            }
        } else if b == cc[VKILL] && b != 0 {
            let erased = core::mem::take(&mut self.line).len();
            if lflag & ECHO != 0 && lflag & ECHOKE != 0 {
                for _ in 0..erased {
                    self.output_into(b"\x08 \x08", &mut fx.echo);
                }
            } else if lflag & ECHO != 0 && lflag & ECHOK != 0 {
                self.output_into(b"\n", &mut fx.echo);
            }
        } else if b == cc[VEOF] && b != 0 {
            if self.line.is_empty() {
                self.eof = true;
            }
            self.commit_line();
        } else if b == b'\n' || (b == cc[VEOL] && b != 0) {
            self.line.push(b);
            self.commit_line();
            if lflag & (ECHO | ECHONL) != 0 {
                self.output_into(&[b], &mut fx.echo);
            }
        } else if self.line.len() < MAX_LINE {
            self.line.push(b);
            self.echo_char(b, fx);
        }
    }

    /// Moves the edited line to what programs can read.
    fn commit_line(&mut self) {
        let room = MAX_READY.saturating_sub(self.ready.len());
        let n = self.line.len().min(room);
        self.ready.extend(self.line.drain(..).take(n));
    }

    /// Echoes one typed byte: control characters as `^X` with `ECHOCTL`.
    fn echo_char(&self, b: u8, fx: &mut Effects) {
        let lflag = self.termios.c_lflag;
        if lflag & ECHO == 0 {
            return;
        }
        if lflag & ECHOCTL != 0 && (b < 0x20 || b == 0x7f) && b != b'\t' && b != b'\n' {
            fx.echo.extend_from_slice(&[b'^', b ^ 0x40]);
        } else {
            self.output_into(&[b], &mut fx.echo);
        }
    }

    /// Whether a read would return now (data, or end of file).
    pub fn readable(&self) -> bool {
        !self.ready.is_empty() || self.eof || (!self.termios.is_canonical() && self.termios.c_cc[VMIN] == 0)
    }

    /// Bytes ready to read (`FIONREAD`).
    pub fn available(&self) -> usize {
        self.ready.len()
    }

    /// Reads what is ready into `buf`: in canonical mode at most one line. Returns
    /// `None` if nothing is ready (the reader should wait), `Some(0)` at end of file.
    pub fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.ready.is_empty() {
            if self.eof {
                self.eof = false;
                return Some(0);
            }
            let immediate = !self.termios.is_canonical() && self.termios.c_cc[VMIN] == 0;
            return immediate.then_some(0);
        }
        let mut n = buf.len().min(self.ready.len());
        if self.termios.is_canonical()
            && let Some(end) = self.ready.iter().take(n).position(|&b| b == b'\n')
        {
            n = end + 1;
        }
        for (dst, src) in buf.iter_mut().zip(self.ready.drain(..n)) {
            *dst = src;
        }
        Some(n)
    }

    /// Discards input not yet read (`TCSETSF`, `tcflush`).
    pub fn flush_input(&mut self) {
        self.line.clear();
        self.ready.clear();
        self.eof = false;
    }

    /// Output processing of bytes a program writes: `\n` becomes `\r\n` with `OPOST`
    /// and `ONLCR`.
    pub fn output(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        self.output_into(data, &mut out);
        out
    }

    fn output_into(&self, data: &[u8], out: &mut Vec<u8>) {
        let oflag = self.termios.c_oflag;
        if oflag & OPOST == 0 || oflag & (ONLCR | OCRNL) == 0 {
            out.extend_from_slice(data);
            return;
        }
        for &b in data {
            match b {
                b'\n' if oflag & ONLCR != 0 => out.extend_from_slice(b"\r\n"),
                b'\r' if oflag & OCRNL != 0 => out.push(b'\n'),
                _ => out.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(ld: &mut LineDiscipline) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let n = ld.read(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    }

    #[test]
    fn cooked_lines_arrive_whole_with_echo() {
        let mut ld = LineDiscipline::default();
        let fx = ld.input(b"echo hi");
        assert_eq!(fx.echo, b"echo hi");
        assert!(!ld.readable(), "no line until Enter");
        // The docker CLI in raw mode sends Enter as a carriage return.
        let fx = ld.input(b"\r");
        assert_eq!(fx.echo, b"\r\n");
        assert_eq!(read_all(&mut ld), b"echo hi\n");
        assert_eq!(ld.read(&mut [0; 8]), None, "then nothing until more is typed");
    }

    #[test]
    fn a_read_returns_one_line() {
        let mut ld = LineDiscipline::default();
        ld.input(b"one\rtwo\r");
        assert_eq!(read_all(&mut ld), b"one\n");
        assert_eq!(read_all(&mut ld), b"two\n");
    }

    #[test]
    fn erase_and_kill_edit_the_line() {
        let mut ld = LineDiscipline::default();
        let fx = ld.input(b"ab\x7fc");
        assert_eq!(fx.echo, b"ab\x08 \x08c");
        ld.input(b"\x15xyz\r");
        assert_eq!(read_all(&mut ld), b"xyz\n");
    }

    #[test]
    fn interrupt_signals_and_flushes() {
        let mut ld = LineDiscipline::default();
        ld.input(b"half a line");
        let fx = ld.input(&[0x03]);
        assert_eq!(fx.signals, [Signal::of(SIGINT)]);
        assert_eq!(fx.echo, b"^C");
        ld.input(b"next\r");
        assert_eq!(read_all(&mut ld), b"next\n");
        assert_eq!(ld.input(&[0x1c]).signals, [Signal::of(SIGQUIT)]);
        assert_eq!(ld.input(&[0x1a]).signals, [Signal::of(SIGTSTP)]);
    }

    #[test]
    fn end_of_file_on_an_empty_line_reads_zero() {
        let mut ld = LineDiscipline::default();
        ld.input(b"abc\x04");
        assert_eq!(read_all(&mut ld), b"abc", "^D after text ends the line without a newline");
        ld.input(&[0x04]);
        assert!(ld.readable());
        assert_eq!(ld.read(&mut [0; 8]), Some(0));
        assert_eq!(ld.read(&mut [0; 8]), None);
    }

    #[test]
    fn raw_mode_passes_bytes_through() {
        let mut ld = LineDiscipline::default();
        ld.termios.make_raw();
        let fx = ld.input(b"a\x03\r\x7f");
        assert!(fx.echo.is_empty() && fx.signals.is_empty());
        assert_eq!(read_all(&mut ld), b"a\x03\r\x7f");
    }

    #[test]
    fn output_maps_newlines_unless_raw() {
        let mut ld = LineDiscipline::default();
        assert_eq!(ld.output(b"a\nb\n"), b"a\r\nb\r\n");
        ld.termios.make_raw();
        assert_eq!(ld.output(b"a\nb\n"), b"a\nb\n");
    }

    #[test]
    fn flush_discards_pending_input() {
        let mut ld = LineDiscipline::default();
        ld.input(b"typed ahead\rand more");
        ld.flush_input();
        assert!(!ld.readable());
        ld.input(b"x\r");
        assert_eq!(read_all(&mut ld), b"x\n");
    }
}
