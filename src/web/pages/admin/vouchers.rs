//! The console's vouchers: the list with uses and validity, the form for a new one, its code
//! shown once after it is made, the confirmation before revoking, and the printable sheet.

use maud::{Markup, PreEscaped, html};

use super::{Notice, notice};
use crate::domain::{Day, VoucherRefusal};
use crate::i18n::Tr;
use crate::store::Voucher;
use crate::web::admin::vouchers::copies::Copies;
use crate::web::admin::vouchers::form::CreateForm;
use crate::web::pages::utc_secs;
use crate::web::paths::{self, Links};

/// A voucher just made: its whole code, shown this once, and its link.
pub struct Created<'a> {
    pub voucher: &'a Voucher,
    pub link: &'a str,
}

/// What the page shows besides the list.
#[derive(Default)]
pub struct Listing<'a> {
    pub notice: Option<Notice>,
    /// What was typed into a form that was refused, to correct.
    pub form: Option<&'a CreateForm>,
    pub created: Option<Created<'a>>,
}

/// A voucher's printable sheet.
pub struct Sheet<'a> {
    pub voucher: &'a Voucher,
    pub link: &'a str,
    /// The QR code of `link`, an `<svg>` element.
    pub svg: &'a str,
    /// How many cards it prints.
    pub copies: Copies,
}

pub fn page(tr: &Tr, links: &Links, vouchers: &[Voucher], now: u64, shown: &Listing<'_>) -> Markup {
    html! {
        h1 { (tr.pt("console section", "Vouchers")) }
        (notice(shown.notice.as_ref()))
        @if let Some(created) = &shown.created {
            (created_panel(tr, links, created))
        }
        section aria-labelledby="vouchers-heading" {
            h2 #vouchers-heading { (tr.t("Every voucher")) }
            @if vouchers.is_empty() {
                p { (tr.t("There are no vouchers yet.")) }
            } @else {
                (table(tr, links, vouchers, now))
            }
        }
        (create_form(tr, links, shown.form))
    }
}

fn state_name(tr: &Tr, voucher: &Voucher, now: u64) -> String {
    match voucher.admits(now) {
        Ok(()) => tr.t("admits sign-ups").to_owned(),
        Err(VoucherRefusal::Revoked) => tr.tf(
            "revoked at {time}",
            &[(
                "time",
                &utc_secs(tr, voucher.revoked_at.unwrap_or_default()),
            )],
        ),
        Err(VoucherRefusal::Expired) => tr.t("expired").to_owned(),
        Err(VoucherRefusal::UsedUp) => tr.t("used up").to_owned(),
        Err(_) => tr.t("admits nobody").to_owned(),
    }
}

fn table(tr: &Tr, links: &Links, vouchers: &[Voucher], now: u64) -> Markup {
    html! {
        div.table-scroll {
            table.vouchers {
                thead {
                    tr {
                        th scope="col" { (tr.t("Name")) }
                        th scope="col" { (tr.t("Code")) }
                        th scope="col" { (tr.t("Uses taken / limit")) }
                        th scope="col" { (tr.t("Valid until")) }
                        th scope="col" { (tr.t("State")) }
                        th scope="col" { (tr.t("Actions")) }
                    }
                }
                tbody {
                    @for (row, voucher) in vouchers.iter().enumerate() {
                        tr {
                            th scope="row" { (voucher.terms.name) }
                            td { code { (voucher.code.redacted()) } }
                            td.voucher-uses { (voucher.used) " / " (voucher.terms.uses.map_or_else(|| tr.t("no limit").to_owned(), |uses| uses.to_string())) }
                            td { (voucher.terms.valid_until.map_or_else(|| tr.t("until revoked").to_owned(), |day| day.to_string())) }
                            td.voucher-state { (state_name(tr, voucher, now)) }
                            td { (actions(tr, links, voucher, row)) }
                        }
                    }
                }
            }
        }
    }
}

/// The number of cards for the sheet, `voucher`'s default filled in; `id` is the field's.
fn copies_field(tr: &Tr, id: &str, voucher: &Voucher) -> Markup {
    html! {
        span.copies {
            // Translators: how many cards a voucher's printable sheet holds; a short label
            // beside a number field in the list of vouchers.
            label for=(id) { (tr.t("Cards")) }
            " "
            input id=(id) type="number" name="copies" min="1" max=(Copies::MAX) required inputmode="numeric"
                value=(Copies::default_for(voucher).get());
        }
    }
}

