//! The store's tests. Most run once per backend: each is a function taking a fresh
//! [`Store`], and `both_backends!` makes a `#[test]` of it in `sled_backend` and in
//! `postgres_backend`. The PostgreSQL ones need a server at `TEST_DATABASE_URL`: they are
//! `#[ignore]`d, and `tests/run` runs them (`--include-ignored`) on a throwaway cluster it
//! starts; run without the variable, they fail saying so. Each gets a schema of its own, so
//! they run in parallel. The rest are about sled's files and run on sled only.

use std::collections::HashSet;

use super::*;
use crate::domain::{Mailbox, Step, SubaddressSeparator};

/// A sled store in a directory of its own, as the server opens one.
fn sled_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::open(dir.path()).unwrap(), dir)
}

/// The sled handle of a store the sled-only tests made.
fn sled(store: &Store) -> &SledStore {
    match &store.backend {
        Backend::Sled(store) => store,
        Backend::Postgres(_) => panic!("a sled-only test got a PostgreSQL store"),
    }
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

/// A new, empty schema in the test database, and the URL it is in.
fn fresh_schema(test: &str) -> (String, String) {
    let url = test_database_url(test);
    let schema = format!(
        "test_{}",
        crate::signup::password::random_id(8)
            .unwrap()
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    // On a thread of its own: the caller may be an async test, inside a runtime already.
    let (at, create) = (url.clone(), format!("CREATE SCHEMA {schema}"));
    std::thread::spawn(move || {
        block_on(async {
            let (client, connection) = tokio_postgres::connect(&at, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client.batch_execute(&create).await.unwrap();
        })
    })
    .join()
    .unwrap();
    (url, schema)
}

/// A migrated PostgreSQL store in a new schema.
fn postgres_store(test: &str) -> Store {
    let (url, schema) = fresh_schema(test);
    let store = Store::connect_in_schema(&url, &schema).unwrap();
    store.migrate().unwrap();
    store
}

/// Runs an async test body to its end.
fn block_on<F: std::future::Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(body)
}

/// A `#[test]` per backend for each named test function (`async` ones in a runtime).
macro_rules! both_backends {
    (sync: [$($sync:ident),* $(,)?], async: [$($async:ident),* $(,)?] $(,)?) => {
        mod sled_backend {
            $(#[test]
            fn $sync() {
                let (store, _dir) = super::sled_store();
                super::$sync(store);
            })*
            $(#[test]
            fn $async() {
                let (store, _dir) = super::sled_store();
                super::block_on(super::$async(store));
            })*
        }
        mod postgres_backend {
            $(#[test]
            #[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
            fn $sync() {
                super::$sync(super::postgres_store(stringify!($sync)));
            })*
            $(#[test]
            #[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
            fn $async() {
                super::block_on(super::$async(super::postgres_store(stringify!($async))));
            })*
        }
    };
}

both_backends! {
    sync: [
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
        a_claim_queues_the_registration_with_it,
    ],
    async: [
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
    ],
}

/// The key of a person's mailbox.
fn key(email: &str) -> RegistryKey {
    RegistryKey::from(&Mailbox::parse(email, SubaddressSeparator::PLUS).unwrap())
}

fn pending(id: &str, email: &str) -> PendingSignup {
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
    }
}

fn a_pending_sign_up_can_be_claimed_once(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    let Claim::Claimed(registration) = store.claim("p1", "nonce-p1", 150).unwrap() else {
        panic!("first claim")
    };
    assert_eq!(registration.step, Step::Claimed);
    assert_eq!(registration.consent_email_at, 100);
    assert!(
        store
            .is_registered(&Mailbox::parse("ada@x.example", SubaddressSeparator::PLUS).unwrap())
            .unwrap()
    );
    assert!(matches!(
        store.claim("p1", "nonce-p1", 150).unwrap(),
        Claim::Resume(_)
    ));
    assert!(matches!(store.lookup("p1").unwrap(), Lookup::Registered(_)));
}

fn a_wrong_nonce_or_unknown_id_claims_nothing(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    assert_eq!(store.claim("p1", "forged", 150).unwrap(), Claim::Unknown);
    assert_eq!(
        store.claim("nope", "nonce-p1", 150).unwrap(),
        Claim::Unknown
    );
    assert!(matches!(store.lookup("p1").unwrap(), Lookup::Pending(_)));
}

fn an_expired_sign_up_cannot_be_claimed(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    assert_eq!(store.claim("p1", "nonce-p1", 200).unwrap(), Claim::Expired);
}

fn every_submission_keeps_its_own_link_until_one_is_claimed(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    store
        .insert_pending(&pending("p2", "ada@x.example"))
        .unwrap();
    assert!(matches!(store.lookup("p1").unwrap(), Lookup::Pending(_)));
    assert!(matches!(store.lookup("p2").unwrap(), Lookup::Pending(_)));

    assert!(matches!(
        store.claim("p1", "nonce-p1", 150).unwrap(),
        Claim::Claimed(_)
    ));
    assert_eq!(store.lookup("p2").unwrap(), Lookup::AddressTaken);
    assert_eq!(
        store.claim("p2", "nonce-p2", 150).unwrap(),
        Claim::AddressTaken,
        "the first confirm wins"
    );
}

fn forgetting_an_address_removes_all_its_pending_sign_ups(store: Store) {
    for id in ["p1", "p2", "p3"] {
        store.insert_pending(&pending(id, "ada@x.example")).unwrap();
    }
    store
        .insert_pending(&pending("p4", "bob@x.example"))
        .unwrap();
    assert_eq!(store.forget(&key("ada@x.example")).unwrap().pending, 3);
    let left: Vec<String> = store.pending_signups().map(|p| p.unwrap().id).collect();
    assert_eq!(left, ["p4"]);
}

fn purging_keeps_the_unexpired_sign_ups_of_a_mailbox(store: Store) {
    let mut later = pending("p2", "ada@x.example");
    later.expires_at = 300;
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    store.insert_pending(&later).unwrap();
    assert_eq!(store.purge_expired(250).unwrap().deleted, 1);
    assert_eq!(store.lookup("p1").unwrap(), Lookup::Unknown);
    assert!(matches!(store.lookup("p2").unwrap(), Lookup::Pending(_)));
    assert_eq!(
        store.latest_expiry(&key("ada@x.example")).unwrap(),
        Some(300)
    );
    assert!(matches!(
        store.claim("p2", "nonce-p2", 250).unwrap(),
        Claim::Claimed(_)
    ));
}

#[test]
fn a_store_written_with_one_pending_id_per_mailbox_reads_the_same() {
    let store = Store::temporary().unwrap();
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    // What the earlier layout wrote: the bare id.
    sled(&store)
        .pending_by_email
        .insert(key("ada@x.example").as_bytes(), "p1")
        .unwrap();
    store
        .insert_pending(&pending("p2", "ada@x.example"))
        .unwrap();
    assert_eq!(store.forget(&key("ada@x.example")).unwrap().pending, 2);
}

fn a_registered_address_refuses_new_sign_ups(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    store.claim("p1", "nonce-p1", 150).unwrap();
    assert!(matches!(
        store.insert_pending(&pending("p2", "ada@x.example")),
        Err(StoreError::AlreadyRegistered)
    ));
}

fn concurrent_claims_yield_exactly_one_winner(store: Store) {
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    let claims: Vec<Claim> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| store.claim("p1", "nonce-p1", 150).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
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
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    let Claim::Claimed(mut registration) = store.claim("p1", "nonce-p1", 150).unwrap() else {
        panic!()
    };
    registration.step = Step::UserCreated;
    registration.object_id = Some("oid".into());
    store.save_registration(&registration).await.unwrap();
    assert_eq!(
        store.registration(&key("ada@x.example")).unwrap(),
        Some(registration.clone())
    );
    registration.step = Step::Done;
    store.save_registration(&registration).await.unwrap();
    assert!(matches!(
        store.claim("p1", "nonce-p1", 150).unwrap(),
        Claim::AlreadyDone(_)
    ));
}

#[test]
fn the_store_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .insert_pending(&pending("p1", "ada@x.example"))
            .unwrap();
        store.claim("p1", "nonce-p1", 150).unwrap();
        sled(&store).db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(
        store
            .is_registered(&Mailbox::parse("ada@x.example", SubaddressSeparator::PLUS).unwrap())
            .unwrap()
    );
}

