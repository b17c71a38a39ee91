//! What the Graph client is configured with (the `GRAPH_API_*` keys); `config` fills it in.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::TagAttribute;

/// Microsoft Graph settings. Checked by [`super::GraphClient::from_settings`].
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// `GRAPH_API_URL`: Graph's base URL.
    pub api_url: Url,
    /// `GRAPH_API_AUTH_AUTHORITY`: the token authority, including the tenant.
    pub authority: Url,
    /// `GRAPH_API_AUTH_CLIENT_ID`.
    pub client_id: String,
    /// `GRAPH_API_AUTH_PUBKEY_THUMBPRINT`, as written (hex, any spelling).
    pub pubkey_thumbprint: Option<String>,
    /// `GRAPH_API_AUTH_PRIVKEY_PATH`.
    pub privkey_path: PathBuf,
    /// `GRAPH_API_AUTH_CERT_PATH`.
    pub cert_path: Option<PathBuf>,
    /// `GRAPH_API_USER_MAIL_DOMAIN`, lower-cased.
    pub user_mail_domain: String,
    /// `GRAPH_API_GROUPS_FOR_NEW_USERS`: group object ids.
    pub groups_for_new_users: Vec<String>,
    /// `GRAPH_API_LICENSE_SKUS`: SKU ids.
    pub license_skus: Vec<String>,
    /// `GRAPH_API_USAGE_LOCATION`, upper-cased.
    pub usage_location: String,
    /// `GRAPH_API_TIMEOUT_SECONDS`: the timeout of one request.
    pub timeout: Duration,
    /// `GRAPH_API_WRITES_PER_MINUTE`: the write budget every request of this process shares
    /// (with a shared budget, every instance's: `GraphClient::with_shared_budget`).
    pub writes_per_minute: u32,
    /// `GRAPH_API_MAILBOX_TAG_ATTRIBUTE`: the extension attribute that holds users' mailbox
    /// tags.
    pub mailbox_tag_attribute: TagAttribute,
}
