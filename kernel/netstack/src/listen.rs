//! Listening on machine ports: a smoltcp socket in LISTEN state takes one connection,
//! so each listener keeps a few of them per port and, after every poll, moves the ones
//! that got connected to its queue of connections waiting for `accept` and puts fresh
//! ones in their place.

use super::charge;
use super::tcp_socket::{BufSizes, NetTcp};
use super::waker::SocketWaker;
use crate::mm::MemoryCounter;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp::State;

/// Identifies a listener in [`Listeners`].
pub type ListenerId = u64;

/// Who a listener charges its sockets to, and how big they are.
#[derive(Clone)]
pub struct ListenParams {
    /// Machine ports to listen on.
    pub ports: Vec<u16>,
    /// Connections waiting for `accept` at most (and sockets listening per port).
    pub backlog: usize,
    /// Buffer sizes of its connections.
    pub sizes: BufSizes,
    /// The container charged for them (None: a kernel service).
    pub memory: Option<Arc<MemoryCounter>>,
    /// Woken when a connection is ready.
    pub waker: Arc<SocketWaker>,
}

struct ListenState {
    params: ListenParams,
    /// Sockets listening or in their handshake, with the port each listens on.
    pending: Vec<(NetTcp, u16)>,
    /// Connected sockets waiting for `accept`.
    ready: VecDeque<NetTcp>,
}

/// Every listener on the machine's ports.
#[derive(Default)]
pub struct Listeners {
    map: BTreeMap<ListenerId, ListenState>,
    next: ListenerId,
}

impl ListenState {
    fn listening_on(&self, sockets: &mut SocketSet<'static>, port: u16) -> usize {
        self.pending.iter().filter(|(t, p)| *p == port && t.get(sockets).state() == State::Listen).count()
    }

    /// Adds listening sockets until each port has its share; stops quietly when memory
    /// or socket slots run out (new connections are then refused until some close).
    fn replenish(&mut self, sockets: &mut SocketSet<'static>) -> Result<(), Errno> {
        for port in self.params.ports.clone() {
            for _ in self.listening_on(sockets, port)..crate::param::LISTENING_PER_PORT {
                let charge = charge::charge(self.params.memory.as_ref(), self.params.sizes.total())?;
                let tcp = NetTcp::create(sockets, self.params.sizes, charge)?;
                let socket = tcp.get(sockets);
                socket.register_recv_waker(&self.params.waker.waker());
                if socket.listen(port).is_err() {
                    tcp.remove_portless(sockets);
                    return Err(Errno::EINVAL);
                }
                self.pending.push((tcp, port));
            }
        }
        Ok(())
    }
}

impl Listeners {
    /// Starts listening on `params.ports`; fails (listening nowhere) if not even one
    /// socket per port could be made.
    pub fn open(&mut self, sockets: &mut SocketSet<'static>, params: ListenParams) -> Result<ListenerId, Errno> {
        let mut state = ListenState { params, pending: Vec::new(), ready: VecDeque::new() };
        if let Err(e) = state.replenish(sockets) {
            let ports = state.params.ports.clone();
            if ports.iter().any(|&p| state.listening_on(sockets, p) == 0) {
                for (tcp, _) in state.pending {
                    tcp.remove_portless(sockets);
                }
                return Err(e);
            }
        }
        let id = self.next;
        self.next += 1;
        self.map.insert(id, state);
        Ok(id)
    }

    /// After a poll: queues connections that completed their handshake, recycles
    /// sockets whose handshake failed, and tops the listening sockets up.
    pub fn service(&mut self, sockets: &mut SocketSet<'static>) {
        for state in self.map.values_mut() {
            let mut changed = false;
            let mut i = 0;
            while i < state.pending.len() {
                let socket = state.pending[i].0.get(sockets);
                match socket.state() {
                    State::Listen | State::SynReceived => i += 1,
                    State::Closed | State::TimeWait => {
                        // Reset during the handshake: listen again.
                        let port = state.pending[i].1;
                        socket.abort();
                        let _ = socket.listen(port);
                        i += 1;
                    }
                    _ if state.ready.len() < state.params.backlog => {
                        let (tcp, _) = state.pending.swap_remove(i);
                        state.ready.push_back(tcp);
                        changed = true;
                    }
                    _ => i += 1,
                }
            }
            if changed {
                let _ = state.replenish(sockets);
                state.params.waker.queue.wake_all();
            }
        }
    }

    /// Each listener's connections by handshake state, and how many wait for `accept`
    /// (for the console).
    pub fn describe(&self, sockets: &mut SocketSet<'static>) -> Vec<alloc::string::String> {
        self.map
            .values()
            .map(|l| {
                let mut states: BTreeMap<alloc::string::String, usize> = BTreeMap::new();
                for (t, _) in &l.pending {
                    *states.entry(alloc::format!("{}", t.get(sockets).state())).or_default() += 1;
                }
                alloc::format!("ports {:?}: {states:?}, {} waiting for accept", l.params.ports, l.ready.len())
            })
            .collect()
    }

    /// Takes the next connection waiting for `accept`.
    pub fn accept(&mut self, id: ListenerId) -> Option<NetTcp> {
        self.map.get_mut(&id)?.ready.pop_front()
    }

    /// Whether a connection is waiting for `accept`.
    pub fn has_ready(&self, id: ListenerId) -> bool {
        self.map.get(&id).is_some_and(|s| !s.ready.is_empty())
    }

    /// Changes the backlog (a second `listen` call).
    pub fn set_backlog(&mut self, id: ListenerId, backlog: usize) {
        if let Some(s) = self.map.get_mut(&id) {
            s.params.backlog = backlog;
        }
    }

    /// Stops listening: connections not yet accepted are reset, as Linux does.
    pub fn close(&mut self, id: ListenerId, sockets: &mut SocketSet<'static>, orphans: &mut super::orphans::Orphans) {
        let Some(state) = self.map.remove(&id) else { return };
        for (tcp, _) in state.pending {
            orphans.adopt(tcp, sockets, true);
        }
        for tcp in state.ready {
            orphans.adopt(tcp, sockets, true);
        }
    }

    /// How many connection requests each listened-on port can take now: its sockets
    /// in LISTEN state.
    pub fn syn_budget(&self, sockets: &mut SocketSet<'static>) -> BTreeMap<u16, usize> {
        let mut budget = BTreeMap::new();
        for state in self.map.values() {
            for (tcp, port) in &state.pending {
                let free = usize::from(tcp.get(sockets).state() == State::Listen);
                *budget.entry(*port).or_insert(0) += free;
            }
        }
        budget
    }

    /// Sockets held by all listeners (listening, in handshake, or waiting for accept).
    pub fn socket_count(&self) -> usize {
        self.map.values().map(|s| s.pending.len() + s.ready.len()).sum()
    }

    /// Number of listeners.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}
