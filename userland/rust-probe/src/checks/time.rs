//! Clock checks: the monotonic clock across a sleep and the wall clock.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::report::{Outcome, ensure};

/// `Instant` never goes backwards and a 50 ms sleep takes between 50 ms and 5 s.
pub fn monotonic() -> Outcome {
    let mut last = Instant::now();
    for _ in 0..1000 {
        let now = Instant::now();
        ensure!(now >= last, "Instant went backwards by {:?}", last - now);
        last = now;
    }
    let start = Instant::now();
    thread::sleep(Duration::from_millis(50));
    let elapsed = start.elapsed();
    ensure!(elapsed >= Duration::from_millis(50), "a 50 ms sleep took only {elapsed:?}");
    ensure!(elapsed < Duration::from_secs(5), "a 50 ms sleep took {elapsed:?}");
    Ok(())
}

/// The wall clock is after 2020-01-01.
pub fn realtime() -> Outcome {
    let now = SystemTime::now();
    let since_epoch = now.duration_since(UNIX_EPOCH).map_err(|e| format!("clock is before 1970: {e}"))?;
    ensure!(since_epoch > Duration::from_secs(1_577_836_800), "clock says {since_epoch:?} since 1970, before 2020");
    Ok(())
}
