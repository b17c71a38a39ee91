//! The tests' fake Microsoft Graph as a standalone process for `bench/run`. It serves the
//! fake with a fixed latency on every request (token endpoint included), creates the SKU and
//! groups a sign-up needs, prints one line of JSON with its addresses and ids, and answers
//! `GET /counts` on a second port with the round trips per endpoint so far. SIGTERM or
//! SIGINT stop it; it prints the counts to stderr then. On the same port, `POST
//! /throttle?seconds=N` answers the next create with 429 and `Retry-After: N` (answering
//! when it was armed), and `GET /requests` lists every request so far; times are
//! milliseconds since the fake started (the shared-budget benchmark).
//!
//! `cargo bench --bench fake_graph_server -- [latency-ms] [groups] [writes] [window-s]`
//! (defaults: 50, 5, no write budget). With `writes` and `window-s` the fake enforces a write
//! budget as Microsoft does: beyond `writes` in any `window-s` seconds it answers 429 with
//! `Retry-After` (the semester rush benchmark).

// An inline module with a path, so that the fake's own `mod directory; mod token;` resolve to
// `tests/api/support/fake_graph/` as in the test binary.
#[path = "../tests/api/support"]
mod api {
    #[allow(dead_code)]
    pub mod fake_graph;
}

use std::sync::Arc;
use std::time::Duration;

use api::fake_graph::{self, Endpoint, FakeGraph};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Server, handler, web::Data};

const ENDPOINTS: [(Endpoint, &str); 8] = [
    (Endpoint::Token, "token"),
    (Endpoint::ListUsers, "list_users"),
    (Endpoint::CreateUser, "create_user"),
    (Endpoint::GetUser, "get_user"),
    (Endpoint::UpdateUser, "update_user"),
    (Endpoint::Batch, "batch"),
    (Endpoint::SubscribedSkus, "subscribed_skus"),
    (Endpoint::GetGroup, "get_group"),
];

fn counts(fake: &FakeGraph) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (endpoint, name) in ENDPOINTS {
        map.insert(name.into(), fake.count(endpoint).into());
    }
    map.insert("graph_round_trips".into(), fake.graph_round_trips().into());
    map.insert("users".into(), fake.users().len().into());
    map.insert("writes".into(), fake.writes().into());
    map.insert("throttled".into(), fake.throttled().into());
    // UPNs with a collision number: a second user for one person would show here.
    let numbered = fake
        .users()
        .iter()
        .filter(|user| {
            user.upn
                .split('@')
                .next()
                .and_then(|local| local.rsplit('.').next())
                .is_some_and(|last| last.parse::<u32>().is_ok())
        })
        .count();
    map.insert("numbered_users".into(), numbered.into());
    serde_json::Value::Object(map)
}

#[handler]
fn counts_handler(Data(fake): Data<&Arc<FakeGraph>>) -> poem::web::Json<serde_json::Value> {
    poem::web::Json(counts(fake))
}

/// When the fake started: the zero of the times the control port gives.
struct Started(std::time::Instant);

fn millis(started: &Started, at: std::time::Instant) -> f64 {
    at.saturating_duration_since(started.0).as_secs_f64() * 1000.0
}

#[derive(serde::Deserialize)]
struct Throttle {
    seconds: u64,
}

/// Arms one 429 with `Retry-After: seconds` for the next create: the time it was armed.
#[handler]
fn throttle_handler(
    Data(fake): Data<&Arc<FakeGraph>>,
    Data(started): Data<&Arc<Started>>,
    poem::web::Query(throttle): poem::web::Query<Throttle>,
) -> poem::web::Json<serde_json::Value> {
    fake.throttle(Some(Endpoint::CreateUser), 1, throttle.seconds);
    let armed = millis(started, std::time::Instant::now());
    poem::web::Json(serde_json::json!({ "armed_ms": armed }))
}

/// Every request so far: `[ms, endpoint, status]`.
#[handler]
fn requests_handler(
    Data(fake): Data<&Arc<FakeGraph>>,
    Data(started): Data<&Arc<Started>>,
) -> poem::web::Json<serde_json::Value> {
    let name = |endpoint| {
        ENDPOINTS
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map_or("other", |(_, name)| name)
    };
    let requests: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|(at, endpoint, status)| {
            serde_json::json!([millis(started, at), name(endpoint), status])
        })
        .collect();
    poem::web::Json(serde_json::Value::Array(requests))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // `cargo bench` passes `--bench`; only numbers are ours.
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let latency = Duration::from_millis(numbers.first().copied().unwrap_or(50));
    let group_count = numbers.get(1).copied().unwrap_or(5);
    let budget = match (numbers.get(2), numbers.get(3)) {
        (Some(writes), Some(window)) => Some((*writes as usize, Duration::from_secs(*window))),
        _ => None,
    };

    let started = Arc::new(Started(std::time::Instant::now()));
    let fake = Arc::new(FakeGraph::start().await);
    for (endpoint, _) in ENDPOINTS {
        fake.delay(endpoint, usize::MAX, latency);
    }
    if let Some((writes, window)) = budget {
        fake.write_budget(writes, window);
    }
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 1_000_000);
    let groups: Vec<String> = (1..=group_count)
        .map(|n| fake.add_group(&format!("Bench group {n}")))
        .collect();

    let control = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let control_addr = *control.local_addr()[0]
        .as_socket_addr()
        .expect("a TCP address");
    let app = poem::Route::new()
        .at("/counts", poem::get(counts_handler))
        .at("/throttle", poem::post(throttle_handler))
        .at("/requests", poem::get(requests_handler))
        .data(fake.clone())
        .data(started);
    println!(
        "{}",
        serde_json::json!({
            "base": fake.base,
            "authority": fake.authority(),
            "client_id": fake_graph::CLIENT_ID,
            "domain": fake_graph::DOMAIN,
            "sku": sku,
            "groups": groups,
            "control": format!("http://{control_addr}"),
            "latency_ms": latency.as_millis() as u64,
        })
    );
    Server::new_with_acceptor(control)
        .run_with_graceful_shutdown(
            app,
            async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("a SIGTERM handler");
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            },
            None,
        )
        .await?;
    eprintln!("fake graph counts at exit: {}", counts(&fake));
    Ok(())
}
