//! `emails tag-existing`: accounts made before tags (here: imported from an `emails export`
//! with their object ids) get their tag; users tagged already are only read; a value
//! somebody else keeps in the attribute is left alone; imported addresses without an object
//! id are listed, not guessed; every write waits for the write budget.

use super::*;

/// An `emails export` of registrations whose users exist (`object_id` may be empty).
fn export(dir: &Path, rows: &[(&str, &str, &str)]) -> String {
    let mut csv = String::from(
        "email,state,user_principal_name,object_id,registered_at,consent_email_at,consent_name_at,updated_at\n",
    );
    for (email, upn, object_id) in rows {
        csv.push_str(&format!(
            "{email},done,{upn},{object_id},1700000000,1700000000,1700000000,1700000000\n"
        ));
    }
    let path = dir.join("export.csv");
    std::fs::write(&path, csv).unwrap();
    path.to_string_lossy().into_owned()
}

/// The fake Graph's settings for a command.
fn graph_env(fake: &FakeGraph, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = crate::graph::env(fake, &[], &[]);
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

fn attribute(fake: &FakeGraph, upn: &str) -> Option<String> {
    fake.user(upn)?
        .extension_attributes
        .get("extensionAttribute15")
        .cloned()
}

async fn tag_existing_tags_what_it_knows_and_lists_the_rest(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: users made before tags, one tagged already, one whose attribute holds an
    // administrator's value, one tagged under another secret, one deleted since.
    let fake = FakeGraph::start().await;
    let anna = fake.add_user("anna.alt@tenant.example", "Anna", "Alt");
    let bert = fake.add_user_with_attribute(
        "bert.alt@tenant.example",
        "Bert",
        "Alt",
        ("extensionAttribute15", tag_of("bert@uni.example").as_str()),
    );
    let carl = fake.add_user_with_attribute(
        "carl.alt@tenant.example",
        "Carl",
        "Alt",
        ("extensionAttribute15", "cost centre 4711"),
    );
    let stale = "mt1.00112233445566778899aabbccddeeff";
    let frank = fake.add_user_with_attribute(
        "frank.alt@tenant.example",
        "Frank",
        "Alt",
        ("extensionAttribute15", stale),
    );
    let deleted = "00000000-0000-4000-8000-0000000000dd";
    let scratch = tempfile::tempdir().unwrap();
    let store = fresh_store(kind, scratch.path(), "store").await;
    let file = export(
        scratch.path(),
        &[
            ("anna@uni.example", "anna.alt@tenant.example", anna.as_str()),
            ("bert@uni.example", "bert.alt@tenant.example", bert.as_str()),
            ("carl@uni.example", "carl.alt@tenant.example", carl.as_str()),
            ("dora@uni.example", "dora.alt@tenant.example", deleted),
            ("eva@uni.example", "", ""),
            (
                "frank@uni.example",
                "frank.alt@tenant.example",
                frank.as_str(),
            ),
        ],
    );
    stdout(&cli(&store, &[], &["emails", "import", &file]).await);
    let env = graph_env(&fake, &[]);

    // Act
    let first = stdout(&cli(&store, &env, &["emails", "tag-existing"]).await);
    let writes = fake.count(Endpoint::UpdateUser);
    let second = stdout(&cli(&store, &env, &["emails", "tag-existing"]).await);

    // Assert: tagged, each with its own mailbox's tag.
    for (upn, mailbox) in [
        ("anna.alt@tenant.example", "anna@uni.example"),
        ("frank.alt@tenant.example", "frank@uni.example"),
    ] {
        assert_eq!(
            attribute(&fake, upn).as_deref(),
            Some(tag_of(mailbox).as_str()),
            "{upn}"
        );
    }
    assert_eq!(
        attribute(&fake, "carl.alt@tenant.example").as_deref(),
        Some("cost centre 4711")
    );
    assert_eq!(writes, 2, "Anna and Frank; Bert was read only");
    assert!(first.contains("tagged 5/5"), "{first}");
    assert!(
        first.contains("2 written, 1 had their tag already"),
        "{first}"
    );
    for listed in ["dora@uni.example", "carl@uni.example", "eva@uni.example"] {
        assert!(first.contains(listed), "{listed} is listed: {first}");
    }
    assert!(
        first.contains("1 imported without an object id, not tagged"),
        "{first}"
    );
    // Idempotent: the second run only reads.
    assert_eq!(fake.count(Endpoint::UpdateUser), writes);
    assert!(
        second.contains("0 written, 3 had their tag already"),
        "{second}"
    );

    // And the point of it: a store that lost Anna's registration still knows her account.
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let empty = fresh_store(Kind::Sled, scratch.path(), "empty").await;
    let server = app(&fake, &smtp, &empty, &[]).await;
    let anna_again = ("anna@uni.example", "anna@uni.example");
    let page = sign_up_and_confirm(&server, &smtp, anna_again, "Anna", "Alt").await;
    assert_existing(page, "anna.alt@tenant.example", false).await;
    assert_eq!(fake.count(Endpoint::CreateUser), 0);
}

#[tokio::test]
async fn tag_existing_on_sled_tags_what_it_knows_is_idempotent_and_lists_the_rest() {
    tag_existing_tags_what_it_knows_and_lists_the_rest(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn tag_existing_on_postgres_tags_what_it_knows_is_idempotent_and_lists_the_rest() {
    tag_existing_tags_what_it_knows_and_lists_the_rest(Kind::Postgres).await;
}

/// 120 writes a minute are two a second, with two saved up: eight writes take three seconds.
/// The fake enforces five a second, as Microsoft enforces its limit: unpaced, the writes
/// would draw 429s.
#[tokio::test]
async fn tag_existing_waits_for_the_write_budget() {
    // Arrange
    let fake = FakeGraph::start().await;
    fake.write_budget(5, Duration::from_secs(1));
    let scratch = tempfile::tempdir().unwrap();
    let rows: Vec<(String, String, String)> = (0..8)
        .map(|n| {
            let upn = format!("user{n}@tenant.example");
            let id = fake.add_user(&upn, "User", &format!("Number{n}"));
            (format!("user{n}@uni.example"), upn, id)
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    let file = export(scratch.path(), &borrowed);
    let store = fresh_store(Kind::Sled, scratch.path(), "store").await;
    stdout(&cli(&store, &[], &["emails", "import", &file]).await);
    let env = graph_env(&fake, &[("GRAPH_API_WRITES_PER_MINUTE", "120")]);

    // Act
    let out = stdout(&cli(&store, &env, &["emails", "tag-existing"]).await);

    // Assert
    assert!(
        out.contains("tagged 8/8") && out.contains("8 written"),
        "{out}"
    );
    assert_eq!(fake.throttled(), 0, "no write drew a 429");
    let writes: Vec<std::time::Instant> = fake
        .requests()
        .into_iter()
        .filter(|(_, endpoint, _)| *endpoint == Endpoint::UpdateUser)
        .map(|(at, ..)| at)
        .collect();
    assert_eq!(writes.len(), 8);
    let span = *writes.last().unwrap() - writes[0];
    assert!(span >= Duration::from_millis(2500), "paced over {span:?}");
}
