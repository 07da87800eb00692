//! The crate's helpers: directory records, signal sets, wait statuses, time conversions,
//! errno returns, and the layouts the C headers cannot check.

use berth_abi::errno::Errno;
use berth_abi::fs::*;
use berth_abi::net::*;
use berth_abi::poll::*;
use berth_abi::process::*;
use berth_abi::signal::*;
use berth_abi::sync::*;
use berth_abi::syscalls::{self, nr};
use berth_abi::time::*;
use zerocopy::{FromBytes, IntoBytes};

#[test]
fn dirent64_records_are_8_aligned_and_nul_terminated() {
    let mut buf = [0xaau8; 64];
    // 19 header bytes + "a" + NUL = 21, rounded up to 24.
    assert_eq!(push_dirent64(&mut buf, 0, 7, 1, DT_REG, "a"), Some(24));
    assert_eq!(u64::from_ne_bytes(buf[0..8].try_into().unwrap()), 7);
    assert_eq!(i64::from_ne_bytes(buf[8..16].try_into().unwrap()), 1);
    assert_eq!(u16::from_ne_bytes(buf[16..18].try_into().unwrap()), 24);
    assert_eq!(buf[18], DT_REG);
    assert_eq!(&buf[19..24], b"a\0\0\0\0");
    // 19 + 4 + 1 = 24 exactly: no padding.
    assert_eq!(push_dirent64(&mut buf, 24, 8, 2, DT_DIR, "abcd"), Some(24));
    assert_eq!(&buf[43..48], b"abcd\0");
    // 19 + 5 + 1 = 25, rounded up to 32.
    assert_eq!(push_dirent64(&mut [0; 32], 0, 1, 1, DT_LNK, "abcde"), Some(32));
    // "." and "..".
    assert_eq!(push_dirent64(&mut [0; 24], 0, 1, 1, DT_DIR, "."), Some(24));
    assert_eq!(push_dirent64(&mut [0; 24], 0, 1, 2, DT_DIR, ".."), Some(24));
}

#[test]
fn dirent64_that_does_not_fit_leaves_the_buffer_alone() {
    let mut buf = [0xaau8; 40];
    assert_eq!(push_dirent64(&mut buf, 24, 1, 1, DT_REG, "a"), None);
    assert_eq!(push_dirent64(&mut buf, 0, 1, 1, DT_REG, &"x".repeat(30)), None);
    assert_eq!(push_dirent64(&mut buf, usize::MAX - 3, 1, 1, DT_REG, "a"), None);
    assert!(buf.iter().all(|&b| b == 0xaa));
    // A record exactly filling the rest fits.
    assert_eq!(push_dirent64(&mut buf, 16, 1, 1, DT_REG, "abcd"), Some(24));
}

#[test]
fn old_dirent_puts_the_type_last() {
    let mut buf = [0xaau8; 32];
    // 18 + 1 + 2 = 21, rounded up to 24.
    assert_eq!(push_dirent(&mut buf, 0, 9, 3, DT_DIR, "a"), Some(24));
    assert_eq!(u16::from_ne_bytes(buf[16..18].try_into().unwrap()), 24);
    assert_eq!(&buf[18..20], b"a\0");
    assert_eq!(buf[23], DT_DIR);
    assert_eq!(push_dirent(&mut buf, 16, 9, 3, DT_DIR, "a"), None);
}

#[test]
fn mode_to_dtype_matches_the_dt_constants() {
    assert_eq!(mode_to_dtype(S_IFREG | 0o755), DT_REG);
    assert_eq!(mode_to_dtype(S_IFDIR), DT_DIR);
    assert_eq!(mode_to_dtype(S_IFLNK), DT_LNK);
    assert_eq!(mode_to_dtype(S_IFSOCK), DT_SOCK);
    assert_eq!(mode_to_dtype(0o644), DT_UNKNOWN);
}

