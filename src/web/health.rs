use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};

use super::AppState;
use crate::store::QueueStats;

/// The process is up.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// The store answers: ready for traffic.
#[handler]
pub async fn readyz(Data(state): Data<&AppState>) -> Response {
    if state.store.is_ready().await {
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
    let pending = state.store.pending_count().await;
    let queue: QueueStats = state.store.queue_stats().await.unwrap_or_default();
    let oldest_age = queue
        .oldest_queued_at
        .map_or(0, |at| state.flow.now().saturating_sub(at));
    state.metrics.queue(queue.length, oldest_age);
    state.metrics.waiting_for_licence(queue.waiting_for_seat);
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(
            state
                .metrics
                .render(i64::try_from(pending).unwrap_or(i64::MAX)),
        )
}
