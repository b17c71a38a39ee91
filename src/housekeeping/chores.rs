//! The periodic chores.

use std::time::Duration;

use crate::web::AppState;

/// Periodic chores while serving: delete expired pending sign-ups (so a flood of
/// unconfirmed ones does not grow the store for ever) and forget recovered rate limits.
pub(super) async fn run(state: AppState, every: Duration, stop: impl Future<Output = ()>) {
    let mut tick = tokio::time::interval(every);
    // Unreadable records already logged and counted: each once, not every pass.
    let mut reported = std::collections::HashSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut stop => return,
        }
        state.prune_limits();
        match state.store.purge_expired(state.flow.now()).await {
            Ok(purged) => {
                if purged.deleted > 0 {
                    let deleted = purged.deleted;
                    tracing::info!(purged = deleted, "expired pending sign-ups deleted");
                }
                for record in purged.unreadable {
                    if reported.insert((record.kind, record.key.clone())) {
                        state.metrics.unreadable_record();
                        tracing::error!(
                            kind = %record.kind,
                            key = %record.key,
                            error = %record.error,
                            "an unreadable record in the store was skipped (its link cannot work); the rest is served. If it matters, restore DATABASE_PATH from a backup"
                        );
                    }
                }
            }
            Err(err) => tracing::error!(error = %err, "cannot purge expired sign-ups"),
        }
    }
}
