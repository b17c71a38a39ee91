//! A fake Microsoft Entra OpenID provider for the operator sign-in, served over real HTTP on
//! 127.0.0.1:0 beside the fake Graph. It answers for the fake Graph's tenant (by id or by
//! the domain name) the way Entra does where our client depends on it:
//!
//! - `/{tenant}/v2.0/.well-known/openid-configuration`: the metadata, whose `issuer` names
//!   the tenant by id whatever the request said;
//! - `/{tenant}/oauth2/v2.0/authorize`: records the request, refuses an unregistered
//!   redirect URI with Entra's error page, and otherwise sends the browser straight back to
//!   it with a `code` and the `state` — signing in whoever the test chose (or denied);
//! - `/{tenant}/oauth2/v2.0/token`: the authorization-code grant (single-use codes, the
//!   PKCE S256 check, the redirect URI, and the certificate client assertion checked by the
//!   fake Graph's own token endpoint code) with Entra's error bodies; client-credentials
//!   requests go to the fake Graph's token service, so one authority serves both grants as
//!   Entra does;
//! - `/{tenant}/discovery/v2.0/keys`: the JWKS, with a key rotation on request.
//!
//! Browsers treat `localhost` and `127.0.0.1` as two sites (ports do not matter), so a
//! server under test on 127.0.0.1 meets a cross-site redirect back from [`authority`]
//! (`localhost`) as it would from Entra; [`authority_at_ip`] is the same-site variant.
//!
//! [`authority`]: FakeOidc::authority
//! [`authority_at_ip`]: FakeOidc::authority_at_ip

mod authorize;
mod signing;
mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};
use serde_json::json;

use crate::support::fake_graph::token::{TokenService, aadsts};
use crate::support::fake_graph::{DOMAIN, FakeGraph, TENANT, guid};
use signing::SigningKey;

/// Who the next sign-in is, as the id_token will say.
#[derive(Debug, Clone)]
pub struct Person {
    pub oid: String,
    pub upn: String,
    pub name: String,
    pub groups: Groups,
}

/// What the id_token says about the person's groups.
#[derive(Debug, Clone)]
pub enum Groups {
    /// A `groups` claim with these ids.
    Listed(Vec<String>),
    /// Too many groups: `_claim_names`/`_claim_sources` instead (code flow).
    Overage,
    /// Too many groups, as the implicit flow says it: `hasgroups: true`.
    HasGroupsFlag,
    /// No groups claim at all.
    None,
}

/// A way to spoil the next id_token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    /// Signed by a key the provider never published, under the current `kid`.
    WrongKey,
    /// Signed by an unpublished key under a `kid` nobody knows.
    UnknownKey,
    WrongAudience,
    WrongIssuer,
    Expired,
    NotYetValid,
    WrongNonce,
    NoNonce,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the published modulus.
    Hs256,
}

/// The provider's endpoints, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OidcEndpoint {
    Metadata,
    Authorize,
    Token,
    Keys,
}

/// A code handed out by `authorize`, waiting for its redemption.
struct IssuedCode {
    redirect_uri: String,
    challenge: String,
    scope: String,
    nonce: Option<String>,
    person: Person,
    fault: Option<TokenFault>,
    issued: std::time::Instant,
    used: bool,
}

struct OidcState {
    tokens: TokenService,
    redirect_uris: Vec<String>,
    person: Person,
    /// Spoils the next id_token only.
    fault: Option<TokenFault>,
    /// The next authorization ends with this error instead of a code.
    deny: Option<(String, String)>,
    keys: [SigningKey; 2],
    rotated: bool,
    codes: HashMap<String, IssuedCode>,
    authorizations: Vec<HashMap<String, String>>,
    redemptions: Vec<HashMap<String, String>>,
    counts: HashMap<OidcEndpoint, usize>,
}

impl OidcState {
    /// The key new id_tokens are signed with.
    fn signing_key(&self) -> &SigningKey {
        &self.keys[usize::from(self.rotated)]
    }

    /// The keys in the JWKS: the first, and from a rotation on both (Entra publishes a new
    /// key before it signs with it, and keeps the old one a while).
    fn published(&self) -> Vec<&SigningKey> {
        if self.rotated {
            self.keys.iter().collect()
        } else {
            vec![&self.keys[0]]
        }
    }
}

