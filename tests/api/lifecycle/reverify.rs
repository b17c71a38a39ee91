//! Re-verification (issue 26, point 2): when due, the run mails the mailbox a link in the
//! person's language; opening it shows the account and keeps nothing, its button keeps the
//! account (the plan no longer ends it) and works once; no answer within
//! `REVERIFY_GRACE_DAYS`, or a mailbox that refuses the mail for good, ends the account.

use crate::mailbox_tag::app;
use crate::support::helpers::{TestApp, attr, texts};
use crate::support::smtp::ReceivedMail;

use super::*;

pub(super) const GRACE: &str = "grace.hopper@tenant.example";

/// The settings of these tests: asked again 30 days after the last proof, 30 days to answer,
/// no lifetime and no warning (so only re-verification ends an account).
const SETTINGS: [(&str, &str); 5] = [
    ("ACCOUNT_LIFETIME_DAYS", "0"),
    ("REVERIFY_AFTER_DAYS", "30"),
    ("REVERIFY_GRACE_DAYS", "30"),
    ("LIFECYCLE_WARN_DAYS", "0"),
    ("DELETE_AFTER_DAYS", "30"),
];

/// A lifecycle command with [`SETTINGS`], its links under a public address.
async fn lifecycle(tenant: &Tenant, args: &[&str]) -> Output {
    lifecycle_with(tenant, &[], args).await
}

