//! The host side of `net-probe`: a TCP server on 127.0.0.1 that the probe's checks talk to.
//!
//! [`NetServer::start`] listens on `127.0.0.1:0` (the *control port*, [`NetServer::port`])
//! and serves each connection on its own thread until the server is dropped. It also holds
//! a socket bound to another port without listening ([`NetServer::closed_port`]), so
//! connections there are refused (RST) for as long as the server lives and no other
//! program can take the port. Inside a berth VM on QEMU user networking, the probe reaches
//! both as `10.0.2.2:PORT` ([`crate::netprobe::GUEST_HOST`]).
//!
//! # Protocol
//!
//! The client opens a connection to the control port and sends one command line (ASCII,
//! ending in `\n`, at most 64 bytes). What follows depends on the command:
//!
//! | command | what the server does |
//! |---|---|
//! | `echo` | sends back every byte it receives until the client's EOF, then shuts its side (FIN) and closes |
//! | `sink` | reads until the client's EOF, then sends the byte count as `N\n` and closes |
//! | `reset MS` | waits `MS` milliseconds (at most 10 000), then closes with `SO_LINGER {1, 0}`, which sends RST |
//! | `halfclose` | sends `id N\n` and shuts its side (FIN) at once, then reads until the client's EOF and keeps those bytes under `N` |
//! | `report N` | waits up to 10 s for `halfclose` connection `N` to reach EOF, sends back the bytes it received, and closes |
//!
//! An unknown or malformed command is answered with `error <reason>\n` and the connection
//! is closed; a connection that closes before a whole command line is dropped silently.
//! Reads and writes on accepted connections time out after 30 s, so a stuck client cannot
//! keep a thread forever.

use socket2::{Domain, Socket, Type};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest command line the server reads, newline included.
const MAX_COMMAND: usize = 64;
/// How long a connection may sit idle in a read or write before the server drops it.
const IDLE: Duration = Duration::from_secs(30);
/// How long `report N` waits for connection N to reach EOF.
const REPORT_WAIT: Duration = Duration::from_secs(10);
/// The longest delay `reset MS` accepts, in milliseconds.
const MAX_RESET_DELAY_MS: u64 = 10_000;

/// The test server; it stops accepting when dropped.
pub struct NetServer {
    addr: SocketAddr,
    closed: Socket,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the connection threads share: the bytes each `halfclose` connection received.
#[derive(Default)]
struct HalfCloses {
    next_id: AtomicU64,
    received: Mutex<HashMap<u64, Vec<u8>>>,
    arrived: Condvar,
}

impl NetServer {
    /// Starts listening on 127.0.0.1 (a free port) and reserves a closed port.
    pub fn start() -> Result<NetServer, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("net server: bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let closed = Socket::new(Domain::IPV4, Type::STREAM, None).map_err(|e| e.to_string())?;
        closed
            .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .map_err(|e| format!("net server: reserving a closed port: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let stop = stop.clone();
            thread::spawn(move || accept_loop(&listener, &stop))
        };
        Ok(NetServer { addr, closed, stop, acceptor: Some(acceptor) })
    }

    /// The control port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A port on 127.0.0.1 where nothing listens: connecting there is refused.
    pub fn closed_port(&self) -> u16 {
        self.closed.local_addr().ok().and_then(|a| a.as_socket()).map_or(0, |a| a.port())
    }
}

impl Drop for NetServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Accepts connections until `stop` is set, serving each on its own thread.
fn accept_loop(listener: &TcpListener, stop: &AtomicBool) {
    let shared = Arc::new(HalfCloses::default());
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        thread::spawn(move || {
            // A client that misbehaves or vanishes only ends its own connection.
            let _ = serve(stream, &shared);
        });
    }
}

/// Reads one command line and carries it out.
fn serve(mut stream: TcpStream, shared: &HalfCloses) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    stream.set_write_timeout(Some(IDLE))?;
    let Some(line) = read_command(&mut stream)? else { return Ok(()) };
    let mut words = line.split_whitespace();
    let (verb, arg) = (words.next().unwrap_or(""), words.next());
    match (verb, arg.map(str::parse::<u64>)) {
        ("echo", None) => echo(stream),
        ("sink", None) => sink(stream),
        ("reset", Some(Ok(ms))) if ms <= MAX_RESET_DELAY_MS => reset(stream, Duration::from_millis(ms)),
        ("halfclose", None) => half_close(stream, shared),
        ("report", Some(Ok(id))) => report(stream, shared, id),
        _ => stream.write_all(format!("error unknown command {line:?}\n").as_bytes()),
    }
}

