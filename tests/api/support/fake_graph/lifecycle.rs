//! The end of an account as Graph does it: `DELETE /users/{id}` moves the user into the
//! deleted items (every later request about it is a 404; its licences' seats are freed),
//! and `POST /directory/deletedItems/{id}/restore` brings it back within the 30 days
//! Entra keeps it. `accountEnabled` and licence removal are in `directory.rs`.

use serde_json::json;

use super::directory::{not_found, visible_user};
use super::users::user_json;
use super::{Reply, State};

/// `DELETE /users/{id}`: 204, and the user is in the deleted items.
pub fn delete_user(state: &mut State, key: &str) -> Reply {
    let Some(user) = visible_user(state, key) else {
        return not_found(key);
    };
    let id = user.id.clone();
    let at = state
        .users
        .iter()
        .position(|u| u.id == id)
        .expect("found above");
    let user = state.users.remove(at);
    // A deleted user holds no seat.
    for sku_id in &user.licences {
        if let Some(sku) = state.skus.iter_mut().find(|s| &s.id == sku_id) {
            sku.consumed -= 1;
        }
    }
    state.deleted.push(user);
    Reply::empty(204)
}

/// `POST /directory/deletedItems/{id}/restore`: the user as it was deleted, or 404 when no
/// deleted object has the id.
pub fn restore_user(state: &mut State, path: &str) -> Reply {
    // /v1.0/directory/deletedItems/{id}/restore
    let id = path.split('/').nth(4).unwrap_or("");
    let Some(at) = state.deleted.iter().position(|u| u.id == id) else {
        return not_found(id);
    };
    let mut user = state.deleted.remove(at);
    // Licences whose seats are gone meanwhile are not assigned again.
    user.licences.retain(|sku_id| {
        let Some(sku) = state.skus.iter_mut().find(|s| &s.id == sku_id) else {
            return false;
        };
        let free = sku.consumed < sku.enabled;
        if free {
            sku.consumed += 1;
        }
        free
    });
    let mut body = user_json(&user, None);
    body["@odata.type"] = json!("#microsoft.graph.user");
    state.users.push(user);
    Reply::json(200, body)
}
