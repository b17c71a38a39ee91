//! Which compressed form of a body to send: the client's `Accept-Encoding` preference among
//! the forms there are, brotli before gzip when it likes both as much.

use std::sync::OnceLock;

use bytes::Bytes;
use poem::http::{HeaderMap, HeaderValue, header};

use super::compress;

/// A body's content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` value, none for identity.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// Appended to an ETag, so each form has its own (RFC 9110 §8.8.3: a strong validator
    /// names one representation).
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => "-gz",
            Encoding::Brotli => "-br",
        }
    }

    /// Sets `Content-Encoding` (when compressed) on a response's headers.
    pub fn mark(self, headers: &mut HeaderMap) {
        if let Some(coding) = self.content_encoding() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
    }
}

/// The best form the client accepts: `brotli` and `gzip` say which forms exist.
pub fn negotiate(accept_encoding: Option<&str>, brotli: bool, gzip: bool) -> Encoding {
    let Some(accept) = accept_encoding else {
        return Encoding::Identity;
    };
    let (mut q_br, mut q_gzip, mut q_any) = (None, None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("br") {
            q_br = Some(q);
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            q_gzip = Some(q);
        } else if coding == "*" {
            q_any = Some(q);
        }
    }
    let q_br = q_br.or(q_any).filter(|_| brotli).unwrap_or(0.0);
    let q_gzip = q_gzip.or(q_any).filter(|_| gzip).unwrap_or(0.0);
    if q_br > 0.0 && q_br >= q_gzip {
        Encoding::Brotli
    } else if q_gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The request's `Accept-Encoding`, when it is text.
pub fn accepted(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
}

/// A body rendered once, with its compressed forms (each only where it saves a tenth) made
/// later by [`Precompressed::compress`]: until then every request gets the body as it is,
/// which every client accepts.
#[derive(Debug, Default)]
pub struct Precompressed {
    identity: Bytes,
    compressed: OnceLock<Compressed>,
}

/// The forms worth sending besides the identity.
#[derive(Debug)]
struct Compressed {
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Precompressed {
    /// Keeps `identity`, not compressed yet: compressing costs far more than rendering
    /// (brotli at quality 11), so it is kept off the way to the first answer.
    pub fn new(identity: Bytes) -> Self {
        Precompressed {
            identity,
            compressed: OnceLock::new(),
        }
    }

    /// Makes the compressed forms, once; a second call finds them made.
    pub fn compress(&self) {
        self.compressed.get_or_init(|| {
            let keep = |compressed: Vec<u8>| {
                compress::worth_it(self.identity.len(), compressed.len())
                    .then(|| Bytes::from(compressed))
            };
            Compressed {
                brotli: keep(compress::brotli(&self.identity)),
                gzip: keep(compress::gzip(&self.identity)),
            }
        });
    }

    /// The form for a request's `Accept-Encoding` (shared, not copied), among those made.
    pub fn pick(&self, accept_encoding: Option<&str>) -> (Encoding, Bytes) {
        let (brotli, gzip) = match self.compressed.get() {
            Some(made) => (made.brotli.as_ref(), made.gzip.as_ref()),
            None => (None, None),
        };
        let encoding = negotiate(accept_encoding, brotli.is_some(), gzip.is_some());
        let body = match encoding {
            Encoding::Brotli => brotli,
            Encoding::Gzip => gzip,
            Encoding::Identity => None,
        };
        (encoding, body.unwrap_or(&self.identity).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_preference_decides_among_the_forms_there_are() {
        use Encoding::*;
        let cases = [
            (None, true, true, Identity),
            (Some(""), true, true, Identity),
            (Some("br, gzip"), true, true, Brotli),
            (Some("gzip, deflate, br, zstd"), true, true, Brotli),
            (Some("gzip"), true, true, Gzip),
            (Some("br"), false, true, Identity),
            (Some("br, gzip"), false, true, Gzip),
            (Some("br;q=0.5, gzip"), true, true, Gzip),
            (Some("br;q=0, gzip;q=0"), true, true, Identity),
            (Some("GZIP"), true, true, Gzip),
            (Some("x-gzip"), true, true, Gzip),
            (Some("*"), true, true, Brotli),
            (Some("*;q=0.1, br;q=0"), true, true, Gzip),
            (Some("identity"), true, true, Identity),
            (Some("deflate"), true, true, Identity),
            (Some("br;q=garbage"), true, true, Brotli),
        ];
        for (accept, brotli, gzip, expected) in cases {
            assert_eq!(
                negotiate(accept, brotli, gzip),
                expected,
                "{accept:?} br={brotli} gzip={gzip}"
            );
        }
    }

    #[test]
    fn a_body_too_small_to_gain_is_kept_only_as_it_is() {
        let tiny = Precompressed::new(Bytes::from_static(b"ok"));
        tiny.compress();
        assert_eq!(tiny.pick(Some("br, gzip")).0, Encoding::Identity);
        let page = Precompressed::new(Bytes::from("<p>sign up</p>".repeat(200)));
        page.compress();
        let (encoding, body) = page.pick(Some("gzip"));
        assert_eq!(encoding, Encoding::Gzip);
        assert!(body.len() < 200, "{}", body.len());
    }

    #[test]
    fn a_body_is_sent_as_it_is_until_its_compressed_forms_are_made() {
        let html = Bytes::from("<p>sign up</p>".repeat(200));
        let page = Precompressed::new(html.clone());
        assert_eq!(page.pick(Some("br, gzip")), (Encoding::Identity, html));
        page.compress();
        page.compress();
        assert_eq!(page.pick(Some("br, gzip")).0, Encoding::Brotli);
        assert_eq!(page.pick(Some("gzip")).0, Encoding::Gzip);
    }
}
