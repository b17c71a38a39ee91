//! The audit log on both backends: numbered in the order written, read newest first or
//! oldest first, filtered, in backups and in `store verify`.

use super::{all, another_like, fresh_schema, postgres_store, raw_client, sled_store};
use crate::domain::{AuditAction, AuditActor, AuditEntry, AuditSource};
use crate::store::{AuditQuery, Store};

both_backends! {
    audit_lines_are_numbered_in_the_order_written_and_read_newest_first,
    the_audit_log_is_filtered_by_time_operator_and_action_and_paged,
    concurrent_audit_lines_each_get_a_number_of_their_own,
    the_audit_log_is_in_backups_and_new_lines_follow_restored_ones,
}

pub(in crate::store) fn line(upn: &str, action: AuditAction, at: u64) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at,
        actor: AuditActor {
            upn: upn.to_owned(),
            object_id: Some(format!("oid-{upn}")),
            source: AuditSource::Console,
        },
        action,
        subject: Some("p1".into()),
        detail: None,
        client: Some("192.0.2.7".into()),
    }
}

fn seqs(entries: &[AuditEntry]) -> Vec<u64> {
    entries.iter().map(|entry| entry.seq).collect()
}

async fn audit_lines_are_numbered_in_the_order_written_and_read_newest_first(store: Store) {
    let ada = "ada@tenant.example";
    let first = store
        .append_audit(&line(ada, AuditAction::SignIn, 100))
        .await
        .unwrap();
    let second = store
        .append_audit(&line(ada, AuditAction::Retry, 110))
        .await
        .unwrap();

    let newest_first = all(store.audit_entries(&AuditQuery::default()).await);
    let oldest_first = AuditQuery {
        oldest_first: true,
        ..AuditQuery::default()
    };
    let oldest_first = all(store.audit_entries(&oldest_first).await);

    assert!(second > first, "{first} {second}");
    assert_eq!(seqs(&newest_first), [second, first]);
    assert_eq!(seqs(&oldest_first), [first, second]);
    let expected = AuditEntry {
        seq: second,
        ..line(ada, AuditAction::Retry, 110)
    };
    assert_eq!(newest_first[0], expected, "read back as written");
}

async fn the_audit_log_is_filtered_by_time_operator_and_action_and_paged(store: Store) {
    let (ada, bob) = ("ada@tenant.example", "bob@tenant.example");
    for (upn, action, at) in [
        (ada, AuditAction::SignIn, 100),
        (bob, AuditAction::SignIn, 200),
        (ada, AuditAction::Forget, 300),
        (bob, AuditAction::Retry, 400),
        (ada, AuditAction::SignOut, 500),
    ] {
        store.append_audit(&line(upn, action, at)).await.unwrap();
    }
    let read = |query: AuditQuery| {
        let store = store.clone();
        async move {
            let entries = all(store.audit_entries(&query).await);
            entries.iter().map(|entry| entry.at).collect::<Vec<_>>()
        }
    };

    let by_ada = AuditQuery {
        operator: Some(" ADA@tenant.example ".into()),
        ..AuditQuery::default()
    };
    assert_eq!(read(by_ada).await, [500, 300, 100]);
    let by_object_id = AuditQuery {
        operator: Some(format!("oid-{bob}")),
        ..AuditQuery::default()
    };
    assert_eq!(read(by_object_id).await, [400, 200]);
    let sign_ins = AuditQuery {
        action: Some(AuditAction::SignIn),
        ..AuditQuery::default()
    };
    assert_eq!(read(sign_ins).await, [200, 100]);
    let since = AuditQuery {
        since: Some(300),
        oldest_first: true,
        ..AuditQuery::default()
    };
    assert_eq!(read(since).await, [300, 400, 500]);
    let first_page = AuditQuery {
        limit: Some(2),
        ..AuditQuery::default()
    };
    let page = all(store.audit_entries(&first_page).await);
    assert_eq!(page.len(), 2);
    let next_page = AuditQuery {
        before: Some(page[1].seq),
        limit: Some(2),
        ..AuditQuery::default()
    };
    assert_eq!(read(next_page).await, [300, 200]);
}

async fn concurrent_audit_lines_each_get_a_number_of_their_own(store: Store) {
    let writers = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let entry = line("ada@tenant.example", AuditAction::Retry, 100 + i);
            store.append_audit(&entry).await.unwrap()
        })
    });
    let mut numbers = Vec::new();
    for writer in writers {
        numbers.push(writer.await.unwrap());
    }
    numbers.sort_unstable();
    numbers.dedup();

    assert_eq!(numbers.len(), 16, "every line its own number");
    let stored = all(store.audit_entries(&AuditQuery::default()).await);
    assert_eq!(stored.len(), 16);
}

async fn the_audit_log_is_in_backups_and_new_lines_follow_restored_ones(store: Store) {
    let ada = "ada@tenant.example";
    for at in [100, 200] {
        store
            .append_audit(&line(ada, AuditAction::SignIn, at))
            .await
            .unwrap();
    }
    let mut file = Vec::new();
    store.backup(&mut file).await.unwrap();

    let (sled_copy, _dir) = sled_store();
    sled_copy.restore(file.as_slice()).await.unwrap();
    let (target, _target_dir) = another_like(&store, "the_audit_log_is_in_backups").await;
    let copied = target.restore(file.as_slice()).await.unwrap();

    assert_eq!(copied.records(), 2, "{copied}");
    for copy in [&sled_copy, &target] {
        let restored = all(copy.audit_entries(&AuditQuery::default()).await);
        let original = all(store.audit_entries(&AuditQuery::default()).await);
        assert_eq!(restored, original);
        let next = copy
            .append_audit(&line(ada, AuditAction::SignOut, 300))
            .await
            .unwrap();
        assert!(next > restored[0].seq, "after the restored lines: {next}");
        let verified = copy.verify().await.unwrap();
        assert!(verified.is_healthy(), "{:?}", verified.findings);
        assert_eq!(
            verified.per_kind.unwrap()[&crate::store::RecordKind::Audit],
            3
        );
    }
}

/// An audit line whose columns no longer say what its record says is named by `store
/// verify` (the console's filters read the columns).
#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn postgres_verify_names_an_audit_line_whose_columns_differ() {
    let (url, schema) = fresh_schema("postgres_verify_names_an_audit_line").await;
    let store = Store::connect_in_schema(&url, &schema).await.unwrap();
    let seq = store
        .append_audit(&line("ada@tenant.example", AuditAction::Forget, 100))
        .await
        .unwrap();
    let healthy = store.verify().await.unwrap();
    assert!(healthy.is_healthy(), "{:?}", healthy.findings);
    let damage = format!("SET search_path = {schema}; UPDATE audit_log SET operator = 'eve';");
    raw_client(&url).await.batch_execute(&damage).await.unwrap();

    let verified = store.verify().await.unwrap();

    let text: Vec<String> = verified.findings.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:#?}");
    assert!(text[0].contains("audit line") && text[0].ends_with(&seq.to_string()));
}
