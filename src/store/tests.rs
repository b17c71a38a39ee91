//! The store's tests. Most run once per backend: each is an async function taking a fresh
//! [`Store`], and `both_backends!` makes a test of it in `sled_backend` and in
//! `postgres_backend`. The PostgreSQL ones need a server at `TEST_DATABASE_URL`: they are
//! `#[ignore]`d, and `tests/run` runs them (`--include-ignored`) on a throwaway cluster it
//! starts; run without the variable, they fail saying so. Each gets a schema of its own, so
//! they run in parallel. What only one backend has is tested beside it (`sled/tests.rs`)
//! or below (`postgres_…`).

use std::collections::HashSet;

use super::*;
use crate::domain::{Mailbox, Step, SubaddressSeparator};

/// A sled store in a directory of its own, as the server opens one.
pub(super) fn sled_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::open(dir.path()).unwrap(), dir)
}

/// `TEST_DATABASE_URL`. The PostgreSQL tests are `#[ignore]`d, so a plain `cargo test`
/// lists them as ignored instead of passing them unrun; run with the ignored ones included
/// (as `tests/run` does, with a throwaway cluster), they fail without it.
fn test_database_url(test: &str) -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{test}: needs PostgreSQL: run tests/run, which starts a throwaway cluster (TEST_DATABASE_URL is not set)"
            )
        })
}

/// A plain connection to the test database, for what a test does behind the store's back.
async fn raw_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A new, empty schema in the test database, and the URL it is in.
pub(super) async fn fresh_schema(test: &str) -> (String, String) {
    let url = test_database_url(test);
    let schema = format!("test_{}", crate::ids::random_id(8).unwrap());
    raw_client(&url)
        .await
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    (url, schema)
}

/// A migrated PostgreSQL store in a new schema.
async fn postgres_store(test: &str) -> Store {
    let (url, schema) = fresh_schema(test).await;
    Store::connect_in_schema(&url, &schema).await.unwrap()
}

/// Two tests per named test function: one on sled, one on PostgreSQL. Both on a runtime
/// with two workers, as the server's.
macro_rules! both_backends {
    ($($test:ident),* $(,)?) => {
        mod sled_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let (store, _dir) = super::sled_store();
                super::$test(store).await;
            })*
        }
        mod postgres_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
            async fn $test() {
                super::$test(super::postgres_store(stringify!($test)).await).await;
            })*
        }
    };
}

mod audit;
mod vouchers;

both_backends! {
    a_pending_sign_up_can_be_claimed_once,
    a_wrong_nonce_or_unknown_id_claims_nothing,
    an_expired_sign_up_cannot_be_claimed,
    every_submission_keeps_its_own_link_until_one_is_claimed,
    forgetting_an_address_removes_all_its_pending_sign_ups,
    purging_keeps_the_unexpired_sign_ups_of_a_mailbox,
    a_registered_address_refuses_new_sign_ups,
    concurrent_claims_yield_exactly_one_winner,
    concurrent_durable_saves_all_finish,
    imported_addresses_are_registered_once_and_listed,
    a_backup_restores_into_a_new_store_of_either_kind,
    a_backup_of_the_first_version_restores_every_record,
    a_claim_queues_the_registration_with_it,
    progress_is_saved_and_read_back,
    a_username_is_reserved_for_one_registration_and_moves_and_goes_with_it,
    a_reset_link_works_once,
    using_a_newer_reset_link_kills_the_older_ones_but_not_later_ones,
    a_released_reset_link_works_again_unless_a_newer_one_was_used,
    forgetting_an_address_forgets_its_reset_record,
    concurrent_uses_of_one_reset_link_yield_exactly_one_winner,
    queue_entries_come_out_in_confirm_order_when_due,
    a_second_enqueue_keeps_the_place_and_a_reschedule_counts_an_attempt,
    queue_entries_added_after_a_restore_queue_up_behind_the_restored_ones,
    a_dequeued_registration_is_gone_and_rescheduling_it_does_nothing,
    an_entry_waiting_for_a_seat_says_which_until_a_reschedule_and_survives_a_backup,
    a_healthy_store_verifies_with_its_counts,
}

/// The key of a person's mailbox.
pub(super) fn key(email: &str) -> RegistryKey {
    RegistryKey::from(&Mailbox::parse(email, SubaddressSeparator::PLUS).unwrap())
}

pub(super) fn pending(id: &str, email: &str) -> PendingSignup {
    PendingSignup {
        id: id.into(),
        nonce: format!("nonce-{id}"),
        email: key(email),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        lang: "en".into(),
        created_at: 100,
        expires_at: 200,
        consent_email_at: 100,
        consent_name_at: 100,
        voucher: None,
    }
}

fn mailbox(email: &str) -> Mailbox {
    Mailbox::parse(email, SubaddressSeparator::PLUS).unwrap()
}

/// Every record a listing read, each of which must decode.
fn all<T>(listed: Result<Listed<T>, StoreError>) -> Vec<T> {
    listed.unwrap().into_iter().map(Result::unwrap).collect()
}

async fn a_pending_sign_up_can_be_claimed_once(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    let Claim::Claimed(registration) = store.claim("p1", "nonce-p1", 150).await.unwrap() else {
        panic!("first claim")
    };
    assert_eq!(registration.step, Step::Claimed);
    assert_eq!(registration.consent_email_at, 100);
    assert!(
        store
            .is_registered(&mailbox("ada@x.example"))
            .await
            .unwrap()
    );
    assert!(matches!(
        store.claim("p1", "nonce-p1", 150).await.unwrap(),
        Claim::Resume(_)
    ));
    assert!(matches!(
        store.lookup("p1").await.unwrap(),
        Lookup::Registered(_)
    ));
}