/// Reads up to and including `\n`, one byte at a time so nothing after it is consumed.
/// `None` if the client closed first.
fn read_command(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut byte = [0];
    while line.len() < MAX_COMMAND {
        if stream.read(&mut byte)? == 0 {
            return Ok(None);
        }
        if byte[0] == b'\n' {
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
        line.push(byte[0]);
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// `echo`: everything back until EOF, then FIN.
fn echo(stream: TcpStream) -> io::Result<()> {
    io::copy(&mut &stream, &mut &stream)?;
    stream.shutdown(Shutdown::Write)
}

/// `sink`: count until EOF, then send the count.
fn sink(stream: TcpStream) -> io::Result<()> {
    let count = io::copy(&mut &stream, &mut io::sink())?;
    (&stream).write_all(format!("{count}\n").as_bytes())?;
    stream.shutdown(Shutdown::Write)
}

/// `reset MS`: wait, then abort the connection with RST (`SO_LINGER {1, 0}` and close).
fn reset(stream: TcpStream, delay: Duration) -> io::Result<()> {
    thread::sleep(delay);
    let socket = Socket::from(stream);
    socket.set_linger(Some(Duration::ZERO))?;
    drop(socket);
    Ok(())
}

/// `halfclose`: send the id and FIN, then keep what the client sends until its EOF.
fn half_close(mut stream: TcpStream, shared: &HalfCloses) -> io::Result<()> {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    stream.write_all(format!("id {id}\n").as_bytes())?;
    stream.shutdown(Shutdown::Write)?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    shared.received.lock().unwrap_or_else(|e| e.into_inner()).insert(id, received);
    shared.arrived.notify_all();
    Ok(())
}

/// `report N`: send what `halfclose` connection N received, once it has it all.
fn report(mut stream: TcpStream, shared: &HalfCloses, id: u64) -> io::Result<()> {
    let deadline = Instant::now() + REPORT_WAIT;
    let mut received = shared.received.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(bytes) = received.remove(&id) {
            drop(received);
            stream.write_all(&bytes)?;
            return stream.shutdown(Shutdown::Write);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            drop(received);
            return stream.write_all(format!("error connection {id} did not reach EOF\n").as_bytes());
        }
        received = shared.arrived.wait_timeout(received, left).unwrap_or_else(|e| e.into_inner()).0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(server: &NetServer, line: &str) -> TcpStream {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("{line}\n").as_bytes()).unwrap();
        s
    }

    fn rest(mut s: TcpStream) -> String {
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn echo_and_sink() {
        let server = NetServer::start().unwrap();
        let mut s = command(&server, "echo");
        s.write_all(b"hello").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(rest(s), "hello");
        let mut s = command(&server, "sink");
        s.write_all(&[7; 1000]).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(rest(s), "1000\n");
    }

    #[test]
    fn half_close_then_report() {
        let server = NetServer::start().unwrap();
        let mut s = command(&server, "halfclose");
        let mut line = [0; 5];
        s.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"id 0\n");
        assert_eq!(s.read(&mut line).unwrap(), 0);
        s.write_all(b"after").unwrap();
        drop(s);
        assert_eq!(rest(command(&server, "report 0")), "after");
    }

    #[test]
    fn reset_and_refusal() {
        let server = NetServer::start().unwrap();
        let mut s = command(&server, "reset 0");
        let error = s.read(&mut [0; 4]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        let refused = TcpStream::connect((Ipv4Addr::LOCALHOST, server.closed_port())).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        assert!(rest(command(&server, "bogus")).starts_with("error "));
    }
}
