//! Embedded static files, served with a strong ETag and long caching when the URL carries
//! the file's hash (`/assets/style.css?v=…`), as every page's links do (`paths::Links::asset`);
//! brotli or gzip as the client prefers, compressed at build time.

use poem::http::{StatusCode, header};
use poem::{Body, Request, Response, handler, web::Path};
use rust_embed::RustEmbed;

use super::encoding::{self, Encoding};

/// An asset's forms compressed by `build.rs`, each only where it saved a tenth.
struct Compressed {
    name: &'static str,
    brotli: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

mod built {
    include!(concat!(env!("OUT_DIR"), "/compressed_assets.rs"));
}

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
#[exclude = "*.LICENSE"]
pub struct Assets;

/// The first 16 hex digits of the file's SHA-256, for cache busting and the ETag.
pub fn version(name: &str) -> String {
    Assets::get(name)
        .map(|file| {
            file.metadata
                .sha256_hash()
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

#[handler]
pub fn asset(Path(name): Path<String>, req: &Request) -> Response {
    serve(&name, req)
}

#[handler]
pub fn favicon(req: &Request) -> Response {
    serve("favicon.ico", req)
}

/// The build's brotli and gzip forms of an asset, where they saved anything.
fn compressed(name: &str) -> (Option<&'static [u8]>, Option<&'static [u8]>) {
    built::COMPRESSED
        .iter()
        .find(|built| built.name == name)
        .map_or((None, None), |built| (built.brotli, built.gzip))
}

fn serve(name: &str, req: &Request) -> Response {
    let Some(file) = Assets::get(name) else {
        return StatusCode::NOT_FOUND.into();
    };
    let (brotli, gzip) = compressed(name);
    let encoding = encoding::negotiate(
        encoding::accepted(req.headers()),
        brotli.is_some(),
        gzip.is_some(),
    );
    let version = version(name);
    let etag = format!("\"{version}{}\"", encoding.etag_suffix());
    let cache = if req
        .uri()
        .query()
        .is_some_and(|q| q == format!("v={version}"))
    {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300, must-revalidate"
    };
    let builder = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "Accept-Encoding");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|candidate| candidate.trim().trim_start_matches("W/") == etag)
        });
    if matches {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let body = match (encoding, brotli, gzip, file.data) {
        (Encoding::Brotli, Some(bytes), _, _) | (Encoding::Gzip, _, Some(bytes), _) => {
            Body::from_bytes(bytes::Bytes::from_static(bytes))
        }
        (_, _, _, std::borrow::Cow::Borrowed(bytes)) => {
            Body::from_bytes(bytes::Bytes::from_static(bytes))
        }
        (_, _, _, std::borrow::Cow::Owned(bytes)) => Body::from_vec(bytes),
    };
    let mut response = builder.content_type(mime.as_ref()).body(body);
    encoding.mark(response.headers_mut());
    response
}
