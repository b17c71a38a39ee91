//! The directory remembers (issue 22, points 1 and 2): every user this server creates carries
//! its mailbox's tag, so a new, restored or rolled-back store cannot give a mailbox a second
//! account — the name query finds the tagged user, nothing is created, the registry is
//! repaired and the person is told; users made before tags get theirs from
//! `emails tag-existing`. Against the fake Graph over HTTP and a real SMTP server, on sled and
//! (through `tests/run`) on PostgreSQL.

mod fake;
mod stores;
mod tag_existing;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use ms365_accountcreator::startup::Overrides;
use serde_json::json;

use crate::graph::tag_of;
use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::helpers::{TestApp, attr, spawn_app_with, texts};
use crate::support::postgres;
use crate::support::smtp::{ReceivedMail, SmtpMode, SmtpServer};

/// Where Ada's first account is made.
const ADA: &str = "ada.lovelace@tenant.example";

/// Which kind of store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sled,
    Postgres,
}

/// A new, empty store: the setting that points a server or a command at it. Sled stores are
/// directories under `scratch`; PostgreSQL ones databases of their own.
pub(crate) async fn fresh_store(kind: Kind, scratch: &Path, name: &str) -> (String, String) {
    match kind {
        Kind::Sled => (
            "DATABASE_PATH".into(),
            scratch.join(name).to_string_lossy().into_owned(),
        ),
        Kind::Postgres => ("DATABASE_URL".into(), postgres::fresh_database(name).await),
    }
}

/// A server on `store` against the fake Graph, mailing through `smtp`.
pub(crate) async fn app(
    fake: &FakeGraph,
    smtp: &SmtpServer,
    store: &(String, String),
    extra: &[(&str, &str)],
) -> TestApp {
    let mut env = crate::graph::env(fake, &[], &[]);
    env.extend(smtp.app_settings());
    env.push(store.clone());
    env.push(("RATE_LIMIT_PER_IP_PER_HOUR".into(), "100000".into()));
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&pairs, Overrides::default()).await;
    wait_until_ready(&app).await;
    app
}

/// `/readyz` answers 200 (a PostgreSQL store is migrated in the background).
async fn wait_until_ready(app: &TestApp) {
    for _ in 0..300 {
        if app.get("/readyz").await.status() == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never became ready", app.address);
}

/// The newest mail to `to` with this subject.
fn newest(smtp: &SmtpServer, to: &str, subject: &str) -> Option<ReceivedMail> {
    smtp.received()
        .into_iter()
        .rev()
        .find(|mail| mail.to == [to] && mail.subject == subject)
}

/// Signs up as `email` (its mailbox is `mailbox`) and presses the button behind the link.
pub(crate) async fn sign_up_and_confirm(
    app: &TestApp,
    smtp: &SmtpServer,
    (email, mailbox): (&str, &str),
    first: &str,
    last: &str,
) -> reqwest::Response {
    let before = smtp.received().len();
    let page = app.sign_up(email, first, last).await;
    assert_eq!(
        page.status(),
        200,
        "{email}: {}",
        page.text().await.unwrap()
    );
    smtp.wait_for(before + 1).await;
    let path = newest(smtp, mailbox, "Confirm your sign-up")
        .expect("the verification mail")
        .verification_path();
    app.post_form(&path, &[("lang", "en")]).await
}

/// Asserts the page of a mailbox whose account exists: what it says, the username, and the
/// reset page's link when resets are on.
pub(crate) async fn assert_existing(response: reqwest::Response, username: &str, resets: bool) {
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(
        texts(&page, "h1"),
        vec!["This address already has an account"],
        "{page}"
    );
    assert_eq!(texts(&page, "#username"), vec![username]);
    let reset = attr(&page, "#account-status a.button", "href");
    assert_eq!(
        reset.as_deref().map(|href| href.ends_with("/password")),
        resets.then_some(true),
        "the reset page is linked only when resets are on: {page}"
    );
}

/// The command line on a store, with `env` (Graph's settings, say), off the test's thread so
/// that the fake Graph in this process keeps answering.
pub(crate) async fn cli(
    store: &(String, String),
    env: &[(String, String)],
    args: &[&str],
) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MODE", "test")
        .env("LOG_LEVEL", "warn")
        .env("GRAPH_API_USER_MAIL_DOMAIN", "tenant.example")
        .env(&store.0, &store.1)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(std::env::temp_dir());
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the command's thread")
}

