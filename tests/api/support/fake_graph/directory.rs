//! The fake Graph resources: users (list with `startswith`, get, create), `$batch` with
//! `assignLicense` and `members/$ref`, `subscribedSkus` and groups — with the refusals real
//! Graph gives for the cases a sign-up can run into.

use serde_json::{Value, json};

use super::{DOMAIN, Endpoint, FakeUser, Reply, State, graph_error, iso};

pub fn handle(
    state: &mut State,
    endpoint: Endpoint,
    path: &str,
    query: &str,
    body: &[u8],
) -> Reply {
    let last_segment = percent_decode(path.rsplit('/').next().unwrap_or(""));
    match endpoint {
        Endpoint::ListUsers => list_users(state, query),
        Endpoint::CreateUser => create_user(state, body),
        Endpoint::GetUser => get_user(state, &last_segment),
        Endpoint::UpdateUser => update_user(state, &last_segment, body),
        Endpoint::Batch => batch(state, body),
        Endpoint::SubscribedSkus => subscribed_skus(state),
        Endpoint::GetGroup => get_group(state, &last_segment),
        Endpoint::CheckMemberGroups => super::members::check(state, path, body),
        Endpoint::Token => unreachable!("the token endpoint is not Graph"),
    }
}

fn not_found(id: &str) -> Reply {
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
fn visible_user<'a>(state: &'a mut State, key: &str) -> Option<&'a mut FakeUser> {
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

fn user_json(user: &FakeUser) -> Value {
    json!({
        "id": user.id,
        "userPrincipalName": user.upn,
        "givenName": user.given_name,
        "surname": user.surname,
        "displayName": user.payload.get("displayName"),
        "mail": user.mail,
        "createdDateTime": format!("{}Z", iso(user.created_at)),
        "businessPhones": [],
    })
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

/// `PATCH /users/{id}`: only the password profile, which is all we change (204, no body).
fn update_user(state: &mut State, key: &str, body: &[u8]) -> Reply {
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.");
    };
    let profile = &payload["passwordProfile"];
    let Some(password) = profile["password"].as_str() else {
        return bad_request("The fake only changes passwordProfile.");
    };
    if !meets_complexity(password) {
        return weak_password();
    }
    let must_change = profile["forceChangePasswordNextSignIn"]
        .as_bool()
        .unwrap_or(false);
    let forbidden = state.forbidden_passwords.clone();
    match visible_user(state, key) {
        Some(user)
            if forbidden.as_ref().is_some_and(|only| {
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
            user.password = Some(password.to_owned());
            user.must_change_password = must_change;
            Reply::empty(204)
        }
        None => not_found(key),
    }
}

/// `GET /users?$filter=startswith(userPrincipalName,'…')&$select=userPrincipalName&$top=N`,
/// paged with `$skiptoken` in `@odata.nextLink`.
fn list_users(state: &mut State, query: &str) -> Reply {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(filter) = get("$filter") else {
        return bad_request("The fake only serves filtered user lists.");
    };
    state.filters.push(filter.clone());
    let Some(prefix) = filter
        .strip_prefix("startswith(userPrincipalName,'")
        .and_then(|rest| rest.strip_suffix("')"))
    else {
        return graph_error(400, "Request_UnsupportedQuery", "Unsupported Query.");
    };
    // In an OData string a quote is doubled; a single one ends the literal.
    if prefix.replace("''", "").contains('\'') {
        return bad_request("Syntax error: character ''' is not valid at position 0.");
    }
    let prefix = prefix.replace("''", "'").to_lowercase();
    let top: usize = match get("$top").map(|t| t.parse()) {
        None => 100,
        Some(Ok(top)) if (1..=999).contains(&top) => top,
        Some(_) => {
            return bad_request(
                "Invalid page size specified: Must be between 1 and 999 inclusive.",
            );
        }
    };
    let skip: usize = get("$skiptoken").and_then(|s| s.parse().ok()).unwrap_or(0);
    // List queries are eventually consistent too: a user still replicating is left out
    // (each listing, counted on its first page, brings it one request nearer).
    let mut matching: Vec<String> = Vec::new();
    for user in state
        .users
        .iter_mut()
        .filter(|u| u.upn.to_lowercase().starts_with(&prefix))
    {
        if user.lag > 0 {
            if skip == 0 {
                user.lag -= 1;
            }
            continue;
        }
        matching.push(user.upn.clone());
    }
    matching.sort();
    let size = top.min(state.page_size);
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(size)
        .map(|upn| json!({ "userPrincipalName": upn }))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users(userPrincipalName)", state.base),
        "value": page,
    });
    if skip + size < matching.len() {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "$skiptoken") {
            next.append_pair(k, v);
        }
        next.append_pair("$skiptoken", &(skip + size).to_string());
        body["@odata.nextLink"] = json!(format!("{}/v1.0/users?{}", state.base, next.finish()));
    }
    Reply::json(200, body)
}

fn get_user(state: &mut State, key: &str) -> Reply {
    match visible_user(state, key) {
        Some(user) => Reply::json(200, user_json(user)),
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
    if let Some((raced, given, surname)) = state.race.take() {
        if raced.eq_ignore_ascii_case(&upn) {
            let rival = state.insert_user(
                &raced,
                Some(&given),
                Some(&surname),
                json!({ "mail": raced }),
            );
            let lag = state.race_lag;
            if let Some(user) = state.users.iter_mut().find(|u| u.id == rival) {
                user.lag = lag;
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
    let mut body = user_json(user);
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

fn assign_license(state: &mut State, user_key: &str, body: &Value) -> Reply {
    let (Some(add), Some(_remove)) = (
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
    let Some(user) = visible_user(state, user_key) else {
        return not_found(user_key);
    };
    if user.usage_location.is_none() {
        return bad_request(
            "License assignment cannot be done for user with invalid usage location.",
        );
    }
    let has: Vec<String> = user.licences.clone();
    let user_id = user.id.clone();
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
    let user = state
        .users
        .iter_mut()
        .find(|u| u.id == user_id)
        .expect("found above");
    for sku_id in wanted {
        if !user.licences.contains(&sku_id) {
            user.licences.push(sku_id);
        }
    }
    Reply::json(200, user_json(user))
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
