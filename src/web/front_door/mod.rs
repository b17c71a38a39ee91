//! What every request passes through on its way to a route and back: the request id and log
//! line, proxy resolution, the same-origin check, the body cap, error pages and the security
//! headers.
//!
//! One flat async function rather than six nested middleware layers: every layer's future held
//! the next one's, and each was copied into its parent when first polled — about 16 KB of
//! memcpy per request, the largest single user-space cost of serving a page (callgrind).
//! The steps themselves live in their own modules here, beside the accept loop (`server`).

pub mod body_limit;
pub mod guard;
pub mod home;
pub mod proxy;
pub mod request_log;
pub mod server;

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, Request, Response, Result};
use tracing::Instrument;
use tracing::level_filters::LevelFilter;

use super::context::RequestContext;
use super::routes::{self, RouteInfo, RouteTable};
use super::{AppState, response};
use body_limit::BodyLimits;
use home::HomeAnswers;
use request_log::RequestIds;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every request's way in and out.
pub struct FrontDoor {
    routes: RouteTable,
    state: AppState,
    /// `PUBLIC_URL`'s origin, for the same-origin check.
    public_origin: String,
    /// `PUBLIC_URL`'s path: where links point when no trusted proxy names a prefix.
    default_prefix: String,
    security_headers: HeaderMap,
    body_limits: BodyLimits,
    request_ids: RequestIds,
    /// The empty form, answered before routing.
    home: HomeAnswers,
}

impl FrontDoor {
    pub fn new(
        routes: RouteTable,
        state: AppState,
        security_headers: HeaderMap,
        body_limits: BodyLimits,
    ) -> Self {
        let default_prefix = state.public_url.path().to_owned();
        let home = HomeAnswers::new(
            state.home_pages.clone(),
            super::paths::Links::new(&default_prefix),
            |headers| secure(&security_headers, headers),
        );
        FrontDoor {
            routes,
            public_origin: state.public_url.origin().ascii_serialization(),
            default_prefix,
            state,
            security_headers,
            body_limits,
            request_ids: RequestIds::new(),
            home,
        }
    }

    /// The request's context: kept apart from the request, so that error pages can still
    /// be rendered once the route has consumed it.
    fn context(&self, req: &Request) -> Arc<RequestContext> {
        let state = &self.state;
        let peer = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
        let client = proxy::resolve(req.headers(), peer, &state.proxies, &self.default_prefix);
        Arc::new(RequestContext::new(req, &state.catalogs, client))
    }

    /// The answer, and the route that gave it (for the log line).
    async fn handle(
        &self,
        mut req: Request,
        ctx: Arc<RequestContext>,
    ) -> (Response, Option<&RouteInfo>) {
        let state = &self.state;
        req.set_data(state.clone());
        req.extensions_mut().insert(ctx.clone());
        let checked = if guard::refuses(&req, &self.public_origin) {
            Err(StatusCode::FORBIDDEN)
        } else {
            body_limit::read_capped(&mut req, self.body_limits).await
        };
        if let Err(status) = checked {
            // Refused before routing, yet named by the route it was meant for.
            let route = self.routes.route_of(req.uri()).await;
            if status == StatusCode::FORBIDDEN {
                tracing::warn!(route = routes::name(route), "cross-site request refused");
            }
            return (response::error(&ctx, state, status), route);
        }
        // HEAD is GET without the body, answered here for every route: poem's own fallback
        // drops the body before its length is known, so `Content-Length` went missing.
        let head = req.method() == Method::HEAD;
        if head {
            req.set_method(Method::GET);
        }
        let (result, route) = self.routes.call(req).await;
        let response = response::finish(&ctx, state, result, route);
        if head {
            return (without_body(response).await, route);
        }
        (response, route)
    }
}

/// The answer to HEAD: GET's headers with GET's `Content-Length`, and no body. Every body
/// here is in memory already, so measuring it costs no more than sending it would.
async fn without_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    match body.into_bytes().await {
        Ok(bytes) => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        }
        Err(err) => {
            tracing::debug!(error = %err, "the body of a HEAD answer could not be measured")
        }
    }
    Response::from_parts(parts, Body::empty())
}

/// Adds the headers every answer carries to `headers`: the security headers, and the
/// stricter policy for a raster image.
fn secure(security_headers: &HeaderMap, headers: &mut HeaderMap) {
    for (name, value) in security_headers {
        headers.insert(name, value.clone());
    }
    if super::is_raster_image(headers) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::IMAGE_CSP),
        );
    }
}

/// The request's line, in its span.
fn log_request(
    span: &tracing::Span,
    method: &Method,
    route: &str,
    status: StatusCode,
    started: Instant,
) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        let code = status.as_u16();
        // Refusals and failures are worth an operator's look; a line for every page served
        // cost a third of the throughput and repeats the reverse proxy's access log.
        if status.is_client_error() || status.is_server_error() {
            tracing::info!(%method, route, status = code, latency_ms, "request");
        } else {
            tracing::debug!(%method, route, status = code, latency_ms, "request");
        }
    });
}

impl Endpoint for FrontDoor {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let request_id = self.request_ids.next();
        let started = Instant::now();
        if let Some((mut response, route)) = self.home.answer(&req, &self.state) {
            // Nothing is logged on the way to this answer, so its span is needed only for its
            // line, which is at debug (it always succeeds): neither is made when no debug
            // line can be written.
            if tracing::Level::DEBUG <= LevelFilter::current() {
                let span = tracing::info_span!("request", request_id = %request_id);
                log_request(&span, req.method(), route, response.status(), started);
            }
            response
                .headers_mut()
                .insert(X_REQUEST_ID, request_id.header_value());
            return Ok(response);
        }
        let ctx = self.context(&req);
        let method = ctx.method.clone();
        let span = tracing::info_span!("request", request_id = %request_id);
        let (mut response, route) = self.handle(req, ctx).instrument(span.clone()).await;
        log_request(
            &span,
            &method,
            routes::name(route),
            response.status(),
            started,
        );
        secure(&self.security_headers, response.headers_mut());
        response
            .headers_mut()
            .insert(X_REQUEST_ID, request_id.header_value());
        Ok(response)
    }
}
