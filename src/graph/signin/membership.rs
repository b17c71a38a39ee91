//! Who may enter: members of one of `ADMIN_GROUP_IDS`. The id_token's `groups` claim says
//! so at no cost; when Entra left the groups out (more than 200 of them: the overage claim,
//! or no groups claim configured at all), one Graph `checkMemberGroups` call asks the
//! directory, transitively, with the app's own token.

use serde_json::{Value, json};

use super::{SignInError, TokenCheck};
use crate::graph::error::CallError;
use crate::graph::{GraphClient, is_guid};

/// `ADMIN_GROUP_IDS`: the groups whose members may use the operator console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminGroups(Vec<String>);

/// Why `ADMIN_GROUP_IDS` cannot be used; each message says what to change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminGroupsError {
    #[error(
        "ADMIN_GROUP_IDS is empty, so nobody could sign in to the console: name the object id of at least one Entra group of operators, or set ADMIN_ENABLED = false"
    )]
    Empty,
    #[error(
        "ADMIN_GROUP_IDS: `{0}` is not a group object id (a GUID); copy the Object ID from the group's overview in the Entra admin centre"
    )]
    NotGuid(String),
    #[error(
        "ADMIN_GROUP_IDS names {0} groups, at most 20 are possible (Graph checks at most 20 in one call): gather the operators in fewer groups"
    )]
    TooMany(usize),
}

impl AdminGroups {
    /// The most groups one `checkMemberGroups` call takes.
    pub const MAX: usize = 20;

    /// One to [`MAX`](Self::MAX) group object ids, compared in lower case; blank entries
    /// (a trailing comma) are skipped and repeats dropped.
    pub fn parse(ids: &[String]) -> Result<Self, AdminGroupsError> {
        let mut groups: Vec<String> = Vec::new();
        for id in ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()) {
            if !is_guid(id) {
                return Err(AdminGroupsError::NotGuid(id.to_owned()));
            }
            let id = id.to_ascii_lowercase();
            if !groups.contains(&id) {
                groups.push(id);
            }
        }
        match groups.len() {
            0 => Err(AdminGroupsError::Empty),
            n if n > Self::MAX => Err(AdminGroupsError::TooMany(n)),
            _ => Ok(AdminGroups(groups)),
        }
    }

    /// The group ids, lower case.
    pub fn ids(&self) -> &[String] {
        &self.0
    }

    fn contains_any(&self, groups: &[String]) -> bool {
        groups
            .iter()
            .any(|group| self.0.contains(&group.to_ascii_lowercase()))
    }
}

/// What the id_token says about the person's groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupsClaim {
    /// The group ids (security groups, transitive), as configured in Token configuration.
    Listed(Vec<String>),
    /// Too many groups for a token: `_claim_names`/`_claim_sources` or `hasgroups` instead.
    Overage,
    /// No groups claim: the person is in no group, or the app does not ask for the claim.
    Absent,
}

impl GraphClient {
    /// Whether the user is a member of one of `groups`: from the claim when it lists the
    /// groups, else by one `checkMemberGroups` call.
    pub(super) async fn is_member(
        &self,
        object_id: &str,
        claim: &GroupsClaim,
        groups: &AdminGroups,
    ) -> Result<bool, SignInError> {
        match claim {
            GroupsClaim::Listed(listed) => Ok(groups.contains_any(listed)),
            GroupsClaim::Overage | GroupsClaim::Absent => {
                tracing::info!(
                    overage = matches!(claim, GroupsClaim::Overage),
                    "the id_token lists no groups; asking Graph about the operator groups"
                );
                let found = self.check_member_groups(object_id, groups).await?;
                Ok(groups.contains_any(&found))
            }
        }
    }

    /// `POST /users/{id}/checkMemberGroups`: those of `groups` the user is in, transitively.
    async fn check_member_groups(
        &self,
        object_id: &str,
        groups: &AdminGroups,
    ) -> Result<Vec<String>, SignInError> {
        // A GUID is safe in a URL path; anything else did not come from Entra.
        if !is_guid(object_id) {
            return Err(SignInError::BadToken(TokenCheck::Malformed));
        }
        let url = self
            .url(&format!("users/{object_id}/checkMemberGroups"))
            .map_err(|err| SignInError::Internal(err.to_string()))?;
        let body = json!({ "groupIds": groups.ids() });
        let reply = self
            .send(&self.deadline(), "check member groups", |http| {
                http.post(url.clone()).json(&body)
            })
            .await
            .and_then(|reply| reply.json::<Value>());
        let value = reply.map_err(log_failure)?;
        let found = value["value"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .ok_or_else(|| {
                SignInError::Unavailable("Graph's checkMemberGroups answer has no value".into())
            })?;
        Ok(found)
    }
}

fn log_failure(err: CallError) -> SignInError {
    let forbidden = matches!(&err, CallError::Api(api) if api.status == 403);
    let hint = if forbidden {
        "the app registration needs the application permissions User.Read.All and GroupMember.Read.All, with admin consent"
    } else {
        "try again; the log above says what Graph answered"
    };
    tracing::error!(error = %err, hint, "cannot check the operator's group membership");
    SignInError::Unavailable(format!("checking the operator's group membership: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "7f3c0a52-9f0e-4a8e-b1c2-0d1e2f3a4b5c";
    const B: &str = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn group_ids_are_guids_compared_in_lower_case() {
        let groups = AdminGroups::parse(&ids(&[&A.to_uppercase(), " ", B, A])).unwrap();
        assert_eq!(groups.ids(), [A, B]);
        assert!(groups.contains_any(&ids(&["other", &B.to_uppercase()])));
        assert!(!groups.contains_any(&ids(&["other"])));
    }

    #[test]
    fn empty_malformed_and_too_many_lists_are_refused_with_the_fix() {
        assert_eq!(AdminGroups::parse(&[]), Err(AdminGroupsError::Empty));
        assert_eq!(
            AdminGroups::parse(&ids(&["Operators"])),
            Err(AdminGroupsError::NotGuid("Operators".into()))
        );
        let many: Vec<String> = (0..21)
            .map(|n| format!("00000000-0000-4000-8000-{n:012x}"))
            .collect();
        assert_eq!(
            AdminGroups::parse(&many),
            Err(AdminGroupsError::TooMany(21))
        );
        assert!(AdminGroups::parse(&many[..20]).is_ok());
    }
}
