//! The machine's one TCP/IP stack: the smoltcp interface on the virtio network device,
//! its sockets, the address configuration, and the thread that services the device.
//!
//! All smoltcp state lives in [`Stack`] behind one lock. System calls take it, act on
//! their sockets and poll the interface at once (so what they queued goes out without
//! waiting); the `net` kernel thread polls when the device interrupts and when smoltcp's
//! next timer (a retransmission, a delayed ACK, DHCP) is due. The interrupt handler
//! itself only masks the line and wakes that thread.

use super::listen::Listeners;
use super::nic::Nic;
use super::orphans::Orphans;
use super::pci::{self, VirtioPci};
use crate::irq;
use crate::sched::{self, Thread, WaitQueue};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use berth_hal::virtio::NetDevice;
use berth_net::{Ipv4Cidr, NetConfig, PortSet, Protocol};
use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Cidr as SmolCidr};

/// The machine's address, router and DNS server, however they were configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addressing {
    /// Address and network.
    pub address: Ipv4Cidr,
    /// Default router.
    pub gateway: Option<Ipv4Addr>,
    /// DNS server for containers.
    pub dns: Option<Ipv4Addr>,
}

/// The TCP/IP stack.
pub struct Stack {
    /// smoltcp's interface.
    pub iface: Interface,
    /// The device.
    pub nic: Nic,
    /// Every smoltcp socket.
    pub sockets: SocketSet<'static>,
    /// The DHCP client, when the address comes from DHCP.
    dhcp: Option<SocketHandle>,
    /// The current configuration (None until DHCP answers).
    pub addressing: Option<Addressing>,
    /// Machine TCP ports in use: published ports, listeners of the kernel's own
    /// services, and the ephemeral ports of outgoing connections.
    pub ports: PortSet,
    /// Machine UDP ports in use, likewise.
    pub udp_ports: PortSet,
    /// Listening sockets and their queues of new connections.
    pub listeners: Listeners,
    /// Closed connections still saying goodbye.
    pub orphans: Orphans,
}

static STACK: spin::Mutex<Option<Box<Stack>>> = spin::Mutex::new(None);
/// Set by the interrupt handler, cleared by the `net` thread.
static IRQ_PENDING: AtomicBool = AtomicBool::new(false);
/// The `net` thread, which the interrupt handler wakes.
static NET_THREAD: spin::Once<Arc<Thread>> = spin::Once::new();
/// The device's interrupt line.
static LINE: spin::Once<irq::Line> = spin::Once::new();
/// Woken when the address configuration changes.
pub static CONFIGURED: WaitQueue = WaitQueue::new();
/// Woken to make the `net` thread recompute when to poll next.
static POKE: WaitQueue = WaitQueue::new();
/// When the `net` thread will poll next on its own (ns; `u64::MAX`: only on interrupt).
static NET_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);

/// smoltcp's clock: the kernel's monotonic clock.
pub fn now() -> Instant {
    Instant::from_micros((crate::time::now_ns() / 1000) as i64)
}

/// Runs `f` on the stack; None when the machine has no network.
pub fn with<R>(f: impl FnOnce(&mut Stack) -> R) -> Option<R> {
    STACK.lock().as_mut().map(|s| f(s))
}

/// Whether the machine has a network device.
pub fn present() -> bool {
    STACK.lock().is_some()
}

/// Why the network could not be brought up.
#[derive(Debug)]
pub enum NetInitError {
    /// The machine has no virtio network device.
    NoDevice,
    /// The device's PCI transport could not be opened.
    Transport(pci::TransportError),
    /// The virtio-net driver refused the device.
    Device(virtio_drivers::Error),
    /// Its interrupt could not be routed.
    Interrupt(irq::IrqError),
    /// The `net` thread could not be started (why).
    Thread(&'static str),
    /// The configuration says no network.
    Disabled,
}

impl core::fmt::Display for NetInitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetInitError::NoDevice => f.write_str("no virtio network device"),
            NetInitError::Transport(why) => write!(f, "virtio-net transport: {why}"),
            NetInitError::Device(why) => write!(f, "virtio-net: {why}"),
            NetInitError::Interrupt(why) => write!(f, "interrupt: {why}"),
            NetInitError::Thread(why) => write!(f, "the net thread: {why}"),
            NetInitError::Disabled => f.write_str("disabled"),
        }
    }
}

