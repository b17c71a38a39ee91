//! Licences and group memberships in one JSON `$batch`, so the cost of a sign-up does not
//! grow with the number of groups. Sub-requests that Graph throttles, or that 404 because
//! the new user has not reached every replica yet, are sent again (only those) until done
//! or the deadline.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use super::error::{CallError, GraphApiError};
use super::retry::parse_retry_after;
use super::types::{BatchItem, BatchItemResponse, BatchRequest, BatchResponse};
use super::{GraphClient, is_guid};
use crate::directory::{DirectoryError, GrantOutcome, Grants};

/// Graph's limit of requests in one `$batch`.
const MAX_BATCH: usize = 20;
const LICENCES: &str = "licences";

/// What one sub-response means for its request.
enum Verdict {
    Done,
    Failed(GraphApiError),
    /// 429/503/504, with the sub-response's `Retry-After`.
    Throttled(Option<Duration>, GraphApiError),
    /// 404 for the user just created.
    Lagging(GraphApiError),
}

impl GraphClient {
    /// [`crate::directory::Directory::grant`]: one `$batch` (per 20 requests), nothing at all
    /// when there is nothing to grant.
    pub(super) async fn grant_batch(&self, object_id: &str, wanted: Grants) -> GrantOutcome {
        let mut items = Vec::new();
        if wanted.licences && !self.skus.is_empty() {
            items.push(self.licence_item(object_id));
        }
        if wanted.groups {
            items.extend(
                self.groups
                    .iter()
                    .enumerate()
                    .map(|(i, group)| self.member_item(i, group, object_id)),
            );
        }
        if items.is_empty() {
            return GrantOutcome {
                licences: Ok(()),
                groups: Ok(()),
            };
        }
        if !is_guid(object_id) {
            let err = DirectoryError::Failed(format!("`{object_id}` is not a Graph object id"));
            return GrantOutcome {
                licences: Err(err.clone()),
                groups: Err(err),
            };
        }
        let mut results = self.run_batch(object_id, items).await;
        let licences = match results.remove(LICENCES) {
            Some(Err(err)) => Err(err.into_directory_error("assigning licences")),
            _ => Ok(()),
        };
        let mut groups = Ok(());
        for (_, result) in results {
            if let Err(err) = result {
                let err = err.into_directory_error("adding the user to a group");
                if groups.is_ok() {
                    groups = Err(err);
                }
            }
        }
        if licences.is_ok() && groups.is_ok() {
            tracing::info!(
                object_id,
                licences = wanted.licences,
                groups = wanted.groups,
                "licences and group memberships are in place"
            );
        }
        GrantOutcome { licences, groups }
    }

    /// `assignLicense` with every configured SKU. Graph answers 200 for a SKU the user
    /// already has, so repeating it after a crash is harmless.
    fn licence_item(&self, object_id: &str) -> BatchItem {
        let add: Vec<_> = self
            .skus
            .iter()
            .map(|sku| json!({ "skuId": sku, "disabledPlans": [] }))
            .collect();
        BatchItem {
            id: LICENCES.into(),
            method: "POST",
            url: format!("/users/{object_id}/assignLicense"),
            headers: json_header(),
            body: json!({ "addLicenses": add, "removeLicenses": [] }),
        }
    }

    fn member_item(&self, index: usize, group: &str, object_id: &str) -> BatchItem {
        let member = format!("{}directoryObjects/{object_id}", self.v1);
        BatchItem {
            id: format!("group-{index}"),
            method: "POST",
            url: format!("/groups/{group}/members/$ref"),
            headers: json_header(),
            body: json!({ "@odata.id": member }),
        }
    }

