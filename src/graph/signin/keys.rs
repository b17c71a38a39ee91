//! The provider's id_token signing keys (`{authority}/discovery/v2.0/keys`), cached. Entra
//! publishes a new key well before it signs with it, so a `kid` we do not know means our
//! copy is old: fetch once more — but not more often than the floor allows, so tokens with
//! made-up `kid`s cannot make us hammer the endpoint.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::provider::get_json;
use super::{SignInError, TokenCheck};

/// Keys older than this are fetched again before use, whatever the `kid`.
pub const MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// The least time between two fetches caused by an unknown `kid`.
pub const REFETCH_FLOOR: Duration = Duration::from_secs(5 * 60);

struct Fetched {
    keys: HashMap<String, DecodingKey>,
    at: Instant,
}

/// The cached key set. One fetch at a time: concurrent sign-ins wait for it and share it.
pub struct KeyCache {
    url: Url,
    floor: Duration,
    cached: Mutex<Option<Fetched>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("url", &self.url.as_str())
            .field("floor", &self.floor)
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    pub fn new(url: Url, floor: Duration) -> Self {
        KeyCache {
            url,
            floor,
            cached: Mutex::new(None),
        }
    }

    /// The same cache with another floor.
    pub fn with_floor(mut self, floor: Duration) -> Self {
        self.floor = floor;
        self
    }

    /// The key named `kid`: from the cache, or after one more fetch if the floor allows it.
    pub async fn key(&self, http: &reqwest::Client, kid: &str) -> Result<DecodingKey, SignInError> {
        let mut cached = self.cached.lock().await;
        let fresh = cached
            .as_ref()
            .is_some_and(|fetched| fetched.at.elapsed() < MAX_AGE);
        if !fresh {
            *cached = Some(self.fetch(http).await?);
        }
        if let Some(key) = cached.as_ref().and_then(|fetched| fetched.keys.get(kid)) {
            return Ok(key.clone());
        }
        let may_refetch = cached
            .as_ref()
            .is_none_or(|fetched| fetched.at.elapsed() >= self.floor);
        if !may_refetch {
            tracing::warn!(
                kid,
                "an id_token names a key the provider did not publish, and its keys were fetched too recently to ask again"
            );
            return Err(SignInError::BadToken(TokenCheck::UnknownKey));
        }
        tracing::info!(
            kid,
            "an id_token names a key not in the cached set; fetching the keys again"
        );
        let fetched = self.fetch(http).await?;
        let key = fetched.keys.get(kid).cloned();
        *cached = Some(fetched);
        key.ok_or(SignInError::BadToken(TokenCheck::UnknownKey))
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<Fetched, SignInError> {
        let set: JwkSet = get_json(http, &self.url, "signing keys", "not a JWK set").await?;
        Ok(Fetched {
            keys: signing_keys(&set),
            at: Instant::now(),
        })
    }
}

/// The RSA signature keys of a set, by `kid`; keys of other kinds or uses are left out.
fn signing_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
        .filter(|jwk| {
            matches!(
                jwk.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            )
        })
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, key))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rsa_signature_keys_with_a_kid_are_kept() {
        // Shaped as Entra's: `issuer` and `x5c` beside the key, which we do not need.
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "RSA", "use": "sig", "kid": "a", "x5t": "a", "n": "sXch", "e": "AQAB",
             "x5c": ["MIIB"], "issuer": "https://login.microsoftonline.com/t/v2.0"},
            {"kty": "RSA", "kid": "no-use", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "n": "sXch", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]}))
        .unwrap();
        let mut kids: Vec<String> = signing_keys(&set).into_keys().collect();
        kids.sort();
        assert_eq!(kids, ["a", "no-use"]);
    }
}
