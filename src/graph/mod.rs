//! The Microsoft Graph client: the real [`Directory`]. Certificate-based app-only tokens
//! ([`auth`]), one query for a free username, one create, and licences plus groups in one
//! `$batch`, so a sign-up costs a constant number of round trips. Throttling, outages and
//! replication lag are waited out within a deadline per step ([`retry`]).

mod accounts;
mod auth;
mod call;
pub mod check;
pub mod credentials;
pub mod error;
mod grant;
mod net;
pub mod pacer;
mod pem;
pub mod retry;
mod seats;
mod settings;
pub mod signin;
mod tag;
mod tap;
mod types;
mod users;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use check::{CheckResult, check};
pub use credentials::{Credentials, CredentialsError, Thumbprint};
pub use error::{AuthError, GraphApiError};
pub use pacer::{Pacer, SharedBudget};
pub use retry::RetryPolicy;
pub use seats::SEATS_FRESH_FOR;
pub use settings::GraphSettings;
pub use tag::{TagAttribute, TagAttributeError};
pub use tap::{PASS_ROLES, PassPolicy, PolicyTarget};

use crate::directory::{
    Directory, DirectoryError, DirectoryUser, GrantOutcome, Grants, LicenceSeats, MailboxTag,
    NameQuery, NewUser, OwnGrants, PassRequest, TemporaryAccessPass,
};
use crate::domain::MailNickname;
use auth::TokenSource;
use net::Net;
use retry::Deadline;

/// Why the Graph settings cannot be used; each message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(
        "GRAPH_API_GROUPS_FOR_NEW_USERS: `{0}` is not a group object id (a GUID); copy the Object ID from the group's overview in the Entra admin centre"
    )]
    Group(String),
    #[error(
        "GRAPH_API_LICENSE_SKUS: `{0}` is not a SKU id (a GUID such as 314c4481-f395-4525-be8b-2ec4bb1e9d91); `ms365-accountcreator check` lists problems with the tenant's SKUs"
    )]
    Sku(String),
    #[error(
        "GRAPH_API_USAGE_LOCATION: `{0}` is not a two-letter country code (ISO 3166-1), e.g. DE; Graph needs it to assign licences"
    )]
    UsageLocation(String),
    #[error(
        "GRAPH_API_USER_MAIL_DOMAIN is empty: set the domain of the new usernames, e.g. example.onmicrosoft.com"
    )]
    Domain,
    #[error(
        "GRAPH_API_AUTH_CLIENT_ID is empty: set the application (client) id of the app registration"
    )]
    ClientId,
    #[error("{0}")]
    Url(String),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// The Microsoft Graph directory.
#[derive(Debug)]
pub struct GraphClient {
    net: Net,
    auth: TokenSource,
    /// `{GRAPH_API_URL}/v1.0/`.
    v1: Url,
    domain: String,
    groups: Vec<String>,
    skus: Vec<String>,
    usage_location: String,
    /// Where users carry their mailbox tag.
    tag_attribute: TagAttribute,
    /// The last read of the tenant's licence seats.
    seat_cache: seats::SeatCache,
    /// Where request counts and latencies go (`/metrics`).
    metrics: Option<crate::metrics::Metrics>,
}

impl GraphClient {
    /// Builds the client: reads and checks the key, the certificate or thumbprint, and the
    /// ids. Needs a rustls crypto provider installed (main does that).
    pub fn from_settings(settings: &GraphSettings) -> Result<Self, SetupError> {
        if settings.client_id.trim().is_empty() {
            return Err(SetupError::ClientId);
        }
        if settings.user_mail_domain.is_empty() {
            return Err(SetupError::Domain);
        }
        if let Some(group) = settings.groups_for_new_users.iter().find(|g| !is_guid(g)) {
            return Err(SetupError::Group(group.clone()));
        }
        if let Some(sku) = settings.license_skus.iter().find(|s| !is_guid(s)) {
            return Err(SetupError::Sku(sku.clone()));
        }
        let location = &settings.usage_location;
        if location.len() != 2 || !location.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(SetupError::UsageLocation(location.clone()));
        }
        let credentials = Credentials::load(
            &settings.privkey_path,
            settings.pubkey_thumbprint.as_deref(),
            settings.cert_path.as_deref(),
        )?;
        let api = with_slash(&settings.api_url);
        let v1 = api
            .join("v1.0/")
            .map_err(|err| SetupError::Url(format!("GRAPH_API_URL: {err}")))?;
        let token_url = with_slash(&settings.authority)
            .join("oauth2/v2.0/token")
            .map_err(|err| SetupError::Url(format!("GRAPH_API_AUTH_AUTHORITY: {err}")))?;
        let scope = format!("{}/.default", api.as_str().trim_end_matches('/'));
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("ms365-accountcreator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| SetupError::Http(err.to_string()))?;
        Ok(GraphClient {
            net: Net {
                http,
                timeout: settings.timeout,
                policy: RetryPolicy::default(),
                pacer: Pacer::new(settings.writes_per_minute),
            },
            auth: TokenSource::new(credentials, settings.client_id.trim(), token_url, scope),
            v1,
            domain: settings.user_mail_domain.clone(),
            groups: settings.groups_for_new_users.clone(),
            skus: settings.license_skus.clone(),
            usage_location: settings.usage_location.clone(),
            tag_attribute: settings.mailbox_tag_attribute,
            seat_cache: seats::SeatCache::new(SEATS_FRESH_FOR),
            metrics: None,
        })
    }

