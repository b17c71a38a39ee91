//! `/metrics`: scraped and parsed as Prometheus does, after real sign-ups.

use std::collections::BTreeMap;

use crate::support::fake_graph::FakeGraph;
use crate::support::helpers::{TestApp, spawn_app};
use crate::support::routes::paths;

/// Scrapes and parses: (metric name, sorted labels) → value.
pub(crate) async fn scrape(url: &str) -> BTreeMap<(String, String), f64> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
    scrape
        .samples
        .into_iter()
        .map(|sample| {
            let mut labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            labels.sort();
            let value = match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                prometheus_parse::Value::Summary(_) => 0.0,
            };
            ((sample.metric, labels.join(",")), value)
        })
        .collect()
}

pub(crate) fn value(samples: &BTreeMap<(String, String), f64>, metric: &str, labels: &str) -> f64 {
    samples
        .get(&(metric.to_owned(), labels.to_owned()))
        .copied()
        .unwrap_or_else(|| {
            panic!(
                "no {metric}{{{labels}}} in {:#?}",
                samples
                    .keys()
                    .filter(|(m, _)| m.starts_with(metric))
                    .collect::<Vec<_>>()
            )
        })
}

#[tokio::test]
async fn sign_ups_graph_calls_and_mails_are_counted() {
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let mut env = crate::graph::env(&fake, &[group], std::slice::from_ref(&sku));
    env.push(("METRICS_ENABLED".into(), "true".into()));
    let app = TestApp::builder().envs(&env).spawn().await;

    app.create_account("ada@uni.example", "Ada", "Lovelace")
        .await;
    app.sign_up("bob@uni.example", "Bob", "Byron").await;

    let samples = scrape(&app.url(paths::METRICS)).await;
    assert_eq!(
        value(&samples, "ms365_signups_total", "outcome=started,reason="),
        2.0
    );
    assert_eq!(
        value(&samples, "ms365_signups_total", "outcome=verified,reason="),
        1.0
    );
    assert_eq!(
        value(&samples, "ms365_signups_total", "outcome=created,reason="),
        1.0
    );
    assert_eq!(value(&samples, "ms365_pending_signups", ""), 1.0);
    assert_eq!(
        value(
            &samples,
            "ms365_mails_total",
            "kind=verification,result=sent"
        ),
        2.0
    );
    assert_eq!(
        value(&samples, "ms365_mails_total", "kind=password,result=sent"),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "ms365_graph_requests_total",
            "endpoint=create user,status=201"
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "ms365_graph_request_duration_seconds_count",
            "endpoint=create user"
        ),
        1.0
    );

    // A run that stopped is counted with where it stopped: here, no free seat (the
    // registration waits in the queue for one).
    fake.set_sku_units(&sku, 1);
    let path = app.verification_path("bob@uni.example").await;
    assert_eq!(app.confirm(&path).await.status(), 202);
    let samples = scrape(&app.url(paths::METRICS)).await;
    assert_eq!(
        value(
            &samples,
            "ms365_signups_total",
            "outcome=failed,reason=no_seat"
        ),
        1.0
    );
}

#[tokio::test]
async fn metrics_are_off_by_default_and_can_have_their_own_address() {
    let default = spawn_app().await;
    assert_eq!(default.get_metrics().await.status(), 404);

    let separate = TestApp::builder()
        .env("METRICS_ENABLED", "true")
        .env("METRICS_BIND", "127.0.0.1:0")
        .spawn()
        .await;
    assert_eq!(
        separate.get_metrics().await.status(),
        404,
        "not on the public address"
    );
    let address = separate
        .metrics_address
        .clone()
        .expect("a metrics listener");
    let samples = scrape(&format!("{address}{}", paths::METRICS)).await;
    assert_eq!(value(&samples, "ms365_pending_signups", ""), 0.0);
}
