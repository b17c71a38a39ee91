//! Signing up with a voucher against the real server: the API's messages, the form
//! prefilled from a voucher's link, a voucher's own address filter, uses counted exactly
//! under concurrent confirms, and another voucher typed when the first ran out.

use std::path::Path;

use scraper::{Html, Selector};
use serde_json::{Value, json};

use crate::cli::{run_with, stdout};
use crate::support::helpers::TestApp;

/// Makes a voucher in the stopped server's store (as an operator does on sled); its code.
fn voucher(store: &Path, args: &[&str]) -> String {
    let mut all = vec!["vouchers", "create", "--json"];
    all.extend(args);
    let made: Value = serde_json::from_str(&stdout(&run_with(store, &all, &[]))).unwrap();
    made["code"].as_str().unwrap().to_owned()
}

async fn app(dir: tempfile::TempDir, mode: &str) -> TestApp {
    TestApp::builder()
        .store(dir)
        .env("VOUCHERS", mode)
        .env("EMAIL_ADDRESS_FILTER", r".*@uni\.example")
        .env("METRICS_ENABLED", "true")
        .spawn()
        .await
}

fn body(email: &str, voucher: Option<&str>) -> Value {
    let mut body = json!({ "firstName": "Ada", "lastName": "Lovelace", "email": email });
    if let Some(code) = voucher {
        body["voucher"] = json!(code);
    }
    body
}

/// The sign-up form's fields with a voucher, as a browser without JavaScript posts them.
fn fields<'a>(email: &'a str, first: &'a str, voucher: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("voucher", voucher),
        ("email", email),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", first),
        ("last_name", "Lovelace"),
        ("lang", "en"),
    ]
}

fn input_attr(html: &str, selector: &str, attr: &str) -> Option<String> {
    let page = Html::parse_document(html);
    let selector = Selector::parse(selector).unwrap();
    page.select(&selector)
        .next()
        .and_then(|input| input.value().attr(attr).map(str::to_owned))
}

#[tokio::test]
async fn the_api_says_voucher_invalid_or_used_up_and_sends_no_mail() {
    // Arrange: a voucher for one account, and a revoked one.
    let dir = tempfile::tempdir().unwrap();
    let one = voucher(dir.path(), &["--name", "Course", "--uses", "1"]);
    let revoked = voucher(dir.path(), &["--name", "Old"]);
    stdout(&run_with(
        dir.path(),
        &["vouchers", "revoke", &revoked],
        &[],
    ));
    let app = app(dir, "optional").await;
    let unknown = "2345-6789-ABCD-EFGH";

    // Act / Assert: wrong and revoked codes are invalid; none sends a mail.
    for code in [unknown, revoked.as_str(), "not a code"] {
        let (status, answer) = app
            .post_account_creation(&body("ada@uni.example", Some(code)), &[])
            .await;
        assert_eq!(
            (status, &answer["message"]),
            (400, &json!("Voucher invalid"))
        );
    }
    assert!(
        app.mails().await.is_empty(),
        "no mail for a refused voucher"
    );

    // Optional: without a voucher the defaults apply.
    let (status, _) = app
        .post_account_creation(&body("grace@uni.example", None), &[])
        .await;
    assert_eq!(status, 202);

    // The voucher's one use is taken at confirm; the next sign-up with it is refused,
    // in German too.
    let (status, _) = app
        .post_account_creation(&body("ada@uni.example", Some(&one.to_lowercase())), &[])
        .await;
    assert_eq!(status, 202, "any letter case");
    app.confirm(&app.verification_path("ada@uni.example").await)
        .await;
    let (status, answer) = app
        .post_account_creation(
            &body("alan@uni.example", Some(&one)),
            &[("accept-language", "de")],
        )
        .await;
    assert_eq!(status, 400);
    assert_ne!(answer["message"], "Voucher used up", "translated: {answer}");
    let (_, answer) = app
        .post_account_creation(&body("alan@uni.example", Some(&one)), &[])
        .await;
    assert_eq!(answer["message"], "Voucher used up");
}

