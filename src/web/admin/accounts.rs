//! Accounts: `GET /admin/accounts?email=…` finds what is stored about an address ("did my
//! account get made?"), `GET /admin/accounts/forget?email=…` asks to confirm, and `POST
//! /admin/accounts/forget` forgets it (a deletion request), as `emails forget` does;
//! `extend.rs` moves an account's end.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::action::Action;
use super::{Granted, pages};
use crate::domain::AuditAction;
use crate::lifecycle::plan;
use crate::store::{Forgotten, QueueEntry, Registration, RegistryKey, StoreError};
use crate::web::context::RequestContext;
use crate::web::pages::admin::Notice;
use crate::web::{AppState, response};

/// What the store holds about one address.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The key it is stored under (its mailbox, or the address as recorded).
    pub key: Option<RegistryKey>,
    pub registration: Option<Registration>,
    pub queued: Option<QueueEntry>,
    /// When the newest link of a sign-up still waiting for it expires.
    pub pending_until: Option<u64>,
    /// When its account ends (Unix seconds), as the lifecycle counts it; `None`: never, or
    /// no account.
    pub end: Option<u64>,
}

impl Found {
    /// Whether anything is stored.
    pub fn anything(&self) -> bool {
        self.registration.is_some() || self.pending_until.is_some()
    }
}

/// Looks `raw` up under each key it may be stored under; the first that holds something.
pub(super) async fn look_up(
    state: &AppState,
    granted: &Granted,
    raw: &str,
) -> Result<Found, StoreError> {
    let separator = granted.console.separator;
    for key in RegistryKey::spellings(raw, separator) {
        let registration = state.store.registration(&key).await?;
        let pending_until = state.store.latest_expiry(&key).await?;
        if registration.is_some() || pending_until.is_some() {
            let end = match &registration {
                Some(registration) => end_of(state, granted, &key, registration).await?,
                None => None,
            };
            return Ok(Found {
                queued: state.store.queue_entry(&key).await?,
                key: Some(key),
                registration,
                pending_until,
                end,
            });
        }
    }
    Ok(Found::default())
}

/// When the account of `registration` ends, if it has an account and an end.
async fn end_of(
    state: &AppState,
    granted: &Granted,
    key: &RegistryKey,
    registration: &Registration,
) -> Result<Option<u64>, StoreError> {
    let Some(lifecycle) = &granted.console.lifecycle else {
        return Ok(None);
    };
    if !plan::has_account(registration) {
        return Ok(None);
    }
    let life = state.store.life(key).await?;
    Ok(plan::end_of(
        registration,
        life.as_ref(),
        lifecycle.settings(),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct Query {
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ForgetForm {
    email: Option<String>,
    confirm: Option<String>,
}

/// The accounts page for `email` (if one was asked for), with `notice` above it.
pub(super) async fn page(
    ctx: &RequestContext,
    state: &AppState,
    granted: &Granted,
    email: Option<&str>,
    notice: Option<Notice>,
) -> Response {
    let email = email.map(str::trim).filter(|email| !email.is_empty());
    let found = match email {
        Some(email) => match look_up(state, granted, email).await {
            Ok(found) => Some(found),
            Err(err) => return unavailable(ctx, state, &err),
        },
        None => None,
    };
    let tr = &granted.tr;
    let shown = pages::accounts::Shown {
        email,
        found: found.as_ref(),
        notice: notice.as_ref(),
    };
    let content = pages::accounts::page(tr, ctx.links(), &shown);
    let title = tr.pt("console section", "Accounts");
    granted.page(ctx, state, pages::Section::Accounts, title, content)
}

pub(super) fn unavailable(ctx: &RequestContext, state: &AppState, err: &StoreError) -> Response {
    tracing::error!(error = %err, "cannot read the store for the console's accounts");
    response::error(ctx, state, StatusCode::SERVICE_UNAVAILABLE)
}

/// `GET /admin/accounts?email=…`.
#[handler]
pub async fn find(req: &Request, ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    let granted = match Granted::check(req, ctx, state).await {
        Ok(granted) => granted,
        Err(answer) => return answer,
    };
    let query: Query = req.params().unwrap_or_default();
    page(ctx, state, &granted, query.email.as_deref(), None).await
}

/// `GET /admin/accounts/forget?email=…`: what forgetting removes, and the button.
#[handler]
pub async fn forget_confirm(
    req: &Request,
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
) -> Response {
    let granted = match Granted::check(req, ctx, state).await {
        Ok(granted) => granted,
        Err(answer) => return answer,
    };
    let query: Query = req.params().unwrap_or_default();
    confirmation(ctx, state, &granted, query.email.as_deref().unwrap_or("")).await
}

async fn confirmation(
    ctx: &RequestContext,
    state: &AppState,
    granted: &Granted,
    email: &str,
) -> Response {
    let found = match look_up(state, granted, email.trim()).await {
        Ok(found) if found.anything() => found,
        Ok(_) => return page(ctx, state, granted, Some(email), None).await,
        Err(err) => return unavailable(ctx, state, &err),
    };
    let tr = &granted.tr;
    let content = pages::accounts::confirm_forget(tr, ctx.links(), email.trim(), &found);
    let title = tr.t("Forget this address?");
    granted.page(ctx, state, pages::Section::Accounts, title, content)
}

/// `POST /admin/accounts/forget` (`email`, `confirm=yes`): removes everything stored about
/// the address. Without the confirmation it asks for it first.
#[handler]
pub async fn forget(
    ctx: &RequestContext,
    Data(state): Data<&AppState>,
    action: Action<ForgetForm>,
) -> Response {
    let (granted, form) = match action {
        Action::Granted(granted, form) => (granted, form),
        Action::Refused(answer) => return answer,
    };
    let email = form.email.unwrap_or_default();
    if form.confirm.as_deref() != Some("yes") {
        return confirmation(ctx, state, &granted, &email).await;
    }
    let found = match look_up(state, &granted, email.trim()).await {
        Ok(found) => found,
        Err(err) => return unavailable(ctx, state, &err),
    };
    let Some(key) = found.key else {
        return page(ctx, state, &granted, Some(&email), None).await;
    };
    // The line names the account, never the address the person asked to be forgotten.
    let upn = found.registration.as_ref().and_then(|r| r.upn.clone());
    let detail = upn.is_none().then(|| "no account".to_owned());
    if let Err(answer) = granted
        .record(ctx, state, AuditAction::Forget, upn.clone(), detail)
        .await
    {
        return answer;
    }
    let forgotten = match state.store.forget(&key).await {
        Ok(forgotten) => forgotten,
        Err(err) => return unavailable(ctx, state, &err),
    };
    tracing::info!(operator = %granted.session.operator.upn, "an address was forgotten from the console");
    let tr = &granted.tr;
    let notice = forgotten_notice(tr, &forgotten);
    page(ctx, state, &granted, None, Some(notice)).await
}

fn forgotten_notice(tr: &crate::i18n::Tr, forgotten: &Forgotten) -> Notice {
    let account = forgotten
        .registration
        .as_ref()
        .and_then(|r| r.upn.as_deref());
    match account {
        Some(upn) => Notice::success(tr.tf(
            "Everything stored about the address was removed. Its account {upn} still exists in Entra ID: delete it there too if the person asked for that.",
            &[("upn", upn)],
        )),
        None => Notice::success(tr.t("Everything stored about the address was removed.")),
    }
}
