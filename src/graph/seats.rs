//! Licence seats: one `GET /subscribedSkus` for every SKU, kept for a minute, so that a
//! queue of registrations waiting for a seat asks Graph once a minute, not once per entry.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::GraphClient;
use super::types::SubscribedSkus;
use crate::directory::{DirectoryError, LicenceSeats};

/// How long one read of the tenant's subscriptions is used.
pub const SEATS_FRESH_FOR: Duration = Duration::from_secs(60);

/// The last read, and one read at a time.
#[derive(Debug)]
pub(super) struct SeatCache {
    fresh_for: Duration,
    last: Mutex<Option<LastRead>>,
    /// Held while reading: concurrent askers wait for that read instead of sending theirs.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct LastRead {
    at: Instant,
    /// A failed read is kept as long as a good one: asking again at once would fail again
    /// (a missing permission) or add to an outage.
    seats: Result<Vec<LicenceSeats>, DirectoryError>,
}

impl SeatCache {
    pub(super) fn new(fresh_for: Duration) -> Self {
        SeatCache {
            fresh_for,
            last: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    fn fresh(&self) -> Option<Result<Vec<LicenceSeats>, DirectoryError>> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.as_ref()
            .filter(|read| read.at.elapsed() < self.fresh_for)
            .map(|read| read.seats.clone())
    }

    fn keep(&self, seats: Result<Vec<LicenceSeats>, DirectoryError>) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(LastRead {
            at: Instant::now(),
            seats,
        });
    }

    /// Graph refused a licence of `sku` for lack of seats: until the next read, the kept
    /// one says so too, so no other registration tries in vain.
    pub(super) fn taken_up(&self, sku: &str) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(Ok(seats)) = last.as_mut().map(|read| &mut read.seats) {
            for seats in seats
                .iter_mut()
                .filter(|s| s.sku_id.eq_ignore_ascii_case(sku))
            {
                seats.consumed = seats.consumed.max(seats.prepaid);
            }
        }
    }
}

impl GraphClient {
    /// [`crate::directory::Directory::licence_seats`].
    pub(super) async fn seats(&self, skus: &[String]) -> Result<Vec<LicenceSeats>, DirectoryError> {
        let all = match self.seat_cache.fresh() {
            Some(kept) => kept,
            None => {
                let _reading = self.seat_cache.reading.lock().await;
                match self.seat_cache.fresh() {
                    // Another asker read them while this one waited.
                    Some(kept) => kept,
                    None => {
                        let read = self.read_seats().await;
                        self.seat_cache.keep(read.clone());
                        read
                    }
                }
            }
        };
        let asked: Vec<LicenceSeats> = all?
            .into_iter()
            .filter(|seats| {
                skus.iter()
                    .any(|sku| sku.eq_ignore_ascii_case(&seats.sku_id))
            })
            .collect();
        if let Some(metrics) = &self.metrics {
            for seats in &asked {
                metrics.licence_seats(&seats.sku_id, seats.prepaid, seats.consumed);
            }
        }
        Ok(asked)
    }

    /// One `GET /subscribedSkus`.
    async fn read_seats(&self) -> Result<Vec<LicenceSeats>, DirectoryError> {
        let deadline = self.deadline();
        let url = self
            .url("subscribedSkus")
            .map_err(|err| err.into_directory_error("reading licence seats"))?;
        let skus: SubscribedSkus = self
            .send(&deadline, "list SKUs", |http| http.get(url.clone()))
            .await
            .and_then(|reply| reply.json())
            .map_err(|err| err.into_directory_error("reading licence seats"))?;
        let seats: Vec<LicenceSeats> = skus
            .value
            .into_iter()
            .map(|sku| LicenceSeats {
                sku_id: sku.sku_id.to_ascii_lowercase(),
                part_number: sku.sku_part_number,
                prepaid: sku.prepaid_units.enabled,
                consumed: sku.consumed_units,
            })
            .collect();
        Ok(seats)
    }
}
