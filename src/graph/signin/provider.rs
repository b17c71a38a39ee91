//! The two requests to the provider besides the keys: its metadata, read once for the
//! `issuer` (the authority may name the tenant by domain, while Entra's issuer always names
//! it by id), and the redemption of the code at the token endpoint with the PKCE verifier
//! and the app's certificate assertion — the one the Graph client signs, no client secret.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::SignInError;
use crate::graph::GraphClient;
use crate::graph::error::AuthError;
use crate::graph::net::without_url;

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
}

/// The provider's `issuer` from `{authority}/v2.0/.well-known/openid-configuration`.
pub async fn issuer(http: &reqwest::Client, metadata_url: &Url) -> Result<String, SignInError> {
    let metadata: Metadata = get_json(http, metadata_url, "metadata", "no issuer").await?;
    // `common` and `organizations` answer with a template: any tenant could sign in.
    if metadata.issuer.contains("{tenantid}") {
        return Err(unavailable(
            metadata_url,
            "metadata",
            "the authority names no single tenant: GRAPH_API_AUTH_AUTHORITY must end in the directory (tenant) id".into(),
        ));
    }
    Ok(metadata.issuer)
}

/// GETs one of the provider's JSON documents (`what`: "metadata", "signing keys"); every
/// failure is logged once and makes the sign-in [`Unavailable`](SignInError::Unavailable).
/// `shape` says what an unreadable body lacks.
pub(super) async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
    what: &str,
    shape: &str,
) -> Result<T, SignInError> {
    let response = http
        .get(url.clone())
        .send()
        .await
        .map_err(|err| unavailable(url, what, without_url(&err)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(unavailable(url, what, format!("answered {status}")));
    }
    response
        .json()
        .await
        .map_err(|err| unavailable(url, what, format!("{shape}: {}", without_url(&err))))
}

fn unavailable(url: &Url, what: &str, problem: String) -> SignInError {
    tracing::error!(%url, problem = %problem, "cannot read the OpenID provider's {what}");
    SignInError::Unavailable(format!("the provider's {what}: {problem}"))
}

#[derive(Deserialize)]
struct Tokens {
    id_token: Option<String>,
}

/// What the code is redeemed with.
pub struct Redemption<'a> {
    pub code: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
}

impl GraphClient {
    /// Redeems the code at the token endpoint the Graph client uses, authenticated with the
    /// same certificate assertion. Returns the id_token; the access token is not needed.
    pub(super) async fn redeem(&self, redemption: &Redemption<'_>) -> Result<String, SignInError> {
        let assertion = self
            .auth
            .assertion()
            .map_err(|err| SignInError::Internal(err.to_string()))?;
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.auth.client_id()),
            ("code", redemption.code),
            ("redirect_uri", redemption.redirect_uri),
            ("code_verifier", redemption.verifier),
            ("scope", redemption.scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let token_url = self.auth.token_url();
        let response = self
            .net
            .http
            .post(token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|err| {
                let problem = without_url(&err);
                tracing::error!(%token_url, problem = %problem, "cannot reach the token endpoint to redeem a sign-in code");
                SignInError::Unavailable(format!("the token endpoint: {problem}"))
            })?;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(refusal(status.as_u16(), &body, token_url));
        }
        let tokens: Tokens = serde_json::from_slice(&body).map_err(|_| {
            SignInError::Unavailable("the token endpoint answered success without JSON".into())
        })?;
        tokens.id_token.ok_or_else(|| {
            SignInError::Unavailable(
                "the token endpoint sent no id_token: is `openid` among the scopes?".into(),
            )
        })
    }
}

/// Entra's error body, logged whole (AADSTS code, trace and correlation ids; no secrets).
fn refusal(status: u16, body: &[u8], token_url: &Url) -> SignInError {
    if status == 429 || status >= 500 {
        tracing::error!(%token_url, status, "the token endpoint is busy or down; a sign-in code was not redeemed");
        return SignInError::Unavailable(format!("the token endpoint answered {status}"));
    }
    match AuthError::from_token_response(status, body) {
        AuthError::Rejected {
            status,
            error,
            description,
            codes,
            hint,
        } => {
            tracing::warn!(%token_url, status, error = %error, aadsts = ?codes, error_description = %description, hint, "Microsoft Entra refused a sign-in code");
            SignInError::Refused {
                status,
                error,
                description,
                codes,
            }
        }
        other => {
            tracing::error!(%token_url, error = %other, "unreadable answer from the token endpoint");
            SignInError::Unavailable(other.to_string())
        }
    }
}