async fn a_wrong_nonce_or_unknown_id_claims_nothing(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    assert_eq!(
        store.claim("p1", "forged", 150).await.unwrap(),
        Claim::Unknown
    );
    assert_eq!(
        store.claim("nope", "nonce-p1", 150).await.unwrap(),
        Claim::Unknown
    );
    assert!(matches!(
        store.lookup("p1").await.unwrap(),
        Lookup::Pending(_)
    ));
}

async fn an_expired_sign_up_cannot_be_claimed(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    assert_eq!(
        store.claim("p1", "nonce-p1", 200).await.unwrap(),
        Claim::Expired
    );
}

async fn every_submission_keeps_its_own_link_until_one_is_claimed(store: Store) {
    for id in ["p1", "p2"] {
        store
            .insert_pending(&pending(id, "ada@x.example"))
            .await
            .unwrap();
    }
    assert!(matches!(
        store.lookup("p1").await.unwrap(),
        Lookup::Pending(_)
    ));
    assert!(matches!(
        store.lookup("p2").await.unwrap(),
        Lookup::Pending(_)
    ));

    assert!(matches!(
        store.claim("p1", "nonce-p1", 150).await.unwrap(),
        Claim::Claimed(_)
    ));
    assert_eq!(store.lookup("p2").await.unwrap(), Lookup::AddressTaken);
    assert_eq!(
        store.claim("p2", "nonce-p2", 150).await.unwrap(),
        Claim::AddressTaken,
        "the first confirm wins"
    );
}

async fn forgetting_an_address_removes_all_its_pending_sign_ups(store: Store) {
    for id in ["p1", "p2", "p3"] {
        store
            .insert_pending(&pending(id, "ada@x.example"))
            .await
            .unwrap();
    }
    store
        .insert_pending(&pending("p4", "bob@x.example"))
        .await
        .unwrap();
    assert_eq!(
        store.forget(&key("ada@x.example")).await.unwrap().pending,
        3
    );
    let left: Vec<String> = all(store.pending_signups().await)
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(left, ["p4"]);
}

async fn purging_keeps_the_unexpired_sign_ups_of_a_mailbox(store: Store) {
    let mut later = pending("p2", "ada@x.example");
    later.expires_at = 300;
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    store.insert_pending(&later).await.unwrap();
    assert_eq!(store.purge_expired(250).await.unwrap().deleted, 1);
    assert_eq!(store.lookup("p1").await.unwrap(), Lookup::Unknown);
    assert!(matches!(
        store.lookup("p2").await.unwrap(),
        Lookup::Pending(_)
    ));
    assert_eq!(
        store.latest_expiry(&key("ada@x.example")).await.unwrap(),
        Some(300)
    );
    assert!(matches!(
        store.claim("p2", "nonce-p2", 250).await.unwrap(),
        Claim::Claimed(_)
    ));
}

async fn a_registered_address_refuses_new_sign_ups(store: Store) {
    claimed(&store, "p1", "ada@x.example").await;
    assert!(matches!(
        store.insert_pending(&pending("p2", "ada@x.example")).await,
        Err(StoreError::AlreadyRegistered)
    ));
}

async fn concurrent_claims_yield_exactly_one_winner(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    let claims = (0..16).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim("p1", "nonce-p1", 150).await.unwrap() })
    });
    let claims: Vec<Claim> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        claims
            .iter()
            .filter(|c| matches!(c, Claim::Claimed(_)))
            .count(),
        1,
        "{claims:?}"
    );
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Claimed(_) | Claim::Resume(_)))
    );
}

async fn progress_is_saved_and_read_back(store: Store) {
    let mut registration = claimed(&store, "p1", "ada@x.example").await;
    registration.step = Step::UserCreated;
    registration.object_id = Some("oid".into());
    store.save_registration(&registration).await.unwrap();
    assert_eq!(
        store.registration(&key("ada@x.example")).await.unwrap(),
        Some(registration.clone())
    );
    registration.step = Step::Done;
    store.save_registration(&registration).await.unwrap();
    assert!(matches!(
        store.claim("p1", "nonce-p1", 150).await.unwrap(),
        Claim::AlreadyDone(_)
    ));
}

/// sled 0.34's `flush_async` deadlocks when several run at once (spacejam/sled#1308): eight
/// people confirming together hung for good in the benchmark. Many concurrent durable saves
/// must all finish. They run on a runtime of their own in a thread of their own, so a hang
/// fails the test instead of hanging it (the deadlock blocks the runtime's workers).
async fn concurrent_durable_saves_all_finish(store: Store) {
    let mut registrations = Vec::new();
    for n in 0..64 {
        registrations.push(claimed(&store, &format!("p{n}"), &format!("st{n}@x.example")).await);
    }
    let (finished, all_finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut saves = tokio::task::JoinSet::new();
            for mut registration in registrations {
                let store = store.clone();
                saves.spawn(async move {
                    for step in [Step::Creating, Step::UserCreated, Step::LicencesAssigned] {
                        registration.step = step;
                        store.save_registration(&registration).await.unwrap();
                    }
                });
            }
            while let Some(done) = saves.join_next().await {
                done.unwrap();
            }
        });
        let _ = finished.send(());
    });
    tokio::task::spawn_blocking(move || {
        all_finished.recv_timeout(std::time::Duration::from_secs(60))
    })
    .await
    .unwrap()
    .expect("concurrent durable saves hung");
}

