//! Embedded static files, served with a strong ETag and long caching when the URL carries
//! the file's hash (`/assets/style.css?v=…`), as every page's links do (`paths::Links::asset`).

use poem::http::{StatusCode, header};
use poem::{Body, Request, Response, handler, web::Path};
use rust_embed::RustEmbed;

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

fn serve(name: &str, req: &Request) -> Response {
    let Some(file) = Assets::get(name) else {
        return StatusCode::NOT_FOUND.into();
    };
    let version = version(name);
    let etag = format!("\"{version}\"");
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
        .header(header::CACHE_CONTROL, cache);
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
    let body = match file.data {
        std::borrow::Cow::Borrowed(bytes) => Body::from_bytes(bytes::Bytes::from_static(bytes)),
        std::borrow::Cow::Owned(bytes) => Body::from_vec(bytes),
    };
    builder.content_type(mime.as_ref()).body(body)
}
