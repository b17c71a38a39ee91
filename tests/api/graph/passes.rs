//! Temporary Access Passes through the Graph client against the fake Graph, and what
//! `check` says about the tenant's policy and the app's permission.

use ms365_accountcreator::directory::PassRequest;
use ms365_accountcreator::domain::TapLifetime;
use ms365_accountcreator::graph::check::Needs;
use secrecy::ExposeSecret;

use super::*;
use crate::support::fake_graph::unix_now;

fn request(minutes: i64, usable_once: bool) -> PassRequest {
    PassRequest {
        lifetime: TapLifetime::from_minutes(minutes).unwrap(),
        usable_once,
    }
}

#[tokio::test]
async fn a_pass_is_made_as_asked_and_a_second_one_replaces_it() {
    // Arrange
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let user = created_user(&graph).await.unwrap();
    let writes = fake.writes();

    // Act
    let first = graph
        .create_temporary_access_pass(&user.object_id, &request(1440, true))
        .await
        .unwrap();
    let second = graph
        .create_temporary_access_pass(&user.object_id, &request(1440, true))
        .await
        .unwrap();

    // Assert
    let held = fake.pass_of("ada.lovelace@tenant.example").unwrap();
    assert_eq!(
        held.pass,
        second.pass.expose_secret(),
        "the latest pass is the user's"
    );
    assert_ne!(first.pass.expose_secret(), second.pass.expose_secret());
    assert_eq!((held.lifetime_minutes, held.usable_once), (1440, true));
    assert!(second.usable_once);
    let expected_end = unix_now() + 1440 * 60;
    assert!(
        second.expires_at.abs_diff(expected_end) <= 5,
        "it stops working a day from now: {} vs {expected_end}",
        second.expires_at
    );
    assert_eq!(fake.writes() - writes, 2, "each pass is one write");
}

#[tokio::test]
async fn a_pass_for_a_user_graph_does_not_know_yet_is_asked_for_again() {
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 480);
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let user = created_user(&graph).await.unwrap();
    fake.lag_user(&user.object_id, 2);

    let pass = graph
        .create_temporary_access_pass(&user.object_id, &request(60, true))
        .await;

    assert!(pass.is_ok(), "{pass:?}");
    assert_eq!(
        fake.count(Endpoint::CreatePass),
        3,
        "two 404s, then the pass"
    );
}

#[tokio::test]
async fn passes_refused_by_the_tenant_fail_with_what_graph_said() {
    /// What is wrong in the tenant, how the fake Graph is made so, what the refusal says.
    type Case = (&'static str, fn(&FakeGraph), &'static str);
    let cases: [Case; 3] = [
        (
            "the policy is off",
            |fake| fake.disable_passes(),
            "does not allow creating or updating this authentication method",
        ),
        (
            "the lifetime is beyond the policy's maximum",
            |fake| fake.enable_passes(60, 480),
            "The valid range between 60 and 480",
        ),
        (
            "the app lacks the permission",
            |fake| fake.set_roles(&["User.ReadWrite.All"]),
            "Insufficient privileges",
        ),
    ];
    for (situation, arrange, says) in cases {
        let fake = FakeGraph::start().await;
        fake.enable_passes(60, 1440);
        let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
        let user = created_user(&graph).await.unwrap();
        arrange(&fake);

        let refused = graph
            .create_temporary_access_pass(&user.object_id, &request(1440, true))
            .await
            .expect_err(situation);

        assert!(refused.to_string().contains(says), "{situation}: {refused}");
        assert_eq!(
            fake.pass_of("ada.lovelace@tenant.example").map(|p| p.pass),
            None
        );
    }
}

/// The Graph lines of `check` with passes as the credential, by check name.
async fn pass_checks(fake: &FakeGraph, minutes: i64) -> Vec<(bool, String)> {
    let needs = Needs {
        password_reset: true,
        pass: Some(request(minutes, true)),
    };
    ms365_accountcreator::graph::check(&settings(fake, &[], &[]), needs, &[])
        .await
        .into_iter()
        .filter(|r| r.name.contains("pass") || r.name.contains("Pass"))
        .map(|r| (r.ok, r.to_string()))
        .collect()
}

#[tokio::test]
async fn check_says_whether_the_tenant_and_the_app_allow_passes_and_how_to_fix_each() {
    let fake = FakeGraph::start().await;
    fake.enable_passes(60, 1440);
    let good = pass_checks(&fake, 1440).await;
    assert!(good.iter().all(|(ok, _)| *ok), "{good:#?}");
    assert!(
        good.iter()
            .any(|(_, l)| l.contains("enabled for all users")),
        "{good:#?}"
    );
    assert!(
        good.iter()
            .any(|(_, l)| l.contains("UserAuthenticationMethod.ReadWrite.All")),
        "{good:#?}"
    );

    fake.disable_passes();
    fake.set_roles(&["User.ReadWrite.All", "Policy.Read.All"]);
    let bad = pass_checks(&fake, 1440).await;
    let failed: Vec<&String> = bad.iter().filter(|(ok, _)| !ok).map(|(_, l)| l).collect();
    assert!(
        failed.iter().any(|l| l.contains("Graph pass permission")
            && l.contains("UserAuthenticationMethod.ReadWrite.All")
            && l.contains("grant admin consent")),
        "{failed:#?}"
    );
    assert!(
        failed.iter().any(|l| l.contains("disabled in the tenant")
            && l.contains("Authentication methods → Policies → Temporary Access Pass")),
        "{failed:#?}"
    );

    fake.enable_passes(60, 480);
    let long = pass_checks(&fake, 1440).await;
    assert!(
        long.iter().any(|(ok, l)| !ok
            && l.contains("TAP_LIFETIME_MINUTES = 1440")
            && l.contains("60–480")),
        "{long:#?}"
    );

    fake.set_roles(&[
        "User.ReadWrite.All",
        "UserAuthenticationMethod.ReadWrite.All",
    ]);
    let unreadable = pass_checks(&fake, 60).await;
    assert!(
        unreadable
            .iter()
            .any(|(ok, l)| !ok && l.contains("Policy.Read.All")),
        "{unreadable:#?}"
    );
}

#[tokio::test]
async fn with_passwords_check_reads_no_pass_policy_and_needs_no_pass_permission() {
    let fake = FakeGraph::start().await;
    fake.set_roles(&["User.ReadWrite.All"]);

    let results =
        ms365_accountcreator::graph::check(&settings(&fake, &[], &[]), Needs::default(), &[]).await;

    assert!(results.iter().all(|r| r.ok), "{results:#?}");
    assert_eq!(fake.count(Endpoint::PassPolicy), 0);
    let permission = results
        .iter()
        .find(|r| r.name == "Graph pass permission")
        .unwrap();
    assert!(
        permission
            .detail
            .contains("CREDENTIAL=temporary_access_pass")
    );
}
