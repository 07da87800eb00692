//! Tests of the HTTP framing, with request heads as the docker CLI 28 sends them.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use alloc::{format, string};

use super::*;

const PING: &[u8] =
    b"HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n";

const IMPORT: &[u8] = b"POST /v1.50/images/create?fromSrc=-&repo=img%3Atag HTTP/1.1\r\n\
Host: api.moby.localhost\r\n\
User-Agent: Docker-Client/28.2.2 (linux)\r\n\
Transfer-Encoding: chunked\r\n\
Content-Type: text/plain\r\n\
\r\n";

const ATTACH: &[u8] = b"POST /v1.50/containers/4e1c7b3b2a5f/attach?stderr=1&stdout=1&stream=1 HTTP/1.1\r\n\
Host: api.moby.localhost\r\n\
User-Agent: Docker-Client/28.2.2 (linux)\r\n\
Content-Length: 0\r\n\
Connection: Upgrade\r\n\
Content-Type: text/plain\r\n\
Upgrade: tcp\r\n\
\r\n";

fn head(bytes: &[u8]) -> RequestHead {
    let (head, used) = parse_head(bytes).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    head
}

fn request(lines: &[&str]) -> RequestHead {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n\r\n");
    head(text.as_bytes())
}

#[test]
fn ping() {
    let h = head(PING);
    assert_eq!(h.method, "HEAD");
    assert_eq!(h.path, "/_ping");
    assert!(h.query.is_empty());
    assert_eq!(h.minor_version, 1);
    assert_eq!(h.header("user-agent"), Some("Docker-Client/28.2.2 (linux)"));
    assert_eq!(h.header("USER-AGENT"), Some("Docker-Client/28.2.2 (linux)"));
    assert_eq!(h.headers[0], ("host".to_string(), "api.moby.localhost".to_string()));
    assert_eq!(h.body(), Ok(Body::None));
    assert!(h.keep_alive());
    assert!(!h.upgrade());
}

#[test]
fn import_with_chunked_body() {
    let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let mut bytes = IMPORT.to_vec();
    bytes.extend_from_slice(body);
    let (h, used) = parse_head(&bytes).unwrap().unwrap();
    assert_eq!(used, IMPORT.len());
    assert_eq!(h.path, "/v1.50/images/create");
    assert_eq!(h.query("fromSrc"), Some("-"));
    assert_eq!(h.query("repo"), Some("img:tag"));
    assert_eq!(h.query("fromImage"), None);
    assert_eq!(h.body(), Ok(Body::Chunked));
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(d.decode(&bytes[used..], &mut out), Ok(body.len()));
    assert!(d.is_done());
    assert_eq!(out, b"hello world");
}

#[test]
fn attach_upgrade() {
    let h = head(ATTACH);
    assert!(h.upgrade());
    assert_eq!(h.header("upgrade"), Some("tcp"));
    assert_eq!(h.body(), Ok(Body::Length(0)));
    assert!(h.query_flag("stream") && h.query_flag("stdout") && h.query_flag("stderr"));
    assert!(!h.query_flag("stdin"));
    // Connection: Upgrade without an Upgrade header is not an upgrade.
    assert!(!request(&["POST /x HTTP/1.1", "Connection: Upgrade"]).upgrade());
    assert!(request(&["POST /x HTTP/1.1", "Connection: keep-alive, upgrade", "Upgrade: tcp"]).upgrade());
}

#[test]
fn create_with_length() {
    let json = br#"{"Image":"img"}"#;
    let mut bytes = format!(
        "POST /v1.50/containers/create?name=web HTTP/1.1\r\nHost: api.moby.localhost\r\n\
         Content-Length: {}\r\nContent-Type: application/json\r\n\r\n",
        json.len()
    )
    .into_bytes();
    let head_len = bytes.len();
    bytes.extend_from_slice(json);
    let (h, used) = parse_head(&bytes).unwrap().unwrap();
    assert_eq!(used, head_len);
    assert_eq!(h.query("name"), Some("web"));
    assert_eq!(h.body(), Ok(Body::Length(json.len() as u64)));
    assert_eq!(&bytes[used..], json);
}

#[test]
fn every_prefix_is_incomplete() {
    for whole in [PING, IMPORT, ATTACH] {
        for n in 0..whole.len() {
            assert_eq!(parse_head(&whole[..n]), Ok(None), "prefix of {n} bytes");
        }
    }
}

