//! Licence seats per SKU, as last read from Graph, and the registrations waiting for one.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{Metrics, registered};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SkuLabels {
    sku: String,
}

pub(super) struct SeatMetrics {
    free: Family<SkuLabels, Gauge>,
    prepaid: Family<SkuLabels, Gauge>,
    consumed: Family<SkuLabels, Gauge>,
    waiting: Gauge,
}

impl SeatMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        SeatMetrics {
            free: registered(
                registry,
                "licence_seats_free",
                "Licence seats of a SKU left for new users (prepaid minus consumed), as last read from Graph (at most once a minute)",
                Family::default(),
            ),
            prepaid: registered(
                registry,
                "licence_seats_prepaid",
                "Licence units of a SKU the tenant has paid for and enabled, as last read",
                Family::default(),
            ),
            consumed: registered(
                registry,
                "licence_seats_consumed",
                "Licence units of a SKU assigned to users, as last read",
                Family::default(),
            ),
            waiting: registered(
                registry,
                "provisioning_waiting_for_licence",
                "Registrations in the provisioning queue waiting for a free licence seat",
                Gauge::default(),
            ),
        }
    }
}

impl Metrics {
    /// The seats of licence `sku` as just read: `prepaid` units, `consumed` of them.
    pub fn licence_seats(&self, sku: &str, prepaid: i64, consumed: i64) {
        let seats = &self.0.seats;
        let labels = SkuLabels {
            sku: sku.to_owned(),
        };
        seats
            .free
            .get_or_create(&labels)
            .set((prepaid - consumed).max(0));
        seats.prepaid.get_or_create(&labels).set(prepaid);
        seats.consumed.get_or_create(&labels).set(consumed);
    }

    /// How many queued registrations wait for a licence seat now.
    pub fn waiting_for_licence(&self, registrations: usize) {
        self.0
            .seats
            .waiting
            .set(i64::try_from(registrations).unwrap_or(i64::MAX));
    }
}
