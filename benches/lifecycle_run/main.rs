//! `lifecycle run` over 10 000 registrations of which 1 000 are due (issue 26's benchmark):
//! its wall time and the Graph writes it sends, which must be the due actions' writes, paced
//! at the write budget. The tests' fake Graph runs in this process over real HTTP with a SKU
//! and one tagged, licensed user per registration; a loopback SMTP sink
//! (`tests/smtp_server.py`) takes the mails; the release binary does the work, as an
//! operator runs it: `emails import`, `lifecycle plan --as-of D --json`, `lifecycle run
//! --as-of D`. On sled, and on PostgreSQL when `TEST_DATABASE_URL` is set (a database of
//! its own there, dropped at the end). Prints a markdown table.
//!
//!     cargo bench --bench lifecycle_run            (bench/run: BENCH_ONLY=lifecycle)
//!
//! The registrations: every tenth made on 2026-06-01, the rest on 2027-01-15; with
//! `ACCOUNT_LIFETIME_DAYS` 365 exactly the first ones have ended by 2027-06-30, the `--as-of`
//! day. No warning, no re-verification, so what is due is 1 000 disables, each a `PATCH
//! accountEnabled` and an `assignLicense` that removes the licence, and a mail.

// An inline module with a path, so that the fake's own `mod directory; mod token;` resolve to
// `tests/api/support/fake_graph/` as in the test binary.
#[path = "../../tests/api/support"]
mod api {
    #[allow(dead_code)]
    pub mod fake_graph;
}

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod row;
mod sink;

use api::fake_graph::{self, Endpoint, FakeGraph};
use ms365_accountcreator::directory::MailboxTagger;
use row::{Row, gaps};
use secrecy::SecretString;
use sink::Sink;

pub(crate) const REGISTRATIONS: usize = 10_000;
/// Every `DUE_EVERY`th registration is due.
const DUE_EVERY: usize = 10;
const LIFETIME_DAYS: &str = "365";
/// 2026-06-01 00:00 UTC: its accounts ended on 2027-06-01.
const EARLY: u64 = 1_780_272_000;
/// 2027-01-15 08:00 UTC: its accounts end on 2028-01-15.
const LATE: u64 = 1_800_000_000;
const AS_OF: &str = "2027-06-30";
/// The server's budget: high, so that the run is short, but paced all the same.
pub(crate) const WRITES_PER_MINUTE: u32 = 6_000;
/// The fake's own budget, as Microsoft keeps one: a tenth above ours over 10 s (plus the
/// one second's burst ours may save up), so a write sent past our budget draws a 429.
const FAKE_BUDGET: (usize, Duration) = (1_200, Duration::from_secs(10));
/// The most the run's time may be above the budget's floor.
pub(crate) const SLACK: f64 = 0.15;
const TAG_SECRET: &str = "bench-tag-secret-bench-tag-secret-bench-tag";
/// What a disable of a licensed user writes: `PATCH accountEnabled`, `assignLicense`.
pub(crate) const WRITES_PER_DISABLE: usize = 2;

/// The Graph endpoints a lifecycle run may call, as the table names them.
const ENDPOINTS: [(Endpoint, &str); 6] = [
    (Endpoint::UpdateUser, "PATCH user"),
    (Endpoint::AssignLicense, "assignLicense"),
    (Endpoint::DeleteUser, "DELETE user"),
    (Endpoint::RestoreUser, "restore"),
    (Endpoint::Batch, "$batch"),
    (Endpoint::CreateUser, "create"),
];

