//! What every request passes through on its way to a route and back: the request id and log
//! line, proxy resolution, the same-origin check, the body cap, error pages and the security
//! headers.
//!
//! One flat async function rather than six nested middleware layers: every layer's future held
//! the next one's, and each was copied into its parent when first polled — about 16 KB of
//! memcpy per request, the largest single user-space cost of serving a page (callgrind).
//! The steps themselves live in their own modules.

use std::time::{Duration, Instant};

use poem::endpoint::{BoxEndpoint, DynEndpoint};
use poem::http::{HeaderMap, HeaderValue, StatusCode};
use poem::{Endpoint, Request, Response, Result};
use tracing::Instrument;

use super::paths::route_of;
use super::request_log::RequestIds;
use super::{AppState, body_limit, error, guard, proxy};

/// Limits on request bodies.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Largest body accepted; a larger one is answered 413.
    pub max_bytes: usize,
    /// The whole body must arrive within this time, or the answer is 408.
    pub read_timeout: Duration,
}

pub struct FrontDoor {
    routes: BoxEndpoint<'static>,
    state: AppState,
    /// `PUBLIC_URL`'s origin, for the same-origin check.
    public_origin: String,
    /// `PUBLIC_URL`'s path: where links point when no trusted proxy names a prefix.
    default_prefix: String,
    security_headers: HeaderMap,
    body_limits: BodyLimits,
    request_ids: RequestIds,
}

impl FrontDoor {
    pub fn new(
        routes: BoxEndpoint<'static>,
        state: AppState,
        security_headers: HeaderMap,
        body_limits: BodyLimits,
    ) -> Self {
        FrontDoor {
            routes,
            public_origin: state.public_url.origin().ascii_serialization(),
            default_prefix: state.public_url.path().to_owned(),
            state,
            security_headers,
            body_limits,
            request_ids: RequestIds::new(),
        }
    }

    async fn handle(&self, mut req: Request) -> Response {
        let state = &self.state;
        req.set_data(state.clone());
        proxy::attach_client_info(&mut req, state.trusted_proxies, &self.default_prefix);
        // What an error page needs of the request (language, HTMX, links), kept before the
        // route consumes it.
        let probe = error::probe(&req);
        if guard::refuses(&req, &self.public_origin) {
            return error::error_response(&probe, state, StatusCode::FORBIDDEN);
        }
        if let Err(status) = body_limit::read_capped(&mut req, self.body_limits).await {
            return error::error_response(&probe, state, status);
        }
        let result = DynEndpoint::call(self.routes.as_ref(), req).await;
        error::finish(&probe, state, result)
    }
}

impl Endpoint for FrontDoor {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let request_id = self.request_ids.next();
        let method = req.method().clone();
        let route = route_of(req.uri().path());
        let span = tracing::info_span!("request", request_id = %request_id);
        let started = Instant::now();
        let mut response = self.handle(req).instrument(span.clone()).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = response.status();
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
        let headers = response.headers_mut();
        for (name, value) in &self.security_headers {
            headers.insert(name, value.clone());
        }
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert("x-request-id", value);
        }
        Ok(response)
    }
}