/// sled's background I/O may hold the store's files (and their lock) for a moment after the
/// last handle is dropped: opening right away still succeeds. (The old open failed here about
/// one run in five on a loaded machine, never on a quiet one.)
#[test]
fn a_store_closed_a_moment_ago_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..100 {
        let store = Store::open(dir.path()).unwrap_or_else(|err| panic!("round {round}: {err}"));
        store
            .insert_pending(&pending(&format!("p{round}"), "ada@x.example"))
            .unwrap();
        store.flush_blocking().unwrap();
    }
}

#[test]
fn failures_an_operator_can_fix_are_named() {
    use std::io::{Error, ErrorKind};
    let sled_io = |err: Error| StoreError::from(sled::Error::Io(err));
    let cases = [
        (
            sled_io(Error::from(ErrorKind::StorageFull)),
            "the filesystem holding the store is full",
        ),
        (
            sled_io(Error::from(ErrorKind::ReadOnlyFilesystem)),
            "not writable",
        ),
        (
            sled_io(Error::from(ErrorKind::PermissionDenied)),
            "not writable",
        ),
        // As sled 0.34 reports a lock another process holds.
        (
            sled_io(Error::other(
                "could not acquire lock on \"/srv/store/db\": Os { code: 11 }",
            )),
            "stop the server first",
        ),
        (
            sled_io(Error::from(ErrorKind::NotADirectory)),
            "store error: IO error: not a directory",
        ),
    ];
    for (err, expected) in cases {
        assert!(err.to_string().contains(expected), "{err}");
    }
}

