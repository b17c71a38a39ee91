//! What a `$batch` sub-response means for its request, and what a round leaves to send again.

use std::fmt;
use std::time::Duration;

use crate::graph::error::{CallError, GraphApiError};
use crate::graph::retry::{Retry, parse_retry_after};
use crate::graph::types::{BatchItem, BatchItemResponse};

/// What one sub-response means for its request.
pub(super) enum Verdict {
    Done,
    Failed(GraphApiError),
    Again(Again),
}

/// Why a request is worth sending again.
pub(super) enum Again {
    /// 429/503/504, with the sub-response's `Retry-After`.
    Throttled(Option<Duration>, GraphApiError),
    /// 404 for the user just created.
    Lagging(GraphApiError),
}

/// The requests of a round worth sending again, with why.
pub(super) struct Unfinished(pub(super) Vec<(BatchItem, Again)>);

impl Unfinished {
    /// Throttled ones wait for the longest `Retry-After`; lagging ones count against the
    /// lag limit.
    pub(super) fn retry(self) -> Retry<Self> {
        let retry_after = self
            .0
            .iter()
            .filter_map(|(_, again)| match again {
                Again::Throttled(wait, _) => *wait,
                Again::Lagging(_) => None,
            })
            .max();
        let lag = self.lagging() > 0;
        Retry {
            problem: self,
            retry_after,
            lag,
        }
    }

    /// What each request fails with when no round is left: a lagging one still unknown
    /// after every lag retry is Graph's 404; the others ran out of time (`why`).
    pub(super) fn failures(
        self,
        out_of_time: bool,
        why: &str,
    ) -> impl Iterator<Item = (String, Result<(), CallError>)> {
        self.0.into_iter().map(move |(item, again)| {
            let err = match again {
                Again::Lagging(err) if !out_of_time => CallError::Api(err),
                Again::Lagging(err) | Again::Throttled(_, err) => {
                    CallError::Unavailable(format!("{err}; {why}"))
                }
            };
            (item.id, Err(err))
        })
    }

    fn lagging(&self) -> usize {
        self.0
            .iter()
            .filter(|(_, again)| matches!(again, Again::Lagging(_)))
            .count()
    }
}

impl fmt::Display for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lagging = self.lagging();
        write!(
            f,
            "{} requests throttled or unavailable, {lagging} about a user Graph does not know yet",
            self.0.len() - lagging
        )
    }
}

/// Reads `answer`, the sub-response to `item` about the user `object_id`.
pub(super) fn judge(item: &BatchItem, answer: &BatchItemResponse, object_id: &str) -> Verdict {
    if (200..300).contains(&answer.status) {
        return Verdict::Done;
    }
    let err = GraphApiError::from_value(
        answer.status,
        answer.header("request-id").map(str::to_owned),
        &answer.body,
    );
    match answer.status {
        400 if err.is_already_member() => Verdict::Done,
        404 => {
            // Graph names the missing object. A missing group is a configuration error that
            // waiting does not fix; a missing user is replication lag.
            let group_missing = item.url.starts_with("/groups/")
                && !err.message.contains(object_id)
                && item
                    .url
                    .split('/')
                    .nth(2)
                    .is_some_and(|group| err.message.contains(group));
            if group_missing {
                Verdict::Failed(err)
            } else {
                Verdict::Again(Again::Lagging(err))
            }
        }
        429 | 503 | 504 => Verdict::Again(Again::Throttled(
            answer.header("Retry-After").and_then(parse_retry_after),
            err,
        )),
        _ => Verdict::Failed(err),
    }
}
