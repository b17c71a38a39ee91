//! A database of its own for a test, in the PostgreSQL server at `TEST_DATABASE_URL`
//! (`tests/run` starts a throwaway one). The tests that need it are `#[ignore]`d, so a plain
//! `cargo test` lists them as ignored instead of passing them unrun; run with the ignored
//! ones included, they fail without it.

use std::sync::atomic::{AtomicU32, Ordering};

/// `TEST_DATABASE_URL`; the calling test fails, saying so, without it.
pub fn server_url(test: &str) -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{test}: needs PostgreSQL: run tests/run, which starts a throwaway cluster (TEST_DATABASE_URL is not set)"
            )
        })
}

/// A name no other test uses: this process, a counter, the time.
pub fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The URL of database `name` on the server at `url`.
pub fn url_of(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(name);
    parsed.to_string()
}

/// Runs one statement on the server's own database (`CREATE DATABASE …`).
pub async fn execute(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test database server answers");
    tokio::spawn(connection);
    client.batch_execute(sql).await.expect(sql);
}

/// A new, empty database: its URL.
pub async fn fresh_database(test: &str) -> String {
    let url = server_url(test);
    let name = unique_name();
    execute(&url, &format!("CREATE DATABASE {name}")).await;
    url_of(&url, &name)
}
