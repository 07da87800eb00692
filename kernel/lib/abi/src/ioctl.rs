//! Terminal and file `ioctl`s: request numbers, `struct winsize` and the kernel's
//! `struct termios` with its flag bits.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    IOCTL_CONSTS: Kernel;
    /// Read the termios settings.
    pub const TCGETS: u32 = 0x5401;
    /// Set the termios settings now.
    pub const TCSETS: u32 = 0x5402;
    /// Set them after output drains.
    pub const TCSETSW: u32 = 0x5403;
    /// Set them after output drains, discarding pending input.
    pub const TCSETSF: u32 = 0x5404;
    /// Send a break (`tcsendbreak`), or drain with a nonzero argument (`tcdrain`).
    pub const TCSBRK: u32 = 0x5409;
    /// Suspend or resume output (`tcflow`).
    pub const TCXONC: u32 = 0x540A;
    /// Discard pending data (`tcflush`).
    pub const TCFLSH: u32 = 0x540B;
    /// Make this the controlling terminal of the caller's session.
    pub const TIOCSCTTY: u32 = 0x540E;
    /// Read the foreground process group.
    pub const TIOCGPGRP: u32 = 0x540F;
    /// Set the foreground process group.
    pub const TIOCSPGRP: u32 = 0x5410;
    /// Bytes in the output queue.
    pub const TIOCOUTQ: u32 = 0x5411;
    /// Read the window size.
    pub const TIOCGWINSZ: u32 = 0x5413;
    /// Set the window size (sends `SIGWINCH` to the foreground group).
    pub const TIOCSWINSZ: u32 = 0x5414;
    /// Bytes available to read.
    pub const FIONREAD: u32 = 0x541B;
    /// Set or clear `O_NONBLOCK`.
    pub const FIONBIO: u32 = 0x5421;
    /// Give up the controlling terminal.
    pub const TIOCNOTTY: u32 = 0x5422;
    /// Read the session id of the terminal.
    pub const TIOCGSID: u32 = 0x5429;
    /// Open the pty slave of this master.
    pub const TIOCGPTPEER: u32 = 0x5441;
    /// Clear `FD_CLOEXEC`.
    pub const FIONCLEX: u32 = 0x5450;
    /// Set `FD_CLOEXEC`.
    pub const FIOCLEX: u32 = 0x5451;
    /// Set or clear `O_ASYNC`.
    pub const FIOASYNC: u32 = 0x5452;
    /// Read the pty number of this master.
    pub const TIOCGPTN: u32 = 0x8004_5430;
    /// Lock or unlock the pty slave.
    pub const TIOCSPTLCK: u32 = 0x4004_5431;
}

