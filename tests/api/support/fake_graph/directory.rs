//! The fake Graph resources: users (list with a filter — `users.rs` —, get, create, update),
//! `$batch` with `assignLicense` and `members/$ref`, `subscribedSkus` and groups — with the
//! refusals real Graph gives for the cases a sign-up can run into.

use serde_json::{Value, json};

use super::users::{apply, extension_attributes, list_users, user_json};
use super::{DOMAIN, Endpoint, FakeUser, Reply, State, graph_error};

/// What the handlers read of a request.
pub struct Request<'a> {
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    /// It carried `ConsistencyLevel: eventual` (an advanced query).
    pub eventual: bool,
}

pub fn handle(state: &mut State, endpoint: Endpoint, request: Request<'_>) -> Reply {
    let Request {
        path,
        query,
        body,
        eventual,
    } = request;
    let last_segment = percent_decode(path.rsplit('/').next().unwrap_or(""));
    match endpoint {
        Endpoint::ListUsers => list_users(state, query, eventual),
        Endpoint::CreateUser => create_user(state, body),
        Endpoint::GetUser => get_user(state, &last_segment, query),
        Endpoint::UpdateUser => update_user(state, &last_segment, body),
        Endpoint::Batch => batch(state, body),
        Endpoint::SubscribedSkus => subscribed_skus(state),
        Endpoint::GetGroup => get_group(state, &last_segment),
        Endpoint::CheckMemberGroups => super::members::check(state, path, body),
        Endpoint::AssignLicense => {
            let user = path.split('/').nth(3).unwrap_or("");
            let body = serde_json::from_slice(body).unwrap_or(Value::Null);
            assign_license(state, &percent_decode(user), &body)
        }
        Endpoint::DeleteUser => super::lifecycle::delete_user(state, &last_segment),
        Endpoint::RestoreUser => super::lifecycle::restore_user(state, path),
        Endpoint::CreatePass => super::passes::create(state, path, body),
        Endpoint::PassPolicy => super::passes::policy(state),
        Endpoint::Token => unreachable!("the token endpoint is not Graph"),
    }
}

pub(super) fn not_found(id: &str) -> Reply {
    graph_error(
        404,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn bad_request(message: &str) -> Reply {
    graph_error(400, "Request_BadRequest", message)
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 3 <= bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user with this id or UPN, unless replication lag hides it from this request.
pub(super) fn visible_user<'a>(state: &'a mut State, key: &str) -> Option<&'a mut FakeUser> {
    let user = state
        .users
        .iter_mut()
        .find(|u| u.id == key || u.upn.eq_ignore_ascii_case(key))?;
    if user.lag > 0 {
        user.lag -= 1;
        return None;
    }
    Some(user)
}

/// Entra's rule for passwords set by an administrator or an application: 8 to 256
/// characters from at least three of lower case, upper case, digits and symbols.
fn meets_complexity(password: &str) -> bool {
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (8..=256).contains(&password.chars().count()) && classes.iter().filter(|&&c| c).count() >= 3
}

fn weak_password() -> Reply {
    bad_request(
        "The specified password does not comply with password complexity requirements. Please provide a different password.",
    )
}

/// `PATCH /users/{id}`: the password profile and the extension attributes, which is all we
/// change (204, no body).
fn update_user(state: &mut State, key: &str, body: &[u8]) -> Reply {
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.");
    };
    let password = match payload.get("passwordProfile") {
        None => None,
        Some(profile) => {
            let Some(password) = profile["password"].as_str() else {
                return bad_request("The fake only changes a password in passwordProfile.");
            };
            if !meets_complexity(password) {
                return weak_password();
            }
            let must_change = profile["forceChangePasswordNextSignIn"]
                .as_bool()
                .unwrap_or(false);
            Some((password.to_owned(), must_change))
        }
    };
    let attributes = match payload.get("onPremisesExtensionAttributes") {
        None => None,
        Some(value) => match extension_attributes(value) {
            Ok(changes) => Some(changes),
            Err(reply) => return reply,
        },
    };
    let enabled = match payload.get("accountEnabled") {
        None => None,
        Some(Value::Bool(enabled)) => Some(*enabled),
        Some(_) => {
            return bad_request(
                "Invalid value specified for property 'accountEnabled' of resource 'User'.",
            );
        }
    };
    if password.is_none() && attributes.is_none() && enabled.is_none() {
        return bad_request(
            "The fake only changes passwordProfile, accountEnabled and onPremisesExtensionAttributes.",
        );
    }
    let forbidden = state.forbidden_passwords.clone();
    match visible_user(state, key) {
        Some(user)
            if password.is_some()
                && forbidden.as_ref().is_some_and(|only| {
                    only.as_ref()
                        .is_none_or(|upn| *upn == user.upn.to_lowercase())
                }) =>
        {
            graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        }
        Some(user) => {
            if let Some((password, must_change)) = password {
                user.password = Some(password);
                user.must_change_password = must_change;
            }
            if let Some(changes) = attributes {
                apply(&mut user.extension_attributes, changes);
            }
            if let Some(enabled) = enabled {
                user.enabled = enabled;
            }
            Reply::empty(204)
        }
        None => not_found(key),
    }
}

