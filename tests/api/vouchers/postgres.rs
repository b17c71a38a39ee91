//! Vouchers on PostgreSQL with two servers on one database: uses counted exactly across
//! instances.

use futures_util::future::join_all;
use serde_json::Value;

use crate::cli::{run_with, stdout};
use crate::support::helpers::TestApp;
use crate::support::mails::verification_path_among;
use crate::support::postgres;

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn twenty_confirms_split_across_two_servers_on_a_three_use_voucher_make_three_accounts() {
    // Arrange: the voucher made with the CLI beside the database; twenty sign-ups with it.
    let url = postgres::fresh_database("vouchers_two_servers_three_uses").await;
    let one = TestApp::builder()
        .database(&url)
        .env("VOUCHERS", "required")
        .spawn()
        .await;
    let two = TestApp::builder()
        .database(&url)
        .env("VOUCHERS", "required")
        .spawn()
        .await;
    let scratch = tempfile::tempdir().unwrap();
    let made = run_with(
        scratch.path(),
        &[
            "vouchers", "create", "--name", "Course", "--uses", "3", "--json",
        ],
        &[("DATABASE_URL", &url)],
    );
    let made: Value = serde_json::from_str(&stdout(&made)).unwrap();
    let code = made["code"].as_str().unwrap();
    let mut paths = Vec::new();
    for i in 0..20u8 {
        let email = format!("st{i}@uni.example");
        let first = format!("Ada{}", char::from(b'a' + i));
        let body = serde_json::json!({
            "firstName": first, "lastName": "Lovelace", "email": email, "voucher": code
        });
        assert_eq!(one.post_account_creation(&body, &[]).await.0, 202);
        // Both servers' workers send from the one outbox: the mail is in either list.
        let bases = [one.address.as_str(), two.address.as_str()];
        paths.push(verification_path_among(&bases, &email).await);
    }

    // Act: every link confirmed at once, alternately at either server.
    let confirms = paths.iter().enumerate().map(|(i, path)| {
        let app = if i % 2 == 0 { &one } else { &two };
        app.confirm(path)
    });
    let statuses: Vec<u16> = join_all(confirms)
        .await
        .iter()
        .map(|answer| answer.status().as_u16())
        .collect();

    // Assert
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
    let listed = run_with(
        scratch.path(),
        &["vouchers", "list", "--json"],
        &[("DATABASE_URL", &url)],
    );
    let listed: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(listed[0]["used"], 3, "{listed}");
}