async fn claimed(store: &Store, id: &str, email: &str) -> Registration {
    store.insert_pending(&pending(id, email)).await.unwrap();
    let Claim::Claimed(registration) = store.claim(id, &format!("nonce-{id}"), 150).await.unwrap()
    else {
        panic!("a claim of {id}")
    };
    registration
}

/// A process killed right after the claim, before its confirm got to enqueue, leaves the
/// registration queued all the same: the claim and the entry are one write.
async fn a_claim_queues_the_registration_with_it(store: Store) {
    claimed(&store, "p1", "ada@x.example").await;

    let entry = store
        .queue_entry(&key("ada@x.example"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((entry.queued_at, entry.next_attempt_at), (150, 150));
    assert_eq!(entry.signup_id, "p1");
    let again = store
        .enqueue(&key("ada@x.example"), "p1", 160, 160)
        .await
        .unwrap();
    assert_eq!(
        again, entry,
        "the confirm's own enqueue keeps the entry as it is"
    );
}

fn naming(mut registration: Registration, upn: &str) -> Registration {
    registration.upn = Some(upn.into());
    registration.step = Step::Creating;
    registration
}

async fn a_username_is_reserved_for_one_registration_and_moves_and_goes_with_it(store: Store) {
    let ada = claimed(&store, "p1", "ada@x.example").await;
    let other = claimed(&store, "p2", "other@x.example").await;
    let reserve = |registration: Registration, upn: &str| {
        let (store, registration) = (store.clone(), naming(registration, upn));
        async move { store.reserve_username(&registration).await.unwrap() }
    };

    assert!(reserve(ada.clone(), "ada.l@t.example").await);
    assert!(
        !reserve(other.clone(), "Ada.L@t.example").await,
        "the same name in another letter case is taken"
    );
    let saved = store.registration(&key("other@x.example")).await.unwrap();
    assert_eq!(
        saved.unwrap().step,
        Step::Claimed,
        "a refused reservation changes nothing"
    );
    assert!(reserve(other.clone(), "ada.l.2@t.example").await);
    assert_eq!(
        store.reserved_usernames("ada.l").await.unwrap(),
        vec!["ada.l.2@t.example", "ada.l@t.example"]
    );

    // Moving to another name frees the first; forgetting the address frees the second.
    assert!(reserve(ada, "ada.l.3@t.example").await);
    assert!(reserve(other, "ada.l@t.example").await);
    store.forget(&key("other@x.example")).await.unwrap();
    assert_eq!(
        store.reserved_usernames("ada.l").await.unwrap(),
        vec!["ada.l.3@t.example"]
    );
}

async fn imported_addresses_are_registered_once_and_listed(store: Store) {
    let details = Imported {
        registered_at: 50,
        upn: Some("bob@t.example".into()),
        ..Imported::default()
    };
    let bob = key("bob@x.example");
    assert!(store.import_registered(&bob, &details).await.unwrap());
    assert!(
        !store.import_registered(&bob, &details).await.unwrap(),
        "the second import of an address changes nothing"
    );
    claimed(&store, "p1", "ada@x.example").await;
    let listed: Vec<(String, bool)> = all(store.registrations().await)
        .into_iter()
        .map(|r| (r.email.to_string(), r.imported))
        .collect();
    assert_eq!(
        listed,
        [
            ("ada@x.example".into(), false),
            ("bob@x.example".into(), true)
        ]
    );
    let by_signup = store.registration_by_signup("p1").await.unwrap();
    assert_eq!(by_signup.unwrap().email, key("ada@x.example"));
    assert_eq!(store.registration_by_signup("").await.unwrap(), None);
}

/// A new, empty store of the same kind as `store` (and the directory a sled one lives in).
async fn another_like(store: &Store, test: &str) -> (Store, Option<tempfile::TempDir>) {
    if store.describe().starts_with("sled") {
        let (store, dir) = sled_store();
        (store, Some(dir))
    } else {
        (postgres_store(test).await, None)
    }
}

/// What `store copy` does: every record of one store into a new one, here into a sled
/// store and back into one of the kind under test, and nothing is lost on the way.
async fn a_backup_restores_into_a_new_store_of_either_kind(store: Store) {
    // Arrange: a registration with a reserved name, pending sign-ups, an import.
    let ada = claimed(&store, "p1", "ada@x.example").await;
    store
        .reserve_username(&naming(ada, "ada.l@t.example"))
        .await
        .unwrap();
    for id in ["p2", "p3"] {
        store
            .insert_pending(&pending(id, "bob@x.example"))
            .await
            .unwrap();
    }
    let cy = key("cy@x.example");
    store
        .import_registered(&cy, &Imported::default())
        .await
        .unwrap();
    store.use_reset_link(&cy, 120).await.unwrap();
    let mut life = AccountLife::new(cy.clone(), 100);
    life.end_moved_to = Some(5_000);
    assert!(store.save_life(&mut life).await.unwrap());
    let mut file = Vec::new();
    store.backup(&mut file).await.unwrap();

    // Act: into sled, out of it again, and into a new store of the kind under test.
    let (sled_copy, _dir) = sled_store();
    sled_copy.restore(file.as_slice()).await.unwrap();
    let mut again = Vec::new();
    sled_copy.backup(&mut again).await.unwrap();
    let (target, _target_dir) = another_like(&store, "a_backup_restores_into_a_new_store").await;
    let copied = target.restore(again.as_slice()).await.unwrap();

    // Assert
    assert_eq!(again, file, "the same records make the same file");
    assert_eq!(copied.records(), 8, "{copied}");
    for copy in [&sled_copy, &target] {
        assert!(matches!(
            copy.lookup("p1").await.unwrap(),
            Lookup::Registered(_)
        ));
        assert_eq!(
            copy.reserved_usernames("ada").await.unwrap(),
            vec!["ada.l@t.example"]
        );
        assert_eq!(all(copy.pending_signups().await).len(), 2);
        assert!(matches!(
            copy.claim("p3", "nonce-p3", 150).await.unwrap(),
            Claim::Claimed(_)
        ));
        assert_eq!(copy.lookup("p2").await.unwrap(), Lookup::AddressTaken);
        assert!(copy.registration(&cy).await.unwrap().unwrap().imported);
        assert_eq!(copy.reset_used_through(&cy).await.unwrap(), Some(120));
        assert_eq!(copy.life(&cy).await.unwrap().as_ref(), Some(&life));
        assert!(copy.verify().await.unwrap().is_healthy());
    }
    assert!(matches!(
        target.restore(again.as_slice()).await,
        Err(BackupError::NotEmpty { .. })
    ));
}

/// `tests/fixtures/store-backup-v1.jsonl`, written by the version before backups named
/// record kinds (sled's trees byte for byte, sled's default tree with the readiness probe's
/// key included), restores whole into either store.
async fn a_backup_of_the_first_version_restores_every_record(store: Store) {
    let fixture = include_bytes!("../../tests/fixtures/store-backup-v1.jsonl");

    let copied = store.restore(fixture.as_slice()).await.unwrap();

    let per_kind: Vec<(RecordKind, usize)> = copied.per_kind.into_iter().collect();
    assert_eq!(
        per_kind,
        [
            (RecordKind::Pending, 3),
            (RecordKind::Registration, 3),
            (RecordKind::Username, 2),
            (RecordKind::QueueEntry, 1),
            (RecordKind::Reset, 1),
        ]
    );
    let bob = store.latest_expiry(&key("bob@uni.example")).await.unwrap();
    assert_eq!(bob, Some(4_000_000_000), "bob's two links");
    assert!(matches!(
        store.claim("6a3e4c", "nonce-6a3e4c", 300).await.unwrap(),
        Claim::Claimed(registration) if registration.lang == "de"
    ));
    let ada = store.registration(&key("ada@uni.example")).await.unwrap();
    assert_eq!(
        ada.unwrap().upn.as_deref(),
        Some("ada.lovelace@tenant.example")
    );
    let queued = store.queue_entry(&key("ada@uni.example")).await.unwrap();
    let queued = queued.unwrap();
    assert_eq!(
        (queued.seq, queued.attempts, queued.next_attempt_at),
        (0, 1, 400)
    );
    assert!(matches!(
        store.claim("7b8c9d", "nonce-7b8c9d", 300).await.unwrap(),
        Claim::AlreadyDone(eve) if eve.object_id.is_some()
    ));
    let eve = key("eve@uni.example");
    assert_eq!(store.reset_used_through(&eve).await.unwrap(), Some(170));
    let cy = store.registration(&key("cy@uni.example")).await.unwrap();
    assert!(cy.unwrap().imported);
    assert_eq!(
        store.reserved_usernames("").await.unwrap(),
        ["ada.lovelace@tenant.example", "eve.example@tenant.example"]
    );
    let verified = store.verify().await.unwrap();
    assert!(verified.is_healthy(), "{:?}", verified.findings);
}

async fn a_reset_link_works_once(store: Store) {
    let ada = key("ada@uni.example");
    assert_eq!(store.reset_used_through(&ada).await.unwrap(), None);
    assert!(store.use_reset_link(&ada, 100).await.unwrap().is_some());
    assert_eq!(store.reset_used_through(&ada).await.unwrap(), Some(100));
    assert!(store.use_reset_link(&ada, 100).await.unwrap().is_none());
}

async fn using_a_newer_reset_link_kills_the_older_ones_but_not_later_ones(store: Store) {
    let ada = key("ada@uni.example");
    assert!(store.use_reset_link(&ada, 200).await.unwrap().is_some());
    assert!(store.use_reset_link(&ada, 100).await.unwrap().is_none());
    assert!(store.use_reset_link(&ada, 200).await.unwrap().is_none());
    assert!(store.use_reset_link(&ada, 300).await.unwrap().is_some());
}

async fn a_released_reset_link_works_again_unless_a_newer_one_was_used(store: Store) {
    let ada = key("ada@uni.example");
    store.use_reset_link(&ada, 100).await.unwrap();
    let used = store.use_reset_link(&ada, 200).await.unwrap().unwrap();
    store.release_reset_link(&used).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).await.unwrap(), Some(100));
    assert!(store.use_reset_link(&ada, 200).await.unwrap().is_some());

    let older = store.use_reset_link(&ada, 300).await.unwrap().unwrap();
    store.use_reset_link(&ada, 400).await.unwrap().unwrap();
    store.release_reset_link(&older).await.unwrap();
    assert_eq!(
        store.reset_used_through(&ada).await.unwrap(),
        Some(400),
        "a newer link used meanwhile stays used"
    );
}

