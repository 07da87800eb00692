//! The network modes: a TCP echo server, a tiny HTTP/1.0 server and a sink that counts
//! what it is sent (one thread per connection), and a listener that never accepts.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;

/// The body `http-server` answers `GET /` with.
pub const BODY: &str = "hello from rust-probe\n";

/// The most request-header bytes `http-server` reads before giving up on a request.
const MAX_REQUEST: usize = 8192;

/// Echoes every byte each client sends back to it until the client closes. Runs forever.
pub fn echo(port: u16) -> io::Result<()> {
    serve("echo-server", port, |mut stream| {
        let mut reader = stream.try_clone()?;
        io::copy(&mut reader, &mut stream)?;
        finish(&stream);
        Ok(())
    })
}

/// Answers `GET /` with [`BODY`] (other paths 404, other methods 501), then closes. Runs forever.
pub fn http(port: u16) -> io::Result<()> {
    serve("http-server", port, |mut stream| {
        let request = read_request(&mut stream)?;
        stream.write_all(&respond(&request))?;
        finish(&stream);
        Ok(())
    })
}

/// Reads everything each client sends until it half-closes, then answers with the byte
/// count as a decimal line and closes (for throughput measurements). Runs forever.
pub fn sink(port: u16) -> io::Result<()> {
    serve("sink-server", port, |mut stream| {
        let mut buf = vec![0; 256 * 1024];
        let mut total: u64 = 0;
        loop {
            match stream.read(&mut buf)? {
                0 => break,
                n => total += n as u64,
            }
        }
        stream.write_all(format!("{total}\n").as_bytes())?;
        finish(&stream);
        Ok(())
    })
}

/// Listens on `0.0.0.0:port` and never accepts: connections fill the backlog (for tests
/// of a connection flood). Runs forever.
pub fn listen_only(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    println!("rust-probe: listen-only on {}", listener.local_addr()?);
    loop {
        thread::park();
    }
}

/// Accepts connections on `0.0.0.0:port` forever, handling each on its own thread.
fn serve(mode: &'static str, port: u16, handle: fn(TcpStream) -> io::Result<()>) -> io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    println!("rust-probe: {mode} listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(move || {
                    if let Err(error) = handle(stream) {
                        eprintln!("rust-probe: {mode}: connection: {error}");
                    }
                });
            }
            Err(error) => eprintln!("rust-probe: {mode}: accept: {error}"),
        }
    }
    Ok(())
}

/// Sends FIN to the client; a client that has already gone away (`ENOTCONN`) is no error.
fn finish(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
}

/// Reads a request up to the blank line ending its headers (or EOF, or [`MAX_REQUEST`] bytes).
fn read_request(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut request = Vec::new();
    let mut buf = [0; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && !request.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 || request.len() >= MAX_REQUEST {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    Ok(request)
}

/// The complete HTTP/1.0 response to `request`.
fn respond(request: &[u8]) -> Vec<u8> {
    let line = request.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut words = line.split(|&b| b == b' ' || b == b'\r').filter(|word| !word.is_empty());
    let (status, body) = match (words.next(), words.next()) {
        (Some(b"GET"), Some(b"/")) => ("200 OK", BODY),
        (Some(b"GET"), Some(_)) => ("404 Not Found", "not found\n"),
        (Some(_), Some(_)) => ("501 Not Implemented", "not implemented\n"),
        _ => ("400 Bad Request", "bad request\n"),
    };
    format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The exit status for a server that stopped: it only stops when it cannot listen.
pub fn exit_code(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rust-probe: cannot serve: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BODY, respond};

    #[test]
    fn get_root_gets_the_body() {
        let response = String::from_utf8(respond(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")).unwrap();
        assert!(response.starts_with("HTTP/1.0 200 OK\r\n"));
        assert!(response.contains(&format!("Content-Length: {}\r\n", BODY.len())));
        assert!(response.ends_with(&format!("\r\n\r\n{BODY}")));
    }

    #[test]
    fn other_requests_are_refused() {
        assert!(respond(b"GET /x HTTP/1.0\r\n\r\n").starts_with(b"HTTP/1.0 404 "));
        assert!(respond(b"POST / HTTP/1.0\r\n\r\n").starts_with(b"HTTP/1.0 501 "));
        assert!(respond(b"").starts_with(b"HTTP/1.0 400 "));
    }
}
