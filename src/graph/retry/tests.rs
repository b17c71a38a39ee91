use std::time::Instant;

use super::*;

#[test]
fn backoff_doubles_up_to_the_cap_with_some_jitter() {
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(1000),
        ..RetryPolicy::default()
    };
    for (attempt, full) in [
        (1, 100),
        (2, 200),
        (3, 400),
        (4, 800),
        (5, 1000),
        (40, 1000),
    ] {
        let wait = policy.wait(attempt, None);
        let full = Duration::from_millis(full);
        assert!(wait <= full && wait >= full * 4 / 5, "{attempt}: {wait:?}");
    }
}

#[test]
fn retry_after_is_honoured_and_never_shortened() {
    let policy = RetryPolicy::default();
    let wait = policy.wait(1, Some(Duration::from_secs(7)));
    assert!(wait >= Duration::from_secs(7) && wait <= Duration::from_millis(7700));
    assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon"), None);
}

/// Quick waits, so the combinator's tests take milliseconds.
fn policy(deadline_ms: u64, base_ms: u64, max_ms: u64) -> RetryPolicy {
    RetryPolicy {
        deadline: Duration::from_millis(deadline_ms),
        base_delay: Duration::from_millis(base_ms),
        max_delay: Duration::from_millis(max_ms),
        max_lag_retries: 6,
    }
}

/// Runs a step whose attempt number `n` (from 1) comes to `script(n)`; returns the end and
/// how many attempts were made.
async fn run_script(
    retrier: Retrier<'_>,
    script: impl Fn(u32) -> Attempt<&'static str, &'static str, &'static str>,
) -> (Result<&'static str, Stop<&'static str, &'static str>>, u32) {
    let mut calls = 0;
    let end = retrier
        .run(|| {
            calls += 1;
            let attempt = script(calls);
            async move { attempt }
        })
        .await;
    (end, calls)
}

#[tokio::test]
async fn the_retrier_waits_for_retry_after_before_the_next_attempt() {
    let policy = policy(5_000, 1, 2);
    let started = Instant::now();

    let (end, calls) = run_script(Retrier::new("test", &policy, policy.start()), |n| match n {
        1 => Attempt::Retry(Retry::busy("429", Some(Duration::from_millis(80)))),
        _ => Attempt::Done("created"),
    })
    .await;

    assert_eq!((end, calls), (Ok("created"), 2));
    assert!(
        started.elapsed() >= Duration::from_millis(80),
        "Retry-After, not the 1 ms backoff: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_retriers_backoff_without_retry_after_is_capped() {
    let policy = policy(10_000, 5, 10);
    let started = Instant::now();

    let (end, calls) = run_script(Retrier::new("test", &policy, policy.start()), |n| {
        if n <= 10 {
            Attempt::Retry(Retry::busy("503", None))
        } else {
            Attempt::Done("created")
        }
    })
    .await;

    assert_eq!((end, calls), (Ok("created"), 11));
    let elapsed = started.elapsed();
    // 4–5 ms, then nine waits of 8–10 ms; doubling without the cap would take 5 s.
    assert!(
        elapsed >= Duration::from_millis(76) && elapsed < Duration::from_secs(1),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn the_retrier_never_waits_past_the_deadline() {
    for (retry_after, base_ms) in [(Some(Duration::from_secs(10)), 1), (None, 10_000)] {
        let policy = policy(200, base_ms, base_ms);
        let started = Instant::now();

        let (end, calls) = run_script(Retrier::new("test", &policy, policy.start()), |_| {
            Attempt::Retry(Retry::busy("429", retry_after))
        })
        .await;

        assert_eq!(
            (end, calls),
            (
                Err(Stop::Exhausted {
                    problem: "429",
                    attempts: 1,
                    out_of_time: true
                }),
                1
            ),
            "{retry_after:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "no hopeless wait"
        );
    }
}

#[tokio::test]
async fn the_retrier_gives_up_at_once_on_a_refusal() {
    let policy = policy(5_000, 1, 2);

    let (end, calls) = run_script(Retrier::new("test", &policy, policy.start()), |n| match n {
        1 => Attempt::GiveUp("403"),
        _ => Attempt::Done("created"),
    })
    .await;

    assert_eq!((end, calls), (Err(Stop::GaveUp("403")), 1));
}

#[tokio::test]
async fn the_retriers_lag_retries_end_at_their_limit_before_the_deadline() {
    let policy = policy(5_000, 1, 2);
    let retrier = Retrier::new("test", &policy, policy.start()).max_lag(2);

    let (end, calls) = run_script(retrier, |_| Attempt::Retry(Retry::lagging("404"))).await;

    assert_eq!(
        (end, calls),
        (
            Err(Stop::Exhausted {
                problem: "404",
                attempts: 3,
                out_of_time: false
            }),
            3
        )
    );
}

#[tokio::test]
async fn the_retrier_tries_again_at_once_when_asked_to() {
    let policy = policy(30_000, 10_000, 10_000);
    let started = Instant::now();

    let (end, calls) = run_script(Retrier::new("test", &policy, policy.start()), |n| match n {
        1 => Attempt::Again,
        _ => Attempt::Done("created"),
    })
    .await;

    assert_eq!((end, calls), (Ok("created"), 2));
    assert!(started.elapsed() < Duration::from_secs(1), "no backoff");
}
