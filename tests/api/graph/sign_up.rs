//! Whole sign-ups through the real server against the fake Graph.

use super::*;

#[tokio::test]
async fn a_sign_up_creates_exactly_one_user_with_the_originals_payload_licences_and_groups() {
    // Arrange
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students"), fake.add_group("Library")];
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 100);
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, std::slice::from_ref(&sku)))
        .spawn()
        .await;

    // Act
    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Assert
    assert_ready(result, "ada.lovelace@tenant.example").await;
    let users = fake.users();
    assert_eq!(users.len(), 1);
    let user = &users[0];
    let mail = &app.mails().await[0];
    assert_eq!(mail.subject, "Your new account");
    let password = password_in(&mail.text).expect("the password is in the mail");
    assert_eq!(
        user.payload,
        serde_json::json!({
            "accountEnabled": true,
            "displayName": "Ada Lovelace",
            "givenName": "Ada",
            "surname": "Lovelace",
            "mailNickname": "ada.lovelace",
            "userPrincipalName": "ada.lovelace@tenant.example",
            "mail": "ada.lovelace@tenant.example",
            "usageLocation": "DE",
            "passwordPolicies": "DisablePasswordExpiration",
            "passwordProfile": { "password": password, "forceChangePasswordNextSignIn": true },
            "onPremisesExtensionAttributes": {
                "extensionAttribute15": tag_of("ada@uni.example").as_str()
            },
        })
    );
    assert_eq!(user.licences, vec![sku.clone()]);
    assert_eq!(fake.consumed(&sku), 1);
    for group in &groups {
        assert_eq!(fake.members(group), vec![user.id.clone()]);
    }
    assert_eq!(
        fake.filters(),
        vec![format!(
            "startswith(userPrincipalName,'ada.lovelace') or onPremisesExtensionAttributes/extensionAttribute15 eq '{}'",
            tag_of("ada@uni.example")
        )]
    );
}

#[tokio::test]
async fn a_sign_up_costs_three_graph_round_trips_and_one_token_whatever_the_number_of_groups() {
    for group_count in [0, 1, 5] {
        // Arrange
        let fake = FakeGraph::start().await;
        let groups: Vec<String> = (0..group_count)
            .map(|i| fake.add_group(&format!("G{i}")))
            .collect();
        let sku = fake.add_sku("STUDENT", 10);
        let app = TestApp::builder()
            .envs(&env(&fake, &groups, &[sku]))
            .spawn()
            .await;

        // Act
        let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

        // Assert
        assert_eq!(result.status(), 200, "{group_count} groups");
        let counts =
            [Endpoint::ListUsers, Endpoint::CreateUser, Endpoint::Batch].map(|e| fake.count(e));
        assert_eq!(
            counts,
            [1, 1, 1],
            "{group_count} groups: name query, create, batch"
        );
        assert_eq!(fake.graph_round_trips(), 3, "{group_count} groups");
        assert_eq!(fake.count(Endpoint::Token), 1, "{group_count} groups");
        let user = &fake.users()[0];
        for group in &groups {
            assert_eq!(
                fake.members(group),
                vec![user.id.clone()],
                "{group_count} groups"
            );
        }
    }
}

#[tokio::test]
async fn without_licences_and_groups_no_batch_is_sent() {
    let fake = FakeGraph::start().await;
    let app = TestApp::builder().envs(&env(&fake, &[], &[])).spawn().await;

    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace@tenant.example").await;
    assert_eq!(fake.count(Endpoint::Batch), 0);
    assert_eq!(fake.graph_round_trips(), 2);
}

#[tokio::test]
async fn a_second_sign_up_reuses_the_token() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let sku = fake.add_sku("STUDENT", 10);
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[sku]))
        .spawn()
        .await;

    sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;
    let second = sign_up_and_confirm(&app, "alan@uni.example", "Alan", "Turing").await;

    assert_ready(second, "alan.turing@tenant.example").await;
    assert_eq!(fake.count(Endpoint::Token), 1);
    assert_eq!(fake.graph_round_trips(), 6);
}

#[tokio::test]
async fn a_token_graph_no_longer_accepts_is_replaced_once_with_a_fresh_assertion() {
    let fake = FakeGraph::start().await;
    let app = TestApp::builder().envs(&env(&fake, &[], &[])).spawn().await;
    sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    fake.revoke_tokens();
    let second = sign_up_and_confirm(&app, "alan@uni.example", "Alan", "Turing").await;

    // The fake refuses a reused jti, so the second token proves a fresh assertion too.
    assert_ready(second, "alan.turing@tenant.example").await;
    assert_eq!(fake.count(Endpoint::Token), 2);
    assert_eq!(
        fake.count(Endpoint::ListUsers),
        3,
        "the refused query is sent again once"
    );
}

