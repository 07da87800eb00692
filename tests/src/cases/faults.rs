//! Faults in kernel mode are reported with their details, never hung.

use super::boot_and_wait;
use crate::artifacts::Artifacts;
use crate::qemu::EXIT_FAILURE;
use crate::runner::seconds;

fn expect_fault(a: &Artifacts, test: &str, needles: &[&str]) -> Result<(), String> {
    let (code, vm) = boot_and_wait(a, &format!("test={test}"), seconds(30))?;
    if code != EXIT_FAILURE {
        return Err(vm.failure(&format!("expected exit status {EXIT_FAILURE} after the fault, got {code}")));
    }
    let out = vm.output();
    for needle in needles {
        if !out.contains(needle) {
            return Err(vm.failure(&format!("the fault report lacks {needle:?}")));
        }
    }
    Ok(())
}

/// A read of the never-mapped stack-window guard page.
pub fn page_fault(a: &Artifacts) -> Result<(), String> {
    expect_fault(
        a,
        "page-fault",
        &[
            "KERNEL FAULT: page fault (vector 14)",
            "CR2 0xffffc80000000000 (not-present page on read in kernel mode)",
            "RIP 0xffffffff8",
            "RAX ",
        ],
    )
}

/// An integer division by zero.
pub fn divide_error(a: &Artifacts) -> Result<(), String> {
    expect_fault(a, "divide-error", &["KERNEL FAULT: divide error (vector 0)", "RIP 0xffffffff8", "R15 "])
}
