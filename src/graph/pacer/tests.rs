use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;

// The clock is tokio's virtual one (`start_paused`): it jumps to the next timer whenever
// every task waits, so the waits below are exact and no load on the machine moves them.

const LONG: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn writes_beyond_the_budget_wait_their_turn_in_order() {
    // 600 a minute: ten a second, ten saved up.
    let pacer = Pacer::new(600);
    let started = Instant::now();
    pacer.admit(10, LONG).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO, "saved up");
    pacer.admit(1, LONG).await.unwrap();
    let one = started.elapsed();
    pacer.admit(2, LONG).await.unwrap();
    let three = started.elapsed();
    assert_near(one, Duration::from_millis(100));
    assert_near(three, Duration::from_millis(300));
    assert_eq!(pacer.writes_last_minute(), 13);
}

#[tokio::test(start_paused = true)]
async fn reads_cost_nothing_but_wait_for_a_pause() {
    let pacer = Pacer::new(60);
    pacer.admit(1, LONG).await.unwrap();
    let started = Instant::now();
    pacer.admit(0, LONG).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO, "a read takes no token");
    pacer.pause(Duration::from_millis(300)).await;
    pacer.admit(0, LONG).await.unwrap();
    assert_near(started.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn one_pause_holds_every_writer_and_a_shorter_one_does_not_shorten_it() {
    let pacer = Pacer::new(60_000);
    pacer.pause(Duration::from_millis(400)).await;
    pacer.pause(Duration::from_millis(100)).await;
    let started = Instant::now();
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                pacer.admit(1, LONG).await.unwrap();
                Instant::now()
            })
        })
        .collect();
    for writer in writers {
        let sent = writer.await.unwrap();
        assert!(sent - started >= Duration::from_millis(400));
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_the_limit_takes_nothing_and_says_how_long() {
    let pacer = Pacer::new(60);
    pacer.pause(Duration::from_secs(30)).await;
    let held = pacer.admit(1, Duration::from_secs(10)).await.unwrap_err();
    assert_near(held.wait(), Duration::from_secs(30));
    assert_eq!(pacer.writes_last_minute(), 0, "no tokens taken");
}

// --- shared by several instances ---

/// A budget shared by the pacers given it, as the database is by instances: the in-memory
/// bucket behind a lock, with a switch for a database that is away or does not answer.
#[derive(Debug)]
struct SharedFake {
    bucket: Mutex<Bucket>,
    announce: watch::Sender<Option<Instant>>,
    takes: AtomicUsize,
    pauses: AtomicUsize,
    away: AtomicBool,
    silent: AtomicBool,
}

impl SharedFake {
    fn new(per_minute: u32) -> Arc<Self> {
        Arc::new(SharedFake {
            bucket: Mutex::new(Bucket::new(per_minute)),
            announce: watch::channel(None).0,
            takes: AtomicUsize::new(0),
            pauses: AtomicUsize::new(0),
            away: AtomicBool::new(false),
            silent: AtomicBool::new(false),
        })
    }

    /// A pacer of an instance using this budget.
    fn instance(self: &Arc<Self>, per_minute: u32) -> Pacer {
        Pacer::new(per_minute).shared(self.clone())
    }

    async fn reachable(&self) -> Result<(), BudgetUnreachable> {
        if self.silent.load(Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
        if self.away.load(Ordering::Relaxed) {
            return Err(BudgetUnreachable("connection refused".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl SharedBudget for SharedFake {
    async fn take(
        &self,
        writes: u32,
        _per_minute: u32,
        limit: Duration,
    ) -> Result<SharedTurn, BudgetUnreachable> {
        self.reachable().await?;
        self.takes.fetch_add(1, Ordering::Relaxed);
        let mut bucket = self.bucket.lock().unwrap();
        let answer = bucket.reserve(writes, limit, None);
        let paused_for = bucket.pause_left(None);
        Ok(match answer {
            Ok(wait) => SharedTurn {
                wait,
                taken: true,
                paused_for,
            },
            Err(wait) => SharedTurn {
                wait,
                taken: false,
                paused_for,
            },
        })
    }

    async fn pause(&self, retry_after: Duration) -> Result<(), BudgetUnreachable> {
        self.reachable().await?;
        self.pauses.fetch_add(1, Ordering::Relaxed);
        self.bucket.lock().unwrap().pause(retry_after, None);
        self.announce
            .send_replace(Some(Instant::now() + retry_after));
        Ok(())
    }

    fn pauses(&self) -> watch::Receiver<Option<Instant>> {
        self.announce.subscribe()
    }
}

#[tokio::test(start_paused = true)]
async fn instances_sharing_a_budget_take_turns_from_one_bucket_one_round_trip_a_request() {
    // 600 a minute for both together: ten a second, ten saved up.
    let shared = SharedFake::new(600);
    let (one, two) = (shared.instance(600), shared.instance(600));
    let started = Instant::now();

    one.admit(10, LONG).await.unwrap();
    two.admit(1, LONG).await.unwrap();
    let after_one = started.elapsed();
    one.admit(2, LONG).await.unwrap();
    let after_three = started.elapsed();
    two.admit(0, LONG).await.unwrap();

    assert_near(after_one, Duration::from_millis(100));
    assert_near(after_three, Duration::from_millis(300));
    assert_eq!(shared.takes.load(Ordering::Relaxed), 3, "none for the read");
    assert_eq!(
        (one.writes_last_minute(), two.writes_last_minute()),
        (12, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_pause_one_instance_records_holds_a_writer_the_other_gave_its_turn_already() {
    // One a second: the second write's turn comes after a second.
    let shared = SharedFake::new(60);
    let (one, two) = (shared.instance(60), shared.instance(60));
    let started = Instant::now();
    two.admit(1, LONG).await.unwrap();
    let writer = tokio::spawn({
        let two = two.clone();
        async move {
            two.admit(1, LONG).await.unwrap();
            Instant::now()
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    one.pause(Duration::from_secs(2)).await;
    two.admit(0, LONG).await.unwrap();

    assert_near(started.elapsed(), Duration::from_millis(2500));
    assert_near(writer.await.unwrap() - started, Duration::from_millis(2500));
    assert_eq!(shared.pauses.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn a_pause_known_already_is_not_recorded_again() {
    let shared = SharedFake::new(60);
    let (one, two) = (shared.instance(60), shared.instance(60));
    one.pause(Duration::from_secs(3)).await;
    one.pause(Duration::from_secs(3)).await;
    two.pause(Duration::from_secs(1)).await;
    assert_eq!(shared.pauses.load(Ordering::Relaxed), 1);
    assert_near(two.pause_left(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_turn_past_the_limit_is_refused_and_takes_nothing() {
    let shared = SharedFake::new(60);
    let (one, two) = (shared.instance(60), shared.instance(60));
    one.admit(1, LONG).await.unwrap();
    let held = two.admit(5, Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(held, Held::Waiting(_)), "{held:?}");
    assert_near(held.wait(), Duration::from_secs(5));
    let started = Instant::now();
    two.admit(1, LONG).await.unwrap();
    assert_near(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn writes_wait_while_the_shared_budget_is_away_and_reads_go_on() {
    let shared = SharedFake::new(60);
    let pacer = shared.instance(60);
    shared.away.store(true, Ordering::Relaxed);
    let held = pacer.admit(1, LONG).await.unwrap_err();
    assert!(matches!(held, Held::Unreachable(_)), "{held:?}");
    assert_eq!(held.wait(), UNREACHABLE_RETRY);

    shared.away.store(false, Ordering::Relaxed);
    shared.silent.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let held = pacer.admit(1, LONG).await.unwrap_err();
    assert!(matches!(held, Held::Unreachable(_)), "{held:?}");
    assert_eq!(started.elapsed(), SHARED_TIMEOUT, "a bounded wait");

    pacer.admit(0, LONG).await.unwrap();
    assert_eq!(pacer.writes_last_minute(), 0);
}

/// Equal but for the rounding of the token arithmetic.
fn assert_near(actual: Duration, expected: Duration) {
    let off = actual.abs_diff(expected);
    assert!(
        off < Duration::from_millis(2),
        "{actual:?}, expected {expected:?}"
    );
}
