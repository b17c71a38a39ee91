//! One Graph request with everything around it: the bearer token, waiting out 429/503/504
//! and network errors until the deadline, and one token refresh when Graph calls the token
//! invalid. What is left is an answer for the caller to interpret.

use bytes::Bytes;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::GraphClient;
use super::auth::{is_transient, without_url};
use super::error::{CallError, GraphApiError};
use super::retry::{self, Deadline};

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
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self
                .auth
                .token(&self.net, deadline)
                .await
                .map_err(CallError::Auth)?;
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
            let (problem, retry_after) = match sent {
                Err(err) => (without_url(&err), None),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry::retry_after(response.headers());
                    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
                    let request_id = header("request-id").map(str::to_owned);
                    let date = header("date")
                        .and_then(|date| httpdate::parse_http_date(date).ok())
                        .and_then(|date| date.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|since| since.as_secs());
                    if is_transient(status) {
                        (format!("Graph answered {status}"), retry_after)
                    } else {
                        match response.bytes().await {
                            // The body was cut off: as good as a network error.
                            Err(err) => (without_url(&err), None),
                            Ok(body) => {
                                let reply = Reply {
                                    status,
                                    request_id,
                                    date,
                                    body,
                                };
                                if status == StatusCode::UNAUTHORIZED
                                    && !refreshed
                                    && reply.error().code == "InvalidAuthenticationToken"
                                {
                                    // Revoked or expired early: one new token, then believe it.
                                    tracing::info!(
                                        operation,
                                        "Graph refused the cached token; getting a new one"
                                    );
                                    self.auth.invalidate(&token).await;
                                    refreshed = true;
                                    continue;
                                }
                                return Ok(reply);
                            }
                        }
                    }
                }
            };
            let wait = self.net.policy.wait(attempt, retry_after);
            if !deadline.allows(wait) {
                return Err(CallError::Unavailable(format!(
                    "{problem}; gave up after {attempt} attempts (deadline {} s)",
                    self.net.policy.deadline.as_secs()
                )));
            }
            tracing::info!(
                operation,
                problem = %problem,
                wait_ms = wait.as_millis() as u64,
                "Graph is busy or unreachable; waiting before trying again"
            );
            tokio::time::sleep(wait).await;
        }
    }
}
