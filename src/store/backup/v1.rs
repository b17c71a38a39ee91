//! Backups of the first version: sled's trees byte for byte, a line per entry
//! (`{"tree", "key", "value"}`, each base64), as every store wrote them before the format
//! named record kinds (`tests/fixtures/store-backup-v1.jsonl` is one). Each entry becomes
//! the record it holds; sled's indexes are skipped, since each backend rebuilds its own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use crate::store::{BackupRecord, RecordKind, RegistryKey};

/// Why a line of a first-version backup does not read; its number is added by the caller.
pub(super) enum LineError {
    Format(String),
    UnknownTree(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    tree: String,
    key: String,
    value: String,
}

/// The sled store's `password_resets` value.
#[derive(Deserialize)]
struct ResetValue {
    used_through: u64,
}

/// The record an entry holds; `None` for an index entry or sled's own.
pub(super) fn record(line: serde_json::Value) -> Result<Option<BackupRecord>, LineError> {
    let entry = Entry::deserialize(line)
        .map_err(|err| LineError::Format(format!("not a backup line: {err}")))?;
    let tree = text(&entry.tree)?;
    let key = bytes(&entry.key)?;
    let value = bytes(&entry.value)?;
    let decode = |kind: RecordKind| {
        move |err: serde_json::Error| LineError::Format(format!("a {kind} record: {err}"))
    };
    let record = match tree.as_str() {
        "pending" => BackupRecord::Pending(
            serde_json::from_slice(&value).map_err(decode(RecordKind::Pending))?,
        ),
        "registrations" => BackupRecord::Registration(
            serde_json::from_slice(&value).map_err(decode(RecordKind::Registration))?,
        ),
        "usernames" => BackupRecord::Username {
            upn: utf8(key)?,
            email: RegistryKey::as_recorded(&utf8(value)?),
        },
        "queue" => BackupRecord::QueueEntry(
            serde_json::from_slice(&value).map_err(decode(RecordKind::QueueEntry))?,
        ),
        "password_resets" => BackupRecord::Reset {
            email: RegistryKey::as_recorded(&utf8(key)?),
            used_through: serde_json::from_slice::<ResetValue>(&value)
                .map_err(decode(RecordKind::Reset))?
                .used_through,
        },
        // Indexes (mailbox → pending ids, sign-up id → mailbox, mailbox → queue place), and
        // sled's default tree, which held only the readiness probe's scratch key.
        "pending_by_email" | "signups" | "queue_index" | "__sled__default" => return Ok(None),
        _ => return Err(LineError::UnknownTree(tree)),
    };
    Ok(Some(record))
}

fn bytes(text: &str) -> Result<Vec<u8>, LineError> {
    BASE64
        .decode(text)
        .map_err(|err| LineError::Format(format!("not base64: {err}")))
}

fn text(base64: &str) -> Result<String, LineError> {
    utf8(bytes(base64)?)
}

fn utf8(bytes: Vec<u8>) -> Result<String, LineError> {
    String::from_utf8(bytes).map_err(|_| LineError::Format("not UTF-8 text".to_owned()))
}
