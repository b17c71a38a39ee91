//! Ending an account and undoing it ([`AccountControl`]): the user read with its state,
//! `PATCH /users/{id}` with `accountEnabled`, `POST /users/{id}/assignLicense`, `DELETE
//! /users/{id}` and `POST /directory/deletedItems/{id}/restore`. Each write waits for the
//! one write budget and is retried on throttling by `send_writes`, like every other.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::GraphClient;
use super::call::Reply;
use super::error::CallError;
use crate::directory::{AccountControl, AccountState, DirectoryError, LicenceChange};

/// What the account lookup reads of a user.
const ACCOUNT_FIELDS: &str =
    "id,userPrincipalName,accountEnabled,licenseAssignmentStates,onPremisesExtensionAttributes";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountUser {
    id: String,
    user_principal_name: String,
    #[serde(default)]
    account_enabled: Option<bool>,
    #[serde(default)]
    license_assignment_states: Vec<LicenceState>,
    #[serde(default)]
    on_premises_extension_attributes: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LicenceState {
    sku_id: String,
    /// The group the licence comes through; `None`: assigned to the user directly.
    #[serde(default)]
    assigned_by_group: Option<String>,
}

impl GraphClient {
    /// One write request about a user: `true` when Graph did it, `false` when it knows no
    /// such object (404), a refusal otherwise. Throttling and outages are waited out.
    async fn user_write(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<bool, CallError> {
        let deadline = self.deadline();
        let url = self.url(path)?;
        let body = body.map(|body| bytes::Bytes::from(body.to_string()));
        let reply: Reply = self
            .send_writes(&deadline, operation, 1, |http| {
                let request = http.request(method.clone(), url.clone());
                match &body {
                    Some(body) => request
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.clone()),
                    None => request,
                }
            })
            .await?;
        match reply.status {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(CallError::Api(reply.error())),
        }
    }

    /// `users/{id}`, the id checked to be a GUID (so it is safe in a path).
    fn user_path(object_id: &str) -> Result<String, CallError> {
        if !super::is_guid(object_id) {
            return Err(CallError::Unexpected(format!(
                "`{object_id}` is not a Graph object id"
            )));
        }
        Ok(format!("users/{object_id}"))
    }

    async fn read_account(&self, object_id: &str) -> Result<Option<AccountState>, CallError> {
        let deadline = self.deadline();
        let mut url = self.url(&Self::user_path(object_id)?)?;
        url.query_pairs_mut().append_pair("$select", ACCOUNT_FIELDS);
        let reply = self
            .send(&deadline, "get account", |http| http.get(url.clone()))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let user: AccountUser = reply.json()?;
        Ok(Some(AccountState {
            object_id: user.id,
            user_principal_name: user.user_principal_name,
            // Graph leaves out what it has not set; a user it made is enabled.
            enabled: user.account_enabled.unwrap_or(true),
            licences: user
                .license_assignment_states
                .into_iter()
                .filter(|state| state.assigned_by_group.is_none())
                .map(|state| state.sku_id)
                .collect(),
            tag: self
                .tag_attribute
                .read(user.on_premises_extension_attributes.as_ref()),
        }))
    }
}

#[async_trait::async_trait]
impl AccountControl for GraphClient {
    async fn account(&self, object_id: &str) -> Result<Option<AccountState>, DirectoryError> {
        self.read_account(object_id)
            .await
            .map_err(|err| err.into_directory_error("reading an account"))
    }

    async fn set_enabled(&self, object_id: &str, enabled: bool) -> Result<bool, DirectoryError> {
        let operation = if enabled {
            "enable user"
        } else {
            "disable user"
        };
        let path = Self::user_path(object_id).map_err(|err| err.into_directory_error(operation))?;
        let body = json!({ "accountEnabled": enabled });
        let done = self
            .user_write(operation, Method::PATCH, &path, Some(body))
            .await
            .map_err(|err| err.into_directory_error(operation))?;
        tracing::info!(object_id, enabled, done, "set whether the user may sign in");
        Ok(done)
    }

    async fn change_licences(
        &self,
        object_id: &str,
        change: LicenceChange<'_>,
    ) -> Result<bool, DirectoryError> {
        const OPERATION: &str = "change licences";
        let path = Self::user_path(object_id).map_err(|err| err.into_directory_error(OPERATION))?
            + "/assignLicense";
        let add: Vec<_> = change
            .add
            .iter()
            .map(|sku| json!({ "skuId": sku, "disabledPlans": [] }))
            .collect();
        let body = json!({ "addLicenses": add, "removeLicenses": change.remove });
        let done = self
            .user_write(OPERATION, Method::POST, &path, Some(body))
            .await
            .map_err(|err| err.into_directory_error(OPERATION))?;
        tracing::info!(
            object_id,
            added = change.add.len(),
            removed = change.remove.len(),
            done,
            "changed the user's licences"
        );
        Ok(done)
    }

    async fn delete_user(&self, object_id: &str) -> Result<bool, DirectoryError> {
        const OPERATION: &str = "delete user";
        let path = Self::user_path(object_id).map_err(|err| err.into_directory_error(OPERATION))?;
        let done = self
            .user_write(OPERATION, Method::DELETE, &path, None)
            .await
            .map_err(|err| err.into_directory_error(OPERATION))?;
        tracing::info!(object_id, done, "deleted the user (restorable for 30 days)");
        Ok(done)
    }

    async fn restore_user(&self, object_id: &str) -> Result<bool, DirectoryError> {
        const OPERATION: &str = "restore deleted user";
        let path = Self::user_path(object_id)
            .map(|_| format!("directory/deletedItems/{object_id}/restore"))
            .map_err(|err| err.into_directory_error(OPERATION))?;
        let done = self
            .user_write(OPERATION, Method::POST, &path, Some(json!({})))
            .await
            .map_err(|err| err.into_directory_error(OPERATION))?;
        tracing::info!(object_id, done, "restored the deleted user");
        Ok(done)
    }
}