abi_consts! {
    TERMIOS_CONSTS: Kernel;
    /// Length of `c_cc` in the kernel's termios (glibc's `struct termios` has 32).
    pub const NCCS: usize = 19;
    /// `c_cc` index: interrupt (`^C`).
    pub const VINTR: usize = 0;
    /// `c_cc` index: quit (`^\`).
    pub const VQUIT: usize = 1;
    /// `c_cc` index: erase (DEL).
    pub const VERASE: usize = 2;
    /// `c_cc` index: kill line (`^U`).
    pub const VKILL: usize = 3;
    /// `c_cc` index: end of file (`^D`).
    pub const VEOF: usize = 4;
    /// `c_cc` index: non-canonical read timeout, deciseconds.
    pub const VTIME: usize = 5;
    /// `c_cc` index: non-canonical read minimum.
    pub const VMIN: usize = 6;
    /// `c_cc` index: switch (unused).
    pub const VSWTC: usize = 7;
    /// `c_cc` index: resume output (`^Q`).
    pub const VSTART: usize = 8;
    /// `c_cc` index: stop output (`^S`).
    pub const VSTOP: usize = 9;
    /// `c_cc` index: suspend (`^Z`).
    pub const VSUSP: usize = 10;
    /// `c_cc` index: extra end of line.
    pub const VEOL: usize = 11;
    /// `c_cc` index: reprint line (`^R`).
    pub const VREPRINT: usize = 12;
    /// `c_cc` index: discard output (`^O`).
    pub const VDISCARD: usize = 13;
    /// `c_cc` index: erase word (`^W`).
    pub const VWERASE: usize = 14;
    /// `c_cc` index: literal next (`^V`).
    pub const VLNEXT: usize = 15;
    /// `c_cc` index: second extra end of line.
    pub const VEOL2: usize = 16;

    /// `c_iflag`: ignore breaks.
    pub const IGNBRK: u32 = 0x001;
    /// `c_iflag`: a break raises `SIGINT`.
    pub const BRKINT: u32 = 0x002;
    /// `c_iflag`: ignore parity errors.
    pub const IGNPAR: u32 = 0x004;
    /// `c_iflag`: mark parity errors.
    pub const PARMRK: u32 = 0x008;
    /// `c_iflag`: check input parity.
    pub const INPCK: u32 = 0x010;
    /// `c_iflag`: strip the eighth bit.
    pub const ISTRIP: u32 = 0x020;
    /// `c_iflag`: NL to CR on input.
    pub const INLCR: u32 = 0x040;
    /// `c_iflag`: ignore CR on input.
    pub const IGNCR: u32 = 0x080;
    /// `c_iflag`: CR to NL on input.
    pub const ICRNL: u32 = 0x100;
    /// `c_iflag`: XON/XOFF output flow control.
    pub const IXON: u32 = 0x400;
    /// `c_iflag`: any character restarts output.
    pub const IXANY: u32 = 0x800;
    /// `c_iflag`: XON/XOFF input flow control.
    pub const IXOFF: u32 = 0x1000;
    /// `c_iflag`: ring the bell when the input queue is full.
    pub const IMAXBEL: u32 = 0x2000;
    /// `c_iflag`: input is UTF-8 (for erase in canonical mode).
    pub const IUTF8: u32 = 0x4000;
    /// `c_oflag`: post-process output.
    pub const OPOST: u32 = 0x01;
    /// `c_oflag`: NL to CR-NL on output.
    pub const ONLCR: u32 = 0x04;
    /// `c_oflag`: CR to NL on output.
    pub const OCRNL: u32 = 0x08;
    /// `c_cflag`: baud rate mask.
    pub const CBAUD: u32 = 0x100f;
    /// `c_cflag`: 38400 baud.
    pub const B38400: u32 = 0x0f;
    /// `c_cflag`: character size mask.
    pub const CSIZE: u32 = 0x30;
    /// `c_cflag`: 8-bit characters.
    pub const CS8: u32 = 0x30;
    /// `c_cflag`: two stop bits.
    pub const CSTOPB: u32 = 0x40;
    /// `c_cflag`: enable the receiver.
    pub const CREAD: u32 = 0x80;
    /// `c_cflag`: parity.
    pub const PARENB: u32 = 0x100;
    /// `c_cflag`: hang up on last close.
    pub const HUPCL: u32 = 0x400;
    /// `c_cflag`: ignore modem control lines.
    pub const CLOCAL: u32 = 0x800;
    /// `c_lflag`: `INTR`, `QUIT` and `SUSP` raise signals.
    pub const ISIG: u32 = 0x001;
    /// `c_lflag`: canonical (line) mode.
    pub const ICANON: u32 = 0x002;
    /// `c_lflag`: echo input.
    pub const ECHO: u32 = 0x008;
    /// `c_lflag`: `ERASE` erases visibly.
    pub const ECHOE: u32 = 0x010;
    /// `c_lflag`: `KILL` erases the line visibly.
    pub const ECHOK: u32 = 0x020;
    /// `c_lflag`: echo NL even without `ECHO`.
    pub const ECHONL: u32 = 0x040;
    /// `c_lflag`: do not flush on signals.
    pub const NOFLSH: u32 = 0x080;
    /// `c_lflag`: background output raises `SIGTTOU`.
    pub const TOSTOP: u32 = 0x100;
    /// `c_lflag`: echo control characters as `^X`.
    pub const ECHOCTL: u32 = 0x200;
    /// `c_lflag`: `KILL` erases each character.
    pub const ECHOKE: u32 = 0x800;
    /// `c_lflag`: implementation-defined input processing (`LNEXT`, `WERASE`, ...).
    pub const IEXTEN: u32 = 0x8000;

    /// `TCSETS*` argument style: apply now.
    pub const TCSANOW: i32 = 0;
    /// Apply after output drains.
    pub const TCSADRAIN: i32 = 1;
    /// Apply after output drains and discard input.
    pub const TCSAFLUSH: i32 = 2;
    /// `TCFLSH`: discard input.
    pub const TCIFLUSH: i32 = 0;
    /// `TCFLSH`: discard output.
    pub const TCOFLUSH: i32 = 1;
    /// `TCFLSH`: discard both.
    pub const TCIOFLUSH: i32 = 2;
}