async fn forgetting_an_address_forgets_its_reset_record(store: Store) {
    let ada = key("ada@uni.example");
    store.use_reset_link(&ada, 100).await.unwrap();
    store.forget(&ada).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).await.unwrap(), None);
    assert!(store.use_reset_link(&ada, 100).await.unwrap().is_some());
}

/// One link pressed many times at once (in several instances, for PostgreSQL): it is used
/// once.
async fn concurrent_uses_of_one_reset_link_yield_exactly_one_winner(store: Store) {
    let ada = key("ada@uni.example");
    store.use_reset_link(&ada, 100).await.unwrap();
    let uses = (0..16).map(|_| {
        let (store, ada) = (store.clone(), ada.clone());
        tokio::spawn(async move { store.use_reset_link(&ada, 200).await.unwrap() })
    });
    let won: Vec<UsedResetLink> = futures_util::future::join_all(uses)
        .await
        .into_iter()
        .filter_map(|used| used.unwrap())
        .collect();
    assert_eq!(won.len(), 1, "{won:?}");
    assert_eq!(store.reset_used_through(&ada).await.unwrap(), Some(200));
    store.release_reset_link(&won[0]).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).await.unwrap(), Some(100));
}

async fn queued_emails(store: &Store) -> Vec<String> {
    all(store.queued().await)
        .into_iter()
        .map(|entry| entry.email.to_string())
        .collect()
}

