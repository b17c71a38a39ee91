//! One log line per request — request id, method, route, status, latency — and the id in an
//! `X-Request-Id` header, so a person's error can be found in the log. Everything the
//! request logs on its way carries the id (a span). Routes, not paths: no link tokens.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use ring::rand::{SecureRandom, SystemRandom};
use tracing::Instrument;

use super::paths::route_of;

pub struct RequestLog;

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        RequestLogEndpoint {
            inner,
            random: SystemRandom::new(),
        }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
    random: SystemRandom,
}

impl<E: Endpoint> RequestLogEndpoint<E> {
    fn request_id(&self) -> String {
        let mut bytes = [0u8; 8];
        // Without randomness the id is only less unique; the request still proceeds.
        let _ = self.random.fill(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let request_id = self.request_id();
        let method = req.method().clone();
        let route = route_of(req.uri().path());
        let span = tracing::info_span!("request", request_id = %request_id);
        let started = Instant::now();
        let result = self.inner.call(req).instrument(span.clone()).await;
        let mut response = match result {
            Ok(output) => output.into_response(),
            Err(err) => err.into_response(),
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        span.in_scope(|| {
            tracing::info!(%method, route, status = response.status().as_u16(), latency_ms, "request");
        });
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        Ok(response)
    }
}
