//! The sealed link format: `base64url(version ‖ nonce ‖ ChaCha20-Poly1305(contents))`.
//!
//! The key is HKDF-SHA-256 of `JWT_SECRET_KEY` with the purpose's label, so a link sealed
//! for one purpose fails authentication under the other's key; the version byte and the
//! label are authenticated too. The nonce is 96 random bits per link (a collision is
//! unlikely before 2³² links per key). The contents are binary and padded to a multiple of
//! [`PAD`] bytes. A sign-up link is about 170 characters, a reset link as much for an
//! address of up to 41 bytes (the old JWTs were 240 and more).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::SecureRandom;

use super::{Contents, NoRandom, Purpose};

/// The first byte of every sealed link; another format would take another.
const VERSION: u8 = 1;
/// HKDF's salt: public, it names this use of the secret (which also signs old links).
const SALT: &[u8] = b"ms365-accountcreator sealed links";
/// Contents are padded to a multiple of this many bytes, so a link's length says an
/// address's length only to within it.
const PAD: usize = 32;
/// The smallest sealed link: version, nonce and tag around empty contents.
const OVERHEAD: usize = 1 + NONCE_LEN + 16;

/// Seals and opens the links of one purpose.
pub(super) struct Sealer {
    key: LessSafeKey,
    /// The authenticated data: the version and the purpose's label.
    aad: Vec<u8>,
}

impl Sealer {
    pub(super) fn new(secret: &[u8], purpose: Purpose) -> Self {
        let prk = Salt::new(HKDF_SHA256, SALT).extract(secret);
        let info = [purpose.label()];
        let okm = prk
            .expand(&info, &CHACHA20_POLY1305)
            .expect("HKDF-SHA-256 can give the 32 bytes of a ChaCha20-Poly1305 key");
        let key = LessSafeKey::new(UnboundKey::from(okm));
        let mut aad = vec![VERSION];
        aad.extend_from_slice(purpose.label());
        Sealer { key, aad }
    }

    pub(super) fn seal(
        &self,
        contents: &Contents,
        random: &dyn SecureRandom,
    ) -> Result<String, NoRandom> {
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce).map_err(|_| NoRandom)?;
        let mut sealed = encode(contents);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad.as_slice()),
                &mut sealed,
            )
            .expect("ChaCha20-Poly1305 seals far more than a link's few hundred bytes");
        let mut token = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        token.push(VERSION);
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    /// The contents of a link this sealer sealed; `None` for anything else.
    pub(super) fn open(&self, token: &str) -> Option<Contents> {
        let mut bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() < OVERHEAD || bytes[0] != VERSION {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&bytes[1..=NONCE_LEN]).ok()?;
        let plain = self
            .key
            .open_in_place(
                nonce,
                Aad::from(self.aad.as_slice()),
                &mut bytes[1 + NONCE_LEN..],
            )
            .ok()?;
        decode(plain)
    }
}

/// `issued_at ‖ expires_at ‖ len ‖ subject ‖ len ‖ nonce ‖ zeros`: the times as 8 bytes
/// big-endian, the lengths as LEB128.
fn encode(contents: &Contents) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAD * 4);
    out.extend_from_slice(&contents.issued_at.to_be_bytes());
    out.extend_from_slice(&contents.expires_at.to_be_bytes());
    for text in [&contents.subject, &contents.nonce] {
        push_length(&mut out, text.len());
        out.extend_from_slice(text.as_bytes());
    }
    out.resize(out.len().next_multiple_of(PAD), 0);
    out
}

fn decode(plain: &[u8]) -> Option<Contents> {
    let (issued_at, rest) = split_u64(plain)?;
    let (expires_at, rest) = split_u64(rest)?;
    let (subject, rest) = split_text(rest)?;
    let (nonce, padding) = split_text(rest)?;
    padding.iter().all(|b| *b == 0).then_some(Contents {
        subject,
        nonce,
        issued_at,
        expires_at,
    })
}

fn split_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some((u64::from_be_bytes(*head), rest))
}

fn split_text(bytes: &[u8]) -> Option<(String, &[u8])> {
    let (len, rest) = split_length(bytes)?;
    if len > rest.len() {
        return None;
    }
    let (text, rest) = rest.split_at(len);
    Some((String::from_utf8(text.to_vec()).ok()?, rest))
}

fn push_length(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}

fn split_length(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut len = 0usize;
    for (i, byte) in bytes.iter().enumerate() {
        // Three groups of 7 bits hold 2 MiB, far above any link's contents.
        if i >= 3 {
            return None;
        }
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((len, &bytes[i + 1..]));
        }
    }
    None
}
