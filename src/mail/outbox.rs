use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::OutgoingMail;

/// A mail kept by the debug outbox.
#[derive(Debug, Clone)]
pub struct CapturedMail {
    pub at: SystemTime,
    pub mail: OutgoingMail,
}

/// The newest captured mails, newest first; bounded so a long DEBUG session stays small.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<VecDeque<CapturedMail>>>);

impl Outbox {
    const CAPACITY: usize = 200;

    pub fn push(&self, mail: OutgoingMail) {
        let mut mails = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        mails.push_front(CapturedMail {
            at: SystemTime::now(),
            mail,
        });
        mails.truncate(Self::CAPACITY);
    }

    /// Newest first.
    pub fn list(&self) -> Vec<CapturedMail> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}