async fn queue_entries_come_out_in_confirm_order_when_due(store: Store) {
    for (i, email) in ["c@x.example", "a@x.example", "b@x.example"]
        .iter()
        .enumerate()
    {
        store
            .enqueue(&key(email), &format!("id{i}"), 100, 100)
            .await
            .unwrap();
    }
    assert_eq!(
        queued_emails(&store).await,
        ["c@x.example", "a@x.example", "b@x.example"]
    );

    let none = HashSet::new();
    let first = store.next_due(100, &none).await.unwrap().unwrap();
    assert_eq!(first.email, key("c@x.example"));
    let running = HashSet::from([key("c@x.example")]);
    let skipping = store.next_due(100, &running).await.unwrap().unwrap();
    assert_eq!(skipping.email, key("a@x.example"));
    assert!(
        store.next_due(99, &none).await.unwrap().is_none(),
        "none due yet"
    );
}

async fn a_second_enqueue_keeps_the_place_and_a_reschedule_counts_an_attempt(store: Store) {
    let none = HashSet::new();
    let (a, b) = (key("a@x.example"), key("b@x.example"));
    store.enqueue(&a, "a", 100, 100).await.unwrap();
    store.enqueue(&b, "b", 101, 101).await.unwrap();
    let later = store.reschedule(&a, 500).await.unwrap().unwrap();
    assert_eq!((later.attempts, later.next_attempt_at), (1, 500));
    assert_eq!(
        store.next_due(200, &none).await.unwrap().unwrap().email,
        b,
        "a waits for its next attempt"
    );

    let again = store.enqueue(&a, "a", 200, 200).await.unwrap();
    assert_eq!((again.seq, again.next_attempt_at), (later.seq, 200));
    assert_eq!(
        store.next_due(200, &none).await.unwrap().unwrap().email,
        a,
        "first in confirm order again"
    );
    assert_eq!(
        store.queue_stats().await.unwrap(),
        QueueStats {
            length: 2,
            oldest_queued_at: Some(100),
            waiting_for_seat: 0,
        }
    );
    assert_eq!(store.queue_entry(&a).await.unwrap(), Some(again));
}

async fn queue_entries_added_after_a_restore_queue_up_behind_the_restored_ones(store: Store) {
    for i in 0..3 {
        store
            .enqueue(&key(&format!("old{i}@x.example")), "o", 1, 1)
            .await
            .unwrap();
    }
    let mut file = Vec::new();
    store.backup(&mut file).await.unwrap();
    let (new, _dir) = another_like(&store, "queue_entries_added_after_a_restore").await;
    new.restore(file.as_slice()).await.unwrap();

    new.enqueue(&key("new@x.example"), "n", 2, 2).await.unwrap();

    assert_eq!(
        queued_emails(&new).await,
        [
            "old0@x.example",
            "old1@x.example",
            "old2@x.example",
            "new@x.example"
        ]
    );
    // Through a sled store and back: the same entries, the same places.
    let (sled_copy, _sled_dir) = sled_store();
    sled_copy.restore(file.as_slice()).await.unwrap();
    let copied = all(sled_copy.queued().await);
    let original = all(store.queued().await);
    assert_eq!(copied, original);
    assert_eq!(
        sled_copy.queue_entry(&key("old1@x.example")).await.unwrap(),
        Some(original[1].clone())
    );
}

async fn a_dequeued_registration_is_gone_and_rescheduling_it_does_nothing(store: Store) {
    let a = key("a@x.example");
    store.enqueue(&a, "a", 100, 100).await.unwrap();
    assert!(store.dequeue(&a).await.unwrap());
    assert!(!store.dequeue(&a).await.unwrap());
    assert!(store.queue_entry(&a).await.unwrap().is_none());
    assert!(store.reschedule(&a, 5).await.unwrap().is_none());
    assert_eq!(store.queue_stats().await.unwrap(), QueueStats::default());
}

