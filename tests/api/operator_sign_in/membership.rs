//! Who may enter: members of an `ADMIN_GROUP_IDS` group, from the token's `groups` claim,
//! or — when Entra left the groups out — from one Graph `checkMemberGroups` call.

use ms365_accountcreator::graph::signin::SignInError;

use super::*;
use crate::support::fake_graph::Endpoint;
use crate::support::helpers::Logs;

#[tokio::test]
async fn someone_in_other_groups_only_is_refused_and_named() {
    let world = World::start().await;
    let students = world.graph.add_group("Students");
    let ada = world.person(
        &format!("ada.lovelace@{DOMAIN}"),
        Groups::Listed(vec![students]),
    );
    world.oidc.sign_in_as(ada.clone());

    let result = world.sign_in_fully().await;

    match result {
        Err(SignInError::NotMember(operator)) => {
            assert_eq!(operator.upn, ada.upn);
            assert_eq!(operator.object_id, ada.oid);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(world.graph.count(Endpoint::CheckMemberGroups), 0);
}

#[tokio::test]
async fn without_groups_in_the_token_graph_is_asked_once_per_sign_in() {
    let world = World::start().await;
    for (i, groups) in [Groups::Overage, Groups::HasGroupsFlag, Groups::None]
        .into_iter()
        .enumerate()
    {
        // Arrange: one member and one outsider, neither with groups in the token.
        let member = world.person(&format!("member{i}@{DOMAIN}"), groups.clone());
        world.graph.add_member(&world.admins, &member.oid);
        let outsider = world.person(&format!("outsider{i}@{DOMAIN}"), groups.clone());
        let before = world.graph.count(Endpoint::CheckMemberGroups);

        // Act
        world.oidc.sign_in_as(member.clone());
        let admitted = world.sign_in_fully().await;
        world.oidc.sign_in_as(outsider);
        let refused = world.sign_in_fully().await;

        // Assert
        assert_eq!(admitted.unwrap().object_id, member.oid, "{groups:?}");
        assert!(
            matches!(refused, Err(SignInError::NotMember(_))),
            "{groups:?}: {refused:?}"
        );
        assert_eq!(
            world.graph.count(Endpoint::CheckMemberGroups) - before,
            2,
            "one call per sign-in: {groups:?}"
        );
    }
}

#[tokio::test]
async fn a_graph_outage_during_the_membership_check_is_no_verdict() {
    let world = World::start().await;
    let mut grace = world.member();
    grace.groups = Groups::Overage;
    world.oidc.sign_in_as(grace);
    world
        .graph
        .unavailable(Some(Endpoint::CheckMemberGroups), 100, None);
    let (logs, _guard) = Logs::capture();

    let result = world.sign_in_fully().await;

    assert!(
        matches!(result, Err(SignInError::Unavailable(_))),
        "{result:?}"
    );
    let logs = logs.text();
    assert!(
        logs.contains("cannot check the operator's group membership"),
        "{logs}"
    );
    for secret in ["eyJ", "1.AQ"] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
}

#[tokio::test]
async fn an_app_without_the_permission_for_the_membership_check_is_told_which_one() {
    let world = World::start().await;
    let mut grace = world.member();
    grace.groups = Groups::Overage;
    world.oidc.sign_in_as(grace);
    world.graph.set_roles(&["User.ReadWrite.All"]);
    let (logs, _guard) = Logs::capture();

    let result = world.sign_in_fully().await;

    assert!(
        matches!(result, Err(SignInError::Unavailable(_))),
        "{result:?}"
    );
    let logs = logs.text();
    assert!(logs.contains("Authorization_RequestDenied"), "{logs}");
    assert!(logs.contains("GroupMember.Read.All"), "{logs}");
}