/// Its standard output, after asserting that it succeeded.
pub(crate) fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Ada's account, made through a server on a store; then a server on a new, empty store of
/// the same kind (the same tag secret) meets her again — under another address spelling
/// and another family name, as after a marriage: only the tag can tell it is her.
async fn a_new_empty_store_finds_the_mailboxs_account(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let scratch = tempfile::tempdir().unwrap();
    let first_store = fresh_store(kind, scratch.path(), "first").await;
    let first = app(&fake, &smtp, &first_store, &[]).await;
    let created = sign_up_and_confirm(
        &first,
        &smtp,
        ("ada@uni.example", "ada@uni.example"),
        "Ada",
        "Lovelace",
    )
    .await;
    assert_eq!(created.status(), 200);
    let user = fake.user(ADA).expect("Ada's user");
    let tag = tag_of("ada@uni.example");
    assert_eq!(
        user.extension_attributes.get("extensionAttribute15"),
        Some(&tag.as_str().to_owned()),
        "the tag is the HMAC of the mailbox"
    );
    let stored = serde_json::to_string(&json!([user.payload, user.extension_attributes])).unwrap();
    assert!(
        !stored.contains("ada@") && !stored.contains("uni.example"),
        "the directory holds nothing of the address: {stored}"
    );
    let second_store = fresh_store(kind, scratch.path(), "second").await;
    let second = app(
        &fake,
        &smtp,
        &second_store,
        &[("PASSWORD_RESET_ENABLED", "true")],
    )
    .await;
    let (creates, trips) = (fake.count(Endpoint::CreateUser), fake.graph_round_trips());

    // Act
    let again = sign_up_and_confirm(
        &second,
        &smtp,
        ("ADA+again@uni.example", "ada@uni.example"),
        "Ada",
        "King",
    )
    .await;

    // Assert: told, nothing created, one round trip (the name query).
    assert_existing(again, ADA, true).await;
    assert_eq!(fake.count(Endpoint::CreateUser), creates, "no create call");
    assert_eq!(fake.users().len(), 1, "no second user");
    assert_eq!(fake.graph_round_trips() - trips, 1, "only the name query");
    let password_mails = smtp
        .received()
        .iter()
        .filter(|mail| mail.subject == "Your new account")
        .count();
    assert_eq!(password_mails, 1, "no password was set or mailed again");
    // The registry is repaired: the address is taken, and the account can be reset from here.
    let refused = second.sign_up("ada@uni.example", "Ada", "King").await;
    assert_eq!(refused.status(), 422);
    let (status, answer) = post_json(
        &second,
        "/api/v1/account_creation",
        json!({ "firstName": "Ada", "lastName": "King", "email": "ada@uni.example" }),
    )
    .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (400, Some("Email already used"))
    );
    let before = smtp.received().len();
    second
        .post_form("/password", &[("email", "ada@uni.example"), ("lang", "en")])
        .await;
    smtp.wait_for(before + 1).await;
    let reset = newest(&smtp, "ada@uni.example", "A new temporary password").expect("a reset mail");
    assert!(reset.text.contains("/password/"), "{}", reset.text);
}

