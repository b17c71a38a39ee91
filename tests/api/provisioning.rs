//! The provisioning state machine through the real server: failures at each step resume
//! where they stopped, lost answers are adopted, and concurrency yields one account.

use std::sync::atomic::Ordering;

use ms365_accountcreator::store::{Claim, PendingSignup, RegistryKey, Store};

use crate::support::flaky_directory::{FlakyDirectory, Op};
use crate::support::helpers::{ListedMail, Logs, TestApp, texts};
use crate::support::routes::paths;

async fn signed_up(app: &TestApp) -> String {
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    app.verification_path("ada@uni.example").await
}

fn password_mails(mails: &[ListedMail]) -> usize {
    mails
        .iter()
        .filter(|m| m.subject == "Your new account")
        .count()
}

#[tokio::test]
async fn a_failure_at_each_step_queues_the_account_and_confirming_again_resumes() {
    for op in [Op::FreeName, Op::Create, Op::Licences, Op::Groups] {
        let directory = FlakyDirectory::new();
        let app = TestApp::builder()
            .directory(directory.clone())
            .spawn()
            .await;
        let path = signed_up(&app).await;
        directory.fail_next(op);

        let failed = app.confirm(&path).await;
        assert_eq!(failed.status(), 202, "{op:?}: accepted into the queue");
        let page = failed.text().await.unwrap();
        assert_eq!(
            texts(&page, "h1"),
            vec!["Your account is being created"],
            "{op:?}"
        );
        assert_eq!(texts(&page, "a.button"), vec!["Check again"], "{op:?}");
        assert_eq!(
            password_mails(&app.mails().await),
            0,
            "{op:?}: no password before the account is complete"
        );

        // The link now shows the queued account (its next attempt is later: the test clock
        // stands still), and confirming again runs it at once.
        let shown = app.get(&path).await.text().await.unwrap();
        assert_eq!(
            texts(&shown, "h1"),
            vec!["Your account is being created"],
            "{op:?}"
        );
        let done = app.confirm(&path).await;
        assert_eq!(done.status(), 200, "{op:?}");
        assert_eq!(
            texts(&done.text().await.unwrap(), "#username"),
            vec!["ada.lovelace@tenant.example"],
            "{op:?}"
        );
        assert_eq!(
            directory.creates.load(Ordering::SeqCst),
            1,
            "{op:?}: exactly one user"
        );
        assert_eq!(
            password_mails(&app.mails().await),
            1,
            "{op:?}: exactly one password mail"
        );
    }
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_adopted_not_repeated() {
    let directory = FlakyDirectory::new();
    let app = TestApp::builder()
        .directory(directory.clone())
        .spawn()
        .await;
    let path = signed_up(&app).await;
    directory.fail_next(Op::CreateThenLoseAnswer);
    assert_eq!(app.confirm(&path).await.status(), 202);
    assert_eq!(
        directory.creates.load(Ordering::SeqCst),
        1,
        "the user exists in the directory"
    );

    let done = app.confirm(&path).await.text().await.unwrap();
    assert_eq!(
        texts(&done, "#username"),
        vec!["ada.lovelace@tenant.example"],
        "the same user, no .2"
    );
    assert_eq!(directory.creates.load(Ordering::SeqCst), 1);
    assert!(
        directory
            .users("ada.lovelace.2@tenant.example")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn fifty_parallel_confirms_of_one_link_create_one_account() {
    let directory = FlakyDirectory::with_delay(std::time::Duration::from_millis(200));
    let app = TestApp::builder()
        .directory(directory.clone())
        .spawn()
        .await;
    let path = signed_up(&app).await;
    let statuses: Vec<u16> = futures_join(&app, &[path.as_str(); 50]).await;
    assert_eq!(directory.creates.load(Ordering::SeqCst), 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "one request shows the result: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 409, 410].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(password_mails(&app.mails().await), 1);
}

#[tokio::test]
async fn parallel_confirms_of_two_links_for_one_address_create_one_account() {
    let directory = FlakyDirectory::with_delay(std::time::Duration::from_millis(100));
    let app = TestApp::builder()
        .directory(directory.clone())
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let first = app.verification_path("ada@uni.example").await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let second = app.verification_path("ada@uni.example").await;
    let mut paths = vec![first.as_str(); 25];
    paths.extend(vec![second.as_str(); 25]);
    let statuses = futures_join(&app, &paths).await;
    assert_eq!(directory.creates.load(Ordering::SeqCst), 1, "{statuses:?}");
    assert_eq!(password_mails(&app.mails().await), 1);
}

/// Posts the confirm button for every path at once; returns the statuses.
async fn futures_join(app: &TestApp, paths: &[&str]) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for path in paths {
        let client = app.client.clone();
        let url = app.url(path);
        tasks.spawn(async move {
            client
                .post(url)
                .form(&[("lang", "en")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

#[tokio::test]
async fn a_registration_survives_a_restart_between_steps() {
    let directory = FlakyDirectory::new();
    let mut app = TestApp::builder()
        .directory(directory.clone())
        .spawn()
        .await;
    let path = signed_up(&app).await;
    directory.fail_next(Op::Groups);
    assert_eq!(app.confirm(&path).await.status(), 202);
    let store = app.stop().await;

    let app = TestApp::builder()
        .store(store)
        .directory(directory.clone())
        .spawn()
        .await;
    let done = app.confirm(&path).await;
    assert_eq!(done.status(), 200);
    assert_eq!(directory.creates.load(Ordering::SeqCst), 1);
    assert_eq!(
        directory.grants.load(Ordering::SeqCst),
        2,
        "the second grant only finished the groups"
    );
}

/// A registration whose key is no mailbox — confirmed from a sign-up an older version stored
/// under a quoted address, which is refused now — cannot be mailed how its run ended: that
/// mail is logged and counted as failed, never dropped without a word.
#[tokio::test]
async fn a_run_whose_registration_has_no_mailbox_logs_and_counts_the_mail_it_cannot_send() {
    // Arrange: the old sign-up, confirmed and queued before this version started, so no
    // confirm waits for its run and only a mail could tell how it ended.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let email = RegistryKey::as_recorded("\"st20\"@uni.example");
    let signup = PendingSignup {
        id: "p1".into(),
        nonce: "n1".into(),
        email: email.clone(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        lang: "en".into(),
        created_at: 1,
        expires_at: u64::MAX / 2,
        consent_email_at: 1,
        consent_name_at: 1,
        voucher: None,
    };
    store.insert_pending(&signup).await.unwrap();
    let claimed = store.claim("p1", "n1", 2).await.unwrap();
    assert!(matches!(claimed, Claim::Claimed(_)), "{claimed:?}");
    store.enqueue(&email, "p1", 2, 2).await.unwrap();
    store.close().await.unwrap();
    drop(store);
    let (logs, _guard) = Logs::capture();

    // Act: the server's queue worker runs it; its password cannot be mailed.
    let app = TestApp::builder()
        .store(dir)
        .envs(&[("METRICS_ENABLED", "true")])
        .spawn()
        .await;

    // Assert
    let failed_mail = (
        "ms365_mails_total".to_owned(),
        "kind=failed,result=failed".to_owned(),
    );
    let mut counted = None;
    for _ in 0..200 {
        let samples = crate::metrics::scrape(&app.url(paths::METRICS)).await;
        counted = samples.get(&failed_mail).copied();
        if counted.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        counted,
        Some(1.0),
        "the mail that could not go out is counted"
    );
    let text = logs.text();
    assert!(
        text.contains("the registration's address is no mailbox"),
        "{text}"
    );
}
