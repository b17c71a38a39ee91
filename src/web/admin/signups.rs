//! `GET /admin/signups`: the registrations not finished — in the queue, or stopped after a
//! failure — and `POST /admin/signups/retry`, which sends a stopped one back to the queue
//! for the running server's worker.

use std::collections::HashMap;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::action::Action;
use super::{Granted, pages};
use crate::domain::{AuditAction, Step};
use crate::store::{QueueEntry, Registration, RegistryKey, StoreError};
use crate::web::context::RequestContext;
use crate::web::pages::admin::Notice;
use crate::web::{AppState, response};

/// An unfinished registration and its queue entry, if it is queued.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub registration: Registration,
    pub queued: Option<QueueEntry>,
}

/// Every unfinished registration, oldest confirm first.
async fn unfinished(state: &AppState) -> Result<Vec<Unfinished>, StoreError> {
    let mut queued: HashMap<RegistryKey, QueueEntry> = state
        .store
        .queued()
        .await?
        .into_iter()
        .flatten()
        .map(|entry| (entry.email.clone(), entry))
        .collect();
    let mut list: Vec<Unfinished> = state
        .store
        .registrations()
        .await?
        .into_iter()
        .flatten()
        .filter(|registration| registration.step != Step::Done)
        .map(|registration| Unfinished {
            queued: queued.remove(&registration.email),
            registration,
        })
        .collect();
    list.sort_by_key(|unfinished| unfinished.registration.claimed_at);
    Ok(list)
}

/// The page, with `notice` above the lists.
async fn page(
    ctx: &RequestContext,
    state: &AppState,
    granted: &Granted,
    notice: Option<Notice>,
) -> Response {
    let list = match unfinished(state).await {
        Ok(list) => list,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the store for the console's sign-ups");
            return response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let tr = &granted.tr;
    let content = pages::signups::page(tr, ctx.links(), &list, notice.as_ref());
    let title = tr.pt("console section", "Sign-ups and queue");
    granted.page(ctx, state, pages::Section::Signups, title, content)
}

/// `GET /admin/signups`.
#[handler]
pub async fn show(req: &Request, ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    match Granted::check(req, ctx, state).await {
        Ok(granted) => page(ctx, state, &granted, None).await,
        Err(answer) => answer,
    }
}

#[derive(Debug, Default, Deserialize)]
struct RetryForm {
    id: Option<String>,
}

/// `POST /admin/signups/retry` (`id`: the sign-up id): a stopped registration goes back
/// to the queue, due now; the server's worker resumes it at its failed step.
#[handler]
pub async fn retry(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<RetryForm>,
) -> Response {
    let (granted, form) = match action {
        Action::Granted(granted, form) => (granted, form),
        Action::Refused(answer) => return answer,
    };
    let id = form.id.unwrap_or_default();
    let tr = &granted.tr;
    let found = match state.store.registration_by_signup(id.trim()).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(error = %err, "cannot read a registration for a console retry");
            return response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let registration = match found {
        Some(registration) if registration.step != Step::Done => registration,
        Some(_) => {
            let notice = Notice::warning(tr.t("This registration is finished already."));
            return page(ctx, state, &granted, Some(notice)).await;
        }
        None => {
            let notice = Notice::warning(tr.t("No unfinished registration has this sign-up id."));
            return page(ctx, state, &granted, Some(notice)).await;
        }
    };
    let subject = Some(registration.signup_id.clone());
    if let Err(answer) = granted
        .record(ctx, state, AuditAction::Retry, subject, None)
        .await
    {
        return answer;
    }
    let now = granted.console.now();
    let queued = state
        .store
        .enqueue(&registration.email, &registration.signup_id, now, now)
        .await;
    if let Err(err) = queued {
        tracing::error!(error = %err, signup = %registration.signup_id, "cannot queue a registration for a console retry");
        return response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE);
    }
    tracing::info!(signup = %registration.signup_id, operator = %granted.session.operator.upn, "a registration was sent back to the queue from the console");
    let notice = Notice::success(tr.tf(
        "The registration of {email} is back in the queue and is tried again now.",
        &[("email", registration.email.as_str())],
    ));
    page(ctx, state, &granted, Some(notice)).await
}
