//! A voucher's link as a QR code: the matrix, and its SVG, for the command line's files and
//! the console's printable sheet alike. It sits here, at the bottom of the layers, because
//! both the CLI and the web show it.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The link is too long for a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the link does not fit in a QR code")]
pub struct QrTooLong;

/// `link` as a QR code. Medium error correction: it survives a crease or a smudge on a
/// printed sheet.
pub fn qr_code(link: &str) -> Result<QrCode, QrTooLong> {
    QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M).map_err(|_| QrTooLong)
}

/// `code` as an SVG document, with the quiet zone readers need around it.
pub fn qr_svg(code: &QrCode) -> String {
    code.render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .build()
}

/// `code` as an `<svg>` element to put inside an HTML page: the document without its XML
/// declaration.
pub fn qr_inline_svg(code: &QrCode) -> String {
    let document = qr_svg(code);
    match document.find("<svg") {
        Some(start) => document[start..].to_owned(),
        None => document,
    }
}