async fn post_json(app: &TestApp, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_new_empty_sled_store_with_the_same_tag_secret_creates_no_second_user() {
    a_new_empty_store_finds_the_mailboxs_account(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_new_empty_postgres_store_with_the_same_tag_secret_creates_no_second_user() {
    a_new_empty_store_finds_the_mailboxs_account(Kind::Postgres).await;
}

/// The documented consequence of changing `MAILBOX_TAG_SECRET`: no user is recognised, so a
/// mailbox whose registration the store lost gets a second account.
#[tokio::test]
async fn another_tag_secret_recognises_nobody_and_makes_a_new_user() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let scratch = tempfile::tempdir().unwrap();
    let first = app(
        &fake,
        &smtp,
        &fresh_store(Kind::Sled, scratch.path(), "a").await,
        &[],
    )
    .await;
    let mailbox = ("ada@uni.example", "ada@uni.example");
    sign_up_and_confirm(&first, &smtp, mailbox, "Ada", "Lovelace").await;
    let other_secret = [("MAILBOX_TAG_SECRET", "another-secret")];
    let second_store = fresh_store(Kind::Sled, scratch.path(), "b").await;
    let second = app(&fake, &smtp, &second_store, &other_secret).await;

    let again = sign_up_and_confirm(&second, &smtp, mailbox, "Ada", "Lovelace").await;

    assert_eq!(again.status(), 200);
    let page = again.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Your account is ready"]);
    assert_eq!(
        texts(&page, "#username"),
        vec!["ada.lovelace.2@tenant.example"]
    );
    assert_eq!(fake.users().len(), 2);
}

/// The name query is answered from an index that may lag: a tagged user it missed is still
/// recognised when the create finds its name taken, and nothing is created.
#[tokio::test]
async fn a_tagged_user_the_name_query_missed_is_recognised_at_the_create() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let tag = tag_of("ada@uni.example");
    let id = fake.add_user_with_attribute(
        ADA,
        "Ada",
        "Lovelace",
        ("extensionAttribute15", tag.as_str()),
    );
    let scratch = tempfile::tempdir().unwrap();
    let app = app(
        &fake,
        &smtp,
        &fresh_store(Kind::Sled, scratch.path(), "s").await,
        &[],
    )
    .await;
    // Invisible to the next request about it: the name query.
    fake.lag_user(&id, 1);

    let page = sign_up_and_confirm(
        &app,
        &smtp,
        ("ada@uni.example", "ada@uni.example"),
        "Ada",
        "Lovelace",
    )
    .await;

    assert_existing(page, ADA, false).await;
    assert_eq!(
        fake.count(Endpoint::CreateUser),
        1,
        "the one refused create"
    );
    assert_eq!(
        fake.count(Endpoint::ListUsers),
        1,
        "recognised by the user the create ran into, not by asking again"
    );
    assert_eq!(fake.users().len(), 1, "no new user");
}

/// A user under the reserved name that carries another mailbox's tag is never adopted, even
/// with the same names and made just after the name was found free — the rule that alone
/// would have adopted it before tags.
#[tokio::test]
async fn a_user_under_the_reserved_name_with_another_mailboxs_tag_is_never_adopted() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let scratch = tempfile::tempdir().unwrap();
    let app = app(
        &fake,
        &smtp,
        &fresh_store(Kind::Sled, scratch.path(), "s").await,
        &[],
    )
    .await;
    let rival = tag_of("ada.other@uni.example");
    fake.race_create_with_attribute(
        ADA,
        "Ada",
        "Lovelace",
        ("extensionAttribute15", rival.as_str()),
    );

    let page = sign_up_and_confirm(
        &app,
        &smtp,
        ("ada@uni.example", "ada@uni.example"),
        "Ada",
        "Lovelace",
    )
    .await;

    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert_eq!(
        texts(&page, "#username"),
        vec!["ada.lovelace.2@tenant.example"]
    );
    let ours = fake
        .user("ada.lovelace.2@tenant.example")
        .expect("her own user");
    assert_eq!(
        ours.extension_attributes.get("extensionAttribute15"),
        Some(&tag_of("ada@uni.example").as_str().to_owned())
    );
}

/// When the queue finds the mailbox's account after the person left the button, a mail says
/// so, and the link shows it.
#[tokio::test]
async fn a_queued_confirm_that_finds_the_account_mails_the_person_and_the_link_shows_it() {
    crate::support::tools::require_tool!(Aiosmtpd);
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let tag = tag_of("ada@uni.example");
    fake.add_user_with_attribute(
        ADA,
        "Ada",
        "Lovelace",
        ("extensionAttribute15", tag.as_str()),
    );
    // Slower than the confirm's wait by a margin that load does not eat up.
    fake.delay(Endpoint::ListUsers, 1, Duration::from_secs(3));
    let scratch = tempfile::tempdir().unwrap();
    let store = fresh_store(Kind::Sled, scratch.path(), "s").await;
    let app = app(&fake, &smtp, &store, &[("PROVISION_WAIT_SECONDS", "1")]).await;

    let page = sign_up_and_confirm(
        &app,
        &smtp,
        ("ada@uni.example", "ada@uni.example"),
        "Ada",
        "Lovelace",
    )
    .await;

    assert_eq!(page.status(), 202, "queued");
    let mut mail = None;
    for _ in 0..100 {
        mail = newest(
            &smtp,
            "ada@uni.example",
            "This address already has an account",
        );
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mail = mail.expect("a mail saying the mailbox has its account");
    assert!(mail.text.contains(ADA), "{}", mail.text);
    assert!(mail.text.contains("contact support"), "{}", mail.text);
    let link = newest(&smtp, "ada@uni.example", "Confirm your sign-up")
        .unwrap()
        .verification_path();
    assert_existing(app.get(&link).await, ADA, false).await;
    assert_eq!(fake.count(Endpoint::CreateUser), 0);
}
