//! The ELF auxiliary vector: the `AT_*` keys `execve` puts after `envp` on the new stack.

abi_consts! {
    AUXV_CONSTS: Kernel;
    /// End of the vector.
    pub const AT_NULL: u64 = 0;
    /// Entry to skip.
    pub const AT_IGNORE: u64 = 1;
    /// Descriptor of the program (when the interpreter is run first).
    pub const AT_EXECFD: u64 = 2;
    /// Address of the program headers.
    pub const AT_PHDR: u64 = 3;
    /// Size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// Number of program headers.
    pub const AT_PHNUM: u64 = 5;
    /// Page size.
    pub const AT_PAGESZ: u64 = 6;
    /// Load address of the interpreter (0 for a static binary).
    pub const AT_BASE: u64 = 7;
    /// Flags; zero.
    pub const AT_FLAGS: u64 = 8;
    /// Entry point of the program.
    pub const AT_ENTRY: u64 = 9;
    /// The program is not ELF.
    pub const AT_NOTELF: u64 = 10;
    /// Real uid.
    pub const AT_UID: u64 = 11;
    /// Effective uid.
    pub const AT_EUID: u64 = 12;
    /// Real gid.
    pub const AT_GID: u64 = 13;
    /// Effective gid.
    pub const AT_EGID: u64 = 14;
    /// Address of the platform string, `"x86_64"`.
    pub const AT_PLATFORM: u64 = 15;
    /// CPU capability bits (x86: CPUID.1:EDX).
    pub const AT_HWCAP: u64 = 16;
    /// Frequency of `times()`, 100.
    pub const AT_CLKTCK: u64 = 17;
    /// Secure mode (set-id execution): 0 or 1.
    pub const AT_SECURE: u64 = 23;
    /// Address of the real platform string.
    pub const AT_BASE_PLATFORM: u64 = 24;
    /// Address of 16 random bytes (stack protector and pointer guard seeds).
    pub const AT_RANDOM: u64 = 25;
    /// More capability bits ([`HWCAP2_FSGSBASE`], ...).
    pub const AT_HWCAP2: u64 = 26;
    /// Address of the path the program was executed by.
    pub const AT_EXECFN: u64 = 31;
    /// Address of the vDSO ELF image.
    pub const AT_SYSINFO_EHDR: u64 = 33;
    /// Smallest signal stack the kernel's frames fit in.
    pub const AT_MINSIGSTKSZ: u64 = 51;

    /// `AT_HWCAP2`: `monitor`/`mwait` usable in ring 3.
    pub const HWCAP2_RING3MWAIT: u64 = 1 << 0;
    /// `AT_HWCAP2`: `rdfsbase` and friends usable in ring 3.
    pub const HWCAP2_FSGSBASE: u64 = 1 << 1;
}
