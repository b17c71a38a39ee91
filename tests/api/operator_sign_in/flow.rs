//! The flow: what goes to the provider and back, and that a callback, a code or a state
//! counts once and only in the browser that started it.

use std::collections::HashMap;

use base64::Engine;
use ms365_accountcreator::graph::signin::{Callback, SignInError};

use super::*;
use crate::support::fake_graph::{CLIENT_ID, Endpoint, TENANT};
use crate::support::fake_oidc::OidcEndpoint;

fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[tokio::test]
async fn a_member_of_an_admin_group_signs_in_by_the_code_flow_with_pkce() {
    // Arrange
    let world = World::start().await;
    let grace = world.member();
    world.oidc.sign_in_as(grace.clone());

    // Act
    let (start, callback) = world.sign_in().await;
    let operator = world.complete(&callback, &start.state).await.unwrap();

    // Assert: who signed in …
    assert_eq!(operator.upn, grace.upn);
    assert_eq!(operator.object_id, grace.oid);
    assert_eq!(operator.display_name, "Grace Hopper");
    // … asked for as the contract says …
    let asked = &world.oidc.authorizations()[0];
    let expected = [
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("response_mode", "query"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile"),
        ("code_challenge_method", "S256"),
        ("state", start.state.as_str()),
    ];
    for (name, value) in expected {
        assert_eq!(asked[name], value, "{name}");
    }
    assert!(asked["nonce"].len() >= 43 && asked["code_challenge"].len() == 43);
    assert!(
        start.authorize_url.as_str().starts_with(&format!(
            "{}/oauth2/v2.0/authorize?",
            world.oidc.authority()
        )),
        "{}",
        start.authorize_url
    );
    // … and decided from the token's groups, without asking Graph.
    assert_eq!(world.graph.count(Endpoint::CheckMemberGroups), 0);
    assert_eq!(world.client.pending(), 0, "the sign-in is used up");
}

#[tokio::test]
async fn the_code_is_redeemed_with_the_verifier_and_the_apps_certificate_assertion() {
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());

    world.sign_in_fully().await.unwrap();

    let asked = &world.oidc.authorizations()[0];
    let redeemed: &HashMap<String, String> = &world.oidc.redemptions()[0];
    assert_eq!(redeemed["grant_type"], "authorization_code");
    assert_eq!(redeemed["client_id"], CLIENT_ID);
    assert_eq!(redeemed["redirect_uri"], REDIRECT_URI);
    assert_eq!(
        s256(&redeemed["code_verifier"]),
        asked["code_challenge"],
        "the verifier of the challenge sent"
    );
    assert_eq!(
        redeemed["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!redeemed.contains_key("client_secret"));
    // The fake checked the assertion's signature against the test certificate; its
    // audience is the token endpoint it went to, on the provider's host.
    let claims: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode(&redeemed["client_assertion"])
            .unwrap()
            .claims;
    assert_eq!(
        claims["aud"],
        format!("{}/oauth2/v2.0/token", world.oidc.authority())
    );
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
}

#[tokio::test]
async fn a_callback_opened_twice_gets_nothing_the_second_time() {
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());
    let (start, callback) = world.sign_in().await;
    world.complete(&callback, &start.state).await.unwrap();

    let again = world.complete(&callback, &start.state).await;

    assert!(matches!(again, Err(SignInError::UnknownState)), "{again:?}");
    assert_eq!(
        world.oidc.redemptions().len(),
        1,
        "the code went to Entra once"
    );
}

#[tokio::test]
async fn a_used_code_under_a_fresh_state_is_refused_by_entra() {
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());
    let (start, used) = world.sign_in().await;
    world.complete(&used, &start.state).await.unwrap();
    // Someone replays the code with a sign-in of their own.
    let fresh = world.client.begin().unwrap();
    let replay = Callback {
        code: used.code.clone(),
        state: Some(fresh.state.clone()),
        ..Callback::default()
    };

    let result = world.complete(&replay, &fresh.state).await;

    match result {
        Err(SignInError::Refused { error, codes, .. }) => {
            assert_eq!(error, "invalid_grant");
            assert_eq!(codes, [54005], "AADSTS54005: already redeemed");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_code_from_another_sign_in_fails_its_pkce_check() {
    // An attacker's code injected into this browser's callback: the verifier is this
    // sign-in's, the code was issued for the other one's challenge.
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());
    let (_, theirs) = world.sign_in().await;
    let (mine, _) = world.sign_in().await;
    let injected = Callback {
        code: theirs.code.clone(),
        state: Some(mine.state.clone()),
        ..Callback::default()
    };

    let result = world.complete(&injected, &mine.state).await;

    match result {
        Err(SignInError::Refused { codes, .. }) => assert_eq!(codes, [501481]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_state_gets_nothing_and_leaves_the_real_sign_in_usable() {
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());
    let (start, callback) = world.sign_in().await;
    let forged = "A".repeat(43);
    let with_state = |state: Option<&str>| Callback {
        code: callback.code.clone(),
        state: state.map(str::to_owned),
        ..Callback::default()
    };

    // Another browser's cookie, no cookie, no state, and a state never issued.
    let cases = [
        (with_state(Some(&start.state)), Some(forged.as_str())),
        (with_state(Some(&start.state)), None),
        (with_state(None), Some(start.state.as_str())),
    ];
    for (callback, cookie) in &cases {
        let result = world.client.complete(callback, *cookie).await;
        assert!(
            matches!(result, Err(SignInError::StateMismatch)),
            "{cookie:?}: {result:?}"
        );
    }
    let never_issued = world.complete(&with_state(Some(&forged)), &forged).await;
    assert!(matches!(never_issued, Err(SignInError::UnknownState)));
    assert!(world.oidc.redemptions().is_empty(), "no code went to Entra");

    world.complete(&callback, &start.state).await.unwrap();
}

#[tokio::test]
async fn entras_error_on_the_way_back_ends_the_sign_in() {
    let world = World::start().await;
    world.oidc.deny_next(
        "access_denied",
        "AADSTS65004: User declined to consent to access the app.",
    );

    let (start, callback) = world.sign_in().await;
    let result = world.complete(&callback, &start.state).await;

    match result {
        Err(SignInError::Provider { error, description }) => {
            assert_eq!(error, "access_denied");
            assert!(description.starts_with("AADSTS65004"), "{description}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(world.client.pending(), 0, "used up");
}

#[tokio::test]
async fn an_authority_naming_the_tenant_by_domain_still_checks_the_issuer_by_id() {
    let world = World::with_authority(|oidc| oidc.authority_by_domain()).await;
    world.oidc.sign_in_as(world.member());

    world.sign_in_fully().await.unwrap();
    world.sign_in_fully().await.unwrap();

    assert!(world.oidc.issuer().contains(TENANT));
    assert_eq!(
        world.oidc.count(OidcEndpoint::Metadata),
        1,
        "the metadata is read once"
    );
}

#[tokio::test]
async fn the_provider_serves_the_same_sign_in_on_the_servers_site_too() {
    let world = World::with_authority(|oidc| oidc.authority_at_ip()).await;
    world.oidc.sign_in_as(world.member());

    let operator = world.sign_in_fully().await.unwrap();

    assert!(
        world
            .oidc
            .authority_at_ip()
            .starts_with("http://127.0.0.1:")
    );
    assert!(world.oidc.authority().starts_with("http://localhost:"));
    assert!(operator.upn.starts_with("grace.hopper@"));
}

#[tokio::test]
async fn the_provider_refuses_a_redirect_uri_the_app_registration_lacks() {
    let world = World::start().await;
    let start = world.client.begin().unwrap();
    let mut url = start.authorize_url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "redirect_uri" {
                "http://127.0.0.1:8080/elsewhere".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);

    let page = reqwest::get(url).await.unwrap();

    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("AADSTS50011"));
}
