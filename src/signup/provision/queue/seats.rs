//! Registrations that wait for a licence seat: no failure, no retry storm. An entry whose
//! licence has no free seat is put back for a minute without counting an attempt; before
//! it runs again the seats are read (one `subscribedSkus` for all SKUs, kept a minute by
//! the directory), and it runs only once one is free. The log says so at warn once per
//! SKU and minute, however many registrations wait.

use super::worker::jitter_secs;
use crate::signup::provision::Provisioning;
use crate::store::QueueEntry;

/// Seconds between two looks at the seats of a waiting entry; also how often the log
/// repeats that a SKU has none free.
const SEAT_RECHECK_SECS: u64 = 60;

impl Provisioning {
    /// Puts `entry` back to wait for a free seat of `sku`, its status "waiting for a
    /// licence".
    pub(super) async fn wait_for_seat(&self, entry: &QueueEntry, sku: &str) {
        let now = self.now();
        if self.queue.seat_warning_due(sku, now, SEAT_RECHECK_SECS) {
            tracing::warn!(
                sku,
                "every seat of this licence is taken: registrations wait in the queue and go on by themselves once one is free"
            );
        }
        let next = now + SEAT_RECHECK_SECS + jitter_secs(SEAT_RECHECK_SECS / 5);
        match self
            .context
            .store
            .wait_for_seat(&entry.email, sku, next)
            .await
        {
            Ok(_) => {
                tracing::info!(signup = %entry.signup_id, sku, "queued registration waits for a licence seat")
            }
            Err(err) => {
                tracing::error!(signup = %entry.signup_id, error = %err, "cannot put a queued registration back to wait for a seat")
            }
        }
    }

    /// Whether `sku` still has no free seat, by the seats the directory read within the
    /// last minute. When they cannot be read, the entry runs (Graph tells).
    pub(super) async fn seat_still_taken(&self, sku: &str) -> bool {
        // The configured SKUs and this one, which may be a voucher's own (one read for all).
        let mut skus = self.directory.licence_skus().to_vec();
        if !skus.iter().any(|known| known.eq_ignore_ascii_case(sku)) {
            skus.push(sku.to_owned());
        }
        match self.directory.licence_seats(&skus).await {
            Ok(seats) => seats
                .iter()
                .find(|seats| seats.sku_id.eq_ignore_ascii_case(sku))
                .is_some_and(|seats| seats.free() == 0),
            Err(err) => {
                tracing::info!(sku, error = %err, "cannot read the licence seats; running the waiting registration");
                false
            }
        }
    }
}
