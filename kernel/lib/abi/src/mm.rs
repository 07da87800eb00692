//! Memory mapping: `mmap` protections and flags, `mremap`, `madvise`, `msync`, `mlockall`
//! and `memfd_create` flags.

abi_consts! {
    MM_CONSTS: Kernel;
    /// No access.
    pub const PROT_NONE: u32 = 0;
    /// Readable.
    pub const PROT_READ: u32 = 0x1;
    /// Writable.
    pub const PROT_WRITE: u32 = 0x2;
    /// Executable.
    pub const PROT_EXEC: u32 = 0x4;
    /// `mprotect`: extend the change down to the start of a grows-down mapping.
    pub const PROT_GROWSDOWN: u32 = 0x0100_0000;
    /// `mprotect`: extend the change up to the end of a grows-up mapping.
    pub const PROT_GROWSUP: u32 = 0x0200_0000;

    /// Share changes with other mappings and the file.
    pub const MAP_SHARED: u32 = 0x01;
    /// Copy-on-write private mapping.
    pub const MAP_PRIVATE: u32 = 0x02;
    /// [`MAP_SHARED`], failing on unknown flags.
    pub const MAP_SHARED_VALIDATE: u32 = 0x03;
    /// Mask of the mapping type (shared, private, shared-validate).
    pub const MAP_TYPE: u32 = 0x0f;
    /// Place exactly at `addr`, replacing what is there.
    pub const MAP_FIXED: u32 = 0x10;
    /// Not backed by a file; zero-filled.
    pub const MAP_ANONYMOUS: u32 = 0x20;
    /// Place in the first 2 GiB (x86_64).
    pub const MAP_32BIT: u32 = 0x40;
    /// A stack that grows down on faults below it.
    pub const MAP_GROWSDOWN: u32 = 0x0100;
    /// Ignored.
    pub const MAP_DENYWRITE: u32 = 0x0800;
    /// Ignored.
    pub const MAP_EXECUTABLE: u32 = 0x1000;
    /// Lock the pages in memory.
    pub const MAP_LOCKED: u32 = 0x2000;
    /// Do not reserve swap.
    pub const MAP_NORESERVE: u32 = 0x4000;
    /// Prefault the pages.
    pub const MAP_POPULATE: u32 = 0x8000;
    /// With [`MAP_POPULATE`]: do not block on I/O.
    pub const MAP_NONBLOCK: u32 = 0x10000;
    /// A thread stack (a hint; no effect on Linux today).
    pub const MAP_STACK: u32 = 0x20000;
    /// Use huge pages.
    pub const MAP_HUGETLB: u32 = 0x40000;
    /// Synchronous page faults for DAX files (with [`MAP_SHARED_VALIDATE`]).
    pub const MAP_SYNC: u32 = 0x80000;
    /// Like [`MAP_FIXED`], but fail with `EEXIST` instead of replacing a mapping.
    pub const MAP_FIXED_NOREPLACE: u32 = 0x100000;
    /// Do not clear anonymous pages (embedded kernels only).
    pub const MAP_UNINITIALIZED: u32 = 0x4000000;

    /// `mremap`: the mapping may move.
    pub const MREMAP_MAYMOVE: u32 = 1;
    /// `mremap`: move to `new_address`.
    pub const MREMAP_FIXED: u32 = 2;
    /// `mremap`: leave the old range mapped (empty).
    pub const MREMAP_DONTUNMAP: u32 = 4;

    /// `madvise`: no special treatment.
    pub const MADV_NORMAL: i32 = 0;
    /// `madvise`: expect random access.
    pub const MADV_RANDOM: i32 = 1;
    /// `madvise`: expect sequential access.
    pub const MADV_SEQUENTIAL: i32 = 2;
    /// `madvise`: will need these pages soon.
    pub const MADV_WILLNEED: i32 = 3;
    /// `madvise`: drop the pages; private anonymous memory reads back as zeroes.
    pub const MADV_DONTNEED: i32 = 4;
    /// `madvise`: the pages may be freed lazily; contents are undefined until written.
    pub const MADV_FREE: i32 = 8;
    /// `madvise`: free the range and its backing store.
    pub const MADV_REMOVE: i32 = 9;
    /// `madvise`: do not inherit across `fork`.
    pub const MADV_DONTFORK: i32 = 10;
    /// `madvise`: undo [`MADV_DONTFORK`].
    pub const MADV_DOFORK: i32 = 11;
    /// `madvise`: KSM may merge these pages.
    pub const MADV_MERGEABLE: i32 = 12;
    /// `madvise`: undo [`MADV_MERGEABLE`].
    pub const MADV_UNMERGEABLE: i32 = 13;
    /// `madvise`: use transparent huge pages.
    pub const MADV_HUGEPAGE: i32 = 14;
    /// `madvise`: do not use transparent huge pages.
    pub const MADV_NOHUGEPAGE: i32 = 15;
    /// `madvise`: leave out of core dumps.
    pub const MADV_DONTDUMP: i32 = 16;
    /// `madvise`: undo [`MADV_DONTDUMP`].
    pub const MADV_DODUMP: i32 = 17;
    /// `madvise`: the child of a `fork` sees zeroes.
    pub const MADV_WIPEONFORK: i32 = 18;
    /// `madvise`: undo [`MADV_WIPEONFORK`].
    pub const MADV_KEEPONFORK: i32 = 19;
    /// `madvise`: deactivate the pages.
    pub const MADV_COLD: i32 = 20;
    /// `madvise`: reclaim the pages.
    pub const MADV_PAGEOUT: i32 = 21;
    /// `madvise`: prefault readable.
    pub const MADV_POPULATE_READ: i32 = 22;
    /// `madvise`: prefault writable.
    pub const MADV_POPULATE_WRITE: i32 = 23;
    /// `madvise`: [`MADV_DONTNEED`] for locked pages too.
    pub const MADV_DONTNEED_LOCKED: i32 = 24;

    /// `msync`: schedule the write-back.
    pub const MS_ASYNC: i32 = 1;
    /// `msync`: invalidate other mappings.
    pub const MS_INVALIDATE: i32 = 2;
    /// `msync`: write back and wait.
    pub const MS_SYNC: i32 = 4;

    /// `mlockall`: lock what is mapped now.
    pub const MCL_CURRENT: i32 = 1;
    /// `mlockall`: lock what is mapped later.
    pub const MCL_FUTURE: i32 = 2;
    /// `mlockall`: lock pages as they are faulted in.
    pub const MCL_ONFAULT: i32 = 4;

    /// `memfd_create`: close on `execve`.
    pub const MFD_CLOEXEC: u32 = 1;
    /// `memfd_create`: allow `F_ADD_SEALS`.
    pub const MFD_ALLOW_SEALING: u32 = 2;
    /// `memfd_create`: back with huge pages.
    pub const MFD_HUGETLB: u32 = 4;
}