/// The fake directory: a SKU, and one tagged, licensed user per registration. Returns the
/// fake, the SKU and the rows of the import (mailbox, UPN, object id, made at).
async fn directory() -> (FakeGraph, String, Vec<(String, String, String, u64)>) {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", REGISTRATIONS as i64 * 2);
    let tagger = MailboxTagger::new(&SecretString::from(TAG_SECRET));
    let mut rows = Vec::with_capacity(REGISTRATIONS);
    for i in 0..REGISTRATIONS {
        let mailbox = format!("st{i:05}@stud.uni.example");
        let upn = format!("st{i:05}@{}", fake_graph::DOMAIN);
        let tag = tagger.tag(&mailbox);
        let attribute = ("extensionAttribute15", tag.as_str());
        let id = fake.add_user_with_attribute(&upn, "Bench", &format!("Person{i}"), attribute);
        fake.set_usage_location(&upn, "DE");
        fake.assign_licence(&upn, &sku);
        let made = if i % DUE_EVERY == 0 { EARLY } else { LATE };
        rows.push((mailbox, upn, id, made));
    }
    fake.write_budget(FAKE_BUDGET.0, FAKE_BUDGET.1);
    (fake, sku, rows)
}

/// The settings of every command: PRODUCTION mode, the fake Graph, the sink, the store.
fn settings(
    fake: &FakeGraph,
    sku: &str,
    sink: &Sink,
    store: &(String, String),
) -> Vec<(String, String)> {
    let fixture = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let pairs = [
        ("MODE", "production".to_owned()),
        ("PUBLIC_URL", "https://signup.uni.example".to_owned()),
        ("LOG_LEVEL", "warn".to_owned()),
        (
            "JWT_SECRET_KEY",
            "bench-secret-bench-secret-bench-secret".to_owned(),
        ),
        ("MAILBOX_TAG_SECRET", TAG_SECRET.to_owned()),
        ("DEBUG_DONT_CONNECT_TO_API", "false".to_owned()),
        ("DEBUG_DONT_SEND_MAIL", "false".to_owned()),
        ("GRAPH_API_URL", fake.base.clone()),
        ("GRAPH_API_AUTH_AUTHORITY", fake.authority()),
        ("GRAPH_API_AUTH_CLIENT_ID", fake_graph::CLIENT_ID.to_owned()),
        (
            "GRAPH_API_AUTH_PRIVKEY_PATH",
            fixture("graph-test-key.pkcs1.pem"),
        ),
        ("GRAPH_API_AUTH_CERT_PATH", fixture("graph-test-cert.pem")),
        ("GRAPH_API_USER_MAIL_DOMAIN", fake_graph::DOMAIN.to_owned()),
        ("GRAPH_API_LICENSE_SKUS", sku.to_owned()),
        ("GRAPH_API_WRITES_PER_MINUTE", WRITES_PER_MINUTE.to_string()),
        ("MAIL_SERVER_HOST", "127.0.0.1".to_owned()),
        ("MAIL_SERVER_PORT", sink.port.to_string()),
        ("MAIL_SERVER_SSL", "false".to_owned()),
        ("MAIL_SERVER_STARTTLS", "false".to_owned()),
        ("MAIL_SERVER_LOGIN", "false".to_owned()),
        ("MAIL_SENDING_ADDRESS", "accounts@uni.example".to_owned()),
        ("SUPPORT_EMAIL", "it-support@uni.example".to_owned()),
        ("ACCOUNT_LIFETIME_DAYS", LIFETIME_DAYS.to_owned()),
        ("LIFECYCLE_WARN_DAYS", "0".to_owned()),
        ("REVERIFY_AFTER_DAYS", "0".to_owned()),
        ("DELETE_AFTER_DAYS", "30".to_owned()),
    ];
    let mut env: Vec<(String, String)> =
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.push(store.clone());
    env
}

/// The release binary with `args`: its output and how long it took. Panics when it fails.
async fn binary(env: &[(String, String)], args: &[&str]) -> (Output, Duration) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(std::env::temp_dir());
    let (output, took) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = command.output().expect("the binary runs");
        (output, started.elapsed())
    })
    .await
    .expect("the command's thread");
    (output, took)
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Imports the registrations as `emails import` takes an export.
async fn import(env: &[(String, String)], rows: &[(String, String, String, u64)], dir: &Path) {
    let mut csv = String::from(
        "email,state,user_principal_name,object_id,registered_at,consent_email_at,consent_name_at,updated_at\n",
    );
    for (mailbox, upn, id, at) in rows {
        csv.push_str(&format!("{mailbox},done,{upn},{id},{at},{at},{at},{at}\n"));
    }
    let path = dir.join("registrations.csv");
    std::fs::write(&path, csv).expect("the export is written");
    let path = path.to_string_lossy().into_owned();
    let (output, _) = binary(env, &["emails", "import", &path]).await;
    succeeded(&output, "emails import");
}

