//! `/_ping`, `/version`, `/info`.

use super::conn::Conn;
use super::error::ApiError;
use super::reply::{Handled, Next};
use alloc::string::String;
use berth_docker::api;
use berth_docker::http::RequestHead;

/// `HEAD|GET /_ping`: `OK`, with the `Api-Version` header the CLI negotiates from.
pub fn ping(conn: &Conn, head: &RequestHead) -> Handled {
    let sent = if head.method == "HEAD" {
        conn.respond_head_only(200, "text/plain; charset=utf-8", 2)
    } else {
        conn.respond(200, Some("text/plain; charset=utf-8"), b"OK")
    };
    sent.map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /version`.
pub fn version(conn: &Conn) -> Handled {
    let v = api::Version {
        version: String::from(crate::VERSION),
        api_version: String::from(super::API_VERSION),
        min_api_version: String::from(super::MIN_API_VERSION),
        git_commit: String::from("berth"),
        go_version: String::from("none (berth is written in Rust)"),
        os: String::from("linux"),
        arch: String::from("amd64"),
        kernel_version: String::from(crate::LINUX_RELEASE),
        platform: api::Platform { name: alloc::format!("berth {}", crate::VERSION) },
        ..api::Version::default()
    }
    .with_engine_component();
    conn.json(200, &v).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /info`: berth and its resources.
pub fn info(conn: &Conn) -> Handled {
    let containers = crate::container::registry::list();
    let running = containers.iter().filter(|c| c.status() == crate::container::Status::Running).count();
    let (_, memory_limit) = crate::mm::container_memory();
    let info = api::Info {
        id: String::from("berth"),
        containers: containers.len() as u64,
        containers_running: running as u64,
        containers_paused: 0,
        containers_stopped: (containers.len() - running) as u64,
        images: crate::container::images::list().len() as u64,
        driver: String::from("berth"),
        operating_system: alloc::format!("berth {}", crate::VERSION),
        os_type: String::from("linux"),
        architecture: String::from("x86_64"),
        // The CPUs the scheduler runs containers on.
        ncpu: crate::sched::cpu_count() as u32,
        mem_total: memory_limit,
        memory_limit: true,
        pids_limit: true,
        cpu_cfs_quota: true,
        cpu_cfs_period: true,
        logging_driver: String::from("berth (in memory, 1 MiB per container)"),
        name: String::from("berth"),
        server_version: String::from(crate::VERSION),
        kernel_version: String::from(crate::LINUX_RELEASE),
        ..api::Info::default()
    };
    conn.json(200, &info).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /system/df` (`docker system df`): images (with the containers using each),
/// containers (with the size of their writable layers), volumes (with their size and
/// users), and the bytes of all layers, each counted once.
pub fn disk_usage(conn: &Conn) -> Handled {
    let containers = crate::container::registry::list();
    let images = crate::container::images::list();
    let mut layers = alloc::collections::BTreeMap::new();
    for image in &images {
        for layer in &image.layers {
            layers.insert(layer.diff_id, layer.tar.len());
        }
    }
    let image_rows = images
        .iter()
        .map(|i| {
            let users = containers.iter().filter(|c| alloc::sync::Arc::ptr_eq(&c.image, &i.image)).count();
            api::ImageSummary { containers: users as i64, ..super::inspect::image_summary(i) }
        })
        .collect();
    let container_rows = containers
        .iter()
        .map(|c| api::ContainerSummary {
            size_rw: Some(c.sandbox.fs.changes_len(&c.image).unwrap_or(0) as i64),
            ..super::inspect::summary(c)
        })
        .collect();
    let volume_rows = crate::container::volumes::list()
        .iter()
        .map(|v| {
            let usage = api::VolumeUsage {
                size: v.fs.archive_len().unwrap_or(0) as i64,
                ref_count: crate::container::volumes::users(&v.name).len() as i64,
            };
            api::Volume { usage_data: Some(usage), ..super::volumes::shown(v) }
        })
        .collect();
    let usage = api::DiskUsage {
        layers_size: layers.values().sum::<u64>() as i64,
        images: image_rows,
        containers: container_rows,
        volumes: volume_rows,
        build_cache: alloc::vec::Vec::new(),
    };
    conn.json(200, &usage).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
