//! Users as the fake shows them (`$select`, the extension attributes) and the filtered user
//! list, with exactly the filter syntax and query options real Graph requires: clauses
//! `startswith(userPrincipalName,'…')` and `onPremisesExtensionAttributes/extensionAttributeN
//! eq '…'` joined by `or`, the latter only as an advanced query (`ConsistencyLevel: eventual`
//! header and `$count=true`), refused otherwise with Graph's `Request_UnsupportedQuery`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{FakeUser, Reply, State, graph_error, iso};

/// The property the fifteen extension attributes live in.
const EXTENSIONS: &str = "onPremisesExtensionAttributes";

/// Graph's limit for one extension attribute.
const MAX_EXTENSION_CHARS: usize = 1024;

/// The user as Graph returns it: with `select`, only those properties (the extension
/// attributes are returned only when selected, as Graph does).
pub fn user_json(user: &FakeUser, select: Option<&str>) -> Value {
    let mut extensions = serde_json::Map::new();
    for n in 1..=15 {
        let name = format!("extensionAttribute{n}");
        let value = user.extension_attributes.get(&name).cloned();
        extensions.insert(name, json!(value));
    }
    let full = json!({
        "id": user.id,
        "userPrincipalName": user.upn,
        "givenName": user.given_name,
        "surname": user.surname,
        "displayName": user.payload.get("displayName"),
        "mail": user.mail,
        "accountEnabled": user.enabled,
        "assignedLicenses": user.licences.iter()
            .map(|sku| json!({ "skuId": sku, "disabledPlans": [] }))
            .collect::<Vec<_>>(),
        "licenseAssignmentStates": user.licences.iter()
            .map(|sku| json!({
                "skuId": sku, "disabledPlans": [], "assignedByGroup": null,
                "state": "Active", "error": "None"
            }))
            .collect::<Vec<_>>(),
        "createdDateTime": format!("{}Z", iso(user.created_at)),
        "businessPhones": [],
        EXTENSIONS: extensions,
    });
    let Some(select) = select else {
        // Graph's default properties leave these out: they come only when selected.
        let mut shown = full;
        let object = shown.as_object_mut().expect("an object");
        for selected_only in [
            EXTENSIONS,
            "accountEnabled",
            "assignedLicenses",
            "licenseAssignmentStates",
        ] {
            object.remove(selected_only);
        }
        return shown;
    };
    let wanted: Vec<&str> = select.split(',').map(str::trim).collect();
    let shown: serde_json::Map<String, Value> = full
        .as_object()
        .expect("an object")
        .iter()
        .filter(|(name, _)| wanted.iter().any(|w| w.eq_ignore_ascii_case(name)))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Value::Object(shown)
}

/// The `onPremisesExtensionAttributes` of a create or an update: each name one of the
/// fifteen, each value a string of at most 1 024 characters, or `null` to clear it.
pub fn extension_attributes(value: &Value) -> Result<Vec<(String, Option<String>)>, Reply> {
    let Some(object) = value.as_object() else {
        return Err(bad_request(&format!(
            "Invalid value specified for property '{EXTENSIONS}' of resource 'User'."
        )));
    };
    let mut changes = Vec::new();
    for (name, value) in object {
        if extension_number(name).is_none() {
            return Err(bad_request(&format!(
                "Property '{name}' does not exist as a declared property or extension property."
            )));
        }
        match value {
            Value::Null => changes.push((name.clone(), None)),
            Value::String(text) if text.chars().count() <= MAX_EXTENSION_CHARS => {
                changes.push((name.clone(), Some(text.clone())));
            }
            _ => {
                return Err(bad_request(&format!(
                    "Invalid value specified for property '{name}' of resource 'OnPremisesExtensionAttributes'."
                )));
            }
        }
    }
    Ok(changes)
}

/// Applies changes from [`extension_attributes`].
pub fn apply(attributes: &mut BTreeMap<String, String>, changes: Vec<(String, Option<String>)>) {
    for (name, value) in changes {
        match value {
            Some(value) => attributes.insert(name, value),
            None => attributes.remove(&name),
        };
    }
}

fn extension_number(name: &str) -> Option<u8> {
    let digits = name.strip_prefix("extensionAttribute")?;
    let n: u8 = digits.parse().ok()?;
    ((1..=15).contains(&n) && digits == n.to_string()).then_some(n)
}

fn bad_request(message: &str) -> Reply {
    graph_error(400, "Request_BadRequest", message)
}

fn unsupported() -> Reply {
    graph_error(400, "Request_UnsupportedQuery", "Unsupported Query.")
}

/// One clause of a user filter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Clause {
    UpnStartsWith(String),
    Extension { name: String, value: String },
}

