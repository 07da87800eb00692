//! The multiplexed stream format of attach and logs without a TTY: each write is an
//! 8-byte header `[stream, 0, 0, 0, length as u32 big-endian]` and then its bytes.

use alloc::vec::Vec;

/// Standard input's stream number (only written by clients that multiplex stdin).
pub const STDIN: u8 = 0;
/// Standard output's stream number.
pub const STDOUT: u8 = 1;
/// Standard error's stream number.
pub const STDERR: u8 = 2;
/// The length of a frame header.
pub const HEADER_LEN: usize = 8;

/// `data` as one frame of `stream`. Data longer than `u32::MAX` bytes would not fit one
/// frame; callers frame each write, which is never that long.
pub fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(HEADER_LEN + data.len());
    out.extend_from_slice(&[stream, 0, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&data[..len as usize]);
    out
}

/// Splits a multiplexed stream into `(stream, bytes)` frames, stopping at the first
/// incomplete frame. Used by tests to read back what the agent wrote.
pub fn parse_frames(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while buf.len() >= HEADER_LEN {
        let len = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
        let Some(data) = buf.get(HEADER_LEN..HEADER_LEN + len) else { break };
        frames.push((buf[0], data.to_vec()));
        buf = &buf[HEADER_LEN + len..];
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn headers() {
        assert_eq!(frame(STDOUT, b"hi\n"), [1, 0, 0, 0, 0, 0, 0, 3, b'h', b'i', b'\n']);
        assert_eq!(frame(STDERR, b""), [2, 0, 0, 0, 0, 0, 0, 0]);
        let big = vec![7u8; 0x1_0203];
        let f = frame(STDOUT, &big);
        assert_eq!(f[..8], [1, 0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(f.len(), 8 + big.len());
    }

    #[test]
    fn round_trip() {
        let mut stream = frame(STDOUT, b"out 1\n");
        stream.extend(frame(STDERR, b"err\n"));
        stream.extend(frame(STDOUT, b""));
        stream.extend(frame(STDOUT, &[0, 255, 10]));
        let want = vec![
            (STDOUT, b"out 1\n".to_vec()),
            (STDERR, b"err\n".to_vec()),
            (STDOUT, vec![]),
            (STDOUT, vec![0, 255, 10]),
        ];
        assert_eq!(parse_frames(&stream), want);
        // A partial frame at the end is left out, at every cut.
        for cut in 0..stream.len() {
            let got = parse_frames(&stream[..cut]);
            assert!(got.len() < want.len() && got[..] == want[..got.len()], "cut at {cut}");
        }
        assert!(parse_frames(&[1, 0, 0, 0, 255, 255, 255, 255, 0]).is_empty());
    }
}
