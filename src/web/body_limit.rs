//! Caps every request body: a declared `Content-Length` over the cap is refused at once
//! with 413; a body without one is cut after the cap, so no handler reads more.

use poem::http::StatusCode;
use poem::{Body, Endpoint, Middleware, Request, Result};
use tokio::io::AsyncReadExt;

pub struct BodyLimit(pub usize);

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint { inner, max: self.0 }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    max: usize,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max as u64) {
            return Err(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        if declared.is_none() {
            // One byte more than allowed, so readers that check the size see the excess.
            let limited = req.take_body().into_async_read().take(self.max as u64 + 1);
            req.set_body(Body::from_async_read(limited));
        }
        self.inner.call(req).await
    }
}
