//! What a voucher grants, at the Graph client: its own licences and groups replace the
//! configured ones, in the same single `$batch`.

use std::time::Duration;

use ms365_accountcreator::directory::{Directory, Grants, OwnGrants};
use ms365_accountcreator::domain::DirectoryId;

use crate::graph::{client, created_user, settings};
use crate::support::fake_graph::{Endpoint, FakeGraph};

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
