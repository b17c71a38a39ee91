//! `store backup` / `store restore`: every record of every tree, as one file, for moving a
//! stopped server's store to another host. Trees are copied whatever they hold, so pending
//! and queued sign-ups, registrations and reservations all come along, and a tree added
//! later needs no change here.
//!
//! The file is JSON lines: a header, one line per record (tree, key and value in base64),
//! and a trailer with the count, so a cut-off copy is noticed before anything is written.

use std::io::{BufRead, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::embedded::SledStore;

const FORMAT: &str = "ms365-accountcreator store backup";
const VERSION: u32 = 1;

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
    #[error("the backup holds a tree this PostgreSQL store does not know: {0}")]
    UnknownTree(String),
}

/// What a backup or a restore carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub trees: usize,
    pub records: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Header {
        format: String,
        version: u32,
    },
    Record {
        tree: String,
        key: String,
        value: String,
    },
    End {
        records: usize,
    },
}

impl SledStore {
    /// Writes every record to `out`.
    pub fn backup(&self, out: &mut impl Write) -> Result<Copied, BackupError> {
        let mut records = Vec::new();
        let mut trees = 0;
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(StoreError::from)?;
            trees += 1;
            for entry in tree.iter() {
                let (key, value) = entry.map_err(StoreError::from)?;
                records.push((name.to_vec(), key.to_vec(), value.to_vec()));
            }
        }
        write_backup(out, trees, &records)
    }

    /// Reads a whole backup from `input`, checks it is complete, then writes its records into
    /// this store, which must be empty, and flushes.
    pub fn restore(&self, input: impl BufRead) -> Result<Copied, BackupError> {
        let records = read_backup(input)?;
        let present = self.record_count()?;
        if present > 0 {
            return Err(BackupError::NotEmpty { records: present });
        }
        let mut trees = std::collections::BTreeSet::new();
        self.watching(|| {
            for (tree, key, value) in &records {
                self.db.open_tree(tree)?.insert(key, value.as_slice())?;
                trees.insert(tree.clone());
            }
            self.db.flush()?;
            Ok(())
        })?;
        Ok(Copied {
            trees: trees.len(),
            records: records.len(),
        })
    }

    fn record_count(&self) -> Result<usize, StoreError> {
        let mut count = 0;
        for name in self.db.tree_names() {
            count += self.db.open_tree(&name)?.len();
        }
        Ok(count)
    }
}

/// One record: tree, key, value.
pub(super) type Record = (Vec<u8>, Vec<u8>, Vec<u8>);

/// Writes `records` of `trees` trees to `out`, between the header and the trailer.
pub(super) fn write_backup(
    out: &mut impl Write,
    trees: usize,
    records: &[Record],
) -> Result<Copied, BackupError> {
    let io = |source| BackupError::Io {
        doing: "write the backup",
        source,
    };
    let write_line = |line: &Line, out: &mut dyn Write| {
        serde_json::to_writer(&mut *out, line).map_err(|err| io(std::io::Error::other(err)))?;
        out.write_all(b"\n").map_err(io)
    };
    write_line(
        &Line::Header {
            format: FORMAT.to_owned(),
            version: VERSION,
        },
        out,
    )?;
    for (tree, key, value) in records {
        let record = Line::Record {
            tree: BASE64.encode(tree),
            key: BASE64.encode(key),
            value: BASE64.encode(value),
        };
        write_line(&record, out)?;
    }
    write_line(
        &Line::End {
            records: records.len(),
        },
        out,
    )?;
    out.flush().map_err(io)?;
    Ok(Copied {
        trees,
        records: records.len(),
    })
}

pub(super) fn read_backup(input: impl BufRead) -> Result<Vec<Record>, BackupError> {
    let mut records = Vec::new();
    let mut ended = false;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let format = |reason: String| BackupError::Format {
            line: number,
            reason,
        };
        let line = line.map_err(|source| BackupError::Io {
            doing: "read the backup",
            source,
        })?;
        if ended {
            return Err(format("text after the last line".to_owned()));
        }
        let parsed: Line = serde_json::from_str(&line)
            .map_err(|err| format(format!("not a backup line: {err}")))?;
        match parsed {
            Line::Header {
                format: name,
                version,
            } if number == 1 => {
                if name != FORMAT || version != VERSION {
                    return Err(format(format!(
                        "{name} version {version} is not {FORMAT} version {VERSION}"
                    )));
                }
            }
            _ if number == 1 => return Err(format("no header".to_owned())),
            Line::Record { tree, key, value } => {
                let bytes = |text: &str| {
                    BASE64
                        .decode(text)
                        .map_err(|err| format(format!("not base64: {err}")))
                };
                records.push((bytes(&tree)?, bytes(&key)?, bytes(&value)?));
            }
            Line::End { records: count } if count == records.len() => ended = true,
            Line::End { records: count } => {
                return Err(format(format!(
                    "the backup says {count} records but holds {}",
                    records.len()
                )));
            }
            Line::Header { .. } => return Err(format("a second header".to_owned())),
        }
    }
    if !ended {
        return Err(BackupError::Incomplete);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tree_comes_along_even_one_this_module_does_not_know() {
        // Arrange
        let old = SledStore::temporary().unwrap();
        old.pending
            .insert(b"id-1", b"{\"a\":1}".as_slice())
            .unwrap();
        let future = old.db.open_tree("added_later").unwrap();
        future
            .insert([0u8, 255, 10], b"\n\x00binary".as_slice())
            .unwrap();
        let mut file = Vec::new();

        // Act
        let written = old.backup(&mut file).unwrap();
        let new = SledStore::temporary().unwrap();
        let read = new.restore(file.as_slice()).unwrap();

        // Assert
        assert_eq!(written.records, 2);
        assert_eq!(read.records, 2);
        assert_eq!(
            new.pending.get(b"id-1").unwrap().unwrap(),
            b"{\"a\":1}".as_slice()
        );
        let copied = new.db.open_tree("added_later").unwrap();
        assert_eq!(
            copied.get([0u8, 255, 10]).unwrap().unwrap(),
            b"\n\x00binary".as_slice()
        );
    }

    #[test]
    fn a_file_that_is_not_a_backup_is_refused_with_its_line() {
        let store = SledStore::temporary().unwrap();
        for (text, expected) in [
            ("email,timestamp\n", "line 1"),
            (
                "{\"format\":\"ms365-accountcreator store backup\",\"version\":1}\n{\"tree\":\"!\",\"key\":\"\",\"value\":\"\"}\n",
                "line 2",
            ),
            (
                "{\"format\":\"ms365-accountcreator store backup\",\"version\":1}\n",
                "incomplete",
            ),
        ] {
            let err = store.restore(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