fn get_user(state: &mut State, key: &str, query: &str) -> Reply {
    let select = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "$select")
        .map(|(_, value)| value.into_owned());
    match visible_user(state, key) {
        Some(user) => Reply::json(200, user_json(user, select.as_deref())),
        None => not_found(key),
    }
}

/// Country codes the fake accepts as usage locations.
const USAGE_LOCATIONS: &[&str] = &["DE", "AT", "CH", "US", "GB", "FR", "NL"];

fn create_user(state: &mut State, body: &[u8]) -> Reply {
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.");
    };
    for required in [
        "accountEnabled",
        "displayName",
        "mailNickname",
        "passwordProfile",
        "userPrincipalName",
    ] {
        if payload.get(required).is_none() {
            return bad_request(&format!(
                "Property '{required}' is required when creating the entity."
            ));
        }
    }
    let upn = payload["userPrincipalName"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    if !upn.to_lowercase().ends_with(&format!("@{DOMAIN}")) {
        return bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        );
    }
    if let Some(location) = payload.get("usageLocation") {
        if !location
            .as_str()
            .is_some_and(|l| USAGE_LOCATIONS.contains(&l))
        {
            return bad_request(
                "Invalid value specified for property 'usageLocation' of resource 'User'.",
            );
        }
    }
    let password = payload["passwordProfile"]["password"]
        .as_str()
        .unwrap_or("");
    if !meets_complexity(password) {
        return weak_password();
    }
    let attributes = match payload.get("onPremisesExtensionAttributes") {
        None => Vec::new(),
        Some(value) => match extension_attributes(value) {
            Ok(changes) => changes,
            Err(reply) => return reply,
        },
    };
    if let Some((raced, given, surname)) = state.race.take() {
        if raced.eq_ignore_ascii_case(&upn) {
            let rival = state.insert_user(
                &raced,
                Some(&given),
                Some(&surname),
                json!({ "mail": raced }),
            );
            let lag = state.race_lag;
            let attribute = state.race_attribute.take();
            if let Some(user) = state.users.iter_mut().find(|u| u.id == rival) {
                user.lag = lag;
                user.extension_attributes.extend(attribute);
            }
        } else {
            state.race = Some((raced, given, surname));
        }
    }
    if state.users.iter().any(|u| u.upn.eq_ignore_ascii_case(&upn)) {
        let mut reply = bad_request(
            "Another object with the same value for property userPrincipalName already exists.",
        );
        if let Some(body) = reply.body.as_mut() {
            body["error"]["details"] = json!([{
                "code": "ObjectConflict",
                "message": "Another object with the same value for property userPrincipalName already exists.",
                "target": "userPrincipalName"
            }]);
        }
        return reply;
    }
    let mail = payload["mail"].as_str().unwrap_or("");
    if !mail.is_empty()
        && state.users.iter().any(|u| {
            u.mail
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(mail))
        })
    {
        return bad_request(
            "Another object with the same value for property proxyAddresses already exists.",
        );
    }
    let id = state.insert_user(
        &upn,
        payload["givenName"].as_str(),
        payload["surname"].as_str(),
        payload.clone(),
    );
    let lag = state.lag_for_new_users;
    let user = state
        .users
        .iter_mut()
        .find(|u| u.id == id)
        .expect("just inserted");
    user.lag = lag;
    apply(&mut user.extension_attributes, attributes);
    let mut body = user_json(user, None);
    body["@odata.context"] = json!(format!("{}/v1.0/$metadata#users/$entity", state.base));
    Reply::json(201, body)
}

fn subscribed_skus(state: &State) -> Reply {
    let value: Vec<Value> = state
        .skus
        .iter()
        .map(|sku| {
            json!({
                "skuId": sku.id,
                "skuPartNumber": sku.part,
                "consumedUnits": sku.consumed,
                "prepaidUnits": { "enabled": sku.enabled, "suspended": 0, "warning": 0 },
            })
        })
        .collect();
    Reply::json(200, json!({ "value": value }))
}

fn get_group(state: &State, id: &str) -> Reply {
    match state.groups.get(id) {
        Some(group) => Reply::json(200, json!({ "id": id, "displayName": group.name })),
        None => not_found(id),
    }
}

