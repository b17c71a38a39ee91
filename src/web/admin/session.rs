//! The console's sessions and the two cookies that carry them.
//!
//! A session lives in this process (`Sessions`), found by a random id; the browser holds
//! only that id, in a cookie encrypted and authenticated under a key derived from
//! `JWT_SECRET_KEY` (poem's private cookie jar), `HttpOnly`, `SameSite=Strict`, `Secure`
//! under https, for at most [`LIFETIME`]. Signing out removes the session here, so the
//! cookie is worth nothing afterwards even where a browser keeps it; a restart signs
//! everyone out.
//!
//! The other cookie carries a sign-in's `state` from the redirect to Microsoft back to the
//! callback: `SameSite=Lax`, because that way back is a cross-site navigation, on which a
//! Strict cookie would not be sent. It holds nothing else (the nonce and the PKCE verifier
//! stay in the process, `graph::signin`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use poem::http::{HeaderMap, HeaderValue, header};
use poem::web::cookie::{Cookie, CookieJar, CookieKey, SameSite};
use ring::hkdf::{HKDF_SHA256, KeyType, Salt};
use std::str::FromStr;

use crate::graph::signin::Operator;

/// The longest a session lasts, from its sign-in (PRODUCT.md §9.3: 8 hours at most).
pub const LIFETIME: u64 = 8 * 60 * 60;
/// How long a sign-in may take at Microsoft (as long as the pending sign-in is kept).
const SIGN_IN_LIFETIME: u64 = 10 * 60;
/// The most sessions kept at once; only operators make them, so this is never reached
/// but by a fault.
const CAPACITY: usize = 1_000;

const SESSION_COOKIE: &str = "console_session";
const STATE_COOKIE: &str = "console_sign_in";
/// HKDF's salt: names this use of `JWT_SECRET_KEY`.
const SALT: &[u8] = b"ms365-accountcreator console cookies";

/// One signed-in operator.
#[derive(Debug)]
pub struct Session {
    id: String,
    pub operator: Operator,
    pub expires_at: u64,
    /// The language the operator chose with the switcher, kept for the next pages.
    lang: Mutex<Option<String>>,
}

impl Session {
    /// The language chosen last, if any.
    pub fn lang(&self) -> Option<String> {
        self.lang
            .lock()
            .map(|lang| lang.clone())
            .unwrap_or_default()
    }

    /// Remembers the language the operator chose.
    pub fn choose_lang(&self, lang: &str) {
        if let Ok(mut chosen) = self.lang.lock() {
            *chosen = Some(lang.to_owned());
        }
    }
}

/// The sessions of this process, by id.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, Arc<Session>>>);

impl Sessions {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new session for `operator`, ending [`LIFETIME`] after `now`.
    pub fn start(&self, operator: Operator, now: u64) -> Result<Arc<Session>, NoRandom> {
        let id = crate::ids::random_id(32).map_err(|_| NoRandom)?;
        let session = Arc::new(Session {
            id: id.clone(),
            operator,
            expires_at: now + LIFETIME,
            lang: Mutex::new(None),
        });
        let mut map = self.map();
        map.retain(|_, session| session.expires_at > now);
        if map.len() >= CAPACITY
            && let Some(oldest) = map
                .values()
                .min_by_key(|session| session.expires_at)
                .map(|session| session.id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id, session.clone());
        Ok(session)
    }

    /// The live session with `id`; an expired one is removed.
    pub fn get(&self, id: &str, now: u64) -> Option<Arc<Session>> {
        let mut map = self.map();
        let session = map.get(id)?.clone();
        if session.expires_at <= now {
            map.remove(id);
            return None;
        }
        Some(session)
    }

    /// Ends `session`: its cookie opens nothing from now on.
    pub fn end(&self, session: &Session) {
        self.map().remove(&session.id);
    }

    /// Sessions kept (expired ones until the next sign-in clears them).
    pub fn len(&self) -> usize {
        self.map().len()
    }
}

/// No random numbers for a session id.
#[derive(Debug, thiserror::Error)]
#[error("no random numbers for a session id")]
pub struct NoRandom;

/// How the console's cookies are made and read.
pub struct Cookies {
    key: CookieKey,
    /// `Secure`: set when `PUBLIC_URL` is https.
    secure: bool,
    /// `{PUBLIC_URL's path}/admin`: the cookies go to console paths only.
    path: String,
}

