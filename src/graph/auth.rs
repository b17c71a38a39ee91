//! App-only access tokens by the client-credentials flow with a certificate: an RS256 client
//! assertion posted to the tenant's token endpoint. The token is cached for every request of
//! the process and refreshed shortly before it expires, one refresh at a time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use reqwest::StatusCode;
use ring::rand::SecureRandom;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::credentials::Credentials;
use super::error::AuthError;
use super::net::{Net, without_url};
use super::retry::{self, Attempt, Deadline, Retrier, Retry, Stop, is_transient};

/// How long a client assertion is valid. Entra only needs it for the one request.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Refresh this long before expiry, so no request starts with a token about to lapse.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A cached token. `generation` tells a stale token from its replacement, so a request
/// that got 401 only drops the token it used, not a fresh one another request just fetched.
#[derive(Clone)]
pub struct AccessToken {
    pub secret: SecretString,
    pub generation: u64,
}

struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

/// Fetches and caches tokens. Holding the mutex during a fetch is what makes refreshes
/// one at a time: concurrent sign-ups wait for the one fetch and share its result.
pub struct TokenSource {
    credentials: Credentials,
    client_id: String,
    token_url: Url,
    scope: String,
    cache: Mutex<Option<Cached>>,
    generations: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url.as_str())
            .field("thumbprint", &self.credentials.thumbprint.to_hex())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Seconds; the v1 endpoint sent it as a string, so both are accepted.
    expires_in: serde_json::Value,
}

impl TokenSource {
    pub fn new(credentials: Credentials, client_id: &str, token_url: Url, scope: String) -> Self {
        TokenSource {
            credentials,
            client_id: client_id.to_owned(),
            token_url,
            scope,
            cache: Mutex::new(None),
            generations: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A valid token, from the cache or freshly fetched.
    pub async fn token(&self, net: &Net, deadline: &Deadline) -> Result<AccessToken, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref() {
            if Instant::now() < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        let (secret, lifetime) = self.fetch(net, deadline).await?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let token = AccessToken {
            secret,
            generation: self
                .generations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1,
        };
        *cache = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime - margin,
        });
        Ok(token)
    }

    /// Forgets `stale` (Graph said it is not valid), unless it was already replaced.
    pub async fn invalidate(&self, stale: &AccessToken) {
        let mut cache = self.cache.lock().await;
        if cache
            .as_ref()
            .is_some_and(|c| c.token.generation == stale.generation)
        {
            *cache = None;
        }
    }

    /// The application (client) id the assertions name.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The tenant's token endpoint, the assertions' audience.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// A signed client assertion. A fresh `jti` every time: Entra may refuse a replayed one.
    /// Also the operator sign-in's client authentication (`signin`), for the same endpoint.
    pub(super) fn assertion(&self) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| AuthError::Sign("the system clock is before 1970".into()))?
            .as_secs();
        let mut jti = [0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut jti)
            .map_err(|_| AuthError::Sign("no random numbers available".into()))?;
        let claims = AssertionClaims {
            aud: self.token_url.as_str(),
            iss: &self.client_id,
            sub: &self.client_id,
            jti: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jti),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
        };
        crate::jwt_crypto::install();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t = Some(self.credentials.thumbprint.x5t());
        jsonwebtoken::encode(&header, &claims, &self.credentials.key.encoding_key)
            .map_err(|err| AuthError::Sign(err.to_string()))
    }

    /// One token request, repeated on throttling, outages and network errors until the
    /// deadline. A refusal is final: a wrong key does not get better by asking again.
    async fn fetch(
        &self,
        net: &Net,
        deadline: &Deadline,
    ) -> Result<(SecretString, Duration), AuthError> {
        let fetched = Retrier::new("token", &net.policy, *deadline)
            .run(|| self.request(net, deadline))
            .await;
        fetched.map_err(|stop| match stop {
            Stop::GaveUp(err) => err,
            Stop::Exhausted {
                problem, attempts, ..
            } => {
                tracing::warn!(token_url = %self.token_url, attempts, problem = %problem, "no access token within the deadline");
                AuthError::Unavailable(problem)
            }
        })
    }

    /// One token request, judged.
    async fn request(
        &self,
        net: &Net,
        deadline: &Deadline,
    ) -> Attempt<(SecretString, Duration), AuthError, String> {
        let assertion = match self.assertion() {
            Ok(assertion) => assertion,
            Err(err) => return Attempt::GiveUp(err),
        };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("scope", self.scope.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let sent = net
            .http
            .post(self.token_url.clone())
            .form(&form)
            .timeout(net.request_timeout(deadline))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                let problem = format!("token request failed: {}", without_url(&err));
                return Attempt::Retry(Retry::busy(problem, None));
            }
        };
        let status = response.status();
        let retry_after = retry::retry_after(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            return match self.read_token(status, &body) {
                Ok(token) => Attempt::Done(token),
                Err(err) => Attempt::GiveUp(err),
            };
        }
        if is_transient(status) {
            let problem = format!("the token endpoint answered {status}");
            return Attempt::Retry(Retry::busy(problem, retry_after));
        }
        let err = AuthError::from_token_response(status.as_u16(), &body);
        log_refusal(&err, &self.token_url);
        Attempt::GiveUp(err)
    }

    fn read_token(
        &self,
        status: StatusCode,
        body: &[u8],
    ) -> Result<(SecretString, Duration), AuthError> {
        let malformed = || AuthError::Malformed {
            status: status.as_u16(),
            excerpt: "a success without access_token and expires_in".into(),
        };
        let response: TokenResponse = serde_json::from_slice(body).map_err(|_| malformed())?;
        let seconds = match &response.expires_in {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(malformed)?;
        tracing::info!(
            expires_in = seconds,
            "obtained a Microsoft Graph access token"
        );
        Ok((
            SecretString::from(response.access_token),
            Duration::from_secs(seconds),
        ))
    }
}

impl AccessToken {
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

fn log_refusal(err: &AuthError, token_url: &Url) {
    if let AuthError::Rejected {
        status,
        error,
        description,
        codes,
        hint,
    } = err
    {
        tracing::error!(
            %token_url,
            status,
            error = %error,
            aadsts = ?codes,
            error_description = %description,
            hint,
            "Microsoft Entra refused the token request"
        );
    } else {
        tracing::error!(%token_url, error = %err, "unreadable answer from the token endpoint");
    }
}