#[test]
fn sigset_operations() {
    let mut s = SigSet::EMPTY;
    assert!(s.is_empty());
    s.add(SIGINT);
    s.add(SIGRTMAX);
    assert_eq!(s.0, 1 << 1 | 1 << 63);
    assert!(s.contains(SIGINT) && s.contains(64) && !s.contains(SIGHUP));
    s.remove(SIGINT);
    assert_eq!(s, SigSet::of(64));
    // Out-of-range numbers are ignored.
    s.add(0);
    s.add(65);
    s.add(-1);
    assert_eq!(s, SigSet::of(64));
    assert!(!s.contains(0) && !s.contains(65));

    let a = SigSet::of(SIGUSR1).with(SIGUSR2);
    let b = SigSet::of(SIGUSR2).with(SIGTERM);
    assert_eq!(a.union(b), SigSet::of(SIGUSR1).with(SIGUSR2).with(SIGTERM));
    assert_eq!(a.intersection(b), SigSet::of(SIGUSR2));
    assert_eq!(a.difference(b), SigSet::of(SIGUSR1));
    assert_eq!(SigSet::FULL.blockable().0, !(1 << 8 | 1 << 18));
    assert_eq!(b.lowest(), Signal::new(SIGUSR2));
    assert_eq!(SigSet::EMPTY.lowest(), None);
    assert_eq!(a.union(b).iter().map(Signal::number).collect::<Vec<_>>(), [SIGUSR1, SIGUSR2, SIGTERM]);
    assert_eq!(SigSet::of(64).iter().map(Signal::index).collect::<Vec<_>>(), [63]);
}

#[test]
fn signals_exist_only_in_range() {
    assert_eq!(Signal::new(0), None);
    assert_eq!(Signal::new(65), None);
    assert_eq!(Signal::new(-1), None);
    assert_eq!(Signal::new(255), None);
    let first = Signal::new(1).unwrap();
    let last = Signal::new(64).unwrap();
    assert_eq!((first.number(), first.index()), (1, 0));
    assert_eq!((last.number(), last.index()), (64, 63));
    const CHLD: Signal = Signal::of(SIGCHLD);
    assert_eq!(CHLD.number(), SIGCHLD);
}

#[test]
fn default_actions_follow_signal_7() {
    assert_eq!(default_action(SIGHUP), DefaultAction::Terminate);
    assert_eq!(default_action(SIGKILL), DefaultAction::Terminate);
    assert_eq!(default_action(SIGPIPE), DefaultAction::Terminate);
    assert_eq!(default_action(SIGSEGV), DefaultAction::CoreDump);
    assert_eq!(default_action(SIGABRT), DefaultAction::CoreDump);
    assert_eq!(default_action(SIGSYS), DefaultAction::CoreDump);
    assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
    assert_eq!(default_action(SIGWINCH), DefaultAction::Ignore);
    assert_eq!(default_action(SIGURG), DefaultAction::Ignore);
    assert_eq!(default_action(SIGSTOP), DefaultAction::Stop);
    assert_eq!(default_action(SIGTTOU), DefaultAction::Stop);
    assert_eq!(default_action(SIGCONT), DefaultAction::Continue);
    assert_eq!(default_action(SIGRTMIN), DefaultAction::Terminate);
    assert_eq!(default_action(SIGRTMAX), DefaultAction::Terminate);
    let counts = (1..=31).fold([0; 5], |mut n, sig| {
        n[default_action(sig) as usize] += 1;
        n
    });
    // Terminate, CoreDump, Ignore, Stop, Continue among the 31 standard signals.
    assert_eq!(counts, [13, 10, 3, 4, 1]);
}

#[test]
fn wait_status_encoding() {
    assert_eq!(wait_status_exited(0), 0);
    assert_eq!(wait_status_exited(1), 0x100);
    assert_eq!(wait_status_exited(256 + 2), 0x200);
    assert_eq!(wait_status_signaled(SIGKILL, false), 9);
    assert_eq!(wait_status_signaled(SIGSEGV, true), 0x8b);
    assert_eq!(wait_status_stopped(SIGSTOP), 0x137f);
    assert_eq!(wait_status_continued(), 0xffff);
}

#[test]
fn timespec_validation_and_conversion() {
    assert_eq!(Timespec::new(0, 0).validate(), Ok(()));
    assert_eq!(Timespec::new(5, 999_999_999).validate(), Ok(()));
    assert_eq!(Timespec::new(5, 1_000_000_000).validate(), Err(Errno::EINVAL));
    assert_eq!(Timespec::new(5, -1).validate(), Err(Errno::EINVAL));
    assert_eq!(Timespec::new(-1, 0).validate(), Err(Errno::EINVAL));
    assert_eq!(Timeval::new(1, 999_999).validate(), Ok(()));
    assert_eq!(Timeval::new(1, 1_000_000).validate(), Err(Errno::EINVAL));

    assert_eq!(Timespec::from_nanos(1_500_000_001), Timespec::new(1, 500_000_001));
    assert_eq!(Timespec::new(1, 500_000_001).to_nanos(), 1_500_000_001);
    assert_eq!(Timespec::from_nanos(u64::MAX).to_nanos(), u64::MAX);
    assert_eq!(Timespec::new(i64::MAX, 999_999_999).to_nanos(), u64::MAX);
    assert_eq!(Timespec::new(-1, 0).to_nanos(), 0);
    assert_eq!(Timespec::new(i64::MIN, 0).to_nanos(), 0);
    assert_eq!(Timeval::new(2, 5).to_nanos(), 2_000_005_000);
    assert_eq!(Timeval::new(i64::MAX, i64::MAX).to_nanos(), u64::MAX);
    assert_eq!(Timeval::from_nanos(1_234_567_890), Timeval::new(1, 234_567));
    assert_eq!(Timespec::from(Timeval::new(3, 4)), Timespec::new(3, 4000));
    assert_eq!(Timeval::from(Timespec::new(3, 4999)), Timeval::new(3, 4));
}