/// sled 0.34's `flush_async` deadlocks when several run at once (spacejam/sled#1308): eight
/// people confirming together hung for good in the benchmark. Many concurrent durable saves
/// must all finish. They run on a runtime of their own in a thread of their own, so a hang
/// fails the test instead of hanging it (the deadlock blocks the runtime's workers).
fn concurrent_durable_saves_all_finish(store: Store) {
    let (finished, all_finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut saves = tokio::task::JoinSet::new();
            for n in 0..64 {
                let id = format!("p{n}");
                store
                    .insert_pending(&pending(&id, &format!("st{n}@x.example")))
                    .unwrap();
                let Claim::Claimed(mut registration) =
                    store.claim(&id, &format!("nonce-{id}"), 150).unwrap()
                else {
                    panic!("claimed")
                };
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
    all_finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("concurrent durable saves hung");
}

fn claimed(store: &Store, id: &str, email: &str) -> Registration {
    store.insert_pending(&pending(id, email)).unwrap();
    let Claim::Claimed(registration) = store.claim(id, &format!("nonce-{id}"), 150).unwrap() else {
        panic!("a claim of {id}")
    };
    registration
}

/// A process killed right after the claim, before its confirm got to enqueue, leaves the
/// registration queued all the same: the claim and the entry are one write.
fn a_claim_queues_the_registration_with_it(store: Store) {
    claimed(&store, "p1", "ada@x.example");

    let entry = store.queue_entry(&key("ada@x.example")).unwrap().unwrap();
    assert_eq!((entry.queued_at, entry.next_attempt_at), (150, 150));
    assert_eq!(entry.signup_id, "p1");
    let again = block_on(store.enqueue(&key("ada@x.example"), "p1", 160, 160)).unwrap();
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
    let ada = claimed(&store, "p1", "ada@x.example");
    let other = claimed(&store, "p2", "other@x.example");

    assert!(
        store
            .reserve_username(&naming(ada.clone(), "ada.l@t.example"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .reserve_username(&naming(other.clone(), "Ada.L@t.example"))
            .await
            .unwrap(),
        "the same name in another letter case is taken"
    );
    assert_eq!(
        store
            .registration(&key("other@x.example"))
            .unwrap()
            .unwrap()
            .step,
        Step::Claimed,
        "a refused reservation changes nothing"
    );
    assert!(
        store
            .reserve_username(&naming(other.clone(), "ada.l.2@t.example"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.reserved_usernames("ada.l").unwrap(),
        vec!["ada.l.2@t.example", "ada.l@t.example"]
    );

    // Moving to another name frees the first; forgetting the address frees the second.
    assert!(
        store
            .reserve_username(&naming(ada, "ada.l.3@t.example"))
            .await
            .unwrap()
    );
    assert!(
        store
            .reserve_username(&naming(other, "ada.l@t.example"))
            .await
            .unwrap()
    );
    store.forget(&key("other@x.example")).unwrap();
    assert_eq!(
        store.reserved_usernames("ada.l").unwrap(),
        vec!["ada.l.3@t.example"]
    );
}

#[test]
fn purging_skips_an_unreadable_record_and_goes_on() {
    let store = Store::temporary().unwrap();
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    sled(&store)
        .pending
        .insert("p2", &b"{not json"[..])
        .unwrap();
    store
        .insert_pending(&pending("p3", "bob@x.example"))
        .unwrap();

    let purged = store.purge_expired(250).unwrap();

    assert_eq!(
        purged.deleted, 2,
        "the records before and after the bad one"
    );
    let [unreadable] = &purged.unreadable[..] else {
        panic!("{purged:?}")
    };
    assert_eq!(
        (unreadable.tree, unreadable.key.as_str()),
        ("pending", "p2")
    );
    assert_eq!(store.failure(), None, "nothing stops the server");
    assert_eq!(store.purge_expired(250).unwrap().unreadable.len(), 1);
}

/// Overwrites the first occurrence of `needle` in the store's log file.
fn overwrite_in_store_files(dir: &std::path::Path, needle: &[u8]) {
    let log = dir.join("db");
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes
        .windows(needle.len())
        .position(|window| window == needle)
        .expect("the bytes are in the log");
    bytes[at..at + needle.len()].fill(b'X');
    std::fs::write(&log, bytes).unwrap();
}

#[test]
fn a_damaged_store_is_refused_at_opening_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .insert_pending(&pending("p1", "ada@x.example"))
            .unwrap();
        store.flush_blocking().unwrap();
    }
    // Opened once more, as every restart does: sled writes a snapshot.
    drop(Store::open(dir.path()).unwrap());
    overwrite_in_store_files(dir.path(), b"Lovelace");

    let err = Store::open(dir.path()).unwrap_err();

    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("the store is damaged") && message.contains("from a backup"),
        "{message}"
    );
}

fn imported_addresses_are_registered_once_and_listed(store: Store) {
    let details = Imported {
        registered_at: 50,
        upn: Some("bob@t.example".into()),
        ..Imported::default()
    };
    assert!(
        store
            .import_registered(&key("bob@x.example"), &details)
            .unwrap()
    );
    assert!(
        !store
            .import_registered(&key("bob@x.example"), &details)
            .unwrap(),
        "the second import of an address changes nothing"
    );
    claimed(&store, "p1", "ada@x.example");
    let listed: Vec<(String, bool)> = store
        .registrations()
        .map(|r| r.unwrap())
        .map(|r| (r.email.to_string(), r.imported))
        .collect();
    assert_eq!(
        listed,
        [
            ("ada@x.example".into(), false),
            ("bob@x.example".into(), true)
        ]
    );
    assert_eq!(
        store.registration_by_signup("p1").unwrap().unwrap().email,
        key("ada@x.example")
    );
    assert_eq!(store.registration_by_signup("").unwrap(), None);
}

/// What `store copy` does: every record of one store into a new one, here into a sled
/// store and back into one of the kind under test, and nothing is lost on the way.
fn a_backup_restores_into_a_new_store_of_either_kind(store: Store) {
    // Arrange: a registration with a reserved name, pending sign-ups, an import.
    let ada = claimed(&store, "p1", "ada@x.example");
    block_on(store.reserve_username(&naming(ada, "ada.l@t.example"))).unwrap();
    store
        .insert_pending(&pending("p2", "bob@x.example"))
        .unwrap();
    store
        .insert_pending(&pending("p3", "bob@x.example"))
        .unwrap();
    store
        .import_registered(&key("cy@x.example"), &Imported::default())
        .unwrap();
    block_on(store.use_reset_link(&key("cy@x.example"), 120)).unwrap();
    let mut file = Vec::new();
    store.backup(&mut file).unwrap();

    // Act: into sled, out of it again, and into a new store of the kind under test.
    let (sled_copy, _dir) = sled_store();
    sled_copy.restore(file.as_slice()).unwrap();
    let mut again = Vec::new();
    sled_copy.backup(&mut again).unwrap();
    let target = match &store.backend {
        Backend::Sled(_) => sled_store().0,
        Backend::Postgres(_) => postgres_store("a_backup_restores_into_a_new_store"),
    };
    target.restore(again.as_slice()).unwrap();

    // Assert
    for copy in [&sled_copy, &target] {
        assert!(matches!(copy.lookup("p1").unwrap(), Lookup::Registered(_)));
        assert_eq!(
            copy.reserved_usernames("ada").unwrap(),
            vec!["ada.l@t.example"]
        );
        assert_eq!(copy.pending_signups().count(), 2);
        assert!(matches!(
            copy.claim("p3", "nonce-p3", 150).unwrap(),
            Claim::Claimed(_)
        ));
        assert_eq!(copy.lookup("p2").unwrap(), Lookup::AddressTaken);
        assert!(
            copy.registration(&key("cy@x.example"))
                .unwrap()
                .unwrap()
                .imported
        );
        assert_eq!(
            copy.reset_used_through(&key("cy@x.example")).unwrap(),
            Some(120)
        );
    }
    assert!(matches!(
        target.restore(again.as_slice()),
        Err(BackupError::NotEmpty { .. })
    ));
}

async fn a_reset_link_works_once(store: Store) {
    let ada = key("ada@uni.example");
    assert_eq!(store.reset_used_through(&ada).unwrap(), None);
    assert!(store.use_reset_link(&ada, 100).await.unwrap().is_some());
    assert_eq!(store.reset_used_through(&ada).unwrap(), Some(100));
    assert!(store.use_reset_link(&ada, 100).await.unwrap().is_none());
}

async fn using_a_newer_reset_link_kills_the_older_ones_but_not_later_ones(store: Store) {
    let ada = key("ada@uni.example");
    assert!(store.use_reset_link(&ada, 200).await.unwrap().is_some());
    assert!(store.use_reset_link(&ada, 150).await.unwrap().is_none());
    assert!(store.use_reset_link(&ada, 300).await.unwrap().is_some());
    let grace = key("grace@uni.example");
    assert!(store.use_reset_link(&grace, 150).await.unwrap().is_some());
}

async fn a_released_reset_link_works_again_unless_a_newer_one_was_used(store: Store) {
    let ada = key("ada@uni.example");
    // The first link used, given back: as if none had been.
    let first = store.use_reset_link(&ada, 50).await.unwrap().unwrap();
    store.release_reset_link(&first).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).unwrap(), None);
    store.use_reset_link(&ada, 100).await.unwrap();
    let used = store.use_reset_link(&ada, 200).await.unwrap().unwrap();
    store.release_reset_link(&used).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).unwrap(), Some(100));
    let used = store.use_reset_link(&ada, 200).await.unwrap().unwrap();
    assert!(store.use_reset_link(&ada, 300).await.unwrap().is_some());
    store.release_reset_link(&used).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).unwrap(), Some(300));
}

