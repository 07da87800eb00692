//! Deliberate faults in kernel mode: the fault handler must report them and stop the
//! machine with a failure status (the harness checks the report).

use super::Outcome;
use berth_hal::cpu::{DeliberateFault, raise};

/// Reads an unmapped kernel address.
pub fn page_fault() -> Outcome {
    log::info!("raising a page fault in kernel mode");
    raise(DeliberateFault::PageFault)
}

/// Divides by zero.
pub fn divide_error() -> Outcome {
    log::info!("raising a divide error in kernel mode");
    raise(DeliberateFault::DivideError)
}