async fn an_entry_waiting_for_a_seat_says_which_until_a_reschedule_and_survives_a_backup(
    store: Store,
) {
    let none = HashSet::new();
    let (a, b) = (key("a@x.example"), key("b@x.example"));
    store.enqueue(&a, "a", 100, 100).await.unwrap();
    store.enqueue(&b, "b", 101, 101).await.unwrap();

    let waiting = store
        .wait_for_seat(&a, "sku-1", 160)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(waiting.waiting_for_seat.as_deref(), Some("sku-1"));
    assert_eq!(
        (waiting.attempts, waiting.next_attempt_at),
        (0, 160),
        "waiting for a seat is no failed attempt"
    );
    assert_eq!(store.queue_entry(&a).await.unwrap(), Some(waiting.clone()));
    assert_eq!(store.next_due(150, &none).await.unwrap().unwrap().email, b);
    assert_eq!(store.next_due(160, &none).await.unwrap().unwrap().email, a);
    assert_eq!(store.queue_stats().await.unwrap().waiting_for_seat, 1);
    // In a backup, and restored into a store of either kind, it still waits for its SKU.
    let mut file = Vec::new();
    store.backup(&mut file).await.unwrap();
    let (sled_copy, _sled_dir) = sled_store();
    sled_copy.restore(file.as_slice()).await.unwrap();
    let (same_kind, _dir) = another_like(&store, "an_entry_waiting_for_a_seat").await;
    same_kind.restore(file.as_slice()).await.unwrap();
    for copy in [&sled_copy, &same_kind] {
        assert_eq!(copy.queue_entry(&a).await.unwrap(), Some(waiting.clone()));
    }

    let rescheduled = store.reschedule(&a, 200).await.unwrap().unwrap();
    assert_eq!(rescheduled.waiting_for_seat, None, "a reschedule clears it");
    assert_eq!(rescheduled.attempts, 1);
    assert_eq!(store.queue_stats().await.unwrap().waiting_for_seat, 0);
    let gone = key("gone@x.example");
    assert!(
        store
            .wait_for_seat(&gone, "sku-1", 1)
            .await
            .unwrap()
            .is_none()
    );
}

/// `store verify` of a store this program wrote: every kind counted, nothing found.
async fn a_healthy_store_verifies_with_its_counts(store: Store) {
    let ada = claimed(&store, "p1", "ada@x.example").await;
    store
        .reserve_username(&naming(ada, "ada.l@t.example"))
        .await
        .unwrap();
    store
        .insert_pending(&pending("p2", "bob@x.example"))
        .await
        .unwrap();
    store
        .import_registered(&key("cy@x.example"), &Imported::default())
        .await
        .unwrap();
    let mut life = AccountLife::new(key("cy@x.example"), 100);
    assert!(store.save_life(&mut life).await.unwrap());

    let verified = store.verify().await.unwrap();

    assert!(verified.is_healthy(), "{:?}", verified.findings);
    let counts: Vec<usize> = verified.per_kind.unwrap().into_values().collect();
    assert_eq!(
        counts,
        [1, 2, 1, 1, 0, 1, 0, 0],
        "pending, registrations, usernames, queue, resets, lifecycle, audit lines, vouchers"
    );
}

/// Two instances on one database: two handles, each its own lease holder.
pub(super) async fn two_instances(test: &str) -> (Store, Store) {
    let (url, schema) = fresh_schema(test).await;
    let one = Store::connect_in_schema(&url, &schema).await.unwrap();
    let two = Store::connect_in_schema(&url, &schema).await.unwrap();
    (one, two)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_claims_split_across_two_instances_yield_one_winner() {
    let (one, two) = two_instances("postgres_claims_split_across_two_instances").await;
    one.insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    let claims = (0..50).map(|n| {
        let store = if n % 2 == 0 { one.clone() } else { two.clone() };
        tokio::spawn(async move { store.claim("p1", "nonce-p1", 150).await.unwrap() })
    });
    let claims: Vec<Claim> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners = claims
        .iter()
        .filter(|c| matches!(c, Claim::Claimed(_)))
        .count();
    assert_eq!(winners, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Claimed(_) | Claim::Resume(_)))
    );
}

/// This instance's lease on `email`, however it is held.
async fn lease(store: &Store, email: &RegistryKey) -> Result<Option<Registration>, StoreError> {
    store
        .lease(email)
        .await
        .map(|(_, registration)| registration)
}