#[test]
fn errno_values_and_returns() {
    assert_eq!(Errno::ENOENT.as_i32(), 2);
    assert_eq!(Errno::ENOENT.neg(), -2);
    assert_eq!(Errno::EHWPOISON.as_i32(), 133);
    assert_eq!(Errno::ENOENT.name(), "ENOENT");
    assert_eq!(Errno::ENOENT.to_string(), "No such file or directory");
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
    assert_eq!(Errno::from_i32(41), None);
    assert_eq!(Errno::from_i32(58), None);
    assert_eq!(Errno::from_i32(0), None);
    assert_eq!(Errno::from_i32(134), None);
    assert_eq!(Errno::from_ret(-9), Some(Errno::EBADF));
    assert_eq!(Errno::from_ret(3), None);
    assert_eq!(Errno::from_ret(-4096), None);
    assert_eq!(Errno::ALL.len(), 131);
    for w in Errno::ALL.windows(2) {
        assert!(w[0] < w[1]);
    }
    for &e in Errno::ALL {
        assert_eq!(Errno::from_i32(e.as_i32()), Some(e));
    }
}

#[test]
fn syscall_names() {
    assert_eq!(nr::READ, 0);
    assert_eq!(nr::RSEQ, 334);
    assert_eq!(nr::CLONE3, 435);
    assert_eq!(nr::MSEAL, 462);
    assert_eq!(syscalls::name(334), Some("rseq"));
    assert_eq!(syscalls::name(nr::EXIT_GROUP), Some("exit_group"));
    assert_eq!(syscalls::name(400), None);
    assert_eq!(syscalls::name(463), None);
    for w in syscalls::ALL.windows(2) {
        assert!(w[0].0 < w[1].0);
    }
    for &(n, name) in syscalls::ALL {
        assert_eq!(syscalls::name(n), Some(name));
    }
    assert_eq!(syscalls::ALL.len(), 337 + (463 - 424));
}

#[test]
fn wake_op_round_trips() {
    for op in [
        WakeOp { op: FUTEX_OP_ADD, cmp: FUTEX_OP_CMP_GT, oparg: 1, cmparg: 0 },
        WakeOp { op: FUTEX_OP_SET, cmp: FUTEX_OP_CMP_EQ, oparg: -1, cmparg: -2048 },
        WakeOp { op: FUTEX_OP_XOR | FUTEX_OP_OPARG_SHIFT, cmp: FUTEX_OP_CMP_LE, oparg: 2047, cmparg: 5 },
    ] {
        assert_eq!(WakeOp::decode(op.encode()), op);
    }
    assert_eq!(FUTEX_CMD_MASK & (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG), FUTEX_WAIT_BITSET);
}

#[test]
fn signal_frame_layout() {
    assert_eq!(size_of::<SigInfo>(), 128);
    assert_eq!(size_of::<SigContext>(), 256);
    assert_eq!(size_of::<UContext>(), 304);
    assert_eq!(size_of::<FxSaveArea>(), 512);
    assert_eq!(size_of::<KernelSigaction>(), 32);
    assert_eq!(size_of::<RtSigframe>(), 8 + 304 + 128);
    assert_eq!(core::mem::offset_of!(RtSigframe, uc), 8);
    assert_eq!(core::mem::offset_of!(RtSigframe, info), 312);

    let mut fx = FxSaveArea::initial();
    assert_eq!((fx.cwd, fx.mxcsr), (0x37f, 0x1f80));
    assert!(!fx.is_xstate());
    fx.mark_xstate(832, 0b111);
    assert!(fx.is_xstate());
    let bytes = fx.as_bytes();
    assert_eq!(&bytes[464..468], &FP_XSTATE_MAGIC1.to_ne_bytes());
    assert_eq!(u32::from_ne_bytes(bytes[468..472].try_into().unwrap()), 836);
    assert_eq!(u64::from_ne_bytes(bytes[472..480].try_into().unwrap()), 0b111);
    assert_eq!(u32::from_ne_bytes(bytes[480..484].try_into().unwrap()), 832);
    fx.mark_fxsave();
    assert!(fx.as_bytes()[464..].iter().all(|&b| b == 0));
}

