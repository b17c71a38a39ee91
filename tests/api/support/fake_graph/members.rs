//! `POST /users/{id}/checkMemberGroups`: which of the given groups (at most 20) a user is a
//! member of. The fake's groups do not nest, so direct membership is the whole answer.

use serde_json::{Value, json};

use super::{Reply, State, graph_error};

pub fn check(state: &mut State, path: &str, body: &[u8]) -> Reply {
    // /v1.0/users/{id}/checkMemberGroups
    let id = path.split('/').nth(3).unwrap_or("");
    let Some(user) = state
        .users
        .iter()
        .find(|u| u.id == id || u.upn.eq_ignore_ascii_case(id))
    else {
        return graph_error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    };
    // Reading users and group memberships: Graph refuses an app granted neither kind.
    let granted = |names: &[&str]| {
        state
            .roles
            .iter()
            .any(|role| names.contains(&role.as_str()))
    };
    let users = granted(&["User.Read.All", "User.ReadWrite.All", "Directory.Read.All"]);
    let groups = granted(&[
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
    ]);
    if !(users && groups) {
        return graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(asked) = request["groupIds"].as_array() else {
        return graph_error(
            400,
            "Request_BadRequest",
            "The request body must contain 'groupIds'.",
        );
    };
    if asked.is_empty() || asked.len() > 20 {
        return graph_error(
            400,
            "Request_BadRequest",
            "Invalid value specified for property 'groupIds' of resource 'checkMemberGroups': between 1 and 20 ids.",
        );
    }
    let member_of: Vec<&str> = asked
        .iter()
        .filter_map(Value::as_str)
        .filter(|group| {
            state
                .groups
                .get(*group)
                .is_some_and(|g| g.members.contains(&user.id))
        })
        .collect();
    Reply::json(
        200,
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
            "value": member_of,
        }),
    )
}
