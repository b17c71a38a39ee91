//! The outbox (PRODUCT.md §9.1, equal time): a request that owes a person a mail stores it
//! in the store's outbox in the same durable write as what it is about (the pending
//! sign-up), rings the [`Bell`] and answers; the worker here sends it off the request path.
//! So an answer takes the same time whether or not the address has an account, and a crash
//! after the answer still sends the mail once the server is back.
//!
//! An outbox mail names only what the mail is about (the sign-up id, or the address of a
//! reset request) and the language: the text is made when it is sent (`render.rs`), links
//! signed then, and a mail that carries a password never goes through here. Delivery is at
//! least once: a mail is taken out after the server accepted it, so a crash between the two
//! (or an SMTP answer lost after the server took the mail) sends it twice.
//!
//! A failed send is retried with backoff (`worker.rs`), a refusal that cannot pass
//! ([`crate::mail::MailError::is_permanent`]) is logged and counted, and the mail dropped.

mod render;
mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

use super::{Context, Flow, Resets};
use crate::ids::random_id;
use crate::store::{MailAbout, OutboxMail};

/// Wakes the outbox's worker when a mail was posted. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Bell(Arc<Notify>);

impl Bell {
    /// Tells the worker a mail waits (it looks at once, or right after its current mail).
    pub fn ring(&self) {
        self.0.notify_one();
    }
}

/// A new outbox mail about `about`, in `lang`, due at `now`; `None` without random numbers.
pub fn letter(about: MailAbout, lang: &str, now: u64) -> Option<OutboxMail> {
    Some(OutboxMail {
        id: random_id(16).ok()?,
        about,
        lang: lang.to_owned(),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
    })
}

/// The outbox's worker and what it renders mails with.
pub struct Outbox {
    context: Context,
    flow: Arc<Flow>,
    resets: Arc<Resets>,
    bell: Bell,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    /// The outbox that renders with `flow` and `resets`, woken by `bell`.
    pub fn new(context: Context, flow: Arc<Flow>, resets: Arc<Resets>, bell: Bell) -> Self {
        Outbox {
            context,
            flow,
            resets,
            bell,
        }
    }
}