async fn forgetting_an_address_forgets_its_reset_record(store: Store) {
    let ada = key("ada@uni.example");
    store.use_reset_link(&ada, 100).await.unwrap();
    store.forget(&ada).unwrap();
    assert_eq!(store.reset_used_through(&ada).unwrap(), None);
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
    assert_eq!(store.reset_used_through(&ada).unwrap(), Some(200));
    store.release_reset_link(&won[0]).await.unwrap();
    assert_eq!(store.reset_used_through(&ada).unwrap(), Some(100));
}

/// A new, empty store of the same kind as `store` (and the directory a sled one lives in).
fn another_like(store: &Store, test: &str) -> (Store, Option<tempfile::TempDir>) {
    match &store.backend {
        Backend::Sled(_) => {
            let (store, dir) = sled_store();
            (store, Some(dir))
        }
        Backend::Postgres(_) => (postgres_store(test), None),
    }
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
    let order: Vec<String> = store
        .queued()
        .map(|entry| entry.unwrap().email.to_string())
        .collect();
    assert_eq!(order, ["c@x.example", "a@x.example", "b@x.example"]);

    let none = HashSet::new();
    let first = store.next_due(100, &none).unwrap().unwrap();
    assert_eq!(first.email, key("c@x.example"));
    let skipping = store
        .next_due(100, &HashSet::from([key("c@x.example")]))
        .unwrap()
        .unwrap();
    assert_eq!(skipping.email, key("a@x.example"));
    assert!(store.next_due(99, &none).unwrap().is_none(), "none due yet");
}