/// The row's buttons: its sheet (of how many cards), and revoking it (which asks first).
fn actions(tr: &Tr, links: &Links, voucher: &Voucher, row: usize) -> Markup {
    let code = voucher.code.to_string();
    let name = &voucher.terms.name;
    html! {
        form.inline.sheet-form method="post" action=(links.admin(paths::ADMIN_VOUCHER_SHEET)) {
            input type="hidden" name="code" value=(code);
            (copies_field(tr, &format!("copies-{row}"), voucher))
            " "
            button.button--quiet type="submit" aria-label=(tr.tf("Printable sheet of {name}", &[("name", name)])) { (tr.t("Printable sheet")) }
        }
        @if voucher.revoked_at.is_none() {
            form.inline method="post" action=(links.admin(paths::ADMIN_VOUCHER_REVOKE)) {
                input type="hidden" name="code" value=(code);
                button.button--quiet type="submit" aria-label=(tr.tf("Revoke {name}…", &[("name", name)])) { (tr.t("Revoke…")) }
            }
        }
    }
}

fn created_panel(tr: &Tr, links: &Links, created: &Created<'_>) -> Markup {
    let code = created.voucher.code.to_string();
    html! {
        section.panel.panel--success.voucher-created role="status" aria-labelledby="created-heading" {
            h2 #created-heading { (tr.tf("The voucher {name} was made", &[("name", &created.voucher.terms.name)])) }
            p { (tr.t("Its code is shown only now. Note it or print its sheet; the list shows only its first characters.")) }
            dl.details {
                dt { (tr.t("Code")) }
                dd { code.voucher-code { (code) } }
                dt { (tr.t("Link")) }
                dd { a.voucher-link href=(created.link) { (created.link) } }
            }
            form.sheet-form method="post" action=(links.admin(paths::ADMIN_VOUCHER_SHEET)) {
                input type="hidden" name="code" value=(code);
                (copies_field(tr, "created-copies", created.voucher))
                " "
                button type="submit" { (tr.t("Printable sheet")) }
            }
        }
    }
}

/// A labelled field with a hint; `input` is the control, already carrying `id`.
fn field(id: &str, label: &str, hint: &str, input: Markup) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            p.hint id=(format!("{id}-hint")) { (hint) }
            (input)
        }
    }
}

