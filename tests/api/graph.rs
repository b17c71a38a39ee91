//! The Graph client against the fake Graph over real sockets: whole sign-ups through the
//! server (`sign_up`), and the client on its own for the cases a sign-up cannot stage
//! (`client`).

mod accounts;
mod check_command;
mod client;
mod log_secrets;
mod passes;
mod queue;
mod seat_wait;
mod seats;
mod sign_up;
mod tap_queue;
mod tap_sign_up;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ms365_accountcreator::directory::{
    Directory, DirectoryError, DirectoryUser, Grants, MailboxTag, MailboxTagger, NameQuery,
    NewUser, SimulatedDirectory,
};
use ms365_accountcreator::domain::{MailNickname, PersonName};
use ms365_accountcreator::graph::{GraphClient, GraphSettings, RetryPolicy, TagAttribute};
use ms365_accountcreator::startup::Overrides;
use secrecy::SecretString;

use crate::support::fake_graph::{
    CLIENT_ID, DOMAIN, Endpoint, FakeGraph, fixture, openssl_thumbprint,
};
use crate::support::helpers::{Logs, TestApp, password_in, texts};

// --- arrangement ---

/// The server's environment pointing at the fake, with the PKCS#1 key and the certificate.
pub(crate) fn env(fake: &FakeGraph, groups: &[String], skus: &[String]) -> Vec<(String, String)> {
    [
        ("DEBUG_DONT_CONNECT_TO_API", "false".to_owned()),
        ("GRAPH_API_URL", fake.base.clone()),
        ("GRAPH_API_AUTH_AUTHORITY", fake.authority()),
        ("GRAPH_API_AUTH_CLIENT_ID", CLIENT_ID.to_owned()),
        (
            "GRAPH_API_AUTH_PRIVKEY_PATH",
            fixture("graph-test-key.pkcs1.pem"),
        ),
        ("GRAPH_API_AUTH_CERT_PATH", fixture("graph-test-cert.pem")),
        ("GRAPH_API_GROUPS_FOR_NEW_USERS", groups.join(",")),
        ("GRAPH_API_LICENSE_SKUS", skus.join(",")),
        ("GRAPH_API_USAGE_LOCATION", "DE".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Client settings for the fake, as the server would build them.
pub(crate) fn settings(fake: &FakeGraph, groups: &[String], skus: &[String]) -> GraphSettings {
    GraphSettings {
        writes_per_minute: 1000,
        api_url: url::Url::parse(&fake.base).unwrap(),
        authority: url::Url::parse(&fake.authority()).unwrap(),
        client_id: CLIENT_ID.into(),
        pubkey_thumbprint: None,
        privkey_path: fixture("graph-test-key.pkcs1.pem").into(),
        cert_path: Some(fixture("graph-test-cert.pem").into()),
        user_mail_domain: DOMAIN.into(),
        groups_for_new_users: groups.to_vec(),
        license_skus: skus.to_vec(),
        usage_location: "DE".into(),
        timeout: Duration::from_secs(5),
        mailbox_tag_attribute: TagAttribute::default(),
    }
}

/// Short waits, so tests of retries take milliseconds where Graph gives no Retry-After.
fn quick(deadline: Duration) -> RetryPolicy {
    RetryPolicy {
        deadline,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_lag_retries: 6,
    }
}

pub(crate) fn client(settings: &GraphSettings, deadline: Duration) -> GraphClient {
    GraphClient::from_settings(settings)
        .expect("the client builds")
        .with_retry_policy(quick(deadline))
}

/// Signs up, opens the mail's link and presses the confirm button.
async fn sign_up_and_confirm(
    app: &TestApp,
    email: &str,
    first: &str,
    last: &str,
) -> reqwest::Response {
    app.sign_up(email, first, last).await;
    confirm(app, email, "en").await
}

async fn confirm(app: &TestApp, email: &str, lang: &str) -> reqwest::Response {
    let path = app.verification_path(email).await;
    app.confirm_in(&path, lang).await
}

async fn assert_ready(response: reqwest::Response, username: &str) {
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["Your account is ready"]);
    assert_eq!(texts(&page, "#username"), vec![username]);
}

fn nickname(first: &str, last: &str) -> MailNickname {
    MailNickname::derive(
        &PersonName::parse(first).unwrap(),
        &PersonName::parse(last).unwrap(),
    )
    .unwrap()
}

/// Ada Lovelace created under her first username: where most client tests start.
pub(crate) async fn created_user(graph: &GraphClient) -> Result<DirectoryUser, DirectoryError> {
    let nick = nickname("Ada", "Lovelace");
    graph
        .create_user(&new_user(
            "Ada",
            "Lovelace",
            "ada.lovelace@tenant.example",
            &nick,
        ))
        .await
}

/// The tag of a mailbox under the TEST mode's secret (`MAILBOX_TAG_SECRET = "test"`), as
/// the server computes it.
pub(crate) fn tag_of(mailbox: &str) -> MailboxTag {
    MailboxTagger::new(&SecretString::from("test")).tag(mailbox)
}

/// The free name the name query finds for a mailbox nobody has tagged a user for.
async fn free_name(
    directory: &dyn Directory,
    nick: &MailNickname,
    taken: &[String],
) -> Result<String, DirectoryError> {
    match directory
        .free_user_principal_name(nick, taken, &tag_of("nobody@uni.example"))
        .await?
    {
        NameQuery::Free(free) => Ok(free.user_principal_name),
        NameQuery::Tagged(user) => panic!("no user carries this tag, yet {user:?}"),
    }
}

fn new_user<'a>(
    given: &'a str,
    surname: &'a str,
    upn: &'a str,
    nickname: &'a MailNickname,
) -> NewUser<'a> {
    static PASSWORD: std::sync::LazyLock<SecretString> =
        std::sync::LazyLock::new(|| SecretString::from("!1Aa-test-password"));
    static TAG: std::sync::LazyLock<MailboxTag> =
        std::sync::LazyLock::new(|| tag_of("ada@uni.example"));
    NewUser {
        given_name: given,
        surname,
        nickname,
        user_principal_name: upn,
        password: &PASSWORD,
        tag: &TAG,
    }
}