/// Gives up `store`'s lease on `email` (a run that ended).
async fn release(store: &Store, email: &RegistryKey) {
    let (Lease::Row(lease), _) = store.lease(email).await.unwrap() else {
        panic!("PostgreSQL leases rows")
    };
    lease.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_one_instance_at_a_time_provisions_a_registration() {
    let (one, two) = two_instances("postgres_one_instance_at_a_time").await;
    let mut ada = claimed(&one, "p1", "ada@x.example").await;
    let email = ada.email.clone();
    // The claimer holds the lease: the other instance waits its turn, even to save.
    assert!(matches!(lease(&two, &email).await, Err(StoreError::Busy)));
    ada.step = Step::Creating;
    assert!(matches!(
        two.save_registration(&ada).await,
        Err(StoreError::Busy)
    ));
    assert!(matches!(
        two.reserve_username(&naming(ada.clone(), "ada@t.example"))
            .await,
        Err(StoreError::Busy)
    ));
    assert!(two.reserved_usernames("ada").await.unwrap().is_empty());
    one.save_registration(&ada).await.unwrap();

    release(&one, &email).await;
    let current = lease(&two, &email).await.unwrap().unwrap();
    assert_eq!(
        current.step,
        Step::Creating,
        "the other reads where it stopped"
    );
    assert!(matches!(
        one.save_registration(&ada).await,
        Err(StoreError::Busy)
    ));
    assert!(matches!(
        lease(&two, &key("nobody@x.example")).await,
        Ok(None)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_counts_mails_for_every_instance_together() {
    let (one, two) = two_instances("postgres_counts_mails").await;
    let hour = 7200;
    let count = |store: &Store, key: &'static str, at: u64| {
        let store = store.clone();
        async move { store.count_mail(key, 3, at).await.unwrap() }
    };
    assert_eq!(count(&one, "all", hour + 10).await, Some(Ok(())));
    assert_eq!(count(&two, "all", hour + 20).await, Some(Ok(())));
    assert_eq!(count(&one, "all", hour + 30).await, Some(Ok(())));
    assert_eq!(
        count(&two, "all", hour + 40).await,
        Some(Err(std::time::Duration::from_secs(3600 - 40))),
        "the fourth mail of the hour waits for the next"
    );
    assert_eq!(
        count(&two, "mailbox:ada@x.example", hour + 40).await,
        Some(Ok(())),
        "another key has its own count"
    );
    assert_eq!(count(&one, "all", hour + 3600).await, Some(Ok(())));
    one.purge_expired(hour + 3600).await.unwrap();
    let (sled_store, _dir) = sled_store();
    assert_eq!(
        count(&sled_store, "all", hour).await,
        None,
        "one process counts in memory"
    );
}

/// A registration claimed in one instance is run by that instance's worker; another's takes
/// it only once the first lets go, and never one the first is running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_a_queued_registration_goes_to_one_instance_at_a_time() {
    let (one, two) = two_instances("postgres_a_queued_registration_goes_to_one").await;
    let none = HashSet::new();
    for (id, email) in [("p1", "a@x.example"), ("p2", "b@x.example")] {
        claimed(&one, id, email).await;
        one.enqueue(&key(email), id, 150, 150).await.unwrap();
    }

    assert_eq!(
        two.next_due(150, &none).await.unwrap(),
        None,
        "the claiming instance holds both"
    );
    let a = one.next_due(150, &none).await.unwrap().unwrap();
    let running = HashSet::from([a.email.clone()]);
    let b = one.next_due(150, &running).await.unwrap().unwrap();
    assert_eq!((a.email, b.email), (key("a@x.example"), key("b@x.example")));

    // a's run ends without finishing (it stays queued): the other instance may take it.
    release(&one, &key("a@x.example")).await;
    let taken = two.next_due(150, &none).await.unwrap().unwrap();
    assert_eq!(taken.email, key("a@x.example"));
    let running = HashSet::from([key("b@x.example")]);
    assert_eq!(
        one.next_due(150, &running).await.unwrap(),
        None,
        "a is the other's now"
    );
    assert!(
        matches!(
            lease(&one, &key("a@x.example")).await,
            Err(StoreError::Busy)
        ),
        "the run that follows holds the lease already"
    );
}

/// The claim queues the registration in its own transaction: an instance killed right
/// after it, before its confirm got to enqueue, leaves the registration to another's worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_a_claimed_registration_is_queued_with_the_claim() {
    let (one, two) = two_instances("postgres_a_claimed_registration_is_queued").await;
    claimed(&one, "p1", "ada@x.example").await;
    let ada = key("ada@x.example");

    let entry = one.queue_entry(&ada).await.unwrap().unwrap();
    assert_eq!((entry.queued_at, entry.next_attempt_at), (150, 150));
    // The claiming instance dies; its lease lapses (here: is let go).
    release(&one, &ada).await;
    let taken = two.next_due(150, &HashSet::new()).await.unwrap().unwrap();
    assert_eq!(taken, entry);
    let again = two.enqueue(&ada, "p1", 160, 160).await.unwrap();
    assert_eq!(
        again, entry,
        "the confirm's own enqueue keeps the entry as it is"
    );
}

/// Two instances' workers drain one queue at once: every entry is taken exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_two_workers_draining_one_queue_run_each_entry_once() {
    let (one, two) = two_instances("postgres_two_workers_draining_one_queue").await;
    let emails: Vec<String> = (0..40).map(|i| format!("p{i}@x.example")).collect();
    for (i, email) in emails.iter().enumerate() {
        claimed(&one, &format!("q{i}"), email).await;
        // Confirmed and let go: any instance may run it.
        release(&one, &key(email)).await;
        one.enqueue(&key(email), &format!("q{i}"), 150, 150)
            .await
            .unwrap();
    }

    let drain = |store: Store| {
        tokio::spawn(async move {
            let mut ran = Vec::new();
            while let Some(entry) = store.next_due(150, &HashSet::new()).await.unwrap() {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                assert!(
                    store.dequeue(&entry.email).await.unwrap(),
                    "{entry:?} ran twice"
                );
                release(&store, &entry.email).await;
                ran.push(entry.email.to_string());
            }
            ran
        })
    };
    let (by_one, by_two) = (drain(one.clone()), drain(two));
    let (by_one, by_two) = (by_one.await.unwrap(), by_two.await.unwrap());

    let mut every: Vec<String> = by_one.iter().chain(&by_two).cloned().collect();
    every.sort();
    let mut expected = emails.clone();
    expected.sort();
    assert_eq!(every, expected, "each entry once: {by_one:?} / {by_two:?}");
    assert_eq!(one.queue_stats().await.unwrap(), QueueStats::default());
}

