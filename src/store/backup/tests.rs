//! The backup file's format: what is refused, and where.

use super::*;
use crate::store::RegistryKey;

#[tokio::test]
async fn a_file_that_is_not_a_backup_is_refused_with_its_line() {
    let store = Store::temporary().unwrap();
    let v1 = "{\"format\":\"ms365-accountcreator store backup\",\"version\":1}\n";
    let v2 = "{\"format\":\"ms365-accountcreator store backup\",\"version\":2}\n";
    let cases = [
        ("email,timestamp\n".to_owned(), "line 1: no header"),
        (
            "{\"format\":\"ms365-accountcreator store backup\",\"version\":3}\n".to_owned(),
            "line 1",
        ),
        (
            format!("{v1}{{\"tree\":\"!\",\"key\":\"\",\"value\":\"\"}}\n"),
            "line 2: not base64",
        ),
        (
            // A tree named `added_later`: a kind this version does not know.
            format!(
                "{v1}{{\"tree\":\"YWRkZWRfbGF0ZXI=\",\"key\":\"\",\"value\":\"\"}}\n{{\"records\":1}}\n"
            ),
            "line 2: the backup holds records of a kind this version does not know: added_later",
        ),
        (
            format!("{v2}{{\"kind\":\"spaceship\"}}\n{{\"records\":1}}\n"),
            "line 2: not a record",
        ),
        (
            format!("{v2}{{\"records\":2}}\n"),
            "line 2: the backup says 2 records but holds 0",
        ),
        (v1.to_owned(), "incomplete"),
        (
            format!("{v2}{{\"records\":0}}\n{{\"records\":0}}\n"),
            "line 3: text after the last line",
        ),
    ];
    for (text, expected) in cases {
        let err = store
            .restore(text.as_bytes())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
    let copied = store
        .restore(format!("{v2}{{\"records\":0}}\n").as_bytes())
        .await;
    assert_eq!(
        copied.unwrap().records(),
        0,
        "an empty store's backup restores"
    );
}

/// A line names its record's kind beside the record's own fields, so a person reading the
/// file (or a script) sees what it holds.
#[tokio::test]
async fn each_line_names_its_kind_beside_the_record() {
    let store = Store::temporary().unwrap();
    store
        .import_registered(
            &RegistryKey::as_recorded("cy@x.example"),
            &Default::default(),
        )
        .await
        .unwrap();
    let mut file = Vec::new();

    let copied = store.backup(&mut file).await.unwrap();

    let text = String::from_utf8(file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["version"], 2);
    assert_eq!(lines[1]["kind"], "registration");
    assert_eq!(lines[1]["email"], "cy@x.example");
    assert_eq!(lines[1]["imported"], true);
    assert_eq!(lines[2]["records"], 1);
    assert_eq!(copied.to_string(), "1 records (registration 1)");
}
