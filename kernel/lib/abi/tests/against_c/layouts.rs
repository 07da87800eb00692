//! Every struct's size, alignment and field offsets and sizes against its C definition.

use crate::harness::Checks;
use berth_abi::fs::*;
use berth_abi::ioctl::*;
use berth_abi::net::*;
use berth_abi::poll::*;
use berth_abi::process::*;
use berth_abi::signal::*;
use berth_abi::sync::*;
use berth_abi::time::*;
use berth_abi::verify::Headers;

fn field_size<T, F>(_: impl Fn(&T) -> F) -> usize {
    size_of::<F>()
}

/// Checks one field's offset and size against the C member `c_field` of `c_type`.
fn field(checks: &mut Checks, h: Headers, c_type: &str, rust: (&str, &str), c_field: &str, off: usize, size: usize) {
    let (ty, f) = rust;
    checks.int(h, &format!("off:{ty}.{f}"), &format!("offsetof({c_type}, {c_field})"), off as i128, 64);
    checks.int(h, &format!("fsize:{ty}.{f}"), &format!("sizeof((({c_type} *)0)->{c_field})"), size as i128, 64);
}

/// Checks a struct's size, alignment and fields. A field is written `name` when C calls
/// it the same, `name: "c_name"` when not, and `name: _` for Rust-only padding.
macro_rules! layout {
    ($checks:expr, $h:ident, $cty:literal, $ty:ty { $( $f:ident $(: $c:tt)? ),* $(,)? }) => {{
        let name = stringify!($ty);
        $checks.int(Headers::$h, &format!("size:{name}"), concat!("sizeof(", $cty, ")"), size_of::<$ty>() as i128, 64);
        $checks.int(Headers::$h, &format!("align:{name}"), concat!("_Alignof(", $cty, ")"), align_of::<$ty>() as i128, 64);
        #[allow(unused_mut)]
        let (mut covered, mut listed) = (0usize, 0usize);
        $(
            let size = field_size(|s: &$ty| s.$f);
            covered += size;
            listed += 1;
            layout!(@field $checks, $h, $cty, name, $ty, $f, size $(, $c)?);
        )*
        assert!(listed == 0 || covered == size_of::<$ty>(), "{name}: the fields listed do not cover the struct");
    }};
    (@field $checks:expr, $h:ident, $cty:literal, $name:expr, $ty:ty, $f:ident, $size:expr) => {
        field($checks, Headers::$h, $cty, ($name, stringify!($f)), stringify!($f), core::mem::offset_of!($ty, $f), $size)
    };
    (@field $checks:expr, $h:ident, $cty:literal, $name:expr, $ty:ty, $f:ident, $size:expr, _) => {};
    (@field $checks:expr, $h:ident, $cty:literal, $name:expr, $ty:ty, $f:ident, $size:expr, $c:literal) => {
        field($checks, Headers::$h, $cty, ($name, stringify!($f)), $c, core::mem::offset_of!($ty, $f), $size)
    };
}

