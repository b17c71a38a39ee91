//! The fake `/{tenant}/oauth2/v2.0/token`: the client-credentials grant with a certificate,
//! checked the way Entra checks it, refused with Entra's error body (`error`,
//! `error_description` with the AADSTS code and trace ids, `error_codes`, …).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};

use super::{CLIENT_ID, Endpoint, Reply, State, TENANT, guid, unix_now};

/// Entra's tolerance for clock skew on `nbf`/`exp`.
const SKEW: u64 = 300;

/// Entra's error body: `error`, `error_description` with the AADSTS code and trace ids, …
pub fn aadsts(status: u16, error: &str, code: u64, message: &str) -> Reply {
    let (trace, correlation) = (guid(), guid());
    let timestamp = super::iso_now().replace('T', " ") + "Z";
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    let mut reply = Reply::json(status, body);
    // The token endpoint sends no Graph request-id.
    reply.headers.clear();
    reply
}

/// A JSON answer of the token endpoint, which sends no Graph request-id.
pub fn oauth_json(status: u16, body: Value) -> Reply {
    let mut reply = Reply::json(status, body);
    reply.headers.clear();
    reply
}

/// The thumbprint Entra quotes in AADSTS700027: the x5t's bytes in hex.
fn thumbprint_of(x5t: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x5t)
        .map(|bytes| bytes.iter().map(|b| format!("{b:02X}")).collect())
        .unwrap_or_else(|_| x5t.to_owned())
}

/// A token endpoint's checks for a fake at another address that answers for the same
/// tenant (the fake OpenID provider), with this fake's certificate, `jti`s and tokens.
#[derive(Clone)]
pub struct TokenService(Arc<Mutex<State>>);

impl TokenService {
    pub(super) fn new(state: Arc<Mutex<State>>) -> Self {
        TokenService(state)
    }

    /// Answers a client-credentials request that reached `token_url` at `path`: the token
    /// works with this fake Graph.
    pub fn client_credentials(&self, token_url: &str, path: &str, body: &[u8]) -> Reply {
        let mut state = self.0.lock().unwrap();
        *state.counts.entry(Endpoint::Token).or_default() += 1;
        issue_at(&mut state, token_url, path, body)
    }

    /// Checks a client assertion sent to `token_url` as Entra does; a refusal is Entra's.
    pub fn check_assertion(&self, token_url: &str, assertion: &str) -> Result<(), Reply> {
        verify_assertion(&mut self.0.lock().unwrap(), token_url, assertion)
    }
}

pub(super) fn issue(state: &mut State, path: &str, body: &[u8]) -> Reply {
    let token_url = format!("{}/{TENANT}/oauth2/v2.0/token", state.base);
    issue_at(state, &token_url, path, body)
}

/// The client-credentials grant of a request to `token_url`, the assertions' audience.
fn issue_at(state: &mut State, token_url: &str, path: &str, body: &[u8]) -> Reply {
    let tenant = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if tenant != TENANT {
        return aadsts(
            400,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials" {
        return aadsts(
            400,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{}'.",
                field("grant_type")
            ),
        );
    }
    if field("client_id") != CLIENT_ID {
        return aadsts(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory '{TENANT}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                field("client_id")
            ),
        );
    }
    let scope = format!("{}/.default", state.base);
    if field("scope") != scope {
        return aadsts(
            400,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                field("scope")
            ),
        );
    }
    if field("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        || field("client_assertion").is_empty()
    {
        return aadsts(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    match verify_assertion(state, token_url, field("client_assertion")) {
        Ok(()) => {
            // Shaped as Entra's: a JWT whose payload names the app's roles (`check` reads
            // them); the signature is a random string, as only the fake checks tokens.
            let encode = |value: Value| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
            };
            let token = format!(
                "{}.{}.{}",
                encode(json!({"typ": "JWT", "alg": "RS256"})),
                encode(json!({"aud": state.base, "appid": CLIENT_ID, "roles": state.roles})),
                guid().replace('-', "")
            );
            let expiry =
                std::time::Instant::now() + std::time::Duration::from_secs(state.token_lifetime);
            state.tokens.insert(token.clone(), expiry);
            let mut reply = Reply::json(
                200,
                json!({
                    "token_type": "Bearer",
                    "expires_in": state.token_lifetime,
                    "ext_expires_in": state.token_lifetime,
                    "access_token": token,
                }),
            );
            reply.headers.clear();
            reply
        }
        Err(reply) => reply,
    }
}

fn invalid_client(code: u64, message: &str) -> Reply {
    aadsts(401, "invalid_client", code, message)
}

/// Entra's checks of a certificate client assertion, in its order: the key (by `x5t`), the
/// signature, then the claims.
fn verify_assertion(state: &mut State, token_url: &str, assertion: &str) -> Result<(), Reply> {
    let malformed = || invalid_client(50027, "JWT token is invalid or malformed.");
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(malformed());
    }
    let used_key = thumbprint_of(header.x5t.as_deref().unwrap_or(""));
    if header.x5t.as_deref() != Some(state.x5t.as_str()) {
        return Err(invalid_client(
            700027,
            &format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{used_key}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{CLIENT_ID}'.]"
            ),
        ));
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<Value>(assertion, &state.cert_key, &validation) {
        Ok(data) => data.claims,
        Err(err) if *err.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => {
            return Err(invalid_client(
                700027,
                &format!(
                    "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{used_key}', Found key 'Start=11/28/2026 13:48:00, End=11/04/2126 13:48:00']"
                ),
            ));
        }
        Err(_) => return Err(malformed()),
    };
    if claims["aud"] != json!(token_url) {
        return Err(invalid_client(
            700023,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    if claims["iss"] != json!(CLIENT_ID) || claims["sub"] != json!(CLIENT_ID) {
        return Err(invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let now = unix_now();
    let nbf = claims["nbf"].as_u64();
    let exp = claims["exp"].as_u64();
    let in_range = match (nbf, exp) {
        (Some(nbf), Some(exp)) => nbf <= now + SKEW && now < exp + SKEW && nbf < exp,
        _ => false,
    };
    if !in_range {
        return Err(invalid_client(
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf:?}, expiry time of assertion {exp:?}."
            ),
        ));
    }
    // Entra documents no code of its own for a replayed jti; the fake answers with the
    // generic invalid-assertion code.
    let jti = claims["jti"].as_str().unwrap_or("").to_owned();
    if jti.is_empty() || !state.used_jti.insert(jti) {
        return Err(invalid_client(
            50013,
            "Assertion is invalid. [Reason - The jti of the client assertion is missing or was already used.]",
        ));
    }
    Ok(())
}
