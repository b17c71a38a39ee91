//! `check` for the licences and groups something other than the settings names: each
//! voucher's own. The tenant's SKUs are listed once for all of them.

use super::{CheckResult, judge_sku};
use crate::domain::DirectoryId;
use crate::graph::GraphClient;

/// Who names licences and groups of their own, e.g. a voucher.
#[derive(Debug, Clone, Copy)]
pub struct GrantOwner<'a> {
    /// How results name it, e.g. `voucher Course 42`.
    pub name: &'a str,
    /// What to correct when an id is wrong, e.g. `the voucher: revoke it and make another`.
    pub fix: &'a str,
    pub licences: &'a [DirectoryId],
    pub groups: &'a [DirectoryId],
}

impl GraphClient {
    /// One result per licence and per group of each owner, named after the owner.
    pub(super) async fn check_owners(&self, owners: &[GrantOwner<'_>]) -> Vec<CheckResult> {
        let mut results = Vec::new();
        if owners.iter().any(|owner| !owner.licences.is_empty()) {
            match self.subscribed_skus().await {
                Ok(skus) => {
                    for owner in owners {
                        let label = format!("{}: licence SKU", owner.name);
                        results.extend(
                            owner
                                .licences
                                .iter()
                                .map(|sku| judge_sku(&skus, sku.as_str(), &label, owner.fix)),
                        );
                    }
                }
                Err(failed) => results.push(failed),
            }
        }
        for owner in owners {
            let label = format!("{}: group", owner.name);
            for group in owner.groups {
                results.push(
                    self.check_named_group(group.as_str(), &label, owner.fix)
                        .await,
                );
            }
        }
        results
    }
}
