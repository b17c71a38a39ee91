//! What a voucher grants, at the Graph client: its own licences and groups replace the
//! configured ones, in the same single `$batch`.

use std::time::Duration;

use ms365_accountcreator::directory::{Directory, Grants, OwnGrants};
use ms365_accountcreator::domain::DirectoryId;

use crate::graph::{client, created_user, settings};
use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::helpers::TestApp;

#[tokio::test]
async fn own_licences_and_groups_replace_the_configured_ones_in_one_batch() {
    // Arrange: the settings name one licence and one group; the voucher two others.
    let fake = FakeGraph::start().await;
    let configured_group = fake.add_group("Students");
    let configured_sku = fake.add_sku("STUDENT", 10);
    let own_groups = [fake.add_group("Exchange"), fake.add_group("Library")];
    let own_sku = fake.add_sku("FACULTY", 10);
    let graph = client(
        &settings(
            &fake,
            std::slice::from_ref(&configured_group),
            std::slice::from_ref(&configured_sku),
        ),
        Duration::from_secs(5),
    );
    let user = created_user(&graph).await.unwrap();
    let ids = |raw: &[String]| -> Vec<DirectoryId> {
        raw.iter()
            .map(|id| DirectoryId::parse(id).unwrap())
            .collect()
    };
    let (licences, groups) = (ids(std::slice::from_ref(&own_sku)), ids(&own_groups));
    let both = Grants {
        licences: true,
        groups: true,
    };
    let batches_before = fake.count(Endpoint::Batch);

    // Act
    let outcome = graph
        .grant_with(
            &user.object_id,
            both,
            OwnGrants {
                licences: Some(&licences),
                groups: Some(&groups),
            },
        )
        .await;

    // Assert
    assert!(
        outcome.licences.is_ok() && outcome.groups.is_ok(),
        "{outcome:?}"
    );
    assert_eq!(
        fake.count(Endpoint::Batch) - batches_before,
        1,
        "one round trip"
    );
    assert_eq!(fake.consumed(&own_sku), 1);
    assert_eq!(
        fake.consumed(&configured_sku),
        0,
        "not the configured licence"
    );
    for group in &own_groups {
        assert_eq!(fake.members(group), vec![user.object_id.clone()]);
    }
    assert!(
        fake.members(&configured_group).is_empty(),
        "not the configured group"
    );
}

#[tokio::test]
async fn without_own_grants_the_configured_ones_are_given() {
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STUDENT", 10);
    let graph = client(
        &settings(
            &fake,
            std::slice::from_ref(&group),
            std::slice::from_ref(&sku),
        ),
        Duration::from_secs(5),
    );
    let user = created_user(&graph).await.unwrap();
    let both = Grants {
        licences: true,
        groups: true,
    };

    let outcome = graph
        .grant_with(&user.object_id, both, OwnGrants::CONFIGURED)
        .await;

    assert!(
        outcome.licences.is_ok() && outcome.groups.is_ok(),
        "{outcome:?}"
    );
    assert_eq!(fake.consumed(&sku), 1);
    assert_eq!(fake.members(&group), vec![user.object_id.clone()]);
}

/// Makes a voucher in a store directory before the server opens it; its code.
fn voucher(store: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["vouchers", "create", "--json"];
    all.extend(args);
    let made: serde_json::Value =
        serde_json::from_str(&crate::cli::stdout(&crate::cli::run_with(store, &all, &[]))).unwrap();
    made["code"].as_str().unwrap().to_owned()
}

async fn sign_up_with(app: &TestApp, email: &str, first: &str, code: &str) -> u16 {
    let body = serde_json::json!({
        "firstName": first, "lastName": "Lovelace", "email": email, "voucher": code
    });
    app.post_account_creation(&body, &[]).await.0
}

#[tokio::test]
async fn a_sign_up_with_a_voucher_gets_its_licences_and_groups_in_the_same_round_trips() {
    // Arrange: the settings name one licence and group, the voucher others.
    let fake = FakeGraph::start().await;
    let configured_group = fake.add_group("Students");
    let configured_sku = fake.add_sku("STUDENT", 10);
    let own_group = fake.add_group("Exchange");
    let own_sku = fake.add_sku("FACULTY", 10);
    let dir = tempfile::tempdir().unwrap();
    let code = voucher(
        dir.path(),
        &[
            "--name",
            "Exchange",
            "--group",
            &own_group,
            "--licence",
            &own_sku,
        ],
    );
    let app = TestApp::builder()
        .store(dir)
        .envs(&crate::graph::env(
            &fake,
            std::slice::from_ref(&configured_group),
            std::slice::from_ref(&configured_sku),
        ))
        .env("VOUCHERS", "optional")
        .spawn()
        .await;

    // Act
    assert_eq!(
        sign_up_with(&app, "ada@uni.example", "Ada", &code).await,
        202
    );
    let confirmed = app
        .confirm(&app.verification_path("ada@uni.example").await)
        .await;

    // Assert: the voucher's, not the configured; name query, create and one batch.
    assert_eq!(confirmed.status(), 200);
    let user = fake.user("ada.lovelace@tenant.example").unwrap();
    assert_eq!(user.licences, vec![own_sku.clone()]);
    assert_eq!(fake.members(&own_group), vec![user.id.clone()]);
    assert!(fake.members(&configured_group).is_empty());
    assert_eq!(fake.consumed(&configured_sku), 0);
    let counts =
        [Endpoint::ListUsers, Endpoint::CreateUser, Endpoint::Batch].map(|e| fake.count(e));
    assert_eq!(counts, [1, 1, 1]);
}

#[tokio::test]
async fn a_creation_that_fails_for_good_gives_its_use_back() {
    // Arrange: a voucher for one account; Graph refuses the first creation for good.
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let code = voucher(dir.path(), &["--name", "Course", "--uses", "1"]);
    let app = TestApp::builder()
        .store(dir)
        .envs(&crate::graph::env(&fake, &[], &[]))
        .env("VOUCHERS", "required")
        .spawn()
        .await;
    fake.fail(Endpoint::CreateUser, 1, 400);
    assert_eq!(
        sign_up_with(&app, "ada@uni.example", "Ada", &code).await,
        202
    );
    let ada = app.verification_path("ada@uni.example").await;

    // Act
    let failed = app.confirm(&ada).await;
    let grace = sign_up_with(&app, "grace@uni.example", "Grace", &code).await;
    let grace_confirmed = app
        .confirm(&app.verification_path("grace@uni.example").await)
        .await;
    let ada_again = app.confirm(&ada).await;

    // Assert: Ada's failure left the use to Grace; Ada's retry finds it taken.
    assert_ne!(failed.status(), 200);
    assert_eq!(grace, 202, "the use was given back");
    assert_eq!(grace_confirmed.status(), 200);
    assert_eq!(ada_again.status(), 409);
    assert_eq!(fake.users().len(), 1);
}
