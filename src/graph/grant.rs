//! Licences and group memberships in one JSON `$batch`, so the cost of a sign-up does not
//! grow with the number of groups. Sub-requests that Graph throttles, or that 404 because
//! the new user has not reached every replica yet, are sent again (only those) until done
//! or the deadline.

mod verdict;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::ops::ControlFlow;

use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use url::Url;

use super::error::CallError;
use super::retry::{Attempt, Deadline, Retrier, Stop, parse_retry_after};
use super::types::{BatchItem, BatchItemResponse, BatchRequest, BatchResponse};
use super::{GraphClient, is_guid};
use crate::directory::{DirectoryError, GrantOutcome, Grants, OwnGrants};
use verdict::{Unfinished, Verdict, judge};

/// Graph's limit of requests in one `$batch`.
const MAX_BATCH: usize = 20;
const LICENCES: &str = "licences";

/// Each request's outcome, by request id.
type Results = HashMap<String, Result<(), CallError>>;

impl GraphClient {
    /// [`crate::directory::Directory::grant_with`]: one `$batch` (per 20 requests), nothing
    /// at all when there is nothing to grant. `own` licences and groups replace the
    /// configured ones.
    pub(super) async fn grant_batch(
        &self,
        object_id: &str,
        wanted: Grants,
        own: OwnGrants<'_>,
    ) -> GrantOutcome {
        let ids = |own: Option<&[crate::domain::DirectoryId]>, configured: &[String]| match own {
            Some(own) => own.iter().map(|id| id.as_str().to_owned()).collect(),
            None => configured.to_vec(),
        };
        let skus: Vec<String> = ids(own.licences, &self.skus);
        let groups: Vec<String> = ids(own.groups, &self.groups);
        let mut items = Vec::new();
        if wanted.licences && !skus.is_empty() {
            items.push(self.licence_item(object_id, &skus));
        }
        if wanted.groups {
            items.extend(
                groups
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
            Some(Err(err)) => Err(self.licence_error(err, &skus)),
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

    /// A refused `assignLicense`: for lack of seats it is [`DirectoryError::NoSeat`] (which
    /// the kept seat count learns too); anything else is logged as a failure. `skus`: the
    /// ones asked for (the configured ones, or a voucher's own).
    fn licence_error(&self, err: CallError, skus: &[String]) -> DirectoryError {
        let (named, said) = match &err {
            CallError::Api(api) => (api.no_seat_left(), api.message.clone()),
            _ => (None, String::new()),
        };
        let Some(named) = named else {
            return err.into_directory_error("assigning licences");
        };
        // Graph names the SKU; if it ever does not, the first one asked for is meant.
        let sku = named
            .or_else(|| skus.first().map(|sku| sku.to_ascii_lowercase()))
            .unwrap_or_default();
        tracing::info!(sku = %sku, graph = %said, "Graph refused a licence: no free seat left");
        self.seat_cache.taken_up(&sku);
        DirectoryError::NoSeat { sku, said }
    }

    /// `assignLicense` with every SKU in `skus`. Graph answers 200 for a SKU the user
    /// already has, so repeating it after a crash is harmless.
    fn licence_item(&self, object_id: &str, skus: &[String]) -> BatchItem {
        let add: Vec<_> = skus
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

    /// Sends `items` in `$batch` rounds until each is done or failed, sending only the
    /// throttled and lagging ones again; at the deadline or the lag limit they fail too.
    async fn run_batch(&self, object_id: &str, items: Vec<BatchItem>) -> Results {
        let deadline = self.deadline();
        let url = match self.url("$batch") {
            Ok(url) => url,
            Err(err) => {
                return items
                    .into_iter()
                    .map(|item| (item.id, Err(err.clone())))
                    .collect();
            }
        };
        let mut results = Results::new();
        let mut pending = items;
        let mut retrier = Retrier::new("batch", &self.net.policy, deadline);
        // Not `Retrier::run`: every round starts from the last one's unfinished requests.
        loop {
            let round = self
                .batch_round(&deadline, &url, object_id, &pending, &mut results)
                .await;
            let attempt: Attempt<(), Infallible, Unfinished> = if round.0.is_empty() {
                Attempt::Done(())
            } else {
                pending = round.0.iter().map(|(item, _)| item.clone()).collect();
                Attempt::Retry(round.retry())
            };
            match retrier.settle(attempt).await {
                ControlFlow::Continue(()) => {}
                ControlFlow::Break(Ok(())) => return results,
                ControlFlow::Break(Err(Stop::GaveUp(never))) => match never {},
                ControlFlow::Break(Err(Stop::Exhausted {
                    problem,
                    attempts,
                    out_of_time,
                })) => {
                    let why = format!(
                        "gave up after {attempts} rounds (deadline {} s)",
                        self.net.policy.deadline.as_secs()
                    );
                    results.extend(problem.failures(out_of_time, &why));
                    return results;
                }
            }
        }
    }

    /// One round: `pending` in `$batch`es of at most 20. Final answers go into `results`;
    /// the requests worth sending again come back with their verdicts.
    async fn batch_round(
        &self,
        deadline: &Deadline,
        url: &Url,
        object_id: &str,
        pending: &[BatchItem],
        results: &mut Results,
    ) -> Unfinished {
        let mut again = Vec::new();
        for chunk in pending.chunks(MAX_BATCH) {
            let answers = match self.post_batch(deadline, url, chunk).await {
                Ok(answers) => answers,
                Err(err) => {
                    for item in chunk {
                        results.insert(item.id.clone(), Err(err.clone()));
                    }
                    continue;
                }
            };
            for answer in answers.values() {
                let retry_after = answer.header("Retry-After").and_then(parse_retry_after);
                let status = reqwest::StatusCode::from_u16(answer.status).unwrap_or_default();
                self.pause_if_throttled(status, retry_after).await;
            }
            for item in chunk {
                let Some(answer) = answers.get(&item.id) else {
                    let err = format!("Graph's $batch answer lacks request {}", item.id);
                    results.insert(item.id.clone(), Err(CallError::Unexpected(err)));
                    continue;
                };
                match judge(item, answer, object_id) {
                    Verdict::Done => {
                        results.insert(item.id.clone(), Ok(()));
                    }
                    Verdict::Failed(err) => {
                        results.insert(item.id.clone(), Err(CallError::Api(err)));
                    }
                    Verdict::Again(why) => again.push((item.clone(), why)),
                }
            }
        }
        Unfinished(again)
    }

    /// One `$batch` round trip; the answers by request id.
    async fn post_batch(
        &self,
        deadline: &Deadline,
        url: &Url,
        chunk: &[BatchItem],
    ) -> Result<HashMap<String, BatchItemResponse>, CallError> {
        let body = serde_json::to_vec(&BatchRequest {
            requests: chunk.iter().collect(),
        })
        .map_err(|err| CallError::Unexpected(format!("cannot encode the batch: {err}")))?;
        let body = bytes::Bytes::from(body);
        // A `$batch` costs Graph's budget as many writes as it has parts.
        let writes = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        let reply = self
            .send_writes(deadline, "batch", writes, |http| {
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