#[tokio::test]
async fn throttling_with_retry_after_is_waited_out() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[]))
        .spawn()
        .await;
    fake.throttle(Some(Endpoint::ListUsers), 1, 1);
    fake.throttle(Some(Endpoint::CreateUser), 1, 1);
    fake.throttle(Some(Endpoint::Token), 1, 1);

    let started = Instant::now();
    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace@tenant.example").await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "Retry-After honoured three times"
    );
    assert_eq!(fake.count(Endpoint::Token), 2);
    assert_eq!(fake.count(Endpoint::ListUsers), 2);
    assert_eq!(fake.count(Endpoint::CreateUser), 2);
    assert_eq!(fake.users().len(), 1);
}

#[tokio::test]
async fn a_burst_of_503s_without_retry_after_is_survived_with_backoff() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let sku = fake.add_sku("STUDENT", 10);
    let graph = client(
        &settings(&fake, &groups, std::slice::from_ref(&sku)),
        Duration::from_secs(10),
    );
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[sku]))
        .directory(Arc::new(graph))
        .spawn()
        .await;
    fake.unavailable(None, 4, None);
    fake.unavailable(Some(Endpoint::Batch), 2, Some(1));

    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace@tenant.example").await;
    assert_eq!(fake.users().len(), 1);
    assert_eq!(
        fake.graph_round_trips(),
        3 + 4 + 2,
        "each 503 cost one more round trip"
    );
    assert_eq!(fake.members(&groups[0]).len(), 1);
}

#[tokio::test]
async fn replication_lag_404s_in_the_batch_are_sent_again_until_the_user_is_known() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students"), fake.add_group("Library")];
    let sku = fake.add_sku("STUDENT", 10);
    let graph = client(
        &settings(&fake, &groups, std::slice::from_ref(&sku)),
        Duration::from_secs(10),
    );
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, std::slice::from_ref(&sku)))
        .directory(Arc::new(graph))
        .spawn()
        .await;
    // The licence and both memberships of the first batch all meet a replica without the user.
    fake.replication_lag(3);

    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace@tenant.example").await;
    let user = &fake.users()[0];
    assert_eq!(user.licences, vec![sku]);
    for group in &groups {
        assert_eq!(fake.members(group), vec![user.id.clone()]);
    }
    assert_eq!(
        fake.count(Endpoint::Batch),
        2,
        "one lagging round, then done"
    );
}

#[tokio::test]
async fn a_username_taken_in_a_race_gets_the_next_number() {
    let fake = FakeGraph::start().await;
    let app = TestApp::builder().envs(&env(&fake, &[], &[])).spawn().await;
    fake.race_create("ada.lovelace@tenant.example", "Ada", "Byron");

    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace.2@tenant.example").await;
    let rival = fake.user("ada.lovelace@tenant.example").unwrap();
    assert_eq!(rival.surname.as_deref(), Some("Byron"));
    let ours = fake.user("ada.lovelace.2@tenant.example").unwrap();
    assert_eq!(ours.surname.as_deref(), Some("Lovelace"));
    assert_eq!(fake.users().len(), 2);
    assert_eq!(fake.count(Endpoint::CreateUser), 2);
    assert_eq!(fake.count(Endpoint::ListUsers), 2);
}

#[tokio::test]
async fn a_create_that_timed_out_but_went_through_is_adopted_not_duplicated() {
    let fake = FakeGraph::start().await;
    let mut env = env(&fake, &[], &[]);
    env.push(("GRAPH_API_TIMEOUT_SECONDS".into(), "1".into()));
    let app = TestApp::builder().envs(&env).spawn().await;
    // Graph creates the user but answers too late; then the user is not readable at once.
    fake.delay(Endpoint::CreateUser, 1, Duration::from_millis(1500));
    fake.replication_lag(1);

    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace@tenant.example").await;
    assert_eq!(fake.users().len(), 1, "one person, one user");
    assert_eq!(fake.count(Endpoint::CreateUser), 2);
    assert_eq!(
        fake.count(Endpoint::GetUser),
        2,
        "the lagging lookup is repeated"
    );
}

