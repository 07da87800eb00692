//! The gzip decoder against flate2's encoder: any piece sizes, several members, and
//! corrupt or truncated streams refused.

use berth_oci::gzip::GzipDecoder;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

fn gzip(data: &[u8], name: Option<&str>) -> Vec<u8> {
    let mut builder = flate2::GzBuilder::new().comment("berth test").extra(vec![1, 2, 3]);
    if let Some(name) = name {
        builder = builder.filename(name);
    }
    let mut enc = builder.write(Vec::new(), Compression::new(6));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn decode(stream: &[u8], piece: usize) -> Result<Vec<u8>, berth_oci::Error> {
    let mut decoder = GzipDecoder::new();
    let mut out = Vec::new();
    for chunk in stream.chunks(piece) {
        decoder.push(chunk, |p| -> Result<(), berth_oci::Error> {
            out.extend_from_slice(p);
            Ok(())
        })?;
    }
    decoder.finish()?;
    Ok(out)
}

fn sample() -> Vec<u8> {
    (0..300_000u32).map(|i| ((i * 31) ^ (i >> 7)) as u8).collect()
}

#[test]
fn decodes_in_any_pieces() {
    let data = sample();
    let stream = gzip(&data, Some("layer.tar"));
    for piece in [1, 3, 10, 100, 4096, 1 << 20] {
        assert!(decode(&stream, piece).unwrap() == data, "piece {piece}");
    }
    // Highly compressible data: one input byte makes far more than a buffer of output.
    let zeros = vec![0u8; 5 << 20];
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&zeros).unwrap();
    assert!(decode(&enc.finish().unwrap(), 100_000).unwrap() == zeros);
}

#[test]
fn members_one_after_another_decode_as_one() {
    let data = sample();
    let mut stream = gzip(&data[..1000], None);
    stream.extend(gzip(&data[1000..], Some("rest")));
    assert!(decode(&stream, 777).unwrap() == data);
}

#[test]
fn corrupt_and_truncated_streams_are_errors() {
    let data = sample();
    let stream = gzip(&data, None);
    assert!(decode(&stream[..stream.len() - 3], 4096).is_err(), "truncated trailer");
    assert!(decode(&stream[..stream.len() / 2], 4096).is_err(), "truncated body");
    let mut crc = stream.clone();
    let at = crc.len() - 6;
    crc[at] ^= 1;
    assert!(decode(&crc, 4096).is_err(), "bad crc");
    let mut body = stream.clone();
    body[40] ^= 0x55;
    assert!(decode(&body, 4096).is_err(), "bad body");
    assert!(decode(b"not gzip at all", 4).is_err());
    assert!(decode(b"", 4).is_err());
}

/// GNU gzip's streams (as `docker save | gzip` and most registries make) decode too:
/// they once stopped the decoder early, where flate2's did not.
#[test]
fn gnu_gzip_streams_decode() {
    let mut tar = tar::Builder::new(Vec::new());
    for i in 0..200u32 {
        let data: Vec<u8> = (0..(i * 997 % 20_000)).map(|j| (j * i % 253) as u8).collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, format!("dir/file{i}"), &data[..]).unwrap();
    }
    let data = tar.into_inner().unwrap();
    let mut gzip = std::process::Command::new("gzip")
        .args(["-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = gzip.stdin.take().unwrap();
    let input = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let stream = gzip.wait_with_output().unwrap().stdout;
    writer.join().unwrap();
    for piece in [100, 4096, 65536, 1 << 20] {
        assert!(decode(&stream, piece).unwrap() == data, "piece {piece}");
    }
}
