//! One person, one account, and only theirs: same-named people confirming together each get
//! their own user and the password that works for it; a user someone else made under the
//! chosen name is never adopted; and no password can be read back from the store's files.

use std::collections::HashSet;

use futures_util::future::join_all;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::helpers::{TestApp, password_in, texts};
use crate::support::smtp::{ReceivedMail, SmtpMode, SmtpServer};
use crate::support::spawn::AppBuilder;

const SECRET: &str = "one-account-test-secret-of-32-bytes!";

/// A server against `fake`, with room for many sign-ups from one client and a known secret.
fn against(fake: &FakeGraph) -> AppBuilder {
    TestApp::builder()
        .envs(&crate::graph::env(fake, &[], &[]))
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "100000")
        .env("JWT_SECRET_KEY", SECRET)
}

fn mail_to<'a>(mails: &'a [ReceivedMail], email: &str, subject: &str) -> &'a ReceivedMail {
    mails
        .iter()
        .rev()
        .find(|m| m.to == [email] && m.subject == subject)
        .unwrap_or_else(|| panic!("no mail {subject:?} to {email}"))
}

/// What one person saw and received.
struct Outcome {
    email: String,
    first: String,
    last: String,
    username: String,
}

#[tokio::test]
async fn same_named_people_confirming_together_each_get_their_own_user_and_working_password() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Graph slow enough that name queries and creates overlap.
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let app = against(&fake).smtp(&smtp).spawn().await;
    let others = [
        "Ada", "Bob", "Cem", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jule",
    ];
    let mut created = 0;
    for round in 0..3 {
        let mut people = Vec::new();
        for (n, other) in others.iter().enumerate() {
            people.push((format!("lena{round}x{n}@uni.example"), "Lena", "Gleich"));
            people.push((format!("other{round}x{n}@uni.example"), other, "Gleich"));
        }
        let before = smtp.received().len();
        for (email, first, last) in &people {
            let page = app.sign_up(email, first, last).await;
            assert_eq!(page.status(), 200, "{email}");
        }
        let mails = smtp.wait_for(before + people.len()).await;
        let paths: Vec<String> = people
            .iter()
            .map(|(email, ..)| mail_to(&mails, email, "Confirm your sign-up").verification_path())
            .collect();
        fake.delay(
            Endpoint::ListUsers,
            40,
            std::time::Duration::from_millis(30),
        );
        fake.delay(
            Endpoint::CreateUser,
            40,
            std::time::Duration::from_millis(30),
        );

        // Act: everybody confirms at once.
        let pages = join_all(paths.iter().map(|path| app.confirm(path))).await;

        // Assert
        let mut outcomes = Vec::new();
        for (response, (email, first, last)) in pages.into_iter().zip(&people) {
            assert_eq!(response.status(), 200, "{email}");
            let usernames = texts(&response.text().await.unwrap(), "#username");
            assert_eq!(usernames.len(), 1, "{email}: {usernames:?}");
            outcomes.push(Outcome {
                email: email.clone(),
                first: (*first).to_owned(),
                last: (*last).to_owned(),
                username: usernames[0].clone(),
            });
        }
        created += people.len();
        assert_eq!(fake.users().len(), created, "round {round}: one user each");
        let distinct: HashSet<&str> = outcomes.iter().map(|o| o.username.as_str()).collect();
        assert_eq!(
            distinct.len(),
            outcomes.len(),
            "round {round}: every page names its own user"
        );
        let mails = smtp.received();
        for outcome in &outcomes {
            let user = fake
                .user(&outcome.username)
                .unwrap_or_else(|| panic!("{} was not created", outcome.username));
            assert_eq!(user.given_name.as_deref(), Some(outcome.first.as_str()));
            assert_eq!(user.surname.as_deref(), Some(outcome.last.as_str()));
            let mail = mail_to(&mails, &outcome.email, "Your new account");
            assert!(
                mail.text.contains(&outcome.username),
                "{}: {}",
                outcome.email,
                mail.text
            );
            assert_eq!(
                password_in(&mail.text),
                fake.password_of(&outcome.username),
                "{}: the mailed password is the user's",
                outcome.email
            );
        }
        fake.clear_faults();
    }
    assert_eq!(
        fake.count(Endpoint::UpdateUser),
        0,
        "nobody's password had to be set again"
    );
}

