//! `store backup` / `store restore` / `store copy`: every record of a store as one file, for
//! moving a stopped server's store to another host or from sled to PostgreSQL. The same file
//! restores into either kind of store.
//!
//! The file is JSON lines: a header, one line per record naming its kind (`pending`,
//! `registration`, `username`, `queue_entry`, `reset`, `lifecycle`) with the record's fields
//! `registration`, `username`, `queue_entry`, `reset`, `audit`) with the record's fields
//! beside it, and a trailer with the count, so a cut-off copy is noticed before anything is
//! written.
//! Indexes are not in it: each backend rebuilds its own from the records. Files of the
//! first version, which held sled's trees byte for byte, still restore (`v1.rs`).

mod v1;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::{BackupRecord, RecordKind, Store, StoreError, Unreadable};

const FORMAT: &str = "ms365-accountcreator store backup";
const VERSION: u32 = 2;

/// Why a backup cannot be written or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot {doing}: {source}")]
    Io {
        doing: &'static str,
        source: std::io::Error,
    },
    #[error("line {line}: {reason} (is this a file `store backup` wrote?)")]
    Format { line: usize, reason: String },
    #[error("the backup is incomplete (it ends before its last line): copy it again")]
    Incomplete,
    #[error(
        "the store is not empty ({records} records): restore only into a new store; move the existing directory away first (PostgreSQL: a new database)"
    )]
    NotEmpty { records: usize },
    #[error("line {line}: the backup holds records of a kind this version does not know: {tree}")]
    UnknownTree { line: usize, tree: String },
    #[error(
        "{count} records do not decode (the first: a {kind} record under {key:?}: {error}), so the backup would not be whole: `store verify` lists them"
    )]
    Undecodable {
        count: usize,
        kind: RecordKind,
        key: String,
        error: String,
    },
}

/// What a backup or a restore carried: how many records of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub per_kind: BTreeMap<RecordKind, usize>,
}

impl Copied {
    fn of(records: &[BackupRecord]) -> Self {
        let mut per_kind = BTreeMap::new();
        for record in records {
            *per_kind.entry(record.kind()).or_insert(0) += 1;
        }
        Copied { per_kind }
    }

    /// Records in all.
    pub fn records(&self) -> usize {
        self.per_kind.values().sum()
    }
}

impl std::fmt::Display for Copied {
    /// `16 records (pending 3, registration 3, username 2, queue_entry 1, reset 1)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self
            .per_kind
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        write!(f, "{} records ({})", self.records(), kinds.join(", "))
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    records: usize,
}

impl Store {
    /// Writes every record to `out`. Refuses a store holding records that do not decode:
    /// a backup that silently left them out would restore as a store without them.
    pub async fn backup(&self, out: &mut impl Write) -> Result<Copied, BackupError> {
        let exported = self.export().await?;
        if let Some(first) = exported.unreadable.first() {
            let Unreadable { kind, key, error } = first.clone();
            return Err(BackupError::Undecodable {
                count: exported.unreadable.len(),
                kind,
                key,
                error,
            });
        }
        let mut records = exported.records;
        records.sort_by_cached_key(|record| (record.kind(), record.key()));
        write_backup(out, &records)?;
        Ok(Copied::of(&records))
    }

    /// Reads a whole backup from `input` (either version), checks it is complete, then
    /// writes its records into this store, which must be empty, and makes them durable.
    pub async fn restore(&self, input: impl BufRead) -> Result<Copied, BackupError> {
        let records = read_backup(input)?;
        if let Err(records) = self.import(&records).await? {
            return Err(BackupError::NotEmpty { records });
        }
        self.flush().await?;
        Ok(Copied::of(&records))
    }
}

/// Writes `records` to `out`, between the header and the trailer.
fn write_backup(out: &mut impl Write, records: &[BackupRecord]) -> Result<(), BackupError> {
    write_line(
        out,
        &Header {
            format: FORMAT.to_owned(),
            version: VERSION,
        },
    )?;
    for record in records {
        write_line(out, record)?;
    }
    write_line(
        out,
        &End {
            records: records.len(),
        },
    )?;
    out.flush().map_err(write_failed)
}

fn write_line(out: &mut impl Write, line: &impl Serialize) -> Result<(), BackupError> {
    serde_json::to_writer(&mut *out, line)
        .map_err(|err| write_failed(std::io::Error::other(err)))?;
    out.write_all(b"\n").map_err(write_failed)
}

fn write_failed(source: std::io::Error) -> BackupError {
    BackupError::Io {
        doing: "write the backup",
        source,
    }
}

/// Reads a whole backup: every record, once the trailer shows that nothing is missing.
pub(super) fn read_backup(input: impl BufRead) -> Result<Vec<BackupRecord>, BackupError> {
    let mut lines = input.lines().enumerate().map(|(index, line)| {
        let line = line.map_err(|source| BackupError::Io {
            doing: "read the backup",
            source,
        })?;
        Ok::<_, BackupError>((index + 1, line))
    });
    let version = match lines.next() {
        Some(first) => header_version(first?)?,
        None => return Err(BackupError::Incomplete),
    };
    let mut records = Vec::new();
    // Record lines: a first-version file also has lines for indexes, which are not records.
    let mut lines_read = 0;
    let mut ended = false;
    for line in lines {
        let (number, text) = line?;
        let format = |reason: String| BackupError::Format {
            line: number,
            reason,
        };
        if ended {
            return Err(format("text after the last line".to_owned()));
        }
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|err| format(format!("not a backup line: {err}")))?;
        if let Ok(End { records: count }) = End::deserialize(&value) {
            if count != lines_read {
                return Err(format(format!(
                    "the backup says {count} records but holds {lines_read}"
                )));
            }
            ended = true;
            continue;
        }
        lines_read += 1;
        let record = match version {
            1 => v1::record(value).map_err(|error| match error {
                v1::LineError::Format(reason) => format(reason),
                v1::LineError::UnknownTree(tree) => BackupError::UnknownTree { line: number, tree },
            })?,
            _ => Some(
                BackupRecord::deserialize(value)
                    .map_err(|err| format(format!("not a record: {err}")))?,
            ),
        };
        records.extend(record);
    }
    if !ended {
        return Err(BackupError::Incomplete);
    }
    Ok(records)
}

/// The version the header line names, if it is one this program reads.
fn header_version((number, text): (usize, String)) -> Result<u32, BackupError> {
    let format = |reason: String| BackupError::Format {
        line: number,
        reason,
    };
    let header: Header = serde_json::from_str(&text).map_err(|_| format("no header".to_owned()))?;
    if header.format != FORMAT || !(1..=VERSION).contains(&header.version) {
        return Err(format(format!(
            "{} version {} is not {FORMAT} version 1 to {VERSION}",
            header.format, header.version
        )));
    }
    Ok(header.version)
}

#[cfg(test)]
mod tests;
