//! Several instances on one PostgreSQL database keep to one Graph write budget together
//! (`GRAPH_API_WRITES_PER_MINUTE` is the deployment's) and one 429's `Retry-After` holds
//! every instance (issue 28): two server processes against the fake Graph over HTTP.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::support::fake_graph::{Endpoint, FakeGraph};
use crate::support::postgres;
use crate::support::process::ServerProcess;

/// Two server processes on the fresh database of `test`, with `env` on top of the fake
/// Graph's settings; and their directories, which must outlive them.
async fn two_instances(
    test: &str,
    fake: &FakeGraph,
    groups: &[String],
    skus: &[String],
    env: &[(&str, &str)],
) -> ([ServerProcess; 2], [tempfile::TempDir; 2]) {
    let mut all = crate::graph::env(fake, groups, skus);
    all.push(("DATABASE_URL".into(), postgres::fresh_database(test).await));
    all.push(("METRICS_ENABLED".into(), "true".into()));
    all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let one = ServerProcess::start(dirs[0].path(), &all).await;
    let two = ServerProcess::start(dirs[1].path(), &all).await;
    one.wait_until_ready().await;
    two.wait_until_ready().await;
    ([one, two], dirs)
}

/// POSTs the confirm form: the status (0 when the connection failed).
async fn confirm(base: String, path: String) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .form(&[("lang", "en")])
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_or(0, |response| response.status().as_u16())
}

fn is_write(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::CreateUser | Endpoint::UpdateUser | Endpoint::Batch
    )
}

/// The count of a metric an instance serves at `/metrics`.
async fn metric(server: &ServerProcess, name: &str) -> f64 {
    let text = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not in /metrics:\n{text}"))
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn two_instances_keep_to_one_write_budget_together() {
    // Arrange: Graph allows 18 writes in any 3 s. The deployment's budget is 240 a minute
    // (4 a second, 4 saved up: at most 16 in any 3 s); each instance keeping it for itself
    // would send twice that.
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("M365EDU_A1", 1000);
    fake.write_budget(18, Duration::from_secs(3));
    let env = [
        ("GRAPH_API_WRITES_PER_MINUTE", "240"),
        ("PROVISION_WAIT_SECONDS", "1"),
    ];
    let groups = std::slice::from_ref(&group);
    let (servers, _dirs) = two_instances(
        "two_instances_keep_to_one_write_budget",
        &fake,
        groups,
        std::slice::from_ref(&sku),
        &env,
    )
    .await;
    let names = [
        "Ada", "Bob", "Cem", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jule", "Kim", "Lea",
        "Mo", "Nils", "Ole", "Pia",
    ];
    let mut confirms = Vec::new();
    for (n, first) in names.iter().enumerate() {
        let server = &servers[n % 2];
        let email = format!("st{n}@uni.example");
        server.expect(200, server.sign_up(&email, first, "Gleich").await);
        let path = server.verification_path(&email).await;
        confirms.push(confirm(servers[(n + 1) % 2].base.clone(), path));
    }

    // Act: everybody confirms at once, half at each instance.
    let answers = join_all(confirms).await;

    // Assert: 16 × (user, licence, group) = 48 writes, at the one budget: the last is
    // (48 - 4) / 4 = 11 s after the first (two budgets: 5 s), and Graph throttles none
    // (two budgets draw a 429 each time they overrun its window together).
    assert!(
        answers.iter().all(|a| [200, 202].contains(a)),
        "{answers:?}"
    );
    for _ in 0..600 {
        if fake.members(&group).len() == names.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fake.members(&group).len(), names.len());
    assert_eq!(fake.writes(), 48);
    let writes: Vec<Instant> = fake
        .requests()
        .into_iter()
        .filter(|(_, endpoint, status)| is_write(*endpoint) && *status < 300)
        .map(|(at, _, _)| at)
        .collect();
    let span = writes[writes.len() - 1] - writes[0];
    let throttled = fake.throttled();
    assert!(
        throttled <= 1 && span >= Duration::from_millis(10_000),
        "{throttled} requests drew a 429; the writes took {span:?}"
    );
    // One round trip to the shared budget per write request, no more.
    let requests = fake.count(Endpoint::CreateUser) + fake.count(Endpoint::Batch);
    let mut round_trips = 0.0;
    for server in &servers {
        round_trips += metric(server, "ms365_graph_budget_round_trip_seconds_count").await;
    }
    assert!(
        round_trips >= 32.0 && round_trips <= requests as f64,
        "{round_trips} round trips for {requests} write requests"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_429_at_one_instance_holds_the_other_until_retry_after_has_passed() {
    // Arrange
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let env = [("PROVISION_WAIT_SECONDS", "20")];
    let ([one, two], _dirs) = two_instances(
        "a_429_at_one_instance_holds_the_other",
        &fake,
        std::slice::from_ref(&group),
        &[],
        &env,
    )
    .await;
    one.expect(200, one.sign_up("ada@uni.example", "Ada", "Lovelace").await);
    two.expect(200, two.sign_up("alan@uni.example", "Alan", "Turing").await);
    let ada = one.verification_path("ada@uni.example").await;
    let alan = two.verification_path("alan@uni.example").await;
    fake.throttle(Some(Endpoint::CreateUser), 1, 3);

    // Act: Ada's create at the first instance draws a 429 with Retry-After: 3; Alan
    // confirms at the second during the pause.
    let first = tokio::spawn(confirm(one.base.clone(), ada));
    let mut throttled_at = None;
    for _ in 0..500 {
        throttled_at = fake
            .requests()
            .into_iter()
            .find(|(_, _, status)| *status == 429)
            .map(|(at, _, _)| at);
        if throttled_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let throttled_at = throttled_at.expect("the fake throttled a create");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = confirm(two.base.clone(), alan).await;

    // Assert: nothing reached Graph from either instance until Retry-After had passed.
    assert_eq!(second, 200, "{}", two.log_text());
    assert_eq!(first.await.unwrap(), 200, "{}", one.log_text());
    let after: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|(at, _, _)| *at > throttled_at)
        .collect();
    assert!(
        after.len() >= 5,
        "Ada's create and batch, Alan's name query, create and batch: {after:?}"
    );
    for (at, endpoint, _) in &after {
        let waited = at.duration_since(throttled_at);
        assert!(
            waited >= Duration::from_millis(2950),
            "{endpoint:?} went out {waited:?} after the 429, inside Retry-After: 3"
        );
    }
    assert_eq!(fake.users().len(), 2);
}
