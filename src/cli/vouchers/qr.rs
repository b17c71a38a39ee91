//! A voucher's link as a QR code to print: SVG (scales to any size, for a sheet) or PNG
//! (for slides and mails), chosen by the file's extension.

use std::path::Path;

use anyhow::{Context, bail};
use qrcode::{Color, QrCode};

use crate::domain::{qr_code, qr_svg};

/// Pixels per module of a PNG: a 33-module code with its margin is 328 px wide, sharp on
/// paper at 3 cm and on a projector.
const PNG_SCALE: usize = 8;
/// The quiet zone readers need around the code, in modules.
const MARGIN: usize = 4;

/// Writes `link` as a QR code into `path` (`.svg` or `.png`).
pub fn write(link: &str, path: &Path) -> anyhow::Result<()> {
    let code = qr_code(link)?;
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match extension.as_deref() {
        Some("svg") => qr_svg(&code).into_bytes(),
        Some("png") => png(&code)?,
        _ => bail!(
            "--qr {}: name a file ending in .svg or .png",
            path.display()
        ),
    };
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The code as an 8-bit grey PNG: black modules on white, with the quiet zone.
fn png(code: &QrCode) -> anyhow::Result<Vec<u8>> {
    let (pixels, side) = greyscale(code);
    let side = u32::try_from(side).context("the QR code is too large")?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("cannot encode the PNG")?;
    writer
        .write_image_data(&pixels)
        .context("cannot encode the PNG")?;
    writer.finish().context("cannot encode the PNG")?;
    Ok(out)
}

/// The code's pixels, row by row (0 black, 255 white), and the image's side in pixels.
fn greyscale(code: &QrCode) -> (Vec<u8>, usize) {
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * MARGIN) * PNG_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (row, column) = (index / width + MARGIN, index % width + MARGIN);
        for y in row * PNG_SCALE..(row + 1) * PNG_SCALE {
            let start = y * side + column * PNG_SCALE;
            pixels[start..start + PNG_SCALE].fill(0);
        }
    }
    (pixels, side)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://signup.example.edu/?voucher=7KQ4-MX2C-9HPR-TWZE";

    /// What a phone's camera reads: the image decoded by a QR reader nobody here wrote.
    fn read_back(pixels: &[u8], side: usize) -> String {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one code in the image");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn the_png_holds_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voucher.PNG");
        write(LINK, &path).unwrap();

        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(read_back(&pixels, info.width as usize), LINK);
    }

    #[test]
    fn the_svg_is_the_same_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voucher.svg");
        write(LINK, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("<?xml"), "{text}");
        assert!(text.contains("<svg") && text.contains("<path"), "{text}");
        // The same matrix as the PNG, which reads back as the link.
        let code = qr_code(LINK).unwrap();
        let (pixels, side) = greyscale(&code);
        assert_eq!(read_back(&pixels, side), LINK);
    }

    #[test]
    fn another_extension_is_refused_with_what_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(LINK, &dir.path().join("voucher.jpg")).unwrap_err();
        assert!(err.to_string().contains(".svg or .png"), "{err}");
    }
}