fn create_form(tr: &Tr, links: &Links, typed: Option<&CreateForm>) -> Markup {
    let value = |get: fn(&CreateForm) -> &Option<String>| -> String {
        typed.and_then(|form| get(form).clone()).unwrap_or_default()
    };
    // A number or date field takes back only what it can hold (HTML allows no other value
    // there); the notice says what to enter instead.
    let number = |get: fn(&CreateForm) -> &Option<String>| -> String {
        Some(value(get))
            .filter(|text| text.trim().parse::<u32>().is_ok())
            .unwrap_or_default()
    };
    let date = |get: fn(&CreateForm) -> &Option<String>| -> String {
        Some(value(get))
            .filter(|text| Day::parse(text.trim()).is_ok())
            .unwrap_or_default()
    };
    html! {
        section aria-labelledby="create-heading" {
            h2 #create-heading { (tr.t("Make a voucher")) }
            form.voucher-create method="post" action=(links.admin(paths::ADMIN_VOUCHERS)) {
                (field("v-name", tr.t("Name"), tr.t("For operators: which course or which guests. People signing up do not see it."),
                    html! { input #v-name type="text" name="name" required maxlength="100" aria-describedby="v-name-hint" value=(value(|f| &f.name)); }))
                (field("v-note", tr.t("Note"), tr.t("For operators, anything else (optional)."),
                    html! { textarea #v-note name="note" rows="2" aria-describedby="v-note-hint" { (value(|f| &f.note)) } }))
                (field("v-uses", tr.t("Uses"), tr.t("How many accounts it makes at most; empty: no limit."),
                    html! { input #v-uses type="number" name="uses" min="1" inputmode="numeric" aria-describedby="v-uses-hint" value=(number(|f| &f.uses)); }))
                (field("v-valid-until", tr.t("Valid until"), tr.t("The last day (UTC) it admits sign-ups; empty: until revoked."),
                    html! { input #v-valid-until type="date" name="valid_until" aria-describedby="v-valid-until-hint" value=(date(|f| &f.valid_until)); }))
                (field("v-licences", tr.t("Licences"), tr.t("Licence SKU ids the accounts get instead of the configured ones, one a line; empty: the configured ones."),
                    html! { textarea #v-licences name="licences" rows="2" spellcheck="false" aria-describedby="v-licences-hint" { (value(|f| &f.licences)) } }))
                (field("v-groups", tr.t("Groups"), tr.t("Group object ids the accounts join instead of the configured ones, one a line; empty: the configured ones."),
                    html! { textarea #v-groups name="groups" rows="2" spellcheck="false" aria-describedby="v-groups-hint" { (value(|f| &f.groups)) } }))
                (field("v-filter", tr.t("Address filter"), tr.t("A regular expression the whole address must match instead of the configured filter; empty: that one."),
                    html! { input #v-filter type="text" name="email_filter" spellcheck="false" autocomplete="off" aria-describedby="v-filter-hint" value=(value(|f| &f.email_filter)); }))
                (field("v-lifetime", tr.t("Account lifetime (days)"), tr.t("The accounts end this many days after they are made. Give this or an end date, not both."),
                    html! { input #v-lifetime type="number" name="lifetime_days" min="1" inputmode="numeric" aria-describedby="v-lifetime-hint" value=(number(|f| &f.lifetime_days)); }))
                (field("v-ends-on", tr.t("Accounts end on"), tr.t("The day the accounts end; empty: as configured."),
                    html! { input #v-ends-on type="date" name="ends_on" aria-describedby="v-ends-on-hint" value=(date(|f| &f.ends_on)); }))
                div.actions { button type="submit" { (tr.t("Make the voucher")) } }
            }
        }
    }
}

/// The confirmation step before revoking `voucher`.
pub fn confirm_revoke(tr: &Tr, links: &Links, voucher: &Voucher) -> Markup {
    html! {
        h1 { (tr.t("Revoke this voucher?")) }
        section.panel.panel--warning {
            p { (tr.tf("The voucher {name} ({code}) then admits nobody any more; {used} accounts were made with it and stay as they are. This cannot be undone.", &[("name", &voucher.terms.name), ("code", &voucher.code.redacted()), ("used", &voucher.used.to_string())])) }
            form method="post" action=(links.admin(paths::ADMIN_VOUCHER_REVOKE)) {
                input type="hidden" name="code" value=(voucher.code.to_string());
                input type="hidden" name="confirm" value="yes";
                div.actions {
                    button type="submit" { (tr.t("Revoke the voucher")) }
                    " "
                    a href=(links.admin(paths::ADMIN_VOUCHERS)) { (tr.t("Cancel")) }
                }
            }
        }
    }
}

/// The printable sheet: `copies` cards, each with the voucher's name, the QR code of the
/// link, and the code and link beside it for those who type; never the uses left (the
/// cards outlive that number). Printed, only the cards show (`assets/style.css`).
pub fn sheet(tr: &Tr, links: &Links, shown: &Sheet<'_>) -> Markup {
    let code = shown.voucher.code.to_string();
    let name = &shown.voucher.terms.name;
    html! {
        h1.no-print { (tr.tf("Voucher: {name}", &[("name", name)])) }
        @let count = shown.copies.get();
        p.no-print { (tr.nf("One card to print; it holds the sign-up link with this voucher.", "{count} cards to print and cut apart; each holds the sign-up link with this voucher.", count.into(), &[])) }
        ul.voucher-sheet {
            @for _ in 0..shown.copies.get() {
                li.voucher-card {
                    p.voucher-card-name { (name) }
                    div.voucher-qr role="img" aria-label=(tr.t("QR code of the sign-up link with this voucher")) {
                        (PreEscaped(shown.svg))
                    }
                    dl.details {
                        dt { (tr.t("Code")) }
                        dd { code.voucher-code { (code) } }
                        dt { (tr.t("Link")) }
                        dd.voucher-card-link { (shown.link) }
                    }
                }
            }
        }
        p.no-print { a href=(links.admin(paths::ADMIN_VOUCHERS)) { (tr.t("Back to the vouchers")) } }
    }
}
