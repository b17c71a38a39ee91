//! Operator sign-in with Microsoft: the OpenID Connect authorization code flow with PKCE
//! against the tenant of `GRAPH_API_AUTH_AUTHORITY`, by the same app registration as the
//! Graph client and with its certificate (no client secret).
//!
//! [`SignInClient::begin`] makes the URL to send the browser to and keeps what the callback
//! needs under a random `state` (in this process, see `pending.rs`); the web layer also puts
//! that `state` into a SameSite=Lax cookie, which comes along on Entra's cross-site redirect
//! back, so a callback only counts in the browser that started it. [`SignInClient::complete`]
//! takes the pending sign-in out (once), redeems the code, verifies the id_token and checks
//! membership in `ADMIN_GROUP_IDS`.

mod error;
mod id_token;
mod keys;
mod membership;
mod pending;
mod provider;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

pub use error::{SignInError, TokenCheck};
pub use membership::{AdminGroups, AdminGroupsError};

use super::{GraphClient, SetupError};
use keys::KeyCache;
use pending::{PendingSignIn, PendingSignIns};

/// The scopes asked for: `openid` for the id_token, `profile` for the name, `oid` and
/// `preferred_username` in it. Nothing else: the console acts with the app's own token.
const SCOPE: &str = "openid profile";

/// Who signed in, as the id_token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `preferred_username`: the UPN.
    pub upn: String,
    /// `oid`: the user's object id in the tenant.
    pub object_id: String,
    /// `name`, or the UPN when the token has none.
    pub display_name: String,
}

/// What the sign-in needs besides the Graph settings.
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// `ADMIN_GROUP_IDS`.
    pub groups: AdminGroups,
    /// `{PUBLIC_URL}/admin/callback`, registered as a Web redirect URI.
    pub redirect_uri: Url,
}

/// Where to send the browser, and the `state` to remember in its Lax cookie.
#[derive(Debug)]
pub struct SignInStart {
    /// `{authority}/oauth2/v2.0/authorize?…`: where to redirect the browser.
    pub authorize_url: Url,
    /// The sign-in's `state`: for the browser's SameSite=Lax cookie, which
    /// [`SignInClient::complete`] compares with the callback's.
    pub state: String,
}

/// The query Entra sends the browser back with (`response_mode=query`).
#[derive(Default, Deserialize)]
pub struct Callback {
    /// The authorization code, when the sign-in succeeded at Entra.
    pub code: Option<String>,
    /// The `state` the sign-in began with.
    pub state: Option<String>,
    /// Entra's error code (`access_denied`, …) instead of a code.
    pub error: Option<String>,
    /// Entra's description of the error, with its AADSTS code.
    pub error_description: Option<String>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code is a credential until it is redeemed.
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "…"))
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// The OpenID Connect client of the operator console.
#[derive(Debug)]
pub struct SignInClient {
    graph: Arc<GraphClient>,
    authorize_url: Url,
    metadata_url: Url,
    redirect_uri: Url,
    groups: AdminGroups,
    issuer: tokio::sync::OnceCell<String>,
    keys: KeyCache,
    pending: PendingSignIns,
}

impl SignInClient {
    /// Builds the client on the Graph client: the same app, certificate and authority.
    pub fn new(graph: Arc<GraphClient>, sign_in: SignInSettings) -> Result<Self, SetupError> {
        // The Graph client's token endpoint is `{authority}/oauth2/v2.0/token`.
        let authority = graph
            .auth
            .token_url()
            .join("../../")
            .map_err(|err| SetupError::Url(format!("GRAPH_API_AUTH_AUTHORITY: {err}")))?;
        let join = |path: &str| {
            authority
                .join(path)
                .map_err(|err| SetupError::Url(format!("GRAPH_API_AUTH_AUTHORITY: {err}")))
        };
        Ok(SignInClient {
            authorize_url: join("oauth2/v2.0/authorize")?,
            metadata_url: join("v2.0/.well-known/openid-configuration")?,
            keys: KeyCache::new(join("discovery/v2.0/keys")?, keys::REFETCH_FLOOR),
            graph,
            redirect_uri: sign_in.redirect_uri,
            groups: sign_in.groups,
            issuer: tokio::sync::OnceCell::new(),
            pending: PendingSignIns::new(pending::LIFETIME, pending::CAPACITY),
        })
    }