    /// Counts every request into `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.net.pacer = self.net.pacer.clone().with_metrics(metrics.clone());
        self.metrics = Some(metrics);
        self
    }

    /// Takes the write budget from `budget`, which every instance shares (PostgreSQL), and
    /// holds every request during the pauses any instance records; `None` keeps the budget
    /// in this process.
    pub fn with_shared_budget(mut self, budget: Option<Arc<dyn SharedBudget>>) -> Self {
        if let Some(budget) = budget {
            self.net.pacer = self.net.pacer.clone().shared(budget);
        }
        self
    }

    /// Replaces the retry limits (tests use short deadlines).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.net.policy = policy;
        self
    }

    /// Keeps a read of the licence seats this long instead of [`SEATS_FRESH_FOR`] (tests
    /// that raise seats do not wait a minute).
    pub fn with_seats_fresh_for(mut self, fresh_for: Duration) -> Self {
        self.seat_cache = seats::SeatCache::new(fresh_for);
        self
    }

    /// `{GRAPH_API_URL}/v1.0/{path}`, `path` already escaped.
    fn url(&self, path: &str) -> Result<Url, error::CallError> {
        self.v1
            .join(path)
            .map_err(|err| error::CallError::Unexpected(format!("cannot build a URL: {err}")))
    }

    fn deadline(&self) -> Deadline {
        self.net.policy.start()
    }
}

/// A URL whose path ends in `/`, so `join` appends instead of replacing the last segment
/// (`https://host/tenant` + `oauth2/…`).
fn with_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex, the only form Graph writes. Object and SKU
/// ids are GUIDs, and checking that here means they are safe to put into URL paths unescaped
/// (`Uuid::parse_str` would also take the braced, URN and undashed forms).
fn is_guid(id: &str) -> bool {
    id.parse::<uuid::fmt::Hyphenated>().is_ok()
}

#[async_trait::async_trait]
impl Directory for GraphClient {
    fn domain(&self) -> &str {
        &self.domain
    }

    async fn free_user_principal_name(
        &self,
        nickname: &MailNickname,
        known_taken: &[String],
        tag: &MailboxTag,
    ) -> Result<NameQuery, DirectoryError> {
        self.free_upn(nickname, known_taken, tag)
            .await
            .map_err(|err| err.into_directory_error("finding a free username"))
    }

    async fn find_user(&self, key: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.get_user(key)
            .await
            .map_err(|err| err.into_directory_error("looking up a user"))
    }

    async fn create_user(&self, user: &NewUser<'_>) -> Result<DirectoryUser, DirectoryError> {
        self.post_user(user).await
    }

    async fn set_password(
        &self,
        object_id: &str,
        password: &secrecy::SecretString,
    ) -> Result<(), DirectoryError> {
        self.patch_password(object_id, password)
            .await
            .map_err(|err| err.into_directory_error("setting a new temporary password"))
    }

    async fn grant_with(
        &self,
        object_id: &str,
        wanted: Grants,
        own: OwnGrants<'_>,
    ) -> GrantOutcome {
        self.grant_batch(object_id, wanted, own).await
    }

    async fn set_tag(&self, object_id: &str, tag: &MailboxTag) -> Result<(), DirectoryError> {
        self.patch_tag(object_id, tag)
            .await
            .map_err(|err| err.into_directory_error("writing the mailbox tag"))
    }

    async fn create_temporary_access_pass(
        &self,
        object_id: &str,
        request: &PassRequest,
    ) -> Result<TemporaryAccessPass, DirectoryError> {
        if !is_guid(object_id) {
            return Err(DirectoryError::Failed(format!(
                "`{object_id}` is not a Graph object id"
            )));
        }
        self.post_pass(object_id, request).await
    }

    fn licence_skus(&self) -> &[String] {
        &self.skus
    }

    async fn licence_seats(&self, skus: &[String]) -> Result<Vec<LicenceSeats>, DirectoryError> {
        self.seats(skus).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_recognised() {
        assert!(is_guid("314c4481-f395-4525-be8b-2ec4bb1e9d91"));
        assert!(is_guid("314C4481-F395-4525-BE8B-2EC4BB1E9D91"));
        for bad in [
            "",
            "Students",
            "314c4481f3954525be8b2ec4bb1e9d91",
            "314c4481-f395-4525-be8b-2ec4bb1e9d9g",
            "../../x-f395-4525-be8b-2ec4bb1e9d91",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
    }

    #[test]
    fn authority_and_api_urls_keep_their_paths() {
        let authority = Url::parse("https://login.microsoftonline.com/tenant-id").unwrap();
        assert_eq!(
            with_slash(&authority)
                .join("oauth2/v2.0/token")
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token"
        );
        let api = Url::parse("https://graph.microsoft.com").unwrap();
        assert_eq!(
            with_slash(&api).join("v1.0/").unwrap().as_str(),
            "https://graph.microsoft.com/v1.0/"
        );
    }
}