/// One store: import, plan, run.
async fn bench(label: &'static str, store: (String, String), sink: &Sink, dir: &Path) -> Row {
    eprintln!(">> {label}: {REGISTRATIONS} users in the fake directory");
    let (fake, sku, rows) = directory().await;
    let env = settings(&fake, &sku, sink, &store);
    eprintln!(">> {label}: emails import");
    import(&env, &rows, dir).await;
    let plan_args = ["lifecycle", "plan", "--as-of", AS_OF, "--json"];
    let (output, plan) = binary(&env, &plan_args).await;
    let mut due = BTreeMap::new();
    for line in succeeded(&output, "lifecycle plan").lines() {
        let item: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let action = item["action"].as_str().unwrap_or("?").to_owned();
        *due.entry(action).or_default() += 1;
    }
    let seats = fake.consumed(&sku);
    let (mails, reads) = (sink.received(), fake.count(Endpoint::GetUser));
    eprintln!(
        ">> {label}: lifecycle run over {} due actions",
        due.values().sum::<usize>()
    );
    let (output, run) = binary(&env, &["lifecycle", "run", "--as-of", AS_OF]).await;
    // A run with failed actions exits non-zero, listing them: the table counts them, and
    // the verdict misses.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed = stderr.lines().filter(|l| l.contains("\tfailed: ")).count();
    if !output.status.success() {
        eprintln!("{stderr}");
    }
    let done = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            line.split(", ")
                .nth(1)?
                .strip_suffix(" done")?
                .parse::<usize>()
                .ok()
        })
        .sum::<usize>();
    gaps(&fake);
    let writes_by_endpoint = ENDPOINTS
        .iter()
        .map(|(endpoint, name)| (*name, fake.count(*endpoint)))
        .collect();
    Row {
        store: label,
        due,
        writes_by_endpoint,
        writes: fake.writes(),
        reads: fake.count(Endpoint::GetUser) - reads,
        throttled: fake.throttled(),
        disabled: fake.users().iter().filter(|user| !user.enabled).count(),
        seats_freed: seats - fake.consumed(&sku),
        mails: sink.received() - mails,
        done,
        failed,
        plan,
        run,
    }
}

/// A new database on the PostgreSQL server at `server`: its URL.
async fn fresh_database(server: &str, name: &str) -> String {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("TEST_DATABASE_URL answers");
    tokio::spawn(connection);
    // One statement each: PostgreSQL runs neither inside a transaction block.
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        client
            .batch_execute(&statement)
            .await
            .expect("a database for the benchmark");
    }
    let mut url = url::Url::parse(server).expect("TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

async fn drop_database(server: &str, name: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(server, tokio_postgres::NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

#[tokio::main]
async fn main() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let sink = Sink::start(&scratch.path().join("mail"));
    let mut rows = Vec::new();
    let sled = scratch.path().join("sled");
    let store = (
        "DATABASE_PATH".to_owned(),
        sled.to_string_lossy().into_owned(),
    );
    rows.push(bench("sled", store, &sink, scratch.path()).await);
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(server) => {
            let name = format!("bench_lifecycle_{}", std::process::id());
            let url = fresh_database(&server, &name).await;
            let store = ("DATABASE_URL".to_owned(), url);
            rows.push(bench("PostgreSQL", store, &sink, scratch.path()).await);
            drop_database(&server, &name).await;
        }
        None => eprintln!(">> TEST_DATABASE_URL is not set: sled only"),
    }
    println!(
        "| Store | Registrations | Due actions | Done / failed | Graph writes (by endpoint) | Reads (GET user) | 429s | Users disabled | Seats freed | Mails | `lifecycle run` | Floor | Over the floor | `lifecycle plan` | Verdict |"
    );
    println!("|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for row in &rows {
        println!("{}", row.markdown());
    }
}
