//! Brotli and gzip at their strongest settings, for bodies compressed once: the embedded
//! assets at build time (`build.rs` includes this file) and the empty forms at start-up.

use std::io::Write as _;

/// `bytes` compressed with brotli (quality 11, 4 MiB window).
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let mut input = bytes;
    brotli::BrotliCompress(&mut input, &mut out, &params)
        .expect("reading a slice and writing a Vec cannot fail");
    out
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