#[tokio::test]
async fn required_vouchers_refuse_a_sign_up_without_one_next_to_the_field() {
    let app = app(tempfile::tempdir().unwrap(), "required").await;

    let (status, answer) = app
        .post_account_creation(&body("ada@uni.example", None), &[])
        .await;
    let page = app
        .post_signup(&fields("ada@uni.example", "Ada", ""))
        .await
        .text()
        .await
        .unwrap();

    assert_eq!(
        (status, &answer["message"]),
        (400, &json!("Voucher invalid"))
    );
    assert_eq!(
        input_attr(&page, "#voucher", "aria-describedby").as_deref(),
        Some("voucher-hint voucher-error"),
        "{page}"
    );
    assert!(input_attr(&page, "#voucher", "required").is_some());
    assert!(app.mails().await.is_empty());
}

#[tokio::test]
async fn a_vouchers_link_prefills_the_form_in_both_languages_with_its_address_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let guests = voucher(
        dir.path(),
        &["--name", "Guests", "--email-filter", r".*@partner\.example"],
    );
    let app = app(dir, "optional").await;

    for path in ["/", "/de"] {
        let page = app
            .get(&format!("{path}?voucher={guests}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(input_attr(&page, "#voucher", "value"), Some(guests.clone()));
        assert_eq!(
            input_attr(&page, "#email", "pattern").as_deref(),
            Some(r".*@partner\.example"),
            "{path}"
        );
    }
    // Without a voucher, the configured filter's pattern.
    let page = app.get_home().await.text().await.unwrap();
    assert_eq!(
        input_attr(&page, "#email", "pattern").as_deref(),
        Some(r".*@uni\.example")
    );
}

#[tokio::test]
async fn a_vouchers_own_filter_admits_a_guest_address_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let guests = voucher(
        dir.path(),
        &["--name", "Guests", "--email-filter", r".*@partner\.example"],
    );
    let app = app(dir, "optional").await;

    let without = app
        .post_account_creation(&body("guest@partner.example", None), &[])
        .await;
    let staff_with = app
        .post_account_creation(&body("ada@uni.example", Some(&guests)), &[])
        .await;
    let guest_with = app
        .post_account_creation(&body("guest@partner.example", Some(&guests)), &[])
        .await;

    assert_eq!(
        (without.0, &without.1["message"]),
        (400, &json!("Email illegal"))
    );
    assert_eq!(
        (staff_with.0, &staff_with.1["message"]),
        (400, &json!("Email illegal"))
    );
    assert_eq!(guest_with.0, 202, "{:?}", guest_with.1);
}

#[tokio::test]
async fn twenty_concurrent_confirms_on_a_three_use_voucher_make_three_accounts() {
    // Arrange: twenty sign-ups with one voucher for three accounts (each is admitted at
    // submit: no use is taken before confirm).
    let dir = tempfile::tempdir().unwrap();
    let code = voucher(dir.path(), &["--name", "Course 42", "--uses", "3"]);
    let spare = voucher(dir.path(), &["--name", "Spare"]);
    let app = app(dir, "optional").await;
    let firsts: Vec<String> = (0..20)
        .map(|i| format!("Ada{}", char::from(b'a' + i)))
        .collect();
    let mut paths = Vec::new();
    for (i, first) in firsts.iter().enumerate() {
        let email = format!("st{i}@uni.example");
        let sent = app.post_signup(&fields(&email, first, &code)).await;
        assert_eq!(sent.status(), 200, "{}", sent.text().await.unwrap());
        paths.push(app.verification_path(&email).await);
    }

    // Act: every link confirmed at once.
    let confirms = paths.iter().map(|path| app.confirm(path));
    let answers = futures_util::future::join_all(confirms).await;

    // Assert: three accounts; the others see a page to type another voucher.
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        17,
        "{statuses:?}"
    );
    let refused = paths
        .iter()
        .zip(&statuses)
        .find(|(_, status)| **status == 409)
        .map(|(path, _)| path.clone())
        .unwrap();
    let page = app.confirm(&refused).await.text().await.unwrap();
    assert!(page.contains("This voucher has been used up"), "{page}");
    assert!(input_attr(&page, "input[name=voucher]", "name").is_some());

    // The mail is not wasted: another voucher on the same link makes the account.
    let with_spare = app
        .post_form(&refused, &[("lang", "en"), ("voucher", &spare)])
        .await;
    assert_eq!(
        with_spare.status(),
        200,
        "{}",
        with_spare.text().await.unwrap()
    );
    let metrics = app.get_metrics().await.text().await.unwrap();
    assert!(
        metrics.contains(r#"ms365_voucher_accounts_total{voucher="Course 42"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"ms365_voucher_accounts_total{voucher="Spare"} 1"#),
        "{metrics}"
    );
}
