//! The integration tests, one module per area.

mod agent;
mod boot;
mod clients;
mod containers;
pub mod debian;
mod faults;
pub mod hardening;
mod images;
mod memory;
mod net;
mod networks;
mod orchestration;
mod pull;
pub mod run;
pub mod soak;
mod store;
mod store_paging;
mod timer;

use crate::artifacts::Artifacts;
use crate::qemu::{Vm, VmConfig};
use crate::runner::{Case, Precondition};
use std::time::Duration;

/// Tests that measure time: they run first and alone, since a VM beside them on the
/// host would take CPU time from them (TCG then merges timer interrupts).
pub const ALONE: &[&str] = &["timer-100hz", "timer-250hz"];

/// Tests that run only where the machine has what they need; the runner says why it
/// skips one.
pub const PRECONDITIONS: &[Precondition] = &[
    Precondition { case: "boot-limine", check: boot::limine_present },
    Precondition { case: "agent-compose", check: clients::plugin_present },
    Precondition { case: "agent-testcontainers", check: clients::python_present },
];

/// Every integration test, in the order they are listed.
pub const ALL: &[Case] = &[
    Case {
        name: "fuzz-syscalls",
        about: "random system calls for 45 s in a 64 MiB container: the kernel survives, a neighbour keeps serving",
        run: hardening::fuzz_short,
    },
    Case {
        name: "soak",
        about: "60 s of containers faulting, flooding, forking, running out, beside a web server; memory back",
        run: soak::soak_short,
    },
    Case {
        name: "sched-fork-bomb",
        about: "a fork bomb shares the CPU like any container: a web server beside it stays prompt",
        run: hardening::fork_bomb_fairness,
    },
    Case {
        name: "memory-kernel-charges",
        about: "children, buffers, mappings, logs a container makes the kernel keep are charged to it",
        run: hardening::kernel_charges,
    },
    Case { name: "boot-banner", about: "boots to `ready` with a sane banner and memory map", run: boot::banner },
    Case {
        name: "boot-limine",
        about: "the Limine ISO boots (BIOS, 4 CPUs; UEFI, 2) and serves; runs when LIMINE_DIR is set",
        run: boot::limine,
    },
    Case {
        name: "store-images",
        about: "images imported and tagged through the agent survive a power cut (a virtio disk)",
        run: store::images_survive_a_power_cut,
    },
    Case {
        name: "store-full",
        about: "an import the store has no room for gets 507, a volume fsync ENOSPC; the next boot keeps what fit",
        run: store::a_full_store_refuses_and_keeps_the_rest,
    },
    Case {
        name: "store-networks",
        about: "networks, subnets and containers' addresses and aliases across a power cut",
        run: networks::networks_survive_a_power_cut,
    },
    Case {
        name: "store-containers",
        about: "containers and restart policies (always, on-failure:N, unless-stopped) across a power cut",
        run: store::containers_survive_a_power_cut,
    },
    Case {
        name: "store-volumes",
        about: "volumes: shared, synced, written back, renamed containers, removal, across power cuts",
        run: store::volumes_survive_a_power_cut,
    },
    Case {
        name: "store-paging",
        about: "a volume larger than the machine's memory: written, read back, changed, cut, across a power cut",
        run: store_paging::a_volume_larger_than_memory,
    },
    Case {
        name: "store-layers",
        about: "writable layers: kept by docker start, written on exit and sync, back after a power cut; tmpfs",
        run: store::writable_layers_survive_a_power_cut,
    },
    Case { name: "boot-memory-map", about: "the in-kernel memory map checks pass", run: boot::memory_map },
    Case {
        name: "boot-smp",
        about: "2 and 4 CPUs come up and run threads; two CPU-bound containers use both of 2 CPUs",
        run: boot::smp,
    },
    Case {
        name: "boot-smp-cpuset",
        about: "a container with cpuset=1 sees and uses CPU 1 alone; taskset moves a program",
        run: boot::smp_cpuset,
    },
    Case {
        name: "boot-smp-threads",
        about: "one process's threads run on 2 and 4 CPUs at once: exact futex counting, no stale TLB",
        run: boot::smp_threads,
    },
    Case {
        name: "boot-smp-go",
        about: "a Go program with GOMAXPROCS=4 on 4 CPUs: mutex, channels and GC, results checked",
        run: boot::smp_go,
    },
    Case {
        name: "boot-smp-storm",
        about: "8 containers forking and spinning at once on 4 CPUs all finish, on several CPUs",
        run: boot::smp_storm,
    },
    Case {
        name: "boot-modules",
        about: "initrd bundle modules arrive intact with their command lines",
        run: boot::modules,
    },
    Case { name: "boot-acpi-shutdown", about: "ACPI S5 powers the VM off", run: boot::acpi_shutdown },
    Case {
        name: "memory-frame-pool",
        about: "frame pool exhausted and refilled twice, nothing leaks",
        run: memory::frame_pool,
    },
    Case {
        name: "memory-heap",
        about: "heap filled until allocation fails, freed, twice, nothing leaks",
        run: memory::heap,
    },
    Case {
        name: "sched-kernel-threads",
        about: "200 kernel threads sleep, wake in order, exit and are freed",
        run: memory::kernel_threads,
    },
    Case {
        name: "fault-kernel-page-fault",
        about: "a kernel page fault is reported and stops the VM",
        run: faults::page_fault,
    },
    Case {
        name: "fault-kernel-divide-error",
        about: "a kernel divide error is reported and stops the VM",
        run: faults::divide_error,
    },
    Case { name: "timer-100hz", about: "the tick runs at 100 Hz within 5%", run: timer::at_100hz },
    Case { name: "timer-250hz", about: "the tick runs at the default 250 Hz within 5%", run: timer::at_250hz },
    Case {
        name: "container-busybox-applets",
        about: "busybox applets run unmodified, output checked",
        run: containers::busybox_applets,
    },
    Case {
        name: "container-rust-probe",
        about: "the Rust std probe passes all its checks",
        run: containers::rust_probe,
    },
    Case { name: "container-c-probe", about: "the musl C probe passes all its checks", run: containers::c_probe },
    Case {
        name: "debian-programs",
        about: "Debian's bash, coreutils, python3 and ps run unmodified by glibc's dynamic loader",
        run: debian::programs,
    },
    Case {
        name: "debian-multiprocessing",
        about: "Python multiprocessing pools, 30 in a row, each worker reading whole tasks",
        run: debian::multiprocessing,
    },
    Case {
        name: "debian-nginx",
        about: "Debian's nginx serves through a published port under load, no leak",
        run: debian::nginx,
    },
    Case {
        name: "debian-python-regrtest",
        about: "Python's own regression tests for 24 standard-library modules: each that passes on Linux passes on berth",
        run: debian::python_regrtest,
    },
    Case {
        name: "container-c-probe-dynamic",
        about: "the C probe linked dynamically, run by musl's dynamic loader, passes all its checks",
        run: containers::c_probe_dynamic,
    },
    Case {
        name: "container-faults",
        about: "faulting, looping, forking, OOM containers end right; a bystander is unharmed",
        run: containers::faults_and_isolation,
    },
    Case {
        name: "container-cpu-limit",
        about: "cpus=0.25 gets about a quarter of the CPU",
        run: containers::cpu_limit,
    },
    Case {
        name: "container-isolation",
        about: "copy-on-write files and pid namespaces keep containers apart",
        run: containers::isolation,
    },
    Case {
        name: "container-malformed-elf",
        about: "bad executables are refused with a reason (status 126); a missing interpreter is ENOENT (127)",
        run: containers::malformed_elf,
    },
    Case {
        name: "container-1000-faulting",
        about: "1000 crashing containers in a row, no memory growth",
        run: containers::thousand_faulting,
    },
    Case {
        name: "container-image-sharing",
        about: "100 containers of one image cost little each",
        run: containers::image_sharing,
    },
    Case {
        name: "net-busybox-httpd",
        about: "busybox httpd behind a published port: 1000 requests, 16 clients, no leak",
        run: net::busybox_httpd,
    },
    Case {
        name: "net-rust-server",
        about: "a Rust std HTTP server under the same load, no leak",
        run: net::rust_server,
    },
    Case {
        name: "net-rust-server-smp",
        about: "the Rust server under load on 2 CPUs answers every request whole",
        run: net::rust_server_smp,
    },
    Case {
        name: "net-two-on-port-80",
        about: "two containers on port 80 answer on their own published ports; loopback stays inside",
        run: net::two_on_port_80,
    },
    Case {
        name: "net-errnos-and-outgoing",
        about: "socket errno values as Linux gives them; data both ways with a host server",
        run: net::errnos_and_outgoing,
    },
    Case {
        name: "net-connection-flood",
        about: "a connection flood fills one container's queue only; its neighbour keeps serving",
        run: net::connection_flood,
    },
    Case {
        name: "net-ping",
        about: "two machines on one segment ping each other (ARP, ICMP echo both ways)",
        run: net::ping,
    },
    Case { name: "net-legacy-static", about: "legacy virtio transport with a static address", run: net::legacy_static },
    Case {
        name: "agent-docker-workflow",
        about: "the docker CLI: version, info, import, run, exit codes, -d -p, ps, logs, stop, rm",
        run: agent::docker_workflow,
    },
    Case {
        name: "agent-image-config",
        about: "import --change sets command, env, workdir, user, ports, labels; run overrides; tag, history",
        run: images::image_config,
    },
    Case {
        name: "agent-save-load",
        about: "docker save | docker load keeps image ids; OCI layouts with gzip layers and whiteouts load; bad archives add nothing",
        run: images::save_load,
    },
    Case {
        name: "agent-pull",
        about: "docker pull from a local registry: tags, digests, platform indexes, shared layers, spoiled blobs refused",
        run: pull::pull,
    },
    Case {
        name: "agent-networks",
        about: "docker network: by name, alias and address on one network, cut off from another, connect, rm",
        run: networks::user_defined_networks,
    },
    Case {
        name: "agent-compose",
        about: "Docker Compose v2: up -d, ps, exec, logs, a service found by name, a published port, down",
        run: clients::compose_project,
    },
    Case {
        name: "agent-testcontainers",
        about: "testcontainers-python: a container started, waited for by its log, reached at its port, removed",
        run: clients::testcontainers,
    },
    Case {
        name: "agent-nomad-replay",
        about: "the Engine API calls of Nomad's docker driver through a task's life, replayed (docs/orchestration.md)",
        run: orchestration::nomad_replay,
    },
    Case {
        name: "agent-exec",
        about: "docker exec (output, exit status, -e -w -u -i -t -d, errors), docker top, docker events",
        run: agent::docker_exec,
    },
    Case {
        name: "agent-pause",
        about: "docker pause stops a container's processes unseen until unpause; stop ends a paused one",
        run: agent::docker_pause,
    },
    Case {
        name: "agent-cp-export",
        about: "docker cp in and out (files, directories, a missing path), export, commit, system df",
        run: agent::docker_cp_and_export,
    },
    Case {
        name: "agent-docker-options",
        about: "run -i, create options, start, logs -f, wait, inspect, kill -s, stats, rm -f",
        run: agent::docker_options,
    },
    Case {
        name: "agent-errors",
        about: "agent errors (unknown names, conflicts, bad uploads, tokens) leave a running container alone",
        run: agent::errors,
    },
    Case {
        name: "agent-create-remove-cycles",
        about: "200 create/start/remove cycles through the API, memory back at its baseline",
        run: agent::create_remove_cycles,
    },
    Case {
        name: "agent-connection-abuse",
        about: "idle and half-sent connections cost the agent a bound; new clients still get in",
        run: agent::connection_abuse,
    },
    Case {
        name: "agent-image-memory",
        about: "images count against container memory; imports refused when full, rmi gives back",
        run: agent::image_memory,
    },
    Case {
        name: "agent-docker-terminal",
        about: "docker run -it: an interactive shell on a terminal, ^C, window size, exit status",
        run: agent::docker_terminal,
    },
];

