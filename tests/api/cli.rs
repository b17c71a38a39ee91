//! The operator's commands, run as the real binary on the store a server used.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::flaky_directory::{FlakyDirectory, Op};
use crate::support::helpers::{TestApp, spawn_app, texts};

pub(crate) fn run(store: &Path, args: &[&str]) -> Output {
    run_with(store, args, &[])
}

pub(crate) fn run_with(store: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MODE", "test")
        .env("LOG_LEVEL", "warn")
        .env("DATABASE_PATH", store)
        .env("GRAPH_API_USER_MAIL_DOMAIN", "tenant.example")
        .current_dir(std::env::temp_dir());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The CSV the original's database gives: a real SQLite file with the original's schema,
/// queried with the command the migration guide names.
fn original_database_csv(dir: &Path) -> String {
    let db = dir.join("db.sqlite");
    let script = format!(
        r#"
import sqlite3
db = sqlite3.connect({db:?})
db.execute("CREATE TABLE \"RegisteredEmailAddress\" (id INTEGER NOT NULL, email VARCHAR(190), ms365_created BOOLEAN NOT NULL, timestamp INTEGER, PRIMARY KEY (id))")
rows = [("st100001@stud.uni.example", 1, 1600000000), ("St100002@Stud.Uni.Example", 1, 1600000100), ("st100003@stud.uni.example", 0, 1600000200), ("weird,\"name\"@stud.uni.example", 1, 1600000300)]
db.executemany("INSERT INTO RegisteredEmailAddress (email, ms365_created, timestamp) VALUES (?, ?, ?)", rows)
db.commit()
"#
    );
    let created = Command::new("python3")
        .arg("-c")
        .arg(script)
        .status()
        .expect("python3 runs");
    assert!(created.success());
    let output = Command::new("sqlite3")
        .arg("-csv")
        .arg(&db)
        .arg("SELECT email, timestamp FROM RegisteredEmailAddress WHERE ms365_created = 1")
        .output()
        .expect("the sqlite3 command line tool is installed (tests/run installs it: apt-get install sqlite3)");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn addresses_from_the_original_database_are_imported_once_and_block_sign_ups() {
    crate::support::tools::require_tool!(Sqlite3);
    let store = tempfile::tempdir().unwrap();
    let csv = original_database_csv(store.path());
    let file = store.path().join("registered.csv");
    std::fs::write(&file, &csv).unwrap();
    let db_dir = store.path().join("db");

    let first = stdout(&run(&db_dir, &["emails", "import", file.to_str().unwrap()]));
    assert!(
        first.contains("3 imported, 0 already registered"),
        "{first}"
    );
    let again = stdout(&run(&db_dir, &["emails", "import", file.to_str().unwrap()]));
    assert!(
        again.contains("0 imported, 3 already registered"),
        "{again}"
    );

    let listed = stdout(&run(&db_dir, &["emails", "list"]));
    assert!(
        listed.contains("st100001@stud.uni.example\timported"),
        "{listed}"
    );
    assert!(
        listed.contains("st100002@stud.uni.example\timported"),
        "lower-cased: {listed}"
    );
    assert!(
        !listed.contains("st100003"),
        "not created in the original: {listed}"
    );

    // The server on that store refuses a second account for them, in any letter case.
    let dir = tempfile::TempDir::new_in(store.path()).unwrap();
    std::fs::remove_dir(dir.path()).unwrap();
    std::fs::rename(&db_dir, dir.path()).unwrap();
    let app = TestApp::builder().store(dir).spawn().await;
    let refused = app
        .sign_up("ST100002@stud.uni.example", "Stu", "Dent")
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        texts(&refused.text().await.unwrap(), "#email-error"),
        vec!["An account has already been created for this e-mail address."]
    );
    assert_eq!(
        app.sign_up("st100003@stud.uni.example", "Stu", "Dent")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn import_registers_each_mailbox_once_and_reports_the_spellings_it_merged() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registered.csv");
    std::fs::write(
        &file,
        "a@x.example,1600000000\nA+1@x.example,1600000100\na+2@x.example\n\"\"\"a\"\"@x.example\"\nb@x.example\n",
    )
    .unwrap();
    let db_dir = dir.path().join("db");

    // Act
    let imported = stdout(&run(&db_dir, &["emails", "import", file.to_str().unwrap()]));

    // Assert: one line for the mailbox naming every spelling, then the totals.
    let merged: Vec<&str> = imported
        .lines()
        .filter(|line| line.contains("A+1@x.example"))
        .collect();
    assert_eq!(
        merged,
        vec![
            "a@x.example: one mailbox for a@x.example, A+1@x.example, a+2@x.example, \"a\"@x.example"
        ],
        "{imported}"
    );
    assert!(!imported.contains("b@x.example:"), "{imported}");
    assert!(
        imported.contains("2 imported, 0 already registered"),
        "{imported}"
    );
    let listed = stdout(&run(&db_dir, &["emails", "list"]));
    let keys: Vec<&str> = listed
        .lines()
        .map(|line| line.split('\t').next().unwrap())
        .collect();
    assert_eq!(keys, vec!["a@x.example", "b@x.example"]);
    let again = stdout(&run(&db_dir, &["emails", "import", file.to_str().unwrap()]));
    assert!(
        again.contains("0 imported, 2 already registered"),
        "{again}"
    );

    // Any spelling of the mailbox forgets it.
    let forgotten = stdout(&run(&db_dir, &["emails", "forget", " A+other@X.example "]));
    assert!(forgotten.contains("a@x.example"), "{forgotten}");
    let listed = stdout(&run(&db_dir, &["emails", "list"]));
    assert!(!listed.contains("a@x.example"), "{listed}");
}

#[tokio::test]
async fn import_without_a_separator_keeps_tagged_addresses_apart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registered.csv");
    std::fs::write(&file, "a@x.example\na+1@x.example\n").unwrap();
    let imported = stdout(&run_with(
        &dir.path().join("db"),
        &["emails", "import", file.to_str().unwrap()],
        &[("EMAIL_SUBADDRESS_SEPARATOR", "")],
    ));
    assert!(
        imported.starts_with("2 imported, 0 already registered"),
        "{imported}"
    );
}

#[tokio::test]
async fn addresses_stored_under_other_keys_than_their_mailbox_are_forgotten_as_written() {
    // Arrange: an address the original accepted that is no valid mailbox, and a tagged one
    // imported while sub-addressing was off, so neither is keyed by today's mailbox.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registered.csv");
    std::fs::write(&file, "\"weird,\"\"name\"\"@x.example\"\na+1@x.example\n").unwrap();
    let db_dir = dir.path().join("db");
    let imported = stdout(&run_with(
        &db_dir,
        &["emails", "import", file.to_str().unwrap()],
        &[("EMAIL_SUBADDRESS_SEPARATOR", "")],
    ));
    assert!(
        imported.contains("2 imported, 0 already registered, 1 with an unusual address"),
        "{imported}"
    );

    // Act
    let odd = stdout(&run(
        &db_dir,
        &["emails", "forget", " Weird,\"Name\"@X.example"],
    ));
    let tagged = stdout(&run(&db_dir, &["emails", "forget", "A+1@x.example"]));

    // Assert
    assert!(
        odd.starts_with("removed the registration of weird,\"name\"@x.example "),
        "{odd}"
    );
    assert!(
        tagged.starts_with("removed the registration of a+1@x.example "),
        "{tagged}"
    );
    assert_eq!(stdout(&run(&db_dir, &["emails", "list"])), "");
}

#[tokio::test]
async fn export_lists_registrations_with_consent_times_and_forget_removes_one() {
    let mut app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    app.confirm(&path).await;
    let dir = app.stop().await;

    let csv = stdout(&run(dir.path(), &["emails", "export"]));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "email");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let field = |name: &str| rows[0][headers.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(field("email"), "ada@uni.example");
    assert_eq!(field("state"), "done");
    assert_eq!(field("user_principal_name"), "ada.lovelace@tenant.example");
    assert!(
        field("consent_email_at").starts_with("2027-"),
        "{}",
        field("consent_email_at")
    );
    assert!(!field("object_id").is_empty());

    let forgotten = stdout(&run(dir.path(), &["emails", "forget", "ADA@uni.example"]));
    assert!(
        forgotten.contains("ada.lovelace@tenant.example"),
        "{forgotten}"
    );
    assert!(stdout(&run(dir.path(), &["emails", "list"])).is_empty());
    let unknown = run(dir.path(), &["emails", "forget", "nobody@uni.example"]);
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn a_failed_registration_is_listed_and_finished_by_signups_retry() {
    let directory = FlakyDirectory::new();
    let mut app = TestApp::builder()
        .directory(directory.clone())
        .spawn()
        .await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    app.sign_up("bob@uni.example", "Bob", "Pending").await;
    let path = app.verification_path("ada@uni.example").await;
    directory.fail_next(Op::Create);
    assert_eq!(
        app.confirm(&path).await.status(),
        202,
        "queued: the directory was unavailable"
    );
    let dir = app.stop().await;

    let listed = stdout(&run(dir.path(), &["signups", "list"]));
    let ada = listed
        .lines()
        .find(|l| l.contains("ada@uni.example"))
        .expect("ada is listed");
    assert!(
        ada.contains("\tcreating\t") && ada.contains("injected failure"),
        "{ada}"
    );
    let columns: Vec<&str> = ada.split('\t').collect();
    assert_eq!(columns[4], "1", "one attempt so far: {ada}");
    assert!(
        !columns[5].is_empty() && columns[5] != "-",
        "the next attempt's time: {ada}"
    );
    assert!(
        listed
            .lines()
            .any(|l| l.contains("bob@uni.example") && l.contains("\tpending\t")),
        "{listed}"
    );
    let id = ada.split('\t').next().unwrap();

    let retried = stdout(&run(dir.path(), &["signups", "retry", id]));
    assert!(
        retried.contains("created ada.lovelace@tenant.example"),
        "{retried}"
    );
    let listed = stdout(&run(dir.path(), &["signups", "list"]));
    assert!(!listed.contains("ada@uni.example"), "finished: {listed}");
    assert!(
        !run(dir.path(), &["signups", "retry", "no-such-id"])
            .status
            .success()
    );
}

#[tokio::test]
async fn purge_expired_deletes_only_expired_pending_sign_ups() {
    // TTL of one minute; the test clock of the server starts in 2027, so its links are
    // long expired for the command's real clock... unless the clock is moved: use the real one.
    let mut app = TestApp::builder()
        .env("VERIFICATION_TOKEN_TTL_MINUTES", "1")
        .spawn()
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    app.clock
        .store(now - 120, std::sync::atomic::Ordering::SeqCst);
    app.sign_up("old@uni.example", "Old", "Person").await;
    app.clock.store(now, std::sync::atomic::Ordering::SeqCst);
    app.sign_up("new@uni.example", "New", "Person").await;
    let dir = app.stop().await;

    let purged = stdout(&run(dir.path(), &["signups", "purge-expired"]));
    assert!(purged.starts_with("1 expired"), "{purged}");
    let listed = stdout(&run(dir.path(), &["signups", "list"]));
    assert!(
        !listed.contains("old@uni.example") && listed.contains("new@uni.example"),
        "{listed}"
    );
}

#[tokio::test]
async fn commands_refuse_clearly_while_a_server_holds_the_store() {
    let app = spawn_app().await;
    let output = run(app.store_dir.path(), &["emails", "list"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stop the server first"), "{stderr}");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["emails", "--help"],
        vec!["emails", "import", "--help"],
        vec!["emails", "export", "--help"],
        vec!["emails", "forget", "--help"],
        vec!["emails", "tag-existing", "--help"],
        vec!["signups", "--help"],
        vec!["signups", "retry", "--help"],
        vec!["signups", "purge-expired", "--help"],
        vec!["store", "--help"],
        vec!["store", "backup", "--help"],
        vec!["store", "restore", "--help"],
        vec!["store", "verify", "--help"],
        vec!["audit", "--help"],
        vec!["audit", "export", "--help"],
        vec!["vouchers", "--help"],
        vec!["vouchers", "create", "--help"],
        vec!["vouchers", "list", "--help"],
        vec!["vouchers", "show", "--help"],
        vec!["vouchers", "revoke", "--help"],
    ] {
        let out = stdout(&run(dir.path(), &args));
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
}

#[test]
fn a_broken_configuration_stops_start_up_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("custom.conf");
    std::fs::write(
        &conf,
        "# from the Flask deployment\nDEBUG_DONT_CONNECT_TO_API = True\n",
    )
    .unwrap();
    let output = run_with(
        dir.path(),
        &["serve"],
        &[("CONFIG_FILE", conf.to_str().unwrap())],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("custom.conf:2:") && stderr.contains("`true` instead of `True`"),
        "{stderr}"
    );
}

#[test]
fn an_unusable_store_path_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    // /proc refuses new files even to root; a file where the store's directory should be
    // is refused by every filesystem.
    for path in [
        std::path::PathBuf::from("/proc/ms365-accountcreator-store"),
        not_a_dir,
    ] {
        let output = run_with(
            dir.path(),
            &["serve"],
            &[("DATABASE_PATH", path.to_str().unwrap())],
        );
        assert!(!output.status.success(), "{path:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot open the store at DATABASE_PATH="),
            "{path:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test]
async fn the_server_purges_expired_sign_ups_by_itself() {
    let app = TestApp::builder()
        .env("VERIFICATION_TOKEN_TTL_MINUTES", "1")
        .env("METRICS_ENABLED", "true")
        .housekeeping_every(std::time::Duration::from_millis(50))
        .spawn()
        .await;
    app.sign_up("old@uni.example", "Old", "Person").await;
    app.advance_clock(120);
    app.sign_up("new@uni.example", "New", "Person").await;
    // Until a housekeeping pass has run: the metrics count one pending sign-up.
    let mut purged = false;
    for _ in 0..200 {
        let metrics = app.get_metrics().await.text().await.unwrap();
        if metrics
            .lines()
            .any(|line| line == "ms365_pending_signups 1")
        {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(purged, "no housekeeping pass within 5 s");
    let mut app = app;
    let dir = app.stop().await;
    let listed = stdout(&run(dir.path(), &["signups", "list"]));
    assert!(
        !listed.contains("old@uni.example"),
        "the expired one is deleted: {listed}"
    );
    assert!(
        listed.contains("new@uni.example"),
        "the current one stays: {listed}"
    );
}

#[tokio::test]
async fn an_export_is_imported_into_a_new_store_with_its_details_and_only_once() {
    // Arrange: a registration made by the server, exported.
    let mut app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let path = app.verification_path("ada@uni.example").await;
    app.confirm(&path).await;
    let old = app.stop().await;
    let file = old.path().join("export.csv");
    let exported = stdout(&run(old.path(), &["emails", "export"]));
    std::fs::write(&file, &exported).unwrap();
    let new = tempfile::tempdir().unwrap();
    let new_store = new.path().join("store");

    // Act
    let first = stdout(&run(
        &new_store,
        &["emails", "import", file.to_str().unwrap()],
    ));
    let again = stdout(&run(
        &new_store,
        &["emails", "import", file.to_str().unwrap()],
    ));
    let re_exported = stdout(&run(&new_store, &["emails", "export"]));

    // Assert
    assert!(
        first.contains("1 imported, 0 already registered"),
        "{first}"
    );
    assert!(
        again.contains("0 imported, 1 already registered"),
        "{again}"
    );
    let rows = |csv: &str| -> Vec<std::collections::HashMap<String, String>> {
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|row| {
                headers
                    .iter()
                    .zip(row.unwrap().iter())
                    .map(|(h, v)| (h.to_owned(), v.to_owned()))
                    .collect()
            })
            .collect()
    };
    let (before, after) = (rows(&exported), rows(&re_exported));
    assert_eq!(after.len(), 1);
    for column in [
        "email",
        "user_principal_name",
        "object_id",
        "registered_at",
        "consent_email_at",
        "consent_name_at",
    ] {
        assert_eq!(after[0][column], before[0][column], "{column}");
    }
    assert_eq!(after[0]["state"], "imported");
}

#[tokio::test]
async fn a_store_backup_restored_elsewhere_carries_registrations_and_pending_sign_ups() {
    // Arrange: one account created, one sign-up waiting for its link; the server stopped.
    let mut app = spawn_app().await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let ada = app.verification_path("ada@uni.example").await;
    app.confirm(&ada).await;
    app.sign_up("bob@uni.example", "Bob", "Builder").await;
    let bob = app.verification_path("bob@uni.example").await;
    let old = app.stop().await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("store.backup");
    let file = file.to_str().unwrap();
    let new = tempfile::tempdir().unwrap();

    // Act
    let backed_up = stdout(&run(old.path(), &["store", "backup", file]));
    let restored = stdout(&run(new.path(), &["store", "restore", file]));
    let twice = run(new.path(), &["store", "restore", file]);

    // Assert: the new store lists what the old one did, and a server on it goes on.
    assert!(backed_up.contains("records"), "{backed_up}");
    assert!(restored.contains("records"), "{restored}");
    assert!(
        !twice.status.success(),
        "a restore into a store in use is refused"
    );
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );
    for listing in [&["emails", "export"][..], &["signups", "list"][..]] {
        assert_eq!(
            stdout(&run(new.path(), listing)),
            stdout(&run(old.path(), listing)),
            "{listing:?}"
        );
    }
    let app = TestApp::builder().store(new).spawn().await;
    let confirmed = app.confirm(&bob).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(
        texts(&confirmed.text().await.unwrap(), "#username"),
        vec!["bob.builder@tenant.example"]
    );
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        422,
        "Ada's account came along"
    );
}

#[test]
fn a_truncated_backup_is_refused_and_leaves_the_store_empty() {
    let old = tempfile::tempdir().unwrap();
    let store = old.path().join("store");
    let csv = old.path().join("one.csv");
    std::fs::write(&csv, "ada@uni.example,1600000000\n").unwrap();
    stdout(&run(&store, &["emails", "import", csv.to_str().unwrap()]));
    let file = old.path().join("store.backup");
    stdout(&run(&store, &["store", "backup", file.to_str().unwrap()]));
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = &text[..text.trim_end().rfind('\n').unwrap() + 1];
    std::fs::write(&file, cut).unwrap();
    let new = old.path().join("new");

    let refused = run(&new, &["store", "restore", file.to_str().unwrap()]);

    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("incomplete"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(stdout(&run(&new, &["emails", "list"])), "");
}

/// Stopping the server leaves nothing holding the store, even with housekeeping passes
/// running all the time: a command run right after (or a new server) can open it.
#[tokio::test]
async fn the_store_is_free_the_moment_the_server_has_stopped() {
    for round in 0..20 {
        let mut app = TestApp::builder()
            .housekeeping_every(std::time::Duration::from_millis(1))
            .spawn()
            .await;
        app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
        let dir = app.stop().await;
        let opened = ms365_accountcreator::store::Store::open(dir.path());
        assert!(
            opened.is_ok(),
            "round {round}: the store is still held: {:?}",
            opened.err()
        );
    }
}
