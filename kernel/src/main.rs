//! The kernel binary: link glue only. The kernel is the `berth_kernel` library.

#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod glue {
    use berth_kernel::BootInfo;

    /// Called by the unsafe layer's boot code once boot information exists. Exporting
    /// the symbol is the one `unsafe` attribute outside `berth-hal`; there is no
    /// unsafe code here.
    #[allow(unsafe_code)]
    #[unsafe(no_mangle)]
    fn berth_kmain(boot: BootInfo) -> ! {
        berth_kernel::kmain(boot)
    }
}

/// On the host this crate only type-checks; the kernel is built by `cargo xtask`.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("berth-kernel runs on bare metal: build and boot it with `cargo xtask run`");
    std::process::exit(1);
}
