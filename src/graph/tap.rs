//! Temporary Access Passes: `POST /users/{id}/authentication/temporaryAccessPassMethods`
//! (permission `UserAuthenticationMethod.ReadWrite.All`), and the tenant's policy for them
//! (`policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`),
//! which `check` reads.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::GraphClient;
use super::error::CallError;
use super::retry::{Attempt, Retrier, Retry, Stop};
use crate::directory::{DirectoryError, PassRequest, TemporaryAccessPass};

/// The application roles that let an app create passes: the one Microsoft's documentation
/// names first, then the narrower one that covers passes only.
pub const PASS_ROLES: [&str; 2] = [
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-TAP.ReadWrite.All",
];

/// Where the tenant's Temporary Access Pass policy is, below `v1.0/`.
pub(super) const POLICY_PATH: &str =
    "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatePass {
    lifetime_in_minutes: u32,
    is_usable_once: bool,
}

/// What Graph answers a create with (the pass itself only in this answer, never again).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedPass {
    temporary_access_pass: String,
    /// RFC 3339; when the pass starts to work (now, as this client asks for no later start).
    #[serde(default)]
    start_date_time: Option<String>,
    #[serde(default)]
    lifetime_in_minutes: Option<u32>,
    #[serde(default)]
    is_usable_once: Option<bool>,
}

/// The tenant's Temporary Access Pass policy, as far as `check` reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassPolicy {
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub minimum_lifetime_in_minutes: Option<u32>,
    #[serde(default)]
    pub maximum_lifetime_in_minutes: Option<u32>,
    /// When true, every pass in the tenant works once, whatever the create asks for.
    #[serde(default)]
    pub is_usable_once: Option<bool>,
    /// Who may use passes: `all_users` or groups.
    #[serde(default)]
    pub include_targets: Vec<PolicyTarget>,
}

/// One group (or `all_users`) the policy applies to.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTarget {
    #[serde(default)]
    pub target_type: String,
    pub id: String,
}

impl PassPolicy {
    pub fn is_enabled(&self) -> bool {
        self.state.eq_ignore_ascii_case("enabled")
    }
}

impl GraphClient {
    /// [`crate::directory::Directory::create_temporary_access_pass`]: one write. A 404 is
    /// repeated a few times, as the user may have been created moments ago on another
    /// replica.
    pub(super) async fn post_pass(
        &self,
        object_id: &str,
        request: &PassRequest,
    ) -> Result<TemporaryAccessPass, DirectoryError> {
        const OPERATION: &str = "creating a Temporary Access Pass";
        let deadline = self.deadline();
        let mut url = self
            .user_url(object_id)
            .map_err(|err| err.into_directory_error(OPERATION))?;
        url.path_segments_mut()
            .map_err(|()| CallError::Unexpected("GRAPH_API_URL cannot take a path".into()))
            .map_err(|err| err.into_directory_error(OPERATION))?
            .extend(["authentication", "temporaryAccessPassMethods"]);
        let body = serde_json::to_vec(&CreatePass {
            lifetime_in_minutes: request.lifetime.minutes(),
            is_usable_once: request.usable_once,
        })
        .map(bytes::Bytes::from)
        .map_err(|err| DirectoryError::Failed(format!("cannot encode the pass request: {err}")))?;
        let created = Retrier::new("create pass", &self.net.policy, deadline)
            .run(|| async {
                let sent = self
                    .send_writes(&deadline, "create pass", 1, |http| {
                        http.post(url.clone())
                            .header(CONTENT_TYPE, "application/json")
                            .body(body.clone())
                    })
                    .await;
                match sent {
                    Err(err) => Attempt::GiveUp(err),
                    Ok(reply) if reply.is_success() => Attempt::Done(reply),
                    Ok(reply) if reply.status == StatusCode::NOT_FOUND => {
                        Attempt::Retry(Retry::lagging(reply.error()))
                    }
                    Ok(reply) => Attempt::GiveUp(CallError::Api(reply.error())),
                }
            })
            .await;
        let reply = match created {
            Ok(reply) => reply,
            Err(Stop::GaveUp(CallError::Api(err))) if err.is_pass_policy_off() => {
                tracing::error!(
                    object_id,
                    request_id = err.request_id.as_deref().unwrap_or(""),
                    "the tenant's Temporary Access Pass policy is off: enable it in the Entra admin centre (Protection → Authentication methods → Policies → Temporary Access Pass), then `signups retry`"
                );
                return Err(CallError::Api(err).into_directory_error(OPERATION));
            }
            Err(Stop::GaveUp(err)) => return Err(err.into_directory_error(OPERATION)),
            Err(Stop::Exhausted { problem, .. }) => {
                return Err(CallError::Api(problem).into_directory_error(OPERATION));
            }
        };
        let date = reply.date;
        let created: CreatedPass = reply
            .json()
            .map_err(|err| err.into_directory_error(OPERATION))?;
        tracing::info!(object_id, "created a Temporary Access Pass in Entra ID");
        Ok(pass_of(created, request, date))
    }

