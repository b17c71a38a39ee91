//! Sign-ins between the redirect to Entra and the callback. What the callback needs
//! (`nonce`, the PKCE verifier) stays in this process, found by the random `state`, and is
//! taken out once: a callback opened twice finds nothing the second time. Kept in memory,
//! not in a cookie, because the way back from Entra is a cross-site navigation (a Strict
//! cookie would not come along) and because only a server-side entry can be used up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use ring::rand::SecureRandom;

use super::SignInError;

/// How long a person has between leaving for Entra and coming back (password, MFA, maybe a
/// password change). Entra's codes live about as long.
pub const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The most sign-ins kept at once: anyone may start one, so memory must not grow without
/// end. Far more than operators ever start within [`LIFETIME`].
pub const CAPACITY: usize = 10_000;

/// What one sign-in left behind for its callback.
pub struct PendingSignIn {
    pub nonce: String,
    /// The PKCE `code_verifier`; only the token endpoint may see it.
    pub verifier: String,
    started: Instant,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn").finish_non_exhaustive()
    }
}

impl PendingSignIn {
    /// A fresh nonce and verifier.
    pub fn new(now: Instant) -> Result<Self, SignInError> {
        Ok(PendingSignIn {
            nonce: random_token()?,
            verifier: random_token()?,
            started: now,
        })
    }

    /// The PKCE `code_challenge` (method S256) of this sign-in's verifier.
    pub fn challenge(&self) -> String {
        challenge(&self.verifier)
    }
}

/// The sign-ins under way, by `state`.
#[derive(Debug)]
pub struct PendingSignIns {
    lifetime: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, PendingSignIn>>,
}

impl PendingSignIns {
    pub fn new(lifetime: Duration, capacity: usize) -> Self {
        PendingSignIns {
            lifetime,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingSignIn>> {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `pending` under `state`. When full, expired entries go first, then the oldest.
    pub fn insert(&self, state: String, pending: PendingSignIn, now: Instant) {
        let mut entries = self.entries();
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| now.duration_since(entry.started) < self.lifetime);
        }
        if entries.len() >= self.capacity {
            let oldest = entries
                .iter()
                .min_by_key(|(_, entry)| entry.started)
                .map(|(state, _)| state.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(state, pending);
    }

    /// Takes the sign-in with this `state` out, unless it has expired. Either way it is gone.
    pub fn take(&self, state: &str, now: Instant) -> Option<PendingSignIn> {
        let pending = self.entries().remove(state)?;
        (now.duration_since(pending.started) < self.lifetime).then_some(pending)
    }

    /// How many are kept (expired ones included until they are pushed out).
    pub fn len(&self) -> usize {
        self.entries().len()
    }
}

/// 256 random bits, base64url: a `state`, a `nonce` or a PKCE verifier (43 characters, in
/// the 43–128 RFC 7636 asks for).
pub fn random_token() -> Result<String, SignInError> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SignInError::Internal("no random numbers available".into()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// RFC 7636 S256: base64url of the SHA-256 of the verifier's ASCII.
pub fn challenge(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn a_pending_sign_in_is_taken_once() {
        let now = Instant::now();
        let pending = PendingSignIns::new(LIFETIME, CAPACITY);
        let sign_in = PendingSignIn::new(now).unwrap();
        let nonce = sign_in.nonce.clone();
        pending.insert("s".into(), sign_in, now);

        assert_eq!(pending.take("s", now).unwrap().nonce, nonce);
        assert!(pending.take("s", now).is_none(), "used up");
        assert!(pending.take("other", now).is_none());
    }

    #[test]
    fn an_expired_sign_in_is_gone() {
        let now = Instant::now();
        let pending = PendingSignIns::new(LIFETIME, CAPACITY);
        pending.insert("s".into(), PendingSignIn::new(now).unwrap(), now);
        assert!(pending.take("s", now + LIFETIME).is_none());
        assert_eq!(pending.len(), 0);
    }

    #[test]
    fn when_full_expired_ones_go_first_then_the_oldest() {
        let start = Instant::now();
        let pending = PendingSignIns::new(Duration::from_secs(60), 2);
        pending.insert("old".into(), PendingSignIn::new(start).unwrap(), start);
        let later = start + Duration::from_secs(30);
        pending.insert("mid".into(), PendingSignIn::new(later).unwrap(), later);
        let after = start + Duration::from_secs(70);
        pending.insert("new".into(), PendingSignIn::new(after).unwrap(), after);
        assert_eq!(pending.len(), 2, "the expired one made room");

        let last = start + Duration::from_secs(75);
        pending.insert("newest".into(), PendingSignIn::new(last).unwrap(), last);
        assert_eq!(pending.len(), 2);
        assert!(pending.take("mid", last).is_none(), "the oldest made room");
        assert!(pending.take("new", last).is_some());
        assert!(pending.take("newest", last).is_some());
    }

    #[test]
    fn debug_shows_no_verifier() {
        let sign_in = PendingSignIn::new(Instant::now()).unwrap();
        let shown = format!("{sign_in:?}");
        assert!(!shown.contains(&sign_in.verifier) && !shown.contains(&sign_in.nonce));
    }
}
