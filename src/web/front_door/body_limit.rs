//! Caps every request body: a declared `Content-Length` over the cap is refused at once with
//! 413; a body is read whole before the route sees it, so one without a declared length is
//! cut at the cap, and one that trickles in slower than the read timeout is answered 408
//! instead of holding a task for as long as the client likes.

use std::time::Duration;

use poem::http::{Method, StatusCode, header};
use poem::{Body, Request};

/// Largest request body accepted (the sign-up form is well under 2 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Limits on request bodies.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Largest body accepted; a larger one is answered 413.
    pub max_bytes: usize,
    /// The whole body must arrive within this time, or the answer is 408.
    pub read_timeout: Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_bytes: MAX_BODY_BYTES,
            read_timeout: Duration::from_secs(20),
        }
    }
}

/// Reads the body within the limits and puts it back, buffered.
pub async fn read_capped(req: &mut Request, limits: BodyLimits) -> Result<(), StatusCode> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    // No route reads a body on these; leave it to hyper rather than wait for it.
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let read = req.take_body().into_bytes_limit(limits.max_bytes);
    let bytes = match tokio::time::timeout(limits.read_timeout, read).await {
        Err(_elapsed) => return Err(StatusCode::REQUEST_TIMEOUT),
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        Ok(Err(_)) => return Err(StatusCode::BAD_REQUEST),
        Ok(Ok(bytes)) => bytes,
    };
    req.set_body(Body::from_bytes(bytes));
    Ok(())
}
