//! `prctl` options and x86_64 `arch_prctl` codes.

abi_consts! {
    PRCTL_CONSTS: Kernel;
    /// Signal to receive when the parent dies.
    pub const PR_SET_PDEATHSIG: i32 = 1;
    /// Read that signal.
    pub const PR_GET_PDEATHSIG: i32 = 2;
    /// Read the dumpable flag.
    pub const PR_GET_DUMPABLE: i32 = 3;
    /// Set the dumpable flag.
    pub const PR_SET_DUMPABLE: i32 = 4;
    /// Read the keep-capabilities flag.
    pub const PR_GET_KEEPCAPS: i32 = 7;
    /// Set the keep-capabilities flag.
    pub const PR_SET_KEEPCAPS: i32 = 8;
    /// Set the thread name (16 bytes with the NUL).
    pub const PR_SET_NAME: i32 = 15;
    /// Read the thread name.
    pub const PR_GET_NAME: i32 = 16;
    /// Read the seccomp mode.
    pub const PR_GET_SECCOMP: i32 = 21;
    /// Set the seccomp mode.
    pub const PR_SET_SECCOMP: i32 = 22;
    /// Whether a capability is in the bounding set.
    pub const PR_CAPBSET_READ: i32 = 23;
    /// Drop a capability from the bounding set.
    pub const PR_CAPBSET_DROP: i32 = 24;
    /// Set the timer slack.
    pub const PR_SET_TIMERSLACK: i32 = 29;
    /// Read the timer slack.
    pub const PR_GET_TIMERSLACK: i32 = 30;
    /// Change fields of the memory map (`arg_start`, `brk`, ...).
    pub const PR_SET_MM: i32 = 35;
    /// Become a subreaper of orphaned descendants.
    pub const PR_SET_CHILD_SUBREAPER: i32 = 36;
    /// Read the subreaper flag.
    pub const PR_GET_CHILD_SUBREAPER: i32 = 37;
    /// Set no-new-privs (irreversible).
    pub const PR_SET_NO_NEW_PRIVS: i32 = 38;
    /// Read no-new-privs.
    pub const PR_GET_NO_NEW_PRIVS: i32 = 39;
    /// Read the `clear_child_tid` address.
    pub const PR_GET_TID_ADDRESS: i32 = 40;
    /// Disable transparent huge pages.
    pub const PR_SET_THP_DISABLE: i32 = 41;
    /// Read that setting.
    pub const PR_GET_THP_DISABLE: i32 = 42;
    /// Ambient capability operations.
    pub const PR_CAP_AMBIENT: i32 = 47;
    /// Allow a process to ptrace us (Yama).
    pub const PR_SET_PTRACER: i32 = 0x59616d61;
    /// Name an anonymous mapping.
    pub const PR_SET_VMA: i32 = 0x53564d41;

    /// Set the GS base.
    pub const ARCH_SET_GS: i32 = 0x1001;
    /// Set the FS base (the TLS pointer libcs use).
    pub const ARCH_SET_FS: i32 = 0x1002;
    /// Read the FS base.
    pub const ARCH_GET_FS: i32 = 0x1003;
    /// Read the GS base.
    pub const ARCH_GET_GS: i32 = 0x1004;
    /// Whether `cpuid` is allowed.
    pub const ARCH_GET_CPUID: i32 = 0x1011;
    /// Allow or fault `cpuid`.
    pub const ARCH_SET_CPUID: i32 = 0x1012;
    /// XSAVE features the kernel supports.
    pub const ARCH_GET_XCOMP_SUPP: i32 = 0x1021;
    /// XSAVE features this process may use.
    pub const ARCH_GET_XCOMP_PERM: i32 = 0x1022;
    /// Ask for a dynamically enabled XSAVE feature (AMX).
    pub const ARCH_REQ_XCOMP_PERM: i32 = 0x1023;
}

/// Length of a thread name (`PR_SET_NAME`), including the NUL (kernel-internal `TASK_COMM_LEN`).
pub const TASK_COMM_LEN: usize = 16;
