//! Vouchers in the store, on both backends: made, listed, revoked; a use taken exactly with
//! the claim, given back and taken again; in backups and `store verify`.

use super::*;
use super::{postgres_store, sled_store};
use crate::domain::{Day, DirectoryId, VoucherCode, VoucherRefusal, VoucherTerms};

both_backends! {
    a_voucher_is_made_once_listed_and_revoked,
    a_claim_takes_a_use_and_a_used_up_voucher_claims_nothing,
    a_claim_with_a_revoked_expired_or_unknown_voucher_claims_nothing,
    a_claim_ignoring_vouchers_takes_no_use,
    twenty_concurrent_claims_on_a_three_use_voucher_make_three_registrations,
    a_use_given_back_is_free_again_and_taken_again_on_resume,
    vouchers_and_their_uses_are_in_backups,
    verify_finds_a_voucher_counting_fewer_uses_than_registrations_hold,
}

/// 2027-03-31T00:00:00Z, a day within the test vouchers' validity.
const NOW: u64 = 1_806_451_200;

fn terms(uses: Option<u32>) -> VoucherTerms {
    VoucherTerms {
        uses,
        valid_until: Some(Day::parse("2027-03-31").unwrap()),
        groups: Some(vec![
            DirectoryId::parse("7f3c0a52-9f0e-4a8e-b1c2-0d1e2f3a4b5c").unwrap(),
        ]),
        lifetime_days: Some(180),
        ..VoucherTerms::named("Exchange 2027").unwrap()
    }
}

async fn made(store: &Store, uses: Option<u32>) -> Voucher {
    let voucher = Voucher::new(VoucherCode::generate().unwrap(), terms(uses), NOW - 10);
    assert!(store.create_voucher(&voucher).await.unwrap());
    voucher
}

/// A pending sign-up of `email` under `id`, valid at [`NOW`].
async fn pending_now(store: &Store, id: &str, email: &str) {
    let mut signup = pending(id, email);
    signup.expires_at = NOW + 3600;
    store.insert_pending(&signup).await.unwrap();
}

async fn claim_with(store: &Store, id: &str, code: &VoucherCode) -> Result<Claim, VoucherRefusal> {
    let nonce = format!("nonce-{id}");
    store
        .claim_with_voucher(id, &nonce, NOW, ClaimVoucher::Instead(code))
        .await
        .unwrap()
}

async fn used(store: &Store, code: &VoucherCode) -> u32 {
    store.voucher(code).await.unwrap().unwrap().used
}

async fn a_voucher_is_made_once_listed_and_revoked(store: Store) {
    let voucher = made(&store, Some(3)).await;
    assert!(
        !store.create_voucher(&voucher).await.unwrap(),
        "a code is one voucher"
    );
    assert_eq!(
        store.voucher(&voucher.code).await.unwrap().as_ref(),
        Some(&voucher)
    );
    assert_eq!(all(store.vouchers().await), vec![voucher.clone()]);

    let revoked = store
        .revoke_voucher(&voucher.code, NOW)
        .await
        .unwrap()
        .unwrap();
    let again = store.revoke_voucher(&voucher.code, NOW + 5).await.unwrap();

    assert_eq!(revoked.revoked_at, Some(NOW));
    assert_eq!(again.unwrap().revoked_at, Some(NOW), "the first time stays");
    let other = VoucherCode::generate().unwrap();
    assert_eq!(store.revoke_voucher(&other, NOW).await.unwrap(), None);
}

async fn a_claim_takes_a_use_and_a_used_up_voucher_claims_nothing(store: Store) {
    let voucher = made(&store, Some(1)).await;
    pending_now(&store, "p1", "ada@x.example").await;
    pending_now(&store, "p2", "bob@x.example").await;

    let first = claim_with(&store, "p1", &voucher.code).await;
    let second = claim_with(&store, "p2", &voucher.code).await;

    let Ok(Claim::Claimed(registration)) = first else {
        panic!("{first:?}")
    };
    let held = registration.voucher.unwrap();
    assert_eq!(
        (
            held.code,
            held.name.as_str(),
            held.lifetime_days,
            held.returned
        ),
        (voucher.code.clone(), "Exchange 2027", Some(180), false)
    );
    assert_eq!(held.groups, voucher.terms.groups);
    assert_eq!(second, Err(VoucherRefusal::UsedUp));
    assert_eq!(used(&store, &voucher.code).await, 1);
    assert!(
        matches!(store.lookup("p2").await.unwrap(), Lookup::Pending(_)),
        "the refused sign-up stays pending"
    );
    let stored = store.registration(&key("ada@x.example")).await.unwrap();
    assert_eq!(
        stored.unwrap().voucher.unwrap().code,
        voucher.code,
        "the registration keeps its voucher"
    );
}