#[test]
fn the_newest_migration_is_the_highest_number_not_the_count() {
    // Numbers are handed to branches in advance, so the list may have gaps (1, 2, 3, 6).
    let versions: Vec<i32> = postgres::migrations::MIGRATIONS
        .iter()
        .map(|(version, _, _)| *version)
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(
        postgres::migrations::NEWEST,
        *versions.last().unwrap(),
        "{versions:?}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_migrations_are_applied_once() {
    let (url, schema) = fresh_schema("postgres_migrations_are_applied_once").await;
    let store = postgres::PgStore::connect(&url, Some(&schema)).unwrap();
    assert!(
        !store.is_ready().await,
        "not ready before the schema is there"
    );
    assert_eq!(
        store.migrate().await.unwrap(),
        postgres::migrations::MIGRATIONS.len()
    );
    assert_eq!(store.migrate().await.unwrap(), 0);
    assert!(store.is_ready().await);
    let config: tokio_postgres::Config = url.parse().unwrap();
    assert_eq!(
        store.describe(),
        format!("PostgreSQL at {}", postgres::describe(&config))
    );
}

#[tokio::test]
async fn postgres_unreachable_is_not_ready_and_errors_without_hanging() {
    // A port nothing listens on (the connection is refused at once).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let store =
        Store::connect_migrating(&format!("postgres://nobody@127.0.0.1:{port}/none")).unwrap();
    assert!(!store.is_ready().await);
    let err = store.lookup("p1").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert_eq!(store.failure(), None, "the server goes on and retries");
}

/// A database call waits for PostgreSQL without holding the thread that awaits it: on a
/// runtime with one thread, a task beside a claim stuck behind a row lock goes on ticking.
/// (Before, the store's methods blocked the calling thread until the database answered.)
#[tokio::test(flavor = "current_thread")]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_a_waiting_query_leaves_the_runtime_thread_free() {
    // Arrange: a pending sign-up whose row another connection, on a thread of its own,
    // holds locked for a second.
    let test = "postgres_a_waiting_query_leaves_the_runtime_thread_free";
    let (url, schema) = fresh_schema(test).await;
    let store = Store::connect_in_schema(&url, &schema).await.unwrap();
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .await
        .unwrap();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let locker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = raw_client(&url).await;
            let lock = format!("BEGIN; SELECT 1 FROM {schema}.pending WHERE id = 'p1' FOR UPDATE;");
            client.batch_execute(&lock).await.unwrap();
            locked.send(()).unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            client.batch_execute("COMMIT").await.unwrap();
        });
    });
    is_locked.recv().unwrap();
    let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });

    // Act: the claim waits for the lock while the ticker runs on the same thread.
    let claim = tokio::spawn({
        let store = store.clone();
        async move { store.claim("p1", "nonce-p1", 150).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let ticked_while_waiting = ticks.load(std::sync::atomic::Ordering::Relaxed);
    let finished_early = claim.is_finished();
    let claimed = claim.await.unwrap().unwrap();
    ticker.abort();
    locker.join().unwrap();

    // Assert
    assert!(!finished_early, "the claim waited for the row lock");
    assert!(
        ticked_while_waiting >= 10,
        "the runtime's only thread was held: {ticked_while_waiting} ticks in 300 ms"
    );
    assert!(matches!(claimed, Claim::Claimed(_)), "{claimed:?}");
}

/// `store verify` of a database whose records and columns disagree, and of one without
/// the schema: each thing wrong is named.
#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_verify_names_what_is_wrong() {
    let (url, schema) = fresh_schema("postgres_verify_names_what_is_wrong").await;
    let store = Store::connect_in_schema(&url, &schema).await.unwrap();
    let ada = claimed(&store, "p1", "ada@x.example").await;
    store
        .reserve_username(&naming(ada, "ada.l@t.example"))
        .await
        .unwrap();
    claimed(&store, "p2", "bob@x.example").await;
    let damage = format!(
        "SET search_path = {schema};
         UPDATE registrations SET record = jsonb_set(record, '{{upn}}', '\"bob.b@t.example\"')
           WHERE email = 'bob@x.example';
         UPDATE registrations SET signup_id = 'other' WHERE email = 'ada@x.example';
         INSERT INTO pending (id, email, nonce, expires_at, record)
           VALUES ('p3', 'cy@x.example', 'n', 1, '{{\"not\": \"a sign-up\"}}');"
    );
    raw_client(&url).await.batch_execute(&damage).await.unwrap();

    let verified = store.verify().await.unwrap();

    let text: Vec<String> = verified.findings.iter().map(ToString::to_string).collect();
    assert_eq!(verified.findings.len(), 4, "{text:#?}");
    assert!(matches!(
        &verified.findings[0],
        Finding::Undecodable(Unreadable { kind: RecordKind::Pending, key, .. }) if key == "p3"
    ));
    assert!(text[1].contains("bob.b@t.example"), "{text:#?}");
    assert!(
        text.iter().any(|t| t.contains("pending sign-up's id")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("registration's mailbox or sign-up id")),
        "{text:#?}"
    );
    let unmigrated = fresh_schema("postgres_verify_names_what_is_wrong").await;
    let url = format!(
        "{}?options=-c%20search_path%3D{}",
        unmigrated.0, unmigrated.1
    );
    let empty = Store::verify_postgres(&url).await.unwrap();
    assert!(
        matches!(&empty.findings[..], [Finding::Schema(_)]),
        "{empty:?}"
    );
    assert_eq!(empty.per_kind, None);
}

// After `both_backends!`, which it uses.
mod lifecycle;
