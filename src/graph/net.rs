//! What every Graph request is sent with, shared by the token source and the calls.

use std::time::Duration;

use super::pacer::Pacer;
use super::retry::{Deadline, RetryPolicy};

/// What every request needs: the HTTP client, its timeout, the retry limits and the write
/// budget shared with every other request.
#[derive(Debug)]
pub(super) struct Net {
    pub(super) http: reqwest::Client,
    pub(super) timeout: Duration,
    pub(super) policy: RetryPolicy,
    pub(super) pacer: Pacer,
}

impl Net {
    /// `GRAPH_API_TIMEOUT_SECONDS`, or less when the step's deadline is nearer.
    pub(super) fn request_timeout(&self, deadline: &Deadline) -> Duration {
        self.timeout.min(deadline.remaining())
    }
}

/// A reqwest error without its URL: the URL is known from context, and reqwest would print
/// query strings (names) in full.
pub(super) fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    let mut source = std::error::Error::source(err);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}
