//! Opening a sled store as the server does at start-up — every record read once, the
//! generation checked (`src/store/sled/integrity.rs`) — against sled's bare open and the
//! whole-store `checksum()` the store ran before, for stores of several sizes. Prints a
//! markdown table (medians of `ROUNDS` opens, default 9).
//!
//!     cargo bench --bench store_open            (REGISTRATIONS=1000 for a quicker run)

use std::path::Path;
use std::time::{Duration, Instant};

use ms365_accountcreator::store::{PendingSignup, RegistryKey, Store};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// A store with `count` registrations (each a claimed sign-up with its queue entry),
/// written and closed as a stopped server leaves it.
async fn fill(path: &Path, count: usize) {
    let store = Store::open(path).expect("the store opens");
    for i in 0..count {
        let signup = PendingSignup {
            id: format!("{i:032x}"),
            nonce: format!("{:032x}", i * 7919),
            email: RegistryKey::as_recorded(&format!("st{i:06}@stud.uni.example")),
            first_name: "Bench".into(),
            last_name: format!("Person{i}"),
            lang: "de".into(),
            created_at: 1_000,
            expires_at: u64::MAX / 2,
            consent_email_at: 1_000,
            consent_name_at: 1_000,
            voucher: None,
        };
        store.insert_pending(&signup).await.expect("insert");
        store
            .claim(&signup.id, &signup.nonce, 2_000)
            .await
            .expect("claim");
    }
    store.flush().await.expect("flush");
}

/// The median time `open` takes over `rounds` opens of the store at `path`.
fn time_opens(rounds: usize, path: &Path, open: impl Fn(&Path)) -> Duration {
    let times = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            open(path);
            let took = started.elapsed();
            // sled's background threads let go of the files a moment after the drop.
            std::thread::sleep(Duration::from_millis(50));
            took
        })
        .collect();
    median(times)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let largest: usize = std::env::var("REGISTRATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let sled_config = |path: &Path| sled::Config::new().path(path).mode(sled::Mode::LowSpace);
    println!(
        "| Registrations | `Store::open` (as the server) | sled's open alone | sled's open + `checksum()` (before) |"
    );
    println!("|---:|---:|---:|---:|");
    for count in [0, 10, 1_000, largest] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("store");
        runtime.block_on(fill(&path, count));
        // The first open after the writes replays sled's log; the server's starts after that
        // read a snapshot, which is what is timed.
        drop(Store::open(&path).expect("the store opens"));
        std::thread::sleep(Duration::from_millis(200));
        let store = time_opens(rounds, &path, |path| {
            drop(Store::open(path).expect("the store opens"));
        });
        let bare = time_opens(rounds, &path, |path| {
            drop(sled_config(path).open().expect("sled opens"));
        });
        let checksum = time_opens(rounds, &path, |path| {
            let db = sled_config(path).open().expect("sled opens");
            db.checksum().expect("the checksum");
        });
        println!(
            "| {count} | {} | {} | {} |",
            ms(store),
            ms(bare),
            ms(checksum)
        );
    }
}