#[tokio::test]
async fn a_user_an_administrator_made_under_the_name_is_not_adopted() {
    // Arrange: made yesterday with the same names, and not yet in the name query's answer.
    let fake = FakeGraph::start().await;
    let theirs = fake.add_user_lagging("ada.lovelace@tenant.example", "Ada", "Lovelace", 1);
    let app = against(&fake).spawn().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;

    // Act
    let page = app.confirm(&path).await;

    // Assert
    assert_eq!(page.status(), 200);
    assert_eq!(
        texts(&page.text().await.unwrap(), "#username"),
        vec!["ada.lovelace.2@tenant.example"]
    );
    assert_eq!(fake.users().len(), 2);
    let admins = fake.user("ada.lovelace@tenant.example").unwrap();
    assert_eq!(admins.id, theirs);
    assert_eq!(admins.password, None, "their password untouched");
    let mails = app.mails().await;
    let password_mail = mails
        .iter()
        .find(|m| m.subject == "Your new account")
        .expect("a password mail");
    assert!(password_mail.text.contains("ada.lovelace.2@tenant.example"));
    assert_eq!(
        password_in(&password_mail.text),
        fake.password_of("ada.lovelace.2@tenant.example")
    );
}

/// Opens what an earlier version sealed into the store (ChaCha20-Poly1305 under a key
/// derived from `JWT_SECRET_KEY`, the address as associated data): what an attacker with the
/// store's files and the secret would try.
fn open_sealed(sealed: &[u8], owner: &str) -> Option<String> {
    let salt = ring::hkdf::Salt::new(
        ring::hkdf::HKDF_SHA256,
        b"ms365-accountcreator/password-at-rest/v1",
    );
    let prk = salt.extract(SECRET.as_bytes());
    let okm = prk
        .expand(&[b"chacha20-poly1305"], &CHACHA20_POLY1305)
        .ok()?;
    let key = LessSafeKey::new(UnboundKey::from(okm));
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let mut buffer = ciphertext.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(owner.as_bytes()),
            &mut buffer,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// Every byte array written as a JSON list of numbers after `"sealed_password":`.
fn sealed_values(raw: &[u8]) -> Vec<Vec<u8>> {
    let marker = b"\"sealed_password\":[";
    let mut found = Vec::new();
    let mut rest = raw;
    while let Some(at) = rest.windows(marker.len()).position(|w| w == marker) {
        rest = &rest[at + marker.len()..];
        let end = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        let numbers = String::from_utf8_lossy(&rest[..end]);
        found.push(
            numbers
                .split(',')
                .filter_map(|n| n.trim().parse::<u8>().ok())
                .collect(),
        );
    }
    found
}

#[tokio::test]
async fn the_store_files_hold_no_password_after_the_sign_ups_are_done() {
    // Arrange
    let fake = FakeGraph::start().await;
    let mut app = against(&fake).spawn().await;
    let people: Vec<String> = (0..12).map(|n| format!("st{n}@uni.example")).collect();
    for (n, email) in people.iter().enumerate() {
        let last = format!("Lovelace{}", char::from(b'a' + n as u8));
        app.sign_up(email, "Ada", &last).await;
        let path = app.verification_path(email).await;
        assert_eq!(app.confirm(&path).await.status(), 200);
    }
    let passwords: Vec<(String, String)> = fake
        .users()
        .into_iter()
        .map(|user| (user.upn.clone(), user.password.expect("a password")))
        .collect();
    assert_eq!(passwords.len(), people.len());

    // Act: the store as it lies on disk once the server has stopped.
    let store = app.stop().await;
    let mut raw = Vec::new();
    for entry in walk(store.path()) {
        raw.extend(std::fs::read(entry).unwrap());
    }

    // Assert
    assert!(!raw.is_empty(), "the store was written");
    for (upn, password) in &passwords {
        assert!(
            !raw.windows(password.len())
                .any(|w| w == password.as_bytes()),
            "{upn}'s password lies in the store"
        );
    }
    let opened: Vec<String> = sealed_values(&raw)
        .iter()
        .flat_map(|sealed| people.iter().filter_map(|email| open_sealed(sealed, email)))
        .collect();
    assert!(
        opened.is_empty(),
        "{} passwords decrypted from the store",
        opened.len()
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
