//! `lifecycle run` is paced by the deployment's one write budget, not by the answers it
//! waits for: on PostgreSQL the budget is shared with the server instances, and a throttling
//! pause one of them recorded holds the command's writes too (PRODUCT.md §9.4 "paced by the
//! budget", §9.6); and it works on several accounts at once, so that one account's wait for
//! Graph or the mail server does not hold up the others.

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

#[tokio::test]
async fn a_run_works_on_several_accounts_at_once() {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Ada and seven more accounts end on 2027-02-14; Graph answers each read of a
    // user 300 ms after it came.
    let tenant = Tenant::new(Kind::Sled).await;
    let mut rows = vec![("ada@uni.example".to_owned(), ADA.to_owned())];
    for n in 1..8 {
        let (mailbox, upn) = (format!("p{n}@uni.example"), format!("p{n}@tenant.example"));
        let tag = tag_of(&mailbox);
        let attribute = ("extensionAttribute15", tag.as_str());
        tenant
            .fake
            .add_user_with_attribute(&upn, "P", "Erson", attribute);
        tenant.fake.set_usage_location(&upn, "DE");
        tenant.fake.assign_licence(&upn, &tenant.sku);
        rows.push((mailbox, upn));
    }
    let rows: Vec<(&str, &str)> = rows.iter().map(|(m, u)| (m.as_str(), u.as_str())).collect();
    tenant.register(&rows).await;
    let answer = Duration::from_millis(300);
    tenant.fake.delay(Endpoint::GetUser, usize::MAX, answer);

    // Act
    stdout(&tenant.lifecycle(&["run", "--as-of", "2027-02-14"]).await);

    // Assert: every account ended, and reads of users came while another was still
    // waiting for its answer.
    let fake = &tenant.fake;
    assert!(rows.iter().all(|(_, upn)| !fake.user(upn).unwrap().enabled));
    assert_eq!(fake.consumed(&tenant.sku), 0);
    let reads: Vec<Instant> = fake
        .requests()
        .into_iter()
        .filter(|(_, endpoint, _)| *endpoint == Endpoint::GetUser)
        .map(|(at, _, _)| at)
        .collect();
    assert_eq!(reads.len(), rows.len());
    let overlapping = reads
        .windows(2)
        .filter(|pair| pair[1].saturating_duration_since(pair[0]) < answer)
        .count();
    assert!(
        overlapping >= rows.len() / 2,
        "{overlapping} of {} reads came while another waited: one account at a time",
        rows.len()
    );
}
