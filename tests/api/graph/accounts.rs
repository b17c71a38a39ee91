//! Ending an account through the Graph client against the fake Graph: each write one
//! request, paced and retried like every other; the seats, the 404 after a delete and the
//! restore from the deleted items as Graph has them.

use ms365_accountcreator::directory::{AccountControl, LicenceChange};

use super::*;

/// Ada's user with one licence of `sku`, tagged for her mailbox, and a client for the fake.
async fn licensed_ada(fake: &FakeGraph, sku: &str) -> (GraphClient, String) {
    let graph = client(
        &settings(fake, &[], &[sku.to_owned()]),
        Duration::from_secs(5),
    );
    let user = created_user(&graph).await.unwrap();
    let grants = Grants {
        licences: true,
        groups: false,
    };
    graph.grant(&user.object_id, grants).await.licences.unwrap();
    (graph, user.object_id)
}

#[tokio::test]
async fn an_account_reads_with_its_state_licences_and_tag() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 10);
    let (graph, id) = licensed_ada(&fake, &sku).await;

    let account = graph.account(&id).await.unwrap().expect("the user");

    assert_eq!(account.user_principal_name, "ada.lovelace@tenant.example");
    assert!(account.enabled);
    assert_eq!(account.licences, vec![sku]);
    assert_eq!(
        account.tag.as_deref(),
        Some(tag_of("ada@uni.example").as_str())
    );
    let unknown = "00000000-0000-4000-8000-000000000001";
    assert_eq!(graph.account(unknown).await.unwrap(), None);
}

#[tokio::test]
async fn disabling_and_removing_licences_frees_the_seat_one_write_each() {
    // Arrange
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 10);
    let (graph, id) = licensed_ada(&fake, &sku).await;
    assert_eq!(fake.consumed(&sku), 1);
    let writes = fake.writes();

    // Act
    assert!(graph.set_enabled(&id, false).await.unwrap());
    let remove = LicenceChange {
        add: &[],
        remove: std::slice::from_ref(&sku),
    };
    assert!(graph.change_licences(&id, remove).await.unwrap());

    // Assert
    let user = fake.user("ada.lovelace@tenant.example").unwrap();
    assert!(!user.enabled);
    assert!(user.licences.is_empty());
    assert_eq!(fake.consumed(&sku), 0, "the seat is free again");
    assert_eq!(fake.writes() - writes, 2);
    assert_eq!(fake.count(Endpoint::UpdateUser), 1);
    assert_eq!(fake.count(Endpoint::AssignLicense), 1);
    let account = graph.account(&id).await.unwrap().unwrap();
    assert!(!account.enabled && account.licences.is_empty());
}

#[tokio::test]
async fn a_deleted_user_is_gone_until_it_is_restored_from_the_deleted_items() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 10);
    let (graph, id) = licensed_ada(&fake, &sku).await;

    assert!(graph.delete_user(&id).await.unwrap());

    assert_eq!(
        graph.account(&id).await.unwrap(),
        None,
        "404 after the delete"
    );
    assert!(!graph.delete_user(&id).await.unwrap(), "deleted already");
    assert!(!graph.set_enabled(&id, false).await.unwrap());
    assert_eq!(fake.deleted_users().len(), 1);
    assert!(graph.restore_user(&id).await.unwrap());
    assert!(graph.account(&id).await.unwrap().is_some());
    assert!(
        !graph.restore_user(&id).await.unwrap(),
        "not deleted any more"
    );
    assert!(graph.delete_user(&id).await.unwrap());
    fake.purge_deleted(&id);
    assert!(
        !graph.restore_user(&id).await.unwrap(),
        "deleted for good after 30 days"
    );
}

#[tokio::test]
async fn licences_come_back_only_while_a_seat_is_free() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 1);
    let (graph, id) = licensed_ada(&fake, &sku).await;
    let skus = std::slice::from_ref(&sku);
    let remove = LicenceChange {
        add: &[],
        remove: skus,
    };
    graph.change_licences(&id, remove).await.unwrap();
    fake.add_user("bob@tenant.example", "Bob", "B");
    fake.assign_licence("bob@tenant.example", &sku);

    let add = LicenceChange {
        add: skus,
        remove: &[],
    };
    let err = graph.change_licences(&id, add).await.unwrap_err();

    assert!(
        err.to_string()
            .contains("does not have any available licenses"),
        "{err}"
    );
    let again = LicenceChange {
        add: &[],
        remove: skus,
    };
    let err = graph.change_licences(&id, again).await.unwrap_err();
    assert!(err.to_string().contains("corresponding license"), "{err}");
}

#[tokio::test]
async fn a_throttled_end_waits_for_retry_after_and_goes_through_once() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 10);
    let (graph, id) = licensed_ada(&fake, &sku).await;
    fake.throttle(Some(Endpoint::UpdateUser), 1, 1);
    fake.throttle(Some(Endpoint::DeleteUser), 1, 1);
    let started = Instant::now();

    assert!(graph.set_enabled(&id, false).await.unwrap());
    assert!(graph.delete_user(&id).await.unwrap());

    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After kept"
    );
    assert_eq!(fake.count(Endpoint::UpdateUser), 2);
    assert_eq!(fake.count(Endpoint::DeleteUser), 2);
    assert_eq!(fake.deleted_users().len(), 1);
}

#[tokio::test]
async fn the_simulated_directory_ends_and_restores_as_graph_does() {
    let directory = SimulatedDirectory::new(DOMAIN);
    let nick = nickname("Ada", "Lovelace");
    let user = directory
        .create_user(&new_user(
            "Ada",
            "Lovelace",
            "ada.lovelace@tenant.example",
            &nick,
        ))
        .await
        .unwrap();
    let id = user.object_id;

    assert!(directory.set_enabled(&id, false).await.unwrap());
    assert!(!directory.account(&id).await.unwrap().unwrap().enabled);
    assert!(directory.delete_user(&id).await.unwrap());
    assert_eq!(directory.account(&id).await.unwrap(), None);
    assert!(directory.restore_user(&id).await.unwrap());
    assert!(directory.account(&id).await.unwrap().is_some());
}
