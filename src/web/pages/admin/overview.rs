//! The console's overview: the numbers of the rush at a glance.

use maud::{Markup, html};

use crate::i18n::Tr;
use crate::web::admin::{Overview, SkuSeats};
use crate::web::pages::utc_secs;

pub fn page(tr: &Tr, overview: &Overview, seats_known: bool) -> Markup {
    let count = |n: usize| n.to_string();
    html! {
        h1 { (tr.pt("console section", "Overview")) }
        h2 { (tr.t("Sign-ups")) }
        dl.details.figures {
            dt { (tr.t("Confirmed today (UTC)")) }
            dd { (count(overview.today)) }
            dt { (tr.t("Confirmed this week (since Monday, UTC)")) }
            dd { (count(overview.this_week)) }
            dt { (tr.t("Waiting for their link to be opened")) }
            dd { (count(overview.pending)) }
        }
        h2 { (tr.t("Queue")) }
        dl.details.figures {
            dt { (tr.t("Registrations in the queue")) }
            dd { (count(overview.queue_length)) }
            dt { (tr.t("Oldest entry queued")) }
            dd {
                @match overview.oldest_queued_at {
                    Some(at) => (utc_secs(tr, at)),
                    None => (tr.t("The queue is empty.")),
                }
            }
            dt { (tr.t("Stopped, waiting for a retry")) }
            dd { (count(overview.stopped)) }
            dt { (tr.t("Seconds paused by Graph's throttling since the start")) }
            dd { (overview.paused_seconds) }
        }
        h2 { (tr.t("Licence seats")) }
        @match &overview.seats {
            Some(seats) => (seat_table(tr, seats)),
            None if seats_known => p { (tr.t("The licence seats could not be read just now.")) },
            None => p { (tr.t("Licence seats are not shown: this server does not count them.")) },
        }
    }
}

fn seat_table(tr: &Tr, seats: &[SkuSeats]) -> Markup {
    html! {
        div.table-scroll role="region" aria-labelledby="seats-caption" tabindex="0" {
            table {
                caption #seats-caption { (tr.t("Seats per licence")) }
                thead {
                    tr {
                        th scope="col" { (tr.t("Licence")) }
                        th scope="col" { (tr.t("Paid for")) }
                        th scope="col" { (tr.t("Assigned")) }
                        th scope="col" { (tr.t("Free")) }
                    }
                }
                tbody {
                    @for sku in seats {
                        tr {
                            th scope="row" { code { (sku.name) } }
                            td { (sku.prepaid) }
                            td { (sku.consumed) }
                            td { ((sku.prepaid - sku.consumed).max(0)) }
                        }
                    }
                }
            }
        }
    }
}
