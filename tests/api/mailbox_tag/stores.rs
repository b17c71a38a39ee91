//! A store rolled back: `store backup`, sign-ups, then `store restore` of the older backup.
//! The registrations made since are gone from the store, but not from the directory.

use super::*;

async fn a_restored_older_backup_creates_no_second_user(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Bob registered before the backup, Ada after it.
    let fake = FakeGraph::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain, None);
    let scratch = tempfile::tempdir().unwrap();
    let store = fresh_store(kind, scratch.path(), "live").await;
    let mut server = app(&fake, &smtp, &store, &[]).await;
    let bob = ("bob@uni.example", "bob@uni.example");
    sign_up_and_confirm(&server, &smtp, bob, "Bob", "Babbage").await;
    server.stop().await;
    let backup = scratch.path().join("older.backup");
    let backup = backup.to_str().unwrap();
    stdout(&cli(&store, &[], &["store", "backup", backup]).await);
    let mut server = app(&fake, &smtp, &store, &[]).await;
    let ada = ("ada@uni.example", "ada@uni.example");
    let made = sign_up_and_confirm(&server, &smtp, ada, "Ada", "Lovelace").await;
    assert_eq!(made.status(), 200);
    server.stop().await;
    let restored = fresh_store(kind, scratch.path(), "restored").await;
    stdout(&cli(&restored, &[], &["store", "restore", backup]).await);
    let server = app(&fake, &smtp, &restored, &[]).await;
    let creates = fake.count(Endpoint::CreateUser);

    // Act: the store knows Bob, not Ada; Ada signs up again.
    let refused = server.sign_up("bob@uni.example", "Bob", "Babbage").await;
    let again = sign_up_and_confirm(&server, &smtp, ada, "Ada", "Lovelace").await;

    // Assert
    assert_eq!(refused.status(), 422, "Bob is in the backup");
    assert_existing(again, ADA, false).await;
    assert_eq!(fake.count(Endpoint::CreateUser), creates, "no create call");
    assert_eq!(fake.users().len(), 2, "Bob's and Ada's, no third");
}

#[tokio::test]
async fn a_restored_older_sled_backup_gives_no_mailbox_a_second_account() {
    a_restored_older_backup_creates_no_second_user(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn a_restored_older_postgres_backup_gives_no_mailbox_a_second_account() {
    a_restored_older_backup_creates_no_second_user(Kind::Postgres).await;
}
