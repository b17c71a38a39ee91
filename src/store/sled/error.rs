//! sled's errors, by what they mean for the server (`StoreError`).

use sled::transaction::TransactionError;

use crate::store::StoreError;

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        use std::io::ErrorKind;
        match err {
            sled::Error::Io(io) => match io.kind() {
                ErrorKind::StorageFull => StoreError::NoSpace,
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                    StoreError::NotWritable(io)
                }
                // sled reports a held lock only in the message, as an `Other` error.
                ErrorKind::Other if io.to_string().starts_with("could not acquire lock") => {
                    StoreError::Locked
                }
                _ => StoreError::Unavailable(sled::Error::Io(io).to_string()),
            },
            // sled read back data whose checksum does not match: bytes in the store's files
            // were changed (a failing disk, a stray write).
            sled::Error::Corruption { at, .. } => StoreError::Damaged {
                what: format!(
                    "sled read corrupted data{}",
                    at.map(|at| format!(" ({at:?})")).unwrap_or_default()
                ),
            },
            err => StoreError::Unavailable(err.to_string()),
        }
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(err: TransactionError<StoreError>) -> Self {
        match err {
            TransactionError::Abort(err) => err,
            TransactionError::Storage(err) => StoreError::from(err),
        }
    }
}
