//! Temporary Access Passes: what one is asked for with, and what the directory hands back.

use secrecy::SecretString;

use crate::domain::TapLifetime;

/// How a new Temporary Access Pass is made (`TAP_LIFETIME_MINUTES`, `TAP_USABLE_ONCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassRequest {
    pub lifetime: TapLifetime,
    /// Whether the pass works for one sign-in only.
    pub usable_once: bool,
}

/// A Temporary Access Pass the directory just made. Like a temporary password it never
/// rests on disk: it is delivered and dropped, and a lost one is replaced by a new one
/// (a user has at most one; the directory deletes the old one when it makes the next).
#[derive(Debug)]
pub struct TemporaryAccessPass {
    /// The pass itself, which the person types instead of a password.
    pub pass: SecretString,
    /// When it stops working (Unix seconds, by the directory's clock).
    pub expires_at: u64,
    /// Whether it works for one sign-in only.
    pub usable_once: bool,
}