/// Brings up the network device and the stack as `config` says, and starts the `net`
/// thread. Returns a line for the log.
pub fn init(config: NetConfig, legacy: bool) -> Result<String, NetInitError> {
    let found = pci::find_net_device(legacy).ok_or(NetInitError::NoDevice)?.map_err(NetInitError::Transport)?;
    let kind = found.transport.kind();
    let at = found.location;
    let dev: NetDevice<VirtioPci> = NetDevice::new(found.transport).map_err(NetInitError::Device)?;
    let mac = dev.mac();
    let mut nic = Nic::new(dev);
    let mut seed = [0u8; 8];
    crate::random::fill(&mut seed);
    let mut iface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
    iface_config.random_seed = u64::from_le_bytes(seed);
    let iface = Interface::new(iface_config, &mut nic, now());
    let mut stack = Box::new(Stack {
        iface,
        nic,
        sockets: SocketSet::new(vec![]),
        dhcp: None,
        addressing: None,
        ports: PortSet::default(),
        udp_ports: PortSet::default(),
        listeners: Listeners::default(),
        orphans: Orphans::default(),
    });
    match config {
        NetConfig::Off => return Err(NetInitError::Disabled),
        NetConfig::Dhcp => stack.dhcp = Some(stack.sockets.add(dhcpv4::Socket::new())),
        NetConfig::Static(s) => {
            stack.configure(Some(Addressing { address: s.address, gateway: s.gateway, dns: s.dns }))
        }
    }
    *STACK.lock() = Some(stack);
    let line = irq::route(found.irq_line, irq::Bus::Pci, on_interrupt).map_err(NetInitError::Interrupt)?;
    LINE.call_once(|| line);
    let thread = sched::spawn_kernel("net", net_thread, 0).map_err(NetInitError::Thread)?;
    NET_THREAD.call_once(|| thread);
    let mac = EthernetAddress(mac);
    Ok(format!(
        "virtio-net ({kind}) at {:02x}:{:02x}.{} MAC {mac}, IRQ {} (vector {:#x})",
        at.bus,
        at.device,
        at.function,
        found.irq_line,
        line.vector()
    ))
}

/// The device interrupted: wake the `net` thread (the line stays masked until it has
/// acknowledged the device).
fn on_interrupt() {
    IRQ_PENDING.store(true, Ordering::Relaxed);
    if let Some(t) = NET_THREAD.get() {
        sched::make_ready_urgent(t.clone());
    }
}

/// The `net` thread: services the device after interrupts and runs smoltcp's timers.
fn net_thread(_: usize) -> ! {
    loop {
        let seen = POKE.generation();
        // The deadline is published under the stack's lock: a poll from a system call
        // on another CPU either comes before (and this one sees its timers) or after
        // (and compares its timers with this deadline, poking if they are earlier).
        let deadline = with(|s| {
            s.service_device();
            s.poll();
            let next = s.iface.poll_at(now(), &s.sockets);
            let deadline = next.map(|at| (at.total_micros().max(0) as u64).saturating_mul(1000));
            NET_DEADLINE.store(deadline.unwrap_or(u64::MAX), Ordering::Relaxed);
            deadline
        })
        .flatten();
        let _ = POKE.wait_until(
            || (IRQ_PENDING.swap(false, Ordering::Relaxed) || POKE.generation() != seen).then_some(()),
            deadline,
            None,
        );
    }
}

/// Asks the `net` thread to reconsider its next deadline (after a socket started a
/// timer, e.g. a connection attempt).
pub fn poke() {
    POKE.wake_all();
}