async fn a_claim_with_a_revoked_expired_or_unknown_voucher_claims_nothing(store: Store) {
    let revoked = made(&store, None).await;
    store.revoke_voucher(&revoked.code, NOW).await.unwrap();
    let mut past = terms(None);
    past.valid_until = Some(Day::parse("2027-03-30").unwrap());
    let expired = Voucher::new(VoucherCode::generate().unwrap(), past, 0);
    store.create_voucher(&expired).await.unwrap();
    pending_now(&store, "p1", "ada@x.example").await;

    let cases = [
        (revoked.code.clone(), VoucherRefusal::Revoked),
        (expired.code.clone(), VoucherRefusal::Expired),
        (VoucherCode::generate().unwrap(), VoucherRefusal::Unknown),
    ];
    for (code, refusal) in cases {
        assert_eq!(claim_with(&store, "p1", &code).await, Err(refusal));
    }
    let required = store
        .claim_with_voucher(
            "p1",
            "nonce-p1",
            NOW,
            ClaimVoucher::AsSignedUp { required: true },
        )
        .await
        .unwrap();
    assert_eq!(required, Err(VoucherRefusal::Missing));
    assert!(matches!(
        store.lookup("p1").await.unwrap(),
        Lookup::Pending(_)
    ));
}

async fn a_claim_ignoring_vouchers_takes_no_use(store: Store) {
    pending_now(&store, "p1", "ada@x.example").await;
    let Claim::Claimed(registration) = store.claim("p1", "nonce-p1", NOW).await.unwrap() else {
        panic!("claimed")
    };
    assert_eq!(registration.voucher, None);
}

async fn twenty_concurrent_claims_on_a_three_use_voucher_make_three_registrations(store: Store) {
    let voucher = made(&store, Some(3)).await;
    for n in 0..20 {
        pending_now(&store, &format!("p{n}"), &format!("st{n}@x.example")).await;
    }

    let claims = (0..20).map(|n| {
        let (store, code) = (store.clone(), voucher.code.clone());
        tokio::spawn(async move { claim_with(&store, &format!("p{n}"), &code).await })
    });
    let results = futures_util::future::join_all(claims).await;

    let claimed = results
        .iter()
        .filter(|result| matches!(result.as_ref().unwrap(), Ok(Claim::Claimed(_))))
        .count();
    let used_up = results
        .iter()
        .filter(|result| *result.as_ref().unwrap() == Err(VoucherRefusal::UsedUp))
        .count();
    assert_eq!((claimed, used_up), (3, 17));
    assert_eq!(used(&store, &voucher.code).await, 3);
    assert_eq!(all(store.registrations().await).len(), 3);
    assert!(store.verify().await.unwrap().is_healthy());
}

async fn a_use_given_back_is_free_again_and_taken_again_on_resume(store: Store) {
    let voucher = made(&store, Some(1)).await;
    pending_now(&store, "p1", "ada@x.example").await;
    pending_now(&store, "p2", "bob@x.example").await;
    claim_with(&store, "p1", &voucher.code).await.unwrap();
    let ada = key("ada@x.example");

    assert!(store.return_voucher_use(&ada).await.unwrap());
    assert!(
        !store.return_voucher_use(&ada).await.unwrap(),
        "a use is given back once"
    );
    assert!(
        !store
            .return_voucher_use(&key("cy@x.example"))
            .await
            .unwrap()
    );
    assert_eq!(used(&store, &voucher.code).await, 0);
    let held = store.registration(&ada).await.unwrap().unwrap().voucher;
    assert!(held.unwrap().returned);

    // Bob takes the free use; Ada's resume then finds the voucher used up.
    assert!(matches!(
        claim_with(&store, "p2", &voucher.code).await,
        Ok(Claim::Claimed(_))
    ));
    let refused = store
        .retake_voucher_use(&ada, &voucher.code, NOW)
        .await
        .unwrap();
    assert_eq!(refused, Err(VoucherRefusal::UsedUp));

    // With another voucher she goes on, and holds a use of that one.
    let other = made(&store, Some(1)).await;
    let resumed = store
        .retake_voucher_use(&ada, &other.code, NOW)
        .await
        .unwrap()
        .unwrap();
    let held = resumed.voucher.unwrap();
    assert_eq!((held.code, held.returned), (other.code.clone(), false));
    assert_eq!(used(&store, &other.code).await, 1);
    let again = store.retake_voucher_use(&ada, &other.code, NOW).await;
    assert!(again.unwrap().is_ok(), "a held use is not taken twice");
    assert_eq!(used(&store, &other.code).await, 1);
    assert!(store.verify().await.unwrap().is_healthy());
}