bitflags::bitflags! {
    /// `PROT_*` as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Prot: u32 {
        /// [`PROT_READ`].
        const READ = PROT_READ;
        /// [`PROT_WRITE`].
        const WRITE = PROT_WRITE;
        /// [`PROT_EXEC`].
        const EXEC = PROT_EXEC;
        /// [`PROT_GROWSDOWN`].
        const GROWSDOWN = PROT_GROWSDOWN;
        /// [`PROT_GROWSUP`].
        const GROWSUP = PROT_GROWSUP;
    }
}

bitflags::bitflags! {
    /// `MAP_*` flags apart from the type ([`MAP_TYPE`]) as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MapFlags: u32 {
        /// [`MAP_FIXED`].
        const FIXED = MAP_FIXED;
        /// [`MAP_ANONYMOUS`].
        const ANONYMOUS = MAP_ANONYMOUS;
        /// [`MAP_32BIT`].
        const BIT32 = MAP_32BIT;
        /// [`MAP_GROWSDOWN`].
        const GROWSDOWN = MAP_GROWSDOWN;
        /// [`MAP_DENYWRITE`].
        const DENYWRITE = MAP_DENYWRITE;
        /// [`MAP_EXECUTABLE`].
        const EXECUTABLE = MAP_EXECUTABLE;
        /// [`MAP_LOCKED`].
        const LOCKED = MAP_LOCKED;
        /// [`MAP_NORESERVE`].
        const NORESERVE = MAP_NORESERVE;
        /// [`MAP_POPULATE`].
        const POPULATE = MAP_POPULATE;
        /// [`MAP_NONBLOCK`].
        const NONBLOCK = MAP_NONBLOCK;
        /// [`MAP_STACK`].
        const STACK = MAP_STACK;
        /// [`MAP_HUGETLB`].
        const HUGETLB = MAP_HUGETLB;
        /// [`MAP_SYNC`].
        const SYNC = MAP_SYNC;
        /// [`MAP_FIXED_NOREPLACE`].
        const FIXED_NOREPLACE = MAP_FIXED_NOREPLACE;
        /// [`MAP_UNINITIALIZED`].
        const UNINITIALIZED = MAP_UNINITIALIZED;
    }
}
