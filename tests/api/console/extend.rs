//! Extending an account from the console: its end, shown on the accounts page, moves later,
//! and the audit log has the one line of it.

use ms365_accountcreator::domain::Day;

use crate::support::helpers::{TestApp, texts};

use super::{Console, paths};

/// The end the accounts page shows for `email`.
async fn shown_end(console: &Console, cookie: &str, email: &str) -> String {
    let page = console
        .get(&format!("{}?email={email}", paths::ACCOUNTS), cookie)
        .await;
    let page = page.text().await.unwrap();
    texts(&page, "dd.account-end").concat()
}

#[tokio::test]
async fn extending_an_account_moves_its_end_and_leaves_an_audit_line() {
    // Arrange
    let builder = TestApp::builder().env("ACCOUNT_LIFETIME_DAYS", "365");
    let console = Console::start_with(builder).await;
    console.member();
    let cookie = console.sign_in().await;
    console
        .app
        .create_account("bob@uni.example", "Bob", "Builder")
        .await;
    let before = shown_end(&console, &cookie, "bob@uni.example").await;
    let before = Day::parse(&before).unwrap_or_else(|_| panic!("an end: {before:?}"));
    let page = console
        .get(
            &format!("{}?email=bob@uni.example", paths::ACCOUNTS),
            &cookie,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&page, "form.extend label"), ["Extend by (days)"]);
    let audited = console.audit(&cookie).await.len();

    // Act
    let fields = [("email", "bob@uni.example"), ("days", "30")];
    let extended = console.post(paths::EXTEND, &cookie, &fields).await;

    // Assert
    assert_eq!(extended.status(), 200);
    let answer = extended.text().await.unwrap();
    let after = before.plus(30).to_string();
    let notice = texts(&answer, "[role=status]").concat();
    assert!(
        notice.ends_with(&format!("now ends on {after}.")),
        "{notice}"
    );
    assert_eq!(shown_end(&console, &cookie, "bob@uni.example").await, after);
    let lines = console.audit(&cookie).await;
    assert_eq!(lines.len(), audited + 1, "{lines:#?}");
    let line = &lines[audited];
    assert_eq!(line["action"], "extend");
    assert_eq!(line["detail"], format!("end moved to {after}").as_str());
    assert_eq!(line["actor"]["source"], "console", "{line}");
    assert!(
        line["subject"]
            .as_str()
            .unwrap()
            .starts_with("bob.builder@")
    );
    assert!(line["client"].is_string(), "{line}");
}

#[tokio::test]
async fn a_bad_number_of_days_moves_nothing() {
    let builder = TestApp::builder().env("ACCOUNT_LIFETIME_DAYS", "365");
    let console = Console::start_with(builder).await;
    console.member();
    let cookie = console.sign_in().await;
    console
        .app
        .create_account("bob@uni.example", "Bob", "Builder")
        .await;
    let before = shown_end(&console, &cookie, "bob@uni.example").await;
    let audited = console.audit(&cookie).await.len();

    for days in ["0", "-3", "many", "99999"] {
        let fields = [("email", "bob@uni.example"), ("days", days)];
        let answer = console.post(paths::EXTEND, &cookie, &fields).await;
        let answer = answer.text().await.unwrap();
        assert!(
            texts(&answer, "[role=status]")[0].starts_with("Enter how many days"),
            "{days}: {answer}"
        );
    }

    assert_eq!(
        shown_end(&console, &cookie, "bob@uni.example").await,
        before
    );
    assert_eq!(console.audit(&cookie).await.len(), audited);
}