async fn a_second_enqueue_keeps_the_place_and_a_reschedule_counts_an_attempt(store: Store) {
    let none = HashSet::new();
    store
        .enqueue(&key("a@x.example"), "a", 100, 100)
        .await
        .unwrap();
    store
        .enqueue(&key("b@x.example"), "b", 101, 101)
        .await
        .unwrap();
    let later = store
        .reschedule(&key("a@x.example"), 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((later.attempts, later.next_attempt_at), (1, 500));
    assert_eq!(
        store.next_due(200, &none).unwrap().unwrap().email,
        key("b@x.example"),
        "a waits for its next attempt"
    );

    let again = store
        .enqueue(&key("a@x.example"), "a", 200, 200)
        .await
        .unwrap();
    assert_eq!((again.seq, again.next_attempt_at), (later.seq, 200));
    assert_eq!(
        store.next_due(200, &none).unwrap().unwrap().email,
        key("a@x.example"),
        "first in confirm order again"
    );
    assert_eq!(
        store.queue_stats().unwrap(),
        QueueStats {
            length: 2,
            oldest_queued_at: Some(100)
        }
    );
    assert_eq!(store.queue_entry(&key("a@x.example")).unwrap(), Some(again));
}

async fn queue_entries_added_after_a_restore_queue_up_behind_the_restored_ones(store: Store) {
    for i in 0..3 {
        store
            .enqueue(&key(&format!("old{i}@x.example")), "o", 1, 1)
            .await
            .unwrap();
    }
    let mut file = Vec::new();
    store.backup(&mut file).unwrap();
    let (new, _dir) = another_like(&store, "queue_entries_added_after_a_restore");
    new.restore(file.as_slice()).unwrap();

    new.enqueue(&key("new@x.example"), "n", 2, 2).await.unwrap();

    let order: Vec<String> = new
        .queued()
        .map(|entry| entry.unwrap().email.to_string())
        .collect();
    assert_eq!(
        order,
        [
            "old0@x.example",
            "old1@x.example",
            "old2@x.example",
            "new@x.example"
        ]
    );
    // Through a sled store and back: the same entries, the same places.
    let (sled_copy, _sled_dir) = sled_store();
    sled_copy.restore(file.as_slice()).unwrap();
    let copied: Vec<QueueEntry> = sled_copy.queued().map(|entry| entry.unwrap()).collect();
    let original: Vec<QueueEntry> = store.queued().map(|entry| entry.unwrap()).collect();
    assert_eq!(copied, original);
    assert_eq!(
        sled_copy.queue_entry(&key("old1@x.example")).unwrap(),
        Some(original[1].clone())
    );
}

async fn a_dequeued_registration_is_gone_and_rescheduling_it_does_nothing(store: Store) {
    store
        .enqueue(&key("a@x.example"), "a", 100, 100)
        .await
        .unwrap();
    assert!(store.dequeue(&key("a@x.example")).unwrap());
    assert!(!store.dequeue(&key("a@x.example")).unwrap());
    assert!(store.queue_entry(&key("a@x.example")).unwrap().is_none());
    assert!(
        store
            .reschedule(&key("a@x.example"), 5)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.queue_stats().unwrap(), QueueStats::default());
}

/// Two instances on one database: two handles, each its own lease holder.
fn two_instances(test: &str) -> (Store, Store) {
    let (url, schema) = fresh_schema(test);
    let one = Store::connect_in_schema(&url, &schema).unwrap();
    let two = Store::connect_in_schema(&url, &schema).unwrap();
    one.migrate().unwrap();
    two.migrate().unwrap();
    (one, two)
}

#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_claims_split_across_two_instances_yield_one_winner() {
    let (one, two) = two_instances("postgres_claims_split_across_two_instances");
    one.insert_pending(&pending("p1", "ada@x.example")).unwrap();
    let claims: Vec<Claim> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|n| {
                let store = if n % 2 == 0 { &one } else { &two };
                scope.spawn(move || store.claim("p1", "nonce-p1", 150).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
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

#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_one_instance_at_a_time_provisions_a_registration() {
    let (one, two) = two_instances("postgres_one_instance_at_a_time");
    block_on(async {
        let mut ada = claimed(&one, "p1", "ada@x.example");
        let email = ada.email.clone();
        // The claimer holds the lease: the other instance waits its turn, even to save.
        assert!(matches!(two.lease(&email).await, Err(StoreError::Busy)));
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
        assert!(two.reserved_usernames("ada").unwrap().is_empty());
        one.save_registration(&ada).await.unwrap();

        one.release(&email).await.unwrap();
        let current = two.lease(&email).await.unwrap().unwrap();
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
            two.lease(&key("nobody@x.example")).await,
            Ok(None)
        ));
    });
}

