//! Values the crate computes (siginfo, termios, wait statuses, ...) against what C computes.

use crate::harness::{Checks, hex};
use berth_abi::fs::*;
use berth_abi::ioctl::*;
use berth_abi::net::*;
use berth_abi::poll::*;
use berth_abi::process::*;
use berth_abi::signal::*;
use berth_abi::sync::*;
use berth_abi::verify::Headers;
use zerocopy::IntoBytes;

/// Values the crate computes rather than declares, checked against what C computes.
pub fn encodings(k: &mut Checks) {
    // siginfo constructors against the kernel's siginfo_t filled field by field.
    let cases = [
        (
            "siginfo:kill",
            SigInfo::kill(SIGUSR1, 1234, 1000),
            "si.si_signo = SIGUSR1; si.si_code = SI_USER; si.si_pid = 1234; si.si_uid = 1000;",
        ),
        (
            "siginfo:tkill",
            SigInfo::tkill(SIGTERM, 77, 0),
            "si.si_signo = SIGTERM; si.si_code = SI_TKILL; si.si_pid = 77; si.si_uid = 0;",
        ),
        (
            "siginfo:fault",
            SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0xdead_beef_0000),
            "si.si_signo = SIGSEGV; si.si_code = SEGV_MAPERR; si.si_addr = (void *)0xdeadbeef0000;",
        ),
        (
            "siginfo:queue",
            SigInfo::queue(SIGRTMIN + 1, 42, 7, 0x1122_3344_5566_7788),
            "si.si_signo = SIGRTMIN + 1; si.si_code = SI_QUEUE; si.si_pid = 42; si.si_uid = 7; si.si_value.sival_ptr = (void *)0x1122334455667788;",
        ),
        ("siginfo:kernel", SigInfo::kernel(SIGKILL), "si.si_signo = SIGKILL; si.si_code = SI_KERNEL;"),
        (
            "siginfo:child",
            {
                let mut i = SigInfo::sigchld(CLD_EXITED, 99, 1000, 3);
                i.set_child_times(7, 9);
                i
            },
            "si.si_signo = SIGCHLD; si.si_code = CLD_EXITED; si.si_pid = 99; si.si_uid = 1000; si.si_status = 3; si.si_utime = 7; si.si_stime = 9;",
        ),
    ];
    for (key, info, fill) in cases {
        k.code(
            Headers::Kernel,
            &format!("{{ siginfo_t si; memset(&si, 0, sizeof si); {fill} dump(\"{key}\", &si, sizeof si); }}"),
        );
        k.expect_text(key, hex(info.as_bytes()));
    }

    // The default termios against the kernel's INIT_C_CC string and flag names.
    k.code(
        Headers::Kernel,
        r#"{ struct termios t; memset(&t, 0, sizeof t);
             t.c_iflag = ICRNL | IXON; t.c_oflag = OPOST | ONLCR; t.c_cflag = B38400 | CS8 | CREAD | HUPCL;
             t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
             memcpy(t.c_cc, "\003\034\177\025\004\0\1\0\021\023\032\0\022\017\027\026\0", 17);
             dump("termios:default", &t, sizeof t); }"#,
    );
    k.expect_text("termios:default", hex(Termios::default().as_bytes()));

    // make_raw against glibc's cfmakeraw.
    let mut raw = Termios::default();
    raw.make_raw();
    let d = Termios::default();
    k.code(
        Headers::Libc,
        &format!(
            "{{ struct termios t; memset(&t, 0, sizeof t); t.c_iflag = {}; t.c_oflag = {}; t.c_cflag = {}; t.c_lflag = {}; t.c_cc[VTIME] = 5; \
             cfmakeraw(&t); printf(\"termios:raw\\t%x %x %x %x %d %d\\n\", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, t.c_cc[VMIN], t.c_cc[VTIME]); }}",
            d.c_iflag, d.c_oflag, d.c_cflag, d.c_lflag
        ),
    );
    k.expect_text(
        "termios:raw",
        format!(
            "{:x} {:x} {:x} {:x} {} {}",
            raw.c_iflag, raw.c_oflag, raw.c_cflag, raw.c_lflag, raw.c_cc[VMIN], raw.c_cc[VTIME]
        ),
    );

    // Wait status words against glibc's W* macros.
    let statuses = [
        ("wait:exited0", wait_status_exited(0), "1 0 0 0 0 0 0"),
        ("wait:exited3", wait_status_exited(3), "1 3 0 0 0 0 0"),
        ("wait:exited255", wait_status_exited(255), "1 255 0 0 0 0 0"),
        ("wait:killed", wait_status_signaled(SIGKILL, false), "0 0 1 9 0 0 0"),
        ("wait:dumped", wait_status_signaled(SIGSEGV, true), "0 0 1 11 1 0 0"),
        ("wait:stopped", wait_status_stopped(SIGTSTP), "0 0 0 0 0 1 0"),
        ("wait:continued", wait_status_continued(), "0 0 0 0 0 0 1"),
    ];
    for (key, status, want) in statuses {
        k.code(
            Headers::Libc,
            &format!(
                "{{ int s = {status}; printf(\"{key}\\t%d %d %d %d %d %d %d\\n\", !!WIFEXITED(s), WIFEXITED(s) ? WEXITSTATUS(s) : 0, \
                 !!WIFSIGNALED(s), WIFSIGNALED(s) ? WTERMSIG(s) : 0, WIFSIGNALED(s) ? !!WCOREDUMP(s) : 0, !!WIFSTOPPED(s), !!WIFCONTINUED(s)); }}"
            ),
        );
        k.expect_text(key, want);
    }
    k.code(Headers::Libc, &format!("printf(\"wait:stopsig\\t%d\\n\", WSTOPSIG({}));", wait_status_stopped(SIGTSTP)));
    k.expect_text("wait:stopsig", SIGTSTP.to_string());

    // SigSet bit numbering against glibc's sigaddset (whose first word is the kernel's set).
    // glibc refuses to add 32 and 33, which it keeps for itself.
    let set = SigSet::of(SIGINT).with(SIGUSR1).with(SIGRTMIN + 8).with(64);
    k.code(
        Headers::Libc,
        "{ sigset_t s; sigemptyset(&s); sigaddset(&s, SIGINT); sigaddset(&s, SIGUSR1); sigaddset(&s, 40); sigaddset(&s, 64); \
           dump(\"sigset\", &s, 8); }",
    );
    k.expect_text("sigset", hex(set.as_bytes()));

    // FdSet against glibc's FD_SET.
    let mut fds = FdSet::default();
    for fd in [0, 5, 63, 64, 700, 1023] {
        fds.insert(fd);
    }
    k.code(
        Headers::Libc,
        "{ fd_set f; FD_ZERO(&f); int fds[] = {0, 5, 63, 64, 700, 1023}; for (int i = 0; i < 6; i++) FD_SET(fds[i], &f); \
           dump(\"fdset\", &f, sizeof f); }",
    );
    k.expect_text("fdset", hex(fds.as_bytes()));

    // mode_to_dtype against IFTODT.
    for (name, mode) in [
        ("REG", S_IFREG),
        ("DIR", S_IFDIR),
        ("LNK", S_IFLNK),
        ("CHR", S_IFCHR),
        ("BLK", S_IFBLK),
        ("IFO", S_IFIFO),
        ("SOCK", S_IFSOCK),
    ] {
        k.int(
            Headers::Libc,
            &format!("iftodt:{name}"),
            &format!("IFTODT(S_IF{name} | 0644)"),
            mode_to_dtype(mode | 0o644) as i128,
            8,
        );
    }

    // CMSG_* arithmetic.
    for n in [0usize, 1, 4, 8, 12, 13] {
        k.int(Headers::Libc, &format!("cmsg_len:{n}"), &format!("CMSG_LEN({n})"), CmsgHdr::len(n) as i128, 64);
        k.int(Headers::Libc, &format!("cmsg_space:{n}"), &format!("CMSG_SPACE({n})"), CmsgHdr::space(n) as i128, 64);
    }

    // FUTEX_WAKE_OP encoding against the FUTEX_OP macro.
    for (op, oparg, cmp, cmparg) in [
        (FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0),
        (FUTEX_OP_SET, -1, FUTEX_OP_CMP_EQ, -2048),
        (FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31, FUTEX_OP_CMP_GE, 2047),
    ] {
        let enc = WakeOp { op, cmp, oparg, cmparg }.encode();
        k.int(
            Headers::Kernel,
            &format!("futex_op:{op}:{oparg}:{cmp}:{cmparg}"),
            &format!("FUTEX_OP({op}, {oparg}, {cmp}, {cmparg})"),
            enc as i128,
            32,
        );
    }

    // Utsname field placement.
    let u = Utsname::new("Linux", "host", "6.1.0", "#1", "x86_64", "(none)");
    k.code(
        Headers::Kernel,
        "{ struct new_utsname u; memset(&u, 0, sizeof u); strcpy(u.sysname, \"Linux\"); strcpy(u.nodename, \"host\"); \
           strcpy(u.release, \"6.1.0\"); strcpy(u.version, \"#1\"); strcpy(u.machine, \"x86_64\"); strcpy(u.domainname, \"(none)\"); \
           dump(\"utsname\", &u, sizeof u); }",
    );
    k.expect_text("utsname", hex(u.as_bytes()));

    // SockaddrIn::new against htons.
    let sin = SockaddrIn::new([127, 0, 0, 1], 8080);
    k.code(
        Headers::Libc,
        "{ struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_port = htons(8080); \
           a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); dump(\"sockaddr_in\", &a, sizeof a); }",
    );
    k.expect_text("sockaddr_in", hex(sin.as_bytes()));
}
