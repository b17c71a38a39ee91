//! The semester rush (issue 17) against the fake Graph: a confirm waits a short while, then
//! the durable queue finishes the account and mails the person; one write budget and one
//! pause for every writer; restarts and permanent failures.

use super::*;
use crate::metrics::{scrape, value};
use crate::support::helpers::{ListedMail, attr};
use crate::support::routes::paths;

/// Waits for the mail with `subject` to `email`; moves the server's clock on meanwhile, so
/// that an entry waiting for its next attempt becomes due.
async fn mail_arrives(app: &TestApp, email: &str, subject: &str) -> ListedMail {
    for _ in 0..120 {
        if let Some(mail) = app
            .mails()
            .await
            .into_iter()
            .find(|m| m.subject == subject && m.is_to(email))
        {
            return mail;
        }
        app.advance_clock(60);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no mail {subject:?} to {email}: {:#?}", app.mails().await);
}

/// Waits for Ada's password mail (the queue's "ready" mail when passwords go by mail).
pub(crate) async fn password_mail_arrives(app: &TestApp) -> ListedMail {
    mail_arrives(app, "ada@uni.example", "Your new account").await
}

async fn metrics(app: &TestApp) -> std::collections::BTreeMap<(String, String), f64> {
    scrape(&app.url(paths::METRICS)).await
}

#[tokio::test]
async fn a_confirm_within_the_wait_shows_the_account_at_once_and_leaves_nothing_queued() {
    // Arrange
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students"), fake.add_group("Library")];
    let sku = fake.add_sku("STUDENT", 10);
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[sku]))
        .env("METRICS_ENABLED", "true")
        .spawn()
        .await;

    // Act
    let result = sign_up_and_confirm(&app, "ada@uni.example", "Ada", "Lovelace").await;

    // Assert
    assert_ready(result, "ada.lovelace@tenant.example").await;
    let samples = metrics(&app).await;
    assert_eq!(value(&samples, "ms365_provisioning_queue_length", ""), 0.0);
    assert_eq!(
        value(&samples, "ms365_graph_writes_total", ""),
        4.0,
        "the user, the licence and two groups"
    );
    assert_eq!(value(&samples, "ms365_graph_writes_per_minute", ""), 4.0);
    assert_eq!(
        value(&samples, "ms365_graph_throttle_paused_seconds_total", ""),
        0.0
    );
}

#[tokio::test]
async fn a_throttled_confirm_answers_with_the_waiting_page_and_the_queue_mails_the_account() {
    // Arrange
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let settings = [("PROVISION_WAIT_SECONDS", "1"), ("METRICS_ENABLED", "true")];
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[]))
        .envs(&settings)
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    fake.throttle(Some(Endpoint::CreateUser), 1, 3);

    // Act
    let started = Instant::now();
    let page = app.confirm(&path).await;

    // Assert: accepted within the wait, with a status that updates itself.
    assert_eq!(page.status(), 202);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no longer than the wait"
    );
    let page = page.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Your account is being created"]);
    let status = format!("{path}?view=status");
    assert_eq!(
        attr(&page, "#account-status", "data-hx-get").as_deref(),
        Some(status.as_str())
    );
    assert_eq!(
        attr(&page, "#account-status", "data-hx-trigger").as_deref(),
        Some("every 3s")
    );
    assert_eq!(
        attr(&page, "#account-status a.button", "href").as_deref(),
        Some(status.as_str()),
        "without JavaScript: Check again"
    );
    let polled = app.get_with(&status, &[("hx-request", "true")]).await;
    assert_eq!(polled.status(), 200);
    let fragment = polled.text().await.unwrap();
    assert!(
        texts(&fragment, "html > head > title").is_empty(),
        "a fragment"
    );
    assert_eq!(
        texts(&fragment, "h1"),
        vec!["Your account is being created"]
    );
    let queued = metrics(&app).await;
    assert_eq!(value(&queued, "ms365_provisioning_queue_length", ""), 1.0);

    // The fake stops throttling after its one 429; the queue finishes and mails.
    let mail = password_mail_arrives(&app).await;
    assert_eq!(
        password_in(&mail.text),
        fake.password_of("ada.lovelace@tenant.example")
    );
    assert_eq!(fake.users().len(), 1);
    let done = app.get_with(&status, &[("hx-request", "true")]).await;
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert_eq!(texts(&done, "h1"), vec!["Your account is ready"]);
    assert_eq!(
        texts(&done, "#account-status code.username"),
        vec!["ada.lovelace@tenant.example"]
    );
    assert_eq!(
        attr(&done, "#account-status", "data-hx-get"),
        None,
        "no more polling"
    );
    let after = metrics(&app).await;
    assert_eq!(value(&after, "ms365_provisioning_queue_length", ""), 0.0);
    assert!(value(&after, "ms365_graph_throttle_paused_seconds_total", "") >= 2.9);
}