#[test]
fn siginfo_accessors_read_what_constructors_wrote() {
    let kill = SigInfo::kill(SIGTERM, 12, 1000);
    assert_eq!((kill.signo, kill.code, kill.pid(), kill.uid()), (SIGTERM, SI_USER, 12, 1000));
    let child = SigInfo::sigchld(CLD_KILLED, 5, 0, SIGKILL);
    assert_eq!((child.signo, child.code, child.pid(), child.status()), (SIGCHLD, CLD_KILLED, 5, SIGKILL));
    let fault = SigInfo::fault(SIGSEGV, SEGV_ACCERR, 0x1000);
    assert_eq!((fault.code, fault.addr()), (SEGV_ACCERR, 0x1000));
    assert_eq!(SigInfo::queue(SIGRTMIN, 1, 2, 99).value(), 99);
    // Round trip through user memory.
    assert_eq!(SigInfo::read_from_bytes(kill.as_bytes()), Ok(kill));
}

#[test]
fn user_memory_round_trips() {
    let ev = EpollEvent { events: EPOLLIN | EPOLLET, data: 0x1122_3344_5566_7788 };
    assert_eq!(ev.as_bytes().len(), 12);
    assert_eq!(&ev.as_bytes()[4..], &0x1122_3344_5566_7788u64.to_ne_bytes());
    let back = EpollEvent::read_from_bytes(ev.as_bytes()).unwrap();
    assert_eq!({ back.data }, 0x1122_3344_5566_7788);

    let ts = Timespec::read_from_bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(ts, Timespec::new(1, 2));
    assert!(Timespec::read_from_bytes(&[0; 15]).is_err());
    assert_eq!(Stat::default().as_bytes().len(), 144);
    assert_eq!(Statx::default().as_bytes().len(), 256);
    assert_eq!(Statfs::default().as_bytes().len(), 120);
    assert_eq!(Sysinfo::default().as_bytes().len(), 112);
    assert_eq!(CloneArgs::default().as_bytes().len(), CLONE_ARGS_SIZE_VER2);
    assert_eq!(MsgHdr::default().as_bytes().len(), 56);
    assert_eq!(SockaddrUn::default().as_bytes().len(), 110);
}

#[test]
fn utsname_fields_are_cut_and_terminated() {
    let long = "n".repeat(100);
    let u = Utsname::new("Linux", &long, "6.1.0", "#1 SMP", "x86_64", "(none)");
    assert_eq!(&u.sysname[..6], b"Linux\0");
    assert_eq!(&u.nodename[..64], &long.as_bytes()[..64]);
    assert_eq!(u.nodename[64], 0);
    assert_eq!(size_of::<Utsname>(), 6 * 65);
}

#[test]
fn fd_set_bits() {
    let mut s = FdSet::default();
    s.insert(3);
    s.insert(64);
    s.insert(1023);
    s.insert(1024); // ignored
    assert!(s.contains(3) && s.contains(64) && s.contains(1023) && !s.contains(1024) && !s.contains(4));
    assert_eq!(s.0[0], 1 << 3);
    assert_eq!(s.0[1], 1);
    assert_eq!(s.iter(65).collect::<Vec<_>>(), [3, 64]);
    s.remove(64);
    assert!(!s.contains(64));
    assert_eq!(FdSet::words_for(0), 0);
    assert_eq!(FdSet::words_for(1), 1);
    assert_eq!(FdSet::bytes_for(65), 16);
    s.clear();
    assert_eq!(s, FdSet::default());
}

#[test]
fn flag_sets_and_small_helpers() {
    let f = OpenFlags::from_bits_retain(O_RDWR | O_CREAT | O_CLOEXEC);
    assert!(f.contains(OpenFlags::CREAT | OpenFlags::CLOEXEC));
    assert_eq!(access_mode(f.bits()), O_RDWR);
    assert_eq!(file_type(S_IFDIR | 0o755), S_IFDIR);
    assert!(
        CloneFlags::from_bits_truncate(0x3d0f00 | SIGCHLD as u64).contains(CloneFlags::THREAD | CloneFlags::SETTLS)
    );
    assert_eq!(SockaddrIn::new([10, 0, 0, 1], 80).port(), 80);
    assert_eq!(SockaddrIn::new([10, 0, 0, 1], 80).port_be, 80u16.to_be());
    assert_eq!(CmsgHdr::space(4), 24);
    assert_eq!(Rlimit::INFINITY.cur, RLIM_INFINITY);
}