impl std::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cookies")
            .field("secure", &self.secure)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// HKDF output of any length (the cookie key takes 64 bytes).
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Cookies {
    /// Cookies for console paths under `path`, keyed by `secret` (`JWT_SECRET_KEY`).
    pub fn new(secret: &[u8], secure: bool, path: String) -> Self {
        let mut bytes = [0u8; 64];
        Salt::new(HKDF_SHA256, SALT)
            .extract(secret)
            .expand(&[b"session"], Len(bytes.len()))
            .and_then(|okm| okm.fill(&mut bytes))
            .expect("HKDF-SHA-256 gives 64 bytes");
        Cookies {
            key: CookieKey::from(&bytes),
            secure,
            path,
        }
    }

    /// `Set-Cookie` for a session: Strict, for its lifetime.
    pub fn session(&self, session: &Session, now: u64) -> HeaderValue {
        let max_age = session.expires_at.saturating_sub(now);
        self.set(
            SESSION_COOKIE,
            &session.id,
            SameSite::Strict,
            &self.path,
            max_age,
        )
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn session_removed(&self) -> HeaderValue {
        self.removal(SESSION_COOKIE, &self.path, SameSite::Strict)
    }

    /// `Set-Cookie` for a sign-in's `state`: Lax, for the way back from Microsoft.
    pub fn sign_in_state(&self, state: &str, callback_path: &str) -> HeaderValue {
        self.set(
            STATE_COOKIE,
            state,
            SameSite::Lax,
            callback_path,
            SIGN_IN_LIFETIME,
        )
    }

    /// `Set-Cookie` that removes the sign-in's cookie once the callback has used it.
    pub fn sign_in_state_removed(&self, callback_path: &str) -> HeaderValue {
        self.removal(STATE_COOKIE, callback_path, SameSite::Lax)
    }

    /// The session id the request's cookie holds, when it opens under our key.
    pub fn session_id(&self, headers: &HeaderMap) -> Option<String> {
        self.read(headers, SESSION_COOKIE)
    }

    /// The sign-in `state` the request's cookie holds, when it opens under our key.
    pub fn state(&self, headers: &HeaderMap) -> Option<String> {
        self.read(headers, STATE_COOKIE)
    }

    fn read(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        let text: Vec<&str> = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let jar = CookieJar::from_str(&text.join("; ")).ok()?;
        let opened = jar.private_with_key(&self.key).get(name)?;
        Some(opened.value_str().to_owned())
    }

    fn set(
        &self,
        name: &str,
        value: &str,
        same_site: SameSite,
        path: &str,
        max_age: u64,
    ) -> HeaderValue {
        let mut cookie = Cookie::new_with_str(name, value);
        cookie.set_max_age(std::time::Duration::from_secs(max_age));
        self.attributes(&mut cookie, same_site, path);
        let jar = CookieJar::default();
        jar.private_with_key(&self.key).add(cookie);
        let sealed = jar.get(name).map(|cookie| cookie.to_string());
        header_value(&sealed.unwrap_or_default())
    }

    fn removal(&self, name: &str, path: &str, same_site: SameSite) -> HeaderValue {
        let mut cookie = Cookie::named(name);
        self.attributes(&mut cookie, same_site, path);
        cookie.make_removal();
        header_value(&cookie.to_string())
    }

    fn attributes(&self, cookie: &mut Cookie, same_site: SameSite, path: &str) {
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(same_site);
        cookie.set_path(path);
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("an encoded cookie is header text")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator() -> Operator {
        Operator {
            upn: "grace@tenant.example".into(),
            object_id: "oid".into(),
            display_name: "Grace".into(),
        }
    }

    fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        headers
    }

    #[test]
    fn a_session_cookie_opens_its_session_until_it_ends() {
        let (sessions, cookies) = (
            Sessions::default(),
            Cookies::new(b"k", true, "/admin".into()),
        );
        let session = sessions.start(operator(), 100).unwrap();
        let set = cookies.session(&session, 100);
        let text = set.to_str().unwrap();
        for flag in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/admin",
            "Max-Age=28800",
        ] {
            assert!(text.contains(flag), "{flag}: {text}");
        }
        assert!(!text.contains(&session.id), "the id is encrypted: {text}");

        let id = cookies.session_id(&request_with(&set)).unwrap();
        assert_eq!(sessions.get(&id, 200).unwrap().operator, operator());
        assert!(
            sessions.get(&id, 100 + LIFETIME).is_none(),
            "8 hours at most"
        );
        let again = sessions.start(operator(), 100).unwrap();
        sessions.end(&again);
        assert!(sessions.get(&again.id, 101).is_none(), "signed out");
    }

    #[test]
    fn a_cookie_changed_or_made_with_another_key_opens_nothing() {
        let cookies = Cookies::new(b"k", false, "/admin".into());
        let session = Sessions::default().start(operator(), 0).unwrap();
        let set = cookies.session(&session, 0);
        let mut headers = request_with(&set);
        let value = headers[header::COOKIE].to_str().unwrap().to_owned();
        let flipped = format!("{}A", &value[..value.len() - 1]);
        let flipped = if flipped == value {
            format!("{}B", &value[..value.len() - 1])
        } else {
            flipped
        };
        headers.insert(header::COOKIE, HeaderValue::from_str(&flipped).unwrap());
        assert_eq!(cookies.session_id(&headers), None);

        let other = Cookies::new(b"another", false, "/admin".into());
        assert_eq!(other.session_id(&request_with(&set)), None);
        assert!(!set.to_str().unwrap().contains("Secure"), "plain http");
    }

    #[test]
    fn the_sign_in_state_rides_a_lax_cookie_to_the_callback_only() {
        let cookies = Cookies::new(b"k", true, "/admin".into());
        let set = cookies.sign_in_state("the-state", "/admin/callback");
        let text = set.to_str().unwrap();
        assert!(
            text.contains("SameSite=Lax") && text.contains("Path=/admin/callback"),
            "{text}"
        );
        assert_eq!(
            cookies.state(&request_with(&set)).as_deref(),
            Some("the-state")
        );
        let removed = cookies.sign_in_state_removed("/admin/callback");
        assert!(
            removed.to_str().unwrap().contains("Max-Age=0"),
            "{removed:?}"
        );
    }
}
