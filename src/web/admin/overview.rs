//! `GET /admin`: the overview — sign-ups today and this week, the queue, failures,
//! throttling and licence seats.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use poem::web::Data;
use poem::{Request, Response, handler};

use super::{Granted, pages};
use crate::domain::Step;
use crate::store::{RegistryKey, Store, StoreError};
use crate::web::context::RequestContext;
use crate::web::{AppState, response};

/// The seats of one licence SKU, for the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuSeats {
    /// The SKU's readable name (`STANDARDWOFFPACK_STUDENT`), else its id.
    pub name: String,
    /// Units paid for.
    pub prepaid: i64,
    /// Units assigned.
    pub consumed: i64,
}

/// Where the overview reads licence seats from: the directory's seat count of the
/// configured SKUs (one cached read of Graph's `subscribedSkus`); an error is shown as
/// unknown.
pub type SeatsSource = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Vec<SkuSeats>, String>> + Send>> + Send + Sync,
>;

/// What the overview shows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overview {
    /// Registrations confirmed since the start of today (UTC).
    pub today: usize,
    /// … since the start of this week (Monday, UTC).
    pub this_week: usize,
    /// Sign-ups waiting for their link to be opened.
    pub pending: usize,
    pub queue_length: usize,
    /// When the oldest queue entry was queued.
    pub oldest_queued_at: Option<u64>,
    /// Unfinished registrations no longer queued: they failed for good and wait for a retry.
    pub stopped: usize,
    /// Seconds every Graph request was held by a 429 since the server started.
    pub paused_seconds: u64,
    /// `None` when seats are not known (no source, or it failed).
    pub seats: Option<Vec<SkuSeats>>,
}

/// The start of the UTC day and of the UTC week (Monday) that `now` is in.
pub fn day_and_week_start(now: u64) -> (u64, u64) {
    const DAY: u64 = 24 * 60 * 60;
    let day = now - now % DAY;
    // 1970-01-01 was a Thursday: three days after a Monday.
    let days_since_monday = (now / DAY + 3) % 7;
    (day, day - days_since_monday * DAY)
}

impl Overview {
    /// Reads what the store knows; the seats come from `seats` when there is a source.
    pub async fn gather(
        store: &Store,
        now: u64,
        seats: Option<&SeatsSource>,
    ) -> Result<Self, StoreError> {
        let (day, week) = day_and_week_start(now);
        let queued: HashSet<RegistryKey> = store
            .queued()
            .await?
            .into_iter()
            .flatten()
            .map(|entry| entry.email)
            .collect();
        let mut overview = Overview::default();
        for registration in store.registrations().await?.into_iter().flatten() {
            if registration.imported {
                continue;
            }
            overview.today += usize::from(registration.claimed_at >= day);
            overview.this_week += usize::from(registration.claimed_at >= week);
            let unfinished = registration.step != Step::Done;
            overview.stopped += usize::from(unfinished && !queued.contains(&registration.email));
        }
        let stats = store.queue_stats().await?;
        overview.queue_length = stats.length;
        overview.oldest_queued_at = stats.oldest_queued_at;
        overview.pending = store.pending_count().await;
        overview.seats = match seats {
            Some(source) => match source().await {
                Ok(seats) => Some(seats),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read the licence seats for the console");
                    None
                }
            },
            None => None,
        };
        Ok(overview)
    }
}

/// `GET /admin`.
#[handler]
pub async fn show(req: &Request, ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    let granted = match Granted::check(req, ctx, state).await {
        Ok(granted) => granted,
        Err(answer) => return answer,
    };
    let now = granted.console.now();
    let seats = granted.console.seats.as_ref();
    let mut overview = match Overview::gather(&state.store, now, seats).await {
        Ok(overview) => overview,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the store for the console's overview");
            return response::error(ctx, state, poem::http::StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    overview.paused_seconds = state.metrics.throttle_paused_seconds() as u64;
    let tr = &granted.tr;
    let content = pages::overview::page(tr, &overview, seats.is_some());
    granted.page(
        ctx,
        state,
        pages::Section::Overview,
        tr.pt("console section", "Overview"),
        content,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_weeks_start_at_midnight_utc_and_on_mondays() {
        // 2027-01-13, a Wednesday, 15:00 UTC.
        let wednesday = 1_799_852_400;
        let (day, week) = day_and_week_start(wednesday);
        assert_eq!(day, 1_799_798_400, "2027-01-13 00:00 UTC");
        assert_eq!(week, 1_799_625_600, "Monday 2027-01-11 00:00 UTC");
        let monday = day_and_week_start(week + 60);
        assert_eq!(monday, (week, week));
    }
}