/// Every struct in the crate (except [`RtSigframe`], which is not in the UAPI headers and
/// is checked by offset in the unit tests).
pub fn layouts(k: &mut Checks) {
    // signal
    layout!(k, Kernel, "sigset_t", SigSet {});
    layout!(
        k,
        Kernel,
        "struct sigaction",
        KernelSigaction { handler: "sa_handler", flags: "sa_flags", restorer: "sa_restorer", mask: "sa_mask" }
    );
    layout!(k, Kernel, "stack_t", StackT { ss_sp, ss_flags, _pad: _, ss_size });
    layout!(
        k,
        Kernel,
        "siginfo_t",
        SigInfo { signo: "si_signo", errno: "si_errno", code: "si_code", _pad: _, fields: _ }
    );
    layout!(
        k,
        Kernel,
        "struct sigcontext",
        SigContext {
            r8,
            r9,
            r10,
            r11,
            r12,
            r13,
            r14,
            r15,
            rdi,
            rsi,
            rbp,
            rbx,
            rdx,
            rax,
            rcx,
            rsp,
            rip,
            eflags,
            cs,
            gs,
            fs,
            ss,
            err,
            trapno,
            oldmask,
            cr2,
            fpstate,
            reserved1,
        }
    );
    layout!(k, Kernel, "struct ucontext", UContext { uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask });
    layout!(k, Kernel, "struct _fpx_sw_bytes", FpxSwBytes { magic1, extended_size, xfeatures, xstate_size, padding });
    layout!(
        k,
        Kernel,
        "struct _fpstate_64",
        FxSaveArea { cwd, swd, twd, fop, rip, rdp, mxcsr, mxcsr_mask, st_space, xmm_space, reserved2, sw_reserved }
    );
    // fs
    layout!(
        k,
        Kernel,
        "struct stat",
        Stat {
            st_dev,
            st_ino,
            st_nlink,
            st_mode,
            st_uid,
            st_gid,
            __pad0,
            st_rdev,
            st_size,
            st_blksize,
            st_blocks,
            st_atime,
            st_atime_nsec,
            st_mtime,
            st_mtime_nsec,
            st_ctime,
            st_ctime_nsec,
            __unused,
        }
    );
    layout!(k, Kernel, "struct statx_timestamp", StatxTimestamp { tv_sec, tv_nsec, __reserved });
    layout!(
        k,
        Kernel,
        "struct statx",
        Statx {
            stx_mask,
            stx_blksize,
            stx_attributes,
            stx_nlink,
            stx_uid,
            stx_gid,
            stx_mode,
            __spare0,
            stx_ino,
            stx_size,
            stx_blocks,
            stx_attributes_mask,
            stx_atime,
            stx_btime,
            stx_ctime,
            stx_mtime,
            stx_rdev_major,
            stx_rdev_minor,
            stx_dev_major,
            stx_dev_minor,
            stx_mnt_id,
            stx_dio_mem_align,
            stx_dio_offset_align,
            __spare3,
        }
    );
    layout!(
        k,
        Kernel,
        "struct statfs",
        Statfs {
            f_type,
            f_bsize,
            f_blocks,
            f_bfree,
            f_bavail,
            f_files,
            f_ffree,
            f_fsid,
            f_namelen,
            f_frsize,
            f_flags,
            f_spare,
        }
    );
    layout!(k, Kernel, "struct iovec", IoVec { base: "iov_base", len: "iov_len" });
    layout!(k, Kernel, "struct flock", Flock { l_type, l_whence, _pad0: _, l_start, l_len, l_pid, _pad1: _ });
    layout!(k, Kernel, "struct new_utsname", Utsname { sysname, nodename, release, version, machine, domainname });
    // time
    layout!(k, Kernel, "struct __kernel_timespec", Timespec { sec: "tv_sec", nsec: "tv_nsec" });
    layout!(k, Kernel, "struct __kernel_old_timeval", Timeval { sec: "tv_sec", usec: "tv_usec" });
    layout!(k, Kernel, "struct __kernel_itimerspec", Itimerspec { interval: "it_interval", value: "it_value" });
    layout!(k, Libc, "struct itimerval", Itimerval { interval: "it_interval", value: "it_value" });
    layout!(k, Libc, "struct timezone", Timezone { minuteswest: "tz_minuteswest", dsttime: "tz_dsttime" });
    // process
    layout!(
        k,
        Kernel,
        "struct clone_args",
        CloneArgs {
            flags,
            pidfd,
            child_tid,
            parent_tid,
            exit_signal,
            stack,
            stack_size,
            tls,
            set_tid,
            set_tid_size,
            cgroup,
        }
    );
    layout!(k, Kernel, "struct rlimit", Rlimit { cur: "rlim_cur", max: "rlim_max" });
    layout!(
        k,
        Kernel,
        "struct rusage",
        Rusage {
            ru_utime,
            ru_stime,
            ru_maxrss,
            ru_ixrss,
            ru_idrss,
            ru_isrss,
            ru_minflt,
            ru_majflt,
            ru_nswap,
            ru_inblock,
            ru_oublock,
            ru_msgsnd,
            ru_msgrcv,
            ru_nsignals,
            ru_nvcsw,
            ru_nivcsw,
        }
    );
    layout!(
        k,
        Kernel,
        "struct sysinfo",
        Sysinfo {
            uptime,
            loads,
            totalram,
            freeram,
            sharedram,
            bufferram,
            totalswap,
            freeswap,
            procs,
            pad,
            _pad1: _,
            totalhigh,
            freehigh,
            mem_unit,
            _f: _,
        }
    );
    layout!(k, Kernel, "struct tms", Tms { tms_utime, tms_stime, tms_cutime, tms_cstime });
    // sync
    layout!(k, Kernel, "struct robust_list_head", RobustListHead { list, futex_offset, list_op_pending });
    layout!(k, Kernel, "struct futex_waitv", FutexWaitv { val, uaddr, flags, __reserved });
    // ioctl
    layout!(k, Kernel, "struct winsize", Winsize { ws_row, ws_col, ws_xpixel, ws_ypixel });
    layout!(k, Kernel, "struct termios", Termios { c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc });
    // poll
    layout!(k, Kernel, "struct pollfd", PollFd { fd, events, revents });
    layout!(k, Kernel, "struct epoll_event", EpollEvent { events, data });
    layout!(k, Libc, "fd_set", FdSet {});
    // net
    layout!(
        k,
        Kernel,
        "struct sockaddr_in",
        SockaddrIn { family: "sin_family", port_be: "sin_port", addr: "sin_addr", zero: "__pad" }
    );
    layout!(
        k,
        Kernel,
        "struct sockaddr_in6",
        SockaddrIn6 {
            family: "sin6_family",
            port_be: "sin6_port",
            flowinfo: "sin6_flowinfo",
            addr: "sin6_addr",
            scope_id: "sin6_scope_id",
        }
    );
    layout!(k, Kernel, "struct sockaddr_un", SockaddrUn { family: "sun_family", path: "sun_path" });
    layout!(
        k,
        Libc,
        "struct msghdr",
        MsgHdr {
            msg_name,
            msg_namelen,
            _pad0: _,
            msg_iov,
            msg_iovlen,
            msg_control,
            msg_controllen,
            msg_flags,
            _pad1: _,
        }
    );
    layout!(k, Libc, "struct mmsghdr", MMsgHdr { msg_hdr, msg_len, _pad: _ });
    layout!(k, Libc, "struct cmsghdr", CmsgHdr { cmsg_len, cmsg_level, cmsg_type });
    layout!(k, Libc, "struct ucred", Ucred { pid, uid, gid });
    layout!(k, Libc, "struct linger", Linger { l_onoff, l_linger });
}
