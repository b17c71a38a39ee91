//! The one place that turns an outcome into a response: a full page, the HTMX fragment alone
//! (retargeted where the fragment replaces something else than the request aimed at), or
//! JSON under `/api/`. Internal details go to the log, never to the client.

use bytes::Bytes;
use maud::Markup;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, IntoResponse, Response, Result};

use super::AppState;
use super::context::RequestContext;
use super::encoding::Encoding;
use super::pages::{layout, status};
use super::routes::{self, RouteInfo};
use crate::i18n::Tr;

/// An HTML answer in `tr`'s language: the fragment alone for HTMX, the page around it
/// otherwise.
pub fn html(
    ctx: &RequestContext,
    state: &AppState,
    tr: &Tr,
    status: StatusCode,
    title: &str,
    fragment: Markup,
) -> Response {
    let body = if ctx.htmx {
        fragment
    } else {
        layout::page(
            tr,
            &state.catalogs,
            ctx.links(),
            &ctx.switch_to,
            title,
            fragment,
        )
    };
    html_body(status, body.into_string().into())
}

/// An HTML body with the headers every page carries.
pub fn html_body(status: StatusCode, body: Body) -> Response {
    html_with_vary(status, body, "HX-Request, Accept-Language, lang")
}

/// [`html_body`] for a page kept in compressed forms: `encoding`'s, and varying with
/// `Accept-Encoding` too.
pub fn html_encoded(status: StatusCode, encoding: Encoding, body: Bytes) -> Response {
    let vary = "HX-Request, Accept-Language, lang, Accept-Encoding";
    let mut response = html_with_vary(status, Body::from_bytes(body), vary);
    encoding.mark(response.headers_mut());
    response
}

fn html_with_vary(status: StatusCode, body: Body, vary: &'static str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::VARY, vary)
        .body(body)
}

/// The answer for an error status: JSON under `/api/`, else the localized error page —
/// for HTMX replacing the whole form region (sign-up or password reset), whatever the
/// request targeted.
pub fn error(ctx: &RequestContext, state: &AppState, status: StatusCode) -> Response {
    if ctx.api {
        return json_error(ctx, status);
    }
    let tr = ctx.tr();
    let region = ctx.form_region.trim_start_matches('#');
    let panel = status::error_panel(tr, ctx.links(), status, region);
    let mut response = html(ctx, state, tr, status, status::title(tr, status), panel);
    if ctx.htmx {
        let headers = response.headers_mut();
        headers.insert("hx-retarget", HeaderValue::from_static(ctx.form_region));
        headers.insert("hx-reswap", HeaderValue::from_static("outerHTML"));
    }
    response
}

/// `{"message": …}` in the request's language.
fn json_error(ctx: &RequestContext, status: StatusCode) -> Response {
    let msgid = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            "The request body is not valid JSON of the documented shape."
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Send the request body as application/json.",
        _ => status::title_msgid(status),
    };
    let body = serde_json::json!({ "message": ctx.tr().t(msgid) });
    poem::web::Json(body).with_status(status).into_response()
}

/// Every error from a route becomes [`error`]'s answer; an error status without a body gets
/// one too, and a 405 the methods its `route` answers.
pub fn finish(
    ctx: &RequestContext,
    state: &AppState,
    result: Result<Response>,
    route: Option<&RouteInfo>,
) -> Response {
    let mut response = match result {
        Ok(response) => {
            let status = response.status();
            let empty_error = (status.is_client_error() || status.is_server_error())
                && response.headers().get(header::CONTENT_TYPE).is_none();
            if empty_error {
                rebuilt(error(ctx, state, status), &response)
            } else {
                response
            }
        }
        Err(err) => {
            let status = err.status();
            let (method, route) = (&ctx.method, routes::name(route));
            if status.is_server_error() {
                tracing::error!(%method, %route, error = %err, "request failed");
            } else {
                tracing::debug!(%method, %route, %status, "request refused");
            }
            rebuilt(error(ctx, state, status), &err.into_response())
        }
    };
    let allow = route.and_then(|route| route.allow.as_ref());
    if let Some(allow) = allow.filter(|_| response.status() == StatusCode::METHOD_NOT_ALLOWED) {
        let headers = response.headers_mut();
        if !headers.contains_key(header::ALLOW) {
            headers.insert(header::ALLOW, allow.clone());
        }
    }
    response
}

/// `answer` with the headers of the `original` it replaces that say what to do next:
/// `Retry-After` (429, 503) and `Allow` (405).
pub fn rebuilt(mut answer: Response, original: &Response) -> Response {
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(value) = original.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}
