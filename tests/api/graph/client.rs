//! The Graph client on its own against the fake Graph.

use super::*;

#[tokio::test]
async fn the_free_name_skips_taken_numbers_only_for_exact_matches_across_pages() {
    let fake = FakeGraph::start().await;
    for upn in [
        "ada.lovelace@tenant.example",
        "Ada.Lovelace.3@tenant.example",
        "ada.lovelace.2x@tenant.example",
        "ada.lovelaceb@tenant.example",
        "ada.lovelace.20@tenant.example",
    ] {
        fake.add_user(upn, "A", "L");
    }
    fake.page_size(2);
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));

    let free = free_name(&graph, &nickname("Ada", "Lovelace"), &[])
        .await
        .unwrap();

    assert_eq!(free, "ada.lovelace.2@tenant.example");
    assert_eq!(fake.count(Endpoint::ListUsers), 3, "5 names in pages of 2");

    fake.add_user("ada.lovelace.2@tenant.example", "A", "L");
    let free = free_name(&graph, &nickname("Ada", "Lovelace"), &[])
        .await
        .unwrap();
    assert_eq!(
        free, "ada.lovelace.4@tenant.example",
        "3 is taken in another letter case"
    );
}

/// `nick`, `nick.2`, … `nick.{last}` at the fake's domain.
fn numbered_upns(nick: &MailNickname, last: u32) -> Vec<String> {
    (1..=last)
        .map(|n| format!("{}@{DOMAIN}", nick.numbered(n)))
        .collect()
}

#[tokio::test]
async fn the_free_name_search_stops_at_the_highest_collision_number() {
    let fake = FakeGraph::start().await;
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let simulated = SimulatedDirectory::new(DOMAIN);
    let nick = nickname("Ada", "Lovelace");
    let highest = MailNickname::MAX_COLLISION_NUMBER;
    let directories: [(&str, &dyn Directory); 2] = [("graph", &graph), ("simulated", &simulated)];
    for (name, directory) in directories {
        // Arrange / Act / Assert: the last number is still offered …
        let free = free_name(directory, &nick, &numbered_upns(&nick, highest - 1))
            .await
            .unwrap();
        assert_eq!(free, format!("ada.lovelace.{highest}@{DOMAIN}"), "{name}");
        // … and when it is taken too, the search ends with an error, not `.1001`.
        let past = free_name(directory, &nick, &numbered_upns(&nick, highest)).await;
        assert!(
            matches!(past, Err(DirectoryError::Failed(_))),
            "{name}: {past:?}"
        );
    }
}

#[tokio::test]
async fn a_quote_in_the_name_is_escaped_in_the_odata_filter() {
    let fake = FakeGraph::start().await;
    fake.add_user("miles.o'brien@tenant.example", "Miles", "O'Brien");
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));

    let free = free_name(&graph, &nickname("Miles", "O'Brien"), &[])
        .await
        .unwrap();

    assert_eq!(free, "miles.o'brien.2@tenant.example");
    assert_eq!(
        fake.filters(),
        vec![format!(
            "startswith(userPrincipalName,'miles.o''brien') or onPremisesExtensionAttributes/extensionAttribute15 eq '{}'",
            tag_of("nobody@uni.example")
        )]
    );
}

#[tokio::test]
async fn already_a_member_and_a_licence_already_assigned_count_as_done() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students"), fake.add_group("Library")];
    let sku = fake.add_sku("STUDENT", 1);
    let graph = client(
        &settings(&fake, &groups, std::slice::from_ref(&sku)),
        Duration::from_secs(5),
    );
    let user = created_user(&graph).await.unwrap();
    fake.add_member(&groups[0], &user.object_id);
    let both = Grants {
        licences: true,
        groups: true,
    };

    let first = graph.grant(&user.object_id, both).await;
    // A resumed step repeats everything: the licence is there, the memberships exist.
    let again = graph.grant(&user.object_id, both).await;

    for outcome in [first, again] {
        assert!(
            outcome.licences.is_ok() && outcome.groups.is_ok(),
            "{outcome:?}"
        );
    }
    assert_eq!(fake.consumed(&sku), 1, "the single licence is used once");
    for group in &groups {
        assert_eq!(fake.members(group), vec![user.object_id.clone()]);
    }
    assert_eq!(fake.count(Endpoint::Batch), 2);
}

