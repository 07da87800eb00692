//! Many faulting containers in a row: each ends with SIGSEGV's status, and the
//! kernel's memory in use does not grow.

use super::Outcome;
use crate::container::{Container, ContainerConfig, Status, registry};
use crate::mm;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use berth_hal::bootinfo::BootInfo;
use berth_vfs::{Image, ImageLimits};

/// Runs one container of `image` to completion; returns its exit code.
fn run_one(image: &Arc<Image>, n: usize, cmd: &[&str]) -> Result<i32, String> {
    let config = ContainerConfig {
        name: Some(format!("churn-{n}")),
        cmd: cmd.iter().map(|s| String::from(*s)).collect(),
        echo: crate::container::Echo::None,
        ..ContainerConfig::default()
    };
    let c = Container::create(config, image.clone()).map_err(|e| e.to_string())?;
    let _ = c.start();
    let done = c.state_changed.wait_until(
        || match c.status() {
            Status::Exited(code) => Some(code),
            _ => None,
        },
        Some(crate::time::now_ns() + 10_000_000_000),
        None,
    );
    registry::remove(&c);
    done.map_err(|e| format!("container {n} did not finish: {e:?}"))
}

/// Starts `count` containers one after another, each crashing on a null pointer, and
/// compares memory in use after a warm-up with memory in use at the end.
pub fn faulting_containers(boot: &BootInfo, count: usize) -> Outcome {
    let module = boot.modules.first().ok_or("needs an image module")?;
    let bytes = berth_hal::mm::module_bytes(module.phys).ok_or("module unreadable")?;
    let image = Arc::new(Image::from_tar(bytes, ImageLimits::default()).map_err(|e| format!("{e}"))?);
    // Warm-up fills the caches, the event log among them (it keeps its last
    // `events::KEPT` events; each container here makes two: start and die).
    let warm_up = (crate::container::events::KEPT / 2 + 20).min(count);
    let cmd = vec!["/usr/bin/crash", "null"];
    let mut baseline = None;
    let started = crate::time::now_ns();
    for n in 0..count {
        if n == warm_up {
            // Let exited threads be freed before measuring.
            let _ = crate::sched::sleep(crate::time::now_ns() + 20_000_000, None);
            baseline = Some(mm::usage());
        }
        let code = run_one(&image, n, &cmd)?;
        if code != 139 {
            return Err(format!("container {n} exited with {code}, not 139 (SIGSEGV)"));
        }
        if n % 100 == 99 {
            log::info!("churn: {} containers done, memory {:?}", n + 1, mm::usage());
        }
    }
    let _ = crate::sched::sleep(crate::time::now_ns() + 20_000_000, None);
    let end = mm::usage();
    let baseline = baseline.unwrap_or(end);
    let took = (crate::time::now_ns() - started) / 1_000_000;
    log::info!("churn: {count} containers in {took} ms; memory after warm-up {baseline:?}, at the end {end:?}");
    if registry::list().iter().any(|c| c.name().starts_with("churn-")) {
        return Err("containers left in the registry".into());
    }
    if end.frames_used > baseline.frames_used + 16 || end.heap_bytes > baseline.heap_bytes + 64 * 1024 {
        return Err(format!("memory grew from {baseline:?} to {end:?}"));
    }
    Ok(())
}

/// Starts `count` containers of `bench true` one after another and reports the time
/// from creating each to its program's first system call (the start latency), and to
/// its exit.
pub fn start_latency(boot: &BootInfo, count: usize) -> Outcome {
    let module = boot.modules.first().ok_or("needs an image module")?;
    let bytes = berth_hal::mm::module_bytes(module.phys).ok_or("module unreadable")?;
    let image = Arc::new(Image::from_tar(bytes, ImageLimits::default()).map_err(|e| format!("{e}"))?);
    let mut to_first = alloc::vec::Vec::new();
    let mut to_exit = alloc::vec::Vec::new();
    for n in 0..count {
        let config = ContainerConfig {
            name: Some(format!("start-{n}")),
            cmd: vec![String::from("/usr/bin/bench"), String::from("true")],
            echo: crate::container::Echo::None,
            ..ContainerConfig::default()
        };
        let t0 = crate::time::now_ns();
        let c = Container::create(config, image.clone()).map_err(|e| e.to_string())?;
        c.start().map_err(|e| e.to_string())?;
        let code = c
            .state_changed
            .wait_until(|| if let Status::Exited(code) = c.status() { Some(code) } else { None }, None, None)
            .map_err(|e| format!("{e:?}"))?;
        let t1 = crate::time::now_ns();
        registry::remove(&c);
        if code != 0 {
            return Err(format!("bench true exited with {code}"));
        }
        to_first.push(c.sandbox.first_syscall_ns().saturating_sub(t0) / 1000);
        to_exit.push((t1 - t0) / 1000);
    }
    to_first.sort_unstable();
    to_exit.sort_unstable();
    let median = |v: &[u64]| v[v.len() / 2];
    log::info!(
        "bench container-start: {} us median from create to the first system call (min {}, max {}); {} us to exit; {count} runs",
        median(&to_first),
        to_first[0],
        to_first[count - 1],
        median(&to_exit)
    );
    Ok(())
}

/// Creates `count` containers of one image (not started) and reports what each
/// costs: the image's files are shared, so far less than the image's size.
pub fn image_sharing(boot: &BootInfo, count: usize) -> Outcome {
    let module = boot.modules.first().ok_or("needs an image module")?;
    let bytes = berth_hal::mm::module_bytes(module.phys).ok_or("module unreadable")?;
    let image = Arc::new(Image::from_tar(bytes, ImageLimits::default()).map_err(|e| format!("{e}"))?);
    let before = mm::usage();
    let mut made = alloc::vec::Vec::new();
    for n in 0..count {
        let config = ContainerConfig {
            name: Some(format!("share-{n}")),
            cmd: vec![String::from("/bin/true")],
            ..ContainerConfig::default()
        };
        made.push(Container::create(config, image.clone()).map_err(|e| e.to_string())?);
    }
    let after = mm::usage();
    let per = ((after.heap_bytes + after.frames_used * 4096) - (before.heap_bytes + before.frames_used * 4096)) / count;
    log::info!("image sharing: image of {} bytes; {count} containers cost {per} bytes each", image.bytes());
    for c in &made {
        registry::remove(c);
    }
    if per as u64 * 10 > image.bytes() {
        return Err(format!("each container costs {per} bytes, more than a tenth of the {}-byte image", image.bytes()));
    }
    Ok(())
}
