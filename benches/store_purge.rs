//! Store housekeeping under a flood of unconfirmed sign-ups: inserts 100 000 pending
//! sign-ups, measures insert time and disk size, lets them expire, purges, and measures
//! purge time and disk size again. Prints a markdown table.
//!
//!     cargo bench --bench store_purge            (PENDING=20000 for a quicker run)

use std::path::Path;
use std::time::Instant;

use ms365_accountcreator::store::{PendingSignup, RegistryKey, Store};

fn disk_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => stack.push(entry.path()),
                Ok(meta) => total += meta.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

fn main() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run());
}

async fn run() {
    let count: usize = std::env::var("PENDING")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("store");
    let store = Store::open(&path).expect("the store opens");

    let started = Instant::now();
    for i in 0..count {
        let signup = PendingSignup {
            id: format!("{i:032x}"),
            nonce: format!("{:032x}", i * 7919),
            // Mailboxes already; parsing them here would time the parser, not the store.
            email: RegistryKey::as_recorded(&format!("st{i:06}@stud.uni.example")),
            first_name: "Flood".into(),
            last_name: format!("Person{i}"),
            lang: "de".into(),
            created_at: 1_000,
            expires_at: 2_000,
            consent_email_at: 1_000,
            consent_name_at: 1_000,
            voucher: None,
        };
        store.insert_pending(&signup).await.expect("insert");
    }
    store.flush().await.expect("flush");
    let insert_time = started.elapsed();
    let size_full = disk_size(&path);
    let counted = store.pending_count().await;

    let started = Instant::now();
    let purged = store.purge_expired(3_000).await.expect("purge").deleted;
    store.flush().await.expect("flush");
    let purge_time = started.elapsed();
    let size_after = disk_size(&path);
    let left = store.pending_count().await;
    drop(store);

    // sled reclaims freed space as it rewrites segments; reopening shows the settled size.
    let reopened = Store::open(&path).expect("the store reopens");
    reopened.flush().await.expect("flush");
    let size_reopened = disk_size(&path);

    println!(
        "| Pending sign-ups | Insert time | Disk full | Purged | Purge time | Disk after purge | Disk after reopen | Left |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {counted} | {:.1} s ({:.0}/s) | {} | {purged} | {:.2} s ({:.0}/s) | {} | {} | {left} |",
        insert_time.as_secs_f64(),
        count as f64 / insert_time.as_secs_f64(),
        mib(size_full),
        purge_time.as_secs_f64(),
        purged as f64 / purge_time.as_secs_f64().max(1e-9),
        mib(size_after),
        mib(size_reopened),
    );
    assert_eq!(purged, count, "every expired sign-up is purged");
    assert_eq!(left, 0);
}
