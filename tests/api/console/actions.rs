//! The console's pages and actions on a running server (on sled: nothing is stopped), each
//! action with its one audit line.

use crate::support::fake_graph::Endpoint;
use crate::support::helpers::{attr, texts};
use crate::support::routes::HTMX;

use super::{Console, paths};

/// Ada confirmed, but Graph refused her user for good: her registration stopped.
async fn stopped_sign_up(console: &Console) {
    let app = &console.app;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let link = app.verification_path("ada@uni.example").await;
    console.graph.fail(Endpoint::CreateUser, 1, 400);
    app.confirm(&link).await;
}

#[tokio::test]
async fn a_stopped_sign_up_is_listed_and_retried_from_the_console() {
    // Arrange
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;
    stopped_sign_up(&console).await;

    // Act
    let listed = console
        .get(paths::SIGNUPS, &cookie)
        .await
        .text()
        .await
        .unwrap();
    let id = attr(&listed, "form input[name=id]", "value").expect("a retry button");
    let retried = console.post(paths::RETRY, &cookie, &[("id", &id)]).await;

    // Assert
    assert_eq!(texts(&listed, "tbody th"), ["ada@uni.example"], "{listed}");
    assert_eq!(retried.status(), 200);
    let page = retried.text().await.unwrap();
    assert_eq!(texts(&page, "[role=status]").len(), 1, "{page}");
    let lines = console.audit(&cookie).await;
    let retry: Vec<_> = lines.iter().filter(|l| l["action"] == "retry").collect();
    assert_eq!(retry.len(), 1, "{lines:#?}");
    assert_eq!(retry[0]["subject"], id.as_str());
    // The running server's worker finishes the account.
    let mut state = String::new();
    for _ in 0..100 {
        let found = console
            .get(
                &format!("{}?email=ada@uni.example", paths::ACCOUNTS),
                &cookie,
            )
            .await;
        state = texts(&found.text().await.unwrap(), "dl dd").join(" | ");
        if state.starts_with("account created") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(state.starts_with("account created"), "{state}");
    let nothing = console.post(paths::RETRY, &cookie, &[("id", &id)]).await;
    let nothing = nothing.text().await.unwrap();
    assert_eq!(
        texts(&nothing, "[role=status]"),
        ["This registration is finished already."]
    );
    assert_eq!(
        console.audit(&cookie).await.len(),
        lines.len(),
        "no line for no action"
    );
}

#[tokio::test]
async fn an_address_is_found_in_any_spelling_and_forgotten_after_a_confirmation() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;
    console
        .app
        .create_account("bob@uni.example", "Bob", "Builder")
        .await;
    let find = |email: &str| format!("{}?email={email}", paths::ACCOUNTS);

    let found = console.get(&find("BOB%2Bx@uni.example"), &cookie).await;
    let found = found.text().await.unwrap();
    let upn = texts(&found, "dl dd code")[0].clone();
    assert!(upn.starts_with("bob.builder@"), "{found}");
    let confirm = console
        .get(&format!("{}?email=bob@uni.example", paths::FORGET), &cookie)
        .await;
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert_eq!(texts(&confirm, "h1"), ["Forget this address?"]);
    let asked = console
        .post(paths::FORGET, &cookie, &[("email", "bob@uni.example")])
        .await;
    assert_eq!(
        texts(&asked.text().await.unwrap(), "h1"),
        ["Forget this address?"]
    );
    assert_eq!(console.audit(&cookie).await.len(), 1, "not yet");

    let fields = [("email", "bob@uni.example"), ("confirm", "yes")];
    let forgotten = console.post(paths::FORGET, &cookie, &fields).await;

    assert_eq!(forgotten.status(), 200);
    let gone = console.get(&find("bob@uni.example"), &cookie).await;
    let gone = gone.text().await.unwrap();
    assert!(texts(&gone, ".found [role=status]")[0].starts_with("Nothing is stored"));
    let lines = console.audit(&cookie).await;
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[1]["action"], "forget");
    assert_eq!(lines[1]["subject"], upn.as_str());
    let text = serde_json::to_string(&lines).unwrap();
    assert!(
        !text.contains("bob@uni.example"),
        "the address itself is not kept: {text}"
    );
}

#[tokio::test]
async fn the_audit_log_shows_newest_first_filtered_by_action_and_operator() {
    let console = Console::start().await;
    let grace = console.member();
    let first = console.sign_in().await;
    console.post(paths::SIGN_OUT, &first, &[]).await;
    let cookie = console.sign_in().await;

    let all = console
        .get(paths::AUDIT, &cookie)
        .await
        .text()
        .await
        .unwrap();
    let only = format!("{}?action=sign_out&operator={}", paths::AUDIT, grace.upn);
    let filtered = console.get(&only, &cookie).await.text().await.unwrap();
    let nobody = format!("{}?operator=someone.else", paths::AUDIT);
    let nobody = console.get(&nobody, &cookie).await.text().await.unwrap();

    assert_eq!(texts(&all, "tbody tr").len(), 3, "{all}");
    let actions = |html: &str| texts(html, "tbody td.audit-action");
    assert_eq!(actions(&all), ["signed in", "signed out", "signed in"]);
    assert_eq!(actions(&filtered), ["signed out"]);
    assert!(actions(&nobody).is_empty());
}

#[tokio::test]
async fn with_htmx_a_page_is_the_consoles_region_alone() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;
    let mut headers = HTMX.to_vec();
    headers.push(("cookie", &cookie));

    for path in [paths::ADMIN, paths::SIGNUPS, paths::ACCOUNTS, paths::AUDIT] {
        let fragment = console.app.get_with(path, &headers).await;
        assert_eq!(fragment.status(), 200, "{path}");
        let html = fragment.text().await.unwrap();
        assert!(!html.contains("<html"), "{path}: {html}");
        assert_eq!(
            attr(&html, "body > div", "id").as_deref(),
            Some("console"),
            "{path}"
        );
    }
}