#[tokio::test]
async fn a_missing_group_fails_at_once_while_the_licence_is_assigned() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 1);
    let gone = "00000000-0000-4000-8000-000000000001".to_owned();
    let graph = client(
        &settings(
            &fake,
            std::slice::from_ref(&gone),
            std::slice::from_ref(&sku),
        ),
        Duration::from_secs(5),
    );
    let user = created_user(&graph).await.unwrap();

    let outcome = graph
        .grant(
            &user.object_id,
            Grants {
                licences: true,
                groups: true,
            },
        )
        .await;

    assert!(outcome.licences.is_ok());
    match outcome.groups {
        Err(DirectoryError::Failed(text)) => {
            assert!(
                text.contains("Request_ResourceNotFound") && text.contains(&gone),
                "{text}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fake.count(Endpoint::Batch),
        1,
        "a missing group is not replication lag"
    );
}

#[tokio::test]
async fn graph_refusals_become_failures_with_code_message_and_request_id() {
    let fake = FakeGraph::start().await;
    let mut bad_location = settings(&fake, &[], &[]);
    bad_location.usage_location = "XX".into();
    let graph = client(&bad_location, Duration::from_secs(5));

    let refused = created_user(&graph).await;

    match refused {
        Err(DirectoryError::Failed(text)) => {
            assert!(text.contains("400 Request_BadRequest"), "{text}");
            assert!(text.contains("'usageLocation'"), "{text}");
            assert!(text.contains("(request-id "), "{text}");
            assert!(!text.contains("!1Aa-test-password"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    created_user(&graph).await.unwrap();
    let again = created_user(&graph).await;
    assert!(
        matches!(again, Err(DirectoryError::AlreadyExists)),
        "{again:?}"
    );
    let found = graph
        .find_user("ada.lovelace@tenant.example")
        .await
        .unwrap();
    assert_eq!(found.and_then(|u| u.surname).as_deref(), Some("Lovelace"));
    assert_eq!(
        graph.find_user("nobody@tenant.example").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn pkcs1_and_pkcs8_keys_and_every_thumbprint_spelling_get_a_token() {
    let fake = FakeGraph::start().await;
    let openssl = openssl_thumbprint();
    let variants: Vec<(&str, Option<String>, bool)> = vec![
        ("graph-test-key.pkcs1.pem", None, true),
        ("graph-test-key.pkcs8.pem", None, true),
        ("graph-test-key.pkcs8.pem", Some(openssl.clone()), false),
        (
            "graph-test-key.pkcs1.pem",
            Some(openssl.to_lowercase()),
            false,
        ),
        (
            "graph-test-key.pkcs1.pem",
            Some(openssl.replace(':', "")),
            true,
        ),
    ];
    for (key, thumbprint, with_cert) in variants {
        let mut settings = settings(&fake, &[], &[]);
        settings.privkey_path = fixture(key).into();
        settings.pubkey_thumbprint = thumbprint.clone();
        if !with_cert {
            settings.cert_path = None;
        }
        let graph = client(&settings, Duration::from_secs(5));

        let checks = graph
            .check(ms365_accountcreator::graph::check::Needs::default(), &[])
            .await;

        assert!(checks[0].ok, "{key} {thumbprint:?}: {}", checks[0]);
    }
    assert_eq!(
        fake.count(Endpoint::Token),
        5,
        "each client got its own token"
    );
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_before_it_lapses() {
    let fake = FakeGraph::start().await;
    fake.token_lifetime(2);
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let nick = nickname("Ada", "Lovelace");

    free_name(&graph, &nick, &[]).await.unwrap();
    free_name(&graph, &nick, &[]).await.unwrap();
    assert_eq!(fake.count(Endpoint::Token), 1, "still fresh");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    free_name(&graph, &nick, &[]).await.unwrap();

    assert_eq!(
        fake.count(Endpoint::Token),
        2,
        "refreshed half-way, before expiry"
    );
    assert_eq!(fake.count(Endpoint::ListUsers), 3, "no request was refused");
}

#[tokio::test]
async fn check_reports_the_token_each_sku_and_each_group() {
    let fake = FakeGraph::start().await;
    let students = fake.add_group("Students");
    let missing_group = "00000000-0000-4000-8000-000000000002".to_owned();
    let free = fake.add_sku("STUDENT", 10);
    let full = fake.add_sku("FACULTY", 0);
    let unknown = "00000000-0000-4000-8000-000000000003".to_owned();
    let settings = settings(
        &fake,
        &[students.clone(), missing_group.clone()],
        &[free.clone(), full.clone(), unknown.clone()],
    );

    let needs = ms365_accountcreator::graph::check::Needs::default();
    let results = ms365_accountcreator::graph::check(&settings, needs, &[]).await;

    let lines: Vec<(bool, String)> = results.iter().map(|r| (r.ok, r.to_string())).collect();
    let expect = [
        (true, "Graph private key"),
        (true, "matches the private key"),
        (true, "Graph token"),
        (true, "the token carries User.ReadWrite.All"),
        (
            true,
            "the token carries UserAuthenticationMethod.ReadWrite.All",
        ),
        (true, "STUDENT: 10 prepaid, 0 consumed, 10 free"),
        (
            false,
            "FACULTY: 0 prepaid, 0 consumed, 0 free; new sign-ups wait",
        ),
        (false, "no subscription with this SKU id"),
        (true, "Students"),
        (false, "no group with this object id"),
    ];
    assert_eq!(lines.len(), expect.len(), "{lines:#?}");
    for ((ok, line), (want_ok, fragment)) in lines.iter().zip(expect) {
        assert_eq!(*ok, want_ok, "{line}");
        assert!(line.contains(fragment), "{line} lacks {fragment}");
    }

    let mut wrong = settings.clone();
    wrong.privkey_path = fixture("graph-wrong-key.pem").into();
    let results = ms365_accountcreator::graph::check(&wrong, needs, &[]).await;
    assert!(
        !results[1].ok
            && results[1]
                .detail
                .contains("is not the certificate of the private key"),
        "{results:#?}"
    );
}

#[tokio::test]
async fn concurrent_requests_wait_for_one_token_fetch() {
    let fake = FakeGraph::start().await;
    fake.delay(Endpoint::Token, 1, Duration::from_millis(300));
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let nick = nickname("Ada", "Lovelace");

    let results = futures_join(&graph, &nick).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.count(Endpoint::Token), 1);
    assert_eq!(fake.count(Endpoint::ListUsers), 4);
}

async fn futures_join(
    graph: &GraphClient,
    nick: &MailNickname,
) -> Vec<Result<String, DirectoryError>> {
    let (a, b, c, d) = tokio::join!(
        free_name(graph, nick, &[]),
        free_name(graph, nick, &[]),
        free_name(graph, nick, &[]),
        free_name(graph, nick, &[]),
    );
    vec![a, b, c, d]
}

#[tokio::test]
async fn a_throttled_sub_request_waits_for_its_retry_after_and_is_sent_alone() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students"), fake.add_group("Library")];
    let sku = fake.add_sku("STUDENT", 10);
    let graph = client(
        &settings(&fake, &groups, std::slice::from_ref(&sku)),
        Duration::from_secs(10),
    );
    let user = graph
        .create_user(&new_user(
            "Ada",
            "Lovelace",
            "ada.lovelace@tenant.example",
            &nickname("Ada", "Lovelace"),
        ))
        .await
        .unwrap();
    fake.throttle_batch_items(1, 1);

    let started = Instant::now();
    let outcome = graph
        .grant(
            &user.object_id,
            Grants {
                licences: true,
                groups: true,
            },
        )
        .await;

    assert!(
        outcome.licences.is_ok() && outcome.groups.is_ok(),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After of the sub-response"
    );
    assert_eq!(fake.count(Endpoint::Batch), 2);
    assert_eq!(
        fake.user("ada.lovelace@tenant.example").unwrap().licences,
        vec![sku]
    );
    for group in &groups {
        assert_eq!(fake.members(group).len(), 1);
    }
}

/// Both changes of a user (a new password, the mailbox tag) go through one PATCH that waits
/// out replication lag: a user made moments ago on another replica is changed once Graph
/// knows it.
#[tokio::test]
async fn a_password_and_a_tag_for_a_user_graph_does_not_know_yet_are_written_on_a_retry() {
    // Arrange
    let fake = FakeGraph::start().await;
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let user = created_user(&graph).await.unwrap();
    let password = SecretString::from("N3w-temporary!");
    let tag = tag_of("grace@uni.example");

    // Act
    fake.lag_user(&user.object_id, 2);
    let set = graph.set_password(&user.object_id, &password).await;
    fake.lag_user(&user.object_id, 2);
    let tagged = graph.set_tag(&user.object_id, &tag).await;

    // Assert
    assert!(set.is_ok(), "{set:?}");
    assert!(tagged.is_ok(), "{tagged:?}");
    assert_eq!(
        fake.count(Endpoint::UpdateUser),
        6,
        "each: two 404s, then the change"
    );
    let stored = fake.user("ada.lovelace@tenant.example").unwrap();
    assert_eq!(stored.password.as_deref(), Some("N3w-temporary!"));
    assert_eq!(
        stored.extension_attributes.get("extensionAttribute15"),
        Some(&tag.as_str().to_owned())
    );
}

/// A user Graph never comes to know fails both changes, each after the same few retries.
#[tokio::test]
async fn a_user_graph_never_knows_fails_both_changes_after_the_lag_retries() {
    // Arrange
    let fake = FakeGraph::start().await;
    let graph = client(&settings(&fake, &[], &[]), Duration::from_secs(5));
    let user = created_user(&graph).await.unwrap();
    fake.lag_user(&user.object_id, 1000);

    // Act
    let set = graph
        .set_password(&user.object_id, &SecretString::from("N3w-temporary!"))
        .await;
    let after_password = fake.count(Endpoint::UpdateUser);
    let tagged = graph
        .set_tag(&user.object_id, &tag_of("grace@uni.example"))
        .await;

    // Assert
    assert!(set.is_err() && tagged.is_err(), "{set:?} {tagged:?}");
    assert_eq!(after_password, 7, "the change and six lag retries");
    assert_eq!(fake.count(Endpoint::UpdateUser), 14, "the same for the tag");
}