#[tokio::test]
async fn one_429_pauses_every_writer_until_retry_after_has_passed() {
    // Arrange
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let settings = [("PROVISION_WAIT_SECONDS", "20")];
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[]))
        .envs(&settings)
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    app.sign_up("alan@uni.example", "Alan", "Turing").await;
    let ada = app.verification_path("ada@uni.example").await;
    let alan = app.verification_path("alan@uni.example").await;
    fake.throttle(Some(Endpoint::CreateUser), 1, 2);

    // Act: Ada's create draws the 429; Alan confirms during the pause.
    let first = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url(&ada));
        async move { client.post(url).send().await.unwrap().status() }
    });
    let mut throttled_at = None;
    for _ in 0..200 {
        throttled_at = fake
            .requests()
            .into_iter()
            .find(|(_, _, status)| *status == 429)
            .map(|(at, _, _)| at);
        if throttled_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let throttled_at = throttled_at.expect("the fake throttled a create");
    let second = app.confirm(&alan).await;

    // Assert
    assert_eq!(second.status(), 200);
    assert_eq!(first.await.unwrap(), 200);
    let after: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|(at, _, _)| *at > throttled_at)
        .collect();
    assert!(
        after.len() >= 4,
        "Ada's create and batch, Alan's name query, create and batch: {after:?}"
    );
    for (at, endpoint, _) in &after {
        let waited = at.duration_since(throttled_at);
        assert!(
            waited >= Duration::from_millis(1950),
            "{endpoint:?} went out {waited:?} after the 429, inside Retry-After: 2"
        );
    }
    assert_eq!(fake.users().len(), 2);
}

#[tokio::test]
async fn queued_registrations_survive_a_restart_and_the_new_server_finishes_them() {
    // Arrange: Graph throttles longer than a step may wait, so both confirms are queued.
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students")];
    let env = env(&fake, &groups, &[]);
    let quick_client = || client(&settings(&fake, &groups, &[]), Duration::from_secs(2));
    let with_quick_client = || {
        TestApp::builder()
            .envs(&env)
            .env("PROVISION_WAIT_SECONDS", "1")
            .directory(Arc::new(quick_client()))
    };
    let mut app = with_quick_client().spawn().await;
    fake.throttle(None, 1000, 3);
    for (email, first, last) in [
        ("ada@uni.example", "Ada", "Lovelace"),
        ("alan@uni.example", "Alan", "Turing"),
    ] {
        app.sign_up(email, first, last).await;
        let path = app.verification_path(email).await;
        assert_eq!(app.confirm(&path).await.status(), 202);
    }
    assert!(fake.users().is_empty());

    // Act: the server stops with both queued; Graph recovers; a new server starts.
    let store = app.stop().await;
    fake.clear_faults();
    let app = with_quick_client().store(store).spawn().await;

    // Assert
    mail_arrives(&app, "ada@uni.example", "Your new account").await;
    mail_arrives(&app, "alan@uni.example", "Your new account").await;
    // Started in confirm order, but run side by side: which create lands first is open.
    let mut users: Vec<String> = fake.users().into_iter().map(|u| u.upn).collect();
    users.sort();
    assert_eq!(
        users,
        vec!["ada.lovelace@tenant.example", "alan.turing@tenant.example"],
        "one user each"
    );
}

#[tokio::test]
async fn a_permanent_failure_in_the_queue_mails_the_person_and_shows_in_signups_list() {
    // Arrange: Graph refuses the licences for good (403: the app may not assign them; no
    // free seat is no failure, see `seat_wait`), and the create is slower than the wait at
    // the button.
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 10);
    fake.fail(Endpoint::Batch, 1000, 403);
    let settings = [("PROVISION_WAIT_SECONDS", "1")];
    let (logs, _guard) = Logs::capture();
    let mut app = TestApp::builder()
        .envs(&env(&fake, &[], std::slice::from_ref(&sku)))
        .envs(&settings)
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    fake.delay(Endpoint::CreateUser, 1, Duration::from_millis(1500));

    // Act
    let page = app.confirm(&path).await;

    // Assert
    assert_eq!(page.status(), 202);
    let mail = mail_arrives(&app, "ada@uni.example", "Your account could not be created").await;
    assert!(
        mail.text.contains("it-support@uni.example"),
        "{}",
        mail.text
    );
    assert!(
        password_in(&mail.text).is_none(),
        "no password: {}",
        mail.text
    );
    let status = app
        .get(&format!("{path}?view=status"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&status, "h1"),
        vec!["Your account could not be created"]
    );
    assert_eq!(texts(&status, "form button"), vec!["Try again"]);
    assert!(
        logs.text().contains("provisioning failed for good"),
        "{}",
        logs.text()
    );
    let dir = app.stop().await;
    let listed = crate::cli::stdout(&crate::cli::run(dir.path(), &["signups", "list"]));
    let ada = listed
        .lines()
        .find(|l| l.contains("ada@uni.example"))
        .expect("ada is listed");
    let columns: Vec<&str> = ada.split('\t').collect();
    assert_eq!(columns[1], "usercreated", "{ada}");
    assert_eq!(columns[4..6], ["-", "-"], "not queued any more: {ada}");
    assert!(columns[6].contains("lack of rights"), "{ada}");
}