#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_counts_mails_for_every_instance_together() {
    let (one, two) = two_instances("postgres_counts_mails");
    let hour = 7200;
    assert_eq!(one.count_mail("all", 3, hour + 10).unwrap(), Some(Ok(())));
    assert_eq!(two.count_mail("all", 3, hour + 20).unwrap(), Some(Ok(())));
    assert_eq!(one.count_mail("all", 3, hour + 30).unwrap(), Some(Ok(())));
    assert_eq!(
        two.count_mail("all", 3, hour + 40).unwrap(),
        Some(Err(std::time::Duration::from_secs(3600 - 40))),
        "the fourth mail of the hour waits for the next"
    );
    assert_eq!(
        two.count_mail("mailbox:ada@x.example", 3, hour + 40)
            .unwrap(),
        Some(Ok(())),
        "another key has its own count"
    );
    assert_eq!(one.count_mail("all", 3, hour + 3600).unwrap(), Some(Ok(())));
    one.purge_expired(hour + 3600).unwrap();
    let (sled_store, _dir) = sled_store();
    assert_eq!(
        sled_store.count_mail("all", 3, hour).unwrap(),
        None,
        "one process counts in memory"
    );
}

/// A registration claimed in one instance is run by that instance's worker; another's takes
/// it only once the first lets go, and never one the first is running.
#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_a_queued_registration_goes_to_one_instance_at_a_time() {
    let (one, two) = two_instances("postgres_a_queued_registration_goes_to_one");
    let none = HashSet::new();
    for (id, email) in [("p1", "a@x.example"), ("p2", "b@x.example")] {
        claimed(&one, id, email);
        block_on(one.enqueue(&key(email), id, 150, 150)).unwrap();
    }

    assert_eq!(
        two.next_due(150, &none).unwrap(),
        None,
        "the claiming instance holds both"
    );
    let a = one.next_due(150, &none).unwrap().unwrap();
    let running = HashSet::from([a.email.clone()]);
    let b = one.next_due(150, &running).unwrap().unwrap();
    assert_eq!((a.email, b.email), (key("a@x.example"), key("b@x.example")));

    // a's run ends without finishing (it stays queued): the other instance may take it.
    block_on(one.release(&key("a@x.example"))).unwrap();
    let taken = two.next_due(150, &none).unwrap().unwrap();
    assert_eq!(taken.email, key("a@x.example"));
    assert_eq!(
        one.next_due(150, &HashSet::from([key("b@x.example")]))
            .unwrap(),
        None,
        "a is the other's now"
    );
    assert!(
        matches!(
            block_on(one.lease(&key("a@x.example"))),
            Err(StoreError::Busy)
        ),
        "the run that follows holds the lease already"
    );
}