    /// The tenant's Temporary Access Pass policy (needs `Policy.Read.All`).
    pub async fn pass_policy(&self) -> Result<PassPolicy, CallError> {
        let deadline = self.deadline();
        let url = self.url(POLICY_PATH)?;
        self.send(&deadline, "get pass policy", |http| http.get(url.clone()))
            .await?
            .json()
    }
}

/// The pass Graph made, with when it stops working: its start plus its lifetime, both as
/// Graph answered them (a tenant may shorten what was asked for), else as asked from the
/// answer's date.
fn pass_of(created: CreatedPass, request: &PassRequest, date: Option<u64>) -> TemporaryAccessPass {
    let start = created
        .start_date_time
        .as_deref()
        .and_then(|when| humantime::parse_rfc3339_weak(when).ok())
        .and_then(|when| when.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|since| since.as_secs())
        .or(date)
        .unwrap_or_else(unix_now);
    let minutes = created
        .lifetime_in_minutes
        .unwrap_or(request.lifetime.minutes());
    TemporaryAccessPass {
        pass: SecretString::from(created.temporary_access_pass),
        expires_at: start + u64::from(minutes) * 60,
        usable_once: created.is_usable_once.unwrap_or(request.usable_once),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TapLifetime;
    use secrecy::ExposeSecret;

    fn request(minutes: i64) -> PassRequest {
        PassRequest {
            lifetime: TapLifetime::from_minutes(minutes).unwrap(),
            usable_once: true,
        }
    }

    #[test]
    fn a_pass_ends_at_its_start_plus_the_lifetime_graph_answered() {
        let created: CreatedPass = serde_json::from_str(
            r##"{"id":"x","temporaryAccessPass":"#MtXn9Qz","createdDateTime":"2026-12-10T09:59:58Z","startDateTime":"2026-12-10T10:00:00Z","lifetimeInMinutes":480,"isUsableOnce":false,"isUsable":true,"methodUsabilityReason":"EnabledByPolicy"}"##,
        )
        .unwrap();
        let pass = pass_of(created, &request(1440), Some(1));
        assert_eq!(pass.pass.expose_secret(), "#MtXn9Qz");
        // 2026-12-10T10:00:00Z is 1_796_896_800; Graph's 480 minutes win over the 1440 asked.
        assert_eq!(pass.expires_at, 1_796_896_800 + 480 * 60);
        assert!(!pass.usable_once);
    }

    #[test]
    fn without_a_start_the_answers_date_and_the_lifetime_asked_for_count() {
        let created: CreatedPass =
            serde_json::from_str(r#"{"temporaryAccessPass":"abc"}"#).unwrap();
        let pass = pass_of(created, &request(60), Some(1_000));
        assert_eq!(pass.expires_at, 1_000 + 3_600);
        assert!(pass.usable_once);
    }

    #[test]
    fn the_policy_says_whether_it_is_enabled() {
        let policy: PassPolicy = serde_json::from_str(
            r##"{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration","id":"TemporaryAccessPass","state":"Enabled","defaultLifetimeInMinutes":60,"defaultLength":8,"minimumLifetimeInMinutes":60,"maximumLifetimeInMinutes":480,"isUsableOnce":false,"includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false}]}"##,
        )
        .unwrap();
        assert!(policy.is_enabled());
        assert_eq!(policy.maximum_lifetime_in_minutes, Some(480));
        assert_eq!(policy.include_targets[0].id, "all_users");
        let off: PassPolicy = serde_json::from_str(r#"{"state":"disabled"}"#).unwrap();
        assert!(!off.is_enabled());
    }
}
