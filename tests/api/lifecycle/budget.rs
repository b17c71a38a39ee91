//! `lifecycle run` writes within the deployment's one write budget: on PostgreSQL it is
//! shared with the server instances, and a throttling pause one of them recorded holds the
//! command's writes too (PRODUCT.md §9.4 "paced by the budget", §9.6).

use std::time::{Duration, Instant};

use ms365_accountcreator::store::Store;

use super::*;
use crate::support::fake_graph::Endpoint;

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_a_lifecycle_run_waits_out_a_pause_an_instance_recorded() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Ada's account is due to end; an instance of the deployment drew a 429 with
    // `Retry-After: 4` a moment ago.
    let tenant = Tenant::new(Kind::Postgres).await;
    tenant.register(&[("ada@uni.example", ADA)]).await;
    let store = Store::connect_migrated(&tenant.store.1).await.unwrap();
    let pause = Duration::from_secs(4);
    store.pause_writes(pause).await.unwrap();
    let paused_at = Instant::now();

    // Act
    stdout(&tenant.lifecycle(&["run", "--as-of", "2027-02-14"]).await);

    // Assert: Ada's user disabled, but not before the pause was over.
    let user = tenant.fake.user(ADA).expect("Ada's user");
    assert!(!user.enabled && user.licences.is_empty());
    let first_write = tenant
        .fake
        .requests()
        .into_iter()
        .find(|(_, endpoint, _)| *endpoint == Endpoint::UpdateUser)
        .map(|(at, _, _)| at)
        .expect("the PATCH that disabled Ada");
    let waited = first_write.saturating_duration_since(paused_at);
    assert!(
        waited >= pause - Duration::from_millis(500),
        "the first write came {waited:?} into a pause of {pause:?}"
    );
    store.close().await.unwrap();
}