#[tokio::test]
async fn a_wrong_key_gives_a_clear_page_and_an_aadsts700027_log_without_secrets() {
    // The thumbprint is the registered certificate's, but the key is another one.
    let fake = FakeGraph::start().await;
    let mut env = env(&fake, &[], &[]);
    env.retain(|(k, _)| k != "GRAPH_API_AUTH_CERT_PATH" && k != "GRAPH_API_AUTH_PRIVKEY_PATH");
    env.push((
        "GRAPH_API_AUTH_PRIVKEY_PATH".into(),
        fixture("graph-wrong-key.pem"),
    ));
    env.push((
        "GRAPH_API_AUTH_PUBKEY_THUMBPRINT".into(),
        openssl_thumbprint(),
    ));
    let (logs, _guard) = Logs::capture();
    let app = TestApp::builder().envs(&env).spawn().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;

    let page = confirm(&app, "ada@uni.example", "de").await;

    assert_eq!(page.status(), 503);
    let page = page.text().await.unwrap();
    assert_eq!(
        texts(&page, "h1"),
        vec!["Ihr Konto konnte noch nicht fertiggestellt werden"]
    );
    assert!(
        page.contains("Beim Anlegen Ihres Kontos ist etwas schiefgegangen."),
        "{page}"
    );
    assert!(!page.contains("AADSTS"), "no internals for the person");
    let logs = logs.text();
    assert!(logs.contains("AADSTS700027"), "{logs}");
    assert!(
        logs.contains("did not match the expected signature value"),
        "{logs}"
    );
    assert!(
        logs.contains("GRAPH_API_AUTH_PRIVKEY_PATH"),
        "a hint for the operator: {logs}"
    );
    for secret in [
        "eyJ",
        "fake-access-token",
        "PRIVATE KEY",
        "client_assertion=",
    ] {
        assert!(!logs.contains(secret), "{secret} in the log: {logs}");
    }
    assert!(fake.users().is_empty());
}

#[tokio::test]
async fn throttling_beyond_the_deadline_queues_the_confirm_and_the_queue_finishes_it_later() {
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let graph = client(&settings(&fake, &groups, &[]), Duration::from_secs(2));
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[]))
        .directory(Arc::new(graph))
        .spawn()
        .await;
    fake.throttle(None, 100, 3);
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;

    let started = Instant::now();
    let first = confirm(&app, "ada@uni.example", "en").await;

    assert_eq!(first.status(), 202, "accepted, not an error");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no wait that cannot end in time"
    );
    assert_eq!(
        texts(&first.text().await.unwrap(), "h1"),
        vec!["Your account is being created"]
    );
    assert!(fake.users().is_empty());

    fake.clear_faults();
    let mail = super::queue::password_mail_arrives(&app).await;

    assert_eq!(fake.users().len(), 1);
    assert_eq!(fake.members(&groups[0]).len(), 1);
    assert_eq!(
        password_in(&mail.text),
        fake.password_of("ada.lovelace@tenant.example"),
        "the mailed password works"
    );
}

#[tokio::test]
async fn unusable_graph_settings_stop_start_up_with_a_message_naming_the_setting() {
    let fake = FakeGraph::start().await;
    let good = env(&fake, &[], &[]);
    let with = |key: &str, value: &str| {
        let mut env = good.clone();
        env.retain(|(k, _)| k != key);
        env.push((key.to_owned(), value.to_owned()));
        env
    };
    let missing_key = fixture("no-such-key.pem");
    let wrong_cert = fixture("graph-wrong-cert.pem");
    let cases = [
        (
            with("GRAPH_API_AUTH_PRIVKEY_PATH", &missing_key),
            "GRAPH_API_AUTH_PRIVKEY_PATH=",
        ),
        (
            with("GRAPH_API_AUTH_CERT_PATH", &wrong_cert),
            "GRAPH_API_AUTH_CERT_PATH=",
        ),
        (
            with("GRAPH_API_AUTH_PUBKEY_THUMBPRINT", "8E:D5:09"),
            "GRAPH_API_AUTH_PUBKEY_THUMBPRINT=",
        ),
        (
            with("GRAPH_API_GROUPS_FOR_NEW_USERS", "Students"),
            "GRAPH_API_GROUPS_FOR_NEW_USERS",
        ),
        (
            with("GRAPH_API_USAGE_LOCATION", "Germany"),
            "GRAPH_API_USAGE_LOCATION",
        ),
    ];
    for (env, setting) in cases {
        let store = tempfile::tempdir().unwrap();
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let settings = crate::support::helpers::test_settings(store.path(), &pairs);

        let built =
            ms365_accountcreator::startup::Application::build(&settings, Overrides::default())
                .await;

        let err = format!("{:#}", built.err().expect("start-up refuses"));
        assert!(err.contains(setting), "{setting}: {err}");
        assert!(
            err.starts_with("cannot set up the Microsoft Graph client"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_name_taken_in_a_race_is_skipped_even_while_the_name_query_lags() {
    let fake = FakeGraph::start().await;
    let app = TestApp::builder().envs(&env(&fake, &[], &[])).spawn().await;
    // The rival's user stays invisible to lookups and name queries for a while: longer
    // than the lookup's own retries, so the next name query still misses it.
    fake.race_create_lagging("ada.lovelace@tenant.example", "Ada", "Byron", 12);

    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    assert_ready(result, "ada.lovelace.2@tenant.example").await;
    assert_eq!(fake.users().len(), 2);
    assert_eq!(
        fake.count(Endpoint::CreateUser),
        2,
        "no second try of the taken name"
    );
}
