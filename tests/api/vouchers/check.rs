//! `check` looks at each live voucher's own licences and groups in the tenant, as it does
//! at the configured ones.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::{run_with, stdout};
use crate::support::fake_graph::FakeGraph;

fn create(store: &Path, args: &[&str]) -> String {
    let mut all = vec!["vouchers", "create", "--json"];
    all.extend(args);
    let made: Value = serde_json::from_str(&stdout(&run_with(store, &all, &[]))).unwrap();
    made["code"].as_str().unwrap().to_owned()
}

/// `check --skip-smtp --json` against the fake, off the test's thread (the fake answers on it).
async fn check(store: PathBuf, env: Vec<(String, String)>) -> Vec<(String, bool)> {
    let output = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_with(&store, &["check", "--skip-smtp", "--json"], &env)
    })
    .await
    .unwrap();
    let results: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!("{}", String::from_utf8_lossy(&output.stderr));
    });
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}: {}", r["check"].as_str().unwrap(), r["detail"]),
                r["ok"] == true,
            )
        })
        .collect()
}

#[tokio::test]
async fn check_finds_a_vouchers_missing_group_and_passes_its_licence_and_existing_group() {
    // Arrange: the settings' group and licence exist; the voucher names its own licence and
    // group, which exist, and a group the tenant lacks. A revoked voucher names another
    // missing group: it admits nobody, so nothing is said about it.
    let fake = FakeGraph::start().await;
    let configured_group = fake.add_group("Students");
    let configured_sku = fake.add_sku("STUDENT", 10);
    let own_group = fake.add_group("Exchange");
    let own_sku = fake.add_sku("FACULTY", 5);
    let missing = "00000000-0000-4000-8000-0000000000aa";
    let revoked_missing = "00000000-0000-4000-8000-0000000000bb";
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    create(
        &store,
        &[
            "--name",
            "Exchange",
            "--licence",
            &own_sku,
            "--group",
            &own_group,
            "--group",
            missing,
        ],
    );
    let revoked = create(
        &store,
        &["--name", "Old course", "--group", revoked_missing],
    );
    stdout(&run_with(&store, &["vouchers", "revoke", &revoked], &[]));
    let env = crate::graph::env(&fake, &[configured_group], &[configured_sku]);

    // Act
    let results = check(store, env).await;

    // Assert
    let failed: Vec<&String> = results
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(r, _)| r)
        .collect();
    assert_eq!(failed.len(), 1, "{results:#?}");
    assert!(
        failed[0].starts_with(&format!("voucher Exchange: group {missing}")),
        "{failed:#?}"
    );
    assert!(failed[0].contains("vouchers revoke"), "{failed:#?}");
    let passed = |prefix: String| {
        assert!(
            results.iter().any(|(r, ok)| *ok && r.starts_with(&prefix)),
            "no passing {prefix}: {results:#?}"
        );
    };
    passed(format!("voucher Exchange: licence SKU {own_sku}"));
    passed(format!("voucher Exchange: group {own_group}"));
    assert!(
        !results
            .iter()
            .any(|(r, _)| r.contains("Old course") || r.contains(revoked_missing)),
        "{results:#?}"
    );
}
