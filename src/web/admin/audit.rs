//! The audit log: `GET /admin/audit` (newest first, filtered by operator and action, a
//! page at a time) and `GET /admin/audit/export`, the same lines as JSON lines, as `audit
//! export` prints them — from the running server, so no stop is needed on sled.

use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::{Granted, pages};
use crate::domain::{AuditAction, AuditEntry, ExportedAuditEntry};
use crate::store::AuditQuery;
use crate::web::context::RequestContext;
use crate::web::{AppState, response};

/// Lines on one page.
pub const PAGE: usize = 50;

/// The filters, as the form and the links send them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    /// A UPN or object id.
    pub operator: Option<String>,
    /// An action's name (`forget`); empty for all.
    pub action: Option<String>,
    /// Lines before this one: the next page.
    pub before: Option<u64>,
}

impl Filter {
    fn operator(&self) -> Option<String> {
        let operator = self.operator.as_deref().map(str::trim)?;
        (!operator.is_empty()).then(|| operator.to_owned())
    }

    /// The action asked for; an unknown name asks for none (the form offers only known ones).
    pub fn action(&self) -> Option<AuditAction> {
        self.action
            .as_deref()
            .and_then(|name| AuditAction::parse(name).ok())
    }

    fn query(&self, limit: Option<usize>, oldest_first: bool) -> AuditQuery {
        AuditQuery {
            operator: self.operator(),
            action: self.action(),
            before: self.before,
            limit,
            oldest_first,
            ..AuditQuery::default()
        }
    }
}

/// `GET /admin/audit`.
#[handler]
pub async fn lines(req: &Request, ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    let granted = match Granted::check(req, ctx, state).await {
        Ok(granted) => granted,
        Err(answer) => return answer,
    };
    let filter: Filter = req.params().unwrap_or_default();
    // One more than a page: whether there is an older page.
    let read = state
        .store
        .audit_entries(&filter.query(Some(PAGE + 1), false))
        .await;
    let mut entries: Vec<AuditEntry> = match read {
        Ok(listed) => listed.into_iter().flatten().collect(),
        Err(err) => {
            tracing::error!(error = %err, "cannot read the audit log for the console");
            return response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let more = entries.len() > PAGE;
    entries.truncate(PAGE);
    let tr = &granted.tr;
    let content = pages::audit::page(tr, ctx.links(), &filter, &entries, more);
    let title = tr.pt("console section", "Audit log");
    granted.page(ctx, state, pages::Section::Audit, title, content)
}

/// `GET /admin/audit/export`: every line the filter finds, oldest first, as JSON lines.
#[handler]
pub async fn export(req: &Request, ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    if let Err(answer) = Granted::check(req, ctx, state).await {
        return answer;
    }
    let filter = Filter {
        before: None,
        ..req.params().unwrap_or_default()
    };
    let entries = match state.store.audit_entries(&filter.query(None, true)).await {
        Ok(entries) => entries,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the audit log for an export");
            return response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let mut body = Vec::new();
    for entry in entries.into_iter().flatten() {
        if serde_json::to_writer(&mut body, &ExportedAuditEntry::new(&entry)).is_ok() {
            body.push(b'\n');
        }
    }
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/x-ndjson; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"audit-log.jsonl\"",
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
}
