//! One Graph request with everything around it: the bearer token, waiting out 429/503/504
//! and network errors until the deadline, and one token refresh when Graph calls the token
//! invalid. What is left is an answer for the caller to interpret.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::GraphClient;
use super::error::{CallError, GraphApiError};
use super::net::without_url;
use super::retry::{self, Attempt, Deadline, Retrier, Retry, Stop, is_transient};

/// A final answer from Graph (success or refusal).
pub struct Reply {
    pub status: StatusCode,
    pub request_id: Option<String>,
    /// Graph's clock when it answered (the `Date` header), in Unix seconds.
    pub date: Option<u64>,
    pub body: Bytes,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The refusal as Graph described it.
    pub fn error(&self) -> GraphApiError {
        GraphApiError::from_body(self.status.as_u16(), self.request_id.clone(), &self.body)
    }

    /// The success body, or the refusal as [`CallError::Api`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        if !self.is_success() {
            return Err(CallError::Api(self.error()));
        }
        serde_json::from_slice(&self.body).map_err(|err| {
            CallError::Unexpected(format!(
                "Graph answered {} with a body we cannot read: {err}",
                self.status
            ))
        })
    }
}

impl GraphClient {
    /// Sends the request `build` makes (again for every attempt) until Graph answers with
    /// something other than throttling or an outage, or the deadline comes.
    pub(super) async fn send(
        &self,
        deadline: &Deadline,
        operation: &'static str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, CallError> {
        self.send_writes(deadline, operation, 0, build).await
    }

    /// [`send`](Self::send) for a request that makes `writes` directory writes: each
    /// attempt waits for its share of the write budget first.
    pub(super) async fn send_writes(
        &self,
        deadline: &Deadline,
        operation: &'static str,
        writes: u32,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, CallError> {
        // One new token per request at most: a second refusal is believed. Atomic only
        // because the attempts' futures must be `Send`; they run one after another.
        let refreshed = AtomicBool::new(false);
        Retrier::new(operation, &self.net.policy, *deadline)
            .run(|| self.attempt(deadline, operation, writes, &build, &refreshed))
            .await
            .map_err(|stop| match stop {
                Stop::GaveUp(err) => err,
                Stop::Exhausted {
                    problem, attempts, ..
                } => CallError::Unavailable(format!(
                    "{problem}; gave up after {attempts} attempts (deadline {} s)",
                    self.net.policy.deadline.as_secs()
                )),
            })
    }

    /// One try with the cached token, judged: a reply, or a retry when Graph is busy or
    /// unreachable, or at once with a new token when Graph calls the cached one invalid.
    async fn attempt(
        &self,
        deadline: &Deadline,
        operation: &'static str,
        writes: u32,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        refreshed: &AtomicBool,
    ) -> Attempt<Reply, CallError, String> {
        // Reads wait out a pause too: a throttled tenant is throttled for them as well.
        if let Err(held) = self.net.pacer.admit(writes, deadline.remaining()).await {
            return Attempt::Retry(Retry::busy(held.to_string(), Some(held.wait())));
        }
        let token = match self.auth.token(&self.net, deadline).await {
            Ok(token) => token,
            Err(err) => return Attempt::GiveUp(CallError::Auth(err)),
        };
        let started = std::time::Instant::now();
        let sent = build(&self.net.http)
            .bearer_auth(token.expose())
            .timeout(self.net.request_timeout(deadline))
            .send()
            .await;
        if let Some(metrics) = &self.metrics {
            let status = sent
                .as_ref()
                .ok()
                .map(|response| response.status().as_u16());
            metrics.graph_call(operation, status, started.elapsed().as_secs_f64());
        }
        let reply = match sent {
            Err(err) => Err(Retry::busy(without_url(&err), None)),
            Ok(response) => {
                let retry_after = retry::retry_after(response.headers());
                self.pause_if_throttled(response.status(), retry_after)
                    .await;
                Reply::read(response).await
            }
        };
        match reply {
            Err(retry) => Attempt::Retry(retry),
            Ok(reply)
                if reply.status == StatusCode::UNAUTHORIZED
                    && reply.error().code == "InvalidAuthenticationToken"
                    && !refreshed.swap(true, Ordering::Relaxed) =>
            {
                // Revoked or expired early: one new token, then believe it.
                tracing::info!(
                    operation,
                    "Graph refused the cached token; getting a new one"
                );
                self.auth.invalidate(&token).await;
                Attempt::Again
            }
            Ok(reply) => Attempt::Done(reply),
        }
    }
}

impl GraphClient {
    /// One 429 with `Retry-After` pauses every request of this process (and, with a shared
    /// budget, of every instance), not only the one that drew it: the budget Graph counts is
    /// the tenant's.
    pub(super) async fn pause_if_throttled(
        &self,
        status: StatusCode,
        retry_after: Option<std::time::Duration>,
    ) {
        if status == StatusCode::TOO_MANY_REQUESTS {
            if let Some(wait) = retry_after {
                self.net.pacer.pause(wait).await;
            }
        }
    }
}

impl Reply {
    /// The answer, unless it is throttling or an outage, or its body was cut off.
    async fn read(response: reqwest::Response) -> Result<Reply, Retry<String>> {
        let status = response.status();
        if is_transient(status) {
            let retry_after = retry::retry_after(response.headers());
            return Err(Retry::busy(format!("Graph answered {status}"), retry_after));
        }
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        let request_id = header("request-id").map(str::to_owned);
        let date = header("date")
            .and_then(|date| httpdate::parse_http_date(date).ok())
            .and_then(|date| date.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|since| since.as_secs());
        // A body cut off is as good as a network error.
        let body = response
            .bytes()
            .await
            .map_err(|err| Retry::busy(without_url(&err), None))?;
        Ok(Reply {
            status,
            request_id,
            date,
            body,
        })
    }
}