/// `POST /$batch`: each request handled in order, the answers returned in reverse order
/// (Graph promises no order).
fn batch(state: &mut State, body: &[u8]) -> Reply {
    let Some(requests) = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b["requests"].as_array().cloned())
    else {
        return graph_error(400, "BadRequest", "Invalid batch payload format.");
    };
    if requests.is_empty() || requests.len() > 20 {
        return graph_error(
            400,
            "BadRequest",
            "Number of requests must be between 1 and 20.",
        );
    }
    let mut responses = Vec::new();
    for request in &requests {
        let id = request["id"].as_str().unwrap_or("").to_owned();
        let reply = if state.item_throttles > 0 {
            state.item_throttles -= 1;
            let seconds = state.item_retry_after;
            graph_error(429, "TooManyRequests", "Too many requests.")
                .with_header("Retry-After", seconds.to_string())
        } else {
            batch_item(state, request)
        };
        let mut headers = serde_json::Map::new();
        for (name, value) in reply
            .headers
            .iter()
            .filter(|(n, _)| n != "request-id" && n != "client-request-id")
        {
            headers.insert(name.clone(), json!(value));
        }
        if reply.body.is_some() {
            headers.insert("Content-Type".into(), json!("application/json"));
        }
        let mut answer = json!({ "id": id, "status": reply.status, "headers": headers });
        if let Some(body) = reply.body {
            answer["body"] = body;
        }
        responses.push(answer);
    }
    responses.reverse();
    Reply::json(200, json!({ "responses": responses }))
}

fn batch_item(state: &mut State, request: &Value) -> Reply {
    let url = request["url"].as_str().unwrap_or("");
    let body = &request["body"];
    let has_content_type = request["headers"]
        .as_object()
        .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("content-type")));
    if !body.is_null() && !has_content_type {
        return graph_error(
            400,
            "BadRequest",
            "Write request id does not contain Content-Type header or body.",
        );
    }
    let segments: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    match (request["method"].as_str(), segments.as_slice()) {
        (Some("POST"), ["users", user, "assignLicense"]) => assign_license(state, user, body),
        (Some("POST"), ["groups", group, "members", "$ref"]) => add_member(state, group, body),
        _ => graph_error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{url}'."),
        ),
    }
}

/// `assignLicense`, in a `$batch` or on its own: licences added take a seat each (refused
/// when none is free), licences removed give theirs back; removing one the user does not
/// have is refused, as Graph does.
fn assign_license(state: &mut State, user_key: &str, body: &Value) -> Reply {
    let (Some(add), Some(remove)) = (
        body["addLicenses"].as_array(),
        body["removeLicenses"].as_array(),
    ) else {
        return bad_request(
            "Invalid value specified for property 'removeLicenses' of resource 'User'.",
        );
    };
    let wanted: Vec<String> = add
        .iter()
        .filter_map(|l| l["skuId"].as_str().map(str::to_owned))
        .collect();
    let removed: Vec<String> = remove
        .iter()
        .filter_map(|sku| sku.as_str().map(str::to_owned))
        .collect();
    let Some(user) = visible_user(state, user_key) else {
        return not_found(user_key);
    };
    // Graph asks for a usage location to assign a licence, not to take one away.
    if user.usage_location.is_none() && !wanted.is_empty() {
        return bad_request(
            "License assignment cannot be done for user with invalid usage location.",
        );
    }
    let has: Vec<String> = user.licences.clone();
    let user_id = user.id.clone();
    if removed.iter().any(|sku| !has.contains(sku)) {
        return bad_request("User does not have a corresponding license.");
    }
    for sku_id in &wanted {
        let Some(sku) = state.skus.iter().find(|s| &s.id == sku_id) else {
            return bad_request(&format!(
                "License {sku_id} does not correspond to a valid company License."
            ));
        };
        if !has.contains(sku_id) && sku.consumed >= sku.enabled {
            return bad_request(&format!(
                "Subscription with SKU {sku_id} does not have any available licenses."
            ));
        }
    }
    // Assigning a licence the user has is not an error: Graph answers 200 and changes nothing.
    for sku_id in wanted.iter().filter(|s| !has.contains(s)) {
        if let Some(sku) = state.skus.iter_mut().find(|s| &s.id == sku_id) {
            sku.consumed += 1;
        }
    }
    for sku_id in &removed {
        if let Some(sku) = state.skus.iter_mut().find(|s| &s.id == sku_id) {
            sku.consumed -= 1;
        }
    }
    let user = state
        .users
        .iter_mut()
        .find(|u| u.id == user_id)
        .expect("found above");
    user.licences.retain(|sku| !removed.contains(sku));
    for sku_id in wanted {
        if !user.licences.contains(&sku_id) {
            user.licences.push(sku_id);
        }
    }
    Reply::json(200, user_json(user, None))
}

fn add_member(state: &mut State, group_id: &str, body: &Value) -> Reply {
    if !state.groups.contains_key(group_id) {
        return not_found(group_id);
    }
    let prefix = format!("{}/v1.0/directoryObjects/", state.base);
    let Some(member) = body["@odata.id"]
        .as_str()
        .and_then(|r| r.strip_prefix(&prefix))
    else {
        return bad_request("Invalid URL format specified in @odata.id.");
    };
    let member = member.to_owned();
    let Some(user) = visible_user(state, &member) else {
        return not_found(&member);
    };
    let user_id = user.id.clone();
    let group = state.groups.get_mut(group_id).expect("checked above");
    if group.members.contains(&user_id) {
        return bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        );
    }
    group.members.push(user_id);
    Reply::empty(204)
}
