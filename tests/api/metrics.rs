//! `/metrics`: scraped and parsed as Prometheus does, after real sign-ups.

use std::collections::BTreeMap;

use crate::support::fake_graph::FakeGraph;
use crate::support::helpers::{TestApp, spawn_app, spawn_app_with};
use ms365_accountcreator::startup::Overrides;

/// Scrapes and parses: (metric name, sorted labels) → value.
pub(crate) async fn scrape(url: &str) -> BTreeMap<(String, String), f64> {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
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

async fn confirm(app: &TestApp, email: &str) {
    let path = app.verification_path(email).await;
    assert_eq!(app.post_form(&path, &[("lang", "en")]).await.status(), 200);
}

#[tokio::test]
async fn sign_ups_graph_calls_and_mails_are_counted() {
    let fake = FakeGraph::start().await;
    let group = fake.add_group("Students");
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let mut env = crate::graph::env(&fake, &[group], std::slice::from_ref(&sku));
    env.push(("METRICS_ENABLED".into(), "true".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&pairs, Overrides::default()).await;

    app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    confirm(&app, "ada@uni.example").await;
    app.sign_up("bob@uni.example", "Bob", "Byron").await;

    let samples = scrape(&app.url("/metrics")).await;
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

    // A failure is counted with where it stopped.
    fake.set_sku_units(&sku, 1);
    let path = app.verification_path("bob@uni.example").await;
    assert_eq!(app.post_form(&path, &[("lang", "en")]).await.status(), 503);
    let samples = scrape(&app.url("/metrics")).await;
    assert_eq!(
        value(
            &samples,
            "ms365_signups_total",
            "outcome=failed,reason=directory"
        ),
        1.0
    );
}

#[tokio::test]
async fn metrics_are_off_by_default_and_can_have_their_own_address() {
    let default = spawn_app().await;
    assert_eq!(default.get("/metrics").await.status(), 404);

    let separate = spawn_app_with(
        &[("METRICS_ENABLED", "true"), ("METRICS_BIND", "127.0.0.1:0")],
        Overrides::default(),
    )
    .await;
    assert_eq!(
        separate.get("/metrics").await.status(),
        404,
        "not on the public address"
    );
    let address = separate
        .metrics_address
        .clone()
        .expect("a metrics listener");
    let samples = scrape(&format!("{address}/metrics")).await;
    assert_eq!(value(&samples, "ms365_pending_signups", ""), 0.0);
}