/// `struct winsize` (`TIOCGWINSZ`, `TIOCSWINSZ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Winsize {
    /// Rows.
    pub ws_row: u16,
    /// Columns.
    pub ws_col: u16,
    /// Width in pixels (unused).
    pub ws_xpixel: u16,
    /// Height in pixels (unused).
    pub ws_ypixel: u16,
}

/// The kernel's `struct termios` (`TCGETS`/`TCSETS`): 36 bytes.
///
/// glibc's `struct termios` is 60 bytes (32 control characters and two speeds); its
/// `tcgetattr` converts from this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Termios {
    /// Input modes.
    pub c_iflag: u32,
    /// Output modes.
    pub c_oflag: u32,
    /// Control modes.
    pub c_cflag: u32,
    /// Local modes.
    pub c_lflag: u32,
    /// Line discipline (0, `N_TTY`).
    pub c_line: u8,
    /// Control characters, indexed by `V*`.
    pub c_cc: [u8; NCCS],
}

impl Default for Termios {
    /// Linux's `tty_std_termios`: cooked mode with echo, 38400 baud 8N1, `^C` `^\` `^Z` signals.
    fn default() -> Termios {
        let mut c_cc = [0; NCCS];
        c_cc[VINTR] = 0x03;
        c_cc[VQUIT] = 0x1c;
        c_cc[VERASE] = 0x7f;
        c_cc[VKILL] = 0x15;
        c_cc[VEOF] = 0x04;
        c_cc[VMIN] = 1;
        c_cc[VSTART] = 0x11;
        c_cc[VSTOP] = 0x13;
        c_cc[VSUSP] = 0x1a;
        c_cc[VREPRINT] = 0x12;
        c_cc[VDISCARD] = 0x0f;
        c_cc[VWERASE] = 0x17;
        c_cc[VLNEXT] = 0x16;
        Termios {
            c_iflag: ICRNL | IXON,
            c_oflag: OPOST | ONLCR,
            c_cflag: B38400 | CS8 | CREAD | HUPCL,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_line: 0,
            c_cc,
        }
    }
}

impl Termios {
    /// Whether canonical (line-editing) mode is on.
    pub const fn is_canonical(&self) -> bool {
        self.c_lflag & ICANON != 0
    }

    /// Whether input is echoed.
    pub const fn echoes(&self) -> bool {
        self.c_lflag & ECHO != 0
    }

    /// What `cfmakeraw` makes of these settings: no line editing, echo, signals or
    /// translation; 8-bit characters; reads return after one byte.
    pub fn make_raw(&mut self) {
        self.c_iflag &= !(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        self.c_oflag &= !OPOST;
        self.c_lflag &= !(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        self.c_cflag &= !(CSIZE | PARENB);
        self.c_cflag |= CS8;
        self.c_cc[VMIN] = 1;
        self.c_cc[VTIME] = 0;
    }
}
