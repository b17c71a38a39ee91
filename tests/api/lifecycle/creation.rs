//! The end is recorded on an account as it is created: a later change of
//! `ACCOUNT_LIFETIME_DAYS` moves no account's end.

use super::*;
use crate::mailbox_tag::{app, sign_up_and_confirm};

async fn an_accounts_end_is_recorded_at_its_creation(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: a server whose accounts live 30 days (its clock: 2027-01-15 08:00).
    let tenant = Tenant::new(kind).await;
    let mut server = app(
        &tenant.fake,
        &tenant.smtp,
        &tenant.store,
        &[("ACCOUNT_LIFETIME_DAYS", "30")],
    )
    .await;
    let grace = ("grace@uni.example", "grace@uni.example");
    let page = sign_up_and_confirm(&server, &tenant.smtp, grace, "Grace", "Hopper").await;
    assert_eq!(page.status(), 200);
    server.stop().await;

    // Act: the setting is changed to "for ever" afterwards.
    let mut env = crate::graph::env(&tenant.fake, &[], &[]);
    env.push(("ACCOUNT_LIFETIME_DAYS".into(), "0".into()));
    env.push(("LIFECYCLE_WARN_DAYS".into(), "0".into()));
    let plan = |day: &'static str| {
        let env = env.clone();
        let store = tenant.store.clone();
        async move {
            let args = ["lifecycle", "plan", "--as-of", day];
            stdout(&cli(&store, &env, &args).await)
        }
    };

    // Assert: Grace's account still ends 30 days after its creation.
    let before = plan("2027-02-13").await;
    let due = plan("2027-02-14").await;
    assert!(before.starts_with("0 actions due"), "{before}");
    assert!(
        due.lines()
            .any(|line| line.starts_with("grace.hopper@tenant.example\tdisable\t2027-02-14")),
        "{due}"
    );
}

#[tokio::test]
async fn on_sled_an_accounts_end_is_recorded_at_its_creation() {
    an_accounts_end_is_recorded_at_its_creation(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_an_accounts_end_is_recorded_at_its_creation() {
    an_accounts_end_is_recorded_at_its_creation(Kind::Postgres).await;
}
