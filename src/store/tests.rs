use super::*;
use crate::domain::{Mailbox, Step, SubaddressSeparator};

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

#[test]
fn a_pending_sign_up_can_be_claimed_once() {
    let store = Store::temporary().unwrap();
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

#[test]
fn a_wrong_nonce_or_unknown_id_claims_nothing() {
    let store = Store::temporary().unwrap();
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

#[test]
fn an_expired_sign_up_cannot_be_claimed() {
    let store = Store::temporary().unwrap();
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    assert_eq!(store.claim("p1", "nonce-p1", 200).unwrap(), Claim::Expired);
}

#[test]
fn every_submission_keeps_its_own_link_until_one_is_claimed() {
    let store = Store::temporary().unwrap();
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

#[test]
fn forgetting_an_address_removes_all_its_pending_sign_ups() {
    let store = Store::temporary().unwrap();
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

#[test]
fn purging_keeps_the_unexpired_sign_ups_of_a_mailbox() {
    let store = Store::temporary().unwrap();
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
    store
        .pending_by_email
        .insert(key("ada@x.example").as_bytes(), "p1")
        .unwrap();
    store
        .insert_pending(&pending("p2", "ada@x.example"))
        .unwrap();
    assert_eq!(store.forget(&key("ada@x.example")).unwrap().pending, 2);
}

#[test]
fn a_registered_address_refuses_new_sign_ups() {
    let store = Store::temporary().unwrap();
    store
        .insert_pending(&pending("p1", "ada@x.example"))
        .unwrap();
    store.claim("p1", "nonce-p1", 150).unwrap();
    assert!(matches!(
        store.insert_pending(&pending("p2", "ada@x.example")),
        Err(StoreError::AlreadyRegistered)
    ));
}

#[test]
fn concurrent_claims_yield_exactly_one_winner() {
    let store = Store::temporary().unwrap();
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

#[tokio::test]
async fn progress_is_saved_and_read_back() {
    let store = Store::temporary().unwrap();
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
        store.db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(
        store
            .is_registered(&Mailbox::parse("ada@x.example", SubaddressSeparator::PLUS).unwrap())
            .unwrap()
    );
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
#[test]
fn concurrent_durable_saves_all_finish() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
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

fn naming(mut registration: Registration, upn: &str) -> Registration {
    registration.upn = Some(upn.into());
    registration.step = Step::Creating;
    registration
}

#[tokio::test]
async fn a_username_is_reserved_for_one_registration_and_moves_and_goes_with_it() {
    let store = Store::temporary().unwrap();
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
    store.pending.insert("p2", &b"{not json"[..]).unwrap();
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
