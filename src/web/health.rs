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
