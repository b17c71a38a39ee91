//! A damaged store: bytes overwritten in sled's files stop start-up with what to do; one
//! record that does not decode is skipped by housekeeping, which goes on.

use std::time::Duration;

use crate::support::helpers::{Logs, spawn_app_in, spawn_app_with};
use crate::support::process::ServerProcess;
use ms365_accountcreator::startup::Overrides;

/// Overwrites the first occurrence of `needle` in the store's log file.
fn overwrite_in_store_files(store: &std::path::Path, needle: &[u8]) {
    let log = store.join("db");
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes
        .windows(needle.len())
        .position(|window| window == needle)
        .expect("the bytes are in the log");
    bytes[at..at + needle.len()].fill(b'X');
    std::fs::write(&log, bytes).unwrap();
}

/// SIGTERM, and the exit is clean.
async fn stop(server: ServerProcess) {
    let (code, log) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
}

#[tokio::test]
async fn a_store_with_overwritten_bytes_is_refused_at_start_up_saying_where_and_what_to_do() {
    // Arrange: a sign-up, and a second start so sled has written a snapshot; then bytes of
    // the stored sign-up are overwritten.
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]).await;
    server.sign_up_ada().await;
    stop(server).await;
    stop(ServerProcess::start(dir.path(), &[]).await).await;
    let store = dir.path().join("store");
    overwrite_in_store_files(&store, b"Lovelace");

    // Act
    let (code, stderr) = ServerProcess::refused_start(&[], dir.path(), &[]).await;

    // Assert
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: cannot open the store at DATABASE_PATH={}: the store is damaged",
        store.display()
    );
    // sled logs its own complaint first; ours is a line of its own.
    assert!(
        stderr.lines().any(|line| line.starts_with(&expected)),
        "{stderr}"
    );
    assert!(
        stderr.contains("restore DATABASE_PATH from a backup"),
        "{stderr}"
    );
    assert!(!stderr.contains("can no longer be written"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn housekeeping_skips_a_record_it_cannot_read_counts_it_once_and_goes_on() {
    // Arrange: a store holding one record that does not decode, besides a good one.
    let mut app = spawn_app_with(&[], Overrides::default()).await;
    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    let dir = app.stop().await;
    {
        let db = sled::Config::new()
            .path(dir.path())
            .mode(sled::Mode::LowSpace)
            .open()
            .unwrap();
        let pending = db.open_tree("pending").unwrap();
        pending.insert("0000-damaged", &b"{not json"[..]).unwrap();
        db.flush().unwrap();
    }
    let (logs, _guard) = Logs::capture();
    let overrides = Overrides {
        housekeeping_every: Some(Duration::from_millis(20)),
        ..Overrides::default()
    };
    let app = spawn_app_in(dir, &[("METRICS_ENABLED", "true")], overrides).await;

    // Act: Ada's link expires; housekeeping runs until it has done both things it must, then
    // many more passes (every 20 ms) run. Waiting on the effects, not a fixed sleep, keeps
    // this true on a loaded machine where a pass can take long.
    app.advance_clock(86_400 + 1);
    let has_line = |metrics: &str, wanted: &str| metrics.lines().any(|line| line == wanted);
    let mut metrics = String::new();
    for _ in 0..400 {
        metrics = app.get_metrics().await.text().await.unwrap();
        if has_line(&metrics, "ms365_pending_signups 1")
            && has_line(&metrics, "ms365_store_unreadable_records_total 1")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        has_line(&metrics, "ms365_pending_signups 1"),
        "the expired sign-up after the damaged record was purged: {metrics}"
    );
    assert!(
        has_line(&metrics, "ms365_store_unreadable_records_total 1"),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert: later passes skip the bad record again without counting or logging it again.
    let metrics = app.get_metrics().await.text().await.unwrap();
    assert!(
        has_line(&metrics, "ms365_store_unreadable_records_total 1"),
        "counted once: {metrics}"
    );
    let text = logs.text();
    assert_eq!(
        text.matches("an unreadable record in the store was skipped")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("0000-damaged"), "{text}");
    assert!(!text.contains("can no longer be written"), "{text}");
    assert_eq!(app.get_readyz().await.status(), 200, "still serving");
}
