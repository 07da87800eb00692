//! Thread checks: spawn and join, mutex contention (futex), barrier, channels.

use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;

use crate::report::{Outcome, ensure};

/// Four threads each sum a quarter of `0..4_000_000`.
pub fn sum() -> Outcome {
    const N: u64 = 4_000_000;
    let handles: Vec<_> =
        (0..4).map(|part| thread::spawn(move || (part * N / 4..(part + 1) * N / 4).sum::<u64>())).collect();
    let mut total = 0;
    for handle in handles {
        total += handle.join().map_err(|_| "thread panicked")?;
    }
    ensure!(total == N * (N - 1) / 2, "threads summed to {total}, want {}", N * (N - 1) / 2);
    Ok(())
}

/// Four threads increment a shared counter 10 000 times each under a mutex.
pub fn mutex() -> Outcome {
    let counter = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().map_err(|_| "thread panicked")?;
    }
    let count = *counter.lock().map_err(|_| "mutex poisoned")?;
    ensure!(count == 40_000, "counter is {count}, want 40000");
    Ok(())
}

/// Five threads meet at a barrier 100 times; exactly one is the leader each round.
pub fn barrier() -> Outcome {
    let barrier = Arc::new(Barrier::new(5));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || (0..100).filter(|_| barrier.wait().is_leader()).count())
        })
        .collect();
    let mut leaders = (0..100).filter(|_| barrier.wait().is_leader()).count();
    for handle in handles {
        leaders += handle.join().map_err(|_| "thread panicked")?;
    }
    ensure!(leaders == 100, "{leaders} leaders in 100 rounds");
    Ok(())
}

/// 1000 messages back and forth between two threads over a pair of channels.
pub fn mpsc() -> Outcome {
    let (to_echo, echo_in) = mpsc::channel::<u64>();
    let (echo_out, from_echo) = mpsc::channel::<u64>();
    let echo = thread::spawn(move || {
        for value in echo_in {
            if echo_out.send(value + 1).is_err() {
                break;
            }
        }
    });
    for i in 0..1000 {
        to_echo.send(i).map_err(|_| "echo thread hung up")?;
        let reply = from_echo.recv().map_err(|_| "echo thread hung up")?;
        ensure!(reply == i + 1, "sent {i}, got back {reply}");
    }
    drop(to_echo);
    echo.join().map_err(|_| "echo thread panicked")?;
    Ok(())
}

/// `available_parallelism` works (it asks for the CPU affinity mask).
pub fn parallelism() -> Outcome {
    thread::available_parallelism().map_err(|e| format!("available_parallelism: {e}"))?;
    Ok(())
}