    async fn run_batch(
        &self,
        object_id: &str,
        items: Vec<BatchItem>,
    ) -> HashMap<String, Result<(), CallError>> {
        let deadline = self.deadline();
        let mut results = HashMap::new();
        let url = match self.url("$batch") {
            Ok(url) => url,
            Err(err) => {
                for item in items {
                    results.insert(item.id, Err(err.clone()));
                }
                return results;
            }
        };
        let mut pending = items;
        let mut round = 0;
        let mut lag_rounds = 0;
        loop {
            round += 1;
            let mut again: Vec<(BatchItem, Verdict)> = Vec::new();
            for chunk in pending.chunks(MAX_BATCH) {
                let answers = self.post_batch(&deadline, &url, chunk).await;
                for item in chunk {
                    let verdict = match &answers {
                        Err(err) => {
                            results.insert(item.id.clone(), Err(err.clone()));
                            continue;
                        }
                        Ok(answers) => match answers.get(&item.id) {
                            Some(answer) => judge(item, answer, object_id),
                            None => {
                                let err =
                                    format!("Graph's $batch answer lacks request {}", item.id);
                                results.insert(item.id.clone(), Err(CallError::Unexpected(err)));
                                continue;
                            }
                        },
                    };
                    match verdict {
                        Verdict::Done => {
                            results.insert(item.id.clone(), Ok(()));
                        }
                        Verdict::Failed(err) => {
                            results.insert(item.id.clone(), Err(CallError::Api(err)));
                        }
                        verdict => again.push((item.clone(), verdict)),
                    }
                }
            }
            if again.is_empty() {
                return results;
            }
            let lagging = again.iter().any(|(_, v)| matches!(v, Verdict::Lagging(_)));
            if lagging {
                lag_rounds += 1;
            }
            let retry_after = again
                .iter()
                .filter_map(|(_, v)| match v {
                    Verdict::Throttled(wait, _) => *wait,
                    _ => None,
                })
                .max();
            let wait = self.net.policy.wait(round, retry_after);
            let out_of_time = !deadline.allows(wait);
            if out_of_time || lag_rounds > self.net.policy.max_lag_retries {
                for (item, verdict) in again {
                    let err = match verdict {
                        Verdict::Lagging(err) if !out_of_time => CallError::Api(err),
                        Verdict::Lagging(err) | Verdict::Throttled(_, err) => {
                            CallError::Unavailable(format!(
                                "{err}; gave up after {round} rounds (deadline {} s)",
                                self.net.policy.deadline.as_secs()
                            ))
                        }
                        Verdict::Done | Verdict::Failed(_) => continue,
                    };
                    results.insert(item.id, Err(err));
                }
                return results;
            }
            tracing::info!(
                requests = again.len(),
                lagging,
                wait_ms = wait.as_millis() as u64,
                "Graph throttled parts of the batch or does not know the new user yet; sending them again"
            );
            tokio::time::sleep(wait).await;
            pending = again.into_iter().map(|(item, _)| item).collect();
        }
    }

    /// One `$batch` round trip; the answers by request id.
    async fn post_batch(
        &self,
        deadline: &super::retry::Deadline,
        url: &url::Url,
        chunk: &[BatchItem],
    ) -> Result<HashMap<String, BatchItemResponse>, CallError> {
        let body = serde_json::to_vec(&BatchRequest {
            requests: chunk.iter().collect(),
        })
        .map_err(|err| CallError::Unexpected(format!("cannot encode the batch: {err}")))?;
        let body = bytes::Bytes::from(body);
        let reply = self
            .send(deadline, "batch", |http| {
                http.post(url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        let response: BatchResponse = reply.json()?;
        Ok(response
            .responses
            .into_iter()
            .map(|answer| (answer.id.clone(), answer))
            .collect())
    }
}

fn json_header() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("Content-Type", "application/json")])
}

fn judge(item: &BatchItem, answer: &BatchItemResponse, object_id: &str) -> Verdict {
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
                Verdict::Lagging(err)
            }
        }
        429 | 503 | 504 => Verdict::Throttled(
            answer.header("Retry-After").and_then(parse_retry_after),
            err,
        ),
        _ => Verdict::Failed(err),
    }
}