#[test]
fn pipelined_requests() {
    let mut bytes = PING.to_vec();
    bytes.extend_from_slice(b"GET /version HTTP/1.1\r\n\r\n");
    let (first, used) = parse_head(&bytes).unwrap().unwrap();
    assert_eq!(first.path, "/_ping");
    let (second, rest) = parse_head(&bytes[used..]).unwrap().unwrap();
    assert_eq!(second.path, "/version");
    assert_eq!(used + rest, bytes.len());
}

#[test]
fn leading_empty_lines_are_skipped() {
    let h = head(b"\r\nGET /info HTTP/1.1\r\n\r\n");
    assert_eq!(h.path, "/info");
}

#[test]
fn target_forms_and_decoding() {
    let h = request(&["GET /images/library%2Fbusybox%3Alatest/json?a=1+2&b=%2B&flag&&c= HTTP/1.1"]);
    assert_eq!(h.path, "/images/library/busybox:latest/json");
    let q: Vec<(&str, &str)> = h.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(q, [("a", "1 2"), ("b", "+"), ("flag", ""), ("c", "")]);
    // '+' is a space only in the query.
    assert_eq!(request(&["GET /a+b HTTP/1.1"]).path, "/a+b");
    // The absolute form.
    let h = request(&["GET http://docker/v1.50/info?x=1 HTTP/1.1"]);
    assert_eq!((h.path.as_str(), h.query("x")), ("/v1.50/info", Some("1")));
    assert_eq!(request(&["GET http://docker HTTP/1.1"]).path, "/");
    // Repeated keys: the first wins.
    assert_eq!(request(&["GET /?k=1&k=2 HTTP/1.1"]).query("k"), Some("1"));
    // UTF-8 through escapes.
    assert_eq!(request(&["GET /caf%C3%A9 HTTP/1.1"]).path, "/café");
}

#[test]
fn query_flags_as_docker_reads_them() {
    let h = request(&["GET /x?a=1&b=true&c=True&d=0&e=false&f=&g=no&h=none&i=yes&j=%20FALSE%20 HTTP/1.1"]);
    for (key, want) in [
        ("a", true),
        ("b", true),
        ("c", true),
        ("d", false),
        ("e", false),
        ("f", false),
        ("g", false),
        ("h", false),
        ("i", true),
        ("j", false),
        ("absent", false),
    ] {
        assert_eq!(h.query_flag(key), want, "{key}");
    }
}

#[test]
fn keep_alive_rules() {
    assert!(request(&["GET / HTTP/1.1"]).keep_alive());
    assert!(!request(&["GET / HTTP/1.1", "Connection: close"]).keep_alive());
    assert!(!request(&["GET / HTTP/1.1", "connection: Keep-Alive, Close"]).keep_alive());
    assert!(!request(&["GET / HTTP/1.0"]).keep_alive());
    assert!(request(&["GET / HTTP/1.0", "Connection: keep-alive"]).keep_alive());
    assert_eq!(request(&["GET / HTTP/1.0"]).minor_version, 0);
}

