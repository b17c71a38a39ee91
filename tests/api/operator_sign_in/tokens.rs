//! The id_token's checks: each spoilt token is refused by the check it fails, and the keys
//! are fetched again for an unknown `kid` — once, and not again within the floor.

use ms365_accountcreator::graph::signin::{SignInError, TokenCheck};

use super::*;
use crate::support::fake_oidc::{OidcEndpoint, TokenFault};

#[tokio::test]
async fn each_bad_id_token_is_refused_by_the_check_it_fails() {
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());
    let cases = [
        (TokenFault::WrongKey, TokenCheck::Signature),
        (TokenFault::UnknownKey, TokenCheck::UnknownKey),
        (TokenFault::WrongAudience, TokenCheck::Audience),
        (TokenFault::WrongIssuer, TokenCheck::Issuer),
        (TokenFault::Expired, TokenCheck::Expired),
        (TokenFault::NotYetValid, TokenCheck::NotYetValid),
        (TokenFault::WrongNonce, TokenCheck::Nonce),
        (TokenFault::NoNonce, TokenCheck::Nonce),
        (TokenFault::AlgNone, TokenCheck::Algorithm),
        (TokenFault::Hs256, TokenCheck::Algorithm),
    ];
    for (fault, check) in cases {
        // Arrange
        world.oidc.spoil_next_token(fault);

        // Act
        let result = world.sign_in_fully().await;

        // Assert
        match result {
            Err(SignInError::BadToken(found)) => assert_eq!(found, check, "{fault:?}"),
            other => panic!("{fault:?}: {other:?}"),
        }
    }
    world
        .sign_in_fully()
        .await
        .expect("an unspoilt token still passes");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_then_served_from_the_cache() {
    let world = World::start().await;
    let world = World {
        client: quick_refetch(world.client),
        ..world
    };
    world.oidc.sign_in_as(world.member());
    world.sign_in_fully().await.unwrap();
    assert_eq!(world.oidc.count(OidcEndpoint::Keys), 1);

    world.oidc.rotate_keys();
    world.sign_in_fully().await.unwrap();
    world.sign_in_fully().await.unwrap();

    assert_eq!(
        world.oidc.count(OidcEndpoint::Keys),
        2,
        "one more fetch for the new kid, none for the next sign-in"
    );
}

#[tokio::test]
async fn an_unknown_kid_causes_one_fetch_at_most_and_none_within_the_floor() {
    // With no floor: one more fetch per unknown kid, not a loop.
    let world = World::start().await;
    let world = World {
        client: quick_refetch(world.client),
        ..world
    };
    world.oidc.sign_in_as(world.member());
    world.sign_in_fully().await.unwrap();
    world.oidc.spoil_next_token(TokenFault::UnknownKey);
    let refused = world.sign_in_fully().await;
    assert!(matches!(
        refused,
        Err(SignInError::BadToken(TokenCheck::UnknownKey))
    ));
    assert_eq!(world.oidc.count(OidcEndpoint::Keys), 2);

    // With the default floor, made-up kids right after a fetch cause none.
    let world = World::start().await;
    world.oidc.sign_in_as(world.member());
    world.sign_in_fully().await.unwrap();
    for _ in 0..3 {
        world.oidc.spoil_next_token(TokenFault::UnknownKey);
        let refused = world.sign_in_fully().await;
        assert!(matches!(
            refused,
            Err(SignInError::BadToken(TokenCheck::UnknownKey))
        ));
    }
    assert_eq!(world.oidc.count(OidcEndpoint::Keys), 1);
}
