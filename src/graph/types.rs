//! The JSON Graph sends and receives, as far as this client uses it. Requests borrow their
//! fields; responses ignore what we do not read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /users`, with the payload of the original program.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser<'a> {
    pub account_enabled: bool,
    pub display_name: String,
    pub given_name: &'a str,
    pub surname: &'a str,
    pub mail_nickname: &'a str,
    pub user_principal_name: &'a str,
    pub mail: &'a str,
    pub usage_location: &'a str,
    pub password_policies: &'static str,
    pub password_profile: PasswordProfile<'a>,
    /// The mailbox tag, in its extension attribute (`TagAttribute::payload`).
    #[serde(flatten)]
    pub tag: serde_json::Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile<'a> {
    pub password: &'a str,
    pub force_change_password_next_sign_in: bool,
}

/// A user as `POST /users` and `GET /users/{id}` return it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    /// RFC 3339 (`2026-12-02T05:14:14Z`); Graph fills it in, but a missing one is no error.
    #[serde(default)]
    pub created_date_time: Option<String>,
    /// Only when selected: the fifteen extension attributes, one of them the mailbox tag.
    #[serde(default)]
    pub on_premises_extension_attributes: Option<serde_json::Value>,
}

/// `PATCH /users/{id}` with a new temporary password.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePassword<'a> {
    pub password_profile: PasswordProfile<'a>,
}

/// One page of `GET /users?$filter=…`.
#[derive(Deserialize)]
pub struct UserPage {
    pub value: Vec<User>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

/// `POST /$batch`.
#[derive(Serialize)]
pub struct BatchRequest<'a> {
    pub requests: Vec<&'a BatchItem>,
}

/// One request inside a batch. The URL is relative to the version (`/users/…`).
#[derive(Serialize, Debug, Clone)]
pub struct BatchItem {
    pub id: String,
    pub method: &'static str,
    pub url: String,
    pub headers: BTreeMap<&'static str, &'static str>,
    pub body: serde_json::Value,
}

#[derive(Deserialize)]
pub struct BatchResponse {
    pub responses: Vec<BatchItemResponse>,
}

/// One answer of a batch; answers may come in any order.
#[derive(Deserialize)]
pub struct BatchItemResponse {
    pub id: String,
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: serde_json::Value,
}

impl BatchItemResponse {
    /// A header, matched without regard to case as HTTP headers are.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// `GET /subscribedSkus`.
#[derive(Deserialize)]
pub struct SubscribedSkus {
    pub value: Vec<SubscribedSku>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: String,
    #[serde(default)]
    pub sku_part_number: String,
    #[serde(default)]
    pub consumed_units: i64,
    #[serde(default)]
    pub prepaid_units: PrepaidUnits,
}

#[derive(Deserialize, Default)]
pub struct PrepaidUnits {
    #[serde(default)]
    pub enabled: i64,
}

/// `GET /groups/{id}?$select=id,displayName`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}
