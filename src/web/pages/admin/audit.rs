//! The console's audit log: newest first, filtered by operator and action.

use maud::{Markup, html};

use crate::domain::{AuditAction, AuditEntry, AuditSource};
use crate::i18n::Tr;
use crate::web::admin::AuditFilter;
use crate::web::pages::utc_secs;
use crate::web::paths::{self, Links};

/// An action as operators read it.
pub fn action_name(tr: &Tr, action: AuditAction) -> &str {
    match action {
        // Translators: what an operator did, in the console's audit log.
        AuditAction::SignIn => tr.pt("audit action", "signed in"),
        AuditAction::SignOut => tr.pt("audit action", "signed out"),
        AuditAction::SignInRefused => tr.pt("audit action", "sign-in refused"),
        AuditAction::Retry => tr.pt("audit action", "retried a registration"),
        AuditAction::Forget => tr.pt("audit action", "forgot an address"),
        AuditAction::VoucherCreate => tr.pt("audit action", "made a voucher"),
        AuditAction::VoucherRevoke => tr.pt("audit action", "revoked a voucher"),
        AuditAction::Extend => tr.pt("audit action", "extended an account"),
        AuditAction::Restore => tr.pt("audit action", "restored an account"),
        AuditAction::Disable => tr.pt("audit action", "disabled an account"),
        AuditAction::RemoveLicences => tr.pt("audit action", "removed an account's licences"),
        AuditAction::Delete => tr.pt("audit action", "deleted an account"),
    }
}

/// `path` with the filter's fields (and `before`) as its query.
fn with_filter(path: &str, filter: &AuditFilter, before: Option<u64>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(operator) = filter.operator.as_deref().filter(|o| !o.trim().is_empty()) {
        query.append_pair("operator", operator.trim());
    }
    if let Some(action) = filter.action() {
        query.append_pair("action", action.name());
    }
    if let Some(before) = before {
        query.append_pair("before", &before.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

pub fn page(
    tr: &Tr,
    links: &Links,
    filter: &AuditFilter,
    entries: &[AuditEntry],
    more: bool,
) -> Markup {
    let action = links.admin(paths::ADMIN_AUDIT);
    let chosen = filter.action();
    html! {
        h1 { (tr.pt("console section", "Audit log")) }
        form.filters method="get" action=(action)
            data-hx-get=(action) data-hx-target="#console" data-hx-swap="outerHTML" data-hx-push-url="true" {
            div.field {
                label for="audit-operator" { (tr.t("Operator")) }
                p.hint #audit-operator-hint { (tr.t("Username or object id; empty for everyone.")) }
                input #audit-operator type="text" name="operator" autocomplete="off" spellcheck="false"
                    aria-describedby="audit-operator-hint" value=(filter.operator.as_deref().unwrap_or(""));
            }
            div.field {
                label for="audit-action" { (tr.t("Action")) }
                select #audit-action name="action" {
                    option value="" selected[chosen.is_none()] { (tr.t("All actions")) }
                    @for each in AuditAction::ALL {
                        option value=(each.name()) selected[chosen == Some(each)] { (action_name(tr, each)) }
                    }
                }
            }
            div.actions { button type="submit" { (tr.t("Show")) } }
        }
        p { a href=(with_filter(&links.admin(paths::ADMIN_AUDIT_EXPORT), filter, None)) download="audit-log.jsonl" { (tr.t("Download these lines as JSON lines")) } }
        @if entries.is_empty() {
            p role="status" { (tr.t("No lines match.")) }
        } @else {
            div.table-scroll role="region" aria-labelledby="audit-caption" tabindex="0" {
                table.audit {
                    caption #audit-caption { (tr.t("Newest first")) }
                    thead { tr {
                        th scope="col" { (tr.t("Time")) }
                        th scope="col" { (tr.t("Operator")) }
                        th scope="col" { (tr.t("Action")) }
                        th scope="col" { (tr.t("On")) }
                        th scope="col" { (tr.t("From")) }
                    } }
                    tbody {
                        @for entry in entries { (row(tr, entry)) }
                    }
                }
            }
            @if let (true, Some(last)) = (more, entries.last()) {
                p { a href=(with_filter(&action, filter, Some(last.seq))) { (tr.t("Older lines")) } }
            }
        }
    }
}

fn row(tr: &Tr, entry: &AuditEntry) -> Markup {
    let from = match (entry.actor.source, &entry.client) {
        (AuditSource::CommandLine, _) => tr.t("command line").to_owned(),
        // Translators: in the audit log's "from" column, for what the daily run did itself.
        (AuditSource::Lifecycle, _) => tr.t("account lifecycle").to_owned(),
        (AuditSource::Console, Some(client)) => client.clone(),
        (AuditSource::Console, None) => tr.t("unknown").to_owned(),
    };
    html! {
        tr {
            td { (utc_secs(tr, entry.at)) }
            td {
                (entry.actor.upn)
                @if let Some(id) = &entry.actor.object_id {
                    br; small { code { (id) } }
                }
            }
            td.audit-action { (action_name(tr, entry.action)) }
            td {
                (entry.subject.as_deref().unwrap_or(""))
                @if let Some(detail) = &entry.detail {
                    " " small { "(" (detail) ")" }
                }
            }
            td { (from) }
        }
    }
}
