//! Accounts' lives in the store: saved only from the copy last read, forgotten with their
//! registration, and one lifecycle run at a time (once a day for the daily one).

use std::sync::Arc;

use super::{all, claimed, key, postgres_store, sled_store, two_instances};
use crate::domain::{EndReason, EndStep};
use crate::store::{AccountLife, Ending, Reverification, Store};

both_backends! {
    a_life_is_saved_and_read_back_whole,
    a_save_from_an_older_copy_is_refused,
    of_concurrent_saves_from_one_copy_exactly_one_is_written,
    forgetting_an_address_forgets_its_life,
    one_lifecycle_run_at_a_time_and_each_day_once,
}

async fn a_life_is_saved_and_read_back_whole(store: Store) {
    // Arrange
    let mut life = AccountLife::new(key("ada@x.example"), 100);
    life.reverify = Some(Reverification {
        sent_at: 200,
        answer_by: 300,
    });
    life.warned_for = Some(400);
    life.ending = Some(Ending {
        reason: EndReason::Unverified,
        step: EndStep::LicencesRemoved,
        started_at: 301,
        disabled_at: Some(302),
        removed_licences: vec!["sku-1".into()],
        deleted_at: None,
    });

    // Act
    assert!(store.save_life(&mut life).await.unwrap());
    let mut bob = AccountLife::new(key("bob@x.example"), 50);
    assert!(store.save_life(&mut bob).await.unwrap());

    // Assert
    assert_eq!(life.version, 1, "the saved copy knows its version");
    let read = store.life(&key("ada@x.example")).await.unwrap();
    assert_eq!(read.as_ref(), Some(&life));
    assert_eq!(store.life(&key("cy@x.example")).await.unwrap(), None);
    let listed: Vec<String> = all(store.lives().await)
        .into_iter()
        .map(|life| life.email.to_string())
        .collect();
    assert_eq!(listed, ["ada@x.example", "bob@x.example"]);
}

/// The person's button and a run reading the same record: the one that saves second must
/// not undo the first.
async fn a_save_from_an_older_copy_is_refused(store: Store) {
    let mut first = AccountLife::new(key("ada@x.example"), 100);
    assert!(store.save_life(&mut first).await.unwrap());
    let mut button = store.life(&key("ada@x.example")).await.unwrap().unwrap();
    let mut run = button.clone();

    button.verified_at = 500;
    assert!(store.save_life(&mut button).await.unwrap());
    run.warned_for = Some(900);
    let saved = store.save_life(&mut run).await.unwrap();

    assert!(!saved, "the run's copy is older than the button's save");
    assert_eq!(run.version, 1, "a refused save leaves the copy as it was");
    let stored = store.life(&key("ada@x.example")).await.unwrap().unwrap();
    assert_eq!((stored.verified_at, stored.warned_for), (500, None));
    let mut fresh = AccountLife::new(key("ada@x.example"), 1);
    assert!(
        !store.save_life(&mut fresh).await.unwrap(),
        "a first save does not replace a stored life"
    );
}

async fn of_concurrent_saves_from_one_copy_exactly_one_is_written(store: Store) {
    let mut life = AccountLife::new(key("ada@x.example"), 100);
    assert!(store.save_life(&mut life).await.unwrap());
    let store = Arc::new(store);

    let saves: Vec<_> = (0..8u64)
        .map(|n| {
            let (store, mut copy) = (store.clone(), life.clone());
            tokio::spawn(async move {
                copy.verified_at = 1_000 + n;
                store.save_life(&mut copy).await.unwrap().then_some(n)
            })
        })
        .collect();
    let mut won = Vec::new();
    for save in saves {
        won.extend(save.await.unwrap());
    }

    assert_eq!(won.len(), 1, "{won:?}");
    let stored = store.life(&key("ada@x.example")).await.unwrap().unwrap();
    assert_eq!((stored.verified_at, stored.version), (1_000 + won[0], 2));
}

async fn forgetting_an_address_forgets_its_life(store: Store) {
    claimed(&store, "p1", "ada@x.example").await;
    let mut life = AccountLife::new(key("ada@x.example"), 100);
    assert!(store.save_life(&mut life).await.unwrap());

    store.forget(&key("ada@x.example")).await.unwrap();

    assert_eq!(store.life(&key("ada@x.example")).await.unwrap(), None);
    assert!(store.verify().await.unwrap().is_healthy());
}

async fn one_lifecycle_run_at_a_time_and_each_day_once(store: Store) {
    let run = store.start_lifecycle_run(Some(20_000)).await.unwrap();
    let run = run.expect("nobody runs yet");
    assert!(store.start_lifecycle_run(None).await.unwrap().is_none());
    assert!(
        store
            .start_lifecycle_run(Some(20_000))
            .await
            .unwrap()
            .is_none()
    );

    run.finish(true).await.unwrap();

    assert!(
        store
            .start_lifecycle_run(Some(20_000))
            .await
            .unwrap()
            .is_none(),
        "that day's run is done"
    );
    let manual = store.start_lifecycle_run(None).await.unwrap();
    assert!(manual.is_some(), "a run by hand may run any time");
    drop(manual);
    let next_day = store.start_lifecycle_run(Some(20_001)).await.unwrap();
    let next_day = next_day.expect("a dropped run gives the right up (or it lapses)");
    next_day.finish(false).await.unwrap();
    let again = store.start_lifecycle_run(Some(20_001)).await.unwrap();
    assert!(again.is_some(), "a run that did not complete runs again");
}

/// Two instances on one database: while one runs the lifecycle the other cannot, and once
/// the day's run is done neither runs it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_instances_run_the_lifecycle_one_at_a_time() {
    let (one, two) = two_instances("postgres_instances_run_the_lifecycle").await;

    let running = one.start_lifecycle_run(Some(30_000)).await.unwrap();
    let running = running.expect("the first instance runs");
    assert!(
        two.start_lifecycle_run(Some(30_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(two.start_lifecycle_run(None).await.unwrap().is_none());
    running.renew().await.unwrap();
    running.finish(true).await.unwrap();

    assert!(
        two.start_lifecycle_run(Some(30_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        one.start_lifecycle_run(Some(30_000))
            .await
            .unwrap()
            .is_none()
    );
    let other = two.start_lifecycle_run(Some(30_001)).await.unwrap();
    assert!(other.is_some(), "the next day either instance may run it");
}