#[test]
fn body_framing() {
    let body = |lines: &[&str]| {
        let mut all = vec!["POST /x HTTP/1.1"];
        all.extend_from_slice(lines);
        request(&all).body()
    };
    assert_eq!(body(&[]), Ok(Body::None));
    assert_eq!(body(&["Content-Length: 42"]), Ok(Body::Length(42)));
    assert_eq!(body(&["Content-Length: 42", "Content-Length: 42"]), Ok(Body::Length(42)));
    assert_eq!(body(&["Content-Length: 7, 7"]), Ok(Body::Length(7)));
    assert_eq!(body(&["Transfer-Encoding: Chunked"]), Ok(Body::Chunked));
    assert_eq!(body(&["Content-Length: 18446744073709551615"]), Ok(Body::Length(u64::MAX)));
    for bad in ["abc", "-1", "+1", "1 2", "", "0x10", "18446744073709551616"] {
        let line = format!("Content-Length: {bad}");
        assert!(matches!(body(&[&line]), Err(HttpError::BadContentLength(_))), "{bad:?}");
    }
    assert_eq!(
        body(&["Content-Length: 1", "Content-Length: 2"]),
        Err(HttpError::BadContentLength("1 and 2".to_string()))
    );
    assert_eq!(body(&["Transfer-Encoding: chunked", "Content-Length: 5"]), Err(HttpError::ConflictingFraming));
    assert_eq!(
        body(&["Transfer-Encoding: gzip, chunked"]),
        Err(HttpError::UnsupportedTransferEncoding("gzip, chunked".to_string()))
    );
    assert!(body(&["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]).is_err());
    assert!(matches!(body(&["Transfer-Encoding: identity"]), Err(HttpError::UnsupportedTransferEncoding(_))));
}

#[test]
fn malformed_heads() {
    for bad in [
        &b"GET / HTTP/2.0\r\n\r\n"[..],
        b"GET / FTP/1.1\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        b"GET / HTTP/1.1\n\rX: y\r\n\r\n",
        b"GET x HTTP/1.1\r\n\r\n",
        b"GET /%zz HTTP/1.1\r\n\r\n",
        b"GET /%4 HTTP/1.1\r\n\r\n",
        b"GET /?a=%ff HTTP/1.1\r\n\r\n",
        b"GET /%C3 HTTP/1.1\r\n\r\n",
    ] {
        let text = String::from_utf8_lossy(bad);
        match parse_head(bad) {
            Err(e @ HttpError::Malformed(_)) => {
                assert_eq!(e.status(), 400);
                assert!(e.to_string().starts_with("malformed request: "), "{e}");
            }
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn head_size_limit() {
    // A head still open when the buffer reaches MAX_HEAD is too large.
    let mut open = b"GET / HTTP/1.1\r\nX-Filler: ".to_vec();
    open.resize(MAX_HEAD - 1, b'a');
    assert_eq!(parse_head(&open), Ok(None));
    open.push(b'a');
    assert_eq!(parse_head(&open), Err(HttpError::HeadTooLarge));
    open.resize(MAX_HEAD * 2, b'a');
    assert_eq!(parse_head(&open), Err(HttpError::HeadTooLarge));
    // A head of exactly MAX_HEAD bytes is fine, with more bytes after it.
    let mut exact = b"GET / HTTP/1.1\r\nX-Filler: ".to_vec();
    exact.resize(MAX_HEAD - 4, b'a');
    exact.extend_from_slice(b"\r\n\r\n");
    let whole = exact.len();
    exact.extend_from_slice(b"body bytes");
    let (h, used) = parse_head(&exact).unwrap().unwrap();
    assert_eq!(used, whole);
    assert_eq!(h.header("x-filler").map(str::len), Some(MAX_HEAD - 4 - 26));
    assert_eq!(HttpError::HeadTooLarge.status(), 431);
}

#[test]
fn header_count_limit() {
    let with = |n: usize| {
        let mut text = String::from("GET / HTTP/1.1\r\n");
        for i in 0..n {
            text.push_str(&format!("X-{i}: {i}\r\n"));
        }
        text.push_str("\r\n");
        parse_head(text.as_bytes())
    };
    assert_eq!(with(MAX_HEADERS).unwrap().unwrap().0.headers.len(), MAX_HEADERS);
    assert_eq!(with(MAX_HEADERS + 1), Err(HttpError::TooManyHeaders));
}

#[test]
fn header_values_are_trimmed_and_lossy() {
    let h = head(b"GET / HTTP/1.1\r\nX-A:   spaced   \r\nX-B: caf\xe9\r\n\r\n");
    assert_eq!(h.header("x-a"), Some("spaced"));
    assert_eq!(h.header("x-b"), Some("caf\u{fffd}"));
    assert_eq!(h.header("x-missing"), None);
}

// The chunked decoder.

fn decode_all(pieces: &[&[u8]]) -> Result<(Vec<u8>, usize, bool), HttpError> {
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    let mut used = 0;
    for piece in pieces {
        used += d.decode(piece, &mut out)?;
    }
    Ok((out, used, d.is_done()))
}

const BODY: &[u8] = b"4;name=value\r\nWiki\r\n5 \r\npedia\r\nE ; a=1 ; b=\"x;y\"\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n";
const DECODED: &[u8] = b"Wikipedia in\r\n\r\nchunks.";

#[test]
fn chunked_whole() {
    assert_eq!(decode_all(&[BODY]), Ok((DECODED.to_vec(), BODY.len(), true)));
    assert_eq!(decode_all(&[b"0\r\n\r\n"]), Ok((Vec::new(), 5, true)));
    let upper = b"1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
    assert_eq!(decode_all(&[upper]).unwrap().0, b"abcdefghijklmnopqrstuvwxyz");
}

#[test]
fn chunked_split_at_every_boundary() {
    for i in 0..=BODY.len() {
        assert_eq!(decode_all(&[&BODY[..i], &BODY[i..]]), Ok((DECODED.to_vec(), BODY.len(), true)), "split at {i}");
    }
    for i in 0..=BODY.len() {
        for j in i..=BODY.len() {
            let got = decode_all(&[&BODY[..i], &BODY[i..j], &BODY[j..]]);
            assert_eq!(got, Ok((DECODED.to_vec(), BODY.len(), true)), "split at {i} and {j}");
        }
    }
    let bytes: Vec<&[u8]> = BODY.chunks(1).collect();
    assert_eq!(decode_all(&bytes), Ok((DECODED.to_vec(), BODY.len(), true)));
}

#[test]
fn chunked_stops_at_the_end_of_the_body() {
    let mut bytes = BODY.to_vec();
    bytes.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(d.decode(&bytes, &mut out), Ok(BODY.len()));
    assert!(d.is_done());
    assert_eq!(d.decode(&bytes[BODY.len()..], &mut out), Ok(0));
    assert_eq!(out, DECODED);
    // Not done until the final CRLF.
    let mut d = ChunkedDecoder::new();
    assert_eq!(d.decode(b"0\r\n\r", &mut out), Ok(4));
    assert!(!d.is_done());
    assert_eq!(d.decode(b"\n", &mut out), Ok(1));
    assert!(d.is_done());
}

#[test]
fn chunked_errors() {
    let long_ext = format!("1;{}\r\na\r\n0\r\n\r\n", "x".repeat(MAX_CHUNK_LINE));
    let long_trailer = format!("0\r\nX: {}\r\n\r\n", "y".repeat(MAX_TRAILERS));
    let cases: &[(&[u8], &str)] = &[
        (b"zz\r\n", "chunk size starts with `z`"),
        (b"\r\n", "chunk size starts with byte 0x0d"),
        (b";ext\r\n", "chunk size starts with `;`"),
        (b" 5\r\n", "chunk size starts with byte 0x20"),
        (b"-1\r\n", "chunk size starts with `-`"),
        (b"5x\r\n", "unexpected `x` in chunk size line"),
        (b"5 6\r\n", "unexpected `6` in chunk size line"),
        (b"5\n", "unexpected byte 0x0a in chunk size line"),
        (b"5\rX", "chunk size line ends without LF"),
        (b"5;a\n", "chunk size line ends without CR"),
        (b"10000000000000000\r\n", "chunk size does not fit 64 bits"),
        (b"00000000000000001\r\n", "chunk size does not fit 64 bits"),
        (b"3\r\nabcd", "missing CRLF after chunk data"),
        (b"3\r\nabc\n", "missing CRLF after chunk data"),
        (b"3\r\nabc\rX", "missing CRLF after chunk data"),
        (b"0\r\nX: 1\n", "trailer line ends without CR"),
        (b"0\r\n\n", "trailer line ends without CR"),
        (b"0\r\nX: 1\rZ", "missing LF after CR at the end of the body"),
        (b"0\r\n\rZ", "missing LF after CR at the end of the body"),
        (long_ext.as_bytes(), "chunk size line longer than 4096 bytes"),
        (long_trailer.as_bytes(), "trailers longer than 65536 bytes"),
    ];
    for (input, want) in cases {
        let got = decode_all(&[input]);
        assert_eq!(got, Err(HttpError::BadChunk(want.to_string())), "{:?}", String::from_utf8_lossy(input));
        // Byte at a time gives the same error.
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_all(&bytes), Err(HttpError::BadChunk(want.to_string())));
    }
    assert_eq!(HttpError::BadChunk("x".to_string()).to_string(), "bad chunked body: x", "errors read as sentences");
    // The largest size is accepted (a body limit is the caller's business).
    let mut d = ChunkedDecoder::new();
    assert_eq!(d.decode(b"ffffffffffffffff\r\nabc", &mut Vec::new()), Ok(21));
}

#[test]
fn chunked_failure_is_sticky() {
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert!(d.decode(b"q", &mut out).is_err());
    assert!(!d.is_done());
    assert_eq!(
        d.decode(b"0\r\n\r\n", &mut out),
        Err(HttpError::BadChunk("the body already failed to decode".to_string()))
    );
    assert_eq!(d.decode(b"", &mut out), Err(HttpError::BadChunk("the body already failed to decode".to_string())));
}

/// Deterministic pseudo-random bytes (a xorshift generator).
fn noise(seed: u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize]
        })
        .collect()
}

#[test]
fn garbage_never_panics() {
    let alphabet = b"0123456789abcdefABCDEFxyz;= \t\r\n:/?%&+GETPOSTHTP.\x00\xff";
    for seed in 0..2000 {
        let bytes = noise(seed, (seed % 97) as usize, alphabet);
        let _ = parse_head(&bytes);
        let mut prefixed = b"POST /x?".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = parse_head(&prefixed);
        let mut d = ChunkedDecoder::new();
        let _ = d.decode(&bytes, &mut Vec::new());
    }
}

// Responses.

#[test]
fn response_heads() {
    assert_eq!(response_head(101, &[]), b"HTTP/1.1 101 UPGRADED\r\n\r\n");
    assert_eq!(
        response_head(200, &[("Api-Version", "1.50"), ("Content-Length", "2")]),
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.50\r\nContent-Length: 2\r\n\r\n"
    );
    for (status, phrase) in [
        (201, "Created"),
        (204, "No Content"),
        (304, "Not Modified"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (409, "Conflict"),
        (413, "Payload Too Large"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (503, "Service Unavailable"),
    ] {
        assert_eq!(response_head(status, &[]), format!("HTTP/1.1 {status} {phrase}\r\n\r\n").into_bytes());
    }
    assert_eq!(response_head(299, &[]), b"HTTP/1.1 299 \r\n\r\n");
    // A value cannot smuggle in a header or end the head.
    assert_eq!(response_head(200, &[("X", "a\r\nEvil: 1\r\n\r\n")]), b"HTTP/1.1 200 OK\r\nX: aEvil: 1\r\n\r\n");
}

#[test]
fn chunks() {
    assert_eq!(chunk(b"hello"), b"5\r\nhello\r\n");
    assert_eq!(chunk(&[b'x'; 26])[..4], *b"1a\r\n");
    assert!(chunk(b"").is_empty());
    let mut body = chunk(b"{\"StatusCode\":0}\n");
    body.extend_from_slice(LAST_CHUNK);
    assert_eq!(decode_all(&[&body]).unwrap().0, b"{\"StatusCode\":0}\n");
}

#[test]
fn error_messages() {
    let all = [
        (HttpError::Malformed("x".to_string()), 400, "malformed request: x"),
        (HttpError::HeadTooLarge, 431, "request head is larger than 65536 bytes"),
        (HttpError::TooManyHeaders, 431, "request has more than 100 header fields"),
        (HttpError::BadContentLength("q".to_string()), 400, "bad Content-Length: `q`"),
        (HttpError::ConflictingFraming, 400, "request has both Transfer-Encoding and Content-Length"),
        (
            HttpError::UnsupportedTransferEncoding("gzip".to_string()),
            501,
            "unsupported Transfer-Encoding `gzip` (only `chunked` is)",
        ),
        (HttpError::BadChunk("y".to_string()), 400, "bad chunked body: y"),
    ];
    for (e, status, text) in all {
        assert_eq!((e.status(), e.to_string()), (status, string::String::from(text)));
    }
}

#[test]
fn repeated_headers_are_counted() {
    let h = head(b"GET /_ping HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\nHost: x\r\n\r\n");
    assert_eq!(h.header_count("Authorization"), 2);
    assert_eq!(h.header_count("host"), 1);
    assert_eq!(h.header_count("cookie"), 0);
}

#[test]
fn response_heads_and_their_framing() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDocker-Content-Digest: sha256:ab\r\n\r\nhello";
    let (head, used) = parse_response_head(raw).unwrap().unwrap();
    assert_eq!((head.status, used), (200, raw.len() - 5));
    assert_eq!(head.header("docker-content-digest"), Some("sha256:ab"));
    assert_eq!(head.body(), Ok(ResponseBody::Length(5)));

    assert_eq!(parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
    let chunked = parse_response_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap().0;
    assert_eq!(chunked.body(), Ok(ResponseBody::Chunked));
    let close = parse_response_head(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap().0;
    assert_eq!(close.body(), Ok(ResponseBody::UntilClose));
    let none = parse_response_head(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").unwrap().unwrap().0;
    assert_eq!(none.body(), Ok(ResponseBody::Length(0)));
    let both = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(parse_response_head(both).unwrap().unwrap().0.body(), Err(HttpError::ConflictingFraming));
    assert!(parse_response_head(b"HTTP/1.1 abc\r\n\r\n").is_err());
    assert!(parse_response_head(&vec![b'x'; MAX_HEAD + 1]).is_err());
}

#[test]
fn get_requests_name_host_and_fields() {
    let req = get_request("10.0.2.2:5000", "/v2/a/manifests/1", &[("Accept", "x/y")]);
    let (head, used) = parse_head(&req).unwrap().unwrap();
    assert_eq!((head.method.as_str(), head.path.as_str(), used), ("GET", "/v2/a/manifests/1", req.len()));
    assert_eq!(head.header("host"), Some("10.0.2.2:5000"));
    assert_eq!(head.header("accept"), Some("x/y"));
    assert!(!head.keep_alive());
}