/// A lifecycle command with [`SETTINGS`] and `extra` over them.
pub(super) async fn lifecycle_with(
    tenant: &Tenant,
    extra: &[(&str, &str)],
    args: &[&str],
) -> Output {
    let mut env = crate::graph::env(&tenant.fake, &[], &[]);
    env.extend(tenant.smtp.app_settings());
    env.push(("PUBLIC_URL".into(), "https://signup.uni.example/".into()));
    env.extend(
        SETTINGS
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut all = vec!["lifecycle"];
    all.extend_from_slice(args);
    cli(&tenant.store, &env, &all).await
}

/// `lifecycle plan --as-of DAY --json`: (UPN, action, date) of each line.
async fn plan(tenant: &Tenant, day: &str) -> Vec<(String, String, String)> {
    plan_with(tenant, &[], day).await
}

/// [`plan`] with `extra` settings over [`SETTINGS`].
pub(super) async fn plan_with(
    tenant: &Tenant,
    extra: &[(&str, &str)],
    day: &str,
) -> Vec<(String, String, String)> {
    let args = ["plan", "--as-of", day, "--json"];
    let out = stdout(&lifecycle_with(tenant, extra, &args).await);
    out.lines()
        .map(|line| {
            let item: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| item[name].as_str().unwrap_or_default().to_owned();
            (field("upn"), field("action"), field("date"))
        })
        .collect()
}

/// The server on the tenant's store, its clock `days` after [`REGISTERED`].
pub(super) async fn server(tenant: &Tenant, days: u64, extra: &[(&str, &str)]) -> TestApp {
    let mut settings = SETTINGS.to_vec();
    settings.extend_from_slice(extra);
    let app = app(&tenant.fake, &tenant.smtp, &tenant.store, &settings).await;
    app.advance_clock(days * 86_400);
    app
}

/// The newest mail to `to`, waiting for one to come (sign-up mails leave through an outbox).
pub(super) async fn newest(tenant: &Tenant, to: &str) -> ReceivedMail {
    for _ in 0..200 {
        let mail = tenant
            .smtp
            .received()
            .into_iter()
            .rev()
            .find(|mail| mail.envelope_to == [to]);
        if let Some(mail) = mail {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail to {to}");
}

/// Grace signs up in German and confirms; her account is made on [`REGISTERED`].
pub(super) async fn grace_signs_up(app: &TestApp, tenant: &Tenant, voucher: Option<&str>) {
    let mut fields = vec![
        ("email", "grace@uni.example"),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("lang", "de"),
    ];
    if let Some(code) = voucher {
        fields.push(("voucher", code));
    }
    let form = app.post_form("/signup", &fields).await;
    assert_eq!(form.status(), 200, "{}", form.text().await.unwrap());
    let link = newest(tenant, "grace@uni.example")
        .await
        .verification_path();
    let page = app.post_form(&link, &[("lang", "de")]).await;
    assert_eq!(page.status(), 200, "{}", page.text().await.unwrap());
    assert!(tenant.fake.user(GRACE).is_some(), "Grace's user");
}

async fn grace_is_kept_by_the_button_not_by_the_link_and_once(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Grace's account, made on 2027-01-15, is due to be asked on 2027-02-14.
    let tenant = Tenant::new(kind).await;
    let mut app = server(&tenant, 0, &[]).await;
    grace_signs_up(&app, &tenant, None).await;
    app.stop().await;
    assert_eq!(
        plan(&tenant, "2027-02-14").await,
        [line(GRACE, "reverify", "2027-02-14")]
    );

    // Act: the run on 2027-02-15 asks her mailbox.
    stdout(&lifecycle(&tenant, &["run", "--as-of", "2027-02-15"]).await);

    // Assert: one mail, in her language, with a link to the server's page.
    let mail = newest(&tenant, "grace@uni.example").await;
    assert_eq!(mail.subject, "Ist das noch Ihr Konto?");
    assert_eq!(mail.content_language.as_deref(), Some("de"));
    let link = mail.link_path("/keep/");
    assert!(!link.contains("grace"), "the link is opaque: {link}");
    assert_eq!(
        plan(&tenant, "2027-03-17").await,
        [line(GRACE, "disable", "2027-03-17")],
        "unanswered, her account ends when the grace is over"
    );

    // Act: the link is opened (twice, as a mail scanner and then she would).
    let app = server(&tenant, 32, &[]).await;
    let german = [("Accept-Language", "de")];
    for _ in 0..2 {
        let page = app.get_with(&link, &german).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), ["Ihr Konto behalten"], "{page}");
        assert_eq!(texts(&page, "code.username"), [GRACE]);
        assert_eq!(attr(&page, "form", "method").as_deref(), Some("post"));
    }
    let mut app = app;
    app.stop().await;

    // Assert: opening it kept nothing.
    assert_eq!(
        plan(&tenant, "2027-03-17").await,
        [line(GRACE, "disable", "2027-03-17")],
        "a GET keeps nothing"
    );

    // Act: she presses the button (without JavaScript: the page's form), then again.
    let app = server(&tenant, 32, &[]).await;
    let page = app.get_with(&link, &german).await.text().await.unwrap();
    let action = attr(&page, "form", "action").expect("the button's form");
    let kept = app.post_form(&action, &[("lang", "de")]).await;
    assert_eq!(kept.status(), 200);
    let kept = kept.text().await.unwrap();
    let again = app.post_form(&action, &[("lang", "en")]).await;
    assert_eq!(again.status(), 410);
    let again = again.text().await.unwrap();
    let mut app = app;
    app.stop().await;

    // Assert: kept, and said until when (the next question, 30 days from the answer); the
    // second press is told the link was used; the plan asks again then, and ends nothing.
    assert_eq!(texts(&kept, "h1"), ["Ihr Konto bleibt bestehen"], "{kept}");
    assert!(
        texts(&kept, "p")
            .iter()
            .any(|p| p.contains(GRACE) && p.contains("2027-03-18")),
        "{kept}"
    );
    assert_eq!(
        texts(&again, "h1"),
        ["This link has already been used"],
        "{again}"
    );
    assert_eq!(plan(&tenant, "2027-03-17").await, []);
    assert_eq!(
        plan(&tenant, "2027-03-18").await,
        [line(GRACE, "reverify", "2027-03-18")]
    );
    assert!(tenant.fake.user(GRACE).expect("her user").enabled);
}

#[tokio::test]
async fn on_sled_grace_is_kept_by_the_button_not_by_the_link_and_once() {
    grace_is_kept_by_the_button_not_by_the_link_and_once(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_grace_is_kept_by_the_button_not_by_the_link_and_once() {
    grace_is_kept_by_the_button_not_by_the_link_and_once(Kind::Postgres).await;
}

/// Ada's account (imported, made on 2027-01-15) after the run of 2027-02-15 asked her.
async fn ada_asked(kind: Kind) -> Tenant {
    let tenant = Tenant::new(kind).await;
    tenant.register(&[("ada@uni.example", ADA)]).await;
    stdout(&lifecycle(&tenant, &["run", "--as-of", "2027-02-15"]).await);
    tenant
}

async fn no_answer_within_the_grace_ends_the_account(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Ada was asked on 2027-02-15; her answer is due by 2027-03-17.
    let tenant = ada_asked(kind).await;
    assert_eq!(
        tenant.mails_to("ada@uni.example"),
        ["Is this still your account?"]
    );

    // Act: the runs of the last day of the grace and of the day after.
    stdout(&lifecycle(&tenant, &["run", "--as-of", "2027-03-16"]).await);
    let before = tenant.fake.user(ADA).expect("Ada's user");
    stdout(&lifecycle(&tenant, &["run", "--as-of", "2027-03-17"]).await);

    // Assert: enabled until the grace was over, then disabled, its seat free, Ada told.
    assert!(before.enabled && !before.licences.is_empty());
    let after = tenant.fake.user(ADA).expect("Ada's user");
    assert!(!after.enabled && after.licences.is_empty());
    assert_eq!(
        tenant.mails_to("ada@uni.example"),
        [
            "Is this still your account?",
            "Your account has been disabled"
        ]
    );
}

#[tokio::test]
async fn on_sled_no_answer_within_the_grace_ends_the_account() {
    no_answer_within_the_grace_ends_the_account(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_no_answer_within_the_grace_ends_the_account() {
    no_answer_within_the_grace_ends_the_account(Kind::Postgres).await;
}

async fn a_mailbox_that_refuses_the_question_for_good_ends_the_account(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: the institution deleted Ada's mailbox.
    let tenant = Tenant::new(kind).await;
    tenant.register(&[("ada@uni.example", ADA)]).await;
    tenant.smtp.refuse("ada@uni.example");

    // Act: the run that asks her mailbox.
    stdout(&lifecycle(&tenant, &["run", "--as-of", "2027-02-15"]).await);

    // Assert: her account is ended at once, without waiting for the grace.
    let user = tenant.fake.user(ADA).expect("Ada's user");
    assert!(!user.enabled && user.licences.is_empty());
    assert!(tenant.mails_to("ada@uni.example").is_empty());
    assert_eq!(
        plan(&tenant, "2027-03-17").await,
        [line(ADA, "delete", "2027-03-17")]
    );
}

#[tokio::test]
async fn on_sled_a_mailbox_that_refuses_the_question_for_good_ends_the_account() {
    a_mailbox_that_refuses_the_question_for_good_ends_the_account(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_a_mailbox_that_refuses_the_question_for_good_ends_the_account() {
    a_mailbox_that_refuses_the_question_for_good_ends_the_account(Kind::Postgres).await;
}
