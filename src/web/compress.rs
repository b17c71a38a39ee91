//! Brotli and gzip at their strongest settings, for bodies compressed once: the embedded
//! assets at build time (`build.rs` includes this file) and the empty forms once the server
//! answers (`HomePages::compress`).

use std::io::Write as _;

/// `bytes` compressed with brotli (quality 11, a window as large as `bytes`, 4 MiB at most).
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: window_bits(bytes.len()),
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let mut input = bytes;
    brotli::BrotliCompress(&mut input, &mut out, &params)
        .expect("reading a slice and writing a Vec cannot fail");
    out
}

/// The smallest brotli window (10 to 22 bits) that holds `len` bytes. A larger one finds
/// nothing more, but quality 11 sizes its match tree by the window (8 bytes a position: 32
/// MiB allocated for a 4 MiB window) and its ring buffer too, for every page compressed.
fn window_bits(len: usize) -> i32 {
    let mut bits = 10;
    while bits < 22 && (1_usize << bits) < len {
        bits += 1;
    }
    bits
}

/// `bytes` compressed with gzip (level 9).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    encoder
        .write_all(bytes)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Whether a compressed form is worth sending: a tenth smaller at least.
pub fn worth_it(original: usize, compressed: usize) -> bool {
    compressed * 10 < original * 9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brotli_window_holds_the_body_and_no_more() {
        assert_eq!(window_bits(0), 10);
        assert_eq!(window_bits(1024), 10);
        assert_eq!(window_bits(1025), 11);
        assert_eq!(window_bits(20_000), 15);
        assert_eq!(window_bits(1 << 22), 22);
        assert_eq!(window_bits(usize::MAX), 22);
    }
}
