//! A voucher sets the end of the accounts made with it (issue 26, points 1 and 5): its
//! lifetime, or its end date; an end date no re-verification can prevent is announced by a
//! warning mail `LIFECYCLE_WARN_DAYS` before, once.

use super::reverify::{GRACE, grace_signs_up, lifecycle_with, plan_with, server};
use super::*;

/// A voucher made with `terms` (`--lifetime-days 10`, `--ends-on 2027-02-28`): its code.
async fn voucher(tenant: &Tenant, terms: &[&str]) -> String {
    let mut args = vec!["vouchers", "create", "--json", "--name", "Guests"];
    args.extend_from_slice(terms);
    let made = stdout(&cli(&tenant.store, &[], &args).await);
    let made: serde_json::Value = serde_json::from_str(&made).unwrap();
    made["code"].as_str().unwrap().to_owned()
}

/// Grace signs up with the voucher `code` on 2027-01-15.
async fn grace_signs_up_with(tenant: &Tenant, code: &str) {
    let mut app = server(tenant, 0, &[("VOUCHERS", "optional")]).await;
    grace_signs_up(&app, tenant, Some(code)).await;
    app.stop().await;
}

async fn a_vouchers_lifetime_is_the_accounts_end(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: a voucher whose accounts live 10 days.
    let tenant = Tenant::new(kind).await;
    let code = voucher(&tenant, &["--lifetime-days", "10"]).await;

    // Act: Grace signs up with it on 2027-01-15.
    grace_signs_up_with(&tenant, &code).await;

    // Assert: her account is disabled on 2027-01-25, and nothing is due the day before.
    assert_eq!(plan_with(&tenant, &[], "2027-01-24").await, []);
    assert_eq!(
        plan_with(&tenant, &[], "2027-01-25").await,
        [line(GRACE, "disable", "2027-01-25")]
    );
}

#[tokio::test]
async fn on_sled_a_vouchers_lifetime_is_the_accounts_end() {
    a_vouchers_lifetime_is_the_accounts_end(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_a_vouchers_lifetime_is_the_accounts_end() {
    a_vouchers_lifetime_is_the_accounts_end(Kind::Postgres).await;
}

/// A warning 14 days before an end, on top of the re-verification every 30 days.
const WARNED: [(&str, &str); 1] = [("LIFECYCLE_WARN_DAYS", "14")];

async fn a_vouchers_end_date_is_announced_once_and_ends_the_account(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Grace's account, made on 2027-01-15 with a voucher whose accounts end after
    // 2027-02-28; her mailbox would be asked again on 2027-02-14, but an answer could not
    // keep the account past its end.
    let tenant = Tenant::new(kind).await;
    let code = voucher(&tenant, &["--ends-on", "2027-02-28"]).await;
    grace_signs_up_with(&tenant, &code).await;
    let mails_before = tenant.mails_to("grace@uni.example").len();
    let writes_before = tenant.fake.writes();
    assert_eq!(plan_with(&tenant, &WARNED, "2027-02-14").await, []);
    assert_eq!(
        plan_with(&tenant, &WARNED, "2027-02-15").await,
        [line(GRACE, "warn", "2027-02-15")]
    );

    // Act: the runs of 2027-02-15 and of the day after.
    let run = ["run", "--as-of", "2027-02-15"];
    stdout(&lifecycle_with(&tenant, &WARNED, &run).await);
    let run = ["run", "--as-of", "2027-02-16"];
    stdout(&lifecycle_with(&tenant, &WARNED, &run).await);

    // Assert: one warning, in her language (she signed up in German), saying the day; no
    // question; her user untouched; and the end on its day.
    let mails = tenant.smtp.received();
    let mails: Vec<_> = mails
        .iter()
        .filter(|mail| mail.envelope_to == ["grace@uni.example"])
        .skip(mails_before)
        .collect();
    assert_eq!(mails.len(), 1, "one warning, no question");
    assert_eq!(mails[0].subject, "Ihr Konto läuft bald ab");
    assert_eq!(mails[0].content_language.as_deref(), Some("de"));
    let text = &mails[0].text;
    assert!(
        text.contains(GRACE) && text.contains("2027-03-01"),
        "{text}"
    );
    assert_eq!(
        tenant.fake.writes(),
        writes_before,
        "a warning writes nothing"
    );
    assert_eq!(plan_with(&tenant, &WARNED, "2027-02-28").await, []);
    assert_eq!(
        plan_with(&tenant, &WARNED, "2027-03-01").await,
        [line(GRACE, "disable", "2027-03-01")]
    );
}

#[tokio::test]
async fn on_sled_a_vouchers_end_date_is_announced_once_and_ends_the_account() {
    a_vouchers_end_date_is_announced_once_and_ends_the_account(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_a_vouchers_end_date_is_announced_once_and_ends_the_account() {
    a_vouchers_end_date_is_announced_once_and_ends_the_account(Kind::Postgres).await;
}
