use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};

use super::AppState;
use super::error::{query_lang, respond};
use super::pages::debug_mails;

/// `/debug/mails`: only routed when mails are captured.
#[handler]
pub fn mails(req: &Request, Data(state): Data<&AppState>) -> Response {
    let tr = state.tr(req, query_lang(req).as_deref());
    let mails = state
        .outbox
        .as_ref()
        .map(|outbox| outbox.list())
        .unwrap_or_default();
    let public = state.public_url.as_str().trim_end_matches('/');
    let page = debug_mails::list(&tr, &mails, public);
    respond(
        req,
        state,
        &tr,
        StatusCode::OK,
        tr.t("Mails kept in DEBUG mode"),
        page,
    )
}
