//! `POST /admin/accounts/extend` (`email`, `days`): moves the end of an account later, as
//! `lifecycle extend` does. The lifecycle writes the audit line (the operator, their client
//! address) before it moves the end, so the action has its one line.

use poem::web::Data;
use poem::{Response, handler};
use serde::Deserialize;

use super::accounts::{look_up, page, unavailable};
use super::action::Action;
use crate::domain::Day;
use crate::lifecycle::LifecycleError;
use crate::web::AppState;
use crate::web::context::RequestContext;
use crate::web::pages::admin::Notice;

/// The most days one extension moves an end by: ten years, against a slipped finger.
pub const MAX_DAYS: u32 = 3650;

#[derive(Debug, Default, Deserialize)]
struct ExtendForm {
    email: Option<String>,
    days: Option<String>,
}

/// `POST /admin/accounts/extend`.
#[handler]
pub async fn extend(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<ExtendForm>,
) -> Response {
    let (granted, form) = match action {
        Action::Granted(granted, form) => (granted, form),
        Action::Refused(answer) => return answer,
    };
    let email = form.email.unwrap_or_default();
    let tr = &granted.tr;
    let days = form
        .days
        .as_deref()
        .map(str::trim)
        .and_then(|days| days.parse::<u32>().ok())
        .filter(|days| (1..=MAX_DAYS).contains(days));
    let Some(days) = days else {
        let max = MAX_DAYS.to_string();
        let notice = Notice::warning(tr.tf(
            "Enter how many days to extend by, a whole number from 1 to {max}.",
            &[("max", &max)],
        ));
        return page(ctx, state, &granted, Some(&email), Some(notice)).await;
    };
    let (Some(lifecycle), Some(key)) = (
        granted.console.lifecycle.as_ref(),
        match look_up(state, &granted, email.trim()).await {
            Ok(found) => found.key,
            Err(err) => return unavailable(ctx, state, &err),
        },
    ) else {
        return page(ctx, state, &granted, Some(&email), None).await;
    };
    let client = ctx.client.ip.map(|ip| ip.to_string());
    let now = granted.console.now();
    let notice = match lifecycle
        .extend_from(&key, days, granted.actor(), client, now)
        .await
    {
        Ok(extended) => Notice::success(tr.tf(
            "The account {upn} now ends on {day}.",
            &[
                ("upn", &extended.upn),
                ("day", &Day::of(extended.end).to_string()),
            ],
        )),
        Err(LifecycleError::Store(err)) => return unavailable(ctx, state, &err),
        Err(err) => {
            tracing::warn!(error = %err, "the console could not extend an account");
            Notice::warning(tr.t(
                "The account's end was not moved: it has no account with an end, or it changed meanwhile. Look it up again.",
            ))
        }
    };
    page(ctx, state, &granted, Some(&email), Some(notice)).await
}
