//! The server runs the lifecycle by itself once a day, from `LIFECYCLE_RUN_HOUR` on: not
//! before the hour, once on the day however often it looks, and it counts what it did in
//! `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ms365_accountcreator::startup::Overrides;

use super::*;
use crate::support::helpers::spawn_app_with;

/// 2027-02-14 (Ada's end) at `hour`:00 UTC.
fn end_day_at(hour: u64) -> u64 {
    let midnight = REGISTERED + 30 * 86_400 - (REGISTERED % 86_400);
    midnight + hour * 3_600
}

async fn the_server_runs_the_lifecycle_once_a_day_from_its_hour(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Ada's end came at 08:00; the server's clock stands at 09:00, its run hour is
    // 10.
    let tenant = Tenant::new(kind).await;
    tenant.register(&[("ada@uni.example", ADA)]).await;
    let clock = Arc::new(AtomicU64::new(end_day_at(9)));
    let read = clock.clone();
    let mut env = crate::graph::env(&tenant.fake, &[], &[]);
    env.extend(tenant.smtp.app_settings());
    env.push(tenant.store.clone());
    for (key, value) in [
        ("ACCOUNT_LIFETIME_DAYS", "30"),
        ("LIFECYCLE_WARN_DAYS", "0"),
        ("LIFECYCLE_RUN_HOUR", "10"),
        ("METRICS_ENABLED", "true"),
    ] {
        env.push((key.to_owned(), value.to_owned()));
    }
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let overrides = Overrides {
        clock: Some(Arc::new(move || read.load(Ordering::SeqCst))),
        housekeeping_every: Some(Duration::from_millis(50)),
        ..Overrides::default()
    };
    let app = spawn_app_with(&pairs, overrides).await;
    let fake = &tenant.fake;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.writes(), 0, "not before the run hour");

    // Act: the hour comes.
    clock.store(end_day_at(11), Ordering::SeqCst);
    for _ in 0..200 {
        if fake.user(ADA).is_some_and(|user| user.licences.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Assert: ended once, told once, counted.
    let user = fake.user(ADA).expect("Ada's user");
    assert!(!user.enabled && user.licences.is_empty());
    assert_eq!(fake.writes(), 2, "once, however often it looked");
    assert_eq!(
        tenant.mails_to("ada@uni.example"),
        ["Your account has been disabled"]
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("ms365_lifecycle_actions_total{")
                && line.contains("action=\"disable\"")
                && line.contains("outcome=\"done\"")
                && line.ends_with(" 1")),
        "{metrics}"
    );
}

#[tokio::test]
async fn on_sled_the_server_runs_the_lifecycle_once_a_day_from_its_hour() {
    the_server_runs_the_lifecycle_once_a_day_from_its_hour(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_the_server_runs_the_lifecycle_once_a_day_from_its_hour() {
    the_server_runs_the_lifecycle_once_a_day_from_its_hour(Kind::Postgres).await;
}
