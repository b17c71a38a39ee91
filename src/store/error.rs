//! Why a store call failed, by what it means for the caller and the operator. Each backend
//! maps its own errors into these (`sled/error.rs`, `postgres/error.rs`); no backend's error
//! type leaves the store.

use super::RecordKind;

/// A store failure. Callers show a generic error; the detail goes to the log, and the
/// failures an operator can fix say how.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the address is already registered")]
    AlreadyRegistered,
    /// Another instance is provisioning this registration (it holds the lease).
    #[error("another instance is working on this registration")]
    Busy,
    #[error("another process has the store open, and only one may: stop the server first")]
    Locked,
    /// sled refuses every write after a failed one until the store is opened again, hence
    /// the restart.
    #[error(
        "the filesystem holding the store is full (no space left on device): free some space there, then start the server again"
    )]
    NoSpace,
    #[error(
        "the store's directory is not writable ({0}): make it writable for the user the server runs as"
    )]
    NotWritable(std::io::Error),
    /// The store's files hold less or other than was written: checksums that do not match,
    /// or an older state than the last one the store recorded as written. Only a backup
    /// brings the lost records back; nothing repairs it by itself.
    #[error(
        "the store is damaged: {what}. Stop the server, move the damaged directory aside and restore DATABASE_PATH from a backup (`store restore`)"
    )]
    Damaged { what: String },
    /// One record does not decode; the rest of the store is readable.
    #[error("a corrupt {kind} record: {source}")]
    Corrupt {
        kind: RecordKind,
        source: serde_json::Error,
    },
    /// The store cannot be reached or does not answer (PostgreSQL away, an I/O error of
    /// sled's). PostgreSQL: the server goes on and retries with the next request,
    /// `/readyz` says so meanwhile. Not a `#[source]`: the text holds the cause already.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// `Corrupt` for a record of `kind` that does not decode.
    pub(in crate::store) fn corrupt(kind: RecordKind) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| StoreError::Corrupt { kind, source }
    }
}
