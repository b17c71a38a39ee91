//! The fake `/{tenant}/oauth2/v2.0/authorize`: no sign-in page — whoever the test chose is
//! signed in at once — but Entra's checks of the request: an unknown app or redirect URI
//! gets Entra's error page (no redirect: the browser stays with the provider), a request
//! without PKCE S256 or for another response type goes back with an `error`.

use std::collections::HashMap;

use poem::Response;
use poem::http::StatusCode;

use super::{IssuedCode, OidcState};
use crate::support::fake_graph::{CLIENT_ID, guid};

pub fn handle(state: &mut OidcState, query: &str) -> Response {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    state.authorizations.push(params.clone());
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    if param("client_id") != CLIENT_ID {
        return error_page(&format!(
            "AADSTS700016: Application with identifier '{}' was not found in the directory.",
            param("client_id")
        ));
    }
    let redirect_uri = param("redirect_uri");
    if !state.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return error_page(&format!(
            "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{CLIENT_ID}'."
        ));
    }
    let back = |pairs: &[(&str, &str)]| redirect(redirect_uri, pairs, param("state"));
    if param("response_type") != "code" {
        return back(&[
            ("error", "unsupported_response_type"),
            (
                "error_description",
                "AADSTS700054: response_type 'id_token' is not enabled for the application.",
            ),
        ]);
    }
    if param("code_challenge_method") != "S256" || param("code_challenge").is_empty() {
        return back(&[
            ("error", "invalid_request"),
            (
                "error_description",
                "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
            ),
        ]);
    }
    if let Some((error, description)) = state.deny.take() {
        return back(&[("error", &error), ("error_description", &description)]);
    }
    let code = format!("1.AQ{}", guid().replace('-', ""));
    state.codes.insert(
        code.clone(),
        IssuedCode {
            redirect_uri: redirect_uri.to_owned(),
            challenge: param("code_challenge").to_owned(),
            scope: param("scope").to_owned(),
            nonce: params.get("nonce").cloned(),
            person: state.person.clone(),
            fault: state.fault.take(),
            issued: std::time::Instant::now(),
            used: false,
        },
    );
    back(&[("code", &code), ("session_state", &guid())])
}

/// A 302 to the redirect URI with `pairs` and the `state` (when the request had one).
fn redirect(redirect_uri: &str, pairs: &[(&str, &str)], state: &str) -> Response {
    let mut url = url::Url::parse(redirect_uri).expect("a registered URI is a URL");
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if !state.is_empty() {
            query.append_pair("state", state);
        }
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", url.as_str())
        .finish()
}

/// Entra's "Sign in — Sorry, but we're having trouble signing you in" page.
fn error_page(message: &str) -> Response {
    let message = message.replace('&', "&amp;").replace('<', "&lt;");
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">{message}</p></body></html>"
        ))
}
