//! The macro that declares ABI constants and records them for verification.

/// Declares `pub const`s and a hidden table naming each one, its C spelling and the
/// headers that define it, so `tests/against_c.rs` checks every constant declared here
/// against the C headers without a second list to keep in step.
///
/// ```text
/// abi_consts! {
///     FCNTL_CONSTS: Libc;                    // the table, and which headers define these
///     /// Duplicate a descriptor.
///     pub const F_DUPFD: i32 = 0;
///     /// Kernel `_NSIG`.
///     pub const NSIG: i32 = 64 => "__SIGRTMAX"; // a C expression when the names differ
/// }
/// ```
macro_rules! abi_consts {
    (
        $table:ident: $headers:ident;
        $( $(#[$meta:meta])* pub const $name:ident : $ty:ty = $value:expr $(=> $c:literal)? ; )*
    ) => {
        $( $(#[$meta])* pub const $name: $ty = $value; )*

        #[doc(hidden)]
        pub const $table: &[$crate::verify::Const] = &[
            $( $crate::verify::Const {
                name: stringify!($name),
                c_expr: abi_consts!(@c $name $($c)?),
                headers: $crate::verify::Headers::$headers,
                value: $name as i128,
                bits: <$ty>::BITS,
            }, )*
        ];
    };
    (@c $name:ident) => { stringify!($name) };
    (@c $name:ident $c:literal) => { $c };
}

/// `impl Default` as all-zeroes, for ABI structs whose arrays are too long for `#[derive(Default)]`.
macro_rules! zeroed_default {
    ($($ty:ty),* $(,)?) => {
        $( impl Default for $ty {
            fn default() -> Self {
                <Self as zerocopy::FromZeros>::new_zeroed()
            }
        } )*
    };
}
