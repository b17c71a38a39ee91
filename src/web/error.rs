//! One place that turns failures into responses: a localized page, or the fragment alone for
//! HTMX requests. Internal details go to the log, never to the client.

use maud::Markup;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, Request, Response, Result};

use super::AppState;
use super::pages::{layout, status};
use super::proxy::{ClientInfo, links};
use crate::i18n::Tr;

/// Whether the request came from HTMX and wants a fragment.
pub fn is_htmx(req: &Request) -> bool {
    req.headers().get("hx-request").is_some_and(|v| v == "true")
}

/// An HTML response: the fragment for HTMX, the full page otherwise.
pub fn respond(
    req: &Request,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    title: &str,
    fragment: Markup,
) -> Response {
    let body = if is_htmx(req) {
        fragment
    } else {
        let path = req.uri().path();
        let on_home = path == super::paths::HOME
            || path == super::paths::SIGNUP
            || state.catalogs.get(path.trim_start_matches('/')).is_some();
        let switch_to = if on_home {
            layout::SwitchTo::Home
        } else {
            layout::SwitchTo::SamePage(req.uri().path())
        };
        layout::page(tr, &state.catalogs, &links(req), title, switch_to, fragment)
    };
    html_response(status, body.into_string().into())
}

/// An HTML body with the headers every page carries.
pub fn html_response(status: StatusCode, body: Body) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::VARY, "HX-Request, Accept-Language, lang")
        .body(body)
}

/// Renders the error page for a status (a JSON body under `/api/`).
pub fn error_response(req: &Request, state: &AppState, status: StatusCode) -> Response {
    if req.uri().path().starts_with("/api/") {
        return super::api::json_error(req, state, status);
    }
    let tr = state.tr(req, query_lang(req).as_deref());
    let title = status::title(&tr, status).to_owned();
    let mut response = respond(
        req,
        state,
        &tr,
        status,
        &title,
        status::error_panel(&tr, &links(req), status),
    );
    if is_htmx(req) {
        // Errors replace the whole form region, whatever the request targeted.
        response
            .headers_mut()
            .insert("hx-retarget", HeaderValue::from_static("#signup"));
        response
            .headers_mut()
            .insert("hx-reswap", HeaderValue::from_static("outerHTML"));
    }
    response
}

/// `?lang=xx`, the explicit language of GET pages other than `/{lang}`.
pub fn query_lang(req: &Request) -> Option<String> {
    let query = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find_map(|(key, value)| (key == "lang").then_some(value))
}

/// What an error page needs of a request (method, URI, the language and HTMX headers, the
/// links), kept before the request is consumed.
pub fn probe(req: &Request) -> Request {
    let mut probe = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone())
        .finish();
    for name in ["lang", "accept-language", "hx-request"] {
        if let Some(value) = req.headers().get(name) {
            probe.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(info) = req.extensions().get::<ClientInfo>() {
        probe.extensions_mut().insert(info.clone());
    }
    probe
}

/// Every error from a route becomes a localized page (JSON under `/api/`); an error status
/// without a body gets one too.
pub fn finish(probe: &Request, state: &AppState, result: Result<Response>) -> Response {
    match result {
        Ok(response) => {
            let status = response.status();
            let empty_error = (status.is_client_error() || status.is_server_error())
                && response.headers().get(header::CONTENT_TYPE).is_none();
            if empty_error {
                return error_response(probe, state, status);
            }
            response
        }
        Err(err) => {
            let status = err.status();
            let method = probe.method();
            let path = super::paths::route_of(probe.uri().path());
            if status.is_server_error() {
                tracing::error!(%method, %path, error = %err, "request failed");
            } else {
                tracing::debug!(%method, %path, %status, "request refused");
            }
            error_response(probe, state, status)
        }
    }
}
