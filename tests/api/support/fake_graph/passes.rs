//! Temporary Access Passes in the fake Graph: the tenant's policy (on or off, its lifetime
//! bounds, whom it covers) and `POST /users/{id}/authentication/temporaryAccessPassMethods`
//! with the refusals real Graph gives: the policy off, a lifetime outside its bounds, an app
//! without the permission. A user has at most one pass; a new one replaces it.

use ring::rand::SecureRandom;
use serde_json::{Value, json};

use super::{FakeUser, Reply, State, graph_error, iso, unix_now};

/// The application roles that let an app create passes.
const PASS_ROLES: [&str; 2] = [
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-TAP.ReadWrite.All",
];

/// The tenant's Temporary Access Pass policy. Entra ships it disabled, 60–480 minutes.
#[derive(Debug, Clone)]
pub struct PassPolicy {
    pub enabled: bool,
    pub min_minutes: u32,
    pub max_minutes: u32,
    /// Every pass one-time, whatever the create asks.
    pub usable_once: bool,
    /// `all_users`, or group ids.
    pub targets: Vec<String>,
}

impl Default for PassPolicy {
    fn default() -> Self {
        PassPolicy {
            enabled: false,
            min_minutes: 60,
            max_minutes: 480,
            usable_once: false,
            targets: vec!["all_users".into()],
        }
    }
}

/// A pass a user holds.
#[derive(Debug, Clone)]
pub struct FakePass {
    pub pass: String,
    pub lifetime_minutes: u32,
    pub usable_once: bool,
}

/// `GET …/authenticationMethodConfigurations/TemporaryAccessPass` (needs `Policy.Read.All`).
pub(super) fn policy(state: &State) -> Reply {
    if !state.roles.iter().any(|role| role == "Policy.Read.All") {
        return denied();
    }
    let policy = &state.pass_policy;
    let targets: Vec<Value> = policy
        .targets
        .iter()
        .map(|id| json!({ "targetType": "group", "id": id, "isRegistrationRequired": false }))
        .collect();
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity", state.base),
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
            "id": "TemporaryAccessPass",
            "state": if policy.enabled { "enabled" } else { "disabled" },
            "defaultLifetimeInMinutes": policy.min_minutes,
            "defaultLength": 8,
            "minimumLifetimeInMinutes": policy.min_minutes,
            "maximumLifetimeInMinutes": policy.max_minutes,
            "isUsableOnce": policy.usable_once,
            "includeTargets": targets,
            "excludeTargets": [],
        }),
    )
}

/// `POST /users/{id}/authentication/temporaryAccessPassMethods`.
pub(super) fn create(state: &mut State, path: &str, body: &[u8]) -> Reply {
    if !state
        .roles
        .iter()
        .any(|role| PASS_ROLES.contains(&role.as_str()))
    {
        return denied();
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return graph_error(400, "badRequest", "Unable to read JSON request payload.");
    };
    let policy = state.pass_policy.clone();
    let key = path.split('/').nth(3).unwrap_or("").to_owned();
    let Some(user) = super::directory::visible_user(state, &key) else {
        return super::directory::not_found(&key);
    };
    let user_id = user.id.clone();
    let covered = policy.targets.iter().any(|t| t == "all_users")
        || policy.targets.iter().any(|group| {
            state
                .groups
                .get(group)
                .is_some_and(|g| g.members.contains(&user_id))
        });
    if !policy.enabled || !covered {
        return graph_error(
            400,
            "badRequest",
            "Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass].",
        );
    }
    let minutes = request["lifetimeInMinutes"]
        .as_u64()
        .map_or(policy.min_minutes, |m| u32::try_from(m).unwrap_or(u32::MAX));
    if !(policy.min_minutes..=policy.max_minutes).contains(&minutes) {
        return graph_error(
            400,
            "badRequest",
            &format!(
                "Invalid LifetimeInMinutes specified. The valid range between {} and {}.",
                policy.min_minutes, policy.max_minutes
            ),
        );
    }
    let usable_once = policy.usable_once || request["isUsableOnce"].as_bool().unwrap_or(false);
    let now = unix_now();
    let pass = FakePass {
        pass: new_pass(),
        lifetime_minutes: minutes,
        usable_once,
    };
    let id = super::guid();
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{user_id}')/authentication/temporaryAccessPassMethods/$entity", state.base),
        "id": id,
        "temporaryAccessPass": pass.pass,
        "createdDateTime": format!("{}Z", iso(now)),
        "startDateTime": format!("{}Z", iso(now)),
        "lifetimeInMinutes": minutes,
        "isUsableOnce": usable_once,
        "isUsable": true,
        "methodUsabilityReason": "EnabledByPolicy",
    });
    let user: &mut FakeUser = state.user_mut(&user_id);
    user.pass = Some(pass);
    user.passes_made += 1;
    Reply::json(201, body)
}

fn denied() -> Reply {
    graph_error(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// Eight characters as Entra makes them, symbols included, so that a page or a mail that
/// does not escape one shows it wrongly.
fn new_pass() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789#%+&<";
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    let mut pass: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    // One symbol at least, as Entra's passes mostly have.
    pass.replace_range(0..1, "#");
    pass
}
