//! The empty sign-up form, answered before routing. It is what nearly every visitor asks for,
//! it is rendered once at start-up (and compressed once the server answers: until then it
//! goes out uncompressed, which every client accepts), and through the routes the bookkeeping
//! around it (request context, routing, extractors, the state attached to the request, header
//! by header assembly) cost more than hyper's whole share of the request (callgrind).
//!
//! Only a request the form cannot differ for is answered here: `GET` or `HEAD` of `/` or
//! `/{lang}`, no query, no body, no trusted proxy naming a prefix. Everything else (and any
//! request for which no page was rendered) goes through the routes, which stay the reference:
//! the headers here are the routed answer's, taken from the same renderer at start-up.

use std::sync::Arc;

use bytes::Bytes;
use poem::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Body, Request, Response};

use crate::web::encoding::Encoding;
use crate::web::paths::{self, Links};
use crate::web::{AppState, HomePages, response};

const LANG: HeaderName = HeaderName::from_static("lang");
const HX_REQUEST: HeaderName = HeaderName::from_static("hx-request");
const X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");

/// The empty form's answers, ready but for the request id.
pub struct HomeAnswers {
    pages: Arc<HomePages>,
    /// The links of a request no proxy prefix changes (`PUBLIC_URL`'s path).
    links: Links,
    /// The routed answer's headers for each [`Encoding`] (by [`slot`]), with the security
    /// headers: cloning a map is cheaper than inserting ten headers one by one.
    headers: [HeaderMap; 3],
}

/// The place of an encoding's headers in [`HomeAnswers::headers`].
fn slot(encoding: Encoding) -> usize {
    match encoding {
        Encoding::Identity => 0,
        Encoding::Gzip => 1,
        Encoding::Brotli => 2,
    }
}

impl HomeAnswers {
    /// Takes each encoding's headers from the renderer the routes use, then lets `secure` add
    /// what the front door adds to every answer.
    pub fn new(pages: Arc<HomePages>, links: Links, secure: impl Fn(&mut HeaderMap)) -> Self {
        let headers = [Encoding::Identity, Encoding::Gzip, Encoding::Brotli].map(|encoding| {
            let mut routed = response::html_encoded(StatusCode::OK, encoding, Bytes::new());
            secure(routed.headers_mut());
            std::mem::take(routed.headers_mut())
        });
        HomeAnswers {
            pages,
            links,
            headers,
        }
    }

    /// The answer and its route (for the log line) when `req` asks for the empty form and
    /// nothing the routes judge; `None` sends it through the routes.
    pub fn answer(&self, req: &Request, state: &AppState) -> Option<(Response, &'static str)> {
        let head = match *req.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let uri = req.uri();
        if uri.query().is_some() {
            return None;
        }
        let path = uri.path();
        // `/de` chooses the language as the routes' context does: a code the catalogues know.
        let lang_in_path = match path.strip_prefix('/')? {
            "" => None,
            code => {
                state.catalogs.get(code)?;
                Some(code)
            }
        };
        let asked = Asked::read(req.headers());
        // The body cap judges a declared body, even on GET; a proxy's prefix changes links.
        let peer = || req.remote_addr().as_socket_addr().map(|addr| addr.ip());
        if asked.body || (asked.forwarded_prefix && state.proxies.hops_from(peer()) > 0) {
            return None;
        }
        let tr = state
            .catalogs
            .negotiate(lang_in_path, asked.lang, asked.accept_language);
        let page = self.pages.get(tr.lang(), asked.htmx, &self.links)?;
        let (encoding, body) = page.pick(asked.accept_encoding);
        let mut response_headers = self.headers[slot(encoding)].clone();
        let body = if head {
            // HEAD carries GET's length, as the routed answer does.
            response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            Body::empty()
        } else {
            Body::from_bytes(body)
        };
        let mut response = Response::builder().status(StatusCode::OK).body(body);
        *response.headers_mut() = response_headers;
        let route = if lang_in_path.is_some() {
            paths::HOME_IN
        } else {
            paths::HOME
        };
        Some((response, route))
    }
}

/// What the empty form depends on in a request's headers, read in one pass over them rather
/// than a hash lookup per name (seven of those were a tenth of this path's cost). As with
/// `HeaderMap::get`, the first line of a name counts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Asked<'a> {
    lang: Option<&'a str>,
    accept_language: Option<&'a str>,
    accept_encoding: Option<&'a str>,
    htmx: bool,
    /// `Content-Length` or `Transfer-Encoding`: a body is declared.
    body: bool,
    forwarded_prefix: bool,
}

impl<'a> Asked<'a> {
    fn read(headers: &'a HeaderMap) -> Self {
        // The first line of each name, text or not (then the name counts as absent).
        let (mut accept_encoding, mut accept_language, mut lang, mut htmx) =
            (None, None, None, None);
        let (mut body, mut forwarded_prefix) = (false, false);
        for (name, value) in headers {
            let first = |slot: &mut Option<&'a HeaderValue>| *slot = slot.or(Some(value));
            if name == header::ACCEPT_ENCODING {
                first(&mut accept_encoding);
            } else if name == header::ACCEPT_LANGUAGE {
                first(&mut accept_language);
            } else if name == LANG {
                first(&mut lang);
            } else if name == HX_REQUEST {
                first(&mut htmx);
            } else if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
                body = true;
            } else if name == X_FORWARDED_PREFIX {
                forwarded_prefix = true;
            }
        }
        let text = |value: Option<&'a HeaderValue>| value.and_then(|v| v.to_str().ok());
        Asked {
            lang: text(lang),
            accept_language: text(accept_language),
            accept_encoding: text(accept_encoding),
            htmx: htmx.is_some_and(|v| v == "true"),
            body,
            forwarded_prefix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_reads_what_lookups_by_name_would() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "example.org"),
            ("accept-encoding", "gzip"),
            ("accept-encoding", "br"),
            ("lang", "\u{e4}"),
            ("lang", "de"),
            ("hx-request", "false"),
            ("hx-request", "true"),
            ("accept-language", "fr, de;q=0.5"),
        ] {
            headers.append(name, HeaderValue::from_bytes(value.as_bytes()).unwrap());
        }
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let asked = Asked::read(&headers);
        assert_eq!(asked.accept_encoding, text("accept-encoding"));
        assert_eq!(asked.accept_language, text("accept-language"));
        assert_eq!(asked.lang, text("lang"));
        assert!(!asked.htmx, "the first hx-request line decides");
        assert!(!asked.body && !asked.forwarded_prefix);

        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("x-forwarded-prefix", HeaderValue::from_static("/a"));
        let asked = Asked::read(&headers);
        assert!(asked.body && asked.forwarded_prefix);
        assert_eq!(Asked::read(&HeaderMap::new()), Asked::default());
    }
}