/// Boots the kernel with `cmdline` (usually `test=<name>`), waits for QEMU to exit and
/// returns the exit code and the VM (for its console output).
pub fn boot_and_wait(a: &Artifacts, cmdline: &str, timeout: Duration) -> Result<(i32, Vm), String> {
    let mut config = VmConfig::new(a.kernel.clone());
    config.cmdline = cmdline.to_string();
    let mut vm = Vm::start(&config)?;
    let code = vm.wait_exit(timeout)?;
    Ok((code, vm))
}

/// Runs in-kernel test `test` with `image` as the first boot module.
pub fn ktest_with_image(a: &Artifacts, test: &str, image: &std::path::Path, timeout: Duration) -> Result<Vm, String> {
    let initrd = a.scratch(test).join("initrd.tar");
    let module = berth_image::bundle::BundleModule {
        name: "images/image.tar".into(),
        cmdline: "image".into(),
        file: image.to_path_buf(),
    };
    berth_image::bundle::write(&[module], &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(a.kernel.clone());
    config.initrd = Some(initrd);
    config.cmdline = format!("test={test}");
    let mut vm = Vm::start(&config)?;
    let code = vm.wait_exit(timeout);
    let _ = std::fs::write(a.scratch(test).join("console.log"), vm.output());
    let code = code?;
    let ok = format!("TEST {test}: ok");
    if code != crate::qemu::EXIT_SUCCESS || !vm.output().contains(&ok) {
        return Err(vm.failure(&format!("expected `{ok}` and exit status {}, got {code}", crate::qemu::EXIT_SUCCESS)));
    }
    Ok(vm)
}

/// Runs an in-kernel test: expects its `TEST <name>: ok` line and a success exit.
pub fn ktest(a: &Artifacts, cmdline: &str, timeout: Duration) -> Result<Vm, String> {
    ktest_on(a, cmdline, crate::qemu::default_cpus(), timeout)
}

/// [`ktest`] on a VM of `cpus` CPUs (the run's default for [`ktest`]).
pub fn ktest_on(a: &Artifacts, cmdline: &str, cpus: u32, timeout: Duration) -> Result<Vm, String> {
    let name = cmdline.split_whitespace().find_map(|w| w.strip_prefix("test=")).unwrap_or(cmdline);
    let mut config = VmConfig::new(a.kernel.clone());
    config.cmdline = cmdline.to_string();
    config.cpus = cpus;
    let mut vm = Vm::start(&config)?;
    let code = vm.wait_exit(timeout)?;
    let ok = format!("TEST {name}: ok");
    if code != crate::qemu::EXIT_SUCCESS || !vm.output().contains(&ok) {
        return Err(vm.failure(&format!("expected `{ok}` and exit status {}, got {code}", crate::qemu::EXIT_SUCCESS)));
    }
    Ok(vm)
}
