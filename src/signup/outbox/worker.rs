//! The worker that sends the outbox: started with the server, it takes the mail due
//! longest (leased, so no other instance's worker sends it meanwhile), sends it and takes
//! it out; a failed send waits longer each time.

use std::time::Duration;

use super::Outbox;
use super::render::Rendered;
use crate::mail::MailError;
use crate::store::OutboxMail;

/// How long a taken mail is this worker's: longer than a send may take (lettre's timeout
/// is 15 s per command), so no other worker sends it meanwhile; a worker that died holding
/// it is replaced after this.
const LEASE_SECS: u64 = 120;

/// Sends after the first failure are this far apart, doubling up to [`MAX_BACKOFF_SECS`].
const FIRST_BACKOFF_SECS: u64 = 5;
const MAX_BACKOFF_SECS: u64 = 3600;

/// Failed sends after which a mail is given up (about half a day of an SMTP outage).
const MAX_ATTEMPTS: u32 = 20;

/// How often the worker looks for mails that came due without a ring (retries, and mails
/// posted by other instances).
const POLL: Duration = Duration::from_secs(1);

/// The wait before the next send after `attempts` failed ones.
fn backoff(attempts: u32) -> u64 {
    FIRST_BACKOFF_SECS
        .saturating_mul(1 << attempts.min(20))
        .min(MAX_BACKOFF_SECS)
}

impl Outbox {
    /// Sends the outbox until `stop` completes (between two mails).
    pub async fn run(self: std::sync::Arc<Self>, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        // A store that is away (PostgreSQL restarting) is logged once, not every second.
        let mut failing = false;
        loop {
            loop {
                let now = self.context.now();
                let taken = self.context.store.take_mail(now, now + LEASE_SECS).await;
                match taken {
                    Ok(Some(letter)) => {
                        failing = false;
                        self.deliver(letter).await;
                    }
                    Ok(None) => {
                        failing = false;
                        break;
                    }
                    Err(err) => {
                        if !failing {
                            tracing::warn!(error = %err, "cannot read the outbox; trying again every second");
                        }
                        failing = true;
                        break;
                    }
                }
                if has_completed(&mut stop).await {
                    return;
                }
            }
            tokio::select! {
                () = self.bell.0.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = &mut stop => return,
            }
        }
    }

    /// Sends one taken mail and records how it went.
    async fn deliver(&self, letter: OutboxMail) {
        let rendered = match self.render(&letter).await {
            Ok(Some(rendered)) => rendered,
            Ok(None) => {
                tracing::info!(mail = %letter.id, "an outbox mail is owed no more; dropped");
                self.done(&letter).await;
                return;
            }
            Err(err) => {
                tracing::warn!(mail = %letter.id, error = %err, "cannot make an outbox mail; trying again later");
                self.retry(&letter).await;
                return;
            }
        };
        let Rendered { mail, kind, reset } = rendered;
        let sent = self.context.mailer.send(mail).await;
        self.context.metrics.mail(kind, sent.is_ok());
        match sent {
            Ok(()) => {
                if let Some(outcome) = reset {
                    self.context.metrics.password_reset(outcome);
                }
                tracing::info!(mail = %letter.id, kind, "outbox mail sent");
                self.done(&letter).await;
            }
            Err(err) => self.failed(&letter, kind, &err).await,
        }
    }

    /// A send that failed: tried again later, unless it cannot pass or was tried enough.
    async fn failed(&self, letter: &OutboxMail, kind: &'static str, err: &MailError) {
        let attempts = letter.attempts + 1;
        if err.is_permanent() || attempts >= MAX_ATTEMPTS {
            self.context.metrics.mail_given_up(kind);
            tracing::error!(mail = %letter.id, kind, attempts, error = %err, "an outbox mail was given up: it cannot be delivered");
            self.done(letter).await;
            return;
        }
        // Logged once the next try is recorded.
        self.retry(letter).await;
        tracing::warn!(mail = %letter.id, kind, attempts, retry_in_secs = backoff(letter.attempts), error = %err, "an outbox mail could not be sent; it is tried again");
    }

    async fn retry(&self, letter: &OutboxMail) {
        let next = self.context.now() + backoff(letter.attempts);
        if let Err(err) = self.context.store.mail_failed(&letter.id, next).await {
            tracing::warn!(mail = %letter.id, error = %err, "cannot record a failed send; the mail is tried again when its lease ends");
        }
    }

    async fn done(&self, letter: &OutboxMail) {
        if let Err(err) = self.context.store.mail_done(&letter.id).await {
            tracing::error!(mail = %letter.id, error = %err, "cannot take a handled mail out of the outbox; it may be sent again");
        }
    }
}

/// Whether `stop` has completed, without waiting for it.
async fn has_completed(stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        () = stop.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), 5);
        assert_eq!(backoff(1), 10);
        assert_eq!(backoff(3), 40);
        assert_eq!(backoff(19), 3600);
        assert_eq!(backoff(u32::MAX), 3600);
    }
}