/// The running fake; the server stops when this is dropped.
pub struct FakeOidc {
    port: u16,
    state: Arc<Mutex<OidcState>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOidc {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOidc {
    /// Starts the provider for the tenant of `graph`, whose token endpoint code it shares.
    pub async fn start(graph: &FakeGraph) -> FakeOidc {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("a port for the fake provider");
        let port = acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a TCP address")
            .port();
        let state = Arc::new(Mutex::new(OidcState {
            tokens: graph.token_service(),
            redirect_uris: Vec::new(),
            person: Person {
                oid: guid(),
                upn: format!("olive.operator@{DOMAIN}"),
                name: "Olive Operator".into(),
                groups: Groups::None,
            },
            fault: None,
            deny: None,
            keys: [SigningKey::fixture(1), SigningKey::fixture(2)],
            rotated: false,
            codes: HashMap::new(),
            authorizations: Vec::new(),
            redemptions: Vec::new(),
            counts: HashMap::new(),
        }));
        let shared = state.clone();
        let app = poem::endpoint::make(move |req: Request| {
            let shared = shared.clone();
            async move { handle(&shared, req).await }
        });
        let server = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        FakeOidc {
            port,
            state,
            server,
        }
    }

    fn state(&self) -> MutexGuard<'_, OidcState> {
        self.state.lock().unwrap()
    }

    /// `GRAPH_API_AUTH_AUTHORITY` on `localhost`: another site than a server on 127.0.0.1.
    pub fn authority(&self) -> String {
        format!("http://localhost:{}/{TENANT}", self.port)
    }

    /// The same provider on 127.0.0.1: the same site as a server there.
    pub fn authority_at_ip(&self) -> String {
        format!("http://127.0.0.1:{}/{TENANT}", self.port)
    }

    /// The authority naming the tenant by its domain, as operators may write it.
    pub fn authority_by_domain(&self) -> String {
        format!("http://localhost:{}/{DOMAIN}", self.port)
    }

    /// The `iss` of its id_tokens.
    pub fn issuer(&self) -> String {
        signing::issuer()
    }

    /// Adds a redirect URI to the app registration (a *Web* platform URI).
    pub fn register_redirect_uri(&self, uri: &str) {
        self.state().redirect_uris.push(uri.to_owned());
    }

    /// Who signs in from now on.
    pub fn sign_in_as(&self, person: Person) {
        self.state().person = person;
    }

    /// The next id_token is spoilt this way.
    pub fn spoil_next_token(&self, fault: TokenFault) {
        self.state().fault = Some(fault);
    }

    /// The next authorization ends with `error` (e.g. `access_denied`) instead of a code.
    pub fn deny_next(&self, error: &str, description: &str) {
        self.state().deny = Some((error.to_owned(), description.to_owned()));
    }

    /// Publishes a second key and signs with it from now on.
    pub fn rotate_keys(&self) {
        self.state().rotated = true;
    }

    pub fn count(&self, endpoint: OidcEndpoint) -> usize {
        self.state().counts.get(&endpoint).copied().unwrap_or(0)
    }

    /// The query of every authorization request.
    pub fn authorizations(&self) -> Vec<HashMap<String, String>> {
        self.state().authorizations.clone()
    }

    /// The form of every authorization-code redemption.
    pub fn redemptions(&self) -> Vec<HashMap<String, String>> {
        self.state().redemptions.clone()
    }

    /// Opens `authorize_url` as a browser would and returns where the provider sends it
    /// back (the callback URL with `code` and `state`, or an `error`).
    pub async fn authorize(&self, authorize_url: &str) -> url::Url {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client.get(authorize_url).send().await.unwrap();
        assert_eq!(response.status(), 302, "the provider redirects back");
        let location = response.headers()["location"].to_str().unwrap();
        url::Url::parse(location).unwrap()
    }
}

async fn handle(shared: &Arc<Mutex<OidcState>>, mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let host = req.header("host").unwrap_or("localhost").to_owned();
    let get = req.method() == poem::http::Method::GET;
    let body = req.take_body().into_bytes().await.unwrap_or_default();
    let base = format!("http://{host}");
    let mut state = shared.lock().unwrap();
    let (tenant, rest) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((&path, ""));
    if tenant != TENANT && tenant != DOMAIN {
        let message = format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        );
        return aadsts(400, "invalid_tenant", 90002, &message).into_response();
    }
    let endpoint = match (get, rest) {
        (true, "v2.0/.well-known/openid-configuration") => OidcEndpoint::Metadata,
        (true, "oauth2/v2.0/authorize") => OidcEndpoint::Authorize,
        (false, "oauth2/v2.0/token") => OidcEndpoint::Token,
        (true, "discovery/v2.0/keys") => OidcEndpoint::Keys,
        _ => {
            return Response::builder()
                .status(poem::http::StatusCode::NOT_FOUND)
                .finish();
        }
    };
    *state.counts.entry(endpoint).or_default() += 1;
    match endpoint {
        OidcEndpoint::Metadata => json_response(metadata(&base)),
        OidcEndpoint::Authorize => authorize::handle(&mut state, &query),
        OidcEndpoint::Token => {
            token::handle(&mut state, &format!("{base}{path}"), &path, &body).into_response()
        }
        OidcEndpoint::Keys => json_response(signing::jwks(&state.published())),
    }
}

/// The provider metadata, with endpoints on the host the request used.
fn metadata(base: &str) -> serde_json::Value {
    json!({
        "token_endpoint": format!("{base}/{TENANT}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{TENANT}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": signing::issuer(),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/{TENANT}/oauth2/v2.0/authorize"),
        "end_session_endpoint": format!("{base}/{TENANT}/oauth2/v2.0/logout"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": "graph.microsoft.com",
    })
}

fn json_response(body: serde_json::Value) -> Response {
    Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}
