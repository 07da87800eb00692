//! `getrandom` flags.

abi_consts! {
    RANDOM_CONSTS: Libc;
    /// Do not block while the pool is not yet initialized.
    pub const GRND_NONBLOCK: u32 = 1;
    /// Draw from the blocking pool (as the plain one, since Linux 5.6).
    pub const GRND_RANDOM: u32 = 2;
    /// Return bytes even before the pool is initialized.
    pub const GRND_INSECURE: u32 = 4;
}

bitflags::bitflags! {
    /// The flags of `getrandom` as a flag set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct GetRandomFlags: u32 {
        /// [`GRND_NONBLOCK`].
        const NONBLOCK = GRND_NONBLOCK;
        /// [`GRND_RANDOM`].
        const RANDOM = GRND_RANDOM;
        /// [`GRND_INSECURE`].
        const INSECURE = GRND_INSECURE;
    }
}
