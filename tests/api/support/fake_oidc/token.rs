//! The fake `/{tenant}/oauth2/v2.0/token`: the authorization-code grant as Entra checks it
//! — the app and its certificate assertion (the fake Graph's own checks), then the code:
//! known, unused, fresh, for this redirect URI, and for this PKCE verifier — answered with
//! the id_token or Entra's error body. Client-credentials requests go to the fake Graph.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use super::{OidcState, signing};
use crate::support::fake_graph::token::{aadsts, oauth_json};
use crate::support::fake_graph::{CLIENT_ID, Reply, guid};

/// How long Entra's codes can be redeemed.
const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);

fn invalid_grant(code: u64, message: &str) -> Reply {
    aadsts(400, "invalid_grant", code, message)
}

pub fn handle(state: &mut OidcState, token_url: &str, path: &str, body: &[u8]) -> Reply {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match field("grant_type") {
        "client_credentials" => return state.tokens.client_credentials(token_url, path, body),
        "authorization_code" => {}
        other => {
            return aadsts(
                400,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
    }
    state.redemptions.push(form.clone());
    if field("client_id") != CLIENT_ID {
        return aadsts(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory.",
                field("client_id")
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
    if let Err(refusal) = state
        .tokens
        .check_assertion(token_url, field("client_assertion"))
    {
        return refusal;
    }
    redeem(state, &form)
}

/// The code's own checks, then the tokens.
fn redeem(state: &mut OidcState, form: &HashMap<String, String>) -> Reply {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let Some(issued) = state.codes.get_mut(field("code")) else {
        return invalid_grant(
            9002313,
            "Invalid request. Request is malformed or invalid. - [The provided value for the 'code' parameter is not valid.]",
        );
    };
    if issued.used {
        return invalid_grant(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        );
    }
    if issued.issued.elapsed() > CODE_LIFETIME {
        return invalid_grant(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        );
    }
    if field("redirect_uri") != issued.redirect_uri {
        return invalid_grant(
            500112,
            &format!(
                "The reply address '{}' does not match the reply address '{}' provided when requesting Authorization code.",
                field("redirect_uri"),
                issued.redirect_uri
            ),
        );
    }
    if s256(field("code_verifier")) != issued.challenge {
        return invalid_grant(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        );
    }
    issued.used = true;
    let (person, nonce, fault) = (issued.person.clone(), issued.nonce.clone(), issued.fault);
    let openid = issued.scope.split(' ').any(|scope| scope == "openid");
    let mut tokens = json!({
        "token_type": "Bearer",
        "scope": "openid profile User.Read",
        "expires_in": 4242,
        "ext_expires_in": 4242,
        "access_token": format!("eyJ0eXAiOiJKV1Qi.{}.sig", guid()),
    });
    if openid {
        let key = state.signing_key();
        tokens["id_token"] = json!(signing::id_token(key, &person, nonce.as_deref(), fault));
    }
    oauth_json(200, tokens)
}

/// RFC 7636 S256, computed here on its own rather than with the client's code.
fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}
