//! What the server does besides answering requests, started with it and stopped before its
//! store is closed: the periodic chores (`chores.rs`: expired sign-ups purged, recovered
//! rate limits forgotten), the provisioning queue's worker, which resumes whatever a
//! restart or a crash left queued, and the accounts' daily lifecycle run (`daily.rs`).

mod chores;
mod daily;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::lifecycle::Lifecycle;
use crate::signup::Signups;
use crate::web::AppState;

/// The background tasks of a running server.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<()>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the chores (every `every`), the queue worker and the daily lifecycle run
    /// (asked every `every` whether its hour has come).
    pub fn start(
        state: &AppState,
        signups: &Signups,
        lifecycle: &Lifecycle,
        every: Duration,
    ) -> Self {
        let (stop, stopping) = watch::channel(());
        let chores = tokio::spawn(chores::run(state.clone(), every, stopped(stopping.clone())));
        let flow = signups.flow.clone();
        let daily = tokio::spawn(daily::run(
            lifecycle.clone(),
            Arc::new(move || flow.now()),
            every,
            stopped(stopping.clone()),
        ));
        let worker = tokio::spawn(
            signups
                .provisioning
                .clone()
                .run_queue(stopped(stopping.clone())),
        );
        Background {
            stop,
            tasks: vec![chores, worker, daily],
        }
    }

    /// Tells every task to stop between two pieces of work, and waits for them: once this
    /// returns nothing of theirs holds the store (a test, or `store` commands run right
    /// after, can open it).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a background task ended abnormally");
            }
        }
    }
}

/// Completes once [`Background::stop`] is called.
async fn stopped(mut stopping: watch::Receiver<()>) {
    let _ = stopping.changed().await;
}