/// Waits up to `timeout_ns` for an address; returns it if one came.
pub fn wait_configured(timeout_ns: u64) -> Option<Addressing> {
    if !present() {
        return None;
    }
    let deadline = crate::time::now_ns() + timeout_ns;
    CONFIGURED.wait_until(|| with(|s| s.addressing).flatten(), Some(deadline), None).ok()
}

impl Stack {
    /// Acknowledges the device's interrupt and unmasks its line.
    fn service_device(&mut self) {
        self.nic.dev.ack_interrupt();
        if let Some(line) = LINE.get() {
            line.unmask();
        }
    }

    /// Runs smoltcp until it has nothing more to do now, then the bookkeeping that
    /// follows: DHCP events, new connections for listeners, finished orphans.
    pub fn poll(&mut self) {
        for _ in 0..64 {
            let result = self.iface.poll(now(), &mut self.nic, &mut self.sockets);
            self.poll_dhcp();
            self.listeners.service(&mut self.sockets);
            let budget = self.listeners.syn_budget(&mut self.sockets);
            self.nic.set_syn_budget(budget);
            if result == PollResult::None && !self.nic.dev.can_receive() {
                break;
            }
        }
        self.orphans.reap(&mut self.sockets, &mut self.ports);
        // A poll from a system call may have started a timer (a retransmission) that is
        // due before the `net` thread would wake: have it wake in time.
        if let Some(at) = self.iface.poll_at(now(), &self.sockets) {
            let at_ns = (at.total_micros().max(0) as u64).saturating_mul(1000);
            if at_ns < NET_DEADLINE.load(Ordering::Relaxed) {
                NET_DEADLINE.store(at_ns, Ordering::Relaxed);
                poke();
            }
        }
    }

    fn poll_dhcp(&mut self) {
        let Some(handle) = self.dhcp else { return };
        let event = match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            None => return,
            Some(dhcpv4::Event::Configured(c)) => Some(Addressing {
                address: Ipv4Cidr { addr: c.address.address(), prefix: c.address.prefix_len() },
                gateway: c.router,
                dns: c.dns_servers.first().copied(),
            }),
            // The client reports "deconfigured" when it starts over; only a lease
            // that was held is lost.
            Some(dhcpv4::Event::Deconfigured) if self.addressing.is_none() => return,
            Some(dhcpv4::Event::Deconfigured) => None,
        };
        self.configure(event);
    }

    /// Sets (or clears) the interface's address and default route.
    fn configure(&mut self, addressing: Option<Addressing>) {
        match addressing {
            Some(a) => {
                let cidr = SmolCidr::new(a.address.addr, a.address.prefix);
                self.iface.update_ip_addrs(|addrs| {
                    addrs.clear();
                    let _ = addrs.push(IpCidr::Ipv4(cidr));
                });
                match a.gateway {
                    Some(g) => {
                        let _ = self.iface.routes_mut().add_default_ipv4_route(g);
                    }
                    None => self.iface.routes_mut().remove_default_ipv4_route().map_or((), |_| ()),
                }
                log::info!(
                    "address {}{}{}",
                    a.address,
                    a.gateway.map(|g| format!(", gateway {g}")).unwrap_or_default(),
                    a.dns.map(|d| format!(", DNS {d}")).unwrap_or_default()
                );
            }
            None => {
                self.iface.update_ip_addrs(|addrs| addrs.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
                log::warn!("address lost");
            }
        }
        self.addressing = addressing;
        CONFIGURED.wake_all();
    }

    /// The machine ports of `protocol`.
    pub fn machine_ports(&mut self, protocol: Protocol) -> &mut PortSet {
        match protocol {
            Protocol::Tcp => &mut self.ports,
            Protocol::Udp => &mut self.udp_ports,
        }
    }

    /// The machine's address, if it has one.
    pub fn address(&self) -> Option<Ipv4Addr> {
        self.addressing.map(|a| a.address.addr)
    }
}
