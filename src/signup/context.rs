//! What every part of the sign-up service shares: the store, the mailer, the catalogues,
//! the clock and the metrics.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::i18n::{Catalogs, Tr};
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::store::Store;

/// Seconds since the Unix epoch; a function so tests can move time.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// The parts the flow, provisioning and resets all use. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub mailer: Mailer,
    pub catalogs: Catalogs,
    pub clock: Clock,
    pub metrics: Metrics,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The time now, by the context's clock.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The translator for a stored language, falling back to the default.
    pub fn tr_for(&self, lang: &str) -> Tr {
        self.catalogs
            .get(lang)
            .unwrap_or_else(|| self.catalogs.default_tr())
    }
}