impl Clause {
    fn matches(&self, user: &FakeUser) -> bool {
        match self {
            Clause::UpnStartsWith(prefix) => user.upn.to_lowercase().starts_with(prefix),
            Clause::Extension { name, value } => user
                .extension_attributes
                .get(name)
                .is_some_and(|held| held.eq_ignore_ascii_case(value)),
        }
    }
}

/// An OData string literal at the start of `text` (`'o''brien'`): its value (lower-cased
/// for `startswith`, as Graph compares) and the rest.
fn literal(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('\'')?;
    let mut value = String::new();
    loop {
        let end = rest.find('\'')?;
        value.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix('\'') {
            Some(after) => {
                value.push('\'');
                rest = after;
            }
            None => return Some((value, rest)),
        }
    }
}

/// One clause at the start of `text`, and the rest; `Err` for a quote that breaks the
/// syntax (Graph's 400 with its message), `Ok(None)` for anything the fake does not serve.
fn clause(text: &str) -> Result<Option<(Clause, &str)>, Reply> {
    let text = text.trim_start();
    let head = text.get(..11).unwrap_or("");
    if head.eq_ignore_ascii_case("startswith(") {
        let inner = text[11..].trim_start();
        let Some(inner) = inner
            .strip_prefix("userPrincipalName")
            .map(|r| r.trim_start())
            .and_then(|r| r.strip_prefix(','))
        else {
            return Ok(None);
        };
        let Some((prefix, rest)) = literal(inner.trim_start()) else {
            return Err(bad_request(
                "Syntax error: character ''' is not valid at position 0.",
            ));
        };
        let Some(rest) = rest.trim_start().strip_prefix(')') else {
            return Err(bad_request(
                "Syntax error: character ''' is not valid at position 0.",
            ));
        };
        return Ok(Some((Clause::UpnStartsWith(prefix.to_lowercase()), rest)));
    }
    let Some(after) = text.strip_prefix(&format!("{EXTENSIONS}/")) else {
        return Ok(None);
    };
    let end = after
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(after.len());
    let name = &after[..end];
    if extension_number(name).is_none() {
        return Ok(None);
    }
    let Some(rest) = after[end..].trim_start().strip_prefix("eq ") else {
        return Ok(None);
    };
    let Some((value, rest)) = literal(rest.trim_start()) else {
        return Ok(None);
    };
    let name = name.to_owned();
    Ok(Some((Clause::Extension { name, value }, rest)))
}

/// A whole filter: clauses joined by `or`.
fn parse_filter(filter: &str) -> Result<Vec<Clause>, Reply> {
    let mut clauses = Vec::new();
    let mut rest = filter;
    loop {
        let Some((found, after)) = clause(rest)? else {
            return Err(unsupported());
        };
        clauses.push(found);
        let after = after.trim_start();
        if after.is_empty() {
            return Ok(clauses);
        }
        let joined = after
            .get(..3)
            .is_some_and(|or| or.eq_ignore_ascii_case("or "));
        if !joined {
            return Err(unsupported());
        }
        rest = &after[3..];
    }
}

/// `GET /users?$filter=…&$select=…&$top=N[&$count=true]`, paged with `$skiptoken` in
/// `@odata.nextLink`. `eventual`: the request carried `ConsistencyLevel: eventual`.
pub fn list_users(state: &mut State, query: &str, eventual: bool) -> Reply {
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
    let clauses = match parse_filter(&filter) {
        Ok(clauses) => clauses,
        Err(reply) => return reply,
    };
    let advanced = eventual && get("$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    let extension = clauses.iter().find_map(|c| match c {
        Clause::Extension { name, .. } => Some(name.clone()),
        Clause::UpnStartsWith(_) => None,
    });
    if let Some(name) = extension.filter(|_| !advanced) {
        return graph_error(
            400,
            "Request_UnsupportedQuery",
            &format!(
                "Property '{name}' does not exist as a declared property or extension property."
            ),
        );
    }
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
    let mut matching: Vec<&mut FakeUser> = Vec::new();
    for user in state
        .users
        .iter_mut()
        .filter(|u| clauses.iter().any(|c| c.matches(u)))
    {
        if user.lag > 0 {
            if skip == 0 {
                user.lag -= 1;
            }
            continue;
        }
        matching.push(user);
    }
    matching.sort_by(|a, b| a.upn.cmp(&b.upn));
    let size = top.min(state.page_size);
    let select = get("$select");
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(size)
        .map(|user| user_json(user, select.as_deref()))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users", state.base),
        "value": page,
    });
    if advanced {
        body["@odata.count"] = json!(matching.len());
    }
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
