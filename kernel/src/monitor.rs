//! The operator's console: commands typed on the serial console, answered in the log.
//!
//! `help`, `stats` (memory, sockets, containers: what leak checks compare), `ps`
//! (containers), `ps NAME` (a container's threads and the call each is in), `ping ADDRESS` (one ICMP echo), `orphans` (closing connections by
//! state), `profile start|stop` (where the kernel spends its time) and `halt` (power
//! off). Input arrives by interrupt (COM1, ISA IRQ 4)
//! into a small buffer; the `console` thread reads lines from it.

use crate::irq;
use crate::proc::UserPart;
use crate::sched::{self, WaitQueue};
use alloc::collections::VecDeque;
use alloc::string::String;
use berth_hal::sync::IrqLock;

/// Bytes of typed input kept before a line is complete (more is dropped).
const INPUT_LIMIT: usize = 512;

static INPUT: IrqLock<VecDeque<u8>> = IrqLock::new(VecDeque::new());
static TYPED: WaitQueue = WaitQueue::new();

/// Starts taking commands from the serial console.
pub fn init() {
    if let Err(e) = irq::route(4, irq::Bus::Isa, on_interrupt) {
        log::warn!("no console commands: {e}");
        return;
    }
    berth_hal::serial::enable_receive_interrupt();
    if let Err(e) = sched::spawn_kernel("console", console_thread, 0) {
        log::warn!("no console commands: {e}");
    }
}

fn on_interrupt() {
    let mut input = INPUT.lock();
    while let Some(byte) = berth_hal::serial::try_read() {
        if input.len() < INPUT_LIMIT {
            input.push_back(byte);
        }
    }
    drop(input);
    TYPED.wake_all();
}

/// Takes one line (without its end) from the input, if a whole one is there.
fn take_line() -> Option<String> {
    let mut input = INPUT.lock();
    let end = input.iter().position(|&b| b == b'\r' || b == b'\n')?;
    let line: alloc::vec::Vec<u8> = input.drain(..=end).take(end).collect();
    Some(String::from_utf8_lossy(&line).into_owned())
}

fn console_thread(_: usize) -> ! {
    loop {
        let Ok(line) = TYPED.wait_until(take_line, None, None) else { continue };
        run(line.trim());
    }
}

fn run(command: &str) {
    match command {
        "" => {}
        "help" => log::info!(
            "commands: stats, ps [CONTAINER], sched, listeners, sockets, ping ADDRESS, orphans, profile start|stop, halt"
        ),
        "profile start" => crate::profile::start(),
        "profile stop" => crate::profile::stop(),
        "stats" => log::info!("{}", stats_line()),
        "ps" => {
            for c in crate::container::registry::list() {
                log::info!(
                    "{} {} {:?} tasks={} memory={} cpu_ms={}",
                    &c.id[..12],
                    c.name(),
                    c.status(),
                    c.sandbox.task_count(),
                    c.sandbox.memory.used(),
                    c.sandbox.cpu_ns() / 1_000_000
                );
            }
        }
        "sched" => {
            for line in crate::sched::describe() {
                log::info!("{line}");
            }
        }
        "sockets" => {
            for line in crate::net::tcp_sockets() {
                log::info!("{line}");
            }
        }
        "listeners" => {
            for line in crate::net::listener_states() {
                log::info!("{line}");
            }
        }
        "halt" => crate::power::shutdown(),
        "orphans" => log::info!("closing connections by state: {:?}", crate::net::orphan_states()),
        other => {
            if let Some(address) = other.strip_prefix("ping ") {
                log::info!("{}", crate::net::ping_command(address));
            } else if let Some(name) = other.strip_prefix("ps ") {
                threads(name.trim());
            } else {
                log::info!("unknown command `{other}` (try help)");
            }
        }
    }
}

/// `ps NAME`: each thread of the container, its state and the system call it is in.
fn threads(name: &str) {
    let Some(c) = crate::container::registry::list().into_iter().find(|c| c.name() == name) else {
        log::info!("no container named {name}");
        return;
    };
    for p in c.sandbox.processes() {
        let epolls: alloc::vec::Vec<(i32, alloc::vec::Vec<alloc::string::String>)> = {
            let table = p.fd_table();
            let table = table.lock();
            table.iter().filter_map(|(fd, f)| Some((fd.number(), f.ops.as_epoll()?.describe_interests()))).collect()
        };
        for (fd, lines) in epolls {
            for line in lines {
                log::info!("pid {} epoll fd {fd}: {line}", p.pid);
            }
        }
        for t in p.threads() {
            let Some(user) = t.user() else { continue };
            let nr = user.syscall_nr.load(core::sync::atomic::Ordering::Relaxed);
            let call = if nr == u64::MAX { "-" } else { berth_abi::syscalls::name(nr as usize).unwrap_or("?") };
            log::info!(
                "pid {} tid {} ppid {} {:?}{} in {call} ({}) cpu {} ms",
                p.pid,
                user.tid,
                p.ppid(),
                t.state(),
                if t.on_cpu() { " on a CPU" } else { "" },
                if nr == u64::MAX { -1 } else { nr as i64 },
                t.cpu_ns() / 1_000_000
            );
        }
    }
}

/// `stats: key=value ...`: the numbers leak checks compare before and after a load.
pub fn stats_line() -> String {
    let mem = crate::mm::usage();
    let net = crate::net::stats();
    alloc::format!(
        "stats: frames_used={} frames_cached={} heap_bytes={} heap_claimed={} container_bytes={} container_limit={} page_cache_pages={} processes={} threads={} sockets={} listeners={} listener_sockets={} orphans={} tcp_ports={} udp_ports={} containers={} rx_packets={} tx_packets={} syns_dropped={} tx_dropped={}",
        mem.frames_used,
        mem.frames_cached,
        mem.heap_bytes,
        berth_hal::heap_stats().claimed,
        crate::mm::container_memory().0,
        crate::mm::container_memory().1,
        crate::mm::page_cache::stats().1,
        crate::proc::live_counts().0,
        crate::proc::live_counts().1,
        net.sockets,
        net.listeners,
        net.listener_sockets,
        net.orphans,
        net.tcp_ports,
        net.udp_ports,
        crate::container::registry::list().len(),
        net.rx_packets,
        net.tx_packets,
        net.syns_dropped,
        net.tx_dropped,
    )
}
