//! One place that turns failures into responses: a localized page, or the fragment alone for
//! HTMX requests. Internal details go to the log, never to the client.

use maud::Markup;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::AppState;
use super::pages::{layout, status};
use super::proxy::links;
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
    let mut response = Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.into_string());
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("HX-Request, Accept-Language, lang"),
    );
    response
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

/// Middleware body: every error from an inner endpoint becomes a localized page.
pub async fn render_errors<E: Endpoint>(
    inner: std::sync::Arc<E>,
    req: Request,
) -> Result<Response> {
    let Some(state) = req.data::<AppState>().cloned() else {
        return inner.call(req).await.map(IntoResponse::into_response);
    };
    let method = req.method().clone();
    let path = super::paths::route_of(req.uri().path());
    // What the error page needs of the request (language, HTMX), kept before it is consumed.
    let mut probe = Request::builder()
        .method(method.clone())
        .uri(req.uri().clone())
        .finish();
    *probe.headers_mut() = req.headers().clone();
    match inner.call(req).await {
        Ok(response) => {
            let response = response.into_response();
            let status = response.status();
            let empty_error = (status.is_client_error() || status.is_server_error())
                && response.headers().get(header::CONTENT_TYPE).is_none();
            if empty_error {
                return Ok(error_response(&probe, &state, status));
            }
            Ok(response)
        }
        Err(err) => {
            let status = err.status();
            if status.is_server_error() {
                tracing::error!(%method, %path, error = %err, "request failed");
            } else {
                tracing::debug!(%method, %path, %status, "request refused");
            }
            Ok(error_response(&probe, &state, status))
        }
    }
}
