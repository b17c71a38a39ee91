//! `check` for Temporary Access Passes (`CREDENTIAL = temporary_access_pass`): may the app
//! create them, and does the tenant's policy let it make the passes configured?

use super::CheckResult;
use crate::directory::PassRequest;
use crate::graph::error::CallError;
use crate::graph::tap::{PASS_ROLES, PassPolicy};
use crate::graph::{GraphClient, PolicyTarget};

const PERMISSION: &str = "Graph pass permission";
const POLICY: &str = "Temporary Access Pass policy";

/// Where an administrator turns passes on, and the role whose holders see it.
const POLICY_PLACE: &str = "the Entra admin centre under Protection → Authentication methods → Policies → Temporary Access Pass (as Authentication Policy Administrator)";

/// Whether the token's roles allow creating passes; a failure only when passes are the
/// credential.
pub(super) fn pass_permission(roles: Option<&[String]>, needed: bool) -> CheckResult {
    let found = roles.and_then(|roles| {
        PASS_ROLES
            .iter()
            .find(|wanted| roles.iter().any(|role| role == *wanted))
    });
    match (found, needed) {
        (Some(role), _) => CheckResult::pass(
            PERMISSION,
            format!("the token carries {role}: Temporary Access Passes can be created"),
        ),
        (None, false) => CheckResult::pass(
            PERMISSION,
            format!(
                "the token carries no {}; needed only with CREDENTIAL=temporary_access_pass, which is off",
                PASS_ROLES[0]
            ),
        ),
        (None, true) if roles.is_none() => CheckResult::fail(
            PERMISSION,
            format!(
                "cannot read the token's roles; CREDENTIAL=temporary_access_pass needs {}",
                PASS_ROLES[0]
            ),
        ),
        (None, true) => CheckResult::fail(
            PERMISSION,
            format!(
                "the token carries neither {} nor {}, so every Temporary Access Pass will be refused: add {} under API permissions → Microsoft Graph → Application permissions in the app registration, grant admin consent, and run check again",
                PASS_ROLES[0], PASS_ROLES[1], PASS_ROLES[0]
            ),
        ),
    }
}

impl GraphClient {
    /// The tenant's policy against the passes configured: enabled, for the users this
    /// server makes, with `TAP_LIFETIME_MINUTES` within its bounds.
    pub(super) async fn check_pass_policy(&self, request: &PassRequest) -> Vec<CheckResult> {
        let policy = match self.pass_policy().await {
            Ok(policy) => policy,
            Err(CallError::Api(err)) if err.status == 403 => {
                return vec![CheckResult::fail(
                    POLICY,
                    format!(
                        "cannot read the policy: the token lacks Policy.Read.All ({err}); grant it to the app (only check needs it), or make sure by hand that passes are enabled in {POLICY_PLACE}"
                    ),
                )];
            }
            Err(err) => {
                return vec![CheckResult::fail(
                    POLICY,
                    format!("cannot read the policy: {err}"),
                )];
            }
        };
        vec![
            self.policy_state(&policy),
            lifetime_within(&policy, request),
        ]
    }

    /// Enabled, and for every user or for a group new users join.
    fn policy_state(&self, policy: &PassPolicy) -> CheckResult {
        if !policy.is_enabled() {
            return CheckResult::fail(
                POLICY,
                format!(
                    "disabled in the tenant (state `{}`), so Graph refuses every pass: enable it in {POLICY_PLACE} for all users or for a group every new user joins, then run check again",
                    policy.state
                ),
            );
        }
        let for_all = policy.include_targets.iter().any(|t| t.id == "all_users");
        let joined: Vec<&PolicyTarget> = policy
            .include_targets
            .iter()
            .filter(|t| self.groups.iter().any(|g| g.eq_ignore_ascii_case(&t.id)))
            .collect();
        let once = match policy.is_usable_once {
            Some(true) => ", every pass one-time",
            _ => "",
        };
        if for_all {
            return CheckResult::pass(POLICY, format!("enabled for all users{once}"));
        }
        match joined.first() {
            Some(group) => CheckResult::pass(
                POLICY,
                format!(
                    "enabled for group {}, which every new user joins{once}",
                    group.id
                ),
            ),
            None => CheckResult::fail(
                POLICY,
                format!(
                    "enabled only for {}, none of which new users join (GRAPH_API_GROUPS_FOR_NEW_USERS), so their passes cannot be used: target all users or one of those groups in {POLICY_PLACE}",
                    targets(&policy.include_targets)
                ),
            ),
        }
    }
}