async fn vouchers_and_their_uses_are_in_backups(store: Store) {
    let voucher = made(&store, Some(2)).await;
    pending_now(&store, "p1", "ada@x.example").await;
    claim_with(&store, "p1", &voucher.code).await.unwrap();
    let mut file = Vec::new();
    store.backup(&mut file).await.unwrap();

    let (copy, _dir) = sled_store();
    copy.restore(file.as_slice()).await.unwrap();
    let mut again = Vec::new();
    copy.backup(&mut again).await.unwrap();
    let (target, _target_dir) = another_like(&store, "vouchers_and_their_uses_are_in").await;
    let copied = target.restore(again.as_slice()).await.unwrap();

    assert_eq!(again, file);
    assert_eq!(copied.per_kind.get(&RecordKind::Voucher), Some(&1));
    for copy in [&copy, &target] {
        let restored = copy.voucher(&voucher.code).await.unwrap().unwrap();
        assert_eq!(restored.used, 1);
        assert_eq!(restored.terms, voucher.terms);
        let ada = copy.registration(&key("ada@x.example")).await.unwrap();
        assert_eq!(ada.unwrap().voucher.unwrap().code, voucher.code);
        assert!(copy.verify().await.unwrap().is_healthy());
    }
}

async fn verify_finds_a_voucher_counting_fewer_uses_than_registrations_hold(store: Store) {
    let voucher = made(&store, None).await;
    pending_now(&store, "p1", "ada@x.example").await;
    claim_with(&store, "p1", &voucher.code).await.unwrap();
    let mut file = Vec::new();
    store.backup(&mut file).await.unwrap();
    // The same backup with the voucher's count set back, as a damaged store would hold it.
    let text = String::from_utf8(file).unwrap();
    let damaged = text.replace(r#""used":1"#, r#""used":0"#);
    assert_ne!(damaged, text);
    let (copy, _dir) = sled_store();
    copy.restore(damaged.as_bytes()).await.unwrap();

    let verified = copy.verify().await.unwrap();

    assert_eq!(
        verified.findings,
        vec![Finding::VoucherUses {
            code: voucher.code.redacted(),
            used: Some(0),
            held: 1,
        }]
    );
    let shown = verified.findings[0].to_string();
    assert!(!shown.contains(voucher.code.as_str()), "{shown}");
}

/// Two instances on one database, 20 claims split between them on a voucher for 3: the
/// voucher's row lock counts across instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_claims_on_one_voucher_split_across_two_instances_count_exactly() {
    let (one, two) = two_instances("postgres_claims_on_one_voucher_split").await;
    let voucher = made(&one, Some(3)).await;
    for n in 0..20 {
        pending_now(&one, &format!("p{n}"), &format!("st{n}@x.example")).await;
    }

    let claims = (0..20).map(|n| {
        let store = if n % 2 == 0 { one.clone() } else { two.clone() };
        let code = voucher.code.clone();
        tokio::spawn(async move { claim_with(&store, &format!("p{n}"), &code).await })
    });
    let results = futures_util::future::join_all(claims).await;

    let claimed = results
        .iter()
        .filter(|result| matches!(result.as_ref().unwrap(), Ok(Claim::Claimed(_))))
        .count();
    assert_eq!(claimed, 3);
    assert_eq!(used(&two, &voucher.code).await, 3);
    assert_eq!(all(one.registrations().await).len(), 3);
}
