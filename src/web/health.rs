use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};

use super::AppState;

/// The process is up.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// The store answers: ready for traffic.
#[handler]
pub async fn readyz(Data(state): Data<&AppState>) -> Response {
    let store = state.store.clone();
    let ready = tokio::task::spawn_blocking(move || store.is_ready())
        .await
        .unwrap_or(false);
    if ready {
        Response::builder().content_type("text/plain").body("ready")
    } else {
        Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .content_type("text/plain")
            .body("store unavailable")
    }
}

/// Prometheus text exposition.
#[handler]
pub async fn metrics(Data(state): Data<&AppState>) -> Response {
    let store = state.store.clone();
    let pending = tokio::task::spawn_blocking(move || store.pending_count())
        .await
        .unwrap_or(0);
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(
            state
                .metrics
                .render(i64::try_from(pending).unwrap_or(i64::MAX)),
        )
}