#[tokio::test]
async fn a_queued_account_with_the_password_on_the_page_mails_a_link_and_shows_it_once() {
    // Arrange
    let fake = FakeGraph::start().await;
    let settings = [
        ("PROVISION_WAIT_SECONDS", "1"),
        ("PASSWORD_DELIVERY", "page"),
    ];
    let app = TestApp::builder()
        .envs(&env(&fake, &[], &[]))
        .envs(&settings)
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    fake.delay(Endpoint::CreateUser, 1, Duration::from_millis(1500));
    assert_eq!(app.confirm(&path).await.status(), 202);

    // Act: the mail's link, then its button.
    let mail = mail_arrives(&app, "ada@uni.example", "Your new account is ready").await;
    assert!(
        password_in(&mail.text).is_none(),
        "no password in this mail"
    );
    let link = mail.links.first().expect("a link").clone();
    let link = link.strip_prefix(&app.address).expect("to this server");
    let ready = app.get(link).await;
    assert_eq!(ready.status(), 200);
    let ready = ready.text().await.unwrap();
    assert_eq!(texts(&ready, "form button"), vec!["Show my password"]);
    assert!(
        texts(&ready, "#password").is_empty(),
        "not before the button"
    );
    let shown = app.confirm(link).await;

    // Assert
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    let upn = "ada.lovelace@tenant.example";
    assert_eq!(
        texts(&shown, "#password").first().cloned(),
        fake.password_of(upn),
        "the password the user has"
    );
    assert_eq!(
        fake.count(Endpoint::UpdateUser),
        0,
        "the create's password, kept in memory until shown"
    );
    assert_eq!(app.confirm(link).await.status(), 410);
    assert_eq!(app.get(&path).await.status(), 410, "shown once");
}

#[tokio::test]
async fn a_burst_of_confirms_keeps_within_graphs_write_budget_and_every_account_is_made() {
    // Arrange: Graph allows 12 writes in any 3 s; the server sends 3 a second.
    let fake = FakeGraph::start().await;
    let groups = vec![fake.add_group("Students"), fake.add_group("Library")];
    let sku = fake.add_sku("STUDENT", 100);
    fake.write_budget(12, Duration::from_secs(3));
    let settings = [
        ("PROVISION_WAIT_SECONDS", "1"),
        ("GRAPH_API_WRITES_PER_MINUTE", "180"),
    ];
    let app = TestApp::builder()
        .envs(&env(&fake, &groups, &[sku]))
        .envs(&settings)
        .spawn()
        .await;
    let people: Vec<(String, String)> = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald"]
        .iter()
        .map(|name| {
            (
                format!("{}@uni.example", name.to_lowercase()),
                (*name).to_owned(),
            )
        })
        .collect();
    let mut links = Vec::new();
    for (email, name) in &people {
        app.sign_up(email, name, "Rush").await;
        links.push(app.verification_path(email).await);
    }

    // Act: everybody confirms at once.
    let started = Instant::now();
    let mut confirms = tokio::task::JoinSet::new();
    for link in links {
        let (client, url) = (app.client.clone(), app.url(&link));
        confirms.spawn(async move { client.post(url).send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = confirms.join_next().await {
        assert!([200, 202].contains(&status.unwrap()));
    }
    for (email, _) in &people {
        mail_arrives(&app, email, "Your new account").await;
    }

    // Assert: 6 × (user, licence, 2 groups) at 3 a second, without drawing Graph's 429s.
    assert_eq!(fake.users().len(), 6);
    assert_eq!(fake.writes(), 24);
    assert!(fake.throttled() <= 1, "429s: {}", fake.throttled());
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "paced: {:?}",
        started.elapsed()
    );
}
