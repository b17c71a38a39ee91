//! `lifecycle restore` brings a deleted account back (out of the deleted items, enabled,
//! its licence given back); `lifecycle extend` moves its end.

use super::*;
use crate::support::fake_graph::Endpoint;

async fn an_ended_account_is_restored_and_its_end_moved(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Ada's account ended and deleted.
    let tenant = Tenant::new(kind).await;
    tenant.register(&[("ada@uni.example", ADA)]).await;
    let fake = &tenant.fake;
    stdout(&tenant.lifecycle(&["run", "--as-of", "2027-02-14"]).await);
    stdout(&tenant.lifecycle(&["run", "--as-of", "2027-03-16"]).await);
    assert!(fake.user(ADA).is_none());
    assert_eq!(fake.consumed(&tenant.sku), 0);

    // Act
    let restored = stdout(&tenant.lifecycle(&["restore", "Ada@uni.example"]).await);
    let extended = stdout(
        &tenant
            .lifecycle(&["extend", "ada@uni.example", "--days", "60"])
            .await,
    );

    // Assert: back, enabled, licensed; the end 60 days later, nothing due before.
    assert!(
        restored.contains(&format!("{ADA} restored: undeleted")),
        "{restored}"
    );
    assert_eq!(fake.count(Endpoint::RestoreUser), 1);
    let user = fake.user(ADA).expect("Ada's user is back");
    assert!(user.enabled);
    assert_eq!(user.licences, std::slice::from_ref(&tenant.sku));
    assert_eq!(fake.consumed(&tenant.sku), 1);
    assert_eq!(extended.trim(), format!("{ADA} now ends on 2027-04-15"));
    assert_eq!(tenant.plan("2027-04-07").await, []);
    let actions: Vec<String> = audit(&tenant).await.into_iter().map(|l| l.1).collect();
    assert_eq!(
        actions,
        ["disable", "remove_licences", "delete", "restore", "extend"]
    );
    assert_eq!(
        tenant.plan("2027-04-15").await,
        [line(ADA, "disable", "2027-04-15")]
    );
    // Nothing to restore twice, and no account to extend for a stranger.
    let again = failed(&tenant.lifecycle(&["restore", "ada@uni.example"]).await);
    assert!(again.contains("has not been ended"), "{again}");
    let unknown = failed(
        &tenant
            .lifecycle(&["extend", "eve@uni.example", "--days", "1"])
            .await,
    );
    assert!(
        unknown.contains("no account is registered for eve@uni.example"),
        "{unknown}"
    );
}

#[tokio::test]
async fn on_sled_an_ended_account_is_restored_and_its_end_moved() {
    an_ended_account_is_restored_and_its_end_moved(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_an_ended_account_is_restored_and_its_end_moved() {
    an_ended_account_is_restored_and_its_end_moved(Kind::Postgres).await;
}
