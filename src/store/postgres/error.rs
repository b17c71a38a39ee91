//! The driver's and the pool's errors, by what they mean for the server (`StoreError`): the
//! database is away or refused; the server goes on and retries with the next request.

use crate::store::StoreError;

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> Self {
        // The driver's own text is short ("db error"); the server's message is its source.
        let detail = match err.as_db_error() {
            Some(db) => format!("database error {}: {}", db.code().code(), db.message()),
            None => match std::error::Error::source(&err) {
                Some(source) => format!("{err}: {source}"),
                None => err.to_string(),
            },
        };
        StoreError::Unavailable(detail)
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            deadpool_postgres::PoolError::Backend(err) => StoreError::from(err),
            err => StoreError::Unavailable(format!("no database connection: {err}")),
        }
    }
}