/// `TAP_LIFETIME_MINUTES` against the policy's minimum and maximum.
fn lifetime_within(policy: &PassPolicy, request: &PassRequest) -> CheckResult {
    const NAME: &str = "Temporary Access Pass lifetime";
    let minutes = request.lifetime.minutes();
    let (min, max) = (
        policy.minimum_lifetime_in_minutes,
        policy.maximum_lifetime_in_minutes,
    );
    let bounds = format!(
        "{}–{} minutes",
        min.map_or("?".into(), |m| m.to_string()),
        max.map_or("?".into(), |m| m.to_string())
    );
    let too_short = min.is_some_and(|min| minutes < min);
    let too_long = max.is_some_and(|max| minutes > max);
    if too_short || too_long {
        let fix = if too_long {
            "lower TAP_LIFETIME_MINUTES, or raise the policy's maximum lifetime"
        } else {
            "raise TAP_LIFETIME_MINUTES, or lower the policy's minimum lifetime"
        };
        return CheckResult::fail(
            NAME,
            format!(
                "TAP_LIFETIME_MINUTES = {minutes} is outside the policy's {bounds}, so Graph refuses every pass: {fix} in {POLICY_PLACE}"
            ),
        );
    }
    let use_note = match (policy.is_usable_once, request.usable_once) {
        (Some(true), false) => {
            "; the policy makes every pass one-time, whatever TAP_USABLE_ONCE says"
        }
        (_, true) => "; each pass works for one sign-in",
        (_, false) => "; each pass works until it expires",
    };
    CheckResult::pass(
        NAME,
        format!("{minutes} minutes, within the policy's {bounds}{use_note}"),
    )
}

fn targets(targets: &[PolicyTarget]) -> String {
    if targets.is_empty() {
        return "nobody".into();
    }
    targets
        .iter()
        .map(|t| format!("{} {}", t.target_type, t.id))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TapLifetime;

    fn policy(json: &str) -> PassPolicy {
        serde_json::from_str(json).unwrap()
    }

    fn request(minutes: i64, usable_once: bool) -> PassRequest {
        PassRequest {
            lifetime: TapLifetime::from_minutes(minutes).unwrap(),
            usable_once,
        }
    }

    #[test]
    fn a_missing_pass_role_fails_only_when_passes_are_the_credential() {
        let broad = vec!["UserAuthenticationMethod.ReadWrite.All".to_owned()];
        let narrow = vec!["UserAuthMethod-TAP.ReadWrite.All".to_owned()];
        let none = vec!["User.ReadWrite.All".to_owned()];
        assert!(pass_permission(Some(&broad), true).ok);
        assert!(pass_permission(Some(&narrow), true).ok);
        assert!(pass_permission(Some(&none), false).ok);
        let missing = pass_permission(Some(&none), true);
        assert!(!missing.ok);
        assert!(
            missing
                .detail
                .contains("UserAuthenticationMethod.ReadWrite.All")
        );
        assert!(missing.detail.contains("grant admin consent"));
        assert!(!pass_permission(None, true).ok);
    }

    #[test]
    fn a_lifetime_outside_the_policy_fails_with_the_way_out() {
        let default = policy(
            r#"{"state":"enabled","minimumLifetimeInMinutes":60,"maximumLifetimeInMinutes":480}"#,
        );
        let long = lifetime_within(&default, &request(1440, true));
        assert!(!long.ok);
        assert!(long.detail.contains("60–480"), "{}", long.detail);
        assert!(long.detail.contains("raise the policy's maximum"));
        let short = lifetime_within(&default, &request(30, true));
        assert!(!short.ok);
        assert!(short.detail.contains("lower the policy's minimum"));
        assert!(lifetime_within(&default, &request(480, true)).ok);
    }

    #[test]
    fn a_policy_that_makes_every_pass_one_time_is_mentioned() {
        let once = policy(r#"{"state":"enabled","isUsableOnce":true}"#);
        let result = lifetime_within(&once, &request(60, false));
        assert!(result.ok);
        assert!(result.detail.contains("one-time"), "{}", result.detail);
    }
}
