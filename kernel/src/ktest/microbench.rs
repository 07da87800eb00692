//! Timings of kernel primitives, printed for `cargo xtask bench` (not a pass/fail test).

use super::Outcome;
use alloc::sync::Arc;
use berth_hal::mm::{Frame, KernelStack};
use berth_hal::user_pt::{UserFlags, UserPageTable};

fn time<R>(what: &str, n: u32, mut f: impl FnMut() -> R) {
    let start = crate::time::now_ns();
    for _ in 0..n {
        core::hint::black_box(f());
    }
    let ns = (crate::time::now_ns() - start) / u64::from(n);
    log::info!("microbench: {what}: {ns} ns");
}

/// Times frame allocation, kernel stacks and user page-table updates.
pub fn primitives() -> Outcome {
    time("frame alloc+free", 2000, Frame::alloc);
    time("kernel stack new+drop", 200, KernelStack::new);
    let budget = Arc::new(crate::mm::MemoryCounter::new(u64::MAX));
    let mut pt: UserPageTable<Frame> = UserPageTable::new(budget.clone()).map_err(|_| "page table")?;
    let frames: alloc::vec::Vec<Arc<Frame>> = (0..256).map(|_| Arc::new(Frame::alloc().expect("frame"))).collect();
    let flags = UserFlags { read: true, write: true, exec: false };
    let mut i = 0u64;
    time("user map (256 pages)", 256, || {
        let r = pt.map(0x40_0000 + i * 4096, frames[i as usize].clone(), flags);
        i += 1;
        r.is_ok()
    });
    let mut i = 0u64;
    time("user get", 256, || {
        let r = pt.get(0x40_0000 + i * 4096).is_some();
        i += 1;
        r
    });
    let mut i = 0u64;
    time("user set_flags", 256, || {
        let r = pt.set_flags(0x40_0000 + i * 4096, UserFlags { write: false, ..flags });
        i += 1;
        r
    });
    let mut i = 0u64;
    time("user unmap", 256, || {
        let r = pt.unmap(0x40_0000 + i * 4096).is_some();
        i += 1;
        r
    });
    time("page table new+drop", 200, || UserPageTable::<Frame>::new(budget.clone()).is_ok());
    time("fpu save", 1000, berth_hal::fpu::FpuState::current);
    time("heap 4 KiB alloc+free", 1000, || alloc::vec![0u8; 4096]);
    time("now_ns", 10000, crate::time::now_ns);
    let lock = berth_hal::sync::IrqLock::new(0u64);
    time("IrqLock lock+unlock", 10000, || *lock.lock() += 1);
    let spin = spin::Mutex::new(0u64);
    time("spin lock+unlock", 10000, || *spin.lock() += 1);
    time("sched::current()", 10000, crate::sched::current);
    time("without_interrupts", 10000, || berth_hal::cpu::without_interrupts(|| 1));
    Ok(())
}