/// The claim queues the registration in its own transaction: an instance killed right
/// after it, before its confirm got to enqueue, leaves the registration to another's worker.
#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_a_claimed_registration_is_queued_with_the_claim() {
    let (one, two) = two_instances("postgres_a_claimed_registration_is_queued");
    claimed(&one, "p1", "ada@x.example");

    let entry = one.queue_entry(&key("ada@x.example")).unwrap().unwrap();
    assert_eq!((entry.queued_at, entry.next_attempt_at), (150, 150));
    // The claiming instance dies; its lease lapses (here: is let go).
    block_on(one.release(&key("ada@x.example"))).unwrap();
    let taken = two.next_due(150, &HashSet::new()).unwrap().unwrap();
    assert_eq!(taken, entry);
    let again = block_on(two.enqueue(&key("ada@x.example"), "p1", 160, 160)).unwrap();
    assert_eq!(
        again, entry,
        "the confirm's own enqueue keeps the entry as it is"
    );
}

/// Two instances' workers drain one queue at once: every entry is taken exactly once.
#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_two_workers_draining_one_queue_run_each_entry_once() {
    let (one, two) = two_instances("postgres_two_workers_draining_one_queue");
    let emails: Vec<String> = (0..40).map(|i| format!("p{i}@x.example")).collect();
    for (i, email) in emails.iter().enumerate() {
        claimed(&one, &format!("q{i}"), email);
        // Confirmed and let go: any instance may run it.
        block_on(one.release(&key(email))).unwrap();
        block_on(one.enqueue(&key(email), &format!("q{i}"), 150, 150)).unwrap();
    }

    let drain = |store: Store| {
        std::thread::spawn(move || {
            let mut ran = Vec::new();
            while let Some(entry) = store.next_due(150, &HashSet::new()).unwrap() {
                std::thread::sleep(std::time::Duration::from_millis(2));
                assert!(store.dequeue(&entry.email).unwrap(), "{entry:?} ran twice");
                block_on(store.release(&entry.email)).unwrap();
                ran.push(entry.email.to_string());
            }
            ran
        })
    };
    let (by_one, by_two) = (drain(one.clone()), drain(two));
    let (by_one, by_two) = (by_one.join().unwrap(), by_two.join().unwrap());

    let mut all: Vec<String> = by_one.iter().chain(&by_two).cloned().collect();
    all.sort();
    let mut expected = emails.clone();
    expected.sort();
    assert_eq!(all, expected, "each entry once: {by_one:?} / {by_two:?}");
    assert_eq!(one.queue_stats().unwrap(), QueueStats::default());
}

#[test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
fn postgres_migrations_are_applied_once() {
    let (url, schema) = fresh_schema("postgres_migrations_are_applied_once");
    let store = Store::connect_in_schema(&url, &schema).unwrap();
    assert!(!store.is_ready(), "not ready before the schema is there");
    assert_eq!(store.migrate().unwrap(), super::postgres::MIGRATIONS.len());
    assert_eq!(store.migrate().unwrap(), 0);
    assert!(store.is_ready());
    assert_eq!(
        store.describe(),
        format!("PostgreSQL at {}", {
            let config: tokio_postgres::Config = url.parse().unwrap();
            super::postgres::describe(&config)
        })
    );
}

#[test]
fn postgres_unreachable_is_not_ready_and_errors_without_hanging() {
    // A port nothing listens on (the connection is refused at once).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let store = Store::connect(&format!("postgres://nobody@127.0.0.1:{port}/none")).unwrap();
    store.keep_migrating().unwrap();
    assert!(!store.is_ready());
    let err = store.lookup("p1").unwrap_err();
    assert!(matches!(err, StoreError::Postgres(_)), "{err:?}");
    assert_eq!(store.failure(), None, "the server goes on and retries");
}