    /// Changes the least time between two key fetches caused by an unknown `kid` (default
    /// 5 minutes; tests of a key rotation shorten it).
    pub fn with_key_refetch_floor(mut self, floor: Duration) -> Self {
        self.keys = self.keys.with_floor(floor);
        self
    }

    /// Starts a sign-in: a fresh `state`, `nonce` and PKCE verifier, kept for the callback,
    /// and the authorization URL that carries the state, the nonce and the S256 challenge.
    pub fn begin(&self) -> Result<SignInStart, SignInError> {
        let now = std::time::Instant::now();
        let state = pending::random_token()?;
        let sign_in = PendingSignIn::new(now)?;
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", self.graph.auth.client_id())
            .append_pair("response_type", "code")
            .append_pair("response_mode", "query")
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("scope", SCOPE)
            .append_pair("state", &state)
            .append_pair("nonce", &sign_in.nonce)
            .append_pair("code_challenge", &sign_in.challenge())
            .append_pair("code_challenge_method", "S256");
        self.pending.insert(state.clone(), sign_in, now);
        Ok(SignInStart {
            authorize_url: url,
            state,
        })
    }

    /// Completes a sign-in from Entra's redirect back. `browser_state` is the `state` the
    /// browser's own cookie holds; a callback whose `state` differs is refused, and leaves
    /// the pending sign-in alone. The pending sign-in is used up by the first callback that
    /// names it, whatever comes of it.
    pub async fn complete(
        &self,
        callback: &Callback,
        browser_state: Option<&str>,
    ) -> Result<Operator, SignInError> {
        let state = callback.state.as_deref().unwrap_or("");
        if state.is_empty() || browser_state != Some(state) {
            return Err(SignInError::StateMismatch);
        }
        let sign_in = self
            .pending
            .take(state, std::time::Instant::now())
            .ok_or(SignInError::UnknownState)?;
        if let Some(error) = &callback.error {
            return Err(SignInError::Provider {
                error: error.clone(),
                description: callback.error_description.clone().unwrap_or_default(),
            });
        }
        let code = callback.code.as_deref().filter(|code| !code.is_empty());
        let code = code.ok_or(SignInError::Provider {
            error: "no_code".into(),
            description: "the callback carries neither a code nor an error".into(),
        })?;
        let id_token = self
            .graph
            .redeem(&provider::Redemption {
                code,
                verifier: &sign_in.verifier,
                redirect_uri: self.redirect_uri.as_str(),
                scope: SCOPE,
            })
            .await?;
        let claims = self.verify(&id_token, &sign_in.nonce).await?;
        let operator = Operator {
            upn: claims.upn,
            object_id: claims.object_id,
            display_name: claims.display_name,
        };
        let member = self
            .graph
            .is_member(&operator.object_id, &claims.groups, &self.groups)
            .await?;
        if member {
            Ok(operator)
        } else {
            Err(SignInError::NotMember(operator))
        }
    }

    /// The id_token's claims, once its header, key, signature, claims and nonce pass.
    async fn verify(&self, token: &str, nonce: &str) -> Result<id_token::IdClaims, SignInError> {
        let header = id_token::header(token)?;
        let http = &self.graph.net.http;
        let issuer = self
            .issuer
            .get_or_try_init(|| provider::issuer(http, &self.metadata_url))
            .await?;
        let key = self.keys.key(http, &header.kid).await?;
        let expected = id_token::Expected {
            issuer,
            client_id: self.graph.auth.client_id(),
            nonce,
        };
        id_token::verify(token, &key, &expected)
    }

    /// Sign-ins kept for their callback (expired ones until they are pushed out).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}
