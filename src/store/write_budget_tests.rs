//! The Graph write budget in the store: one bucket and one pause for every handle on a
//! database (each handle an instance), nothing on sled. PostgreSQL tests as in `tests.rs`.

use std::time::Duration;

use futures_util::future::join_all;

use super::tests::{fresh_schema, sled_store, two_instances};
use super::*;

const LONG: Duration = Duration::from_secs(60);

/// Takes `writes` at 60 a minute (one a second, one saved up).
async fn take(store: &Store, writes: u32, limit: Duration) -> WriteTurn {
    store.take_writes(writes, 60, limit).await.unwrap().unwrap()
}

/// `actual` lies within `[expected - 150 ms, expected]`: the database's clock moves on
/// between two statements of a test, never back.
fn assert_about(actual: Duration, expected: Duration) {
    assert!(
        actual <= expected && actual + Duration::from_millis(150) >= expected,
        "{actual:?}, expected about {expected:?}"
    );
}

#[tokio::test]
async fn sled_keeps_no_shared_budget() {
    let (store, _dir) = sled_store();
    assert_eq!(store.take_writes(1, 60, LONG).await.unwrap(), None);
    assert_eq!(store.pause_writes(LONG).await.unwrap(), None);
    assert!(store.write_pauses().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_every_instance_takes_its_turn_from_one_bucket() {
    let (one, two) = two_instances("postgres_every_instance_takes_its_turn").await;

    let first = take(&one, 1, LONG).await;
    let second = take(&two, 1, LONG).await;
    let third = take(&one, 2, LONG).await;

    assert_eq!(
        (first.wait, first.taken),
        (Duration::ZERO, true),
        "saved up"
    );
    assert!(second.taken && third.taken);
    assert_about(second.wait, Duration::from_secs(1));
    assert_about(third.wait, Duration::from_secs(3));
    assert_eq!(third.paused_for, Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_a_turn_past_the_limit_takes_nothing_and_says_how_long() {
    let (one, two) = two_instances("postgres_a_turn_past_the_limit").await;
    take(&one, 1, LONG).await;

    let refused = take(&two, 5, Duration::from_secs(2)).await;
    let next = take(&two, 1, LONG).await;

    assert!(!refused.taken);
    assert_about(refused.wait, Duration::from_secs(5));
    assert!(next.taken);
    assert_about(next.wait, Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_concurrent_takes_of_three_instances_lose_no_token() {
    let (url, schema) = fresh_schema("postgres_concurrent_takes_lose_no_token").await;
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Store::connect_in_schema(&url, &schema).await.unwrap());
    }

    // 6 a minute: one every 10 s, one saved up; 60 writes asked for at once (nobody sleeps:
    // the turns are only handed out). A turn's wait counts from when its statement read the
    // clock, which differs between the takes (they open connections and queue for the row):
    // each turn is placed on the test's clock as the moment its answer came back plus its
    // wait, late by at most the burst's length, which the 10 s between turns dwarf even on
    // a busy machine.
    let start = tokio::time::Instant::now();
    let takes = (0..60).map(|n| {
        let instance = &instances[n % 3];
        async move {
            let turn = instance.take_writes(1, 6, LONG * 60).await;
            (turn, start.elapsed())
        }
    });
    let mut turns: Vec<Duration> = join_all(takes)
        .await
        .into_iter()
        .map(|(turn, answered)| (turn.unwrap().unwrap(), answered))
        .inspect(|(turn, _)| assert!(turn.taken))
        .map(|(turn, answered)| answered + turn.wait)
        .collect();
    let burst = start.elapsed();
    turns.sort();

    // 10 s between turns: none given twice (a gap near nothing), none lost (20 s).
    assert!(burst < Duration::from_secs(5), "the burst took {burst:?}");
    for pair in turns.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_secs(5) && gap < Duration::from_secs(15),
            "{turns:?}"
        );
    }
    let span = turns[59] - turns[0];
    assert!(
        span > Duration::from_secs(585) && span < Duration::from_secs(595),
        "{span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_a_pause_holds_every_instance_and_is_announced_to_them() {
    let (one, two) = two_instances("postgres_a_pause_holds_every_instance").await;
    let mut announced = two.write_pauses().expect("PostgreSQL announces pauses");
    // Listening starts with the first subscriber: wait until it has read the current state.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let paused = one.pause_writes(Duration::from_secs(3)).await.unwrap();
    let shorter = two.pause_writes(Duration::from_secs(1)).await.unwrap();
    let turn = take(&two, 1, LONG).await;

    assert_about(paused.unwrap(), Duration::from_secs(3));
    assert_about(shorter.unwrap(), Duration::from_secs(3));
    assert!(turn.taken);
    assert_about(turn.wait, Duration::from_secs(3));
    assert_about(turn.paused_for, Duration::from_secs(3));
    tokio::time::timeout(Duration::from_secs(2), announced.changed())
        .await
        .expect("announced within 2 s")
        .unwrap();
    let until = announced.borrow().expect("a pause");
    let left = until.saturating_duration_since(tokio::time::Instant::now());
    assert!(left > Duration::from_millis(2500), "{left:?}");
}
