use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};

use super::context::RequestContext;
use super::pages::debug_mails;
use super::{AppState, response};

/// `/debug/mails`: only routed when mails are captured.
#[handler]
pub async fn mails(ctx: &RequestContext, Data(state): Data<&AppState>) -> Response {
    let tr = ctx.tr();
    let mails = state
        .outbox
        .as_ref()
        .map(|outbox| outbox.list())
        .unwrap_or_default();
    let public = state.public_url.as_str().trim_end_matches('/');
    let waiting = state.store.outbox_length().await;
    let page = debug_mails::list(tr, &mails, waiting, public);
    response::html(
        ctx,
        state,
        tr,
        StatusCode::OK,
        tr.t("Mails kept in DEBUG mode"),
        page,
    )
}
